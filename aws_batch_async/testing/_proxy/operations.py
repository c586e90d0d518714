"""The AWS-faithful operations of :class:`~aws_batch_async.testing.BatchProxy`.

Each handler answers one Batch operation the way AWS does, built from moto's answers to the
calls moto does have (made through ``forward(path, body)``):

* ListJobs: paging, the RUNNING default, the filters, no array children by queue;
* GetJobQueueSnapshot (moto has none): the queue's RUNNABLE jobs, oldest first;
* CancelJobs / TerminateJobs (moto has none): one CancelJob / TerminateJob per job, unknown
  ids in ``errors``;
* job overrides (:class:`JobOverrides`): fields laid over moto's jobs in DescribeJobs and
  ListJobs answers, to show statuses moto's simple mode never reaches (RUNNABLE forever).
"""

from __future__ import annotations

import base64
import copy
import fnmatch
import hashlib
import json
import random
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..._submitting.definition_cache import _parse_reference
from .faults import Fault

__all__ = [
    "Forward",
    "JobOverrides",
    "STATUS_ORDER",
    "array_index",
    "aws_error",
    "bulk_stop",
    "dump",
    "fault_answer",
    "job_queue_snapshot",
    "list_jobs",
    "resolve_definition",
    "resolve_emulated",
]

#: Forwards ``body`` to moto's ``path``; returns (status, headers, payload).
Forward = Callable[[str, bytes], Awaitable[tuple[int, dict[str, str], bytes]]]

STATUS_ORDER = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
_NOT_STARTED = frozenset(STATUS_ORDER[:3])
_TERMINAL = frozenset(STATUS_ORDER[5:])
_SNAPSHOT_SIZE = 100
_BULK_MAX = 50
_REASON_MAX = 1024


def aws_error(status: int, code: str, message: str) -> web.Response:
    """An AWS-style JSON error answer."""
    return web.json_response(
        {"__type": code, "message": message},
        status=status,
        headers={"x-amzn-ErrorType": code, "x-amzn-RequestId": f"proxy-{random.getrandbits(48):x}"},
    )


def fault_answer(fault: Fault) -> web.Response:
    """The answer of an injected ``"error"`` or ``"answer"`` fault."""
    if fault.kind == "answer":
        return web.Response(status=fault.status, body=fault.body, content_type=fault.content_type)
    return aws_error(fault.status, fault.code, fault.message)


def dump(value: Any) -> bytes:
    """``value`` as a JSON body."""
    return json.dumps(value).encode()


async def resolve_definition(
    forward: Forward, name: str, revision: int | None, reference: str
) -> str | None:
    """The ARN a SubmitJob's ``jobDefinition`` means: that revision, else the latest ACTIVE."""
    status, _, payload = await forward(
        "/v1/describejobdefinitions", dump({"jobDefinitionName": name})
    )
    if status != 200:
        return None
    best: dict[str, Any] | None = None
    for entry in json.loads(payload).get("jobDefinitions") or []:
        rev = entry.get("revision")
        if entry.get("jobDefinitionName") != name or not isinstance(rev, int):
            continue
        if reference.startswith("arn:") and entry.get("jobDefinitionArn") == reference:
            return str(reference)
        if revision is not None:
            if rev == revision:
                return str(entry.get("jobDefinitionArn"))
            continue
        if entry.get("status") == "ACTIVE" and (best is None or rev > best["revision"]):
            best = entry
    return str(best["jobDefinitionArn"]) if best is not None else None


async def resolve_emulated(
    forward: Forward, reference: Any, emulated: Callable[[str], bool]
) -> str | None:
    """The ARN a SubmitJob's ``jobDefinition`` means, if ``emulated(name)``; else ``None``."""
    if not isinstance(reference, str):
        return None
    name, revision = _parse_reference(reference)
    if not emulated(name):
        return None
    return await resolve_definition(forward, name, revision, reference)


def _now_ms() -> int:
    return int(time.time() * 1000)


