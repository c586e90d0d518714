"""A job's whole life: ``run_job``, ``resubmit`` and ``request_of``.

A part of :class:`~aws_batch_async.BatchService` (a mixin); the work is in ``_lifecycle/run_job.py``
(run, resubmit), ``_lifecycle/rebuild.py`` (a request from a job's details),
``_lifecycle/resubmit.py`` (the
policy and its changes) and ``_lifecycle/failure.py`` (why a job failed). They load on first use.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

from .._models.arguments import check_job_id
from .._models.jobs import JobDetail, JobResponse, LogEvent

if TYPE_CHECKING:
    from .._models.requests import JobRequest
    from .._submitting.submitter import Submitter
    from .resubmit import Change, ResubmitPolicy
    from .run_job import JobLife, OnCancel

__all__ = ["LifecycleMixin"]


class _Service(Protocol):
    """What ``run_job`` needs of the service (its other parts' methods)."""

    logger: logging.Logger
    _submitter: Submitter

    def _submit_tagged(
        self, request: JobRequest, tags: Mapping[str, str], /
    ) -> Awaitable[JobResponse]: ...

    def wait_for(self, job_id: str, /, **kwargs: Any) -> Awaitable[JobDetail]: ...

    def get_logs(self, job_id: str, /, **kwargs: Any) -> AsyncGenerator[LogEvent, None]: ...

    def terminate_job(self, job_id: str, reason: str, /) -> Awaitable[None]: ...

    def get_job_status(self, job_id: str, /) -> Awaitable[JobDetail]: ...


class LifecycleMixin:
    """The run-to-the-end methods of :class:`~aws_batch_async.BatchService`."""

    @functools.cached_property
    def _life(self) -> JobLife:
        """Runs jobs to the end (created on first use)."""
        from .run_job import JobLife

        service = cast("_Service", self)
        return JobLife(
            submit=service._submit_tagged,
            wait_for=service.wait_for,
            get_logs=service.get_logs,
            terminate=service.terminate_job,
            describe=service.get_job_status,
            logger=service.logger,
        )

    async def run_job(
        self,
        request: JobRequest,
        *,
        timeout: float | None = None,
        on_cancel: OnCancel = "terminate",
        on_submitted: Callable[[JobResponse], object] | None = None,
        logs: Callable[[LogEvent], object] | None = None,
        stuck_after: float | None = None,
        resubmit: ResubmitPolicy | None = None,
    ) -> JobDetail:
        """Submit a job (exactly once), wait for it to finish, and return it.

        The call owns its job: if the calling task is cancelled, ``timeout`` passes,
        ``stuck_after`` trips or a callback raises, the job is **terminated** (TerminateJob,
        with a reason saying why) before the error propagates; ``on_cancel="detach"``
        leaves it running. A failure that ``resubmit`` names is submitted again as a new
        job, changed by the policy, tagged with the jobs it replaces. See
        ``docs/lifecycle.md``.

        Args:
            request: The job.
            timeout: Seconds for the whole run (every resubmission included).
            on_cancel: ``"terminate"`` (default) or ``"detach"``.
            on_submitted: Called with each job's :class:`JobResponse` as soon as its id is
                known.
            logs: Called with each :class:`LogEvent` of the job (every attempt, every
                resubmitted job) as it is written. Errors reading the logs are logged and
                end the reading only.
            stuck_after: As for :meth:`wait_for`.
            resubmit: Which failures to resubmit, and how (:class:`ResubmitPolicy`).

        Returns:
            The SUCCEEDED job; ``resubmitted_from`` lists the failed jobs it replaced.

        Raises:
            JobFailedError: The last job ended FAILED (``.job.failure`` says why).
            WaitTimeoutError: ``timeout`` passed (the job was terminated, unless detached).
            JobStuckError: The job did not start within ``stuck_after`` (terminated).
            TypeError: A bad ``request``, ``resubmit`` or callback.
            ValueError: A bad ``timeout`` or ``on_cancel``, or a change could not apply
                (``scale_memory`` with no memory known).
            BatchAPIError: SubmitJob or DescribeJobs failed (see :meth:`submit_job`).
            ServiceClosedError: The service is not open, or was closed meanwhile.
        """
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
        cast("_Service", self)._submitter.check(request)
        return await self._life.run(
            request,
            timeout=timeout,
            on_cancel=on_cancel,
            on_submitted=on_submitted,
            logs=logs,
            stuck_after=stuck_after,
            resubmit=resubmit,
        )

    async def resubmit(self, job_id: str, change: Change | None = None) -> JobResponse:
        """Submit a job again as a new job (exactly once), changed, tagged with the old id.

        The request is :meth:`request_of` the job, given the vCPUs and memory it ran with.

        Args:
            job_id: The job to resubmit.
            change: A function ``JobRequest -> JobRequest`` (``scale_memory(2.0)``,
                ``to_queue("q")``...); ``None`` resubmits the job as it was.

        Returns:
            The new job.

        Raises:
            JobNotFoundError: AWS does not know the job.
            ValueError: The change returned ``None`` (it declined).
            BatchAPIError: DescribeJobs or SubmitJob failed.
            ServiceClosedError: The service is not open.
        """
        check_job_id(job_id)
        if change is not None and not callable(change):
            raise TypeError("change must be callable")
        return await self._life.resubmit(job_id, change)

    async def request_of(self, job_id: str) -> JobRequest:
        """Rebuild the :class:`JobRequest` that would submit a job again.

        Queue, definition revision, name, every kind's overrides, parameters, tags (without
        the library's own), array size, dependencies, timeout, retry strategy, priority and
        share identifier, as DescribeJobs shows them (``docs/lifecycle.md`` has the table).

        Args:
            job_id: The job.

        Returns:
            The request.

        Raises:
            JobNotFoundError: AWS does not know the job.
            BatchAPIError: DescribeJobs failed.
            ServiceClosedError: The service is not open.
        """
        from .rebuild import request_of

        return request_of(await cast("_Service", self).get_job_status(job_id))
