"""A job's whole life in one call: ``run_job`` and ``resubmit``.

:class:`JobLife` owns the job it submits: it waits for it (the service's one poller), feeds
its log lines to a callback while it runs, and terminates it when the caller gives up
(cancellation, ``timeout``, ``stuck_after``, an error in a callback) unless told to detach.
A failure that a :class:`~aws_batch_async.ResubmitPolicy` names is resubmitted as a new job,
changed, tagged with the jobs it replaces. The service's methods are thin and delegate here;
the collaborators are passed in explicitly. See ``docs/lifecycle.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .._errors import BatchError, JobFailedError, WaitTimeoutError
from .._infrastructure.instance_types import requested_resources
from .._models.jobs import JobDetail, JobResponse, JobStatus, LogEvent
from .._models.raw import FrozenDict, unwrap
from .._models.requests import JobRequest
from .failure import RUN_JOB_REASON_PREFIX
from .lineage import chain_tag
from .resubmit import Change, ResubmitPolicy

__all__ = ["JobLife", "OnCancel"]

OnCancel = Literal["terminate", "detach"]
SubmitTagged = Callable[[JobRequest, Mapping[str, str]], Awaitable[JobResponse]]
WaitFor = Callable[..., Awaitable[JobDetail]]
GetLogs = Callable[..., AsyncGenerator[LogEvent, None]]
Terminate = Callable[[str, str], Awaitable[None]]
Describe = Callable[[str], Awaitable[JobDetail]]


@dataclass
class JobLife:
    """Runs jobs to the end for one service.

    Args:
        submit: Submits a request exactly once with extra (library) tags.
        wait_for: The service's ``wait_for``.
        get_logs: The service's ``get_logs``.
        terminate: The service's ``terminate_job``.
        describe: The service's ``get_job_status``.
        logger: Where to log.
    """

    submit: SubmitTagged
    wait_for: WaitFor
    get_logs: GetLogs
    terminate: Terminate
    describe: Describe
    logger: logging.Logger
    #: TerminateJob calls under way while their caller was cancelled (kept referenced).
    _stopping: set[asyncio.Task[None]] = field(default_factory=set)

    async def run(
        self,
        request: JobRequest,
        *,
        timeout: float | None,
        on_cancel: OnCancel,
        on_submitted: Callable[[JobResponse], object] | None,
        logs: Callable[[LogEvent], object] | None,
        stuck_after: float | None,
        resubmit: ResubmitPolicy | None,
    ) -> JobDetail:
        """Submit, wait, resubmit as the policy says; see ``BatchService.run_job``."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        chain: list[str] = []
        current = request
        submitted = 0
        while True:
            submitted += 1
            response = await self.submit(current, chain_tag(chain) if chain else {})
            remaining = None if deadline is None else max(deadline - loop.time(), 0.0)
            job = await self._own(
                response,
                timeout=remaining,
                overall=timeout,
                on_cancel=on_cancel,
                on_submitted=on_submitted,
                logs=logs,
                stuck_after=stuck_after,
            )
            if chain:
                job = job.model_copy(update={"resubmitted_from": list(chain)})
            if job.status is JobStatus.SUCCEEDED:
                return job
            failure = job.failure
            change: Change | None = None
            if resubmit is not None and failure is not None and submitted < resubmit.max_attempts:
                change = resubmit.change_for(failure.kind)
            following = change(with_resources(current, job)) if change is not None else None
            if following is None:
                raise JobFailedError(job)
            if deadline is not None and deadline - loop.time() <= 0:
                raise WaitTimeoutError(job.job_id, job, timeout or 0.0)
            self.logger.info(
                "run_job: job %s failed (%s); resubmitting (job %d of at most %d)",
                job.job_id,
                failure.kind.value if failure is not None else "?",
                submitted + 1,
                resubmit.max_attempts if resubmit is not None else 1,
            )
            chain.append(job.job_id)
            current = following

    async def resubmit(self, job_id: str, change: Change | None) -> JobResponse:
        """Submit a job again, changed; see ``BatchService.resubmit``."""
        from .rebuild import request_of

        job = await self.describe(job_id)
        request = request_of(job)
        if change is not None:
            changed = change(with_resources(request, job))
            if changed is None:
                raise ValueError(f"the change declined to resubmit job {job_id}")
            request = changed
        response = await self.submit(request, chain_tag([*job.resubmitted_from, job_id]))
        self.logger.info("job %s resubmitted as job %s", job_id, response.job_id)
        return response

    # -----------------------------------------------------------------------------------------

    async def _own(
        self,
        response: JobResponse,
        *,
        timeout: float | None,
        overall: float | None,
        on_cancel: OnCancel,
        on_submitted: Callable[[JobResponse], object] | None,
        logs: Callable[[LogEvent], object] | None,
        stuck_after: float | None,
    ) -> JobDetail:
        """Wait for one job; terminate it if this ends any other way (unless detached)."""
        job_id = response.job_id
        waiting: asyncio.Task[JobDetail] | None = None
        reading: asyncio.Task[None] | None = None
        finished = False
        try:
            if on_submitted is not None:
                on_submitted(response)
            waiting = asyncio.ensure_future(
                self.wait_for(
                    job_id, timeout=timeout, raise_on_failure=False, stuck_after=stuck_after
                )
            )
            if logs is not None:
                reading = asyncio.ensure_future(self._pump(job_id, logs))
                done, _ = await asyncio.wait(
                    {waiting, reading}, return_when=asyncio.FIRST_COMPLETED
                )
                if reading in done:
                    reading.result()  # the callback failed: raise its error
            job = await waiting
            finished = True
            if reading is not None:  # the last lines: the reader ends once streams are quiet
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(reading), _drain_time(timeout))
                if reading.done():
                    reading.result()
            return job
        except BaseException as exc:
            if not finished and on_cancel == "terminate":
                await self._stop(job_id, _reason(exc, overall))
            raise
        finally:
            for task in (waiting, reading):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def _pump(self, job_id: str, logs: Callable[[LogEvent], object]) -> None:
        """Feed the job's log lines (every attempt) to ``logs`` as they come.

        Reading errors end the reading (a warning), never the job; an error the callback
        raises propagates.
        """
        events = self.get_logs(job_id, follow=True)
        try:
            while True:
                try:
                    event = await events.__anext__()
                except StopAsyncIteration:
                    return
                except BatchError as exc:
                    self.logger.warning(
                        "run_job: stopped reading the logs of job %s: %s", job_id, exc
                    )
                    return
                logs(event)
        finally:
            await events.aclose()

    async def _stop(self, job_id: str, reason: str) -> None:
        """TerminateJob, finished even if the caller is cancelled again meanwhile."""
        task = asyncio.ensure_future(self._terminate_quietly(job_id, reason))
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)
        await asyncio.shield(task)

    async def _terminate_quietly(self, job_id: str, reason: str) -> None:
        try:
            await self.terminate(job_id, reason)
        except Exception as exc:  # the caller's own error matters more: report, go on
            self.logger.warning("run_job: could not terminate job %s: %s", job_id, exc)
        else:
            self.logger.info("run_job: terminated job %s (%s)", job_id, reason)


