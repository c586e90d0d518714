"""``BatchService``: the public facade. Each concern lives in its own folder behind it.

Clients and the call seam: ``_transport/``; submitting: ``_submitting/``; waiting and the event
feed: ``_waiting/``; listing, stopping and operations: ``_operations/``; logs: ``_logs/``; a
job's whole life (``run_job``, arrays, definitions by content): ``_lifecycle/``; SageMaker
service jobs: ``_service_jobs/``; data and argument checks: ``_models/`` and
``_infrastructure/`` (the map: ``docs/architecture.md``).

Only what opening a service and describing jobs need is imported with it; submitting, listing,
waiting, logs, events and the operations load on first use (a cold start pays for what it
uses: ``docs/performance.md``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

from ._config import BatchConfig
from ._errors import ConfigurationError, JobNotFoundError
from ._iterate_only import IterateOnly
from ._lifecycle.facade import LifecycleMixin
from ._models.arguments import (
    check_int,
    check_job_id,
    check_job_ids,
)
from ._models.jobs import JobDetail, JobStatus, JobSummary, LogEvent
from ._models.limits import chunked
from ._operations.facade import OperationsMixin, StoppingMixin
from ._public import publish
from ._service_jobs.facade import ServiceJobsMixin
from ._submitting.facade import SubmittingMixin
from ._telemetry.hooks import create_telemetry
from ._transport.answers import validate_answer
from ._transport.clients import Clients
from ._waiting.event_setup import EventsMixin
from ._waiting.facade import WaitingMixin

if TYPE_CHECKING:  # imported on first use (see the module's docstring)
    from ._infrastructure.definition_requests import JobDefinitionSpec
    from ._infrastructure.job_definitions import JobDefinition
    from ._lifecycle.arrays import ArrayReruns, RerunResponse
    from ._lifecycle.definitions_by_content import DefinitionSync
    from ._logs.reader import LogReader
    from ._models.requests import JobRequest
    from ._service_jobs.client import ServiceJobs
    from ._submitting.submitter import Submitter
    from ._waiting.poller import Poller
__all__ = ["BatchService"]

#: How many recently seen job statuses are remembered (for cancel_job's warning).
_STATUS_MEMORY = 10_000
_STATUS_VALUES = frozenset(s.value for s in JobStatus)


class BatchService(
    SubmittingMixin,
    WaitingMixin,
    StoppingMixin,
    OperationsMixin,
    EventsMixin,
    LifecycleMixin,
    ServiceJobsMixin,
):
    """An asyncio client for AWS Batch over ONE pooled aiobotocore client.

    Use it as an async context manager; it opens the client (``max_pool_connections``
    connections) on entry and closes it, and every background task, on exit::

        async with BatchService(BatchConfig(job_queue="q", job_definition="d")) as batch:
            job = await batch.submit_job(JobRequest(command=["echo", "hi"]))

    A service is bound to the event loop it was opened on and cannot be reopened.

    Args:
        config: Settings; ``BatchConfig()`` (botocore's own resolution for everything) if omitted.
        session: An aiobotocore ``AioSession`` or an aioboto3 ``Session`` to create the clients
            from; used, never closed. Without one, the service creates one session, so
            credentials are resolved once for all its clients.
        logger: Where to log (``logging.getLogger("aws_batch_async")`` by default). Environment
            values, parameter values and credentials are never logged.
        tracer_provider: An OpenTelemetry ``TracerProvider`` for the library's spans; the
            global one if omitted (``docs/observability.md``). Needs the ``otel`` extra.
        meter_provider: An OpenTelemetry ``MeterProvider`` for its metrics; the global one if
            omitted.

    Raises:
        ConfigurationError: Both ``session`` and ``config.profile`` are given.
        ImportError: A provider is given but ``opentelemetry-api`` is not installed.
    """

    def __init__(
        self,
        config: BatchConfig | None = None,
        *,
        session: Any | None = None,
        logger: logging.Logger | None = None,
        tracer_provider: Any | None = None,
        meter_provider: Any | None = None,
    ) -> None:
        self.config = config if config is not None else BatchConfig()
        self.logger = logger if logger is not None else logging.getLogger("aws_batch_async")
        if session is not None and self.config.profile is not None:
            raise ConfigurationError("give either a session or BatchConfig.profile, not both")
        self._telemetry = create_telemetry(tracer_provider, meter_provider)
        self._clients = Clients(self.config, session, self.logger, self._telemetry)
        self._seen_status: OrderedDict[str, JobStatus] = OrderedDict()
        self._poller: Poller | None = None  # created by the first wait
        self._log_reader: LogReader | None = None  # created by the first get_logs
        self._service_jobs: ServiceJobs | None = None  # created by the first service-job call

    # -----------------------------------------------------------------------------------------
    # Lifecycle

    def __enter__(self) -> NoReturn:
        raise TypeError(
            "BatchService is an async context manager: use `async with BatchService(...) as "
            "batch:` (in an async function), not `with`"
        )

    def __exit__(self, *exc_info: object) -> None:  # pragma: no cover - __enter__ raises
        """Never reached: ``with`` needs both methods to call :meth:`__enter__`."""

    async def __aenter__(self) -> BatchService:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Open the pooled client. ``async with`` calls it for you.

        Raises:
            ServiceClosedError: The service was already opened or closed.
            ConfigurationError: No region, an unknown profile, a malformed AWS config file, or
                credentials that cannot be loaded (SSO, credential process...).
        """
        await self._clients.open()

    async def aclose(self) -> None:
        """Stop background tasks and close the clients. Idempotent.

        Open waits fail with ``ServiceClosedError``; a session passed in is not closed.
        """
        poller = self._poller
        if self._clients.is_closed and poller is None:
            return
        submitter: Submitter | None = self.__dict__.get("_submitter")
        if submitter is not None:
            submitter.close()  # submits waiting for a send slot fail at once
        service_jobs, self._service_jobs = self._service_jobs, None
        try:
            if poller is not None:
                # Open waits fail even if this is cancelled; the poller is dropped only once
                # its task ended, so that a second aclose() finishes what a cancelled one left.
                await poller.aclose()
                self._poller = None
            if service_jobs is not None:
                await service_jobs.aclose()
        finally:
            await self._clients.aclose()

    @property
    def is_closed(self) -> bool:
        """True once :meth:`aclose` has begun (or opening failed)."""
        return self._clients.is_closed

    # -----------------------------------------------------------------------------------------
    # Reading

    async def get_job_status(self, job_id: str) -> JobDetail:
        """Describe one job.

        Args:
            job_id: The job's id.

        Returns:
            The job's current :class:`JobDetail`.

        Raises:
            JobNotFoundError: AWS does not know the id (or not yet, right after SubmitJob).
            MalformedResponseError: A 2xx answer that is not a DescribeJobs result.
            BatchAPIError: AWS answered with an error.
            ServiceClosedError: The service is not open.
        """
        check_job_id(job_id)
        jobs = await self.describe_jobs([job_id])
        if not jobs:
            raise JobNotFoundError(job_id)
        return jobs[0]

    async def describe_jobs(self, job_ids: Iterable[str]) -> list[JobDetail]:
        """Describe any number of jobs, in DescribeJobs calls of at most 100 ids.

        At most ``PollPolicy.max_concurrent_calls`` DescribeJobs calls of the service are in
        flight at once, the poller's included.

        Args:
            job_ids: Job ids; duplicates are described once.

        Returns:
            The jobs found, in the order of ``job_ids``. Unknown ids are absent.

        Raises:
            TypeError: ``job_ids`` is a string, or an id is not a string.
            ValueError: An id is empty.
            MalformedResponseError: A 2xx answer that is not a DescribeJobs result.
            BatchAPIError: AWS answered with an error.
            ServiceClosedError: The service is not open.
        """
        ids = check_job_ids(job_ids)
        self._clients.batch()
        if not ids:
            return []
        pages = await asyncio.gather(*(self._describe_raw(chunk) for chunk in chunked(ids)))
        by_id = {raw["jobId"]: raw for page in pages for raw in page}
        return [validate_answer(JobDetail, by_id[i], "DescribeJobs") for i in ids if i in by_id]

    async def _describe_raw(self, job_ids: Sequence[str]) -> list[dict[str, Any]]:
        """One DescribeJobs call (at most 100 ids, within the service's cap); raw jobs.

        Every read of job statuses goes through here, so the statuses seen are remembered
        for ``cancel_job``'s warning.
        """
        self.logger.debug("DescribeJobs for %d job(s)", len(job_ids))
        response = await self._clients.describe_gate.describe(job_ids)  # ValueError past 100
        jobs: list[dict[str, Any]] = response.get("jobs", [])
        seen = self._seen_status
        for raw in jobs:
            job_id, status = raw.get("jobId"), raw.get("status")
            if isinstance(job_id, str) and status in _STATUS_VALUES:
                seen[job_id] = JobStatus(status)
                seen.move_to_end(job_id)
        while len(seen) > _STATUS_MEMORY:
            seen.popitem(last=False)
        return jobs

    def list_jobs(
        self,
        job_queue: str | None = None,
        job_status: JobStatus | str | None = None,
        *,
        job_name: str | None = None,
        job_definition: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        share_identifier: str | None = None,
        array_job_id: str | None = None,
        multi_node_job_id: str | None = None,
        page_size: int | None = None,
    ) -> AsyncGenerator[JobSummary, None]:
        """Yield the jobs of a queue (or of an array or multi-node job), across every page.

        Unlike bare ListJobs, which returns only RUNNING jobs without a status or a filter,
        this yields jobs of **every** status when ``job_status`` is None, each once. Pages
        are fetched as the caller iterates. The arguments are checked when this is called,
        before any call.

        Args:
            job_queue: Queue name or ARN; defaults to the config's ``job_queue``.
            job_status: Only jobs in this status.
            job_name: Only jobs of this name (case-insensitive; a trailing ``*`` matches a
                prefix).
            job_definition: Only jobs of this definition (name, ``name:revision`` or ARN).
            created_after: Only jobs created after this (timezone-aware) time.
            created_before: Only jobs created before this time.
            share_identifier: Only jobs of this fair-share identifier.
            array_job_id: List this array job's children instead of a queue.
            multi_node_job_id: List this multi-node job's nodes instead of a queue.
            page_size: Jobs per ListJobs call (1..1000 with a status only, 1..100 otherwise).

        Returns:
            An async iterator of :class:`JobSummary`; newest first when no status is given.
            Iterate it with ``async for``; awaiting it raises a ``TypeError`` that says so.

        Raises:
            TypeError: An argument of the wrong type.
            ValueError: A bad value, or a combination AWS refuses: two targets, more than one
                of the filters (``job_name``, ``job_definition``, ``created_after``,
                ``created_before``, ``share_identifier``), or a filter on children.
            ConfigurationError: No queue given or configured.
            ServiceClosedError: The service is not open.
            BatchAPIError: (while iterating) AWS answered with an error;
                ``MalformedResponseError`` for a 2xx answer that is not a ListJobs result.
        """
        from ._operations.listing import plan_listing

        listing = plan_listing(
            default_queue=self.config.job_queue,
            job_queue=job_queue,
            job_status=job_status,
            job_name=job_name,
            job_definition=job_definition,
            created_after=created_after,
            created_before=created_before,
            share_identifier=share_identifier,
            array_job_id=array_job_id,
            multi_node_job_id=multi_node_job_id,
            page_size=page_size,
        )
        self._clients.batch()
        return IterateOnly(listing.run(self._clients.call, self.logger), "batch.list_jobs(...)")

    # -----------------------------------------------------------------------------------------
    # Logs

    def get_logs(
        self,
        job_id: str,
        *,
        attempt: int | None = None,
        follow: bool = False,
        container: str | None = None,
        node: int | None = None,
    ) -> AsyncGenerator[LogEvent, None]:
        """Read a job's log lines from CloudWatch Logs: every attempt, in order.

        The lines come from the ``awslogs`` group of the job's log configuration
        (``/aws/batch/job`` by default), one stream per attempt, through a Logs client the
        service opens on first use (``BatchConfig.logs_endpoint_url``, else ``endpoint_url``).
        With ``follow=True`` the job is followed until it is terminal and its streams have
        gone quiet (the rule is in ``docs/logs.md``). Breaking out of the loop stops reading
        only.

        Every kind of job: a container job (EC2 or Fargate) has one stream per attempt; a
        job with ECS properties one per container and attempt (every container by default,
        each event naming its ``container``); a multi-node job's lines are its main node's
        (the job ``<id>#<main node>``), or ``node``'s. An EKS job's logs stay in the
        Kubernetes cluster: iterating raises a ``BatchError`` naming its pod and namespace.

        Args:
            job_id: The job's id; for an array job, a child's id (``<parent>:<index>``).
            attempt: Only this attempt (0-based); ``None`` reads every attempt in order.
            follow: Keep yielding lines until the job is terminal and its streams drained.
            container: Only this container of a job with ECS properties (by name).
            node: For a multi-node parallel job: this node's lines (0-based index) instead
                of the main node's.

        Returns:
            An async iterator of :class:`LogEvent` (``async for``; awaiting it raises a
            ``TypeError`` that says so), oldest first within each attempt (and
            each container, in the task's order).

        Raises:
            TypeError: ``job_id`` or ``container`` is not a string, ``attempt`` or ``node``
                not an int.
            ValueError: ``job_id`` or ``container`` is empty, ``attempt`` or ``node``
                negative.
            ServiceClosedError: The service is not open (also while iterating, once closed).
            JobNotFoundError: (while iterating) AWS does not know the job.
            BatchError: (while iterating) an array parent, an EKS job (the message says where
                its logs are), a log driver other than awslogs, no such container or node,
                or ``node`` for a job that is not a multi-node parent.
            BatchAPIError: (while iterating) DescribeJobs or GetLogEvents failed.
            BatchConnectionError: (while iterating) an endpoint could not be reached.
            ConfigurationError: (while iterating) the Logs client cannot be created.
        """
        check_job_id(job_id)
        if attempt is not None:
            check_int(attempt, "attempt", low=0)
        if container is not None:
            check_job_id(container, "container")
        if node is not None:
            check_int(node, "node", low=0)
        self._clients.batch()
        if self._log_reader is None:
            from ._logs.reader import LogReader

            self._log_reader = LogReader(
                self._describe_raw,
                self._clients.call_logs,
                self.config.poll,
                self.logger,
                subscribe=None if self.config.events is None else self._follow_changes,
                telemetry=self._telemetry,
            )
        events = self._log_reader.events(
            job_id, attempt=attempt, follow=follow, container=container, node=node
        )
        return IterateOnly(events, "batch.get_logs(...)")

    # -----------------------------------------------------------------------------------------
    # Array jobs (``_lifecycle/arrays.py``) and job definitions by content
    # (``_lifecycle/definitions_by_content.py``)

    @functools.cached_property
    def _arrays(self) -> ArrayReruns:
        from ._lifecycle.arrays import ArrayReruns

        return ArrayReruns(
            self._describe_raw,
            lambda parent: self.list_jobs(array_job_id=parent, job_status=JobStatus.FAILED),
            self.submit_jobs,
            self.logger,
        )

    @functools.cached_property
    def _definition_sync(self) -> DefinitionSync:
        from ._lifecycle.definitions_by_content import DefinitionSync

        return DefinitionSync(self._clients.call, self.describe_job_definitions, self.logger)

    async def failed_indices(self, array_job_id: str) -> list[int]:
        """The indices of an array job's children that are FAILED, ascending.

        One ListJobs call per 1,000 failed children (``arrayJobId`` and status FAILED).

        Args:
            array_job_id: The array (parent) job's id.

        Returns:
            The indices, e.g. ``[3, 7]``; empty when no child is FAILED (yet).

        Raises:
            TypeError: ``array_job_id`` is not a string.
            ValueError: It is empty or a child's id.
            ServiceClosedError: The service is not open.
            BatchAPIError: ListJobs failed.
        """
        self._clients.batch()
        return await self._arrays.failed_indices(array_job_id)

    async def rerun_failed(
        self,
        array_job_id: str,
        *,
        change: Callable[[JobRequest], JobRequest] | None = None,
    ) -> RerunResponse:
        """Resubmit only the FAILED children of an array job, as a new array job.

        The new array has one child per failed index (a single job when one failed). Each
        child learns the index it stands for from :func:`aws_batch_async.array_index`; the
        index map travels in the environment variable ``BATCH_ASYNC_ARRAY_INDICES``. When the
        map would not fit in ECS's 8,192 characters of container overrides, it is split over
        several arrays (``parts``). The request is rebuilt from the parent's detail (queue,
        definition, command, environment, resources, parameters, timeout, retry attempts,
        tags); ``change`` may alter it first. A rerun of a rerun maps back to the original
        indices.

        Args:
            array_job_id: The array (parent) job's id.
            change: A function ``JobRequest -> JobRequest`` applied to the rebuilt request.

        Returns:
            A :class:`RerunResponse`: the first job submitted, with ``parts`` (every job) and
            ``indices`` (the original indices rerun).

        Raises:
            TypeError: ``array_job_id`` is not a string, or ``change`` is not callable or
                returns no :class:`JobRequest`.
            ValueError: ``array_job_id`` is empty or a child's id.
            JobNotFoundError: AWS does not know the job.
            BatchError: The job is not an array job, or none of its children is FAILED.
            SubmitJobsError: A part could not be submitted.
            ServiceClosedError: The service is not open.
            BatchAPIError: ListJobs or DescribeJobs failed.
        """
        self._clients.batch()
        return await self._arrays.rerun_failed(array_job_id, change)

    async def ensure_job_definition(
        self, definition: Mapping[str, Any] | JobDefinitionSpec | None = None, /, **fields: Any
    ) -> JobDefinition:
        """Register a job definition only if its content differs from the latest ACTIVE one.

        The content is hashed (canonical JSON of RegisterJobDefinition's parameters) and the
        hash kept in the tag ``aws-batch-async:content-hash`` of each revision registered
        here; the latest ACTIVE revision is reused when its hash matches. Concurrent calls of
        one service register once. Takes what :meth:`register_job_definition` takes.

        Args:
            definition: A typed definition (:class:`ContainerJobDefinition`,
                :class:`EcsJobDefinition`...), or RegisterJobDefinition's parameters as AWS
                names them.
            **fields: Or the typed fields of a container definition (``name``, ``image``...).

        Returns:
            The :class:`JobDefinition` revision with this content.

        Raises:
            TypeError: Both ``definition`` and keywords, or a ``definition`` no mapping.
            ValueError: Bad or missing fields (``pydantic.ValidationError`` included).
            ServiceClosedError: The service is not open.
            BatchAPIError: AWS answered with an error.
        """
        self._clients.batch()
        return await self._definition_sync.ensure(definition, fields)

    async def prune_job_definitions(self, name: str, *, keep: int = 5) -> list[str]:
        """Deregister the older ACTIVE revisions of a job definition, keeping the newest.

        Args:
            name: The definition's name (no revision).
            keep: How many of the newest ACTIVE revisions to keep (at least 1).

        Returns:
            The ARNs of the revisions deregistered, newest first.

        Raises:
            TypeError: ``name`` is not a string or ``keep`` not an int.
            ValueError: An empty name, a name with a revision, or ``keep`` below 1.
            ServiceClosedError: The service is not open.
            BatchAPIError: AWS answered with an error.
        """
        self._clients.batch()
        return await self._definition_sync.prune(name, keep)


publish(__name__)
