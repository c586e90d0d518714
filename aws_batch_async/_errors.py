"""Errors raised by aws-batch-async.

Every error the library raises is a :class:`BatchError`. An error caused by botocore keeps the
botocore exception as ``__cause__``::

    BatchError
    ├── ConfigurationError        no region, unknown profile, missing credentials, no job queue...
    ├── ServiceClosedError        the BatchService is not open (never entered, or closed)
    ├── BatchConnectionError      the endpoint could not be reached or the connection broke
    │   └── CallTimeoutError      a call outlasted ``BatchConfig.call_timeout`` (a TimeoutError)
    ├── BatchAPIError             AWS answered with an error (operation, code, status, request id)
    │   ├── ThrottlingError       TooManyRequestsException / HTTP 429 after the retries
    │   └── MalformedResponseError  a 2xx answer that is not the operation's result (damaged)
    ├── JobNotFoundError          DescribeJobs does not know the job id
    ├── JobDefinitionNotFoundError  no ACTIVE job definition of that name (revision, ARN)
    ├── JobFailedError            a waited-for job ended FAILED (carries the JobDetail)
    ├── JobStuckError             a wait saw the job queued past ``stuck_after`` (has the diagnosis)
    ├── SubmitOutcomeUnknownError whether SubmitJob created the job could not be established
    ├── SubmitJobsError           submit_jobs stopped at a failure (lists what was created)
    └── WaitTimeoutError          a wait hit its deadline (a TimeoutError; has the last JobDetail)

Invalid input to a model (``JobRequest``, ``BatchConfig``...) raises ``pydantic.ValidationError``
naming the field, before any network call. Invalid arguments to a method raise ``ValueError``
(also before any network call).
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

import botocore.exceptions as bx

from ._public import publish

if TYPE_CHECKING:
    from ._models.jobs import JobDetail, JobResponse

__all__ = [
    "BatchAPIError",
    "BatchConnectionError",
    "BatchError",
    "CallTimeoutError",
    "ConfigurationError",
    "JobDefinitionNotFoundError",
    "JobFailedError",
    "JobNotFoundError",
    "JobStuckError",
    "MalformedResponseError",
    "ServiceClosedError",
    "SubmitJobsError",
    "SubmitOutcomeUnknownError",
    "ThrottlingError",
    "WaitTimeoutError",
    "api_error_from_client_error",
    "error_from_botocore",
    "error_from_exception",
    "not_sent",
    "operation_unavailable",
]


class BatchError(Exception):
    """Base class of every error raised by aws-batch-async."""


class ConfigurationError(BatchError):
    """The service cannot be set up or a call lacks configuration (region, profile, credentials)."""


class ServiceClosedError(BatchError):
    """The :class:`~aws_batch_async.BatchService` is not open: never entered, or already closed."""


class BatchConnectionError(BatchError):
    """The Batch endpoint could not be reached, or the connection broke before an answer came.

    Attributes:
        operation: The AWS operation, e.g. ``"SubmitJob"``.
        sent: ``False`` when no connection was made (refused, connect timeout, DNS): nothing
            was sent; ``None`` when the request may have arrived (the answer was lost, or slow).
    """

    def __init__(self, message: str, *, operation: str, sent: bool | None = None) -> None:
        super().__init__(message)
        self.operation = operation
        self.sent = sent


class CallTimeoutError(BatchConnectionError, TimeoutError):
    """A call did not end within ``BatchConfig.call_timeout`` seconds (retries included).

    The request may have arrived (a SubmitJob so ended is looked up, never re-sent blind).

    Attributes:
        timeout: The seconds that elapsed.
    """

    def __init__(self, operation: str, timeout: float) -> None:
        super().__init__(
            f"{operation} did not end within {timeout:g}s (BatchConfig.call_timeout)",
            operation=operation,
        )
        self.timeout = timeout


class BatchAPIError(BatchError):
    """AWS Batch answered a call with an error.

    Attributes:
        operation: The AWS operation, e.g. ``"SubmitJob"``.
        code: The AWS error code, e.g. ``"ClientException"``.
        message: AWS's error message.
        status_code: The HTTP status code, if known.
        request_id: AWS's request id, for support cases.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        code: str,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"{operation} failed: {code}: {message}")
        self.operation = operation
        self.code = code
        self.message = message
        self.status_code = status_code
        self.request_id = request_id


class ThrottlingError(BatchAPIError):
    """AWS throttled the call (``TooManyRequestsException``, HTTP 429) beyond the retries.

    botocore's retries for most calls; for SubmitJob, the submit's own retry budget
    (:class:`~aws_batch_async.SubmitRetry`), since botocore never retries SubmitJob here.
    """