class JobOverrides:
    """Fields laid over moto's jobs in DescribeJobs / ListJobs / snapshot answers (thread-safe).

    A ``None`` value removes the field. Setting a status that has not finished also removes
    ``stoppedAt`` (and ``startedAt`` for a status before STARTING) unless given, as AWS shows
    neither for such jobs. A CancelJob/TerminateJob through the proxy moves an overridden job
    to FAILED as AWS would (cancel: only before STARTING).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fields: dict[str, dict[str, Any]] = {}
        self._since: dict[str, int] = {}
        self._last = 0

    def set(self, job_id: str, fields: dict[str, Any]) -> None:
        """Override ``fields`` of ``job_id`` (merged into earlier overrides)."""
        fields = dict(fields)
        status = fields.get("status")
        if status is not None and status not in STATUS_ORDER:
            raise ValueError(f"unknown status {status!r}")
        if status is not None and status not in _TERMINAL:
            fields.setdefault("stoppedAt", None)
            if status in _NOT_STARTED:
                fields.setdefault("startedAt", None)
        with self._lock:
            self._fields.setdefault(job_id, {}).update(copy.deepcopy(fields))
            if status == "RUNNABLE":  # strictly increasing, so overrides keep their order
                self._last = max(_now_ms(), self._last + 1)
                self._since[job_id] = self._last

    def clear(self, job_ids: tuple[str, ...] = ()) -> None:
        """Remove the overrides of ``job_ids``, or all of them."""
        with self._lock:
            for job_id in job_ids or list(self._fields):
                self._fields.pop(job_id, None)
                self._since.pop(job_id, None)

    def apply(self, job: dict[str, Any]) -> None:
        """Lay the overrides of ``job["jobId"]`` over ``job`` (in place)."""
        with self._lock:
            fields = self._fields.get(str(job.get("jobId")))
            if not fields:
                return
            for key, value in fields.items():
                if value is None:
                    job.pop(key, None)
                else:
                    job[key] = copy.deepcopy(value)

    def runnable_since(self, job_id: str) -> int | None:
        """When an override made the job RUNNABLE (epoch ms)."""
        with self._lock:
            return self._since.get(job_id)

    def stopped(self, job_id: str, reason: str, *, terminate: bool) -> None:
        """Record that CancelJob (``terminate=False``) or TerminateJob reached the job."""
        with self._lock:
            fields = self._fields.get(job_id)
            status = fields.get("status") if fields else None
            if fields is None or status is None or status in _TERMINAL:
                return
            if not terminate and status not in _NOT_STARTED:
                return  # AWS: CancelJob of a started job does nothing
            fields.update(
                status="FAILED",
                statusReason=reason,
                stoppedAt=_now_ms(),
                **{"isTerminated" if terminate else "isCancelled": True},
            )
            self._since.pop(job_id, None)


# ---------------------------------------------------------------------------------------------
# GetJobQueueSnapshot


async def job_queue_snapshot(
    body: dict[str, Any], forward: Forward, overrides: JobOverrides
) -> web.Response:
    """GetJobQueueSnapshot: the queue's first 100 RUNNABLE jobs, oldest position first.

    A job's ``earliestTimeAtPosition`` is when an override made it RUNNABLE, else its
    ``createdAt``.
    """
    queue = body.get("jobQueue")
    if not isinstance(queue, str) or not queue:
        return aws_error(400, "ClientException", "jobQueue must be given")
    status, headers, payload = await forward(
        "/v1/listjobs", json.dumps({"jobQueue": queue}).encode()
    )
    if status != 200:
        return web.Response(status=status, headers=headers, body=payload)
    jobs: list[dict[str, Any]] = json.loads(payload).get("jobSummaryList", [])
    for job in jobs:
        overrides.apply(job)
    queued = []
    for job in jobs:
        if job.get("status") == "RUNNABLE":
            since = overrides.runnable_since(str(job.get("jobId"))) or int(job.get("createdAt", 0))
            queued.append((since, job))
    queued.sort(key=lambda pair: pair[0])
    front = [
        {"jobArn": job.get("jobArn"), "earliestTimeAtPosition": since}
        for since, job in queued[:_SNAPSHOT_SIZE]
    ]
    return web.json_response({"frontOfQueue": {"jobs": front, "lastUpdatedAt": _now_ms()}})


# ---------------------------------------------------------------------------------------------
# CancelJobs / TerminateJobs


async def bulk_stop(
    operation: str, body: dict[str, Any], forward: Forward, overrides: JobOverrides
) -> web.Response:
    """CancelJobs / TerminateJobs: one CancelJob / TerminateJob per known job.

    As AWS documents it, "jobs that can't be found are treated as successfully processed":
    unknown ids are in ``successful``, with no call. Jobs moto refuses are reported in
    ``errors`` (``{job, code, message}``) of the HTTP 200 answer.
    """
    jobs, reason = body.get("jobs"), body.get("reason")
    if (
        not isinstance(jobs, list)
        or not 1 <= len(jobs) <= _BULK_MAX
        or not all(isinstance(j, str) and j for j in jobs)
    ):
        return aws_error(400, "ClientException", f"jobs: 1 to {_BULK_MAX} job ids must be given")
    if not isinstance(reason, str) or not 1 <= len(reason) <= _REASON_MAX:
        return aws_error(400, "ClientException", f"reason must be 1-{_REASON_MAX} characters")
    terminate = operation == "TerminateJobs"
    path = "/v1/terminatejob" if terminate else "/v1/canceljob"
    ids = list(dict.fromkeys(jobs))
    status, headers, payload = await forward("/v1/describejobs", json.dumps({"jobs": ids}).encode())
    if status != 200:
        return web.Response(status=status, headers=headers, body=payload)
    known = {j.get("jobId") for j in json.loads(payload).get("jobs", [])}
    successful: list[str] = []
    errors: list[dict[str, str]] = []
    for job_id in ids:
        if job_id not in known:  # AWS: "treated as successfully processed"
            successful.append(job_id)
            continue
        single = json.dumps({"jobId": job_id, "reason": reason}).encode()
        status, _, payload = await forward(path, single)
        if status == 200:
            successful.append(job_id)
            overrides.stopped(job_id, reason, terminate=terminate)
            continue
        try:
            answer = json.loads(payload)
        except ValueError:
            answer = {}
        errors.append(
            {
                "job": job_id,
                "code": str(answer.get("__type") or status),
                "message": str(answer.get("message") or payload[:200].decode(errors="replace")),
            }
        )
    return web.json_response({"successful": successful, "errors": errors})


# ---------------------------------------------------------------------------------------------
# ListJobs


async def list_jobs(
    body: dict[str, Any], forward: Forward, overrides: JobOverrides
) -> web.Response:
    """ListJobs as AWS answers it (see the module docstring of ``_proxy``)."""
    problem = _list_request_problem(body)
    if problem is not None:
        return aws_error(400, "ClientException", problem)
    target = next(k for k in _LIST_TARGETS if body.get(k))
    filters = body.get("filters") or []
    max_results: int = body.get("maxResults", 100 if filters else 1000)
    key = hashlib.sha256(
        json.dumps({k: body.get(k) for k in (target, "jobStatus", "filters")}).encode()
    ).hexdigest()[:16]
    offset = _list_offset(body.get("nextToken"), key)
    if offset is None:
        return aws_error(400, "ClientException", "invalid nextToken")

    status_code, headers, payload = await forward(
        "/v1/listjobs", json.dumps({target: body[target]}).encode()
    )
    if status_code != 200:
        return web.Response(status=status_code, headers=headers, body=payload)
    jobs: list[dict[str, Any]] = json.loads(payload).get("jobSummaryList", [])
    jobs = await _as_aws_lists(jobs, target, forward, overrides)
    if filters and target == "jobQueue":
        flt = filters[0]
        jobs = [j for j in jobs if _matches(j, flt.get("name"), flt.get("values") or [])]
        jobs.sort(key=lambda j: j.get("createdAt", 0), reverse=True)
    else:
        wanted = body.get("jobStatus") or "RUNNING"
        jobs = [j for j in jobs if j.get("status") == wanted]
    page = jobs[offset : offset + max_results]
    result: dict[str, Any] = {"jobSummaryList": page}
    if offset + max_results < len(jobs):
        result["nextToken"] = base64.urlsafe_b64encode(
            json.dumps({"k": key, "o": offset + max_results}).encode()
        ).decode()
    return web.json_response(result)


_LIST_TARGETS = ("jobQueue", "arrayJobId", "multiNodeJobId")


def _list_request_problem(body: dict[str, Any]) -> str | None:
    """Why AWS would refuse this ListJobs request (``None``: it would not)."""
    if len([k for k in _LIST_TARGETS if body.get(k)]) != 1:
        return "exactly one of jobQueue, arrayJobId or multiNodeJobId must be given"
    filters = body.get("filters") or []
    status = body.get("jobStatus")
    if len(filters) > 1:
        return "at most one filter may be given"
    if status is not None and status not in STATUS_ORDER:
        return f"unknown jobStatus {status}"
    limit = 100 if filters else 1000
    max_results = body.get("maxResults", limit)
    if not isinstance(max_results, int) or not 1 <= max_results <= limit:
        return f"maxResults must be between 1 and {limit}"
    return None


def _list_offset(next_token: Any, key: str) -> int | None:
    """The offset a ``nextToken`` of the query ``key`` carries (0 without one; None: invalid)."""
    if not next_token:
        return 0
    try:
        token = json.loads(base64.urlsafe_b64decode(next_token))
        if token["k"] != key:
            raise ValueError("token of another query")
        return int(token["o"])
    except (ValueError, KeyError, TypeError):
        return None


async def _as_aws_lists(
    jobs: list[dict[str, Any]], target: str, forward: Forward, overrides: JobOverrides
) -> list[dict[str, Any]]:
    """moto's summaries as AWS lists them by ``target`` (before the status filter)."""
    if target == "jobQueue":  # AWS lists array parents by queue, not their children
        parent_ids = {j["jobId"].split(":", 1)[0] for j in jobs if ":" in j.get("jobId", "")}
        jobs = [j for j in jobs if ":" not in j.get("jobId", "")]
        await _refresh_array_parents(forward, [j for j in jobs if j["jobId"] in parent_ids])
    if target == "arrayJobId":  # AWS's summaries of children carry their index
        for job in jobs:
            _, _, index = str(job.get("jobId", "")).rpartition(":")
            if index.isdigit():
                job.setdefault("arrayProperties", {}).setdefault("index", int(index))
    for job in jobs:
        overrides.apply(job)
    return jobs


