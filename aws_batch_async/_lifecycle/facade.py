"""A job's whole life: the part of :class:`~aws_batch_async.BatchService` behind ``run_job``,
``resubmit`` and ``request_of``.

The work is in ``_lifecycle/run_job.py`` (run, resubmit), ``_lifecycle/rebuild.py`` (a request
from a job's details), ``_lifecycle/resubmit.py`` (the policy and its changes) and
``_lifecycle/failure.py`` (why a job failed). They load on first use.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._models.arguments import check_job_id
from .._models.jobs import JobDetail, JobResponse, LogEvent

if TYPE_CHECKING:
    from .._models.requests import JobRequest
    from .._submitting.facade import Submitting
    from .resubmit import Change, ResubmitPolicy
    from .run_job import Describe, GetLogs, JobLife, OnCancel, Terminate, WaitFor

__all__ = ["Lifecycle"]


class Lifecycle:
    """Runs the service's jobs to the end, resubmits them, rebuilds their requests.

    Args:
        submitting: The service's submitting part (its checks and its tagged submit).
        wait_for: The service's ``wait_for``.
        get_logs: The service's ``get_logs``.
        terminate: The service's ``terminate_job``.
        describe: The service's ``get_job_status``.
        logger: Where to log.
    """

    def __init__(
        self,
        submitting: Submitting,
        *,
        wait_for: WaitFor,
        get_logs: GetLogs,
        terminate: Terminate,
        describe: Describe,
        logger: logging.Logger,
    ) -> None:
        self._submitting = submitting
        self._wait_for = wait_for
        self._get_logs = get_logs
        self._terminate = terminate
        self._describe = describe
        self._logger = logger

    async def run_job(
        self,
        request: JobRequest,
        *,
        timeout: float | None,
        on_cancel: OnCancel,
        on_submitted: Callable[[JobResponse], object] | None,
        logs: Callable[[LogEvent], object] | None,
        stuck_after: float | None,
        resubmit: ResubmitPolicy | None,
    ) -> JobDetail:
        """``BatchService.run_job``: every argument checked, then the run."""
        from .._models.arguments import check_timeout
        from .resubmit import ResubmitPolicy

        check_timeout(timeout)
        if on_cancel not in ("terminate", "detach"):
            raise ValueError('on_cancel must be "terminate" or "detach"')
        for name, callback in (("on_submitted", on_submitted), ("logs", logs)):
            if callback is not None and not callable(callback):
                raise TypeError(f"{name} must be callable")
        if resubmit is not None and not isinstance(resubmit, ResubmitPolicy):
            raise TypeError("resubmit must be a ResubmitPolicy")
        self._submitting.check(request)
        return await self._life.run(
            request,
            timeout=timeout,
            on_cancel=on_cancel,
            on_submitted=on_submitted,
            logs=logs,
            stuck_after=stuck_after,
            resubmit=resubmit,
        )

    async def resubmit(self, job_id: str, change: Change | None) -> JobResponse:
        """``BatchService.resubmit``: the job's request, changed, submitted as a new job."""
        check_job_id(job_id)
        if change is not None and not callable(change):
            raise TypeError("change must be callable")
        return await self._life.resubmit(job_id, change)

    async def request_of(self, job_id: str) -> JobRequest:
        """``BatchService.request_of``: the request rebuilt from the job's detail."""
        from .rebuild import request_of

        return request_of(await self._describe(job_id))

    @functools.cached_property
    def _life(self) -> JobLife:
        """Runs jobs to the end (created on first use)."""
        from .run_job import JobLife

        return JobLife(
            submit=self._submitting.submit_tagged,
            wait_for=self._wait_for,
            get_logs=self._get_logs,
            terminate=self._terminate,
            describe=self._describe,
            logger=self._logger,
        )