class MalformedResponseError(BatchAPIError):
    """AWS (or something in between) answered 2xx with a body that is not the operation's result.

    Truncated or garbled JSON, an HTML page, JSON of the wrong shape. The call's outcome is
    unknown: a SubmitJob so answered is looked up like a lost answer, never raised as this;
    the poller retries it as a transient fault.

    Attributes:
        body_head: The answer's first bytes (secrets masked), for debugging.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        body_head: str = "",
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(
            message,
            operation=operation,
            code="MalformedResponse",
            status_code=status_code,
            request_id=request_id,
        )
        self.body_head = body_head


class JobNotFoundError(BatchError):
    """AWS Batch does not know the job id (never existed, not visible yet, or aged out).

    Attributes:
        job_id: The id that was looked up.
    """

    def __init__(self, job_id: str, message: str | None = None) -> None:
        super().__init__(message or f"job {job_id!r} was not found")
        self.job_id = job_id


class JobDefinitionNotFoundError(BatchError):
    """No ACTIVE job definition matches the name, ``name:revision`` or ARN; nothing was submitted.

    Attributes:
        job_definition: The definition that was looked up.
    """

    def __init__(self, job_definition: str, message: str | None = None) -> None:
        super().__init__(message or f"job definition {job_definition!r} was not found (ACTIVE)")
        self.job_definition = job_definition


class JobFailedError(BatchError):
    """A waited-for job ended in FAILED.

    Attributes:
        job: The terminal :class:`~aws_batch_async.JobDetail`, with ``status_reason``,
            ``exit_code`` and ``log_stream_name`` at hand.
    """

    def __init__(self, job: JobDetail) -> None:
        reason = job.status_reason or "no reason given"
        code = "" if job.exit_code is None else f", exit code {job.exit_code}"
        super().__init__(f"job {job.job_id} ({job.job_name}) failed: {reason}{code}")
        self.job = job

    @property
    def job_id(self) -> str:
        """The failed job's id."""
        return self.job.job_id


class JobStuckError(BatchError):
    """A waited-for job stayed SUBMITTED, PENDING or RUNNABLE longer than ``stuck_after``.

    The job keeps existing (and may still run): the caller decides, e.g. with
    :meth:`~aws_batch_async.BatchService.stop_job`.

    Attributes:
        job_id: The job that was waited for.
        diagnosis: The :class:`~aws_batch_async.JobDiagnosis` (verdict and reasons), or
            ``None`` if it could not be made.
        stuck_after: The seconds that elapsed.
    """

    def __init__(self, job_id: str, diagnosis: Any, stuck_after: float) -> None:
        verdict = getattr(diagnosis, "verdict", None)
        reasons = list(getattr(diagnosis, "reasons", None) or [])
        why = f" ({getattr(verdict, 'value', verdict)}: {'; '.join(reasons)})" if verdict else ""
        super().__init__(f"job {job_id} has not started after {stuck_after:g}s{why}")
        self.job_id = job_id
        self.diagnosis = diagnosis
        self.stuck_after = stuck_after


class WaitTimeoutError(BatchError, TimeoutError):
    """A wait reached its deadline before the job finished. The AWS job keeps running.

    Attributes:
        job_id: The job that was waited for.
        job: The last :class:`~aws_batch_async.JobDetail` seen, or ``None`` if never seen.
        timeout: The timeout in seconds that elapsed.
    """

    def __init__(self, job_id: str, job: JobDetail | None, timeout: float) -> None:
        status = getattr(job, "status", None)  # a JobStatus, or a service job's plain str
        seen = f"last seen {getattr(status, 'value', status)}" if job is not None else "never seen"
        super().__init__(f"timed out after {timeout:g}s waiting for job {job_id} ({seen})")
        self.job_id = job_id
        self.job = job
        self.timeout = timeout


class SubmitOutcomeUnknownError(BatchError):
    """Whether SubmitJob created the job could not be established, so it was not sent again.

    Raised when a send's answer was lost (or was a 5xx) and the job could not be looked up:
    the lookups themselves failed, time ran out, or ``BatchConfig.idempotent_submit`` is off
    and the job name was chosen by the caller. The job may or may not exist; look for it with
    ``list_jobs(job_name=...)``.

    Attributes:
        job_name: The submitted job's name.
        job_queue: The queue it was submitted to.
        reason: Why the outcome could not be established.
    """

    def __init__(self, job_name: str, job_queue: str, reason: str) -> None:
        super().__init__(
            f"SubmitJob of job {job_name!r} to queue {job_queue!r} may or may not have created "
            f"the job: {reason}"
        )
        self.job_name = job_name
        self.job_queue = job_queue
        self.reason = reason


