"""SageMaker service jobs: the part of :class:`~aws_batch_async.BatchService` behind
``submit_service_job``, ``describe_service_job``, listing, stopping, priority updates and
``wait_for_service_job``.

The work is in ``_service_jobs/client.py``, loaded on first use, and the models in
``_service_jobs/models.py``.
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

__all__ = ["ServiceJobHandling"]


class ServiceJobHandling:
    """Checks the arguments of the service-job methods and hands them to ``ServiceJobs``.

    ``ServiceJobs`` (``_service_jobs/client.py``: its own limiter and poller) is created by the
    first call and closed by :meth:`aclose`.

    Args:
        clients: The service's clients.
        config: The service's configuration.
        logger: Where to log.
    """

    def __init__(self, clients: Clients, config: BatchConfig, logger: logging.Logger) -> None:
        self._clients = clients
        self._config = config
        self._logger = logger
        self._calls: ServiceJobs | None = None

    @property
    def created_calls(self) -> ServiceJobs | None:
        """The ``ServiceJobs`` if a call created it, else ``None``; never creates it."""
        return self._calls

    def calls(self) -> ServiceJobs:
        """The service-job calls (created on first use), once the service is open.

        Raises:
            ServiceClosedError: The service is not open.
        """
        self._clients.batch()
        if self._calls is None:
            from .client import ServiceJobs

            self._calls = ServiceJobs(self._clients.call, self._config, self._logger)
        return self._calls

    async def aclose(self) -> None:
        """Stop the service-job waits (if any call created them)."""
        calls, self._calls = self._calls, None
        if calls is not None:
            await calls.aclose()

    async def submit(self, request: ServiceJobRequest, retry: SubmitRetry | None) -> JobResponse:
        """``BatchService.submit_service_job``."""
        from .models import ServiceJobRequest

        if not isinstance(request, ServiceJobRequest):
            raise TypeError("submit_service_job takes a ServiceJobRequest")
        calls = self.calls()
        job = await calls.submit(request, retry or SubmitRetry())
        calls.note_submitted(job.job_id)  # a wait on it gets the not-found grace
        return job

    async def describe(self, job_id: str) -> ServiceJobDetail:
        """``BatchService.describe_service_job``."""
        check_job_id(job_id)
        return await self.calls().describe(job_id)

    def listing(
        self,
        job_queue: str | None,
        job_status: str | None,
        job_name: str | None,
        page_size: int | None,
    ) -> AsyncGenerator[ServiceJobSummary, None]:
        """``BatchService.list_service_jobs``."""
        return self.calls().listing(job_queue, job_status, job_name, page_size)

    async def terminate(self, job_id: str, reason: str) -> None:
        """``BatchService.terminate_service_job``."""
        from .client import check_args

        check_args(job_id, reason)
        await self.calls().terminate(job_id, reason)

    async def terminate_many(self, job_ids: Iterable[str], reason: str) -> BulkStopResult:
        """``BatchService.terminate_service_jobs``."""
        from .client import check_service_job_ids

        ids = check_service_job_ids(job_ids)
        check_reason(reason)
        return await self.calls().terminate_many(ids, reason)

    async def update(self, job_id: str, scheduling_priority: int) -> JobResponse:
        """``BatchService.update_service_job``."""
        check_job_id(job_id)
        check_int(scheduling_priority, "scheduling_priority", low=0, high=9999)
        return await self.calls().update(job_id, scheduling_priority)

    async def wait(
        self, job_id: str, timeout: float | None, raise_on_failure: bool
    ) -> ServiceJobDetail:
        """``BatchService.wait_for_service_job``."""
        from .client import check_args

        check_args(job_id, timeout=timeout)
        return await self.calls().wait(job_id, timeout, raise_on_failure)
