"""What waits share with the job poller: a :class:`Subscription` per wait, a :class:`TrackedJob`
per job.

The poller (``poller.JobPoller``) creates subscriptions and delivers to them; a subscription
only knows the poller through the small :class:`Source` protocol below, so this module does not
import the poller. A :class:`TrackedJob` is what the poller knows of one job, shared by every
subscription that waits on it: its latest detail (never with environment values: see
:func:`without_environment`), its schedule, and how far it has got (:func:`progress`), by which
events and DescribeJobs answers that arrive late or twice are told from news.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .._errors import WaitTimeoutError
from .._models.jobs import JobDetail

__all__ = [
    "Source",
    "Subscription",
    "TrackedJob",
    "change_key",
    "progress",
    "without_environment",
]


class Source(Protocol):
    """What a subscription needs of the poller that feeds it."""

    def last_seen(self, job_id: str) -> JobDetail | None:
        """The latest detail seen of a job, or ``None``."""
        ...

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop delivering to ``subscription``."""
        ...


class Subscription:
    """What one wait receives from the poller: job details, in the order seen, or an error.

    Iterate it (``async for job in subscription``) or ``await subscription.get()``; iteration
    ends once every job delivered its terminal detail. An error (timeout, not found, a failed
    DescribeJobs) is raised from :meth:`get` after the details delivered before it.
    :meth:`close` it when done: closing ends the wait only, it never touches the AWS jobs.

    Args:
        source: The poller that delivers to it.
        job_ids: The jobs (duplicates are waited on once).
        every_change: Deliver each observed change, not only the terminal detail.

    Attributes:
        job_ids: The jobs, without duplicates, in the order given.
        every_change: Whether each observed change is delivered, or only terminal details.
        pending: The jobs whose terminal detail has not been delivered yet.
        span: The wait's OpenTelemetry span (``_telemetry/hooks.py``), or ``None``.
    """

    span: Any = None
    span_started = 0.0

    def __init__(self, source: Source, job_ids: Iterable[str], *, every_change: bool) -> None:
        self.job_ids = list(dict.fromkeys(job_ids))
        self.every_change = every_change
        self.pending = set(self.job_ids)
        self._source = source
        self._items: deque[JobDetail | BaseException] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    def __aiter__(self) -> Subscription:
        return self

    @property
    def exhausted(self) -> bool:
        """True once every delivered item has been taken and nothing more will come."""
        return not self._items and not self.pending

    @property
    def ready(self) -> bool:
        """True when :meth:`get` returns (or raises) without waiting."""
        return bool(self._items)

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
            BatchError: DescribeJobs failed with an error that is not retried, the poller
                stopped on an unexpected error (the original is the ``__cause__``), or the
                service was closed (:class:`ServiceClosedError`).
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
        self._source.unsubscribe(self)

    def arm(self, timeout: float) -> None:
        """Raise :class:`WaitTimeoutError` from :meth:`get` after ``timeout`` seconds.

        Args:
            timeout: Seconds, on the event loop's clock.
        """
        self._timer = asyncio.get_running_loop().call_later(timeout, self._expire, timeout)

    def put(self, item: JobDetail | BaseException) -> None:
        """Deliver a detail or an error (called by the poller).

        Args:
            item: What :meth:`get` returns or raises next.
        """
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def finish(self, job_id: str, outcome: JobDetail | BaseException) -> None:
        """Deliver a job's terminal detail or final error (called by the poller).

        Args:
            job_id: The job.
            outcome: Its terminal detail, or the error its waits raise.
        """
        if job_id in self.pending:
            self.pending.discard(job_id)
            self.put(outcome)

    def _expire(self, timeout: float) -> None:
        self._timer = None
        job_id = next((i for i in self.job_ids if i in self.pending), None)
        if job_id is None:
            return
        last = self._source.last_seen(job_id)
        self.pending.clear()
        self._source.unsubscribe(self)
        self.put(WaitTimeoutError(job_id, last, timeout))


