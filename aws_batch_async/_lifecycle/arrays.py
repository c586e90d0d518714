"""Array jobs: which children failed, and a rerun of those children only.

:class:`ArrayReruns` lists an array's FAILED children (ListJobs by ``arrayJobId`` and status,
up to 1,000 children a call) and resubmits them as a new array whose children learn their
original index from :func:`aws_batch_async.array_index` (``_lifecycle/array_index.py``). The
request is
rebuilt from the parent's DescribeJobs detail (queue, definition, container command,
environment, resources, parameters, timeout, retry attempts, tags, fair-share fields).

The index map travels in the container's environment, and ECS refuses container overrides of
more than 8,192 characters (AWS accepts the SubmitJob, and the job then fails): a map that
does not fit is split over several arrays (a part of one index is a single job).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from pydantic import Field

from .._errors import BatchError, JobNotFoundError
from .._models.arguments import check_job_id
from .._models.jobs import JobResponse, JobStatus, JobSummary
from .._models.limits import JOB_NAME_MAX, RESERVED_TAG_PREFIX
from .._models.requests import JobRequest
from .._public import publish
from .._types import DescribeFn
from .array_index import INDEX_MAP_ENV, decode_indices, encode_indices

__all__ = [
    "CONTAINER_OVERRIDES_MAX",
    "ArrayReruns",
    "RerunResponse",
    "rebuild_request",
    "split_indices",
]

#: ECS's limit on a task's container overrides, in characters of JSON.
CONTAINER_OVERRIDES_MAX = 8192
#: Room kept for what AWS adds to the overrides it passes on (the job's own variables).
_OVERRIDES_MARGIN = 512

ListFailed = Callable[[str], AsyncIterator[JobSummary]]
SubmitMany = Callable[[list[JobRequest]], Awaitable[list[JobResponse]]]
Change = Callable[[JobRequest], JobRequest]


class RerunResponse(JobResponse):
    """What ``rerun_failed`` submitted: a :class:`JobResponse` (the first job) and all parts.

    Attributes:
        parts: Every job submitted, in index order: one array (or a single job, when one index
            is rerun) per part of the index map that fits AWS's override size limit; most
            reruns have one part, this job itself.
        indices: The original indices rerun, in the order of the parts' children.
    """

    parts: list[JobResponse] = Field(default_factory=list)
    indices: list[int] = Field(default_factory=list)


class ArrayReruns:
    """``failed_indices`` and ``rerun_failed`` of :class:`~aws_batch_async.BatchService`.

    Args:
        describe_raw: One DescribeJobs call (raw jobs).
        list_failed: The FAILED children of an array (``list_jobs(array_job_id=...,
            job_status="FAILED")``).
        submit_many: ``submit_jobs`` of the service.
        logger: Where to log.
    """

    def __init__(
        self,
        describe_raw: DescribeFn,
        list_failed: ListFailed,
        submit_many: SubmitMany,
        logger: logging.Logger,
    ) -> None:
        self._describe_raw = describe_raw
        self._list_failed = list_failed
        self._submit_many = submit_many
        self._logger = logger

    async def failed_indices(self, array_job_id: str) -> list[int]:
        """The indices of the array's children that are FAILED now, ascending.

        Raises:
            TypeError: ``array_job_id`` is not a string.
            ValueError: It is empty or a child's id (``<id>:<index>``).
            BatchAPIError: ListJobs failed.
        """
        check_job_id(array_job_id, "array_job_id")
        if ":" in array_job_id:
            raise ValueError("array_job_id is the parent's id, without ':<index>'")
        indices: set[int] = set()
        async for summary in self._list_failed(array_job_id):
            if summary.status not in (None, JobStatus.FAILED):
                continue
            index = _child_index(summary, array_job_id)
            if index is not None:
                indices.add(index)
        return sorted(indices)

    async def rerun_failed(self, array_job_id: str, change: Change | None) -> RerunResponse:
        """Resubmit the array's FAILED children only. See ``BatchService.rerun_failed``."""
        if change is not None and not callable(change):
            raise TypeError("change must be a function JobRequest -> JobRequest")
        failed = await self.failed_indices(array_job_id)
        jobs = await self._describe_raw([array_job_id])
        if not jobs:
            raise JobNotFoundError(array_job_id)
        parent = jobs[0]
        if not (parent.get("arrayProperties") or {}).get("size"):
            raise BatchError(f"job {array_job_id} is not an array job")
        if not failed:
            raise BatchError(f"array job {array_job_id} has no FAILED child: nothing to rerun")
        originals = _original_indices(parent, failed)
        request = rebuild_request(parent)
        if change is not None:
            changed = change(request)
            if not isinstance(changed, JobRequest):
                raise TypeError(f"change returned {type(changed).__name__}, not a JobRequest")
            request = changed
        budget = CONTAINER_OVERRIDES_MAX - _overrides_size(request) - _OVERRIDES_MARGIN
        parts = split_indices(originals, budget)
        requests = [_part_request(request, part) for part in parts]
        self._logger.info(
            "rerunning %d failed child(ren) of array job %s as %d job(s)",
            len(originals),
            array_job_id,
            len(requests),
        )
        submitted = await self._submit_many(requests)
        first = submitted[0]
        return RerunResponse(
            job_id=first.job_id,
            job_name=first.job_name,
            job_arn=first.job_arn,
            parts=submitted,
            indices=originals,
        )


