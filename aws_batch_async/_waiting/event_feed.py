"""Event-driven waiting: AWS Batch's job state-change events, from EventBridge through SQS.

With ``BatchConfig.events`` set, the service's poller is an :class:`EventFedPoller` and ONE
:class:`EventConsumer` feeds it:

* the consumer long-polls the SQS queue (``WaitTimeSeconds=20``, 10 messages a call; up to
  :data:`MAX_RECEIVES` receives in flight while the queue is busy, one when it is quiet), hands
  each ``Batch Job State Change`` event's ``detail`` to :meth:`EventFedPoller.apply`, and only
  then deletes the batch (``DeleteMessageBatch``);
* the poller delivers it through the same subscriptions as a DescribeJobs answer. Delivery is at
  least once and unordered, so each detail is weighed by its progress (attempts made, status
  rank, children's progress): a duplicate or a late event changes nothing, a terminal state is
  final;
* DescribeJobs only reconciles: one sweep of the waited jobs ``initial_interval`` after a wait
  starts (the job may have finished before anyone listened), then one every
  ``reconcile_interval``, so a lost event delays a wait, never hangs it;
* while SQS fails or throttles, the waits are polled on the normal backoff schedule, and the
  consumer retries on the same schedule; each switch is logged once.

Events of jobs nobody waits on are deleted (``EventsConfig.delete_unwaited``), and many of them
in a short time are reported once: the sign of another process stealing this queue's events.
The consumer runs while somebody waits; it ends after its receive in flight once nobody does,
and at once when the service closes. The reasons are in ``docs/events.md``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal

from .._backoff import backoff_delay
from .._config import EventsConfig, PollPolicy
from .._models.jobs import TERMINAL_STATUSES, JobDetail
from .._telemetry.hooks import NOOP, Telemetry
from .._types import CallFn, DescribeFn
from .poller import JobPoller
from .subscription import Subscription, TrackedJob, change_key, progress, without_environment

__all__ = [
    "DETAIL_TYPE",
    "MAX_RECEIVES",
    "SOURCE",
    "STEAL_THRESHOLD",
    "STEAL_WINDOW",
    "Applied",
    "EventConsumer",
    "EventFedPoller",
    "parse_event",
]

SOURCE = "aws.batch"
DETAIL_TYPE = "Batch Job State Change"
#: SQS's limits: messages per ReceiveMessage (and per DeleteMessageBatch), long-poll seconds.
SQS_MAX_MESSAGES = 10
SQS_WAIT_SECONDS = 20
#: Receives in flight at most, while each one comes back full.
MAX_RECEIVES = 4
#: Events of unwaited jobs within STEAL_WINDOW seconds that make the consumer warn (once).
STEAL_WINDOW = 60.0
STEAL_THRESHOLD = 100
_FINISHED_MEMORY = 10_000  # recently finished jobs, so that their late events are told apart

#: What became of an event: delivered ("applied"), old news ("stale": a duplicate, or behind
#: what was seen), nobody waiting ("late": the wait just ended; "unwaited": none), a detail
#: that does not validate ("malformed"), or not a job state change at all ("ignored").
Applied = Literal["applied", "stale", "late", "unwaited", "malformed", "ignored"]


class EventFedPoller:
    """The job poller, fed by events: DescribeJobs only reconciles while events flow.

    It holds a :class:`JobPoller` (:attr:`poller`) and is that poller's
    :class:`~.poller.PollerHooks`: an answer behind an applied event is stale, and while events
    flow a job seen in a sweep is polled again after ``reconcile_interval``. Events reach the
    waits through :meth:`apply`. The service holds it as it holds a poller
    (:class:`~.poller.Poller`).

    Args:
        describe: One DescribeJobs call (at most 100 ids).
        policy: The polling schedule; used for the first sweep of each wait, for jobs not
            found yet, and for every job while events are unavailable.
        reconcile_interval: Seconds between the DescribeJobs sweeps of a job after its first.
        logger: As :class:`JobPoller`.
        clock: As :class:`JobPoller`.
        sleep: As :class:`JobPoller`.
        rand: As :class:`JobPoller`.
        telemetry: As :class:`JobPoller`; the consumer's receives are traced through it.

    Attributes:
        poller: The poller it feeds.
        feed: The consumer; started with every wait, closed with the poller.
    """

    def __init__(
        self,
        describe: DescribeFn,
        policy: PollPolicy,
        *,
        reconcile_interval: float,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        telemetry: Telemetry = NOOP,
    ) -> None:
        self.poller = JobPoller(
            describe,
            policy,
            logger=logger,
            clock=clock,
            sleep=sleep,
            rand=rand,
            telemetry=telemetry,
            hooks=self,
        )
        self.reconcile_interval = reconcile_interval
        self.feed: EventConsumer | None = None
        self._events = True  # assumed until a receive fails
        self._finished: OrderedDict[str, None] = OrderedDict()

    @property
    def policy(self) -> PollPolicy:
        """The polling schedule."""
        return self.poller.policy

    @property
    def logger(self) -> logging.Logger:
        """Where the poller logs."""
        return self.poller.logger

    @property
    def telemetry(self) -> Telemetry:
        """The service's OpenTelemetry hooks."""
        return self.poller.telemetry

    @property
    def running(self) -> bool:
        """True while the poller's background task is alive."""
        return self.poller.running

    @property
    def tracked(self) -> int:
        """How many distinct jobs are being waited on."""
        return self.poller.tracked

    @property
    def event_fed(self) -> bool:
        """True while events feed the waits and DescribeJobs only reconciles."""
        return self._events

    def subscribe(
        self, job_ids: Iterable[str], *, every_change: bool = False, timeout: float | None = None
    ) -> Subscription:
        """As :meth:`JobPoller.subscribe`; also starts the consumer if it is not running."""
        subscription = self.poller.subscribe(job_ids, every_change=every_change, timeout=timeout)
        if self.feed is not None:
            self.feed.start()
        return subscription

    def note_submitted(self, job_id: str) -> None:
        """As :meth:`JobPoller.note_submitted`.

        Args:
            job_id: The new job's id.
        """
        self.poller.note_submitted(job_id)

    def last_seen(self, job_id: str) -> JobDetail | None:
        """As :meth:`JobPoller.last_seen`.

        Args:
            job_id: The job.

        Returns:
            Its latest detail (without environment values), or ``None``.
        """
        return self.poller.last_seen(job_id)

    def apply(self, raw: dict[str, Any]) -> Applied:
        """Take the job state an event brought (DescribeJobs-shaped), as a sweep would.

        It reaches the job's subscriptions under the same ``every_change``/terminal rules as a
        DescribeJobs answer, unless it is not ahead of what was seen (see
        :func:`~aws_batch_async._waiting.subscription.progress`). The schedule is not touched.

        Args:
            raw: The event's ``detail``.

        Returns:
            What became of it.
        """
        job_id = raw.get("jobId")
        job = self.poller.tracked_job(job_id) if isinstance(job_id, str) else None
        if job is None:
            return "late" if job_id in self._finished else "unwaited"
        try:  # a damaged detail never becomes state: reconciliation will answer
            order, terminal = progress(raw), raw.get("status") in TERMINAL_STATUSES
            if not terminal and order <= job.order:
                return "stale"
            clean = without_environment(raw)
            detail, key = JobDetail.model_validate(clean), change_key(clean)
        except (ValueError, TypeError, AttributeError):
            return "malformed"
        wanted = terminal or any(
            s.every_change and seen != key for s, seen in job.subscribers.items()
        )
        job.order = order
        self.poller.take(job, clean, detail, key, terminal, deliver=wanted)
        return "applied"

    def use_polling(self) -> None:
        """Events are unavailable: poll every job on the normal backoff schedule again."""
        if not self._events:
            return
        self._events = False
        self.poller.poll_on_backoff()

    def use_events(self) -> None:
        """Events flow again: each job goes back to reconciling after its next poll."""
        self._events = True

    async def aclose(self) -> None:
        """Stop the consumer at once, then the poller (see :meth:`JobPoller.aclose`)."""
        feed, self.feed = self.feed, None
        if feed is not None:
            await feed.aclose()
        await self.poller.aclose()

    # -----------------------------------------------------------------------------------------
    # PollerHooks: what the poller asks while it sweeps

    def accept(self, job: TrackedJob, raw: dict[str, Any]) -> bool:
        """Whether a sweep's answer is news: not behind an event already applied.

        Args:
            job: The job's record; its ``order`` becomes the answer's when it is taken.
            raw: The job as DescribeJobs answered.

        Returns:
            ``False`` for an answer behind what an event brought (DescribeJobs is eventually
            consistent), unless it is terminal.
        """
        order = progress(raw)
        if order < job.order and raw.get("status") not in TERMINAL_STATUSES:
            return False
        job.order = order
        return True

    def next_delay(self, job: TrackedJob) -> float | None:
        """``reconcile_interval`` while events flow; else the poller's backoff (``None``).

        Args:
            job: The job seen.

        Returns:
            Seconds, or ``None``.
        """
        return self.reconcile_interval if self._events else None

    def finished(self, job_id: str) -> None:
        """Remember that a job's wait ended, so its late events are told apart.

        Args:
            job_id: The job.
        """
        finished = self._finished
        finished[job_id] = None
        if len(finished) > _FINISHED_MEMORY:
            finished.popitem(last=False)


