"""Why is this job not running? The verdict logic behind ``Operations.explain``.

:func:`diagnose` reads what it needs through a :class:`DiagnosisSources` (the job, its
dependencies, its queue, the queue's compute environments, the job definition, the queue
snapshot), one call each and only as far as needed, and checks in this order:

1. FINISHED / RUNNING: nothing is wrong (STARTING counts as RUNNING).
2. WAITING_FOR_DEPENDENCIES: a dependency has not finished, or FAILED.
3. QUEUE_DISABLED, QUEUE_INVALID: the queue's state, status and status reason.
4. NO_VALID_COMPUTE_ENVIRONMENT: every compute environment of the queue is DISABLED or INVALID.
5. RESOURCES_EXCEED_COMPUTE_ENVIRONMENTS: the job asks for more vCPUs, memory or GPUs than any
   usable compute environment can give (maxvCpus, the instance types' sizes, Fargate's limits),
   or AWS's status reason says so.
6. INSUFFICIENT_CAPACITY: AWS's status reason says EC2 has no capacity, or every usable
   compute environment runs at its maxvCpus.
7. QUEUED: nothing found; where the job stands at the front of the queue.
8. UNKNOWN: a read was refused (IAM) or AWS gave a reason this module does not classify.

A read that fails with a :class:`BatchAPIError` (an IAM denial, say; a damaged answer, a
``MalformedResponseError``, too) or a connection error makes the diagnosis poorer, never fail:
``reasons`` say what could not be read. Only the job's own answer, damaged, fails it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, Protocol

from .._errors import BatchAPIError, BatchConnectionError, JobNotFoundError
from .._infrastructure.instance_types import Resources, memory_note, requested_resources
from .._infrastructure.job_definitions import JobDefinition
from .._infrastructure.views import (
    ComputeEnvironment,
    JobDiagnosis,
    JobQueue,
    JobQueueSnapshot,
    StuckReason,
)
from .._models.jobs import JobDetail, JobStatus
from .._transport.answers import ANSWER_DAMAGE, damaged_answer, validate_answer

__all__ = ["DiagnosisSources", "diagnose"]


class DiagnosisSources(Protocol):
    """The reads :func:`diagnose` needs; each may raise the library's errors."""

    async def job_dicts(self, job_ids: list[str]) -> list[dict[str, Any]]:
        """DescribeJobs: the raw jobs found."""

    async def queue(self, queue: str) -> JobQueue | None:
        """DescribeJobQueues of one queue (name or ARN); ``None`` if it does not exist."""

    async def environments(self, arns: list[str]) -> list[ComputeEnvironment]:
        """DescribeComputeEnvironments: those that exist."""

    async def definition(self, job_definition: str) -> JobDefinition | None:
        """DescribeJobDefinitions of one revision (ARN or ``name:revision``)."""

    async def snapshot(self, queue: str) -> JobQueueSnapshot:
        """GetJobQueueSnapshot of one queue."""


async def diagnose(job_id: str, sources: DiagnosisSources) -> JobDiagnosis:
    """Explain why a job is where it is (see the module docstring for the order of checks).

    Args:
        job_id: The job's id.
        sources: Where to read from.

    Returns:
        The diagnosis.

    Raises:
        JobNotFoundError: DescribeJobs does not know the job.
        MalformedResponseError: DescribeJobs answered the job damaged.
        BatchAPIError: DescribeJobs of the job itself failed.
    """
    raw = next((j for j in await sources.job_dicts([job_id]) if j.get("jobId") == job_id), None)
    if raw is None:
        raise JobNotFoundError(job_id)
    return await _Diagnosis(validate_answer(JobDetail, raw, "DescribeJobs"), raw, sources).run()


_READ_ERRORS = (BatchAPIError, BatchConnectionError)
_RESOURCE_REASONS = (
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
    "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
)
_CAPACITY_REASON = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"
_BLOCKED_PREFIXES = ("MISCONFIGURATION:", "ACTION_REQUIRED", "UNDETERMINED", "CAPACITY:")

