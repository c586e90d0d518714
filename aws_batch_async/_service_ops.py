"""Stopping jobs: ``cancel_job``, ``terminate_job`` and ``stop_job``.

A part of :class:`~aws_batch_async.BatchService` (a mixin).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from ._client import Clients
from ._models import JobDetail, JobStatus
from ._validate import check_job_id, check_reason

__all__ = ["StoppingMixin"]


class StoppingMixin:
    """The stopping methods of :class:`~aws_batch_async.BatchService`."""

    logger: logging.Logger
    _clients: Clients
    _seen_status: OrderedDict[str, JobStatus]

    get_job_status: Callable[[str], Awaitable[JobDetail]]  # BatchService's

    async def cancel_job(self, job_id: str, reason: str) -> None:
        """Cancel a job that has not started (SUBMITTED, PENDING or RUNNABLE); it becomes FAILED.

        AWS's CancelJob does **nothing** to a STARTING or RUNNING job and still reports
        success; a warning is logged when this service last saw the job started. Use
        :meth:`stop_job` to stop a job whatever its status.

        Args:
            job_id: The job's id.
            reason: Why (1-1024 characters); shown as the job's status reason.

        Raises:
            TypeError: ``job_id`` or ``reason`` is not a string.
            ValueError: Empty id or bad reason.
            BatchAPIError: AWS answered with an error.
            ServiceClosedError: The service is not open.
        """
        check_job_id(job_id)
        check_reason(reason)
        seen = self._seen_status.get(job_id)
        if seen is not None and seen.has_started:
            self.logger.warning(
                "CancelJob on job %s, last seen %s: AWS ignores CancelJob once a job has "
                "started; use stop_job() or terminate_job()",
                job_id,
                seen.value,
            )
        await self._clients.call("CancelJob", jobId=job_id, reason=reason)
        self.logger.info("cancel requested for job %s", job_id)

    async def terminate_job(self, job_id: str, reason: str) -> None:
        """Terminate a job: STARTING/RUNNING jobs are stopped, earlier ones cancelled.

        Args:
            job_id: The job's id.
            reason: Why (1-1024 characters); shown as the job's status reason.

        Raises:
            TypeError: ``job_id`` or ``reason`` is not a string.
            ValueError: Empty id or bad reason.
            BatchAPIError: AWS answered with an error.
            ServiceClosedError: The service is not open.
        """
        check_job_id(job_id)
        check_reason(reason)
        await self._clients.call("TerminateJob", jobId=job_id, reason=reason)
        self.logger.info("terminate requested for job %s", job_id)

    async def stop_job(self, job_id: str, reason: str) -> JobDetail:
        """Stop a job whatever its status; a finished job is left alone.

        Sends TerminateJob for every job that is not terminal: it cancels a job that has not
        started and stops one that has, so a job that starts while this runs is stopped too
        (CancelJob would silently do nothing to it).

        Args:
            job_id: The job's id.
            reason: Why (1-1024 characters).

        Returns:
            The job as it was described before acting.

        Raises:
            TypeError: ``job_id`` or ``reason`` is not a string.
            ValueError: Empty id or bad reason.
            JobNotFoundError: AWS does not know the id.
            BatchAPIError: AWS answered with an error.
            ServiceClosedError: The service is not open.
        """
        check_job_id(job_id)
        check_reason(reason)
        job = await self.get_job_status(job_id)
        if job.is_terminal:
            self.logger.debug("job %s already %s; nothing to stop", job_id, job.status.value)
        else:
            await self.terminate_job(job_id, reason)
        return job
