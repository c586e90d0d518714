"""ListJobs, done right: every status by default, every filter AWS has, lazy paging.

Bare ListJobs returns only RUNNING jobs when it gets neither a status nor a filter. A listing
without a status therefore uses the filter ``AFTER_CREATED_AT=0`` (AWS then returns jobs of
every status, newest first, in one consistent pass); array and multi-node children, which
filters do not apply to, are walked status by status instead, each job yielded once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .._errors import ConfigurationError
from .._models.arguments import check_int, check_job_id, parse_status
from .._models.jobs import JobStatus, JobSummary
from .._models.limits import JOB_NAME_MAX, LIST_PAGE_SIZE_FILTER, LIST_PAGE_SIZE_STATUS
from .._transport.answers import validate_answer
from .._transport.pagination import pages
from .._types import CallFn

__all__ = ["Listing", "plan_listing"]


@dataclass(frozen=True)
class Listing:
    """A validated listing: the target, the filter, the status and the page size."""

    target: dict[str, str]
    filter: dict[str, Any] | None
    status: JobStatus | None
    page_size: int

    async def run(self, call: CallFn, logger: logging.Logger) -> AsyncGenerator[JobSummary, None]:
        """Yield the listing's jobs, fetching a page only when the previous one is used up."""
        if self.filter is not None:
            params: dict[str, Any] = {**self.target, "filters": [self.filter]}
            post_filter = self.status
            if self.filter["name"] == "SHARE_IDENTIFIER" and self.status is not None:
                params["jobStatus"] = self.status.value  # the one filter that combines
            async for summary in _pages(call, logger, params, self.page_size):
                if post_filter is None or summary.status is post_filter:
                    yield summary
        elif self.status is not None:
            params = {**self.target, "jobStatus": self.status.value}
            async for summary in _pages(call, logger, params, self.page_size):
                yield summary
        else:
            # Children: filters do not apply, so walk every status. A child can change status
            # between two calls; each id is yielded once.
            seen: set[str] = set()
            for each in JobStatus:
                params = {**self.target, "jobStatus": each.value}
                async for summary in _pages(call, logger, params, self.page_size):
                    if summary.job_id not in seen:
                        seen.add(summary.job_id)
                        yield summary


def plan_listing(
    *,
    default_queue: str | None,
    job_queue: str | None,
    job_status: JobStatus | str | None,
    job_name: str | None,
    job_definition: str | None,
    created_after: datetime | None,
    created_before: datetime | None,
    share_identifier: str | None,
    array_job_id: str | None,
    multi_node_job_id: str | None,
    page_size: int | None,
) -> Listing:
    """Check ``list_jobs``' arguments against AWS's rules (no call is made).

    Raises:
        TypeError: An argument of the wrong type.
        ValueError: Bad values, or a combination AWS refuses (two targets, two filters, a
            filter on children).
        ConfigurationError: No queue given or configured.
    """
    status = parse_status(job_status)
    target = _target(default_queue, job_queue, array_job_id, multi_node_job_id)
    flt = _filter(
        job_name=job_name,
        job_definition=job_definition,
        created_after=created_after,
        created_before=created_before,
        share_identifier=share_identifier,
    )
    children = "jobQueue" not in target
    if flt is not None and children:
        by = "array_job_id" if "arrayJobId" in target else "multi_node_job_id"
        raise ValueError(f"ListJobs filters ({flt[1]}) do not apply to the children listed by {by}")
    listed = flt[0] if flt is not None else None
    if listed is None and status is None and not children:
        listed = {"name": "AFTER_CREATED_AT", "values": ["0"]}  # every status, one pass
    limit = LIST_PAGE_SIZE_FILTER if listed is not None else LIST_PAGE_SIZE_STATUS
    size = limit if page_size is None else check_int(page_size, "page_size", low=1, high=limit)
    return Listing(target=target, filter=listed, status=status, page_size=size)


def _target(
    default_queue: str | None,
    job_queue: str | None,
    array_job_id: str | None,
    multi_node_job_id: str | None,
) -> dict[str, str]:
    """What ListJobs lists: one queue (the default one if none is given), or one parent's
    children.

    Raises:
        TypeError: An id of the wrong type.
        ValueError: Two targets, or an empty id.
        ConfigurationError: No target given and no default queue.
    """
    targets = {
        "jobQueue": (job_queue, "job_queue"),
        "arrayJobId": (array_job_id, "array_job_id"),
        "multiNodeJobId": (multi_node_job_id, "multi_node_job_id"),
    }
    given = {key: pair for key, pair in targets.items() if pair[0] is not None}
    if len(given) > 1:
        raise ValueError("give one of job_queue, array_job_id and multi_node_job_id")
    if not given:
        if not default_queue:
            raise ConfigurationError("no job queue: pass job_queue or set BatchConfig.job_queue")
        return {"jobQueue": default_queue}
    key, (value, name) = next(iter(given.items()))
    check_job_id(value, name)
    return {key: str(value)}


def _filter(**given: Any) -> tuple[dict[str, Any], str] | None:
    """The one ListJobs filter the arguments ask for, with the argument's name, or ``None``.

    Raises:
        TypeError: An argument of the wrong type.
        ValueError: A bad value, or more than one filter.
    """
    found = [
        ({"name": _FILTERS[name][0], "values": [_FILTERS[name][1](value, name)]}, name)
        for name, value in given.items()
        if value is not None
    ]
    if len(found) > 1:
        raise ValueError(
            "ListJobs takes one filter at most: give one of job_name, job_definition, "
            "created_after, created_before and share_identifier"
        )
    return found[0] if found else None


async def _pages(
    call: CallFn, logger: logging.Logger, params: dict[str, Any], page_size: int
) -> AsyncIterator[JobSummary]:
    request = {**params, "maxResults": page_size}
    logger.debug("ListJobs %s", request)
    async with aclosing(pages(call, "ListJobs", request, logger=logger)) as listing:
        async for page in listing:
            for raw in page.get("jobSummaryList", []):
                yield validate_answer(JobSummary, raw, "ListJobs")


def _check_text(value: Any, name: str, maximum: int) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if not value or len(value) > maximum:
        raise ValueError(f"{name} must be 1-{maximum} characters")


def _millis(value: Any, name: str) -> str:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return str(int(value.timestamp() * 1000))


def _text(maximum: int) -> Callable[[Any, str], str]:
    def check(value: Any, name: str) -> str:
        _check_text(value, name, maximum)
        return str(value)

    return check


#: Each filter argument: AWS's filter name, and the check that gives its value.
_FILTERS: dict[str, tuple[str, Callable[[Any, str], str]]] = {
    "job_name": ("JOB_NAME", _text(JOB_NAME_MAX)),
    "job_definition": ("JOB_DEFINITION", _text(2048)),
    "created_after": ("AFTER_CREATED_AT", _millis),
    "created_before": ("BEFORE_CREATED_AT", _millis),
    "share_identifier": ("SHARE_IDENTIFIER", _text(255)),
}