def rebuild_request(raw: Mapping[str, Any]) -> JobRequest:
    """A request like the job DescribeJobs described (without array size or dependencies).

    Environment variables AWS reserves (``AWS_BATCH*``) and the rerun index map are left out,
    and so are the library's own tags.
    """
    fields: dict[str, Any] = {
        "job_queue": raw.get("jobQueue"),
        "job_definition": raw.get("jobDefinition"),
    }
    name = raw.get("jobName")
    if isinstance(name, str) and name:
        fields["job_name"] = _rerun_name(name)
    fields.update(_container_fields(raw.get("container") or {}))
    if raw.get("parameters"):
        fields["parameters"] = dict(raw["parameters"])
    timeout = (raw.get("timeout") or {}).get("attemptDurationSeconds")
    if timeout:
        fields["timeout_seconds"] = timeout
    attempts = (raw.get("retryStrategy") or {}).get("attempts")
    if attempts:
        fields["retry_attempts"] = attempts
    tags = {
        k: v
        for k, v in (raw.get("tags") or {}).items()
        if not str(k).startswith(RESERVED_TAG_PREFIX) and not str(k).lower().startswith("aws:")
    }
    if tags:
        fields["tags"] = tags
    if raw.get("shareIdentifier"):
        fields["share_identifier"] = raw["shareIdentifier"]
    if raw.get("schedulingPriority") is not None:
        fields["scheduling_priority"] = raw["schedulingPriority"]
    return JobRequest(**fields)


def _container_fields(container: Mapping[str, Any]) -> dict[str, Any]:
    """The request's command, environment and resources, as the job's container has them."""
    fields: dict[str, Any] = {}
    command = container.get("command")
    if command:
        fields["command"] = [str(part) for part in command]
    env = {
        str(e.get("name")): str(e.get("value", ""))
        for e in container.get("environment") or []
        if e.get("name")
        and not str(e["name"]).upper().startswith("AWS_BATCH")
        and e["name"] != INDEX_MAP_ENV
    }
    if env:
        fields["env_vars"] = env
    for requirement in container.get("resourceRequirements") or []:
        kind, value = requirement.get("type"), requirement.get("value")
        if kind == "VCPU":
            fields["vcpus"] = float(value)
        elif kind == "MEMORY":
            fields["memory_mib"] = int(value)
        elif kind == "GPU":
            fields["gpus"] = int(value)
    return fields


def split_indices(indices: Sequence[int], budget: int) -> list[list[int]]:
    """Split indices into parts whose range encoding fits ``budget`` characters each.

    Raises:
        BatchError: Not even one index fits (the request's own overrides are too large).
    """
    parts: list[list[int]] = []
    current: list[int] = []
    for index in indices:
        candidate = [*current, index]
        if len(encode_indices(candidate)) <= budget:
            current = candidate
            continue
        if not current:
            raise BatchError(
                "the job's container overrides leave no room for the rerun's index map "
                f"(ECS allows {CONTAINER_OVERRIDES_MAX} characters)"
            )
        parts.append(current)
        current = [index]
        if len(encode_indices(current)) > budget:
            raise BatchError(
                "the job's container overrides leave no room for the rerun's index map "
                f"(ECS allows {CONTAINER_OVERRIDES_MAX} characters)"
            )
    if current:
        parts.append(current)
    return parts


def _part_request(request: JobRequest, part: list[int]) -> JobRequest:
    env = {**(request.env_vars or {}), INDEX_MAP_ENV: encode_indices(part)}
    update: dict[str, Any] = {"env_vars": env, "array_size": len(part) if len(part) > 1 else None}
    return JobRequest.model_validate({**_given(request), **update})


def _given(request: JobRequest) -> dict[str, Any]:
    return {name: getattr(request, name) for name in request.model_fields_set}


def _overrides_size(request: JobRequest) -> int:
    """Characters of the container overrides the request makes, before the index map."""
    env = [{"name": k, "value": v} for k, v in (request.env_vars or {}).items()]
    env.append({"name": INDEX_MAP_ENV, "value": ""})
    overrides = {
        "command": request.command or [],
        "environment": env,
        "resourceRequirements": [
            {"type": "VCPU", "value": "0000.00"},
            {"type": "MEMORY", "value": "0000000"},
            {"type": "GPU", "value": "0000"},
        ],
    }
    return len(json.dumps(overrides, separators=(",", ":")))


def _original_indices(parent: Mapping[str, Any], failed: list[int]) -> list[int]:
    """The indices ``failed`` stand for: the parent's own, or through its rerun map."""
    env = (parent.get("container") or {}).get("environment") or []
    mapping = next((e.get("value") for e in env if e.get("name") == INDEX_MAP_ENV), None)
    if not isinstance(mapping, str):
        return failed
    originals = decode_indices(mapping)
    return [originals[i] for i in failed if i < len(originals)]


def _child_index(summary: JobSummary, parent_id: str) -> int | None:
    if summary.array_properties is not None and summary.array_properties.index is not None:
        return summary.array_properties.index
    prefix, _, suffix = summary.job_id.rpartition(":")
    if prefix == parent_id and suffix.isdigit():
        return int(suffix)
    return None


def _rerun_name(name: str) -> str:
    base = name if name.endswith("-rerun") else f"{name}-rerun"
    return base[:JOB_NAME_MAX]


publish(__name__)
