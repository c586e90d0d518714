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
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import cast

from .._config import SubmitRetry
from .._errors import ServiceClosedError, SubmitJobsError
from .._models.jobs import JobResponse
from .._models.requests import JobRequest
from .._submitting.fan_out import in_order, report_submitted
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
    capped = _Capped(
        submitter,
        retry,
        prepare,
        wait_done,
        max_unfinished,
        concurrency,
        return_exceptions,
        on_submitted,
        logger,
    )
    try:
        await capped.start_all(iter(requests))
        await capped.finish_submissions()
    except BaseException:
        _cancel(capped.tasks)
        await asyncio.gather(*capped.tasks, return_exceptions=True)
        raise
    _cancel(capped.tasks)  # the remaining waits only: their jobs keep running
    await asyncio.gather(*capped.tasks, return_exceptions=True)
    if capped.failure and not return_exceptions:
        raise SubmitJobsError(list(capped.results)) from capped.failure[0]
    return in_order(capped.results)


class _Capped:
    """One ``submit_capped`` call: a task per request, each holding a slot until its job ends."""

    def __init__(
        self,
        submitter: Submitter,
        retry: SubmitRetry,
        prepare: Prepare,
        wait_done: WaitDone,
        max_unfinished: int,
        concurrency: int | None,
        return_exceptions: bool,
        on_submitted: OnSubmitted | None,
        logger: logging.Logger,
    ) -> None:
        self.slots = asyncio.Semaphore(max_unfinished)
        self.sending = asyncio.Semaphore(min(concurrency or max_unfinished, max_unfinished))
        self.submitter = submitter
        self.retry = retry
        self.prepare = prepare
        self.wait_done = wait_done
        self.return_exceptions = return_exceptions
        self.on_submitted = on_submitted
        self.logger = logger
        self.results: list[JobResponse | BaseException | None] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.failure: list[BaseException] = []
        self.submitted = asyncio.Event()  # set each time a submission ends
        self.under_way = 0  # submissions not ended yet

    async def start_all(self, pending: Iterator[JobRequest]) -> None:
        """Start a task per request as slots free up, until the requests end or one fails."""
        while True:
            await self.slots.acquire()
            request = _END if self.failure else next(pending, _END)
            if request is _END:
                self.slots.release()
                return
            self.results.append(None)
            self.under_way += 1
            task = asyncio.ensure_future(self.one(len(self.results) - 1, cast(JobRequest, request)))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def finish_submissions(self) -> None:
        """Wait for the submissions under way, so that every created job is reported."""
        while self.under_way:
            self.submitted.clear()
            await self.submitted.wait()

    def ended(self, index: int, outcome: JobResponse | BaseException) -> None:
        """Record the outcome of submission ``index``."""
        self.results[index] = outcome
        self.under_way -= 1
        self.submitted.set()

    async def one(self, index: int, request: JobRequest) -> None:
        """Submit ``request``, then hold its slot until its job is finished."""
        try:
            job = await self.submit(index, request)
            if job is None:
                return
            try:
                await self.wait_done(job.job_id)
            except Exception as exc:  # the job may still run: stop submitting
                self.logger.warning("waiting for job %s failed: %s", job.job_id, exc)
                self.failure.append(exc)
        finally:
            self.slots.release()  # finished, not created, or no more submissions (a failure)

    async def submit(self, index: int, request: JobRequest) -> JobResponse | None:
        """Prepare and submit ``request``; None when it failed (its error is its result)."""
        try:
            async with self.sending:
                sub = await self.prepare(request, f"requests[{index}]")
                job = await self.submitter.submit(sub, self.retry, warn_on_cancel=True)
        except Exception as exc:
            self.ended(index, exc)
            if not self.return_exceptions or isinstance(exc, ServiceClosedError):
                self.failure.append(exc)
            return None
        self.ended(index, job)
        report_submitted(self.on_submitted, index, job, self.logger)
        return job


def _cancel(tasks: set[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
