"""SageMaker service jobs for LocalBatch: moto has none, so the proxy answers them itself.

:class:`ServiceJobEmulator` keeps service jobs in memory and answers SubmitServiceJob,
DescribeServiceJob, ListServiceJobs, TerminateServiceJob(s) and UpdateServiceJob as AWS does
(botocore 1.43's shapes):

* a ``clientToken`` seen before is **rejected** (HTTP 400 ``ClientException``), whatever the
  payload, as AWS documents for a repeated token; nothing is created twice;
* a job walks SUBMITTED, PENDING, RUNNABLE, SCHEDULED, STARTING, RUNNING, one status every
  :attr:`ServiceJobEmulator.step` seconds from its submission, then ends in the outcome set
  when it was submitted (:attr:`ServiceJobEmulator.outcome`: ``"SUCCEEDED"`` or ``"FAILED"``);
  its attempt names a fake SageMaker training job ARN once SCHEDULED;
* ListServiceJobs without ``jobStatus`` and without filters lists RUNNING jobs only (as
  ListJobs); a JOB_NAME filter (trailing ``*``: prefix) lists every status, newest first;
  pages follow ``maxResults`` / ``nextToken``;
* TerminateServiceJob(s) end a job FAILED with the reason; unknown ids count as successful in
  the bulk call (the model's documentation);
* UpdateServiceJob sets ``schedulingPriority`` (0..9999).

Queues are not checked against moto's: any non-empty queue is accepted.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .operations import aws_error

__all__ = ["SERVICE_JOB_OPERATIONS", "ServiceJobEmulator"]

#: The operations the emulator answers.
SERVICE_JOB_OPERATIONS = frozenset(
    {
        "SubmitServiceJob",
        "DescribeServiceJob",
        "ListServiceJobs",
        "TerminateServiceJob",
        "TerminateServiceJobs",
        "UpdateServiceJob",
    }
)
_LIFECYCLE = ("SUBMITTED", "PENDING", "RUNNABLE", "SCHEDULED", "STARTING", "RUNNING")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_ACCOUNT = "123456789012"
_REGION = "us-east-1"


@dataclass
class _Job:
    raw: dict[str, Any]
    submitted: float  # monotonic
    outcome: str
    stopped: tuple[str, str] | None = None  # (status, reason) once terminated
    stopped_ms: int | None = None
    priority_updates: list[int] = field(default_factory=list)


class ServiceJobEmulator:
    """Service jobs kept by the proxy. Thread-safe: tests change it from their own thread.

    Attributes:
        step: Seconds each status before the terminal one lasts.
        outcome: How jobs submitted from now on end: ``"SUCCEEDED"`` or ``"FAILED"``.
    """

    def __init__(self, *, step: float = 0.05) -> None:
        self.step = step
        self.outcome = "SUCCEEDED"
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._tokens: dict[str, str] = {}

    def reset(self) -> None:
        """Forget every service job and token; back to the default step and outcome."""
        with self._lock:
            self._jobs.clear()
            self._tokens.clear()
            self.step = 0.05
            self.outcome = "SUCCEEDED"

    def count(self) -> int:
        """How many service jobs exist."""
        with self._lock:
            return len(self._jobs)

    def respond(self, operation: str, body: dict[str, Any]) -> web.Response:
        """Answer one service-job call.

        Args:
            operation: One of :data:`SERVICE_JOB_OPERATIONS`.
            body: The request's JSON body.

        Returns:
            AWS's answer, or its error.
        """
        with self._lock:
            handler = getattr(self, "_" + _snake(operation))
            answer: web.Response = handler(body)
            return answer

    # -----------------------------------------------------------------------------------------

    def _submit_service_job(self, body: dict[str, Any]) -> web.Response:
        name, queue = body.get("jobName"), body.get("jobQueue")
        payload, kind = body.get("serviceRequestPayload"), body.get("serviceJobType")
        if not isinstance(name, str) or not _NAME.match(name):
            return _client_error("jobName must be 1-128 letters, digits, '-' or '_'")
        if not isinstance(queue, str) or not queue:
            return _client_error("jobQueue is required")
        if kind != "SAGEMAKER_TRAINING":
            return _client_error("serviceJobType must be SAGEMAKER_TRAINING")
        if not isinstance(payload, str) or not payload or len(payload.encode()) > 10 * 1024:
            return _client_error("serviceRequestPayload must be 1 byte to 10 KiB")
        priority = body.get("schedulingPriority")
        if priority is not None and not (isinstance(priority, int) and 0 <= priority <= 9999):
            return _client_error("schedulingPriority must be between 0 and 9999")
        token = body.get("clientToken")
        if isinstance(token, str) and token in self._tokens:
            return _client_error(
                "Idempotent request rejected: a request with this clientToken was already received"
            )
        job_id = str(uuid.uuid4())
        if isinstance(token, str):
            self._tokens[token] = job_id
        queue_arn = queue if queue.startswith("arn:") else _arn("job-queue", queue)
        raw: dict[str, Any] = {
            "jobId": job_id,
            "jobName": name,
            "jobArn": _arn("service-job", job_id),
            "jobQueue": queue_arn,
            "serviceJobType": kind,
            "serviceRequestPayload": payload,
            "createdAt": _now_ms(),
            "tags": dict(body.get("tags") or {}),
        }
        for key in (
            "schedulingPriority",
            "shareIdentifier",
            "quotaShareName",
            "retryStrategy",
            "timeoutConfig",
            "preemptionConfiguration",
        ):
            if body.get(key) is not None:
                raw[key] = body[key]
        self._jobs[job_id] = _Job(raw, time.monotonic(), self.outcome)
        return web.json_response({"jobArn": raw["jobArn"], "jobName": name, "jobId": job_id})

    def _describe_service_job(self, body: dict[str, Any]) -> web.Response:
        job = self._jobs.get(str(body.get("jobId")))
        if job is None:
            return _client_error(f"Job {body.get('jobId')} not found")
        return web.json_response(self._present(job))

    def _list_service_jobs(self, body: dict[str, Any]) -> web.Response:
        queue = body.get("jobQueue")
        status = body.get("jobStatus")
        filters = body.get("filters") or []
        name_filter: str | None = None
        for entry in filters:
            if isinstance(entry, dict) and entry.get("name") == "JOB_NAME":
                values = entry.get("values") or [""]
                name_filter = str(values[0])
        if not filters and status is None:
            status = "RUNNING"  # as ListJobs: RUNNING jobs only
        jobs = [self._present(job) for job in self._jobs.values()]
        jobs = [j for j in jobs if queue is None or queue in (j["jobQueue"], _name(j["jobQueue"]))]
        if name_filter is not None:
            jobs = [j for j in jobs if _name_matches(j["jobName"], name_filter)]
        elif status is not None:
            jobs = [j for j in jobs if j["status"] == status]
        jobs.sort(key=lambda j: j["createdAt"], reverse=True)
        size = body.get("maxResults") or 100
        start = int(body.get("nextToken") or 0)
        page = jobs[start : start + size]
        answer: dict[str, Any] = {"jobSummaryList": [_summary(j) for j in page]}
        if start + size < len(jobs):
            answer["nextToken"] = str(start + size)
        return web.json_response(answer)

    def _terminate_service_job(self, body: dict[str, Any]) -> web.Response:
        job_id, reason = str(body.get("jobId")), body.get("reason")
        if not isinstance(reason, str) or not reason:
            return _client_error("reason is required")
        job = self._jobs.get(job_id)
        if job is None:
            return _client_error(f"Job {job_id} not found")
        self._stop(job, reason)
        return web.json_response({})

    def _terminate_service_jobs(self, body: dict[str, Any]) -> web.Response:
        ids, reason = body.get("jobs"), body.get("reason")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 50:
            return _client_error("jobs: 1 to 50 job ids")
        if not isinstance(reason, str) or not reason:
            return _client_error("reason is required")
        for job_id in ids:
            job = self._jobs.get(str(job_id))
            if job is not None:
                self._stop(job, reason)
        return web.json_response({"successful": [str(i) for i in ids], "errors": []})

    def _update_service_job(self, body: dict[str, Any]) -> web.Response:
        job = self._jobs.get(str(body.get("jobId")))
        priority = body.get("schedulingPriority")
        if job is None:
            return _client_error(f"Job {body.get('jobId')} not found")
        if not (isinstance(priority, int) and 0 <= priority <= 9999):
            return _client_error("schedulingPriority must be between 0 and 9999")
        job.raw["schedulingPriority"] = priority
        job.priority_updates.append(priority)
        raw = job.raw
        return web.json_response(
            {"jobArn": raw["jobArn"], "jobName": raw["jobName"], "jobId": raw["jobId"]}
        )

    # -----------------------------------------------------------------------------------------

    def _stop(self, job: _Job, reason: str) -> None:
        if job.stopped is None and self._status(job)[0] not in ("SUCCEEDED", "FAILED"):
            job.stopped = ("FAILED", reason)
            job.stopped_ms = _now_ms()

    def _status(self, job: _Job) -> tuple[str, int]:
        """The job's status now, and how many steps it has lived."""
        steps = int((time.monotonic() - job.submitted) / self.step) if self.step > 0 else 99
        if job.stopped is not None:
            return job.stopped[0], steps
        if steps < len(_LIFECYCLE):
            return _LIFECYCLE[steps], steps
        return job.outcome, steps

    def _present(self, job: _Job) -> dict[str, Any]:
        status, steps = self._status(job)
        raw = dict(job.raw)
        raw["status"] = status
        created = int(raw["createdAt"])
        step_ms = int(self.step * 1000)
        scheduled = _LIFECYCLE.index("SCHEDULED")
        running = _LIFECYCLE.index("STARTING")
        if steps >= scheduled:
            raw["scheduledAt"] = created + scheduled * step_ms
            resource = {
                "name": "TrainingJobArn",
                "value": f"arn:aws:sagemaker:{_REGION}:{_ACCOUNT}:training-job/{raw['jobName']}",
            }
            raw["latestAttempt"] = {"serviceResourceId": resource}
            attempt: dict[str, Any] = {"serviceResourceId": resource}
            if steps >= running:
                raw["startedAt"] = attempt["startedAt"] = created + running * step_ms
            raw["attempts"] = [attempt]
        raw.setdefault("startedAt", 0)  # the model requires it; AWS sends 0 before the start
        if job.stopped is not None:
            raw["statusReason"] = job.stopped[1]
            raw["isTerminated"] = True
            raw["stoppedAt"] = job.stopped_ms
        elif status in ("SUCCEEDED", "FAILED"):
            raw["stoppedAt"] = created + len(_LIFECYCLE) * step_ms
            raw["statusReason"] = (
                "Training job completed"
                if status == "SUCCEEDED"
                else "AlgorithmError: the training script exited with 1 (LocalBatch)"
            )
        if "stoppedAt" in raw and raw.get("attempts"):
            raw["attempts"][0]["stoppedAt"] = raw["stoppedAt"]
            raw["attempts"][0]["statusReason"] = raw["statusReason"]
        return raw


def _summary(raw: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "latestAttempt",
        "createdAt",
        "jobArn",
        "jobId",
        "jobName",
        "scheduledAt",
        "serviceJobType",
        "shareIdentifier",
        "quotaShareName",
        "status",
        "statusReason",
        "startedAt",
        "stoppedAt",
        "isTerminated",
    )
    return {key: raw[key] for key in keys if key in raw}


def _name_matches(name: str, pattern: str) -> bool:
    if pattern.endswith("*"):
        return name.lower().startswith(pattern[:-1].lower())
    return name.lower() == pattern.lower()


def _client_error(message: str) -> web.Response:
    return aws_error(400, "ClientException", message)


def _arn(kind: str, name: str) -> str:
    return f"arn:aws:batch:{_REGION}:{_ACCOUNT}:{kind}/{name}"


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
