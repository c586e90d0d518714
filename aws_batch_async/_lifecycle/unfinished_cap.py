"""``submit_jobs(..., max_unfinished=N)``: at most N submitted jobs unfinished at any time.

The requests are read from their iterable one at a time, as room frees up: a slot is taken
before a job is submitted and given back when the service's shared poller reports the job
SUCCEEDED or FAILED (``wait_for``, so every wait is coalesced into DescribeJobs calls of up
to 100 ids). At most N requests, submissions and waits are held at once, so memory does not
grow with the number of requests beyond the list of results.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import cast

from .._config import SubmitRetry
from .._errors import ServiceClosedError, SubmitJobsError
from .._models.jobs import JobResponse
from .._models.requests import JobRequest
from .._submitting.submitter import OnSubmitted, Submission, Submitter

__all__ = ["submit_capped"]

#: The end of the requests (or of submitting, after a failure).
_END = object()

Prepare = Callable[[JobRequest, str], Awaitable[Submission]]
WaitDone = Callable[[str], Awaitable[object]]


async def submit_capped(
    submitter: Submitter,
    requests: Iterable[JobRequest],
    retry: SubmitRetry,
    *,
    prepare: Prepare,
    wait_done: WaitDone,
    max_unfinished: int,
    concurrency: int | None,
    return_exceptions: bool,
    on_submitted: OnSubmitted | None,
    logger: logging.Logger,
) -> list[JobResponse | BaseException]:
    """Submit the requests keeping at most ``max_unfinished`` jobs unfinished; results in order.

    Args:
        submitter: The service's submitter.
        requests: The requests, read lazily.
        retry: Each submission's retry budget.
        prepare: Checks a request (named ``requests[i]``) and builds its submission.
        wait_done: Waits until a job is terminal (without raising for FAILED).
        max_unfinished: The cap.
        concurrency: At most this many SubmitJob calls under way (``None``: the cap).
        return_exceptions: Keep a failed submission's error in its slot and go on.
        on_submitted: Called with ``(index, job)`` as each job is created.
        logger: Where to log.

    Raises:
        SubmitJobsError: A submission or a wait failed and ``return_exceptions`` is False.
    """
    slots = asyncio.Semaphore(max_unfinished)
    sending = asyncio.Semaphore(min(concurrency or max_unfinished, max_unfinished))
    results: list[JobResponse | BaseException | None] = []
    tasks: set[asyncio.Task[None]] = set()
    failure: list[BaseException] = []
    submitted = asyncio.Event()  # set each time a submission ends
    under_way = 0  # submissions not ended yet

    def ended(index: int, outcome: JobResponse | BaseException) -> None:
        nonlocal under_way
        results[index] = outcome
        under_way -= 1
        submitted.set()

    async def one(index: int, request: JobRequest) -> None:
        try:
            try:
                async with sending:
                    sub = await prepare(request, f"requests[{index}]")
                    job = await submitter.submit(sub, retry, warn_on_cancel=True)
            except Exception as exc:
                ended(index, exc)
                if not return_exceptions or isinstance(exc, ServiceClosedError):
                    failure.append(exc)
                return
            ended(index, job)
            if on_submitted is not None:
                try:
                    on_submitted(index, job)
                except Exception:
                    logger.exception("on_submitted raised for job %s", job.job_id)
            try:
                await wait_done(job.job_id)
            except Exception as exc:  # the job may still run: stop submitting
                logger.warning("waiting for job %s failed: %s", job.job_id, exc)
                failure.append(exc)
        finally:
            slots.release()  # finished, not created, or no more submissions (a failure)

    pending = iter(requests)
    try:
        while True:
            await slots.acquire()
            request = _END if failure else next(pending, _END)
            if request is _END:
                slots.release()
                break
            results.append(None)
            under_way += 1
            task = asyncio.ensure_future(one(len(results) - 1, cast(JobRequest, request)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while under_way:  # submissions under way are finished: every created job is reported
            submitted.clear()
            await submitted.wait()
    except BaseException:
        _cancel(tasks)
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    _cancel(tasks)  # the remaining waits only: their jobs keep running
    await asyncio.gather(*tasks, return_exceptions=True)
    if failure and not return_exceptions:
        raise SubmitJobsError(list(results)) from failure[0]
    return [
        r if r is not None else ServiceClosedError("BatchService closed before this submit")
        for r in results
    ]


def _cancel(tasks: set[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
