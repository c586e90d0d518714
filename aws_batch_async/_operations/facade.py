"""Stopping jobs and operations: ``cancel_job``/``terminate_job``/``stop_job``, bulk stop,
infrastructure reads, ``explain``, and any operation by name (``call``/``paginate``).

Parts of :class:`~aws_batch_async.BatchService` (mixins); the work is in
``_operations/operations.py``.
"""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from .._config import BatchConfig
from .._models.arguments import check_job_id, check_reason
from .._models.jobs import JobDetail, JobStatus
from .._transport.clients import Clients

if TYPE_CHECKING:  # the operations load on first use: most services never call them
    from .._infrastructure.definition_requests import JobDefinitionSpec
    from .._infrastructure.job_definitions import JobDefinition, RegisteredJobDefinition
    from .._infrastructure.views import ComputeEnvironment, JobDiagnosis, JobQueue, JobQueueSnapshot
    from .bulk_stop import BulkStopResult
    from .operations import Operations

__all__ = ["OperationsMixin", "StoppingMixin"]


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


class OperationsMixin:
    """The operations methods of :class:`~aws_batch_async.BatchService`: infrastructure reads,
    ``explain`` for stuck jobs, bulk stop, and any operation by name (``call``/``paginate``).
    The work is in ``_operations/operations.py`` and ``_operations/any_operation.py``."""

    _clients: Clients
    config: BatchConfig
    logger: logging.Logger

    @functools.cached_property
    def _ops(self) -> Operations:
        """The operations' implementation (created on first use)."""
        from .._ratelimit import AdaptiveRateLimiter
        from .operations import Operations

        return Operations(
            self._clients.call,
            logger=self.logger,
            limiter=AdaptiveRateLimiter(self.config.submit_rate_limit),
            default_queue=self.config.job_queue,
            telemetry=self._clients.telemetry,
        )

    async def call(self, operation: str, /, **params: Any) -> dict[str, Any]:
        """Call any AWS Batch operation by name, through the service's pooled client.

        For the operations without a typed method (scheduling policies, quota shares,
        consumable resources, service environments, tags, creating or updating compute
        environments and queues, service jobs...; the table is in ``docs/operations.md``).
        The call has the service's retries and error tree; its parameter names are logged at
        DEBUG, never their values. ``call("SubmitJob", ...)`` is a bare SubmitJob: use
        :meth:`submit_job` for the exactly-once submit.

        Args:
            operation: The operation's AWS name (``"ListSchedulingPolicies"``) or botocore's
                snake_case name (``"list_scheduling_policies"``).
            **params: The operation's parameters, as AWS names them.

        Returns:
            botocore's parsed answer (``ResponseMetadata`` included).

        Raises:
            TypeError: ``operation`` is not a string.
            ValueError: No such operation, or parameters botocore's model refuses (before
                any call).
            ServiceClosedError: The service is not open.
            BatchConnectionError: The endpoint could not be reached.
            BatchAPIError: AWS answered with an error (``ThrottlingError`` after the retries).
        """
        name = self._operation(operation, params)
        return await self._clients.call(name, **params)

    def paginate(self, operation: str, /, **params: Any) -> AsyncGenerator[dict[str, Any], None]:
        """Yield every page of a paged AWS Batch operation, as :meth:`call` returns them.

        Pages, as botocore's paginators give them: the items are under the operation's key
        (``page["schedulingPolicies"]``...). A page is fetched only when the previous one is
        used up; a ``nextToken`` among ``params`` starts from that page. An answer that gives
        back a token already sent ends the listing (logged as a WARNING) instead of looping.
        The operation and parameters are checked when this is called, before any call.

        Args:
            operation: A paged operation's AWS or snake_case name (``"ListServiceJobs"``).
            **params: Its parameters (``maxResults`` sets the page size).

        Returns:
            An async iterator of botocore's parsed answers, one per page.

        Raises:
            TypeError: ``operation`` is not a string.
            ValueError: No such operation, one that is not paged, or parameters botocore's
                model refuses.
            ServiceClosedError: The service is not open.
            BatchAPIError: (while iterating) AWS answered with an error.
        """
        from .._transport.pagination import pages
        from .any_operation import TOKEN, is_paginated

        name = self._operation(operation, params)
        if not is_paginated(self._clients.batch(), name):
            raise ValueError(f"{name} is not a paged operation: use call()")
        start = params.pop(TOKEN, None)
        return pages(self._clients.call, name, params, logger=self.logger, start_token=start)

    def _operation(self, operation: str, params: dict[str, Any]) -> str:
        """The AWS name of ``operation``, its parameters checked (and their names logged)."""
        from .any_operation import check_params, resolve_operation

        client = self._clients.batch()
        name = resolve_operation(client, operation)
        check_params(client, name, params)
        self.logger.debug("%s with %s", name, ", ".join(sorted(params)) or "no parameters")
        return name

    def describe_job_queues(self, names: Iterable[str] | None = None) -> AsyncIterator[JobQueue]:
        """Describe job queues (100 names per call, every page).

        Args:
            names: Queue names or ARNs; ``None`` describes every queue.

        Returns:
            An async iterator of :class:`JobQueue`; unknown names are absent.

        Raises:
            TypeError: ``names`` is a string or holds a non-string.
            ValueError: An empty name.
            ServiceClosedError: The service is not open.
            BatchAPIError: (while iterating) AWS answered with an error.
        """
        self._clients.batch()
        return self._ops.describe_job_queues(names)

    def describe_compute_environments(
        self, names: Iterable[str] | None = None
    ) -> AsyncIterator[ComputeEnvironment]:
        """Describe compute environments (100 names per call, every page).

        Args:
            names: Compute environment names or ARNs; ``None`` describes all.

        Returns:
            An async iterator of :class:`ComputeEnvironment`; unknown names are absent.

        Raises:
            TypeError: ``names`` is a string or holds a non-string.
            ValueError: An empty name.
            ServiceClosedError: The service is not open.
            BatchAPIError: (while iterating) AWS answered with an error.
        """
        self._clients.batch()
        return self._ops.describe_compute_environments(names)

    def describe_job_definitions(
        self, name: str | None = None, *, status: Literal["ACTIVE", "INACTIVE"] | None = "ACTIVE"
    ) -> AsyncIterator[JobDefinition]:
        """Describe job definitions (every page).

        Args:
            name: A name (every revision), ``name:revision``, an ARN, or ``None`` for all.
            status: Only ACTIVE (the default) or INACTIVE revisions; ``None`` for both.

        Returns:
            An async iterator of :class:`JobDefinition`.

        Raises:
            TypeError: ``name`` is not a string.
            ValueError: An empty name or an unknown status.
            ServiceClosedError: The service is not open.
            BatchAPIError: (while iterating) AWS answered with an error.
        """
        self._clients.batch()
        return self._ops.describe_job_definitions(name, status=status)

    async def latest_job_definition(self, name: str) -> JobDefinition | None:
        """The highest ACTIVE revision of a job definition, or ``None`` if it has none.

        Raises:
            TypeError: ``name`` is not a string.
            ValueError: An empty name.
            ServiceClosedError: The service is not open.
            BatchAPIError: AWS answered with an error.
        """
        self._clients.batch()
        return await self._ops.latest_job_definition(name)

    async def register_job_definition(
        self, definition: Mapping[str, Any] | JobDefinitionSpec | None = None, /, **fields: Any
    ) -> RegisteredJobDefinition:
        """Register a job definition of any kind: a typed model, a raw dict, or keywords.

        ``definition`` is a :class:`ContainerJobDefinition`, :class:`EcsJobDefinition`,
        :class:`EksJobDefinition` or :class:`MultiNodeJobDefinition`, or RegisterJobDefinition's
        own parameters as a dict. The keyword fields (``name``, ``image``, ``command``,
        ``vcpus``, ``memory_mib``, ``gpus``, ``platform``, ``environment``, ``parameters``,
        ``job_role_arn``, ``execution_role_arn``, ``retry_attempts``, ``timeout_seconds``,
        ``tags``, ``propagate_tags``) describe a container job definition; see
        ``docs/operations.md``.

        Returns:
            The new revision's name, revision and ARN.

        Raises:
            ValueError: Bad or missing fields (``pydantic.ValidationError`` included).
            ServiceClosedError: The service is not open.
            BatchAPIError: AWS rejected the definition.
        """
        self._clients.batch()
        return await self._ops.register_job_definition(definition, **fields)

    async def deregister_job_definition(self, job_definition: str) -> None:
        """Deregister one revision (``name:revision`` or ARN); it becomes INACTIVE.

        Raises:
            TypeError: Not a string.
            ValueError: Empty.
            ServiceClosedError: The service is not open.
            BatchAPIError: AWS answered with an error.
        """
        self._clients.batch()
        await self._ops.deregister_job_definition(job_definition)

    async def get_job_queue_snapshot(self, queue: str | None = None) -> JobQueueSnapshot:
        """The front of a queue (its first RUNNABLE jobs, oldest first) and its capacity use.

        Args:
            queue: Queue name or ARN; the config's ``job_queue`` if omitted.

        Raises:
            ConfigurationError: No queue given or configured.
            ServiceClosedError: The service is not open.
            BatchAPIError: AWS answered with an error.
        """
        self._clients.batch()
        return await self._ops.get_job_queue_snapshot(queue)

    async def explain(self, job_id: str) -> JobDiagnosis:
        """Explain where a job stands and, above all, why it is stuck in RUNNABLE.

        Reads the job and, only as far as needed, its dependencies, queue, compute
        environments, job definition and the queue snapshot, each at most once. An IAM denial
        of one of those reads is said in ``reasons`` instead of failing the diagnosis. The
        verdicts and their order: ``docs/operations.md``.

        Returns:
            The :class:`JobDiagnosis` (``job``, ``verdict``, ``reasons``).

        Raises:
            TypeError: ``job_id`` is not a string.
            ValueError: ``job_id`` is empty.
            JobNotFoundError: AWS does not know the job.
            ServiceClosedError: The service is not open.
            BatchAPIError: DescribeJobs of the job failed.
        """
        self._clients.batch()
        return await self._ops.explain(job_id)

    async def cancel_jobs(self, job_ids: Iterable[str], reason: str) -> BulkStopResult:
        """Cancel jobs that have not started, in CancelJobs calls of 50 ids (paced).

        Where the endpoint lacks CancelJobs, one CancelJob per job (remembered). AWS ignores a
        cancel of a started job: use :meth:`stop_jobs` for those.

        Returns:
            The ids AWS accepted (unknown ids too: AWS treats them as processed), and the
            error of each one it did not.

        Raises:
            TypeError: ``job_ids`` is a string or holds a non-string; ``reason`` no string.
            ValueError: An empty id, or a bad reason.
            ServiceClosedError: The service is not open.
        """
        self._clients.batch()
        return await self._ops.cancel_jobs(job_ids, reason)

    async def terminate_jobs(self, job_ids: Iterable[str], reason: str) -> BulkStopResult:
        """Terminate jobs, in TerminateJobs calls of 50 ids (paced; single calls as fallback).

        Returns:
            The ids AWS accepted (unknown ids too: AWS treats them as processed), and the
            error of each one it did not.

        Raises:
            TypeError: ``job_ids`` is a string or holds a non-string; ``reason`` no string.
            ValueError: An empty id, or a bad reason.
            ServiceClosedError: The service is not open.
        """
        self._clients.batch()
        return await self._ops.terminate_jobs(job_ids, reason)

    async def stop_jobs(self, job_ids: Iterable[str], reason: str) -> BulkStopResult:
        """Stop jobs whatever their status (TerminateJobs covers every unfinished status).

        Returns:
            The ids AWS accepted (unknown ids too: AWS treats them as processed), and the
            error of each one it did not.

        Raises:
            TypeError: ``job_ids`` is a string or holds a non-string; ``reason`` no string.
            ValueError: An empty id, or a bad reason.
            ServiceClosedError: The service is not open.
        """
        self._clients.batch()
        return await self._ops.stop_jobs(job_ids, reason)