@dataclass(eq=False, slots=True)
class TrackedJob:
    """One tracked job, shared by every subscription that waits on it (the poller's record)."""

    job_id: str
    registered: float
    serial: int  # order of first wait: the order of the ids in a sweep
    subscribers: dict[Subscription, object] = field(default_factory=dict)
    due: float = 0.0
    early: float = 0.0
    stamp: int = 0  # which heap entries are live (0: none)
    level: int = 0
    key: object = None
    raw: dict[str, Any] | None = None  # without environment values
    cached: JobDetail | None = None
    missing_since: float | None = None
    grace: float = 0.0  # seconds it may be absent from DescribeJobs before JobNotFoundError
    order: tuple[int, int, int] = (-1, -1, -1)  # progress() of raw, when events feed the waits
    parse: Callable[[Any], JobDetail] = JobDetail.model_validate  # the poller's detail model

    def detail(self) -> JobDetail:
        """The latest detail as a :class:`JobDetail` (validated once per detail), or as the
        poller's own model (service jobs: ``_service_jobs/client.py``).

        Raises:
            ValueError: The detail does not validate.
        """
        if self.cached is None:
            self.cached = self.parse(self.raw)
        return self.cached


def change_key(raw: dict[str, Any]) -> object:
    """What must change for ``watch`` to yield: the status, and an array's status summary."""
    status = raw.get("status")
    array = raw.get("arrayProperties")
    summary = array.get("statusSummary") if isinstance(array, dict) else None
    if not summary:
        return status
    return status, tuple(sorted(summary.items()))


#: How far along its life each status is; SUCCEEDED and FAILED share the last rank.
STATUS_RANK = {
    "SUBMITTED": 0,
    "PENDING": 1,
    "RUNNABLE": 2,
    "STARTING": 3,
    "RUNNING": 4,
    "SUCCEEDED": 5,
    "FAILED": 5,
}


def progress(raw: dict[str, Any]) -> tuple[int, int, int]:
    """How far a job has got: (attempts made, status rank, array children's progress).

    Jobs only move forward: a retry goes back to RUNNABLE but with one attempt more, and an
    array's children only move on, so a detail with a lower value than one already seen is
    stale (an event delivered late, or an eventually consistent DescribeJobs answer), and an
    equal value is a duplicate.
    """
    attempts = raw.get("attempts")
    made = len(attempts) if isinstance(attempts, list) else 0
    rank = STATUS_RANK.get(raw.get("status"), -1)  # type: ignore[arg-type]
    array = raw.get("arrayProperties")
    summary = array.get("statusSummary") if isinstance(array, dict) else None
    children = 0
    if isinstance(summary, dict):
        for status, count in summary.items():
            if isinstance(count, int):
                children += STATUS_RANK.get(status, 0) * count
    return made, rank, children


# ---------------------------------------------------------------------------------------------
# Environment values are secrets: the poller keeps none. Every place botocore's model has them
# in a JobDetail ("[]": each item of a list); only the dicts and lists on the way are copied.

_ENV_PATHS = tuple(
    tuple(path.split("."))
    for path in (
        "container.environment",
        "ecsProperties.taskProperties.[].containers.[].environment",
        "eksProperties.podProperties.containers.[].env",
        "eksProperties.podProperties.initContainers.[].env",
        "nodeProperties.nodeRangeProperties.[].container.environment",
        "nodeProperties.nodeRangeProperties.[].ecsProperties.taskProperties.[].containers.[]"
        ".environment",
        "nodeProperties.nodeRangeProperties.[].eksProperties.podProperties.containers.[].env",
        "nodeProperties.nodeRangeProperties.[].eksProperties.podProperties.initContainers.[].env",
    )
)


def without_environment(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` without environment values (copies only the dicts and lists on the way)."""
    for path in _ENV_PATHS:
        if path[0] in raw:
            raw = _drop(raw, path)
    return raw


def _drop(value: Any, path: tuple[str, ...]) -> Any:
    """``value`` without the key at the end of ``path``; ``value`` itself if it has none."""
    step, rest = path[0], path[1:]
    if step == "[]":
        if not isinstance(value, list):
            return value
        items = [_drop(item, rest) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if not isinstance(value, dict) or step not in value:
        return value
    if not rest:
        return {key: item for key, item in value.items() if key != step}
    inner = _drop(value[step], rest)
    return value if inner is value[step] else {**value, step: inner}