_Finding = tuple[StuckReason, list[str]]


class _Diagnosis:
    def __init__(self, job: JobDetail, raw: dict[str, Any], sources: DiagnosisSources) -> None:
        self.job = job
        self.raw = raw
        self.sources = sources
        self.notes: list[str] = []
        self.unread: list[str] = []
        self.queue: JobQueue | None = None
        self.environments: list[ComputeEnvironment] = []
        self.usable: list[ComputeEnvironment] | None = None  # None: not known
        self.requested: Resources | None = None
        self.position: int | None = None
        self.aws_reason = (job.status_reason or "").strip()

    async def run(self) -> JobDiagnosis:
        finding = self._progress() or await self._dependencies() or await self._queue_checks()
        if finding is None:
            finding = await self._environment_checks()
        if finding is None:
            await self._load_requested()
            finding = self._resources() or self._capacity()
        if finding is None:
            finding = await self._queued()
        verdict, evidence = finding
        return JobDiagnosis(
            job=self.job,
            verdict=verdict,
            reasons=[*evidence, *self.notes, *self.unread],
            requested=self.requested,
            queue=self.queue,
            compute_environments=self.environments,
            position=self.position,
        )

    def _could_not_read(self, operation: str, what: str, exc: Exception) -> None:
        if isinstance(exc, BatchAPIError):
            detail = f"{exc.code}: {exc.message}"
            hint = f"; allow batch:{operation} for a fuller diagnosis"
            if exc.code not in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
                hint = ""
        else:
            detail, hint = str(exc), ""
        self.unread.append(f"Could not read {what} ({operation} failed: {detail}){hint}.")

    # -- 1. finished or running -----------------------------------------------------------

    def _progress(self) -> _Finding | None:
        job = self.job
        if job.status is JobStatus.SUCCEEDED:
            return StuckReason.FINISHED, [f"The job SUCCEEDED{_at(job.stopped_at)}."]
        if job.status is JobStatus.FAILED:
            why = f": {job.status_reason}" if job.status_reason else ""
            code = f" (exit code {job.exit_code})" if job.exit_code is not None else ""
            found = [f"The job FAILED{_at(job.stopped_at)}{why}{code}."]
            failure = job.failure
            if failure is not None:  # why, in one word (``_lifecycle/failure.py``)
                retry = "worth retrying" if failure.retryable else "not worth retrying as it is"
                found.append(f"Failure kind: {failure.kind.value} ({retry}).")
            return StuckReason.FINISHED, found
        if job.status in (JobStatus.STARTING, JobStatus.RUNNING):
            return StuckReason.RUNNING, [f"The job is {job.status.value}{_since(job.started_at)}."]
        if not job.status.is_known:
            return StuckReason.UNKNOWN, [
                f"The job is {job.status.value}, a status this version of aws-batch-async does "
                "not know (AWS added it later); see AWS's documentation of that status."
            ]
        summary = job.array_properties.status_summary if job.array_properties else {}
        if job.is_array_parent and summary:
            counts = ", ".join(f"{n} {s}" for s, n in summary.items() if n)
            self.notes.append(f"Its array children: {counts or 'none yet'}.")
            if summary.get("RUNNING", 0) or summary.get("STARTING", 0):
                return StuckReason.RUNNING, [
                    "The array job's children are running; the parent stays PENDING until "
                    "they finish."
                ]
        return None

    # -- 2. dependencies --------------------------------------------------------------------

    async def _dependencies(self) -> _Finding | None:
        ids = list(dict.fromkeys(d.job_id for d in self.job.depends_on if d.job_id))
        if not ids:
            return None
        pending = self.job.status is JobStatus.PENDING
        try:
            raws = await self.sources.job_dicts(ids)
            found = {
                r["jobId"]: validate_answer(JobDetail, r, "DescribeJobs")
                for r in raws
                if r.get("jobId") in ids
            }
        except _READ_ERRORS as exc:  # MalformedResponseError too: a damaged answer
            self._could_not_read("DescribeJobs", "its dependencies", exc)
            if pending:
                return StuckReason.WAITING_FOR_DEPENDENCIES, [
                    f"The job is PENDING: it waits for its dependencies {', '.join(ids)}."
                ]
            return None
        evidence = []
        for dep_id in ids:
            dep = found.get(dep_id)
            if dep is None:
                continue
            if dep.status is JobStatus.FAILED:
                why = f": {dep.status_reason}" if dep.status_reason else ""
                evidence.append(
                    f"Its dependency {dep_id} ({dep.job_name}) FAILED{why}. AWS fails the jobs "
                    "that depend on a failed job, so this one will not run: resubmit it once "
                    "the dependency has succeeded."
                )
            elif not dep.status.is_terminal:
                why = f" ({dep.status_reason})" if dep.status_reason else ""
                evidence.append(
                    f"It waits for its dependency {dep_id} ({dep.job_name}), which is "
                    f"{dep.status.value}{why}; explain that job to see why."
                )
        missing = [d for d in ids if d not in found]
        if missing:
            self.notes.append(
                f"DescribeJobs does not know its dependencies {', '.join(missing)} (they never "
                "existed or finished long ago and aged out)."
            )
        if evidence:
            return StuckReason.WAITING_FOR_DEPENDENCIES, evidence
        if pending and missing:
            return StuckReason.WAITING_FOR_DEPENDENCIES, [
                "The job is PENDING, waiting for dependencies that DescribeJobs no longer shows."
            ]
        return None

    # -- 3. the queue -----------------------------------------------------------------------

    async def _queue_checks(self) -> _Finding | None:
        ref = self.job.job_queue
        if not ref:
            self.unread.append("DescribeJobs did not name the job's queue.")
            return None
        try:
            queue = await self.sources.queue(ref)
        except _READ_ERRORS as exc:
            self._could_not_read("DescribeJobQueues", "the job queue", exc)
            return None
        name = _short(ref)
        if queue is None:
            return StuckReason.QUEUE_INVALID, [
                f"The job queue {name} no longer exists (DescribeJobQueues does not know it): "
                "the job will not run; resubmit it to an existing queue."
            ]
        self.queue = queue
        why = f" ({queue.status_reason})" if queue.status_reason else ""
        if queue.state == "DISABLED":
            return StuckReason.QUEUE_DISABLED, [
                f"The job queue {queue.name} is DISABLED{why}: it accepts no new jobs, and "
                "only jobs already running in it are sure to go on. Enable it with "
                f'UpdateJobQueue(jobQueue="{queue.name}", state="ENABLED").'
            ]
        if queue.status in ("INVALID", "DELETING", "DELETED"):
            return StuckReason.QUEUE_INVALID, [
                f"The job queue {queue.name} is {queue.status}: "
                f"{queue.status_reason or 'AWS gives no reason'}. Fix what the reason names "
                "(often a compute environment that was deleted or is INVALID) with "
                "UpdateJobQueue, or submit to another queue."
            ]
        return None

    # -- 4. compute environments ------------------------------------------------------------

    async def _environment_checks(self) -> _Finding | None:
        queue = self.queue
        if queue is None:
            return None
        arns = queue.compute_environments
        if not arns:
            self.notes.append(f"The job queue {queue.name} lists no compute environment.")
            return None
        try:
            found = await self.sources.environments(arns)
        except _READ_ERRORS as exc:
            self._could_not_read("DescribeComputeEnvironments", "the compute environments", exc)
            return None
        by_ref = {e.arn: e for e in found} | {e.name: e for e in found}
        self.environments = [by_ref[a] for a in arns if a in by_ref]
        missing = [_short(a) for a in arns if a not in by_ref]
        self.usable = [e for e in self.environments if e.is_usable]
        if not self.usable:
            evidence = [f"None of the compute environments of the queue {queue.name} can run jobs:"]
            evidence += [
                f"{e.name} is {e.state or '?'} and {e.status or '?'}"
                + (f": {e.status_reason}" if e.status_reason else "")
                + "."
                for e in self.environments
            ]
            evidence += [f"{name} no longer exists." for name in missing]
            evidence.append(
                'Enable one with UpdateComputeEnvironment(state="ENABLED"), or fix what '
                "its status reason names (an INVALID environment usually has a missing IAM "
                "role, subnet, security group or launch template)."
            )
            return StuckReason.NO_VALID_COMPUTE_ENVIRONMENT, evidence
        for env in self.environments:
            if not env.is_usable:
                self.notes.append(
                    f"The compute environment {env.name} is {env.state}/{env.status} and is "
                    "skipped."
                )
        return None

    # -- 5. resources -----------------------------------------------------------------------

    async def _load_requested(self) -> None:
        try:
            requested = requested_resources(self.raw)
        except ANSWER_DAMAGE as exc:
            raise damaged_answer("DescribeJobs", self.raw, "a job's resources", exc) from exc
        if requested.is_empty and self.job.job_definition:
            try:
                definition = await self.sources.definition(self.job.job_definition)
            except _READ_ERRORS as exc:
                self._could_not_read("DescribeJobDefinitions", "the job definition", exc)
                definition = None
            if definition is not None:
                requested = definition.resources
        self.requested = None if requested.is_empty else requested

    def _resources(self) -> _Finding | None:
        asked = self.requested
        asks = f"The job asks for {asked}." if asked is not None else ""
        if self.aws_reason.upper().startswith(_RESOURCE_REASONS):
            evidence = [f"AWS says: {self.aws_reason}."]
            if asks:
                evidence.append(asks)
            evidence += [f"{e.name}: {_limits(e)}." for e in self.usable or ()]
            evidence.append(_RESOURCE_ADVICE)
            return StuckReason.RESOURCES_EXCEED_COMPUTE_ENVIRONMENTS, [
                *evidence,
                *self._time_limit_note(),
            ]
        if asked is None or not self.usable:
            return None
        misfits = {e.name: e.misfit(asked) for e in self.usable}
        if not all(misfits.values()):
            memory_note = _memory_note(asked, self.usable)
            if memory_note:
                self.notes.append(memory_note)
            return None
        evidence = [f"{asks[:-1]}, more than any compute environment of its queue can provide:"]
        evidence += [f"{name}: {'; '.join(problems)}." for name, problems in misfits.items()]
        evidence.append(_RESOURCE_ADVICE)
        return StuckReason.RESOURCES_EXCEED_COMPUTE_ENVIRONMENTS, evidence

    # -- 6. capacity ------------------------------------------------------------------------

    def _capacity(self) -> _Finding | None:
        if self.aws_reason.upper().startswith(_CAPACITY_REASON):
            return StuckReason.INSUFFICIENT_CAPACITY, [
                f"AWS says: {self.aws_reason}.",
                "EC2 cannot launch the instance types the compute environments ask for right "
                "now. Allow more instance types or families and subnets in more Availability "
                "Zones, or add an on-demand compute environment behind a Spot one; cancelling "
                "the job lets the next one reach the head of the queue.",
                *self._time_limit_note(),
            ]
        usable = self.usable or []
        full = [e for e in usable if e.is_at_max_vcpus]
        if usable and len(full) == len(usable):
            evidence = [
                f"The compute environment {e.name} runs at its maxvCpus "
                f"({e.compute_resources.desired_vcpus} of {e.compute_resources.max_vcpus} "
                "vCPUs wanted)."
                for e in full
                if e.compute_resources is not None
            ]
            evidence.append(
                "The job waits until running jobs free capacity; raise maxvCpus with "
                "UpdateComputeEnvironment to run more jobs at once."
            )
            return StuckReason.INSUFFICIENT_CAPACITY, evidence
        return None

    def _time_limit_note(self) -> list[str]:
        queue = self.queue
        if queue is None:
            return []
        reason = self.aws_reason.split(" ", 1)[0]
        for action in queue.job_state_time_limit_actions:
            if reason and reason.startswith(action.reason):
                return [
                    f"The queue {queue.name} will {action.action} the job after "
                    f"{action.max_time_seconds} s RUNNABLE for this reason "
                    "(jobStateTimeLimitActions)."
                ]
        return [
            f"The queue {queue.name} has no jobStateTimeLimitActions for this reason: such "
            "jobs wait RUNNABLE until someone cancels them."
        ]

    # -- 7. queued --------------------------------------------------------------------------

    async def _queued(self) -> _Finding:
        job = self.job
        evidence: list[str] = []
        blocked = self.aws_reason.upper().startswith(_BLOCKED_PREFIXES)
        if blocked:
            evidence.append(
                f"AWS says: {self.aws_reason}. Check what it names (the compute environment's "
                "service role, instance role, launch template or AMI)."
            )
        if job.status is JobStatus.SUBMITTED:
            evidence.append(
                "The job is SUBMITTED: AWS has not evaluated it yet; it normally moves on "
                "within seconds."
            )
        elif job.status is JobStatus.PENDING:
            evidence.append(
                "The job is PENDING with nothing left to wait for; it should become RUNNABLE "
                "shortly."
            )
        elif job.status is JobStatus.RUNNABLE:
            evidence += await self._place_in_queue()
        if blocked:
            return StuckReason.UNKNOWN, evidence
        if self.unread:
            evidence.append("Nothing found that blocks the job, but not everything could be read.")
            return StuckReason.UNKNOWN, evidence
        return StuckReason.QUEUED, evidence

    async def _place_in_queue(self) -> list[str]:
        ref = self.queue.arn if self.queue is not None else self.job.job_queue
        if not ref:
            return []
        try:
            snapshot = await self.sources.snapshot(ref)
        except _READ_ERRORS as exc:
            self._could_not_read("GetJobQueueSnapshot", "the queue snapshot", exc)
            return ["The job is RUNNABLE, waiting for the scheduler."]
        position = snapshot.position(self.job.job_id)
        self.position = position
        taken = snapshot.last_updated_at
        if position is None:
            size = len(snapshot.front_of_queue)
            return [
                f"The job is RUNNABLE but not among the {size} jobs at the front of the queue "
                "snapshot: the jobs ahead of it (older ones, or higher-priority queues that "
                "share its compute environments) run first."
            ]
        since = snapshot.front_of_queue[position - 1].earliest_time_at_position
        wait = _waited(since, taken)
        if position == 1:
            return [
                f"The job is at the head of the queue{wait}. Nothing found blocks it: AWS is "
                "probably starting capacity for it (new instances take a few minutes)."
            ]
        return [f"The job is number {position} at the front of the queue{wait}."]