async def _refresh_array_parents(forward: Forward, jobs: list[dict[str, Any]]) -> None:
    """Give array parents their current status and size, as AWS's ListJobs does.

    moto settles a parent's status from its children only when the parent is described,
    and its summaries omit ``arrayProperties``.
    """
    parents = {j["jobId"]: j for j in jobs}
    ids = list(parents)
    for start in range(0, len(ids), 100):
        body = json.dumps({"jobs": ids[start : start + 100]}).encode()
        status, _, payload = await forward("/v1/describejobs", body)
        if status != 200:
            return
        for job in json.loads(payload).get("jobs", []):
            summary = parents.get(job.get("jobId"))
            if summary is not None:
                summary["status"] = job.get("status")
                size = (job.get("arrayProperties") or {}).get("size")
                if size:
                    summary["arrayProperties"] = {"size": size}


def _matches(job: dict[str, Any], name: str | None, values: list[str]) -> bool:
    if not values:
        return False
    value = str(values[0])
    if name == "JOB_NAME":
        job_name = str(job.get("jobName", "")).lower()
        pattern = value.lower()
        if pattern.endswith("*"):
            return job_name.startswith(pattern[:-1])
        return job_name == pattern
    if name == "JOB_DEFINITION":
        definition = str(job.get("jobDefinition", ""))
        short = definition.rsplit("/", 1)[-1]
        return value in (definition, short, short.split(":", 1)[0]) or fnmatch.fnmatchcase(
            short, value
        )
    if name in ("BEFORE_CREATED_AT", "AFTER_CREATED_AT"):
        try:
            bound = int(value)
        except ValueError:
            return False
        created = int(job.get("createdAt", 0))
        return created < bound if name == "BEFORE_CREATED_AT" else created > bound
    if name == "SHARE_IDENTIFIER":
        return job.get("shareIdentifier") == value
    return False


def array_index(job: dict[str, Any]) -> None:
    """Give an array child ``arrayProperties.index``, as AWS's DescribeJobs does (moto omits it)."""
    _, sep, index = str(job.get("jobId", "")).rpartition(":")
    if sep and index.isdigit():
        props = job.get("arrayProperties")
        if not isinstance(props, dict):
            props = job["arrayProperties"] = {}
        props.setdefault("index", int(index))
