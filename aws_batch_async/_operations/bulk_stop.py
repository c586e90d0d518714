"""Stopping many jobs: CancelJobs / TerminateJobs of up to 50 ids, or one call per job.

CancelJobs and TerminateJobs answer HTTP 200 even when some jobs were refused: each refused job
is in ``errors`` (``{job, code, message}``) and becomes a :class:`BatchAPIError` here, never
dropped. "Jobs that can't be found are treated as successfully processed" (AWS's documentation
of both): an unknown id is a success, on the bulk path and on the per-job fallback alike (AWS
answers CancelJob/TerminateJob of an unknown id with success; an endpoint that answers
``ClientException: Job ... not found`` instead, or lists it in ``errors``, is read the same way:
:func:`job_not_found`). An endpoint that does not have the bulk operation (see
:func:`~._errors.operation_unavailable`: moto 5.2.5 answers 404, moto 5.2.6 an HTML 500; an old
botocore has no such method) gets one CancelJob/TerminateJob per job instead, and the
:class:`BulkStopper` remembers that for the service: the bulk operation is tried once, and its
"unavailable" answer is not retried (``_transport/clients.py``). A 5xx in AWS's own shape that
persists
through botocore's retries sends that chunk's jobs one by one, and the bulk operation stays in
use. Cancel and terminate are idempotent, so a fallback never stops a job twice in effect.
Every call is paced by the optional rate limiter; a throttled call is retried (paced) twice
before it counts as failed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .._errors import (
    BatchAPIError,
    BatchConnectionError,
    BatchError,
    MalformedResponseError,
    ThrottlingError,
    operation_unavailable,
)
from .._models.arguments import check_int, check_job_ids, check_reason
from .._models.limits import BULK_STOP_MAX_IDS, chunked
from .._public import publish
from .._ratelimit import AdaptiveRateLimiter
from .._telemetry.hooks import NOOP, Telemetry, traced_bulk_stop
from .._transport.answers import ANSWER_DAMAGE, damaged_answer

__all__ = ["BulkStopResult", "BulkStopper", "job_not_found", "refusals"]

_THROTTLE_RETRIES = 2
#: The message of a ClientException that says the job does not exist.
_NOT_FOUND = re.compile(r"\bnot\s+(?:be\s+)?found\b|\bdoes\s*n[o']t\s+exist\b", re.IGNORECASE)


@dataclass(frozen=True)
class BulkStopResult:
    """What a bulk cancel or terminate did, per job.

    Attributes:
        succeeded: The ids AWS accepted, in the order given; unknown ids among them (AWS
            treats a job it cannot find as successfully processed).
        failed: The error of every id AWS refused or that could not be sent: a
            :class:`~aws_batch_async.BatchAPIError` for an AWS answer (a per-job error of
            CancelJobs/TerminateJobs, or the error of the whole call), a
            :class:`~aws_batch_async.BatchConnectionError` when no answer came.
    """

    succeeded: list[str] = field(default_factory=list)
    failed: dict[str, BatchError] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no id failed."""
        return not self.failed


class BulkStopper:
    """Sends the stop calls of ``cancel_jobs`` / ``terminate_jobs``.

    Args:
        call: Calls a botocore operation by name and raises the library's errors.
        logger: Where to log.
        limiter: Paces every call; ``None``: no pacing.
        max_concurrency: Calls in flight at once.
        telemetry: The service's OpenTelemetry hooks (a span per stop).
    """

    def __init__(
        self,
        call: Any,
        *,
        logger: logging.Logger,
        limiter: AdaptiveRateLimiter | None = None,
        max_concurrency: int = 10,
        telemetry: Telemetry = NOOP,
    ) -> None:
        self.telemetry = telemetry
        self._call = call
        self._logger = logger
        self._limiter = limiter
        self._slots = asyncio.Semaphore(check_int(max_concurrency, "max_concurrency", low=1))
        #: Whether the endpoint knows the bulk operations (``None``: not tried yet).
        self.bulk_supported: bool | None = None

    @traced_bulk_stop
    async def stop(
        self, bulk: str, single: str, job_ids: Iterable[str], reason: str
    ) -> BulkStopResult:
        """Stop jobs with ``bulk`` (CancelJobs/TerminateJobs), else ``single`` per job.

        Raises:
            TypeError: ``job_ids`` is a string or holds a non-string, or ``reason`` is not one.
            ValueError: An empty id, or a reason that is empty or too long.
        """
        ids = check_job_ids(job_ids)
        check_reason(reason)
        if not ids:
            return BulkStopResult()
        outcome = _Outcome()
        chunks = chunked(ids, BULK_STOP_MAX_IDS)
        if self.bulk_supported is None:  # find out with the first chunk alone
            await self._chunk(bulk, single, chunks.pop(0), reason, outcome)
        await asyncio.gather(*(self._chunk(bulk, single, c, reason, outcome) for c in chunks))
        failed = {i: outcome.failed[i] for i in ids if i in outcome.failed}
        result = BulkStopResult([i for i in ids if i in outcome.ok and i not in failed], failed)
        self._logger.info(
            "%s of %d job(s): %d accepted, %d failed",
            bulk,
            len(ids),
            len(result.succeeded),
            len(failed),
        )
        return result

    async def _chunk(
        self, bulk: str, single: str, ids: list[str], reason: str, outcome: _Outcome
    ) -> None:
        if self.bulk_supported is not False:
            try:
                response = await self._paced(bulk, jobs=ids, reason=reason)
            except BatchAPIError as exc:
                if operation_unavailable(exc.status_code, exc.code, exc.message):
                    self._fall_back(bulk, single, exc)
                elif isinstance(exc, ThrottlingError) or (exc.status_code or 0) < 500:
                    outcome.fail(ids, exc)
                    return
                else:  # AWS's own 5xx, after botocore's retries: this chunk one by one
                    self._logger.warning(
                        "%s failed (%s); sending one %s per job of this chunk", bulk, exc, single
                    )
            except (AttributeError, NotImplementedError) as exc:  # not in the client's model
                self._fall_back(bulk, single, exc)
            except BatchConnectionError as exc:
                outcome.fail(ids, exc)
                return
            else:
                self.bulk_supported = True
                try:
                    outcome.collect(bulk, ids, response)
                except MalformedResponseError as exc:  # damaged below its top: unknown
                    outcome.fail(ids, exc)
                return
        await asyncio.gather(*(self._one(single, job_id, reason, outcome) for job_id in ids))

    def _fall_back(self, bulk: str, single: str, exc: Exception) -> None:
        if self.bulk_supported is not False:
            self._logger.warning(
                "%s is not available at this endpoint (%s); sending one %s per job",
                bulk,
                exc,
                single,
            )
        self.bulk_supported = False

    async def _one(self, single: str, job_id: str, reason: str, outcome: _Outcome) -> None:
        try:
            await self._paced(single, jobId=job_id, reason=reason)
        except BatchAPIError as exc:
            if not job_not_found(exc):
                outcome.fail([job_id], exc)
                return
            self._logger.debug("%s: job %s not found; counted as stopped", single, job_id)
            outcome.ok.add(job_id)
        except BatchConnectionError as exc:
            outcome.fail([job_id], exc)
        else:
            outcome.ok.add(job_id)

    async def _paced(self, operation: str, **params: Any) -> dict[str, Any]:
        """One call, paced by the limiter; with a limiter, a throttled call is retried."""
        limiter = self._limiter
        for attempt in range(_THROTTLE_RETRIES + 1):
            async with self._slots:
                slot = await limiter.acquire(urgent=attempt > 0) if limiter is not None else None
                self._logger.debug("%s (attempt %d)", operation, attempt + 1)
                try:
                    response: dict[str, Any] = await self._call(operation, **params)
                except ThrottlingError:
                    if limiter is None or slot is None:
                        raise
                    limiter.on_throttle(slot)
                    if attempt == _THROTTLE_RETRIES:
                        raise
                    continue
                except BatchAPIError:
                    if limiter is not None and slot is not None:
                        limiter.on_success(slot)  # it got through: AWS answered
                    raise
                if limiter is not None and slot is not None:
                    limiter.on_success(slot)
                return response
        raise AssertionError("unreachable")