_RESOURCE_ADVICE = (
    "Ask for less (containerOverrides.resourceRequirements or a new job definition revision), "
    "or give the queue a compute environment with a higher maxvCpus or bigger instance types."
)


def _limits(env: ComputeEnvironment) -> str:
    resources = env.compute_resources
    if resources is None:
        return f"{env.type or 'UNMANAGED'} compute environment"
    parts = [f"{resources.type or '?'}, maxvCpus {resources.max_vcpus}"]
    if resources.instance_types:
        parts.append(f"instance types {', '.join(resources.instance_types)}")
    return "; ".join(parts)


def _memory_note(asked: Resources, usable: Sequence[ComputeEnvironment]) -> str | None:
    types = []
    for env in usable:
        resources = env.compute_resources
        if resources is None or resources.is_fargate:
            return None
        types.append(resources.instance_types)
    return memory_note(asked, types)


def _short(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _at(when: datetime | None) -> str:
    return f" at {_stamp(when)}" if when is not None else ""


def _since(when: datetime | None) -> str:
    return f" since {_stamp(when)}" if when is not None else ""


def _stamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _waited(since: datetime | None, now: datetime | None) -> str:
    if since is None:
        return ""
    seconds = ((now or datetime.now(timezone.utc)) - since).total_seconds()
    if seconds < 0:
        return f" since {_stamp(since)}"
    return f" since {_stamp(since)} ({_duration(seconds)})"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
