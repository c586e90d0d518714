"""Stuck waits: a job queued (SUBMITTED, PENDING, RUNNABLE) past ``stuck_after`` raises.

The clock starts at the first delivery that showed the job queued (its first poll, or its first
event); a job that started (STARTING or later) is never stuck. When the time is up, the service's
``explain`` diagnoses the job and the wait raises :class:`JobStuckError` carrying the diagnosis.
The job itself is not touched: the caller decides (rationale: ``docs/operations.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from .._errors import BatchError, JobStuckError
from .._models.jobs import JobDetail, JobStatus

__all__ = ["QUEUED", "StuckTracker"]

#: The statuses in which a job counts as waiting to start.
QUEUED = frozenset({JobStatus.SUBMITTED, JobStatus.PENDING, JobStatus.RUNNABLE})


class StuckTracker:
    """Watches the details a wait receives, and raises once a job stays queued too long.

    Args:
        stuck_after: Seconds a job may stay queued, from the first delivery that showed it so.
        explain: The service's ``explain`` (its diagnosis goes into the error).
        clock: Monotonic clock (the event loop's by default).
    """

    def __init__(
        self,
        stuck_after: float,
        explain: Callable[[str], Awaitable[Any]],
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.stuck_after = stuck_after
        self._explain = explain
        self._clock = clock or asyncio.get_running_loop().time
        self._queued_since: dict[str, float] = {}

    def observe(self, job: JobDetail) -> None:
        """Note a delivered detail: start the job's clock, or stop it once the job moved on."""
        if job.status in QUEUED and not _children_started(job):
            self._queued_since.setdefault(job.job_id, self._clock())
        else:
            self._queued_since.pop(job.job_id, None)

    async def next(self, get: Callable[[], Awaitable[JobDetail]]) -> JobDetail:
        """The next detail from ``get``, unless a job's time runs out first.

        Raises:
            JobStuckError: A job stayed queued for ``stuck_after`` seconds.
        """
        if not self._queued_since:
            job = await get()
            self.observe(job)
            return job
        job_id, since = min(self._queued_since.items(), key=lambda item: item[1])
        left = since + self.stuck_after - self._clock()
        if left > 0:
            task = asyncio.ensure_future(get())
            try:
                done, _ = await asyncio.wait({task}, timeout=left)
            except BaseException:
                task.cancel()
                raise
            if not done and task.cancel():
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if not task.cancelled():
                job = task.result()  # it came in time (or as the timer fired)
                self.observe(job)
                return job
        raise await self._stuck(job_id)

    async def _stuck(self, job_id: str) -> JobStuckError:
        try:
            diagnosis = await self._explain(job_id)
        except BatchError:
            diagnosis = None  # the error itself still says the job did not start
        return JobStuckError(job_id, diagnosis, self.stuck_after)


def _children_started(job: JobDetail) -> bool:
    """An array parent stays PENDING while its children run: those are not stuck."""
    props = job.array_properties
    if props is None or not props.status_summary:
        return False
    started = ("STARTING", "RUNNING", "SUCCEEDED", "FAILED")
    return any(props.status_summary.get(status, 0) > 0 for status in started)