class SubmitJobsError(BatchError):
    """``submit_jobs`` (without ``return_exceptions``) stopped because a submission failed.

    Once a submission fails no further job is sent; submissions already under way are
    finished, so every job that was created is listed here. The first error is the
    ``__cause__``.

    Attributes:
        results: One entry per request, in request order: the created job's
            :class:`~aws_batch_async.JobResponse`, the error of a failed submission, or
            ``None`` for a request that was not submitted.
    """

    def __init__(self, results: list[JobResponse | BaseException | None]) -> None:
        self.results = results
        errors = self.errors
        first = next(iter(errors.values()), None)
        detail = f" (first: {type(first).__name__}: {first})" if first is not None else ""
        super().__init__(
            f"{len(errors)} of {len(results)} submissions failed{detail}; "
            f"{len(self.submitted)} jobs were created, "
            f"{len(self.not_submitted)} requests were not submitted"
        )

    @property
    def submitted(self) -> dict[int, JobResponse]:
        """The jobs that were created, by request index."""
        return {
            i: r
            for i, r in enumerate(self.results)
            if r is not None and not isinstance(r, BaseException)
        }

    @property
    def errors(self) -> dict[int, BaseException]:
        """The errors of the failed submissions, by request index."""
        return {i: r for i, r in enumerate(self.results) if isinstance(r, BaseException)}

    @property
    def not_submitted(self) -> list[int]:
        """Indexes of the requests that were not submitted."""
        return [i for i, r in enumerate(self.results) if r is None]


#: Error codes of an endpoint that does not know an operation.
_UNKNOWN_OPERATION_CODES = frozenset(
    {"UnknownOperationException", "UnknownOperation", "InvalidAction", "NotImplemented"}
)


def operation_unavailable(status_code: int | None, code: str, message: str) -> bool:
    """Whether an error answer says the endpoint does not have the operation at all.

    True for a 404, an unknown-operation code, a 5xx whose message says the operation is not
    implemented, and a 5xx that is not in AWS's error shape (botocore then uses the HTTP status
    as the code: no JSON ``__type`` and no ``x-amzn-ErrorType``, as moto 5.2.6's HTML 500 for
    CancelJobs). A 5xx in AWS's own shape (``ServerException``) is a transient fault instead.

    Args:
        status_code: The HTTP status, if known.
        code: The error code botocore parsed.
        message: The error message botocore parsed.
    """
    if status_code == 404 or code == "404" or code in _UNKNOWN_OPERATION_CODES:
        return True
    if status_code is None or status_code < 500:
        return False
    return (
        code.isdigit()
        or "not implemented" in message.lower()
        or ("not been implemented" in message.lower())
    )


