"""SageMaker service jobs: ``submit_service_job``, ``describe_service_job``, listing, stopping,
priority updates and ``wait_for_service_job``.

A part of :class:`~aws_batch_async.BatchService` (a mixin); the work is in
``_service_jobs/client.py``,
loaded on first use, and the models in ``_service_jobs/models.py``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Iterable
from typing import TYPE_CHECKING

from .._config import BatchConfig, SubmitRetry
from .._models.arguments import check_int, check_job_id, check_reason
from .._models.jobs import JobResponse
from .._transport.clients import Clients

if TYPE_CHECKING:  # imported on first use: most services never submit a service job
    from .._operations.bulk_stop import BulkStopResult
    from .client import ServiceJobs
    from .models import ServiceJobDetail, ServiceJobRequest, ServiceJobSummary

__all__ = ["ServiceJobsMixin"]


class ServiceJobsMixin:
    """The SageMaker service-job methods of :class:`~aws_batch_async.BatchService`."""

    config: BatchConfig
    logger: logging.Logger
    _clients: Clients
    _service_jobs: ServiceJobs | None

    async def submit_service_job(
        self, request: ServiceJobRequest, *, retry: SubmitRetry | None = None
    ) -> JobResponse:
        """Submit a SageMaker service job, exactly once.

        The call carries AWS's ``clientToken`` (``request.client_token``, or a new uuid4). A
        send whose answer is lost is re-sent with the same token; AWS refuses a second request
        with the same token and payload, so the job the first send created is then looked up
        (same name, queue and payload) and returned: never two jobs. Submits are paced at 5
        calls a second (AWS's SubmitServiceJob quota), slowing down on throttling.

        Args:
            request: The job.
            retry: The submission's retry budget (re-sends, lookup delays, timeout);
                :class:`SubmitRetry` defaults if omitted.

        Returns:
            The job's id, name and ARN.

        Raises:
            ConfigurationError: No queue given or configured.
            SubmitOutcomeUnknownError: A send's outcome stayed unknown and no job was found.
            ThrottlingError: Throttled beyond ``SubmitRetry.max_throttled``.
            BatchAPIError: AWS refused the request.
            BatchConnectionError: The endpoint could not be reached.
            ServiceClosedError: The service is not open.
        """
        from .models import ServiceJobRequest

        if not isinstance(request, ServiceJobRequest):
            raise TypeError("submit_service_job takes a ServiceJobRequest")
        return await self._service_job_calls().submit(request, retry or SubmitRetry())

    async def describe_service_job(self, job_id: str) -> ServiceJobDetail:
        """Describe one service job (DescribeServiceJob).

        Args:
            job_id: The job's id.

        Returns:
            Its :class:`ServiceJobDetail`.

        Raises:
            JobNotFoundError: AWS does not know the id.
            BatchAPIError: AWS answered with another error.
            ServiceClosedError: The service is not open.
        """
        check_job_id(job_id)
        return await self._service_job_calls().describe(job_id)

    def list_service_jobs(
        self,
        job_queue: str | None = None,
        job_status: str | None = None,
        *,
        job_name: str | None = None,
        page_size: int | None = None,
    ) -> AsyncGenerator[ServiceJobSummary, None]:
        """Yield the service jobs of a queue across every page: of **every** status (each
        job once) when ``job_status`` is None, unlike bare ListServiceJobs.

        Args:
            job_queue: Queue name or ARN; defaults to the config's ``job_queue``.
            job_status: Only jobs in this status (``"SCHEDULED"``...).
            job_name: Only jobs of this name (a trailing ``*`` matches a prefix); every status.
            page_size: Jobs per ListServiceJobs call (1..1000).

        Returns:
            An async iterator of :class:`ServiceJobSummary`.

        Raises:
            ConfigurationError: No queue given or configured.
            ValueError: A bad status or page size.
            ServiceClosedError: The service is not open.
            BatchAPIError: (while iterating) AWS answered with an error.
        """
        return self._service_job_calls().listing(job_queue, job_status, job_name, page_size)

    async def terminate_service_job(self, job_id: str, reason: str) -> None:
        """Terminate a service job (TerminateServiceJob); it ends FAILED.

        Args:
            job_id: The job's id.
            reason: Why (1-1024 characters).

        Raises:
            TypeError: ``job_id`` or ``reason`` is not a string.
            ValueError: Empty id or bad reason.
            BatchAPIError: AWS answered with an error.
            ServiceClosedError: The service is not open.
        """
        from .client import check_args

        check_args(job_id, reason)
        await self._service_job_calls().terminate(job_id, reason)

    async def terminate_service_jobs(self, job_ids: Iterable[str], reason: str) -> BulkStopResult:
        """Terminate many service jobs: TerminateServiceJobs, 50 ids a call (one
        TerminateServiceJob per job where the endpoint lacks the bulk operation).

        Args:
            job_ids: The jobs; duplicates are sent once.
            reason: Why (1-1024 characters).

        Returns:
            Which ids AWS accepted and the error of each one it refused.

        Raises:
            TypeError: ``job_ids`` is a string, or ``reason`` is not one.
            ValueError: An empty id or a bad reason.
            ServiceClosedError: The service is not open.
        """
        from .client import check_service_job_ids

        ids = check_service_job_ids(job_ids)
        check_reason(reason)
        return await self._service_job_calls().terminate_many(ids, reason)

    async def update_service_job(self, job_id: str, *, scheduling_priority: int) -> JobResponse:
        """Change a service job's scheduling priority (UpdateServiceJob).

        Args:
            job_id: The job's id.
            scheduling_priority: 0..9999.

        Returns:
            The job's id, name and ARN.

        Raises:
            TypeError: An argument of the wrong type.
            ValueError: Empty id or priority out of range.
            BatchAPIError: AWS answered with an error.
            ServiceClosedError: The service is not open.
        """
        check_job_id(job_id)
        check_int(scheduling_priority, "scheduling_priority", low=0, high=9999)
        return await self._service_job_calls().update(job_id, scheduling_priority)

    async def wait_for_service_job(
        self, job_id: str, *, timeout: float | None = None, raise_on_failure: bool = True
    ) -> ServiceJobDetail:
        """Wait until a service job is SUCCEEDED or FAILED.

        Served by a poller like :meth:`wait_for`'s (``PollPolicy`` backoff; one
        DescribeServiceJob per job and sweep, at most ``max_concurrent_calls`` in flight).
        Cancelling the wait leaves the job running.

        Args:
            job_id: The job's id.
            timeout: Seconds to wait at most; ``None`` waits as long as it takes.
            raise_on_failure: Raise :class:`JobFailedError` (``.job`` is the
                :class:`ServiceJobDetail`) when the job ends FAILED.

        Returns:
            The terminal :class:`ServiceJobDetail`.

        Raises:
            JobFailedError: The job ended FAILED.
            WaitTimeoutError: ``timeout`` elapsed first (also a ``TimeoutError``).
            JobNotFoundError: Not found for ``PollPolicy.not_found_grace`` seconds.
            BatchAPIError: DescribeServiceJob failed with an error retrying cannot fix.
            ServiceClosedError: The service is not open, or was closed while waiting.
        """
        from .client import check_args

        check_args(job_id, timeout=timeout)
        return await self._service_job_calls().wait(job_id, timeout, raise_on_failure)

    def _service_job_calls(self) -> ServiceJobs:
        self._clients.batch()
        if self._service_jobs is None:
            from .client import ServiceJobs

            self._service_jobs = ServiceJobs(self._clients.call, self.config, self.logger)
        return self._service_jobs
