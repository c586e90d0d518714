"""Waiting: the part of :class:`~aws_batch_async.BatchService` behind ``wait_for``, ``watch``
and ``as_completed``, served by the service's one poller.

The poller is ``_waiting/poller.py``, or with ``BatchConfig.events`` its event-fed form and the
SQS consumer in ``_waiting/event_feed.py``; they load with the first wait (or submit).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .._config import BatchConfig
from .._errors import JobFailedError
from .._models.arguments import check_job_id, check_job_ids, check_timeout
from .._models.jobs import JobDetail, JobStatus
from .._transport.clients import Clients
from .._types import DescribeFn

if TYPE_CHECKING:  # imported on first use: a service that never waits does not load them
    from .poller import Poller
    from .stuck import StuckTracker
    from .subscription import Subscription

__all__ = ["Waiting"]


class Waiting:
    """Serves every wait of the service from its one poller (created on first use).

    Args:
        clients: The service's clients (the SQS calls of the event feed go through them).
        config: The service's configuration (``poll``, ``events``, ``stuck_after``).
        logger: Where to log.
        describe: The service's one DescribeJobs call (at most 100 ids; raw jobs).
        explain: The service's ``explain``, asked when a job is stuck.
    """

    def __init__(
        self,
        clients: Clients,
        config: BatchConfig,
        logger: logging.Logger,
        *,
        describe: DescribeFn,
        explain: Callable[[str], Awaitable[Any]],
    ) -> None:
        self._clients = clients
        self._config = config
        self._logger = logger
        self._describe = describe
        self._explain = explain
        self._poller: Poller | None = None

    @property
    def created_poller(self) -> Poller | None:
        """The poller if a wait (or a submit) created it, else ``None``; never creates it."""
        return self._poller

    async def aclose(self) -> None:
        """Stop the poller: open waits fail with ``ServiceClosedError``.

        The poller is dropped only once its task ended, so that a second ``aclose()``
        finishes what a cancelled one left.
        """
        if self._poller is not None:
            await self._poller.aclose()
            self._poller = None

    async def wait_for(
        self,
        job_id: str,
        *,
        timeout: float | None,
        raise_on_failure: bool,
        stuck_after: float | None,
    ) -> JobDetail:
        """``BatchService.wait_for``: one subscription, the stuck check if asked."""
        check_job_id(job_id)
        check_timeout(timeout)
        stuck = self._stuck_tracker(stuck_after)
        subscription = self.poller().subscribe(
            [job_id], every_change=stuck is not None, timeout=timeout
        )
        try:
            job = await subscription.get() if stuck is None else await stuck.next(subscription.get)
            while not job.is_terminal:
                assert stuck is not None  # only every_change subscriptions deliver these
                job = await stuck.next(subscription.get)
        finally:
            subscription.close()
        if raise_on_failure and job.status is JobStatus.FAILED:
            raise JobFailedError(job)
        return job

    async def watch(
        self, job_id: str, *, timeout: float | None, stuck_after: float | None
    ) -> AsyncGenerator[JobDetail, None]:
        """``BatchService.watch``: every change of one job until it is terminal."""
        check_job_id(job_id)
        check_timeout(timeout)
        stuck = self._stuck_tracker(stuck_after)
        subscription = self.poller().subscribe([job_id], every_change=True, timeout=timeout)
        try:
            if stuck is None:
                async for job in subscription:
                    yield job
            else:
                while not subscription.exhausted:
                    yield await stuck.next(subscription.get)
        finally:
            subscription.close()

    async def as_completed(
        self,
        job_ids: Iterable[str],
        *,
        timeout: float | None,
        stuck_after: float | None,
    ) -> AsyncGenerator[JobDetail, None]:
        """``BatchService.as_completed``: each job once, when it is terminal."""
        if isinstance(job_ids, str):
            raise TypeError("as_completed takes a list of job ids, not a string")
        ids = check_job_ids(job_ids)
        check_timeout(timeout)
        if not ids:
            return
        stuck = self._stuck_tracker(stuck_after)
        subscription = self.poller().subscribe(ids, every_change=stuck is not None, timeout=timeout)
        try:
            if stuck is None:
                async for job in subscription:
                    yield job
            else:
                while not subscription.exhausted:
                    job = await stuck.next(subscription.get)
                    if job.is_terminal:
                        yield job
        finally:
            subscription.close()

    def note_submitted(self, job_id: str) -> None:
        """Tell the poller this service submitted ``job_id`` (its waits get the not-found grace).

        Never raises: a submit that succeeded while the service began closing keeps its job.
        """
        if self._clients.is_closed:
            return
        self.poller().note_submitted(job_id)

    def follow_changes(self, job_ids: Sequence[str]) -> Subscription:
        """Every change of jobs, from the service's poller (fed by events when configured)."""
        return self.poller().subscribe(job_ids, every_change=True)

    def poller(self) -> Poller:
        """The service's one poller, created on first use."""
        self._clients.batch()
        if self._poller is None:
            from .poller import JobPoller

            events = self._config.events
            if events is None:
                self._poller = JobPoller(
                    self._describe,
                    self._config.poll,
                    logger=self._logger,
                    telemetry=self._clients.telemetry,
                )
            else:
                from .event_feed import EventConsumer, EventFedPoller

                poller = EventFedPoller(
                    self._describe,
                    self._config.poll,
                    reconcile_interval=events.reconcile_interval,
                    logger=self._logger,
                    telemetry=self._clients.telemetry,
                )
                poller.feed = EventConsumer(
                    poller,
                    functools.partial(self._clients.call_service, "sqs"),
                    events,
                    self._config.poll,
                    logger=self._logger,
                    read_timeout=self._config.read_timeout,
                )
                self._poller = poller
        return self._poller

    def _stuck_tracker(self, stuck_after: float | None) -> StuckTracker | None:
        """A tracker for a wait's ``stuck_after`` (or the config's), or ``None`` for none."""
        if stuck_after is not None:
            check_timeout(stuck_after, "stuck_after")
        seconds = stuck_after if stuck_after is not None else self._config.stuck_after
        if seconds is None or math.isinf(seconds):  # math.inf: never stuck
            return None
        from .stuck import StuckTracker

        return StuckTracker(seconds, self._explain)
