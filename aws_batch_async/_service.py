"""``BatchService``: the public facade. It composes its parts; each lives in its own folder.

Every public method is documented here, once, and delegates to a part created on first use
with its collaborators passed in: ``Submitting``, ``Waiting``, ``Stopping``, ``Operating``,
``Lifecycle`` and ``ServiceJobHandling``, each in its folder's ``facade.py``, and
``EventSetup`` (``_waiting/event_setup.py``).

Clients and the call seam: ``_transport/``; submitting: ``_submitting/``; waiting and the event
feed: ``_waiting/``; listing, stopping and operations: ``_operations/``; logs: ``_logs/``; a
job's whole life (``run_job``, arrays, definitions by content): ``_lifecycle/``; SageMaker
service jobs: ``_service_jobs/``; data and argument checks: ``_models/`` and
``_infrastructure/`` (the map: ``docs/architecture.md``).

Only what opening a service and describing jobs need is imported with it; the parts and what
they use (submitting, listing, waiting, logs, events, the operations) load on first use (a cold
start pays for what it uses: ``docs/performance.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, NoReturn, overload

from ._config import BatchConfig, SubmitRetry
from ._errors import ConfigurationError, JobNotFoundError
from ._iterate_only import IterateOnly
from ._models.arguments import (
    check_int,
    check_job_id,
    check_job_ids,
)
from ._models.jobs import JobDetail, JobResponse, JobStatus, JobSummary, LogEvent
from ._models.limits import chunked
from ._public import publish
from ._telemetry.hooks import create_telemetry
from ._transport.answers import validate_answer
from ._transport.clients import Clients

if TYPE_CHECKING:  # imported on first use (see the module's docstring)
    from ._infrastructure.definition_requests import JobDefinitionSpec
    from ._infrastructure.job_definitions import JobDefinition, RegisteredJobDefinition
    from ._infrastructure.views import ComputeEnvironment, JobDiagnosis, JobQueue, JobQueueSnapshot
    from ._lifecycle.arrays import ArrayReruns, RerunResponse
    from ._lifecycle.definitions_by_content import DefinitionSync
    from ._lifecycle.facade import Lifecycle
    from ._lifecycle.resubmit import Change, ResubmitPolicy
    from ._lifecycle.run_job import OnCancel
    from ._logs.reader import LogReader
    from ._models.requests import JobRequest
    from ._operations.bulk_stop import BulkStopResult
    from ._operations.facade import Operating, Stopping
    from ._service_jobs.facade import ServiceJobHandling
    from ._service_jobs.models import ServiceJobDetail, ServiceJobRequest, ServiceJobSummary
    from ._submitting.facade import Submitting
    from ._submitting.submitter import OnSubmitted
    from ._waiting.event_setup import EventSetup
    from ._waiting.facade import Waiting

__all__ = ["BatchService"]

#: How many recently seen job statuses are remembered (for cancel_job's warning).
_STATUS_MEMORY = 10_000
_STATUS_VALUES = frozenset(s.value for s in JobStatus)


class BatchService:
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
        self._log_reader: LogReader | None = None  # created by the first get_logs
        self._parts = _Parts()  # the parts that hold tasks or slots, once created

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

        Open waits, and reads whose connection it closes, fail with ``ServiceClosedError``;
        submits waiting for a send slot fail at once. A session passed in is not closed.
        """
        parts = self._parts
        waiting = parts.waiting
        if self._clients.is_closed and (waiting is None or waiting.created_poller is None):
            return
        if parts.submitting is not None:
            parts.submitting.close()  # submits waiting for a send slot fail at once
        try:
            if waiting is not None:
                # Open waits fail even if this is cancelled; a second aclose() finishes
                # what a cancelled one left.
                await waiting.aclose()
            if parts.service_jobs is not None:
                await parts.service_jobs.aclose()
        finally:
            await self._clients.aclose()

    @property
    def is_closed(self) -> bool:
        """True once :meth:`aclose` has begun (or opening failed)."""
        return self._clients.is_closed

    # -----------------------------------------------------------------------------------------
    # Submitting (``_submitting/``)

    async def submit_job(
        self, request: JobRequest, *, retry: SubmitRetry | None = None
    ) -> JobResponse:
        """Submit one job, exactly once, paced by the service's rate limiter.

        botocore never retries SubmitJob; this method does, safely: a send whose outcome is
        unknown (a 5xx, a lost or damaged answer, a call past ``BatchConfig.call_timeout``) is
        looked up (by name and by a hidden token tag, which needs ``batch:TagResource``) before
        it is sent again; one that found no connection is re-sent a few times without lookups.
        See ``docs/reliability.md``.
        Cancelling the call while a send is under way may leave a created job behind; a
        warning names it.

        Args:
            request: The job; the config supplies the queue, definition and retry attempts it
                does not set.
            retry: The submission's retry budget; :class:`SubmitRetry` defaults if omitted.

        Returns:
            The new job's id, name and ARN.

        Raises:
            TypeError: ``request`` is not a :class:`JobRequest`.
            ValueError: 50 tags while ``idempotent_submit`` is on (the token takes one), or a field
                that does not apply to the job definition's kind.
            ConfigurationError: No job queue or definition is configured, or credentials
                cannot be found or refreshed (nothing was sent).
            JobDefinitionNotFoundError: No ACTIVE revision matches the definition (nothing sent).
            ThrottlingError: AWS kept throttling beyond the retry budget.
            BatchAPIError: AWS rejected the job, or kept failing and no job was created.
            MalformedResponseError: The definition's lookup got a damaged answer (a damaged
                SubmitJob answer is looked up like a lost one).
            CallTimeoutError: The definition's lookup outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: The connection kept failing and no job was created (``sent``
                is False when the endpoint could not be reached at all).
            SubmitOutcomeUnknownError: Whether the job was created could not be established.
            ServiceClosedError: The service is not open, or was closed meanwhile.
        """
        return await self._submitting.submit_one(request, retry)

    @overload
    async def submit_jobs(
        self,
        requests: Iterable[JobRequest],
        *,
        concurrency: int | None = None,
        return_exceptions: Literal[False] = False,
        retry: SubmitRetry | None = None,
        on_submitted: OnSubmitted | None = None,
        max_unfinished: int | None = None,
    ) -> list[JobResponse]: ...

    @overload
    async def submit_jobs(
        self,
        requests: Iterable[JobRequest],
        *,
        concurrency: int | None = None,
        return_exceptions: bool,
        retry: SubmitRetry | None = None,
        on_submitted: OnSubmitted | None = None,
        max_unfinished: int | None = None,
    ) -> list[JobResponse | BaseException]: ...

    async def submit_jobs(
        self,
        requests: Iterable[JobRequest],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = False,
        retry: SubmitRetry | None = None,
        on_submitted: OnSubmitted | None = None,
        max_unfinished: int | None = None,
    ) -> list[JobResponse] | list[JobResponse | BaseException]:
        """Submit many jobs, each exactly once (see :meth:`submit_job`), in request order.

        Every request is validated before the first call. If a submission fails (without
        ``return_exceptions``) no further job is sent, those under way finish, and
        :class:`SubmitJobsError` lists what was created. If the call is cancelled (however
        often, an anyio cancel scope included), no further job is sent, the sends under way are
        finished, and one warning names every job created, with its id, and those in doubt.

        Args:
            requests: The jobs.
            concurrency: At most this many submissions under way at once (``None``: the
                rate limiter and the pool decide).
            return_exceptions: Put a failed submission's error in its slot and submit every
                other job, like :func:`asyncio.gather`.
            retry: Each submission's retry budget.
            on_submitted: Called with ``(index, job)`` as each job is created (errors it
                raises are logged).
            max_unfinished: Keep at most this many of these jobs unfinished at any time: the
                next request is read from ``requests`` (lazily: a generator of 100,000 is
                fine) and submitted when the shared poller sees an earlier job SUCCEEDED or
                FAILED. Each request is then checked when it is reached, not all up front.
                The call returns once the last job is submitted (see
                ``docs/arrays-and-definitions.md``).

        Returns:
            One entry per request, in order: the :class:`JobResponse`, or with
            ``return_exceptions`` the error of a failed submission.

        Raises:
            TypeError: ``requests`` is not an iterable of :class:`JobRequest`, or a bad
                ``concurrency``/``on_submitted``.
            ValueError: ``concurrency`` or ``max_unfinished`` below 1, or a bad request (too many
                tags, a field that does not apply to its definition's kind).
            ConfigurationError: No job queue or job definition is configured, or credentials fail.
            JobDefinitionNotFoundError: No ACTIVE revision matches a request's definition.
            BatchAPIError: A definition's lookup (DescribeJobDefinitions) failed; a damaged answer
                is a ``MalformedResponseError``.
            BatchConnectionError: A definition's lookup could not reach the endpoint (a
                ``CallTimeoutError`` past ``BatchConfig.call_timeout``).
            SubmitJobsError: A submission failed (without ``return_exceptions``).
            ServiceClosedError: The service is not open, or was closed meanwhile.
        """
        return await self._submitting.submit_many(
            requests,
            concurrency=concurrency,
            return_exceptions=return_exceptions,
            retry=retry,
            on_submitted=on_submitted,
            max_unfinished=max_unfinished,
        )

    # -----------------------------------------------------------------------------------------
    # Reading

    async def get_job_status(self, job_id: str) -> JobDetail:
        """Describe one job.

        Args:
            job_id: The job's id.

        Returns:
            The job's current :class:`JobDetail`.

        Raises:
            TypeError: ``job_id`` is not a string.
            ValueError: ``job_id`` is empty.
            JobNotFoundError: AWS does not know the id (or not yet, right after SubmitJob).
            MalformedResponseError: A damaged DescribeJobs answer (at any depth).
            CallTimeoutError: DescribeJobs outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or ``aclose()`` broke the read.
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
            MalformedResponseError: A damaged DescribeJobs answer (at any depth).
            CallTimeoutError: DescribeJobs outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or ``aclose()`` broke the read.
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
            ConfigurationError: No queue given or configured; (while iterating) credentials fail.
            MalformedResponseError: (while iterating) A damaged answer (at any depth).
            CallTimeoutError: (while iterating) A call outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: (while iterating) No connection could be made, or it broke.
            BatchAPIError: (while iterating) AWS answered with an error.
            ServiceClosedError: The service is not open, or (while iterating) ``aclose()`` broke
                the read.
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
            MalformedResponseError: (while iterating) A damaged DescribeJobs or GetLogEvents answer.
            CallTimeoutError: (while iterating) A call outlasted ``BatchConfig.call_timeout``.
            BatchAPIError: (while iterating) DescribeJobs or GetLogEvents failed.
            BatchConnectionError: (while iterating) an endpoint could not be reached.
            ConfigurationError: (while iterating) the Logs client cannot be created, or
                credentials fail.
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
                subscribe=None if self.config.events is None else self._waiting.follow_changes,
                telemetry=self._telemetry,
            )
        events = self._log_reader.events(
            job_id, attempt=attempt, follow=follow, container=container, node=node
        )
        return IterateOnly(events, "batch.get_logs(...)")

    # -----------------------------------------------------------------------------------------
    # Waiting (``_waiting/``)

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
            ConfigurationError: Credentials cannot be found or refreshed (fails the wait).
            BatchError: The poller failed unexpectedly (the cause is attached).
            ServiceClosedError: The service is not open, or was closed while waiting.
            TypeError: ``job_id`` or ``timeout`` of the wrong type.
            ValueError: An empty id, or a timeout or ``stuck_after`` that is negative, NaN or
                beyond a float.
        """
        return await self._waiting.wait_for(
            job_id, timeout=timeout, raise_on_failure=raise_on_failure, stuck_after=stuck_after
        )

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
            ConfigurationError: Credentials cannot be found or refreshed (fails the wait).
            BatchError: The poller failed unexpectedly.
            ServiceClosedError: The service is not open, or was closed while watching.
            TypeError: ``job_id`` or ``timeout`` of the wrong type.
            ValueError: An empty id, or a timeout or ``stuck_after`` that is negative, NaN or
                beyond a float.
        """
        changes = self._waiting.watch(job_id, timeout=timeout, stuck_after=stuck_after)
        async with contextlib.aclosing(changes):
            async for job in changes:
                yield job

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
            ConfigurationError: Credentials cannot be found or refreshed (fails the wait).
            BatchError: The poller failed unexpectedly.
            ServiceClosedError: The service is not open, or was closed while waiting.
            TypeError: ``job_ids`` is a single string.
            ValueError: An id is empty, or the timeout or ``stuck_after`` is negative, NaN or
                beyond a float.
        """
        finished = self._waiting.as_completed(job_ids, timeout=timeout, stuck_after=stuck_after)
        async with contextlib.aclosing(finished):
            async for job in finished:
                yield job

    # -----------------------------------------------------------------------------------------
    # Stopping one job (``_operations/facade.py``)

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
            CallTimeoutError: CancelJob outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open.
        """
        await self._stopping.cancel_job(job_id, reason)

    async def terminate_job(self, job_id: str, reason: str) -> None:
        """Terminate a job: STARTING/RUNNING jobs are stopped, earlier ones cancelled.

        Args:
            job_id: The job's id.
            reason: Why (1-1024 characters); shown as the job's status reason.

        Raises:
            TypeError: ``job_id`` or ``reason`` is not a string.
            ValueError: Empty id or bad reason.
            CallTimeoutError: TerminateJob outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open.
        """
        await self._stopping.terminate_job(job_id, reason)

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
            MalformedResponseError: A 2xx answer that is not DescribeJobs's result.
            CallTimeoutError: DescribeJobs or TerminateJob outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or ``aclose()`` broke DescribeJobs.
        """
        return await self._stopping.stop_job(job_id, reason)

    # -----------------------------------------------------------------------------------------
    # Any operation, infrastructure, explain, bulk stop (``_operations/``)

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
            MalformedResponseError: A 2xx answer that is not the operation's result.
            CallTimeoutError: The call outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error (``ThrottlingError`` after the retries).
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or ``aclose()`` broke a read
                (``Describe*``, ``List*``, ``Get*``).
        """
        return await self._operating.call(operation, **params)

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
            MalformedResponseError: (while iterating) A damaged answer (at any depth).
            CallTimeoutError: (while iterating) A call outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: (while iterating) No connection could be made, or it broke.
            BatchAPIError: (while iterating) AWS answered with an error.
            ConfigurationError: (while iterating) Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or (while iterating) ``aclose()`` broke
                the read.
        """
        return self._operating.paginate(operation, **params)

    def describe_job_queues(self, names: Iterable[str] | None = None) -> AsyncIterator[JobQueue]:
        """Describe job queues (100 names per call, every page).

        Args:
            names: Queue names or ARNs; ``None`` describes every queue.

        Returns:
            An async iterator of :class:`JobQueue`; unknown names are absent.

        Raises:
            TypeError: ``names`` is a string or holds a non-string.
            ValueError: An empty name.
            MalformedResponseError: (while iterating) A damaged answer (at any depth).
            CallTimeoutError: (while iterating) A call outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: (while iterating) No connection could be made, or it broke.
            BatchAPIError: (while iterating) AWS answered with an error.
            ConfigurationError: (while iterating) Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or (while iterating) ``aclose()`` broke
                the read.
        """
        return self._operating.operations().describe_job_queues(names)

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
            MalformedResponseError: (while iterating) A damaged answer (at any depth).
            CallTimeoutError: (while iterating) A call outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: (while iterating) No connection could be made, or it broke.
            BatchAPIError: (while iterating) AWS answered with an error.
            ConfigurationError: (while iterating) Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or (while iterating) ``aclose()`` broke
                the read.
        """
        return self._operating.operations().describe_compute_environments(names)

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
            ValueError: An empty name, an unknown status, or a malformed reference (``"name:"``).
            MalformedResponseError: (while iterating) A damaged answer (at any depth).
            CallTimeoutError: (while iterating) A call outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: (while iterating) No connection could be made, or it broke.
            BatchAPIError: (while iterating) AWS answered with an error.
            ConfigurationError: (while iterating) Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or (while iterating) ``aclose()`` broke
                the read.
        """
        return self._operating.operations().describe_job_definitions(name, status=status)

    async def latest_job_definition(self, name: str) -> JobDefinition | None:
        """The highest ACTIVE revision of a job definition, or ``None`` if it has none.

        Raises:
            TypeError: ``name`` is not a string.
            ValueError: ``name`` is empty or names a revision.
            MalformedResponseError: A damaged DescribeJobDefinitions answer (at any depth).
            CallTimeoutError: DescribeJobDefinitions outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or ``aclose()`` broke the read.
        """
        return await self._operating.operations().latest_job_definition(name)

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
            TypeError: Both ``definition`` and keywords, or a ``definition`` that is neither a
                typed definition nor a mapping.
            ValueError: Bad or missing fields (``pydantic.ValidationError`` included).
            MalformedResponseError: A 2xx answer that is not RegisterJobDefinition's result.
            CallTimeoutError: The call outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS rejected the definition.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open.
        """
        return await self._operating.operations().register_job_definition(definition, fields)

    async def deregister_job_definition(self, job_definition: str) -> None:
        """Deregister one revision (``name:revision`` or ARN); it becomes INACTIVE.

        Raises:
            TypeError: Not a string.
            ValueError: Empty.
            CallTimeoutError: DeregisterJobDefinition outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open.
        """
        await self._operating.operations().deregister_job_definition(job_definition)

    async def get_job_queue_snapshot(self, queue: str | None = None) -> JobQueueSnapshot:
        """The front of a queue (its first RUNNABLE jobs, oldest first) and its capacity use.

        Args:
            queue: Queue name or ARN; the config's ``job_queue`` if omitted.

        Raises:
            TypeError: ``queue`` is not a string.
            ValueError: ``queue`` is empty.
            ConfigurationError: No queue given or configured, or credentials fail.
            MalformedResponseError: A 2xx answer that is not the read's result (at any depth).
            CallTimeoutError: A read outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error.
            ServiceClosedError: The service is not open, or ``aclose()`` broke the read.
        """
        return await self._operating.operations().get_job_queue_snapshot(queue)

    async def explain(self, job_id: str) -> JobDiagnosis:
        """Explain where a job stands and, above all, why it is stuck in RUNNABLE.

        Reads the job and, only as far as needed, its dependencies, queue, compute
        environments, job definition and the queue snapshot, each at most once. A failed read of
        one of those (an IAM denial, a damaged answer, a connection error or timeout) is said in
        ``reasons`` instead of failing the diagnosis. The verdicts and their order:
        ``docs/operations.md``.

        Returns:
            The :class:`JobDiagnosis` (``job``, ``verdict``, ``reasons``).

        Raises:
            TypeError: ``job_id`` is not a string.
            ValueError: ``job_id`` is empty.
            JobNotFoundError: AWS does not know the job.
            MalformedResponseError: DescribeJobs answered the job damaged (a failed read of
                its surroundings is said in ``reasons``).
            CallTimeoutError: DescribeJobs of the job outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: DescribeJobs of the job could not reach the endpoint.
            BatchAPIError: DescribeJobs of the job failed.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or ``aclose()`` broke the read.
        """
        return await self._operating.operations().explain(job_id)

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
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open.
        """
        return await self._operating.operations().cancel_jobs(job_ids, reason)

    async def terminate_jobs(self, job_ids: Iterable[str], reason: str) -> BulkStopResult:
        """Terminate jobs, in TerminateJobs calls of 50 ids (paced; single calls as fallback).

        Returns:
            The ids AWS accepted (unknown ids too: AWS treats them as processed), and the
            error of each one it did not.

        Raises:
            TypeError: ``job_ids`` is a string or holds a non-string; ``reason`` no string.
            ValueError: An empty id, or a bad reason.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open.
        """
        return await self._operating.operations().terminate_jobs(job_ids, reason)

    async def stop_jobs(self, job_ids: Iterable[str], reason: str) -> BulkStopResult:
        """Stop jobs whatever their status (TerminateJobs covers every unfinished status).

        Returns:
            The ids AWS accepted (unknown ids too: AWS treats them as processed), and the
            error of each one it did not.

        Raises:
            TypeError: ``job_ids`` is a string or holds a non-string; ``reason`` no string.
            ValueError: An empty id, or a bad reason.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open.
        """
        return await self._operating.operations().stop_jobs(job_ids, reason)

    # -----------------------------------------------------------------------------------------
    # Events (``_waiting/event_setup.py``)

    async def ensure_event_queue(
        self,
        queue_name: str,
        *,
        job_queue: str | None = None,
        job_name_prefix: str | None = None,
    ) -> str:
        """Create (or keep) an SQS queue fed with the job queue's ``Batch Job State Change`` events.

        Idempotent: it creates the standard SQS queue if missing, adds a statement to its
        policy that lets ``events.amazonaws.com`` send from this rule only
        (``aws:SourceArn``), and puts an EventBridge rule on the default bus with the queue as
        its target. Calling it again changes nothing; a second job queue or prefix gets a
        rule of its own on the same queue. Put the returned URL in
        ``BatchConfig(events=EventsConfig(queue_url=...))``.

        Needs ``batch:DescribeJobQueues``, ``sqs:CreateQueue``, ``sqs:GetQueueAttributes``,
        ``sqs:SetQueueAttributes``, ``events:PutRule`` and ``events:PutTargets``.

        Args:
            queue_name: The SQS queue's name (1-80 letters, digits, ``-`` or ``_``; not FIFO).
            job_queue: The Batch job queue (name or ARN); the config's ``job_queue`` if omitted.
            job_name_prefix: Only events of jobs whose name starts with this (EventBridge
                ``prefix`` matching): one queue per process, each naming its jobs apart.

        Returns:
            The queue's URL.

        Raises:
            TypeError: An argument is not a string.
            ValueError: A bad queue name or prefix.
            ConfigurationError: No job queue given or configured, or it does not exist, or
                credentials fail.
            MalformedResponseError: A damaged answer (at any depth).
            CallTimeoutError: A call outlasted ``BatchConfig.call_timeout``.
            BatchAPIError: AWS refused a call (the botocore error is the ``__cause__``).
            BatchConnectionError: An endpoint could not be reached.
            ServiceClosedError: The service is not open.
        """
        return await self._event_setup.ensure_event_queue(
            queue_name, job_queue=job_queue, job_name_prefix=job_name_prefix
        )

    # -----------------------------------------------------------------------------------------
    # A job's whole life (``_lifecycle/``)

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
            JobNotFoundError: DescribeJobs does not know the job (see :meth:`wait_for`).
            ConfigurationError: No job queue or definition is configured, or credentials fail.
            JobDefinitionNotFoundError: No ACTIVE revision matches the definition.
            BatchAPIError: The submit failed, or DescribeJobs with an error retrying cannot fix.
            BatchConnectionError: The submit could not reach AWS (see :meth:`submit_job`).
            SubmitOutcomeUnknownError: Whether a job was created could not be established.
            ServiceClosedError: The service is not open, or was closed meanwhile.
        """
        return await self._lifecycle.run_job(
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
            TypeError: ``job_id`` is not a string, or ``change`` is not callable.
            ValueError: An empty id, or the change returned ``None`` (it declined).
            JobNotFoundError: AWS does not know the job.
            MalformedResponseError: A damaged DescribeJobs answer.
            CallTimeoutError: DescribeJobs outlasted ``BatchConfig.call_timeout``.
            BatchAPIError: DescribeJobs or SubmitJob failed (see :meth:`submit_job`).
            BatchConnectionError: DescribeJobs or the submit could not reach AWS.
            SubmitOutcomeUnknownError: Whether the job was created could not be established.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or was closed meanwhile.
        """
        return await self._lifecycle.resubmit(job_id, change)

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
            TypeError: ``job_id`` is not a string.
            ValueError: ``job_id`` is empty.
            JobNotFoundError: AWS does not know the job.
            MalformedResponseError: A damaged DescribeJobs answer (at any depth).
            CallTimeoutError: DescribeJobs outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: DescribeJobs failed.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or ``aclose()`` broke the read.
        """
        return await self._lifecycle.request_of(job_id)

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
            MalformedResponseError: A damaged ListJobs answer (at any depth).
            CallTimeoutError: ListJobs outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or ``aclose()`` broke the read.
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
            MalformedResponseError: A damaged ListJobs or DescribeJobs answer.
            CallTimeoutError: A read outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: ListJobs or DescribeJobs failed.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or ``aclose()`` broke a read.
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
            MalformedResponseError: A damaged DescribeJobDefinitions or RegisterJobDefinition
                answer.
            CallTimeoutError: A call outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or ``aclose()`` broke a read.
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
            MalformedResponseError: A damaged DescribeJobDefinitions answer.
            CallTimeoutError: A call outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or ``aclose()`` broke a read.
        """
        self._clients.batch()
        return await self._definition_sync.prune(name, keep)

    # -----------------------------------------------------------------------------------------
    # SageMaker service jobs (``_service_jobs/``)

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
            TypeError: ``request`` is not a :class:`ServiceJobRequest`.
            ConfigurationError: No queue given or configured, or credentials fail.
            SubmitOutcomeUnknownError: A send's outcome stayed unknown and no job was found.
            ThrottlingError: Throttled beyond ``SubmitRetry.max_throttled``.
            BatchError: Still throttled when ``SubmitRetry.timeout`` elapsed.
            BatchAPIError: AWS refused the request.
            BatchConnectionError: The endpoint could not be reached.
            ServiceClosedError: The service is not open.
        """
        return await self._service_jobs.submit(request, retry)

    async def describe_service_job(self, job_id: str) -> ServiceJobDetail:
        """Describe one service job (DescribeServiceJob).

        Args:
            job_id: The job's id.

        Returns:
            Its :class:`ServiceJobDetail`.

        Raises:
            TypeError: ``job_id`` is not a string.
            ValueError: ``job_id`` is empty.
            JobNotFoundError: AWS does not know the id.
            MalformedResponseError: A damaged DescribeServiceJob answer (at any depth).
            CallTimeoutError: DescribeServiceJob outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open, or ``aclose()`` broke the read.
        """
        return await self._service_jobs.describe(job_id)

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
            ConfigurationError: No queue given or configured; (while iterating) credentials fail.
            ValueError: A bad status or page size.
            MalformedResponseError: (while iterating) A damaged answer (at any depth).
            CallTimeoutError: (while iterating) A call outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: (while iterating) No connection could be made, or it broke.
            BatchAPIError: (while iterating) AWS answered with an error.
            ServiceClosedError: The service is not open, or (while iterating) ``aclose()`` broke
                the read.
        """
        return self._service_jobs.listing(job_queue, job_status, job_name, page_size)

    async def terminate_service_job(self, job_id: str, reason: str) -> None:
        """Terminate a service job (TerminateServiceJob); it ends FAILED.

        Args:
            job_id: The job's id.
            reason: Why (1-1024 characters).

        Raises:
            TypeError: ``job_id`` or ``reason`` is not a string.
            ValueError: Empty id or bad reason.
            CallTimeoutError: TerminateServiceJob outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open.
        """
        await self._service_jobs.terminate(job_id, reason)

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
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open.
        """
        return await self._service_jobs.terminate_many(job_ids, reason)

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
            MalformedResponseError: A 2xx answer that is not UpdateServiceJob's result.
            CallTimeoutError: UpdateServiceJob outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: No connection could be made, or it broke.
            BatchAPIError: AWS answered with an error.
            ConfigurationError: Credentials cannot be found or refreshed.
            ServiceClosedError: The service is not open.
        """
        return await self._service_jobs.update(job_id, scheduling_priority)

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
            JobNotFoundError: DescribeServiceJob does not know the job, at its first answer
                (``PollPolicy.not_found_grace_all_ids`` gives it ``not_found_grace`` seconds).
            BatchAPIError: DescribeServiceJob failed with an error retrying cannot fix.
            ConfigurationError: Credentials cannot be found or refreshed (fails the wait).
            ServiceClosedError: The service is not open, or was closed while waiting.
            TypeError: ``job_id`` or ``timeout`` of the wrong type.
            ValueError: An empty id, or a timeout that is negative or NaN.
        """
        return await self._service_jobs.wait(job_id, timeout, raise_on_failure)

    # -----------------------------------------------------------------------------------------
    # The parts, each created on first use with its collaborators (docs/architecture.md)

    @property
    def _submitting(self) -> Submitting:
        parts = self._parts
        if parts.submitting is None:
            from ._submitting.facade import Submitting

            parts.submitting = Submitting(
                self._clients,
                self.config,
                self.logger,
                note_submitted=self._waiting.note_submitted,
                wait_done=functools.partial(self.wait_for, raise_on_failure=False),
            )
        return parts.submitting

    @property
    def _waiting(self) -> Waiting:
        parts = self._parts
        if parts.waiting is None:
            from ._waiting.facade import Waiting

            parts.waiting = Waiting(
                self._clients,
                self.config,
                self.logger,
                describe=self._describe_raw,
                explain=self.explain,
            )
        return parts.waiting

    @property
    def _service_jobs(self) -> ServiceJobHandling:
        parts = self._parts
        if parts.service_jobs is None:
            from ._service_jobs.facade import ServiceJobHandling

            parts.service_jobs = ServiceJobHandling(self._clients, self.config, self.logger)
        return parts.service_jobs

    @functools.cached_property
    def _stopping(self) -> Stopping:
        from ._operations.facade import Stopping

        return Stopping(
            self._clients,
            self.logger,
            last_seen=self._seen_status.get,
            describe=self.get_job_status,
        )

    @functools.cached_property
    def _operating(self) -> Operating:
        from ._operations.facade import Operating

        return Operating(self._clients, self.config, self.logger)

    @functools.cached_property
    def _event_setup(self) -> EventSetup:
        from ._waiting.event_setup import EventSetup

        return EventSetup(self._clients, self.config, self.logger)

    @functools.cached_property
    def _lifecycle(self) -> Lifecycle:
        from ._lifecycle.facade import Lifecycle

        return Lifecycle(
            self._submitting,
            wait_for=self.wait_for,
            get_logs=self.get_logs,
            terminate=self.terminate_job,
            describe=self.get_job_status,
            logger=self.logger,
        )


@dataclasses.dataclass
class _Parts:
    """The parts of a service that hold tasks or send slots, once created: ``aclose`` closes
    them (the other parts hold nothing to close)."""

    submitting: Submitting | None = None
    waiting: Waiting | None = None
    service_jobs: ServiceJobHandling | None = None


publish(__name__)