class EventConsumer:
    """Receives the queue's events and applies them to the poller, while somebody waits.

    Args:
        poller: The poller it feeds.
        call: One SQS call (the service's ``call_service`` bound to ``"sqs"``).
        config: The queue, and what to do with events of jobs nobody waits on.
        policy: The backoff schedule of the retries while SQS fails.
        logger: Switches to polling (WARNING) and back (INFO); the stealing warning.
        read_timeout: The SQS client's read timeout; a long poll stays 5 s below it.
        sleep: Sleep between retries (``asyncio.sleep``).
        clock: Monotonic clock for the stealing detector (``time.monotonic``).
        rand: Jitter of the retries (``random.random``).

    Attributes:
        counts: How many events became what (see :data:`Applied`), and ``receives``,
            ``deleted``, ``receive_errors``, ``delete_errors``.
    """

    def __init__(
        self,
        poller: EventFedPoller,
        call: CallFn,
        config: EventsConfig,
        policy: PollPolicy,
        *,
        logger: logging.Logger | None = None,
        read_timeout: float = 60.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.logger = logger if logger is not None else logging.getLogger("aws_batch_async")
        self.counts: Counter[str] = Counter()
        self.wait_seconds = max(0, min(SQS_WAIT_SECONDS, int(read_timeout) - 5))
        self._poller = poller
        self._call = call
        self._policy = policy
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self._receivers: set[asyncio.Task[None]] = set()
        self._closed = False
        self._failures = 0  # consecutive failed receives
        self._delete_failing = False
        self._unwaited: deque[float] = deque()  # when recent unwaited events came
        self._warned_stealing = False

    @property
    def receivers(self) -> int:
        """Receives in flight (or retrying) now."""
        return len(self._receivers)

    def start(self) -> None:
        """Run, if not running and not closed (a wait started)."""
        if not self._closed and not self._receivers:
            self._spawn()

    async def aclose(self) -> None:
        """Stop at once: receives in flight are abandoned (SQS hands their messages again)."""
        self._closed = True
        tasks = list(self._receivers)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    def _spawn(self) -> None:
        task = asyncio.get_running_loop().create_task(
            self._receive_loop(), name="aws-batch-async event consumer"
        )
        self._receivers.add(task)

    async def _receive_loop(self) -> None:
        me = asyncio.current_task()
        try:
            while not self._closed and self._poller.tracked:
                try:
                    with self._poller.telemetry.receive(self.config.queue_url) as note:
                        answer = await self._call(
                            "ReceiveMessage",
                            QueueUrl=self.config.queue_url,
                            MaxNumberOfMessages=SQS_MAX_MESSAGES,
                            WaitTimeSeconds=self.wait_seconds,
                        )
                        note(answer.get("Messages") or [])
                except Exception as exc:
                    self.counts["receive_errors"] += 1
                    if len(self._receivers) > 1:
                        return  # another receive carries on (and backs off)
                    await self._back_off(exc)
                    continue
                self.counts["receives"] += 1
                self._recovered()
                messages: list[dict[str, Any]] = answer.get("Messages") or []
                handles = self._apply_all(messages)
                if handles:
                    await self._delete(handles)
                if len(messages) >= SQS_MAX_MESSAGES and len(self._receivers) < MAX_RECEIVES:
                    self._spawn()  # busy: one more receive in flight
                elif not messages and len(self._receivers) > 1:
                    return  # quiet: one receive is enough
        except Exception as exc:  # a bug here must not hang the waits: they are polled
            self.logger.error("the event consumer stopped; waits are polled", exc_info=exc)
            self._poller.use_polling()
        finally:
            self._receivers.discard(me)

    def _apply_all(self, messages: list[dict[str, Any]]) -> list[str]:
        """Apply each message's event; the receipt handles of those to delete."""
        handles = []
        delete_unwaited = self.config.delete_unwaited
        counts = self.counts
        apply = self._poller.apply
        for message in messages:
            detail = parse_event(message.get("Body"))
            outcome: Applied = "ignored" if detail is None else apply(detail)
            if outcome == "malformed" and not counts[outcome]:
                self.logger.warning(
                    "a damaged job state change event was dropped (it does not read as a "
                    "DescribeJobs job); DescribeJobs reconciles. Later ones are only counted "
                    "(counts['malformed'])"
                )
            counts[outcome] += 1
            if outcome == "unwaited":
                self._note_unwaited()
            if not delete_unwaited and outcome in ("unwaited", "ignored"):
                continue  # left for another consumer: back after the visibility timeout
            handle = message.get("ReceiptHandle")
            if isinstance(handle, str):
                handles.append(handle)
        return handles

    async def _delete(self, handles: list[str]) -> None:
        entries = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)]
        try:
            answer = await self._call(
                "DeleteMessageBatch", QueueUrl=self.config.queue_url, Entries=entries
            )
        except Exception as exc:
            self.counts["delete_errors"] += 1
            if not self._delete_failing:
                self._delete_failing = True
                self.logger.warning(
                    "cannot delete events from SQS (%s); they come back after the visibility "
                    "timeout and are applied again, harmlessly",
                    exc,
                )
            return
        failed = answer.get("Failed") or []
        self.counts["deleted"] += len(entries) - len(failed)
        self.counts["delete_errors"] += len(failed)
        self._delete_failing = bool(failed)

    async def _back_off(self, error: Exception) -> None:
        """A receive failed: the waits are polled, and the receive retried after a backoff."""
        self._failures += 1
        if self._failures == 1 and self._poller.event_fed:
            self.logger.warning(
                "cannot receive events from SQS (%s): waits fall back to polling DescribeJobs "
                "until events flow again",
                error,
            )
            self._poller.use_polling()
        policy = self._policy
        delay = backoff_delay(
            self._failures - 1,
            initial=policy.initial_interval,
            maximum=policy.max_interval,
            multiplier=policy.multiplier,
            rand=self._rand(),
            floor=policy.initial_interval,
        )
        await self._sleep(delay)

    def _recovered(self) -> None:
        self._failures = 0
        if not self._poller.event_fed:  # after failed receives, or a consumer that crashed
            self.logger.info("receiving events from SQS again: DescribeJobs only reconciles")
            self._poller.use_events()

    def _note_unwaited(self) -> None:
        if self._warned_stealing:
            return
        now = self._clock()
        times = self._unwaited
        times.append(now)
        while times[0] < now - STEAL_WINDOW:
            times.popleft()
        if len(times) >= STEAL_THRESHOLD:
            self._warned_stealing = True
            times.clear()
            self.logger.warning(
                "%d events of jobs nobody waits on within %.0fs on %s: if another process reads "
                "this queue, the two take each other's events (their waits then rely on "
                "reconciliation). Give each process its own queue (ensure_event_queue with "
                "job_name_prefix) or run one dispatcher; see docs/events.md",
                STEAL_THRESHOLD,
                STEAL_WINDOW,
                self.config.queue_url,
            )


def parse_event(body: object) -> dict[str, Any] | None:
    """The ``detail`` of a ``Batch Job State Change`` event in an SQS message body, or ``None``.

    Args:
        body: The message body (EventBridge's event as JSON).

    Returns:
        The detail (a DescribeJobs-shaped job with a ``jobId``), or ``None`` for anything else
        (another detail-type such as ``Batch Job Queue Blocked``, another source, not JSON).
    """
    if not isinstance(body, str):
        return None
    try:
        event = json.loads(body)
    except ValueError:
        return None
    if (
        not isinstance(event, dict)
        or event.get("source") != SOURCE
        or event.get("detail-type") != DETAIL_TYPE
    ):
        return None
    detail = event.get("detail")
    if not isinstance(detail, dict) or not isinstance(detail.get("jobId"), str):
        return None
    return detail
