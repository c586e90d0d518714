"""One table from aws-batch-async's errors (and bad input) to HTTP answers, for any framework.

``fastapi_app.py`` registers :func:`http_error` as its one exception handler and
``aiohttp_app.py`` calls it from its one error middleware, so both apps answer the same error
with the same status and body:

========================================================  ======  ==============================
error                                                     status  why
========================================================  ======  ==============================
``JobNotFoundError``                                      404     the job id is unknown
``NotFoundError`` (the app's own: a fan-out)              404     nothing of that id
``WaitTimeoutError``                                      504     the wait ended, the job did not
``ThrottlingError``                                       429     AWS kept throttling (Retry-After)
``BatchConnectionError``, ``ServiceClosedError``          503     AWS unreachable, or shutting down
``SubmitJobsError``                                       502     lists the jobs that were created
``SubmitOutcomeUnknownError``                             502     the job may or may not exist
``ConfigurationError``, ``JobDefinitionNotFoundError``    500     the server is misconfigured
``BatchAPIError``, AWS's 400 ``ClientException``          400     AWS refused what was asked
other ``BatchAPIError`` (403, 5xx...), other errors       502     AWS failed, or denied the app
``pydantic.ValidationError``, ``ValueError``              422     bad input, before any AWS call
========================================================  ======  ==============================

Bodies never echo input values (environment values may be secrets): validation details carry
the field's location, message and type only, and the library's own messages never contain
environment values, parameter values or credentials.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pydantic

from aws_batch_async import (
    BatchAPIError,
    BatchConnectionError,
    BatchError,
    ConfigurationError,
    JobDefinitionNotFoundError,
    JobNotFoundError,
    ServiceClosedError,
    SubmitJobsError,
    SubmitOutcomeUnknownError,
    ThrottlingError,
    WaitTimeoutError,
)

__all__ = [
    "HANDLED",
    "STATUS_BY_ERROR",
    "HttpError",
    "NotFoundError",
    "http_error",
    "validation_error",
]

logger = logging.getLogger("batch_web")


class NotFoundError(LookupError):
    """Something of the app's own (a fan-out) is unknown: a 404 in the same body as the rest."""


#: Checked in order, so subclasses come before their bases (ThrottlingError before
#: BatchAPIError, everything before BatchError, pydantic's ValidationError before ValueError).
STATUS_BY_ERROR: tuple[tuple[type[Exception], int], ...] = (
    (JobNotFoundError, 404),
    (NotFoundError, 404),
    (WaitTimeoutError, 504),
    (ThrottlingError, 429),
    (BatchConnectionError, 503),
    (ServiceClosedError, 503),
    (SubmitJobsError, 502),
    (SubmitOutcomeUnknownError, 502),
    (ConfigurationError, 500),
    (JobDefinitionNotFoundError, 500),
    (BatchAPIError, 502),  # 400 for AWS's ClientException: see http_error
    (BatchError, 502),
    (pydantic.ValidationError, 422),
    (ValueError, 422),
)

#: The exception classes an app should route to :func:`http_error`.
HANDLED: tuple[type[Exception], ...] = (BatchError, ValueError, NotFoundError)

#: Seconds a throttled client is asked to wait before trying again.
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class HttpError:
    """An HTTP answer for an exception: status, JSON body, extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def http_error(exc: Exception) -> HttpError:
    """The HTTP answer for ``exc``, one of :data:`HANDLED` (others are a 500).

    Args:
        exc: What an endpoint raised.

    Returns:
        The status, body and headers to answer with.
    """
    if isinstance(exc, pydantic.ValidationError):
        return validation_error(exc.errors(include_input=False, include_url=False))
    status = next((code for cls, code in STATUS_BY_ERROR if isinstance(exc, cls)), 500)
    if isinstance(exc, BatchAPIError) and exc.code == "ClientException":
        status = 400  # the request was refused; an AccessDeniedException is the app's problem
    body: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
    headers: dict[str, str] = {}
    if isinstance(exc, JobNotFoundError | WaitTimeoutError):
        body["job_id"] = exc.job_id
    if isinstance(exc, WaitTimeoutError) and exc.job is not None:
        body["last_status"] = exc.job.status.value
    if isinstance(exc, BatchAPIError):
        body.update(code=exc.code, request_id=exc.request_id)
    if isinstance(exc, ThrottlingError):
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if isinstance(exc, SubmitJobsError):
        body["submitted"] = {str(i): job.job_id for i, job in exc.submitted.items()}
        body["failed"] = {str(i): type(err).__name__ for i, err in exc.errors.items()}
        body["not_submitted"] = exc.not_submitted
    if status >= 500:
        logger.warning("answering %d: %s: %s", status, type(exc).__name__, exc)
    return HttpError(status, body, headers)


def validation_error(errors: Iterable[Mapping[str, Any]]) -> HttpError:
    """A 422 for validation errors (pydantic's or a framework's), without their input values.

    Args:
        errors: pydantic-style error dicts (``loc``, ``msg``, ``type``; the rest is dropped).

    Returns:
        The 422 answer.
    """
    details = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in errors
    ]
    return HttpError(
        422, {"error": "ValidationError", "message": "invalid input", "details": details}
    )
