"""Waiting at scale: ONE background poller per service serves every wait.

``wait_for``, ``watch`` and ``as_completed`` each take a :class:`Subscription` from the service's
:class:`JobPoller`. It tracks each waited-for job once and describes the due ones together, in
DescribeJobs calls of at most 100 ids (at most ``PollPolicy.max_concurrent_calls`` in flight,
a cap the service's other DescribeJobs calls share: ``_transport/describe_gate.py``),
with jittered backoff, a pace that throttling slows, and a grace period for jobs this service
submitted that DescribeJobs does not show yet. A new wait is first looked at within
``PollPolicy.first_poll_window``; a sweep's answers reach the waits in slices, the loop free
between them. Environment values are dropped from every job it stores. If the poller crashes,
each open wait gets a :class:`BatchError` and the next wait starts a new task. The rules and
their reasons are in ``docs/waiting.md``.

Events feed the waits through ``event_feed.EventFedPoller``, which holds a :class:`JobPoller`
and is its :class:`PollerHooks`: it decides which answers are stale and the delay after each
answer, and hands the poller each event's job state (:meth:`JobPoller.take`). The service holds
either through the :class:`Poller` protocol.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import logging
import math
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from pydantic import BaseModel

from .._backoff import MAX_LEVEL, backoff_delay
from .._config import PollPolicy
from .._errors import (
    BatchAPIError,
    BatchConnectionError,
    BatchError,
    JobNotFoundError,
    MalformedResponseError,
    ServiceClosedError,
    ThrottlingError,
)
from .._models.base import unbuilt_models
from .._models.jobs import TERMINAL_STATUSES, JobDetail, note_status
from .._models.limits import chunked
from .._telemetry.hooks import NOOP, Telemetry
from .._types import DescribeFn
from .subscription import (
    Subscription,
    TrackedJob,
    change_key,
    without_environment,
)

__all__ = [
    "EARLY_FRACTION",
    "MIN_PACE",
    "PACE_RECOVERY",
    "SLICE_DELIVERIES",
    "SLICE_SECONDS",
    "JobPoller",
    "Poller",
    "PollerHooks",
]

#: A job may be polled this fraction of its current delay early, to join a sweep that is due.
EARLY_FRACTION = 0.5
#: The slowest pace throttling can bring the poller to (delays multiplied by 1 / MIN_PACE).
MIN_PACE = 1 / 16
#: How much pace each sweep without throttling gives back (additive increase).
PACE_RECOVERY = 0.1
#: The most CPU seconds the poller spends on a sweep's answers before it yields to the loop.
SLICE_SECONDS = 0.004
#: The most waits a slice wakes (each woken wait runs in the loop's next iteration).
SLICE_DELIVERIES = 128
_SUBMITTED_MEMORY = 100_000  # ids noted by note_submitted, at most
_UNSEEN = object()  # what a new subscriber has "seen" of a job: nothing
_GONE = 0  # the stamp of a job nobody tracks any more: none of its heap entries is live
_HEAP_SLACK = 64  # stale heap entries tolerated beyond twice the tracked jobs
_HEAP_STEP = 64  # heap entries taken between two looks at the slice's time

#: What one call of a sweep gave: the raw jobs, or the error it raised.
_Result = list[dict[str, Any]] | Exception
#: A heap entry: (time, stamp, job); live while the stamp is the job's current one.
_Entry = tuple[float, int, "TrackedJob"]


class Poller(Protocol):
    """What the service asks of its poller: a :class:`JobPoller`, or the event-fed one."""

    @property
    def running(self) -> bool:
        """True while the background task is alive."""
        ...

    @property
    def tracked(self) -> int:
        """How many distinct jobs are being waited on."""
        ...

    def subscribe(
        self, job_ids: Iterable[str], *, every_change: bool = False, timeout: float | None = None
    ) -> Subscription:
        """Start waiting on jobs (see :meth:`JobPoller.subscribe`)."""
        ...

    def note_submitted(self, job_id: str) -> None:
        """Remember that this service just submitted a job."""
        ...

    def last_seen(self, job_id: str) -> JobDetail | None:
        """The latest detail seen of a tracked job, or ``None``."""
        ...

    async def aclose(self) -> None:
        """Stop, and fail every open wait with ``ServiceClosedError``."""
        ...


class PollerHooks(Protocol):
    """What a component that feeds a :class:`JobPoller` decides of its schedule.

    The event feed (``event_feed.EventFedPoller``) is one: while events flow, DescribeJobs
    only reconciles. The poller calls the hooks from its sweeps, synchronously, on its loop.
    """

    def accept(self, job: TrackedJob, raw: dict[str, Any]) -> bool:
        """A sweep's answer for a tracked job arrived.

        Args:
            job: The job, as the poller tracks it (the hook may note what it keeps there,
                such as ``job.order``).
            raw: The job as DescribeJobs answered.

        Returns:
            ``False`` to set the answer aside as stale: the job keeps what it had and is
            polled again after :meth:`next_delay`.
        """
        ...

    def next_delay(self, job: TrackedJob) -> float | None:
        """The delay until a job seen in a sweep is polled again.

        Args:
            job: The job.

        Returns:
            Seconds, or ``None`` for the poller's own backoff.
        """
        ...

    def finished(self, job_id: str) -> None:
        """A job's last word (terminal detail or error) was delivered; it is not tracked.

        Args:
            job_id: The job.
        """
        ...


class JobPoller:
    """Polls DescribeJobs for every job that somebody waits on, from one background task.

    Args:
        describe: One DescribeJobs call (at most 100 ids); raises the library's errors.
        policy: Intervals, the not-found grace period and the cap on concurrent calls.
        logger: Sweeps are logged at DEBUG, throttling and retried errors at WARNING.
        clock: Monotonic clock in seconds for the schedule (``time.monotonic``).
        sleep: Sleep for the schedule (``asyncio.sleep``).
        rand: Uniform random numbers in [0, 1) for the jitter (``random.random``).
        parse: Builds the detail delivered from a raw answer (``JobDetail.model_validate``;
            service jobs deliver their own model).
        telemetry: The service's OpenTelemetry hooks (a span per wait and per sweep).
        hooks: What decides stale answers and the delay after each answer, instead of the
            backoff alone (the event feed); ``None``: the backoff.
        operation: The describe's AWS operation, as errors name it (service jobs:
            ``"DescribeServiceJob"``).
    """

    def __init__(
        self,
        describe: DescribeFn,
        policy: PollPolicy,
        *,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        parse: Callable[[Any], JobDetail] = JobDetail.model_validate,
        telemetry: Telemetry = NOOP,
        hooks: PollerHooks | None = None,
        operation: str = "DescribeJobs",
    ) -> None:
        self.policy = policy
        self._parse = parse
        self._operation = operation
        self.telemetry = telemetry
        telemetry.observe_poller(self)
        self.logger = logger if logger is not None else logging.getLogger("aws_batch_async")
        self.pace = 1.0
        self._describe = describe
        self._hooks = hooks
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self._backoff = functools.partial(
            backoff_delay,
            initial=policy.initial_interval,
            maximum=policy.max_interval,
            multiplier=policy.multiplier,
            floor=policy.initial_interval,  # never sooner than initial_interval
        )
        self._jobs: dict[str, TrackedJob] = {}
        self._due: list[_Entry] = []  # heap of due times
        self._early: list[_Entry] = []  # heap of early-window openings
        self._retired: list[list[_Entry]] = []  # heaps of stale entries, freed in slices
        self._stamps = itertools.count(_GONE + 1)
        self._serials = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._wake: asyncio.Future[None] | None = None  # set while the task idles
        self._wake_at = math.inf  # when the idle task wakes by itself
        self._submitted: OrderedDict[str, float] = OrderedDict()  # job id -> when
        self._slice_started = 0.0  # perf_counter() at the start of the current slice
        self._woken = 0  # waits woken in the current slice

    @property
    def running(self) -> bool:
        """True while the background task is alive."""
        return self._task is not None and not self._task.done()

    @property
    def tracked(self) -> int:
        """How many distinct jobs are being waited on."""
        return len(self._jobs)

    def subscribe(
        self, job_ids: Iterable[str], *, every_change: bool = False, timeout: float | None = None
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
        self.telemetry.start_wait(subscription)  # a child of the caller's current span
        now = self._clock()
        first = self.policy.first_poll_window / self.pace
        delay = self.policy.initial_interval / self.pace
        for job_id in subscription.job_ids:
            job = self._jobs.get(job_id)
            if job is None:
                job = self._jobs[job_id] = TrackedJob(
                    job_id,
                    now,
                    next(self._serials),
                    parse=self._parse,
                    grace=self._grace_of(job_id, now),
                )
                # first look within the window; it may join any sweep before that
                self._schedule(job, now, first, early=now)
            elif now + delay < job.due:  # a new waiter need not wait out a long backoff
                self._schedule(job, now, delay)
            job.subscribers[subscription] = _UNSEEN
        if timeout is not None and math.isfinite(timeout):
            subscription.arm(timeout)
        if self._task is None or self._task.done():  # first wait, or after a crash
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="aws-batch-async job poller"
            )
        else:
            self._wake_if_sooner()
        return subscription

    def _wake_if_sooner(self) -> None:
        """Cut the idle task's sleep short when a job is now due before it would wake."""
        wake = self._wake
        if wake is not None and not wake.done() and self._due and self._due[0][0] < self._wake_at:
            wake.set_result(None)

    def note_submitted(self, job_id: str) -> None:
        """Remember that this service just submitted a job (what the submit path calls).

        A wait on it gets ``PollPolicy.not_found_grace`` while DescribeJobs does not show it
        yet; ids nobody noted are not found at the first answer that lacks them.

        Args:
            job_id: The new job's id.
        """
        submitted = self._submitted
        now = self._clock()
        submitted[job_id] = now
        submitted.move_to_end(job_id)
        horizon = now - self.policy.not_found_grace
        while submitted and (
            len(submitted) > _SUBMITTED_MEMORY or next(iter(submitted.values())) < horizon
        ):
            submitted.popitem(last=False)

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop delivering to a subscription (what :meth:`Subscription.close` calls).

        Args:
            subscription: One of this poller's subscriptions.
        """
        self.telemetry.end_wait(subscription)
        for job_id in subscription.job_ids:
            job = self._jobs.get(job_id)
            if job is not None:
                job.subscribers.pop(subscription, None)
                if not job.subscribers:  # the task ends by itself once nothing is tracked
                    self._forget(job)

    def tracked_job(self, job_id: str) -> TrackedJob | None:
        """What the poller knows of a job it tracks, or ``None``.

        Args:
            job_id: The job.

        Returns:
            Its record (what :meth:`take` takes), or ``None``.
        """
        return self._jobs.get(job_id)

    def take(
        self,
        job: TrackedJob,
        raw: dict[str, Any],
        detail: JobDetail,
        key: object,
        terminal: bool,
        *,
        deliver: bool,
    ) -> None:
        """Take a job's state learnt elsewhere (an event), as a sweep's answer would be.

        It reaches the subscriptions under the same ``every_change``/terminal rules; the
        schedule is not touched.

        Args:
            job: The job's record (:meth:`tracked_job`).
            raw: Its state, without environment values.
            detail: ``raw`` validated.
            key: Its :func:`~.subscription.change_key`.
            terminal: Whether its status is SUCCEEDED or FAILED.
            deliver: Whether a subscription is to receive it.
        """
        if key != job.key:
            job.key, job.level = key, 0
        job.raw, job.cached, job.missing_since = raw, detail, None
        job.grace = self.policy.not_found_grace  # it exists: a later absence gets the grace
        if deliver:
            self._deliver(job, detail, key, terminal)

    def poll_on_backoff(self) -> None:
        """Poll each job at its backoff delay again, where its next poll is later than that."""
        now, draws = self._clock(), dict[int, float]()
        for job in self._jobs.values():
            delay = self._delay(job.level, draws)
            if now + delay < job.due:
                self._schedule(job, now, delay)

    def last_seen(self, job_id: str) -> JobDetail | None:
        """The latest detail the poller saw of a job it tracks, or ``None``.

        Args:
            job_id: The job.

        Returns:
            Its latest detail (without environment values), or ``None``.
        """
        job = self._jobs.get(job_id)
        if job is None or job.raw is None:
            return None
        try:
            return job.detail()
        except ValueError:  # a detail AWS sent that does not validate: nothing to show
            return None

    async def aclose(self) -> None:
        """Stop the task and fail every open wait with :class:`ServiceClosedError`. Idempotent.

        The waits fail even if this is cancelled while the task ends; calling it again then
        waits for the task.
        """
        self._closed = True
        try:
            task = self._task
            if task is not None and not task.done():
                task.cancel()
                await asyncio.wait({task})
        finally:
            self._fail_all(ServiceClosedError("the BatchService was closed while waiting"))

    # -----------------------------------------------------------------------------------------
    # The task

    async def _run(self) -> None:
        try:
            await self._build_model()
            while (self._jobs or self._retired) and not self._closed:
                if not self._jobs:
                    await self._free_retired()
                    continue
                now = self._clock()
                ids = await self._due_ids(now)
                if ids:
                    await self._sweep(ids)
                else:
                    await self._idle(now)
        except _Crashed as crash:  # a describe raised CancelledError, nobody cancelled it
            self._crash(crash.error)
        except asyncio.CancelledError as exc:
            if self._closed or _being_cancelled():
                raise  # aclose (or the loop's shutdown): aclose fails the waits
            self._crash(exc)
        except Exception as exc:
            self._crash(exc)

    def _crash(self, exc: BaseException) -> None:
        self.logger.error("the job poller stopped on an unexpected error", exc_info=exc)
        error = BatchError(f"the job poller stopped on an unexpected error: {exc!r}")
        error.__cause__ = exc
        self._fail_all(error)

    async def _build_model(self) -> None:
        """Have pydantic build the deferred schema of the model delivered (``parse``'s class),
        one model at a time, the loop free between them.

        Built whole by the first answer validated, it held one turn of the loop for the
        whole build (JobDetail: 26 models, 13-35 ms); a model at a time, for 4 ms at most.
        """
        model = getattr(self._parse, "__self__", None)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return
        for part in unbuilt_models(model):
            part.model_rebuild(raise_errors=False)  # an error is met at the first validation
            await asyncio.sleep(0)

    async def _due_ids(self, now: float) -> list[str]:
        """Nothing until some job is due; then every job within its early window, first
        waited for first.

        The heaps are worked in slices (``SLICE_SECONDS``), the loop free between them: a
        sweep of 10,000 jobs pops 10,000 entries (10-25 ms in one step).
        """
        due, early = self._due, self._early
        self._slice_started, self._woken = time.perf_counter(), 0
        steps = 0
        while due and due[0][1] != due[0][2].stamp:  # drop stale entries
            heapq.heappop(due)
            steps += 1
            if steps % _HEAP_STEP == 0:
                await self._yield_if_due()
                due, early = self._due, self._early  # set aside if the last job went
        if not due or due[0][0] > now:
            return []
        taken: list[tuple[int, str]] = []
        while early and early[0][0] <= now:
            _, stamp, job = heapq.heappop(early)
            if stamp == job.stamp:
                taken.append((job.serial, job.job_id))
            steps += 1
            if steps % _HEAP_STEP == 0:
                await self._yield_if_due()
                due, early = self._due, self._early
        taken.sort()  # first waited for, first described
        return list(dict.fromkeys(job_id for _, job_id in taken))  # one record per id

    async def _free_retired(self) -> None:
        """Free the entries of the heaps set aside when the last job went, in slices.

        Freed in one step, the entries of 10,000 jobs held the loop 8-9 ms.
        """
        retired = self._retired
        self._slice_started, self._woken = time.perf_counter(), 0
        while retired:
            heap = retired[-1]
            del heap[-_HEAP_STEP:]  # what is left is still a heap, though nobody reads it
            if not heap:
                retired.pop()
            await self._yield_if_due()

    async def _idle(self, now: float) -> None:
        """Sleep until the next due time, or until a new wait is due sooner (subscribe wakes).

        The sleep is also cut into quanta of half the initial interval, so that a schedule
        run on an injected clock moves in steps no wait can skip.
        """
        soonest = self._due[0][0] if self._due else math.inf  # _due_ids pruned the top
        quantum = EARLY_FRACTION * self.policy.initial_interval / self.pace
        seconds = max(0.0, min(soonest - now, quantum))
        wake = self._wake = asyncio.get_running_loop().create_future()
        self._wake_at = now + seconds
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait({sleeper, wake}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._wake, self._wake_at = None, math.inf
            if not sleeper.done():
                sleeper.cancel()
        if sleeper.done():
            sleeper.result()  # a broken injected sleep raises here: the poller crashes

    def _schedule(
        self, job: TrackedJob, now: float, delay: float, *, early: float | None = None
    ) -> None:
        job.due = now + delay
        job.early = job.due - EARLY_FRACTION * delay if early is None else early
        job.stamp = stamp = next(self._stamps)
        heapq.heappush(self._due, (job.due, stamp, job))
        heapq.heappush(self._early, (job.early, stamp, job))
        if len(self._due) + len(self._early) > 4 * len(self._jobs) + 2 * _HEAP_SLACK:
            for heap in (self._due, self._early):  # amortised O(1) per push
                heap[:] = [entry for entry in heap if entry[1] == entry[2].stamp]
                heapq.heapify(heap)

    async def _sweep(self, ids: list[str]) -> None:
        chunks = chunked(ids)
        self.logger.debug("polling %d job(s) in %d DescribeJobs call(s)", len(ids), len(chunks))
        with self.telemetry.sweep(ids, self._jobs, len(chunks)) as note:  # linked to its waits
            results = await self._describe_all(chunks)
            note(results)
        now = self._clock()
        self._adjust_pace(any(isinstance(r, ThrottlingError) for r in results))
        draws: dict[int, float] = {}  # backoff level -> delay, shared by this sweep's jobs
        self._slice_started, self._woken = time.perf_counter(), 0
        results.reverse()  # popped in order: each answer is released once handled
        for chunk in chunks:
            result = results.pop()
            if not isinstance(result, Exception) and not _is_job_list(result):
                result = MalformedResponseError(
                    "DescribeJobs answered something that is not a list of jobs",
                    operation="DescribeJobs",
                )
            if isinstance(result, Exception):
                self._on_error(chunk, result, now, draws)
            else:
                await self._on_answer(chunk, result, now, draws)
            await self._yield_if_due()

    async def _yield_if_due(self) -> None:
        """Give the loop a turn once this slice took its time or woke its share of waits."""
        if (
            self._woken >= SLICE_DELIVERIES
            or time.perf_counter() - self._slice_started >= SLICE_SECONDS
        ):
            await asyncio.sleep(0)
            self._slice_started, self._woken = time.perf_counter(), 0

    async def _describe_all(self, chunks: list[list[str]]) -> list[_Result]:
        """Every chunk's answer or error, from at most ``max_concurrent_calls`` worker tasks."""
        results: dict[int, _Result] = {}
        crashed: list[asyncio.CancelledError] = []
        order = iter(range(len(chunks)))
        stopping = False

        async def work() -> None:
            for index in order:
                if crashed or stopping:  # a crash waits for the calls in flight only
                    return
                try:
                    results[index] = await self._describe(chunks[index])
                except Exception as exc:
                    results[index] = exc
                except asyncio.CancelledError as exc:
                    if stopping:
                        raise
                    crashed.append(exc)  # nobody cancelled this call

        loop = asyncio.get_running_loop()
        workers = min(self.policy.max_concurrent_calls, len(chunks))
        tasks = [loop.create_task(work(), name="aws-batch-async describe") for _ in range(workers)]
        try:
            await asyncio.wait(tasks)
        finally:
            stopping = True
            pending = [task for task in tasks if not task.done()]
            for task in pending:  # the poller was cancelled: so are its calls
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        if crashed:
            raise _Crashed(crashed[0])
        return [results[index] for index in range(len(chunks))]

    def _adjust_pace(self, throttled: bool) -> None:
        if throttled:
            self.pace = max(MIN_PACE, self.pace / 2)
            self.logger.warning(
                "DescribeJobs is throttled: polling slowed to %.0f%% of its pace", self.pace * 100
            )
        elif self.pace < 1.0:
            self.pace = min(1.0, self.pace + PACE_RECOVERY)

    async def _on_answer(
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
            await self._yield_if_due()

    def _on_seen(
        self, job: TrackedJob, raw: dict[str, Any], now: float, draws: dict[int, float]
    ) -> None:
        hooks = self._hooks
        if hooks is not None and not hooks.accept(job, raw):  # stale: keep what the job had
            job.missing_since = None
            self._schedule(job, now, self._next_delay(job, draws))
            return
        terminal = note_status(raw.get("status")) in TERMINAL_STATUSES
        key = change_key(raw)
        if key != job.key:
            job.key, job.level = key, 0
        else:
            job.level = min(job.level + 1, MAX_LEVEL)
        job.raw, job.cached, job.missing_since = without_environment(raw), None, None
        job.grace = self.policy.not_found_grace  # it exists: a later absence gets the grace
        if terminal or any(s.every_change and seen != key for s, seen in job.subscribers.items()):
            self._deliver(job, job.detail(), key, terminal)
        if not terminal:
            self._schedule(job, now, self._next_delay(job, draws))

    def _next_delay(self, job: TrackedJob, draws: dict[int, float]) -> float:
        """The delay until a job seen in a sweep is polled again: the hooks', or its backoff."""
        if self._hooks is not None:
            delay = self._hooks.next_delay(job)
            if delay is not None:
                return delay
        return self._delay(job.level, draws)

    def _on_missing(self, job: TrackedJob, now: float, draws: dict[int, float]) -> None:
        if job.missing_since is None:
            job.missing_since = job.registered if job.raw is None else now
        grace = job.grace
        if now - job.missing_since >= grace:
            if grace > 0:
                message = f"{self._operation} did not return it for {grace:g}s"
            else:
                message = (
                    f"{self._operation} does not know it (this service did not submit it; "
                    "see PollPolicy.not_found_grace_all_ids)"
                )
            error = JobNotFoundError(job.job_id, f"job {job.job_id!r} was not found: {message}")
            self._finish(job, error)
            return
        job.level = min(job.level + 1, MAX_LEVEL)
        self._schedule(job, now, self._delay(job.level, draws))

    def _on_error(
        self, chunk: list[str], error: Exception, now: float, draws: dict[int, float]
    ) -> None:
        jobs = [job for job in map(self._jobs.get, chunk) if job is not None]
        if isinstance(error, ThrottlingError):
            for job in jobs:  # not polled: same level, slower pace
                self._schedule(job, now, self._delay(job.level, draws))
        elif _is_transient(error):
            self.logger.warning("DescribeJobs failed, will retry: %s", error)
            for job in jobs:
                job.level = min(job.level + 1, MAX_LEVEL)
                self._schedule(job, now, self._delay(job.level, draws))
        else:
            self.logger.error("DescribeJobs failed; failing %d wait(s): %s", len(jobs), error)
            for job in jobs:
                self._finish(job, error)

    def _grace_of(self, job_id: str, now: float) -> float:
        """The not-found grace of a newly tracked job: only recent submits (or every id)."""
        policy = self.policy
        if policy.not_found_grace_all_ids:
            return policy.not_found_grace
        # an array child ("<parent>:<index>") or a node ("<parent>#<node>") of a submitted job
        # appears after its parent: it gets the parent's grace
        parent = job_id.partition(":")[0].partition("#")[0]
        submitted = self._submitted.get(parent)
        if submitted is not None and now - submitted < policy.not_found_grace:
            return policy.not_found_grace
        return 0.0

    def _delay(self, level: int, draws: dict[int, float]) -> float:
        delay = draws.get(level)
        if delay is None:
            delay = draws[level] = self._backoff(level, rand=self._rand()) / self.pace
        return delay

    # -----------------------------------------------------------------------------------------
    # Subscribers

    def _deliver(self, job: TrackedJob, detail: JobDetail, key: object, terminal: bool) -> None:
        """Give a new detail to the subscriptions that want it; a terminal one ends the job."""
        if terminal:
            self._finish(job, detail)
            return
        for subscription, seen in job.subscribers.items():
            if subscription.every_change and seen != key:
                subscription.put(detail)
                job.subscribers[subscription] = key
                self._woken += 1

    def _finish(self, job: TrackedJob, outcome: JobDetail | BaseException) -> None:
        """Deliver a job's last word (terminal detail or error) and stop tracking it."""
        if self._hooks is not None:
            self._hooks.finished(job.job_id)
        self._forget(job)
        self._woken += len(job.subscribers)
        self.telemetry.wait_outcome(job.subscribers, job.job_id, outcome)
        for subscription in job.subscribers:
            subscription.finish(job.job_id, outcome)
        job.subscribers.clear()

    def _forget(self, job: TrackedJob) -> None:
        if self._jobs.get(job.job_id) is job:
            del self._jobs[job.job_id]
        job.stamp = _GONE
        # Nobody reads a record once forgotten: what it holds is freed now, a job at a time,
        # not all together when the heaps' last entries go (~20 ms for 10,000 jobs).
        job.raw = job.cached = None
        if not self._jobs:  # no live entry left: the task frees them (_free_retired)
            self._retired += self._due, self._early
            self._due, self._early = [], []

    def _fail_all(self, error: BaseException) -> None:
        for job in list(self._jobs.values()):
            self._finish(job, error)


class _Crashed(Exception):
    """A describe raised CancelledError although nobody cancelled it."""

    def __init__(self, error: asyncio.CancelledError) -> None:
        super().__init__(repr(error))
        self.error = error


def _being_cancelled() -> bool:
    """Whether the current task was asked to cancel (always assumed before Python 3.11)."""
    cancelling = getattr(asyncio.current_task(), "cancelling", None)
    return cancelling is None or cancelling() > 0


def _is_transient(error: Exception) -> bool:
    """Connection errors, 5xx and damaged answers: retried with the job's backoff."""
    if isinstance(error, (BatchConnectionError, MalformedResponseError)):
        return True
    status = error.status_code if isinstance(error, BatchAPIError) else None
    return status is not None and status >= 500


def _is_job_list(answer: object) -> bool:
    """Whether a DescribeJobs answer is a list of job objects (anything else is damaged)."""
    return isinstance(answer, list) and all(isinstance(raw, dict) for raw in answer)
