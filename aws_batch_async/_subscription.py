"""What one wait receives from the job poller: a :class:`Subscription`.

The poller (``_watcher.JobPoller``) creates subscriptions and delivers to them; a subscription
only knows the poller through the small :class:`Source` protocol below, so this module does not
import the poller.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import Protocol

from ._errors import WaitTimeoutError
from ._models import JobDetail

__all__ = ["Source", "Subscription"]


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
    """

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