# AWS error codes that mean "slow down". Batch itself sends TooManyRequestsException (HTTP 429).
_THROTTLING_CODES = frozenset(
    {
        "TooManyRequestsException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)

_CODE_TO_CLASS: dict[str, type[BatchAPIError]] = dict.fromkeys(_THROTTLING_CODES, ThrottlingError)


def api_error_from_client_error(exc: Any, operation: str) -> BatchAPIError:
    """Map a botocore ``ClientError`` to the matching :class:`BatchAPIError` subclass.

    Args:
        exc: The botocore ``ClientError`` (its ``.response`` is read).
        operation: The AWS operation name.

    Returns:
        The error to raise (the caller raises it ``from exc``).
    """
    response: dict[str, Any] = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    meta = response.get("ResponseMetadata") or {}
    code = str(error.get("Code") or "Unknown")
    status = meta.get("HTTPStatusCode")
    cls = _CODE_TO_CLASS.get(code)
    if cls is None:
        cls = ThrottlingError if status == 429 else BatchAPIError
    return cls(
        str(error.get("Message") or exc),
        operation=operation,
        code=code,
        status_code=status if isinstance(status, int) else None,
        request_id=meta.get("RequestId"),
    )


#: botocore's exception classes -> ours, looked up along the raised class's MRO (most
#: specific first). Everything else that botocore raises becomes a plain BatchError.
_BOTOCORE_CLASSES: dict[type[BaseException], type[BatchError]] = {
    # The endpoint could not be reached, or the connection broke: nothing may have been sent
    # (connect errors) or the answer was lost (read errors). Both are transient.
    bx.ConnectionError: BatchConnectionError,  # EndpointConnection, SSL, Proxy, ConnectTimeout
    bx.HTTPClientError: BatchConnectionError,  # ConnectionClosed, ReadTimeout, ResponseStreaming
    # Configuration and credentials: nothing was sent, and retrying cannot help.
    bx.NoCredentialsError: ConfigurationError,
    bx.PartialCredentialsError: ConfigurationError,
    bx.CredentialRetrievalError: ConfigurationError,
    bx.TokenRetrievalError: ConfigurationError,
    bx.RefreshWithMFAUnsupportedError: ConfigurationError,
    bx.UnknownCredentialError: ConfigurationError,
    bx.NoAuthTokenError: ConfigurationError,
    bx.MetadataRetrievalError: ConfigurationError,
    bx.SSOError: ConfigurationError,  # SSOTokenLoadError, UnauthorizedSSOTokenError
    bx.NoRegionError: ConfigurationError,
    bx.ProfileNotFound: ConfigurationError,
    bx.ConfigParseError: ConfigurationError,
    bx.ConfigNotFound: ConfigurationError,
    bx.InvalidConfigError: ConfigurationError,
    bx.InvalidRetryConfigurationError: ConfigurationError,
    bx.InvalidRegionError: ConfigurationError,
    bx.UnknownEndpointError: ConfigurationError,
    bx.InvalidEndpointConfigurationError: ConfigurationError,
    bx.EndpointResolutionError: ConfigurationError,
    bx.UnsupportedSignatureVersionError: ConfigurationError,
    bx.UnknownServiceError: ConfigurationError,
    bx.MissingDependencyException: ConfigurationError,
}


def no_credentials_message(operation: str) -> str:
    """What to say when botocore found no credentials at all, for ``operation``'s call.

    Args:
        operation: The call that needed them (``"SubmitJob"``).

    Returns:
        The message: nothing was sent, and what to set.
    """
    return (
        f"{operation}: no AWS credentials found (nothing was sent): set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE to a profile of ~/.aws/config (`aws configure`, "
        "`aws sso login`), or pass BatchConfig(profile=...)"
    )


def error_from_botocore(exc: BaseException, operation: str) -> BatchError:
    """Map any botocore error of a call to the matching :class:`BatchError`.

    ``ClientError`` goes through :func:`api_error_from_client_error`; other botocore errors
    are mapped by class (one table, :data:`_BOTOCORE_CLASSES`), never by message text.

    Args:
        exc: What botocore raised.
        operation: The AWS operation name (``"SubmitJob"``), or what was being done.

    Returns:
        The error to raise (the caller raises it ``from exc``).
    """
    if isinstance(exc, bx.ClientError):
        return api_error_from_client_error(exc, operation)
    if isinstance(exc, bx.NoCredentialsError):
        return ConfigurationError(no_credentials_message(operation))
    for cls in type(exc).__mro__:
        mapped = _BOTOCORE_CLASSES.get(cls)
        if mapped is BatchConnectionError:
            return BatchConnectionError(
                f"{operation}: {exc}", operation=operation, sent=False if not_sent(exc) else None
            )
        if mapped is not None:
            return mapped(f"{operation}: {exc}")
    return BatchError(f"{operation}: {exc}")


def not_sent(exc: BaseException) -> bool:
    """True when botocore's error says no connection was made, so nothing was sent.

    A connect timeout, an unreachable proxy, or an ``EndpointConnectionError`` wrapping a failed
    connect (aiohttp's ``ClientConnectorError``) or name lookup (not a reset after sending).
    """
    if isinstance(exc, bx.ConnectTimeoutError | bx.ProxyConnectionError):
        return True
    if not isinstance(exc, bx.EndpointConnectionError):
        return False
    cause = (getattr(exc, "kwargs", None) or {}).get("error")
    names = {f"{c.__module__.partition('.')[0]}.{c.__name__}" for c in type(cause).__mro__}
    return isinstance(cause, socket.gaierror) or "aiohttp.ClientConnectorError" in names


def error_from_exception(exc: Exception, operation: str) -> BatchError | None:
    """Map what a call raised to a :class:`BatchError`, or ``None`` if it is not ours to map.

    botocore's errors go through :func:`error_from_botocore`; errors of the HTTP stack that
    escape aiobotocore (an ``OSError``, an aiohttp ``ClientError``, a timeout) are connection
    errors.

    Args:
        exc: What the call raised.
        operation: The AWS operation name.

    Returns:
        The error to raise ``from exc``, or ``None`` for an exception to let through.
    """
    if isinstance(exc, BatchError):
        return None
    if isinstance(exc, bx.BotoCoreError | bx.ClientError):
        return error_from_botocore(exc, operation)
    if isinstance(exc, OSError | TimeoutError) or _is_aiohttp_error(exc):
        return BatchConnectionError(
            f"{operation}: {type(exc).__name__}: {exc}", operation=operation
        )
    return None


def _is_aiohttp_error(exc: Exception) -> bool:
    return any(
        cls.__module__.startswith("aiohttp") and cls.__name__ == "ClientError"
        for cls in type(exc).__mro__
    )


publish(__name__)
