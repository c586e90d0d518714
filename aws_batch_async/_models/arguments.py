"""Argument checks of the public methods, in one place. Each raises before any network call."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any

from .._config import SubmitRetry
from .jobs import JobStatus
from .limits import REASON_MAX

__all__ = [
    "check_int",
    "check_job_id",
    "check_job_ids",
    "check_reason",
    "check_retry",
    "check_timeout",
    "parse_status",
]


@functools.cache
def _default_submit_retry() -> SubmitRetry:
    return SubmitRetry()  # built on first use: SubmitRetry's schema is not needed before


def check_job_id(job_id: Any, name: str = "job_id") -> str:
    """Check one job id.

    Raises:
        TypeError: Not a string.
        ValueError: Empty or blank.
    """
    if not isinstance(job_id, str):
        raise TypeError(f"{name} must be a string, not {type(job_id).__name__}")
    if not job_id.strip():
        raise ValueError(f"{name} must not be empty")
    return job_id


def check_job_ids(job_ids: Any, name: str = "job_ids") -> list[str]:
    """Check a collection of job ids; duplicates are dropped, order kept.

    Raises:
        TypeError: A single string, not an iterable, or an id that is not a string.
        ValueError: An empty id.
    """
    if isinstance(job_ids, (str, bytes)) or not isinstance(job_ids, Iterable):
        raise TypeError(f"{name} must be a list of job ids, not {type(job_ids).__name__}")
    ids = list(dict.fromkeys(job_ids))
    for job_id in ids:
        check_job_id(job_id, f"{name}[]")
    return ids


def check_reason(reason: Any) -> str:
    """Check a cancel/terminate reason (1-1024 characters).

    Raises:
        TypeError: Not a string.
        ValueError: Empty or too long.
    """
    if not isinstance(reason, str):
        raise TypeError(f"reason must be a string, not {type(reason).__name__}")
    if not reason.strip() or len(reason) > REASON_MAX:
        raise ValueError(f"reason must be 1-{REASON_MAX} characters")
    return reason


def check_timeout(timeout: Any, name: str = "timeout") -> float | None:
    """Check a wait's timeout: seconds ``>= 0`` (``math.inf`` means none) or ``None``.

    Raises:
        TypeError: Not a number.
        ValueError: Negative, NaN, or an int beyond what a float holds (``10**400``).
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(timeout).__name__}")
    try:
        seconds = float(timeout)
    except OverflowError:  # an int beyond any float (10**400): not a duration a loop can keep
        raise ValueError(f"{name} must be a finite number of seconds or math.inf") from None
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"{name} must be >= 0 seconds (or None)")
    return seconds


def check_int(value: Any, name: str, *, low: int, high: int | None = None) -> int:
    """Check an int argument within ``low..high``.

    Raises:
        TypeError: Not an int (``bool`` is refused).
        ValueError: Out of range.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}")
    return value


def check_retry(retry: Any) -> SubmitRetry:
    """The submit retry budget: the given one, or the defaults for ``None``.

    Raises:
        TypeError: Not a :class:`SubmitRetry`.
    """
    if retry is None:
        return _default_submit_retry()
    if not isinstance(retry, SubmitRetry):
        raise TypeError(f"retry must be a SubmitRetry, not {type(retry).__name__}")
    return retry


def parse_status(value: JobStatus | str | None, name: str = "job_status") -> JobStatus | None:
    """A :class:`JobStatus` from a member, a (case-insensitive) name, or ``None``.

    Raises:
        ValueError: Not a status.
    """
    if value is None or (isinstance(value, JobStatus) and value.is_known):
        return value
    try:  # an open enum keeps what AWS sends; what a caller asks for must be a listed status
        return JobStatus.known(str(getattr(value, "value", value)).upper())
    except ValueError:
        allowed = ", ".join(s.value for s in JobStatus)
        raise ValueError(f"{name} {value!r} is not one of {allowed}") from None
