"""Waiting: ``wait_for``, ``watch`` and ``as_completed``, served by the service's one poller.

A part of :class:`~aws_batch_async.BatchService` (a mixin); the poller is ``_waiting/poller.py``, or
with ``BatchConfig.events`` its event-fed form and the SQS consumer in ``_waiting/event_feed.py``.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast

from .._config import BatchConfig
from .._errors import JobFailedError
from .._models.arguments import check_job_id, check_job_ids, check_timeout
from .._models.jobs import JobDetail, JobStatus
from .._transport.clients import Clients

if TYPE_CHECKING:  # imported on first use: a service that never waits does not load them
    from .poller import Poller
    from .stuck import StuckTracker
    from .subscription import Subscription

__all__ = ["WaitingMixin"]


class _Explains(Protocol):
    """What the stuck check needs of the service: ``OperationsMixin.explain``."""

    def explain(self, job_id: str, /) -> Awaitable[Any]: ...


class WaitingMixin:
    """The waiting methods of :class:`~aws_batch_async.BatchService`."""

    config: BatchConfig
    logger: logging.Logger
    _clients: Clients
    _poller: Poller | None
    _describe_raw: Callable[[Sequence[str]], Awaitable[list[dict[str, Any]]]]

    async def wait_for(
        self,
        job_id: str,
        *,
        timeout: float | None = None,
        raise_on_failure: bool = True,
        stuck_after: float | None = None,
    ) -> JobDetail:
        """Wait until a job is SUCCEEDED or FAILED.

        Every wait of the service is served by one poller that describes the waited-for jobs
        together, 100 ids per DescribeJobs call (see :class:`~aws_batch_async.PollPolicy` and
        ``docs/waiting.md``). Throttling, server and connection errors never fail a wait.
        Cancelling the awaiting task cancels the wait only: the AWS job keeps running.

        Args:
            job_id: The job's id.
            timeout: Seconds to wait at most; ``None`` (or ``math.inf``) waits as long as it
                takes.
            raise_on_failure: Raise :class:`JobFailedError` when the job ends FAILED; when
                false, return the FAILED job.
            stuck_after: Seconds the job may stay SUBMITTED, PENDING or RUNNABLE (from the
                first poll that saw it there) before :class:`JobStuckError` is raised;
                ``BatchConfig.stuck_after`` if omitted (``None``: never).

        Returns:
            The job's terminal :class:`JobDetail`.

        Raises:
            JobFailedError: The job ended FAILED (``.job`` has its reason and exit code).
            JobStuckError: The job did not start within ``stuck_after`` (``.diagnosis`` says
                why); the job keeps existing.
            WaitTimeoutError: ``timeout`` elapsed first (also a ``TimeoutError``).
            JobNotFoundError: DescribeJobs does not know the job: at its first answer, or
                after ``PollPolicy.not_found_grace`` seconds for a job this service submitted.
            BatchAPIError: DescribeJobs failed with an error retrying cannot fix.
            BatchError: The poller failed unexpectedly (the cause is attached).
            ServiceClosedError: The service is not open, or was closed while waiting.
            TypeError: ``job_id`` or ``timeout`` of the wrong type.
            ValueError: An empty id, or a timeout or ``stuck_after`` that is negative, NaN or
                beyond a float.
        """
        check_job_id(job_id)
        check_timeout(timeout)
        stuck = self._stuck_tracker(stuck_after)
        subscription = self._job_poller().subscribe(
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
        self, job_id: str, *, timeout: float | None = None, stuck_after: float | None = None
    ) -> AsyncGenerator[JobDetail, None]:
        """Follow a job: yield its detail each time its status changes, until it is terminal.

        An array parent is also yielded when its children's status summary changes. A status
        that starts and ends between two polls is not seen. Breaking out of the loop ends the
        watch only (use ``contextlib.aclosing`` to end it promptly).

        Args:
            job_id: The job's id.
            timeout: Seconds, from the first iteration, that the whole watch may take.
            stuck_after: As for :meth:`wait_for`.

        Yields:
            :class:`JobDetail` objects; the last one is SUCCEEDED or FAILED (not raised).

        Raises:
            JobStuckError: The job did not start within ``stuck_after``.
            WaitTimeoutError: ``timeout`` elapsed before the job was terminal.
            JobNotFoundError: DescribeJobs does not know the job (see :meth:`wait_for`).
            BatchAPIError: DescribeJobs failed with an error retrying cannot fix.
            BatchError: The poller failed unexpectedly.
            ServiceClosedError: The service is not open, or was closed while watching.
            TypeError: ``job_id`` or ``timeout`` of the wrong type.
            ValueError: An empty id, or a timeout or ``stuck_after`` that is negative, NaN or
                beyond a float.
        """
        check_job_id(job_id)
        check_timeout(timeout)
        stuck = self._stuck_tracker(stuck_after)
        subscription = self._job_poller().subscribe([job_id], every_change=True, timeout=timeout)
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
        timeout: float | None = None,
        stuck_after: float | None = None,
    ) -> AsyncGenerator[JobDetail, None]:
        """Yield each job once, when it is terminal, in the order they finish.

        FAILED jobs are yielded like SUCCEEDED ones: check ``job.status``. Breaking out of the
        loop ends these waits only; the AWS jobs keep running.

        Args:
            job_ids: The jobs; duplicates are yielded once.
            timeout: Seconds, from the first iteration, for all the jobs to finish.
            stuck_after: As for :meth:`wait_for`, for each job.

        Yields:
            Terminal :class:`JobDetail` objects, in completion order.

        Raises:
            JobStuckError: A job did not start within ``stuck_after`` (the error names it).
            WaitTimeoutError: ``timeout`` elapsed first; it names the first unfinished job.
            JobNotFoundError: DescribeJobs does not know a job (see :meth:`wait_for`).
            BatchAPIError: DescribeJobs failed with an error retrying cannot fix.
            BatchError: The poller failed unexpectedly.
            ServiceClosedError: The service is not open, or was closed while waiting.
            TypeError: ``job_ids`` is a single string.
            ValueError: An id is empty, or the timeout or ``stuck_after`` is negative, NaN or
                beyond a float.
        """
        if isinstance(job_ids, str):
            raise TypeError("as_completed takes a list of job ids, not a string")
        ids = check_job_ids(job_ids)
        check_timeout(timeout)
        if not ids:
            return
        stuck = self._stuck_tracker(stuck_after)
        subscription = self._job_poller().subscribe(
            ids, every_change=stuck is not None, timeout=timeout
        )
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

    def _stuck_tracker(self, stuck_after: float | None) -> StuckTracker | None:
        """A tracker for a wait's ``stuck_after`` (or the config's), or ``None`` for none."""
        if stuck_after is not None:
            check_timeout(stuck_after, "stuck_after")
        seconds = stuck_after if stuck_after is not None else self.config.stuck_after
        if seconds is None or math.isinf(seconds):  # math.inf: never stuck
            return None
        from .stuck import StuckTracker

        return StuckTracker(seconds, cast("_Explains", self).explain)

    def _note_submitted(self, job_id: str) -> None:
        """Tell the poller this service submitted ``job_id`` (its waits get the not-found grace).

        Never raises: a submit that succeeded while the service began closing keeps its job.
        """
        if self._clients.is_closed:
            return
        self._job_poller().note_submitted(job_id)

    def _submit_call(self) -> Callable[..., Awaitable[dict[str, Any]]]:
        """The service's Batch call, noting the id of every job SubmitJob created."""
        call = self._clients.call

        async def noting(operation: str, /, **params: Any) -> dict[str, Any]:
            response = await call(operation, **params)
            if operation == "SubmitJob":
                job_id = response.get("jobId")
                if isinstance(job_id, str):
                    self._note_submitted(job_id)
            return response

        return noting

    def _follow_changes(self, job_ids: Sequence[str]) -> Subscription:
        """Every change of jobs, from the service's poller (fed by events when configured)."""
        return self._job_poller().subscribe(job_ids, every_change=True)

    def _job_poller(self) -> Poller:
        """The service's one poller, created on first use."""
        self._clients.batch()
        if self._poller is None:
            from .poller import JobPoller

            events = self.config.events
            if events is None:
                self._poller = JobPoller(
                    self._describe_raw,
                    self.config.poll,
                    logger=self.logger,
                    telemetry=self._clients.telemetry,
                )
            else:
                from .event_feed import EventConsumer, EventFedPoller

                poller = EventFedPoller(
                    self._describe_raw,
                    self.config.poll,
                    reconcile_interval=events.reconcile_interval,
                    logger=self.logger,
                    telemetry=self._clients.telemetry,
                )
                poller.feed = EventConsumer(
                    poller,
                    functools.partial(self._clients.call_service, "sqs"),
                    events,
                    self.config.poll,
                    logger=self.logger,
                    read_timeout=self.config.read_timeout,
                )
                self._poller = poller
        return self._poller
