"""SageMaker service jobs (AWS Batch for SageMaker Training): the calls.

A service job is submitted with SubmitServiceJob (a SageMaker ``CreateTrainingJob`` payload as
a JSON string) and followed with DescribeServiceJob, ListServiceJobs, TerminateServiceJob(s)
and UpdateServiceJob. :class:`ServiceJobs` is the component of
:class:`~aws_batch_async.BatchService` that makes those calls:

* **Exactly once.** Every submit carries AWS's own ``clientToken`` (the caller's, or a uuid4).
  AWS *rejects* a second request with the same token and payload, so a send whose outcome is
  unknown (a dropped connection, a 5xx) is re-sent with the same token: if the first one
  created the job, the re-send is refused and the job is looked up (by name, payload and
  creation time), never created twice. botocore does not retry SubmitServiceJob; this module
  does, within the submit's :class:`~aws_batch_async.SubmitRetry`.
* **Paced.** AWS allows 5 SubmitServiceJob calls a second per account (against 50 for
  SubmitJob): submits go through their own :class:`~._ratelimit.AdaptiveRateLimiter`.
* **Waiting** uses the service's poller machinery (:class:`~._watcher.JobPoller`) with its
  backoff and ``PollPolicy``; DescribeServiceJob takes one id per call, so a sweep sends one
  call per job, at most ``PollPolicy.max_concurrent_calls`` in flight.

The models are in ``_service_jobs/models.py``. Rationale and examples: ``docs/service-jobs.md``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from contextlib import aclosing
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, cast

from .._backoff import sleep_within
from .._config import BatchConfig, SubmitRetry
from .._errors import (
    BatchAPIError,
    BatchConnectionError,
    BatchError,
    ConfigurationError,
    JobFailedError,
    JobNotFoundError,
    MalformedResponseError,
    SubmitOutcomeUnknownError,
    ThrottlingError,
    operation_unavailable,
)
from .._models.arguments import check_int, check_job_id, check_job_ids, check_reason, check_timeout
from .._models.jobs import JobDetail, JobResponse
from .._ratelimit import AdaptiveRateLimiter
from .._transport.answers import validate_answer
from .._transport.pagination import pages
from .._types import CallFn
from .models import (
    SERVICE_JOB_STATUSES,
    ServiceJobDetail,
    ServiceJobRequest,
    ServiceJobSummary,
)

if TYPE_CHECKING:
    from .._operations.bulk_stop import BulkStopResult
    from .._waiting.poller import JobPoller

__all__ = [
    "SUBMIT_SERVICE_JOB_RATE",
    "ServiceJobs",
    "check_args",
    "check_service_job_ids",
]

#: SubmitServiceJob calls a second per account and region: "Maximum number of transactions per
#: second (TPS) for each account for SubmitServiceJob operations: 5" (AWS Batch service quotas,
#: https://docs.aws.amazon.com/batch/latest/userguide/service_limits.html; SubmitJob: 50).
SUBMIT_SERVICE_JOB_RATE = 5.0
#: TerminateServiceJobs takes at most 50 ids (as TerminateJobs).
TERMINATE_SERVICE_JOBS_MAX_IDS = 50
#: ListServiceJobs page size (as ListJobs with a status).
_LIST_PAGE_MAX = 1000
#: How far before the first send a job found by a lookup may have been created (clock skew).
_LOOKUP_SKEW = timedelta(minutes=5)


class ServiceJobs:
    """The service-job calls of one :class:`~aws_batch_async.BatchService`.

    Args:
        call: Calls a Batch operation by name, raising the library's errors.
        config: The service's settings (default queue, ``poll``).
        logger: Where to log (payloads and tags are never logged).
        rate: SubmitServiceJob calls a second (``None``: unpaced).
        clock: Monotonic clock (injectable for tests).
        sleep: Async sleep (injectable for tests).
    """

    def __init__(
        self,
        call: CallFn,
        config: BatchConfig,
        logger: logging.Logger,
        *,
        rate: float | None = SUBMIT_SERVICE_JOB_RATE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._call = call
        self.config = config
        self.logger = logger
        self._clock = clock
        self._sleep = sleep
        self._rng = random.Random()
        self.limiter = AdaptiveRateLimiter(rate, clock=clock)
        self._describe_slots = asyncio.Semaphore(config.poll.max_concurrent_calls)
        self._poller: JobPoller | None = None

    async def aclose(self) -> None:
        """Stop the waits' poller (open waits fail with ``ServiceClosedError``)."""
        poller, self._poller = self._poller, None
        if poller is not None:
            await poller.aclose()

    # -----------------------------------------------------------------------------------------
    # Submitting

    async def submit(self, request: ServiceJobRequest, retry: SubmitRetry) -> JobResponse:
        """SubmitServiceJob, exactly once (see the module docstring).

        Raises:
            ConfigurationError: No queue.
            SubmitOutcomeUnknownError: A send's outcome stayed unknown and no job was found.
            ThrottlingError: Throttled beyond ``retry.max_throttled``.
            BatchAPIError: AWS refused the request.
            BatchConnectionError: No send got an answer within the budget.
        """
        params = request.to_params(self.config.job_queue)
        token = request.client_token or uuid.uuid4().hex
        deadline = self._clock() + retry.timeout
        first_sent = datetime.now(timezone.utc)
        unknown: BatchError | None = None  # the last send whose outcome is unknown
        failures = throttled = 0
        while True:
            slot = await self.limiter.acquire(urgent=failures + throttled > 0)
            try:
                answer = await self._call("SubmitServiceJob", clientToken=token, **params)
                job = _submitted(answer)
            except ThrottlingError:
                self.limiter.on_throttle(slot)
                throttled += 1
                if throttled > retry.max_throttled:
                    raise
                delay = retry.backoff(throttled, self._rng)
            except (BatchConnectionError, BatchAPIError) as exc:
                if not _outcome_unknown(exc):
                    if unknown is not None:  # a re-send refused: the token was used
                        return await self._find_created(params, first_sent, unknown, exc, retry)
                    raise
                unknown = exc
                failures += 1
                if failures >= retry.max_attempts:
                    return await self._find_created(params, first_sent, unknown, None, retry)
                delay = retry.backoff(failures, self._rng)
                self.logger.warning(
                    "SubmitServiceJob of %s: outcome unknown (%s); re-sending with the same "
                    "client token",
                    params["jobName"],
                    type(exc).__name__,
                )
            else:
                self.limiter.on_success(slot)
                self.logger.info("submitted service job %s (%s)", job.job_id, job.job_name)
                return job
            if not await sleep_within(delay, deadline, clock=self._clock, sleep=self._sleep):
                if unknown is not None:
                    return await self._find_created(params, first_sent, unknown, None, retry)
                raise BatchError(
                    f"SubmitServiceJob of {params['jobName']}: throttled until the retry "
                    f"timeout ({retry.timeout:g}s) elapsed"
                )

    async def _find_created(
        self,
        params: dict[str, Any],
        since: datetime,
        unknown: BatchError,
        refused: BatchError | None,
        retry: SubmitRetry,
    ) -> JobResponse:
        """The job an earlier send of this submission created: same name, payload, queue."""
        name, queue = params["jobName"], params["jobQueue"]
        for delay in retry.lookup_delays:
            await self._sleep(delay)
            found = await self._lookup(name, queue, params["serviceRequestPayload"], since)
            if found is not None:
                self.logger.info(
                    "SubmitServiceJob of %s: found the job an earlier send created (%s)",
                    name,
                    found.job_id,
                )
                return JobResponse(
                    job_id=found.job_id, job_name=found.job_name, job_arn=found.job_arn
                )
        reason = f"no job was found after {type(unknown).__name__}"
        if refused is not None:
            reason += f", and the re-send was refused ({refused})"
        error = SubmitOutcomeUnknownError(name, queue, reason)
        raise error from refused or unknown

    async def _lookup(
        self, name: str, queue: str, payload: str, since: datetime
    ) -> ServiceJobDetail | None:
        """The oldest job of ``name`` in ``queue`` created since ``since`` with ``payload``."""
        matches: list[ServiceJobDetail] = []
        filters = [{"name": "JOB_NAME", "values": [name]}]
        async for summary in self._pages(queue, None, filters, None):
            if summary.job_name != name:
                continue
            if summary.created_at is not None and summary.created_at < since - _LOOKUP_SKEW:
                continue
            try:
                detail = await self.describe(summary.job_id)
            except JobNotFoundError:
                continue
            if detail.service_request_payload == payload:
                matches.append(detail)
        if len(matches) > 1:
            self.logger.warning("%d service jobs named %s match one submit", len(matches), name)
        epoch = datetime.min.replace(tzinfo=timezone.utc)
        return min(matches, key=lambda job: job.created_at or epoch, default=None)

    # -----------------------------------------------------------------------------------------
    # Reading

    async def describe(self, job_id: str) -> ServiceJobDetail:
        """DescribeServiceJob.

        Raises:
            JobNotFoundError: AWS does not know the id.
            MalformedResponseError: A damaged answer, at any depth.
            BatchAPIError: AWS answered with another error.
        """
        raw = await self._describe_raw(job_id)
        if raw is None:
            raise JobNotFoundError(job_id, f"service job {job_id!r} was not found")
        return validate_answer(ServiceJobDetail, raw, "DescribeServiceJob")

    async def _describe_raw(self, job_id: str) -> dict[str, Any] | None:
        async with self._describe_slots:
            try:
                return await self._call("DescribeServiceJob", jobId=job_id)
            except BatchAPIError as exc:
                if _not_found(exc):
                    return None
                raise

    async def _describe_many(self, job_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The poller's describe: one DescribeServiceJob per id, concurrency bounded."""
        answers = await asyncio.gather(*(self._describe_raw(job_id) for job_id in job_ids))
        return [raw for raw in answers if raw is not None]

    def listing(
        self,
        job_queue: str | None,
        job_status: str | None,
        job_name: str | None,
        page_size: int | None,
    ) -> AsyncGenerator[ServiceJobSummary, None]:
        """ListServiceJobs across pages; every status (each job once) without ``job_status``.

        Raises:
            ConfigurationError: No queue given or configured.
            ValueError: A bad status or page size.
        """
        queue = job_queue or self.config.job_queue
        if queue is None:
            raise ConfigurationError("no job queue: pass job_queue or set BatchConfig.job_queue")
        if job_status is not None and (not isinstance(job_status, str) or not job_status):
            raise ValueError("job_status must be a non-empty status name")
        if page_size is not None:
            check_int(page_size, "page_size", low=1, high=_LIST_PAGE_MAX)
        filters = None if job_name is None else [{"name": "JOB_NAME", "values": [job_name]}]
        return self._list(queue, job_status, filters, page_size)

    async def _list(
        self,
        queue: str,
        status: str | None,
        filters: list[dict[str, Any]] | None,
        page_size: int | None,
    ) -> AsyncGenerator[ServiceJobSummary, None]:
        if status is not None or filters is not None:  # a filter lists every status
            async for job in self._pages(queue, status, filters, page_size):
                yield job
            return
        seen: set[str] = set()  # a job that moves on while we list is yielded once
        for each in SERVICE_JOB_STATUSES:  # bare ListServiceJobs lists RUNNING jobs only
            async for job in self._pages(queue, each, None, page_size):
                if job.job_id not in seen:
                    seen.add(job.job_id)
                    yield job

    async def _pages(
        self,
        queue: str,
        status: str | None,
        filters: list[dict[str, Any]] | None,
        page_size: int | None,
    ) -> AsyncGenerator[ServiceJobSummary, None]:
        params: dict[str, Any] = {"jobQueue": queue}
        if status is not None:
            params["jobStatus"] = status
        if filters is not None:
            params["filters"] = filters
        if page_size is not None:
            params["maxResults"] = page_size
        async with aclosing(pages(self._call, "ListServiceJobs", params)) as listing:
            async for page in listing:
                for raw in page.get("jobSummaryList", []):
                    yield validate_answer(ServiceJobSummary, raw, "ListServiceJobs")

    # -----------------------------------------------------------------------------------------
    # Acting

    async def terminate(self, job_id: str, reason: str) -> None:
        """TerminateServiceJob.

        Raises:
            BatchAPIError: AWS answered with an error.
        """
        await self._call("TerminateServiceJob", jobId=job_id, reason=reason)
        self.logger.info("terminate requested for service job %s", job_id)

    async def terminate_many(self, job_ids: Sequence[str], reason: str) -> BulkStopResult:
        """TerminateServiceJobs in calls of 50 ids; one TerminateServiceJob per job where the
        endpoint has no TerminateServiceJobs."""
        from .._operations.bulk_stop import BulkStopResult, refusals

        result = BulkStopResult()
        op = "TerminateServiceJobs"
        for start in range(0, len(job_ids), TERMINATE_SERVICE_JOBS_MAX_IDS):
            chunk = list(job_ids[start : start + TERMINATE_SERVICE_JOBS_MAX_IDS])
            try:
                answer = await self._call(op, jobs=chunk, reason=reason)
            except BatchAPIError as exc:
                if not operation_unavailable(exc.status_code, exc.code, exc.message):
                    for job_id in chunk:
                        result.failed[job_id] = exc
                    continue
                self.logger.info("no TerminateServiceJobs here: one call per job")
                await self._terminate_each(chunk, reason, result)
                continue
            except BatchConnectionError as exc:
                for job_id in chunk:
                    result.failed[job_id] = exc
                continue
            try:
                errors = {job: (code, message) for job, code, message in refusals(op, answer)}
            except MalformedResponseError as exc:  # damaged below its top: outcome unknown
                for job_id in chunk:
                    result.failed[job_id] = exc
                continue
            for job_id in chunk:
                error = errors.get(job_id)
                if error is None:
                    result.succeeded.append(job_id)
                else:
                    result.failed[job_id] = BatchAPIError(error[1], operation=op, code=error[0])
        return result

    async def _terminate_each(
        self, job_ids: Sequence[str], reason: str, result: BulkStopResult
    ) -> None:
        async def one(job_id: str) -> None:
            try:
                await self._call("TerminateServiceJob", jobId=job_id, reason=reason)
            except (BatchAPIError, BatchConnectionError) as exc:
                result.failed[job_id] = exc
            else:
                result.succeeded.append(job_id)

        await asyncio.gather(*(one(job_id) for job_id in job_ids))
        order = {job_id: i for i, job_id in enumerate(job_ids)}
        result.succeeded.sort(key=lambda job_id: order.get(job_id, -1))

    async def update(self, job_id: str, scheduling_priority: int) -> JobResponse:
        """UpdateServiceJob (the scheduling priority).

        Raises:
            BatchAPIError: AWS answered with an error.
        """
        answer = await self._call(
            "UpdateServiceJob", jobId=job_id, schedulingPriority=scheduling_priority
        )
        data = {"jobId": job_id, "jobName": answer.get("jobName") or job_id} | answer
        return validate_answer(JobResponse, data, "UpdateServiceJob")

    # -----------------------------------------------------------------------------------------
    # Waiting

    async def wait(
        self, job_id: str, timeout: float | None, raise_on_failure: bool
    ) -> ServiceJobDetail:
        """Wait on the shared poller machinery until the job is SUCCEEDED or FAILED.

        Raises:
            JobFailedError: FAILED and ``raise_on_failure``.
            WaitTimeoutError: ``timeout`` elapsed.
            JobNotFoundError: Not found for ``PollPolicy.not_found_grace`` seconds.
        """
        subscription = self._job_poller().subscribe([job_id], timeout=timeout)
        try:
            job = cast(ServiceJobDetail, await subscription.get())
        finally:
            subscription.close()
        if raise_on_failure and job.status == "FAILED":
            raise JobFailedError(cast(JobDetail, job))
        return job

    def note_submitted(self, job_id: str) -> None:
        """Remember a service job this service submitted: a wait on it gets
        ``PollPolicy.not_found_grace`` while DescribeServiceJob does not know it yet."""
        self._job_poller().note_submitted(job_id)

    def _job_poller(self) -> JobPoller:
        if self._poller is None:
            from .._waiting.poller import JobPoller

            self._poller = JobPoller(
                self._describe_many,
                self.config.poll,
                logger=self.logger,
                parse=cast(Callable[[Any], JobDetail], ServiceJobDetail.model_validate),
                operation="DescribeServiceJob",
            )
        return self._poller


def check_service_job_ids(job_ids: Iterable[str]) -> list[str]:
    """Check ids for a bulk call (not a lone string; duplicates dropped).

    Raises:
        TypeError: A string, or an id that is not one.
        ValueError: An empty id.
    """
    if isinstance(job_ids, str):
        raise TypeError("job_ids takes a list of job ids, not a string")
    return check_job_ids(job_ids)


def check_args(job_id: str, reason: str | None = None, timeout: float | None = None) -> None:
    """Check the common arguments before any call.

    Raises:
        TypeError: An argument of the wrong type.
        ValueError: A bad value.
    """
    check_job_id(job_id)
    if reason is not None:
        check_reason(reason)
    check_timeout(timeout)


def _outcome_unknown(exc: BatchError) -> bool:
    """A dropped connection, a 5xx or a damaged 2xx answer: the send may or may not have
    created the job."""
    if isinstance(exc, (BatchConnectionError, MalformedResponseError)):
        return True
    status = exc.status_code if isinstance(exc, BatchAPIError) else None
    return status is None or status >= 500


def _submitted(answer: dict[str, Any]) -> JobResponse:
    """The job of a SubmitServiceJob answer.

    Raises:
        MalformedResponseError: A 2xx answer without the job (an HTML page...): the outcome
            is unknown.
    """
    return validate_answer(JobResponse, answer, "SubmitServiceJob")


def _not_found(exc: BatchAPIError) -> bool:
    text = exc.message.lower()
    return exc.code == "ClientException" and ("not found" in text or "does not exist" in text)
