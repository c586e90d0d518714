"""The operations side of AWS Batch: typed infrastructure reads, ``explain``, bulk stop.

:class:`Operations` works through one ``call(operation, **params)`` coroutine that calls the
botocore operation and raises the library's errors, so it can sit behind
:class:`~aws_batch_async.BatchService` or any other client wrapper.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import aclosing
from typing import Any, Literal, Protocol, TypeVar

from .._errors import ConfigurationError
from .._infrastructure.definition_requests import JobDefinitionSpec
from .._infrastructure.job_definitions import (
    JobDefinition,
    RegisteredJobDefinition,
    definition_params,
    definition_query,
)
from .._infrastructure.views import (
    ComputeEnvironment,
    InfraCache,
    JobDiagnosis,
    JobQueue,
    JobQueueSnapshot,
)
from .._models.arguments import check_job_id, check_job_ids
from .._models.limits import DESCRIBE_NAMES_MAX, chunked
from .._ratelimit import AdaptiveRateLimiter
from .._telemetry.hooks import NOOP, Telemetry
from .._transport.answers import validate_answer
from .._transport.pagination import pages
from .bulk_stop import BulkStopper, BulkStopResult
from .diagnosis import diagnose

__all__ = ["BatchCall", "Operations"]

_T = TypeVar("_T", JobQueue, ComputeEnvironment)


class BatchCall(Protocol):
    """Calls one Batch operation: ``await call("DescribeJobQueues", jobQueues=[...])``.

    It raises the library's errors (:class:`~aws_batch_async.BatchAPIError` and its kin).
    """

    def __call__(self, operation: str, /, **params: Any) -> Awaitable[dict[str, Any]]: ...


#: The keywords ``register_job_definition`` takes for a container definition.
DEFINITION_KEYWORDS = frozenset(
    {
        "name",
        "image",
        "command",
        "vcpus",
        "memory_mib",
        "gpus",
        "platform",
        "environment",
        "parameters",
        "job_role_arn",
        "execution_role_arn",
        "retry_attempts",
        "timeout_seconds",
        "tags",
        "propagate_tags",
    }
)


class Operations:
    """Typed reads of queues, compute environments and job definitions; ``explain``; bulk stop.

    Args:
        call: Calls a botocore operation by name and raises the library's errors.
        logger: Where to log (DEBUG per call, INFO per bulk stop, WARNING on the fallback).
        limiter: Paces the stop calls (bulk and single); ``None``: no pacing.
        clock: Monotonic clock in seconds, for the cache of queues and compute environments.
        default_queue: The queue of :meth:`get_job_queue_snapshot` when none is given.
        cache_seconds: How long ``explain`` reuses a queue or compute environment it read.
        max_concurrency: Stop calls in flight at once.
        telemetry: The service's OpenTelemetry hooks (a span per bulk stop).
    """

    def __init__(
        self,
        call: BatchCall,
        *,
        logger: logging.Logger,
        limiter: AdaptiveRateLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
        default_queue: str | None = None,
        cache_seconds: float = 5.0,
        max_concurrency: int = 10,
        telemetry: Telemetry = NOOP,
    ) -> None:
        self._call = call
        self._logger = logger
        self._default_queue = default_queue
        self._queues: InfraCache[JobQueue] = InfraCache(cache_seconds, clock)
        self._environments: InfraCache[ComputeEnvironment] = InfraCache(cache_seconds, clock)
        self._stopper = BulkStopper(
            call,
            logger=logger,
            limiter=limiter,
            max_concurrency=max_concurrency,
            telemetry=telemetry,
        )

    # -----------------------------------------------------------------------------------------
    # Reads

    def describe_job_queues(self, names: Iterable[str] | None = None) -> AsyncIterator[JobQueue]:
        """Describe job queues, paging through ``nextToken``, at most 100 names per call.

        Args:
            names: Queue names or ARNs; ``None`` describes every queue.

        Returns:
            An async iterator of :class:`JobQueue` (unknown names are absent).

        Raises:
            TypeError: ``names`` is a string or holds a non-string.
            ValueError: An empty name.
            MalformedResponseError: (while iterating) A damaged answer, at any depth.
            BatchAPIError: AWS answered with an error (while iterating).
        """
        checked = None if names is None else check_job_ids(names, "names")
        return self._describe("DescribeJobQueues", "jobQueues", checked, JobQueue, self._queues)

    def describe_compute_environments(
        self, names: Iterable[str] | None = None
    ) -> AsyncIterator[ComputeEnvironment]:
        """Describe compute environments, paging through ``nextToken``, 100 names per call.

        Args:
            names: Compute environment names or ARNs; ``None`` describes all.

        Returns:
            An async iterator of :class:`ComputeEnvironment` (unknown names are absent).

        Raises:
            TypeError: ``names`` is a string or holds a non-string.
            ValueError: An empty name.
            MalformedResponseError: (while iterating) A damaged answer, at any depth.
            BatchAPIError: AWS answered with an error (while iterating).
        """
        checked = None if names is None else check_job_ids(names, "names")
        return self._describe(
            "DescribeComputeEnvironments",
            "computeEnvironments",
            checked,
            ComputeEnvironment,
            self._environments,
        )

    def describe_job_definitions(
        self, name: str | None = None, *, status: Literal["ACTIVE", "INACTIVE"] | None = "ACTIVE"
    ) -> AsyncIterator[JobDefinition]:
        """Describe job definitions, paging through ``nextToken``.

        The status and revision are also checked here, as moto (and old revisions) may not.

        Args:
            name: A name (every revision), ``name:revision``, an ARN, or ``None`` for all.
            status: ``"ACTIVE"``, ``"INACTIVE"``, or ``None`` for both.

        Returns:
            An async iterator of :class:`JobDefinition`.

        Raises:
            TypeError: ``name`` is not a string.
            ValueError: An empty name or an unknown status.
            MalformedResponseError: (while iterating) A damaged answer, at any depth.
            BatchAPIError: AWS answered with an error (while iterating).
        """
        if status not in ("ACTIVE", "INACTIVE", None):
            raise ValueError("status must be 'ACTIVE', 'INACTIVE' or None")
        params, revision = definition_query(name)
        if status is not None:
            params["status"] = status
        return self._definitions(params, status, revision)

    async def _definitions(
        self, params: dict[str, Any], status: str | None, revision: int | None
    ) -> AsyncIterator[JobDefinition]:
        async for raw in self._pages("DescribeJobDefinitions", "jobDefinitions", params):
            definition = validate_answer(JobDefinition, raw, "DescribeJobDefinitions")
            if status is not None and definition.status != status:
                continue
            if revision is not None and definition.revision != revision:
                continue
            yield definition

    async def latest_job_definition(self, name: str) -> JobDefinition | None:
        """The highest ACTIVE revision of a job definition.

        Args:
            name: The definition's name (an ARN's revision is ignored).

        Returns:
            The revision, or ``None`` when no revision is ACTIVE.

        Raises:
            TypeError: ``name`` is not a string.
            ValueError: ``name`` is empty or names a revision.
            MalformedResponseError: A damaged answer, at any depth.
            BatchAPIError: AWS answered with an error.
        """
        check_job_id(name, "name")
        if name.startswith("arn:"):
            name = name.rsplit("/", 1)[-1].split(":", 1)[0]
        elif ":" in name:
            raise ValueError("latest_job_definition takes a name without a revision")
        latest: JobDefinition | None = None
        async for definition in self.describe_job_definitions(name, status="ACTIVE"):
            if definition.name == name and (
                latest is None or definition.revision > latest.revision
            ):
                latest = definition
        return latest

    async def get_job_queue_snapshot(self, queue: str | None = None) -> JobQueueSnapshot:
        """The front of a queue: its first RUNNABLE jobs, oldest position first.

        Args:
            queue: The queue's name or ARN; the default queue when omitted.

        Returns:
            The :class:`JobQueueSnapshot`.

        Raises:
            ConfigurationError: No queue given and no default queue.
            TypeError: ``queue`` is not a string.
            ValueError: ``queue`` is empty.
            MalformedResponseError: A damaged answer, at any depth.
            BatchAPIError: AWS answered with an error.
        """
        queue = queue if queue is not None else self._default_queue
        if queue is None:
            raise ConfigurationError("no job queue: pass queue= or configure a default queue")
        check_job_id(queue, "queue")
        self._logger.debug("GetJobQueueSnapshot of %s", queue)
        answer = await self._call("GetJobQueueSnapshot", jobQueue=queue)
        return validate_answer(JobQueueSnapshot, answer, "GetJobQueueSnapshot")

    # -----------------------------------------------------------------------------------------
    # Job definitions

    async def register_job_definition(
        self, definition: Mapping[str, Any] | JobDefinitionSpec | None, fields: Mapping[str, Any]
    ) -> RegisteredJobDefinition:
        """``BatchService.register_job_definition`` (its arguments and errors are documented there).

        Raises:
            TypeError: A keyword that is not one of :data:`DEFINITION_KEYWORDS`.
        """
        unknown = sorted(set(fields) - DEFINITION_KEYWORDS)
        if unknown:
            raise TypeError(
                f"register_job_definition() got an unexpected keyword argument {unknown[0]!r}"
            )
        params = definition_params(definition, fields)
        self._logger.debug("RegisterJobDefinition %s", params["jobDefinitionName"])
        answer = await self._call("RegisterJobDefinition", **params)
        return validate_answer(RegisteredJobDefinition, answer, "RegisterJobDefinition")

    async def deregister_job_definition(self, job_definition: str) -> None:
        """Deregister one revision (it becomes INACTIVE).

        Args:
            job_definition: The revision's ARN or ``name:revision``.

        Raises:
            TypeError: Not a string.
            ValueError: Empty.
            BatchAPIError: AWS answered with an error.
        """
        check_job_id(job_definition, "job_definition")
        self._logger.debug("DeregisterJobDefinition %s", job_definition)
        await self._call("DeregisterJobDefinition", jobDefinition=job_definition)

    # -----------------------------------------------------------------------------------------
    # Explain

    async def explain(self, job_id: str) -> JobDiagnosis:
        """Explain why a job is where it is, most often: why it is stuck in RUNNABLE.

        Reads the job, then (only as far as needed) its dependencies, its queue, the queue's
        compute environments, its job definition and the queue snapshot: each at most once;
        queues and compute environments are reused for a few seconds. A read AWS refuses (an
        IAM denial) makes the diagnosis poorer and is named in ``reasons``; it never fails it.

        Args:
            job_id: The job's id.

        Returns:
            The :class:`JobDiagnosis`: the verdict and sentences a person can act on.

        Raises:
            TypeError: ``job_id`` is not a string.
            ValueError: ``job_id`` is empty.
            JobNotFoundError: AWS does not know the job.
            MalformedResponseError: DescribeJobs answered the job damaged (damaged answers
                about what surrounds it only make the diagnosis poorer).
            BatchAPIError: DescribeJobs of the job failed.
        """
        check_job_id(job_id)
        return await diagnose(job_id, _Sources(self))

    # -----------------------------------------------------------------------------------------
    # Bulk stop

    async def cancel_jobs(self, job_ids: Iterable[str], reason: str) -> BulkStopResult:
        """Cancel jobs that have not started (SUBMITTED, PENDING, RUNNABLE), 50 per call.

        Uses CancelJobs; where the endpoint does not have it, one CancelJob per job (and
        remembers that). AWS accepts a cancel of a started job but does nothing: use
        :meth:`terminate_jobs` for those.

        Args:
            job_ids: The jobs; duplicates are sent once. An empty list makes no call.
            reason: Why, 1..1024 characters (shown in the jobs' status reason).

        Returns:
            The ids AWS accepted (unknown ids too: AWS treats them as processed), and the
            error of each one it did not.

        Raises:
            TypeError: ``job_ids`` is a string or holds a non-string; ``reason`` is no string.
            ValueError: An empty id, or a reason that is empty or too long.

        A damaged answer fails the jobs of its call with ``MalformedResponseError``.
        """
        return await self._stopper.stop("CancelJobs", "CancelJob", job_ids, reason)

    async def terminate_jobs(self, job_ids: Iterable[str], reason: str) -> BulkStopResult:
        """Terminate jobs in any status that is not final, 50 per call.

        Uses TerminateJobs; where the endpoint does not have it, one TerminateJob per job
        (and remembers that).

        Args:
            job_ids: The jobs; duplicates are sent once. An empty list makes no call.
            reason: Why, 1..1024 characters.

        Returns:
            The ids AWS accepted (unknown ids too: AWS treats them as processed), and the
            error of each one it did not.

        Raises:
            TypeError: ``job_ids`` is a string or holds a non-string; ``reason`` is no string.
            ValueError: An empty id, or a reason that is empty or too long.
        """
        return await self._stopper.stop("TerminateJobs", "TerminateJob", job_ids, reason)

    async def stop_jobs(self, job_ids: Iterable[str], reason: str) -> BulkStopResult:
        """Stop jobs whatever their status: :meth:`terminate_jobs`, which covers every one.

        Args:
            job_ids: The jobs; duplicates are sent once. An empty list makes no call.
            reason: Why, 1..1024 characters.

        Returns:
            The ids AWS accepted (unknown ids too: AWS treats them as processed), and the
            error of each one it did not.

        Raises:
            TypeError: ``job_ids`` is a string or holds a non-string; ``reason`` is no string.
            ValueError: An empty id, or a reason that is empty or too long.
        """
        return await self.terminate_jobs(job_ids, reason)

    # -----------------------------------------------------------------------------------------
    # Paging and caching

    async def _describe(
        self,
        operation: str,
        key: str,
        names: list[str] | None,
        model: type[_T],
        cache: InfraCache[_T],
    ) -> AsyncIterator[_T]:
        batches: list[dict[str, Any]] = (
            [{}] if names is None else [{key: c} for c in chunked(names, DESCRIBE_NAMES_MAX)]
        )
        for params in batches:
            async for raw in self._pages(operation, key, params):
                item = validate_answer(model, raw, operation)
                cache.put(item)
                yield item

    async def _pages(
        self, operation: str, key: str, params: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        self._logger.debug("%s %s", operation, {k: v for k, v in params.items() if k != key})
        async with aclosing(pages(self._call, operation, params, logger=self._logger)) as listing:
            async for page in listing:
                for raw in page.get(key) or ():
                    if isinstance(raw, dict):
                        yield raw


class _Sources:
    """What ``explain`` reads, through one :class:`Operations` (and its cache)."""

    def __init__(self, ops: Operations) -> None:
        self._ops = ops

    async def job_dicts(self, job_ids: list[str]) -> list[dict[str, Any]]:
        self._ops._logger.debug("DescribeJobs for %d job(s)", len(job_ids))
        response = await self._ops._call("DescribeJobs", jobs=job_ids)
        return [j for j in response.get("jobs") or () if isinstance(j, dict)]

    async def queue(self, queue: str) -> JobQueue | None:
        cached = self._ops._queues.get(queue)
        if cached is not None:
            return cached
        found = [q async for q in self._ops.describe_job_queues([queue])]
        return next((q for q in found if queue in (q.name, q.arn)), None)

    async def environments(self, arns: list[str]) -> list[ComputeEnvironment]:
        cache = self._ops._environments
        found = [e for e in (cache.get(a) for a in arns) if e is not None]
        known = {e.arn for e in found} | {e.name for e in found}
        missing = [a for a in arns if a not in known]
        if missing:
            found += [e async for e in self._ops.describe_compute_environments(missing)]
        return found

    async def definition(self, job_definition: str) -> JobDefinition | None:
        found = [d async for d in self._ops.describe_job_definitions(job_definition, status=None)]
        return next((d for d in found if job_definition in (d.arn, f"{d.name}:{d.revision}")), None)

    async def snapshot(self, queue: str) -> JobQueueSnapshot:
        return await self._ops.get_job_queue_snapshot(queue)