def with_resources(request: JobRequest, job: JobDetail) -> JobRequest:
    """``request`` with the vCPUs and memory ``job`` ran with where it sets none.

    So that ``scale_memory`` can double what the job definition gave.
    """
    if request.memory_mib is not None and request.vcpus is not None:
        return request
    raw = job.raw
    found = requested_resources(unwrap(raw) if isinstance(raw, FrozenDict) else raw)
    update: dict[str, Any] = {}
    if request.memory_mib is None and found.memory_mib is not None:
        update["memory_mib"] = int(found.memory_mib)
    if request.vcpus is None and found.vcpus is not None:
        update["vcpus"] = found.vcpus
    return request.model_copy(update=update) if update else request


def _reason(exc: BaseException, timeout: float | None) -> str:
    if isinstance(exc, asyncio.CancelledError):
        why = "the caller cancelled it"
    elif isinstance(exc, WaitTimeoutError):
        why = f"no result within its timeout ({timeout:g} s)" if timeout else "timed out"
    else:
        why = f"the caller gave up ({type(exc).__name__})"
    return f"{RUN_JOB_REASON_PREFIX}: {why}"


def _drain_time(timeout: float | None) -> float:
    """How long the log reader may take to deliver the last lines after the job ended."""
    return 30.0 if timeout is None else max(min(timeout, 30.0), 1.0)
