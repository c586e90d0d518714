"""Waiting at scale: ONE background poller per service serves every wait.

``wait_for``, ``watch`` and ``as_completed`` each take a :class:`Subscription` from the service's
:class:`JobPoller`. The poller tracks every waited-for job once, however many waits share it,
and polls them all from one task:

* **Coalescing.** Each tick it takes the jobs that are due and describes them in DescribeJobs
  calls of at most 100 ids, sent concurrently: N concurrent waits cost ⌈N/100⌉ calls per sweep.
  A job may be polled up to half its interval early (:data:`EARLY_FRACTION`) to share a sweep.
* **Backoff.** A job is first polled ``initial_interval`` after it is first waited for. After
  each poll that sees no change its delay grows exponentially, with full jitter, between
  ``initial_interval`` and ``max_interval``; a change of status (or of an array parent's
  ``statusSummary``) resets it. Jobs polled in the same sweep at the same backoff level share
  one random draw, so a cohort stays in one sweep while the jitter still spreads this process's
  calls against other clients'.
* **Throttling.** A throttled DescribeJobs (HTTP 429) halves the poller's pace, down to
  :data:`MIN_PACE`: every delay is divided by the pace. Each sweep without throttling gives back
  :data:`PACE_RECOVERY`. Throttled jobs are simply polled again later: throttling never fails a
  wait. Server errors (5xx) and connection errors are retried with the job's backoff as well.
  Any other error (access denied, a closed service...) fails the waits of the jobs in that call.
* **Not found.** A job DescribeJobs does not return is given ``not_found_grace`` seconds (AWS is
  eventually consistent right after SubmitJob), then its waits raise :class:`JobNotFoundError`.
* **Life.** The task starts with the first subscription and ends once nobody waits; the service
  stops it on close, failing the waits still open with :class:`ServiceClosedError`.

Timeouts are per wait: a monotonic deadline on the event loop's clock, independent of the
poller, so a slow or throttled DescribeJobs never delays one. The poller's clock, sleep and
random source are injectable, so tests of the schedule need not wait.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._config import PollPolicy
from ._errors import (
    BatchAPIError,
    BatchConnectionError,
    JobNotFoundError,
    ServiceClosedError,
    ThrottlingError,
    WaitTimeoutError,
)
from ._models import JobDetail, describe_chunks

__all__ = [
    "EARLY_FRACTION",
    "MIN_PACE",
    "PACE_RECOVERY",
    "JobPoller",
    "Subscription",
    "backoff_delay",
    "validate_timeout",
]

#: A job may be polled this fraction of its current delay early, to join a sweep that is due.
EARLY_FRACTION = 0.5
#: The slowest pace throttling can bring the poller to (delays multiplied by 1 / MIN_PACE).
MIN_PACE = 1 / 16
#: How much pace each sweep without throttling gives back (additive increase).
PACE_RECOVERY = 0.1
#: Backoff levels beyond this add nothing (and would overflow the exponent).
_MAX_LEVEL = 64
_TERMINAL = frozenset({"SUCCEEDED", "FAILED"})
_UNSEEN = object()  # what a new subscriber has "seen" of a job: nothing

#: One DescribeJobs call: at most 100 ids in, the raw job dicts AWS returned out.
Describe = Callable[[Sequence[str]], Awaitable[list[dict[str, Any]]]]


class JobPoller:
    """Polls DescribeJobs for every job that somebody waits on, from one background task.

    Args:
        describe: One DescribeJobs call (at most 100 ids); raises the library's errors.
        policy: Intervals and the not-found grace period.
        logger: Sweeps are logged at DEBUG, throttling and retried errors at WARNING.
        clock: Monotonic clock in seconds for the schedule (``time.monotonic``).
        sleep: Sleep for the schedule (``asyncio.sleep``).
        rand: Uniform random numbers in [0, 1) for the jitter (``random.random``).
    """

    def __init__(
        self,
        describe: Describe,
        policy: PollPolicy,
        *,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.policy = policy
        self.logger = logger if logger is not None else logging.getLogger("aws_batch_async")
        self.pace = 1.0
        self._describe = describe
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self._jobs: dict[str, _Job] = {}
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def running(self) -> bool:
        """True while the background task is alive."""
        return self._task is not None and not self._task.done()

    @property
    def tracked(self) -> int:
        """How many distinct jobs are being waited on."""
        return len(self._jobs)

    def subscribe(
        self,
        job_ids: Iterable[str],
        *,
        every_change: bool = False,
        timeout: float | None = None,
    ) -> Subscription:
        """Start waiting on jobs; :meth:`Subscription.close` the result when done.

        Args:
            job_ids: The jobs (duplicates are waited on once).
            every_change: Deliver each observed change, not only the terminal detail.
            timeout: Seconds until the subscription raises :class:`WaitTimeoutError`.

        Returns:
            The subscription; iterate it, or ``await`` its :meth:`~Subscription.get`.

        Raises:
            ServiceClosedError: The poller was closed.
        """
        if self._closed:
            raise ServiceClosedError("BatchService is closed")
        subscription = Subscription(self, job_ids, every_change=every_change)
        now = self._clock()
        delay = self.policy.initial_interval / self.pace
        for job_id in subscription.job_ids:
            job = self._jobs.get(job_id)
            if job is None:
                job = self._jobs[job_id] = _Job(job_id, registered=now)
                job.schedule(now, delay)
            elif now + delay < job.due:  # a new waiter need not wait out a long backoff
                job.schedule(now, delay)
            job.subscribers[subscription] = _UNSEEN
        if timeout is not None and math.isfinite(timeout):
            subscription.arm(timeout)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="aws-batch-async job poller"
            )
        return subscription

    def last_seen(self, job_id: str) -> JobDetail | None:
        """The latest detail the poller saw of a job it tracks, or ``None``."""
        job = self._jobs.get(job_id)
        if job is None or job.raw is None:
            return None
        try:
            return job.detail()
        except ValueError:  # a detail AWS sent that does not validate: nothing to show
            return None

    async def aclose(self) -> None:
        """Stop the task and fail every open wait with :class:`ServiceClosedError`. Idempotent."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
        self._fail_all(ServiceClosedError("the BatchService was closed while waiting"))

    # -----------------------------------------------------------------------------------------
    # The task

    async def _run(self) -> None:
        try:
            while self._jobs:
                now = self._clock()
                due = self._due_ids(now)
                if due:
                    await self._sweep(due)
                else:
                    await self._sleep(self._idle_time(now))
        except Exception as exc:  # a bug must not leave waits hanging: hand it to them
            self.logger.exception("the job poller stopped on an unexpected error")
            self._fail_all(exc)

    def _due_ids(self, now: float) -> list[str]:
        """Nothing until some job is due; then every job within its early window."""
        jobs = self._jobs.values()
        if not any(job.due <= now for job in jobs):
            return []
        return [job.job_id for job in jobs if job.early <= now]

    def _idle_time(self, now: float) -> float:
        # Wake at the next due time, and often enough that a new subscription (due
        # initial_interval after it arrives) is polled within its early window.
        soonest = min(job.due for job in self._jobs.values())
        quantum = EARLY_FRACTION * self.policy.initial_interval / self.pace
        return max(0.0, min(soonest - now, quantum))

    async def _sweep(self, ids: list[str]) -> None:
        chunks = describe_chunks(ids)
        self.logger.debug("polling %d job(s) in %d DescribeJobs call(s)", len(ids), len(chunks))
        results = await asyncio.gather(
            *(self._describe(chunk) for chunk in chunks), return_exceptions=True
        )
        now = self._clock()
        self._adjust_pace(any(isinstance(r, ThrottlingError) for r in results))
        draws: dict[int, float] = {}  # backoff level -> delay, shared by this sweep's jobs
        for chunk, result in zip(chunks, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                self._on_error(chunk, result, now, draws)
            else:
                self._on_answer(chunk, result, now, draws)

    def _adjust_pace(self, throttled: bool) -> None:
        if throttled:
            self.pace = max(MIN_PACE, self.pace / 2)
            self.logger.warning(
                "DescribeJobs is throttled: polling slowed to %.0f%% of its pace", self.pace * 100
            )
        elif self.pace < 1.0:
            self.pace = min(1.0, self.pace + PACE_RECOVERY)

    def _on_answer(
        self, chunk: list[str], answer: list[dict[str, Any]], now: float, draws: dict[int, float]
    ) -> None:
        found = {raw.get("jobId"): raw for raw in answer}
        for job_id in chunk:
            job = self._jobs.get(job_id)
            if job is None:  # nobody waits any more
                continue
            raw = found.get(job_id)
            try:
                if raw is None:
                    self._on_missing(job, now, draws)
                else:
                    self._on_seen(job, raw, now, draws)
            except Exception as exc:  # e.g. a detail that does not validate
                self._finish(job, exc)

    def _on_seen(self, job: _Job, raw: dict[str, Any], now: float, draws: dict[int, float]) -> None:
        key = _change_key(raw)
        if key != job.key:
            job.key, job.level = key, 0
        else:
            job.level = min(job.level + 1, _MAX_LEVEL)
        job.raw, job.cached, job.missing_since = raw, None, None
        if raw.get("status") in _TERMINAL:
            self._finish(job, job.detail())
            return
        for subscription, seen in job.subscribers.items():
            if subscription.every_change and seen != key:
                subscription.put(job.detail())
                job.subscribers[subscription] = key
        job.schedule(now, self._delay(job.level, draws))

    def _on_missing(self, job: _Job, now: float, draws: dict[int, float]) -> None:
        if job.missing_since is None:
            job.missing_since = job.registered if job.raw is None else now
        grace = self.policy.not_found_grace
        if now - job.missing_since >= grace:
            self._finish(
                job,
                JobNotFoundError(
                    job.job_id,
                    f"job {job.job_id!r} was not found: DescribeJobs did not return it "
                    f"for {grace:g}s",
                ),
            )
            return
        job.level = min(job.level + 1, _MAX_LEVEL)
        job.schedule(now, self._delay(job.level, draws))

    def _on_error(
        self, chunk: list[str], error: Exception, now: float, draws: dict[int, float]
    ) -> None:
        jobs = [job for job in map(self._jobs.get, chunk) if job is not None]
        if isinstance(error, ThrottlingError):
            for job in jobs:  # not polled: same level, slower pace
                job.schedule(now, self._delay(job.level, draws))
        elif _is_transient(error):
            self.logger.warning("DescribeJobs failed, will retry: %s", error)
            for job in jobs:
                job.level = min(job.level + 1, _MAX_LEVEL)
                job.schedule(now, self._delay(job.level, draws))
        else:
            self.logger.error("DescribeJobs failed; failing %d wait(s): %s", len(jobs), error)
            for job in jobs:
                self._finish(job, error)

    def _delay(self, level: int, draws: dict[int, float]) -> float:
        delay = draws.get(level)
        if delay is None:
            delay = draws[level] = backoff_delay(self.policy, level, self._rand()) / self.pace
        return delay

    # -----------------------------------------------------------------------------------------
    # Subscribers

    def _finish(self, job: _Job, outcome: JobDetail | BaseException) -> None:
        """Deliver a job's last word (terminal detail or error) and stop tracking it."""
        self._jobs.pop(job.job_id, None)
        for subscription in job.subscribers:
            subscription.finish(job.job_id, outcome)

    def _fail_all(self, error: BaseException) -> None:
        for job in list(self._jobs.values()):
            self._finish(job, error)

    def _unsubscribe(self, subscription: Subscription) -> None:
        for job_id in subscription.job_ids:
            job = self._jobs.get(job_id)
            if job is not None:
                job.subscribers.pop(subscription, None)
                if not job.subscribers:  # the task ends by itself once nothing is tracked
                    del self._jobs[job_id]


class Subscription:
    """What one wait receives from the poller: job details, in the order seen, or an error.

    Iterate it (``async for job in subscription``) or ``await subscription.get()``; iteration
    ends once every job delivered its terminal detail. An error (timeout, not found, a failed
    DescribeJobs) is raised from :meth:`get` after the details delivered before it.
    :meth:`close` it when done: closing ends the wait only, it never touches the AWS jobs.

    Attributes:
        job_ids: The jobs, without duplicates, in the order given.
        every_change: Whether each observed change is delivered, or only terminal details.
        pending: The jobs whose terminal detail has not been delivered yet.
    """

    def __init__(self, poller: JobPoller, job_ids: Iterable[str], *, every_change: bool) -> None:
        self.job_ids = list(dict.fromkeys(job_ids))
        self.every_change = every_change
        self.pending = set(self.job_ids)
        self._poller = poller
        self._items: deque[JobDetail | BaseException] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> JobDetail:
        if not self._items and not self.pending:
            raise StopAsyncIteration
        return await self.get()

    async def get(self) -> JobDetail:
        """Wait for the next detail.

        Returns:
            The next :class:`JobDetail` delivered.

        Raises:
            WaitTimeoutError: The subscription's timeout elapsed.
            JobNotFoundError: A job was not found within the grace period.
            BatchError: DescribeJobs failed with an error that is not retried, or the service
                was closed (:class:`ServiceClosedError`).
            RuntimeError: Nothing more will be delivered.
        """
        while not self._items:
            if not self.pending:
                raise RuntimeError("every job of this subscription has been delivered")
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if isinstance(item, BaseException):
            # One error can reach many waits (a failed call covers 100 jobs): start each
            # raise with a fresh traceback instead of piling every waiter's frames onto it.
            raise item.with_traceback(None)
        return item

    def close(self) -> None:
        """Stop waiting (idempotent). The AWS jobs are not affected."""
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._poller._unsubscribe(self)

    def arm(self, timeout: float) -> None:
        """Raise :class:`WaitTimeoutError` from :meth:`get` after ``timeout`` seconds."""
        self._timer = asyncio.get_running_loop().call_later(timeout, self._expire, timeout)

    def put(self, item: JobDetail | BaseException) -> None:
        """Deliver a detail or an error (called by the poller)."""
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def finish(self, job_id: str, outcome: JobDetail | BaseException) -> None:
        """Deliver a job's terminal detail or final error (called by the poller)."""
        if job_id in self.pending:
            self.pending.discard(job_id)
            self.put(outcome)

    def _expire(self, timeout: float) -> None:
        self._timer = None
        job_id = next((i for i in self.job_ids if i in self.pending), None)
        if job_id is None:
            return
        last = self._poller.last_seen(job_id)
        self.pending.clear()
        self._poller._unsubscribe(self)
        self.put(WaitTimeoutError(job_id, last, timeout))


def backoff_delay(policy: PollPolicy, level: int, rand: float) -> float:
    """The delay before the next poll of a job at backoff ``level``, with full jitter.

    Level 0 (a new job, or one whose status just changed) waits ``initial_interval``. Level
    ``k`` waits a uniformly drawn time between ``initial_interval`` and
    ``min(max_interval, initial_interval * multiplier ** k)``.

    Args:
        policy: The intervals and the multiplier.
        level: Polls since the job last changed.
        rand: A uniform random number in [0, 1).

    Returns:
        Seconds, between ``initial_interval`` and ``max_interval``.
    """
    low = policy.initial_interval
    if level <= 0:
        return low
    high = min(policy.max_interval, low * policy.multiplier ** min(level, _MAX_LEVEL))
    return low + (high - low) * rand


def validate_timeout(timeout: float | None) -> None:
    """Check a wait's ``timeout`` argument.

    Args:
        timeout: Seconds (``>= 0``; ``math.inf`` means none) or ``None``.

    Raises:
        TypeError: Not a number.
        ValueError: Negative or NaN.
    """
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, not {type(timeout).__name__}")
    if math.isnan(timeout) or timeout < 0:
        raise ValueError("timeout must be >= 0 seconds (or None)")


@dataclass(eq=False)
class _Job:
    """One tracked job, shared by every subscription that waits on it."""

    job_id: str
    registered: float
    subscribers: dict[Subscription, object] = field(default_factory=dict)
    due: float = 0.0
    early: float = 0.0
    level: int = 0
    key: object = None
    raw: dict[str, Any] | None = None
    cached: JobDetail | None = None
    missing_since: float | None = None

    def schedule(self, now: float, delay: float) -> None:
        self.due = now + delay
        self.early = self.due - EARLY_FRACTION * delay

    def detail(self) -> JobDetail:
        if self.cached is None:
            self.cached = JobDetail.model_validate(self.raw)
        return self.cached


def _change_key(raw: dict[str, Any]) -> object:
    """What must change for ``watch`` to yield: the status, and an array's status summary."""
    status = raw.get("status")
    array = raw.get("arrayProperties")
    summary = array.get("statusSummary") if isinstance(array, dict) else None
    if not summary:
        return status
    return status, tuple(sorted(summary.items()))


def _is_transient(error: Exception) -> bool:
    if isinstance(error, BatchConnectionError):
        return True
    return (
        isinstance(error, BatchAPIError)
        and error.status_code is not None
        and error.status_code >= 500
    )