def refusals(operation: str, response: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The per-job errors of a CancelJobs/TerminateJobs(/TerminateServiceJobs) answer.

    Args:
        operation: The operation that answered.
        response: Its answer.

    Returns:
        ``(job, code, message)`` of each error (``message`` may be empty).

    Raises:
        MalformedResponseError: An error without its job or code as strings (whose jobs
            were refused cannot be told).
    """
    found = []
    for error in response.get("errors") or ():
        try:
            job, code, message = error["job"], error["code"], error.get("message") or ""
            if not isinstance(job, str) or not isinstance(code, str):
                raise TypeError("job and code must be strings")
        except ANSWER_DAMAGE as exc:
            raise damaged_answer(operation, error, f"a per-job error of {operation}", exc) from exc
        found.append((job, code, str(message)))
    return found


def job_not_found(error: BatchAPIError) -> bool:
    """Whether a CancelJob/TerminateJob error says only that the job does not exist.

    AWS answers a CancelJob/TerminateJob of an unknown id with success (so does moto 5.2);
    older moto releases and other emulators answered ``ClientException: Job ... not found``.
    CancelJobs/TerminateJobs treat unknown jobs as "successfully processed", so the per-job
    fallback counts this answer as a success too, and both paths agree.
    """
    return error.code == "ClientException" and _NOT_FOUND.search(error.message) is not None


@dataclass
class _Outcome:
    ok: set[str] = field(default_factory=set)
    failed: dict[str, BatchError] = field(default_factory=dict)

    def fail(self, ids: Iterable[str], error: BatchError) -> None:
        for job_id in ids:
            self.failed[job_id] = error

    def collect(self, operation: str, ids: list[str], response: dict[str, Any]) -> None:
        """Read a CancelJobs/TerminateJobs answer: ``successful`` and per-job ``errors``.

        Raises:
            MalformedResponseError: A per-job error without its job or code (nothing was
                taken from the answer then).
        """
        wanted = set(ids)
        errors = refusals(operation, response)

        def match(ref: Any) -> str | None:
            if not isinstance(ref, str):
                return None
            if ref in wanted:
                return ref
            tail = ref.rsplit("/", 1)[-1]  # a job ARN
            return tail if tail in wanted else None

        request_id = (response.get("ResponseMetadata") or {}).get("RequestId")
        for ref in response.get("successful") or ():
            job_id = match(ref)
            if job_id is not None:
                self.ok.add(job_id)
        for job, code, message in errors:
            job_id = match(job)
            if job_id is None:
                continue
            refused = BatchAPIError(
                message or "no message", operation=operation, code=code, request_id=request_id
            )
            if job_not_found(refused):  # as AWS documents it: successfully processed
                self.ok.add(job_id)
                continue
            self.ok.discard(job_id)
            self.failed[job_id] = refused
        for job_id in ids:
            if job_id not in self.ok and job_id not in self.failed:
                self.failed[job_id] = BatchAPIError(
                    "AWS reported neither success nor an error for this job",
                    operation=operation,
                    code="MissingFromResponse",
                    request_id=request_id,
                )


publish(__name__)
