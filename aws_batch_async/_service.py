"""``BatchService``: the async client, over ONE pooled aiobotocore client per service."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from contextlib import AsyncExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.exceptions import BotoCoreError, ClientError

from ._config import BatchConfig
from ._errors import (
    BOTOCORE_CONFIG_ERRORS,
    BatchError,
    ConfigurationError,
    JobFailedError,
    JobNotFoundError,
    ServiceClosedError,
    error_from_botocore,
)
from ._models import (
    DESCRIBE_JOBS_MAX_IDS,
    JobDetail,
    JobRequest,
    JobResponse,
    JobStatus,
    JobSummary,
    describe_chunks,
)
from ._submit import OnSubmitted, SubmitRetry, Submitter, disable_botocore_retries
from ._watcher import JobPoller, validate_timeout

if TYPE_CHECKING:
    from types_aiobotocore_batch import BatchClient

    from ._logs import LogReader
    from ._models import LogEvent

__all__ = ["BatchService"]

#: ListJobs page size with a jobStatus (AWS allows 1..1000) and with a filter (1..100).
_LIST_PAGE_SIZE_STATUS = 1000
_LIST_PAGE_SIZE_FILTER = 100
#: How many recently seen job statuses are remembered (for cancel_job's warning).
_STATUS_MEMORY = 10_000
_REASON_MAX = 1024
_STATUS_VALUES = frozenset(s.value for s in JobStatus)


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class BatchService:
    """An asyncio client for AWS Batch.

    Use it as an async context manager; it opens ONE pooled aiobotocore client for its lifetime
    (``BatchConfig.max_pool_connections`` connections) and closes it, and every background task,
    on exit::

        async with BatchService(BatchConfig(job_queue="q", job_definition="d")) as batch:
            job = await batch.submit_job(JobRequest(command=["echo", "hi"]))

    A service is bound to the event loop it was opened on, and cannot be reopened once closed.

    Args:
        config: Settings; ``BatchConfig()`` (botocore's own resolution for everything) if omitted.
        session: An aiobotocore ``AioSession`` or an aioboto3 ``Session`` to create the client
            from. It is used, never closed, by the service.
        logger: Where to log; ``logging.getLogger("aws_batch_async")`` if omitted. INFO for
            submit/cancel/terminate, DEBUG for reads, WARNING for retries. Environment values,
            parameter values and credentials are never logged.
    """

    def __init__(
        self,
        config: BatchConfig | None = None,
        *,
        session: Any | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.config = config if config is not None else BatchConfig()
        self._session = session
        self.logger = logger if logger is not None else logging.getLogger("aws_batch_async")
        self._state = _State.UNOPENED
        self._stack = AsyncExitStack()
        self._client: BatchClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._seen_status: OrderedDict[str, JobStatus] = OrderedDict()
        self._submitter = Submitter(self._call, self.config, self.logger)
        self._poller: JobPoller | None = None  # created by the first wait
        if session is not None and self.config.profile is not None:
            raise ConfigurationError("give either a session or BatchConfig.profile, not both")

    # -----------------------------------------------------------------------------------------
    # Lifecycle

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
            ConfigurationError: No region could be resolved, or the profile does not exist.
        """
        if self._state is not _State.UNOPENED:
            raise ServiceClosedError(
                f"BatchService is {self._state.value}; create a new one instead of reopening it"
            )
        self._loop = asyncio.get_running_loop()
        try:
            client: BatchClient = await self._stack.enter_async_context(
                self._create_client("batch")
            )
        except BOTOCORE_CONFIG_ERRORS as exc:
            await self._stack.aclose()
            self._state = _State.CLOSED
            raise ConfigurationError(f"cannot create the AWS Batch client: {exc}") from exc
        except BaseException:
            await self._stack.aclose()
            self._state = _State.CLOSED
            raise
        self._client = client
        client.meta.events.register("request-created.batch", self._log_retry)
        disable_botocore_retries(client, "SubmitJob")  # _submit.py retries it safely instead
        self._state = _State.OPEN
        self.logger.debug(
            "opened Batch client (region=%s, endpoint=%s, pool=%d)",
            client.meta.region_name,
            self.config.endpoint_url or "default",
            self.config.max_pool_connections,
        )

    async def aclose(self) -> None:
        """Stop background tasks and close the client. Idempotent.

        A session passed in by the caller is not closed.
        """
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        self._submitter.close()  # submits waiting for a send slot fail at once
        await self._stack.aclose()
        self._client = None

    @property
    def is_closed(self) -> bool:
        """True once :meth:`aclose` has run (or opening failed)."""
        return self._state is _State.CLOSED

    def _create_client(self, service_name: str, endpoint_url: str | None = None) -> Any:
        """Return the (unentered) client context of ``service_name`` configured from the config."""
        cfg = self.config
        aio_config = AioConfig(
            max_pool_connections=cfg.max_pool_connections,
            connect_timeout=cfg.connect_timeout,
            read_timeout=cfg.read_timeout,
            retries={"total_max_attempts": cfg.api_max_attempts, "mode": cfg.retry_mode},
            user_agent_extra="aws-batch-async",
        )
        kwargs: dict[str, Any] = {
            "region_name": cfg.region,
            "endpoint_url": endpoint_url or cfg.endpoint_url,
            "config": aio_config,
        }
        if cfg.access_key_id is not None and cfg.secret_access_key is not None:
            kwargs["aws_access_key_id"] = cfg.access_key_id
            kwargs["aws_secret_access_key"] = cfg.secret_access_key.get_secret_value()
            if cfg.session_token is not None:
                kwargs["aws_session_token"] = cfg.session_token.get_secret_value()
        session: Any = self._session
        if session is None:
            session = AioSession(profile=cfg.profile) if cfg.profile else AioSession()
        if hasattr(session, "create_client"):  # aiobotocore AioSession
            return session.create_client(service_name, **kwargs)
        return session.client(service_name, **kwargs)  # aioboto3 Session

    def _require_client(self) -> BatchClient:
        if self._state is not _State.OPEN or self._client is None:
            raise ServiceClosedError(
                "BatchService is not open: use `async with BatchService(config) as batch:`"
                if self._state is _State.UNOPENED
                else "BatchService is closed"
            )
        if asyncio.get_running_loop() is not self._loop:
            raise BatchError("BatchService is bound to the event loop it was opened on")
        return self._client

    def _log_retry(self, request: Any = None, operation_name: str = "", **_: Any) -> None:
        context = getattr(request, "context", None) or {}
        attempt = (context.get("retries") or {}).get("attempt", 1)
        if attempt and attempt > 1:
            self.logger.warning("retrying %s (attempt %d)", operation_name, attempt)

    async def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call a Batch operation, mapping botocore's errors to ours (``__cause__`` kept)."""
        client = self._require_client()
        method = getattr(client, _snake(operation))
        try:
            response: dict[str, Any] = await method(**params)
        except (ClientError, BotoCoreError) as exc:
            raise error_from_botocore(exc, operation) from exc
        return response

    def _remember(self, job_id: str, status: JobStatus) -> None:
        seen = self._seen_status
        seen[job_id] = status
        seen.move_to_end(job_id)
        while len(seen) > _STATUS_MEMORY:
            seen.popitem(last=False)

    # -----------------------------------------------------------------------------------------
    # Submitting

    async def submit_job(
        self, request: JobRequest, *, retry: SubmitRetry | None = None
    ) -> JobResponse:
        """Submit one job, exactly once.

        Every submit of the service is paced by one shared rate limiter
        (``BatchConfig.submit_rate_limit`` calls/s; it slows down when AWS throttles), so
        ``asyncio.gather`` over many ``submit_job`` calls flows at the limit.

        botocore never retries SubmitJob: this method does. A throttled send is sent again
        after a backoff. A send whose outcome is unknown (a 5xx, a dropped connection, a read
        timeout: AWS may have created the job) is first looked up by name and, with
        ``BatchConfig.idempotent_submit`` on, by a unique token that each submission carries as
        the tag ``aws-batch-async:submit-token`` (hidden from :attr:`JobDetail.tags`; tagging
        needs the IAM permission ``batch:TagResource``). It is sent again only if no job was
        created, so each call creates one job and returns that job, also when several callers
        use the same job name. See ``docs/reliability.md`` for the residual risk.

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
            ValueError: The request has 50 tags while ``idempotent_submit`` is on (the token
                takes one of AWS's 50).
            ConfigurationError: No job queue or job definition is configured.
            ThrottlingError: AWS kept throttling beyond the retry budget.
            BatchAPIError: AWS rejected the job (e.g. unknown queue), or kept failing and no
                job was created.
            BatchConnectionError: The connection kept failing and no job was created.
            SubmitOutcomeUnknownError: Whether the job was created could not be established
                (it was not sent again).
            ServiceClosedError: The service is not open.
        """
        submission = self._submitter.prepare(request)
        policy = _check_retry(retry)
        self._require_client()
        return await self._submitter.submit(submission, policy)

    @overload
    async def submit_jobs(
        self,
        requests: Iterable[JobRequest],
        *,
        concurrency: int | None = None,
        return_exceptions: Literal[False] = False,
        retry: SubmitRetry | None = None,
        on_submitted: OnSubmitted | None = None,
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
    ) -> list[JobResponse | BaseException]: ...

    async def submit_jobs(
        self,
        requests: Iterable[JobRequest],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = False,
        retry: SubmitRetry | None = None,
        on_submitted: OnSubmitted | None = None,
    ) -> list[JobResponse] | list[JobResponse | BaseException]:
        """Submit many jobs, each exactly once (see :meth:`submit_job`), paced by the limiter.

        Every request is validated before the first call is made. Jobs are sent in request
        order at ``BatchConfig.submit_rate_limit``.

        If a submission fails and ``return_exceptions`` is False, no further job is sent,
        submissions already under way finish, and :class:`SubmitJobsError` lists what was
        created. If the call is cancelled, the jobs created so far stay in view: each was
        passed to ``on_submitted`` as it was created, and a warning lists them along with the
        names of the jobs whose submission was under way (they may exist). The cancellation
        itself propagates unchanged.

        Args:
            requests: The jobs.
            concurrency: At most this many submissions under way at once; ``None`` leaves the
                pacing to the rate limiter and the connection pool.
            return_exceptions: Put a failed submission's error in its slot and submit every
                other job, like :func:`asyncio.gather`.
            retry: Each submission's retry budget; :class:`SubmitRetry` defaults if omitted.
            on_submitted: Called with ``(index, job)`` as soon as each job is created (errors
                it raises are logged, not propagated).

        Returns:
            One entry per request, in request order: the :class:`JobResponse`, or with
            ``return_exceptions`` the error of a failed submission.

        Raises:
            TypeError: ``requests`` is not an iterable of :class:`JobRequest`, or
                ``concurrency`` is not an int.
            ValueError: ``concurrency`` is below 1, or a request has too many tags.
            ConfigurationError: No job queue or job definition is configured.
            SubmitJobsError: A submission failed (without ``return_exceptions``); it lists the
                jobs created, the errors, and the requests not submitted.
            ServiceClosedError: The service is not open.
        """
        given: object = requests
        if isinstance(given, (str, bytes, JobRequest)) or not isinstance(given, Iterable):
            raise TypeError(
                f"requests must be an iterable of JobRequest, not {type(given).__name__}"
            )
        if concurrency is not None:
            if isinstance(concurrency, bool) or not isinstance(concurrency, int):
                raise TypeError(
                    f"concurrency must be an int or None, not {type(concurrency).__name__}"
                )
            if concurrency < 1:
                raise ValueError("concurrency must be >= 1")
        if on_submitted is not None and not callable(on_submitted):
            raise TypeError("on_submitted must be callable")
        policy = _check_retry(retry)
        submissions = [
            self._submitter.prepare(request, f"requests[{i}]") for i, request in enumerate(requests)
        ]
        self._require_client()
        if not submissions:
            return []
        return await self._submitter.submit_many(
            submissions,
            policy,
            concurrency=concurrency,
            return_exceptions=return_exceptions,
            on_submitted=on_submitted,
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
            JobNotFoundError: AWS does not know the id (or not yet: right after SubmitJob AWS
                can take a moment to show a job).
            BatchAPIError: AWS answered with an error.
        """
        _check_job_id(job_id)
        jobs = await self.describe_jobs([job_id])
        if not jobs:
            raise JobNotFoundError(job_id)
        return jobs[0]

    async def describe_jobs(self, job_ids: Iterable[str]) -> list[JobDetail]:
        """Describe any number of jobs, in DescribeJobs calls of at most 100 ids.

        Args:
            job_ids: Job ids; duplicates are described once.

        Returns:
            The jobs found, in the order of ``job_ids``. Unknown ids are absent.

        Raises:
            ValueError: An id is empty or not a string.
            BatchAPIError: AWS answered with an error.
        """
        if isinstance(job_ids, str):
            raise TypeError("describe_jobs takes a list of job ids, not a string")
        ids = list(dict.fromkeys(job_ids))
        for job_id in ids:
            _check_job_id(job_id)
        self._require_client()
        if not ids:
            return []
        pages = await asyncio.gather(*(self._describe_raw(chunk) for chunk in describe_chunks(ids)))
        by_id = {raw["jobId"]: raw for page in pages for raw in page}
        return [JobDetail.model_validate(by_id[i]) for i in ids if i in by_id]

    async def _describe_raw(self, job_ids: Sequence[str]) -> list[dict[str, Any]]:
        """One DescribeJobs call (at most 100 ids); the raw job dicts AWS returned.

        Every read of job statuses (``describe_jobs``, ``get_job_status`` and the poller behind
        the waits) goes through here, so the statuses seen are remembered for ``cancel_job``.
        """
        if len(job_ids) > DESCRIBE_JOBS_MAX_IDS:
            raise ValueError(f"DescribeJobs takes at most {DESCRIBE_JOBS_MAX_IDS} ids")
        self.logger.debug("DescribeJobs for %d job(s)", len(job_ids))
        response = await self._call("DescribeJobs", jobs=list(job_ids))
        jobs: list[dict[str, Any]] = response.get("jobs", [])
        for raw in jobs:
            status = raw.get("status")
            if isinstance(raw.get("jobId"), str) and status in _STATUS_VALUES:
                self._remember(raw["jobId"], JobStatus(status))
        return jobs

    async def list_jobs(
        self,
        job_queue: str | None = None,
        job_status: JobStatus | str | None = None,
        *,
        job_name: str | None = None,
        array_job_id: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[JobSummary]:
        """Yield the jobs of a queue (or an array job's children), across every page.

        Unlike bare ListJobs, which returns only RUNNING jobs when it is given neither a status
        nor a filter, this yields jobs of **every** status when ``job_status`` is None, each
        once. Pages are fetched only as the caller iterates, so memory stays constant.

        Args:
            job_queue: Queue name or ARN; defaults to the config's ``job_queue``.
            job_status: Only jobs in this status.
            job_name: Only jobs with this name (case-insensitive); a trailing ``*`` matches a
                prefix. Sent as ListJobs' JOB_NAME filter.
            array_job_id: List this array job's children instead of a queue.
            page_size: Jobs per ListJobs call (1..1000 with a status, 1..100 otherwise).

        Yields:
            :class:`JobSummary` objects; by queue, newest first when no status is given.

        Raises:
            ValueError: Bad arguments (unknown status, both queue and array job...).
            ConfigurationError: No queue given or configured.
            BatchAPIError: AWS answered with an error.
        """
        status = _parse_status(job_status)
        if job_name is not None and (not job_name or len(job_name) > 128):
            raise ValueError("job_name must be 1-128 characters")
        if array_job_id is not None:
            _check_job_id(array_job_id, "array_job_id")
            if job_queue is not None:
                raise ValueError("give job_queue or array_job_id, not both")
            if job_name is not None:
                raise ValueError("ListJobs filters (job_name) do not apply to array children")
            target: dict[str, Any] = {"arrayJobId": array_job_id}
        else:
            queue = job_queue or self.config.job_queue
            if not queue:
                raise ConfigurationError(
                    "no job queue: pass job_queue or set BatchConfig.job_queue"
                )
            target = {"jobQueue": queue}
        use_filter = array_job_id is None and (job_name is not None or status is None)
        limit = _LIST_PAGE_SIZE_FILTER if use_filter else _LIST_PAGE_SIZE_STATUS
        if page_size is not None and not 1 <= page_size <= limit:
            raise ValueError(f"page_size must be 1..{limit} for this listing")
        self._require_client()
        size = page_size or limit

        if use_filter:
            # With a filter ListJobs ignores jobStatus and returns jobs of every status, newest
            # first: one consistent pass. AFTER_CREATED_AT=0 matches every job.
            flt = (
                {"name": "JOB_NAME", "values": [job_name]}
                if job_name is not None
                else {"name": "AFTER_CREATED_AT", "values": ["0"]}
            )
            async for summary in self._list_pages({**target, "filters": [flt]}, size):
                if status is None or summary.status is status:
                    yield summary
        elif status is not None:
            async for summary in self._list_pages({**target, "jobStatus": status.value}, size):
                yield summary
        else:
            # Array children: filters do not apply, so walk every status. A child can change
            # status between two calls; each id is yielded once.
            seen: set[str] = set()
            for each in JobStatus:
                async for summary in self._list_pages({**target, "jobStatus": each.value}, size):
                    if summary.job_id not in seen:
                        seen.add(summary.job_id)
                        yield summary

    async def _list_pages(
        self, params: dict[str, Any], page_size: int
    ) -> AsyncIterator[JobSummary]:
        token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            call = {**params, "maxResults": page_size}
            if token:
                call["nextToken"] = token
            self.logger.debug("ListJobs %s", {k: v for k, v in call.items() if k != "nextToken"})
            response = await self._call("ListJobs", **call)
            for raw in response.get("jobSummaryList", []):
                yield JobSummary.model_validate(raw)
            token = response.get("nextToken")
            if not token or token in seen_tokens:
                return
            seen_tokens.add(token)

    # -----------------------------------------------------------------------------------------
    # Waiting

    async def wait_for(
        self, job_id: str, *, timeout: float | None = None, raise_on_failure: bool = True
    ) -> JobDetail:
        """Wait until a job is SUCCEEDED or FAILED.

        Every wait of this service is served by one background poller that describes all the
        waited-for jobs together, in DescribeJobs calls of up to 100 ids, with backoff and
        jitter per job (see :class:`~aws_batch_async.PollPolicy`). So the common idiom
        ``await asyncio.gather(*(batch.wait_for(j) for j in job_ids))`` costs ⌈N/100⌉ calls
        per sweep, not N. Throttling and server errors of DescribeJobs slow the poller down;
        they never fail the wait.

        Cancelling the task that awaits this cancels the wait only: the AWS job keeps running
        (use :meth:`stop_job` to stop it) and other waits, even on the same job, carry on.

        Args:
            job_id: The job's id.
            timeout: Seconds to wait at most; ``None`` waits as long as it takes.
            raise_on_failure: Raise :class:`~aws_batch_async.JobFailedError` when the job ends
                FAILED (the default); when false, return the FAILED job instead.

        Returns:
            The job's terminal :class:`JobDetail` (SUCCEEDED, or FAILED if
            ``raise_on_failure`` is false).

        Raises:
            JobFailedError: The job ended FAILED; ``.job`` has its status reason, exit code
                and log stream.
            WaitTimeoutError: ``timeout`` elapsed first (it is also a ``TimeoutError``);
                ``.job`` is the last :class:`JobDetail` seen, or ``None``. The job keeps running.
            JobNotFoundError: DescribeJobs did not return the job for
                ``PollPolicy.not_found_grace`` seconds.
            BatchAPIError: DescribeJobs failed with an error that retrying cannot fix (e.g.
                access denied).
            ServiceClosedError: The service is not open, or was closed while waiting.
            ValueError: The id is empty or the timeout negative.
        """
        _check_job_id(job_id)
        validate_timeout(timeout)
        subscription = self._job_poller().subscribe([job_id], timeout=timeout)
        try:
            job = await subscription.get()
        finally:
            subscription.close()
        if raise_on_failure and job.status is JobStatus.FAILED:
            raise JobFailedError(job)
        return job

    async def watch(
        self, job_id: str, *, timeout: float | None = None
    ) -> AsyncGenerator[JobDetail, None]:
        """Follow a job: yield its detail each time its status changes, until it is terminal.

        The first detail is yielded at the first poll. An array parent is also yielded when its
        ``array_properties.status_summary`` changes, so a progress bar can follow its children.
        A status that starts and ends between two polls is not seen. Polling is shared with
        every other wait of the service, as for :meth:`wait_for`.

        Breaking out of the loop, or cancelling the task iterating, ends the watch only: the
        AWS job keeps running and other waits carry on. (Use ``contextlib.aclosing`` to end it
        promptly when breaking out.)

        Args:
            job_id: The job's id.
            timeout: Seconds, from the first iteration, that the whole watch may take.

        Yields:
            :class:`JobDetail` objects; the last one is SUCCEEDED or FAILED. A FAILED job is
            yielded, not raised.

        Raises:
            WaitTimeoutError: ``timeout`` elapsed before the job was terminal; ``.job`` is the
                last detail seen (or ``None``).
            JobNotFoundError: DescribeJobs did not return the job within the grace period.
            BatchAPIError: DescribeJobs failed with an error that retrying cannot fix.
            ServiceClosedError: The service is not open, or was closed while watching.
            ValueError: The id is empty or the timeout negative.
        """
        _check_job_id(job_id)
        validate_timeout(timeout)
        subscription = self._job_poller().subscribe([job_id], every_change=True, timeout=timeout)
        try:
            async for job in subscription:
                yield job
        finally:
            subscription.close()

    async def as_completed(
        self, job_ids: Iterable[str], *, timeout: float | None = None
    ) -> AsyncGenerator[JobDetail, None]:
        """Yield each job once, when it is terminal, in the order they finish.

        FAILED jobs are yielded like SUCCEEDED ones, not raised: check ``job.status``. (One
        failure among many is data to act on, not a reason to abandon the other waits.)
        Polling is shared with every other wait of the service, as for :meth:`wait_for`.

        Breaking out of the loop, or cancelling the task iterating, ends these waits only: the
        AWS jobs keep running and other waits carry on.

        Args:
            job_ids: The jobs; duplicates are yielded once.
            timeout: Seconds, from the first iteration, for all the jobs to finish.

        Yields:
            Terminal :class:`JobDetail` objects, in completion order.

        Raises:
            WaitTimeoutError: ``timeout`` elapsed first; the jobs finished before it were
                yielded, and the error names the first unfinished job (``.job_id``, ``.job``).
            JobNotFoundError: DescribeJobs did not return a job within the grace period.
            BatchAPIError: DescribeJobs failed with an error that retrying cannot fix.
            ServiceClosedError: The service is not open, or was closed while waiting.
            TypeError: ``job_ids`` is a single string.
            ValueError: An id is empty or the timeout negative.
        """
        if isinstance(job_ids, str):
            raise TypeError("as_completed takes a list of job ids, not a string")
        ids = list(dict.fromkeys(job_ids))
        for job_id in ids:
            _check_job_id(job_id)
        validate_timeout(timeout)
        if not ids:
            return
        subscription = self._job_poller().subscribe(ids, timeout=timeout)
        try:
            async for job in subscription:
                yield job
        finally:
            subscription.close()

    def _job_poller(self) -> JobPoller:
        """The service's one poller, created (and registered for closing) on first use."""
        self._require_client()
        if self._poller is None:
            self._poller = JobPoller(self._describe_raw, self.config.poll, logger=self.logger)
            self._stack.push_async_callback(self._poller.aclose)
        return self._poller

    # -----------------------------------------------------------------------------------------
    # Stopping

    async def cancel_job(self, job_id: str, reason: str) -> None:
        """Cancel a job that has not started (SUBMITTED, PENDING or RUNNABLE); it becomes FAILED.

        AWS's CancelJob does **nothing** to a STARTING or RUNNING job and still reports success.
        A warning is logged when this service last saw the job started; use :meth:`stop_job`
        (or :meth:`terminate_job`) to stop a job whatever its status.

        Args:
            job_id: The job's id.
            reason: Why (1-1024 characters); shown as the job's status reason.

        Raises:
            ValueError: Empty id or bad reason.
            BatchAPIError: AWS answered with an error.
        """
        _check_job_id(job_id)
        _check_reason(reason)
        seen = self._seen_status.get(job_id)
        if seen is not None and seen.has_started:
            self.logger.warning(
                "CancelJob on job %s, last seen %s: AWS ignores CancelJob once a job has "
                "started; use stop_job() or terminate_job()",
                job_id,
                seen.value,
            )
        await self._call("CancelJob", jobId=job_id, reason=reason)
        self.logger.info("cancel requested for job %s", job_id)

    async def terminate_job(self, job_id: str, reason: str) -> None:
        """Terminate a job: STARTING/RUNNING jobs are stopped (FAILED); earlier ones are cancelled.

        Args:
            job_id: The job's id.
            reason: Why (1-1024 characters); shown as the job's status reason.

        Raises:
            ValueError: Empty id or bad reason.
            BatchAPIError: AWS answered with an error.
        """
        _check_job_id(job_id)
        _check_reason(reason)
        await self._call("TerminateJob", jobId=job_id, reason=reason)
        self.logger.info("terminate requested for job %s", job_id)

    async def stop_job(self, job_id: str, reason: str) -> JobDetail:
        """Stop a job whatever its status.

        Cancels a job that has not started, terminates a STARTING or RUNNING one, and does
        nothing to a finished one.

        Args:
            job_id: The job's id.
            reason: Why (1-1024 characters).

        Returns:
            The job as it was described before acting.

        Raises:
            JobNotFoundError: AWS does not know the id.
            BatchAPIError: AWS answered with an error.
        """
        _check_job_id(job_id)
        _check_reason(reason)
        job = await self.get_job_status(job_id)
        if job.is_terminal:
            self.logger.debug("job %s already %s; nothing to stop", job_id, job.status.value)
        elif job.status.has_started:
            await self.terminate_job(job_id, reason)
        else:
            await self.cancel_job(job_id, reason)
        return job

    # -----------------------------------------------------------------------------------------
    # Logs

    _log_reader: LogReader | None = None  # created by the first get_logs

    def get_logs(
        self, job_id: str, *, attempt: int | None = None, follow: bool = False
    ) -> AsyncIterator[LogEvent]:
        """Read a job's log lines from CloudWatch Logs: every attempt, in order.

        The lines come from the job definition's ``awslogs`` group (``/aws/batch/job`` unless
        it names another), one stream per attempt, through a CloudWatch Logs client that the
        service opens on first use (``BatchConfig.logs_endpoint_url``, else ``endpoint_url``)
        and closes with itself. Each stream is paged through GetLogEvents to its end::

            async for event in batch.get_logs(job_id):
                handle(event.attempt, event.timestamp, event.message)

        A job that has no stream yet (it has not started) yields nothing, or, with
        ``follow=True``, is waited for. Following polls the job and its streams (with the
        backoff of ``BatchConfig.poll``, at most every 5 seconds when idle) and ends once the
        job is SUCCEEDED or FAILED and its streams are drained. Breaking out of the loop, or
        cancelling the task iterating, stops reading only: the AWS job keeps running.

        Args:
            job_id: The job's id. For an array job, a child's id (``<parent id>:<index>``):
                the children hold the logs, not the parent.
            attempt: Only this attempt (0-based); ``None`` reads every attempt in order.
            follow: Keep yielding lines until the job is terminal and its streams drained.

        Returns:
            An async iterator of :class:`LogEvent` (timestamp, message without its trailing
            newline, attempt, log stream), oldest first within each attempt.

        Raises:
            TypeError: ``job_id`` is not a string or ``attempt`` not an int.
            ValueError: ``job_id`` is empty or ``attempt`` negative.
            ServiceClosedError: The service is not open.
            JobNotFoundError: (while iterating) AWS does not know the job; with
                ``follow=True`` only after ``PollPolicy.not_found_grace`` seconds.
            BatchError: (while iterating) the job is an array parent, or its container logs
                through a driver other than awslogs.
            BatchAPIError: (while iterating) DescribeJobs or GetLogEvents failed, e.g.
                access denied (a missing stream is not an error: it means no logs yet).
            BatchConnectionError: (while iterating) an endpoint could not be reached.
            ConfigurationError: (while iterating) the CloudWatch Logs client cannot be created.
        """
        from ._logs import LogReader

        _check_job_id(job_id)
        if attempt is not None:
            if isinstance(attempt, bool) or not isinstance(attempt, int):
                raise TypeError(f"attempt must be an int, not {type(attempt).__name__}")
            if attempt < 0:
                raise ValueError("attempt must be >= 0 (attempts are numbered from 0)")
        self._require_client()
        if self._log_reader is None:
            self._log_reader = LogReader(self)
        return self._log_reader.events(job_id, attempt=attempt, follow=follow)


def _check_retry(retry: Any) -> SubmitRetry:
    if retry is None:
        return _DEFAULT_SUBMIT_RETRY
    if not isinstance(retry, SubmitRetry):
        raise TypeError(f"retry must be a SubmitRetry, not {type(retry).__name__}")
    return retry


_DEFAULT_SUBMIT_RETRY = SubmitRetry()


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _check_job_id(job_id: Any, name: str = "job_id") -> None:
    if not isinstance(job_id, str):
        raise TypeError(f"{name} must be a string, not {type(job_id).__name__}")
    if not job_id.strip():
        raise ValueError(f"{name} must not be empty")


def _check_reason(reason: Any) -> None:
    if not isinstance(reason, str):
        raise TypeError(f"reason must be a string, not {type(reason).__name__}")
    if not reason.strip() or len(reason) > _REASON_MAX:
        raise ValueError(f"reason must be 1-{_REASON_MAX} characters")


def _parse_status(value: JobStatus | str | None) -> JobStatus | None:
    if value is None or isinstance(value, JobStatus):
        return value
    try:
        return JobStatus(str(value).upper())
    except ValueError:
        allowed = ", ".join(s.value for s in JobStatus)
        raise ValueError(f"job_status {value!r} is not one of {allowed}") from None
