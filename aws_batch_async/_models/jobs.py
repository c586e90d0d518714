"""Requests and results: frozen pydantic v2 models.

Fields are snake_case with AWS's camelCase as aliases, so ``JobDetail.model_validate(aws_job)``
parses a DescribeJobs job as it comes, and unknown fields from newer AWS versions are ignored.
Models are data: requests live in ``_models/requests.py``, and SubmitJob's parameters are built by
the submit path (``_submitting/params.py``). The parts of a job (containers, ECS tasks, EKS pods,
nodes)
are in ``_models/job_parts.py``; the fields lifted for every kind, in ``_models/job_kinds.py``.

Parameter and environment values are secrets as far as this library is concerned: reprs show
their names only (environment values are not modelled at all), and validation errors never
echo input values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, SkipValidation, model_validator

from .._lifecycle.lineage import prepare_lineage
from .._public import publish
from .aws_enums import OpenEnum, Platform
from .base import MASK, EpochMillis, Model, Response
from .job_kinds import lift_attempt, prepare_detail, prepare_summary
from .job_parts import (
    ConsumableResourceProperties,
    ContainerDetail,
    EcsContainerDetail,
    EcsProperties,
    EcsTaskDetails,
    EksAttemptDetail,
    EksProperties,
    JobKind,
    JobTimeout,
    NodeDetails,
    NodeProperties,
    RetryStrategy,
)
from .raw import FrozenDict

if TYPE_CHECKING:
    from .._lifecycle.failure import JobFailure

__all__ = [
    "MASK",
    "RAW_KEY",
    "TERMINAL_STATUSES",
    "ArrayProperties",
    "AttemptDetail",
    "EpochMillis",
    "JobDependency",
    "JobDetail",
    "JobResponse",
    "JobStatus",
    "JobSummary",
    "LogEvent",
    "NodeSummary",
    "CapacityUsage",
    "Request",
    "note_status",
]


class JobStatus(OpenEnum):
    """The status of an AWS Batch job. Members are in lifecycle order.

    It is a ``str`` enum, so ``job.status == "SUCCEEDED"`` holds. A status AWS sends that is
    not listed here (``"SCHEDULED"`` of service jobs) is kept as its string
    (``is_known`` false, logged once at WARNING): it is neither terminal nor started, so a wait
    keeps waiting.
    """

    SUBMITTED = "SUBMITTED"
    PENDING = "PENDING"
    RUNNABLE = "RUNNABLE"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        """True for SUCCEEDED and FAILED: the job will not change any more."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def has_started(self) -> bool:
        """True from STARTING on: CancelJob no longer affects the job."""
        return self in (JobStatus.STARTING, JobStatus.RUNNING) or self.is_terminal


_STATUS_VALUES = frozenset(s.value for s in JobStatus)
#: The statuses :attr:`JobStatus.is_terminal` calls terminal, as strings: for code that reads
#: AWS's raw statuses (the poller, service jobs) and must not make a member of each.
TERMINAL_STATUSES = frozenset(s.value for s in JobStatus if s.is_terminal)


def note_status(status: Any) -> Any:
    """``status`` as it is; a string that is no :class:`JobStatus` is logged once (WARNING).

    For the poller, which reads raw statuses: a job in a status this library does not know
    is not terminal, and its wait keeps waiting.

    Args:
        status: A job's ``status`` as AWS sent it.

    Returns:
        ``status``, unchanged.
    """
    if isinstance(status, str) and status not in _STATUS_VALUES:
        JobStatus(status)  # the pseudo-member, made (and logged) once
    return status


class Request(Model):
    model_config = ConfigDict(defer_build=True, extra="forbid")


class JobDependency(Request):
    """A job this job depends on.

    Attributes:
        job_id: The id of the job depended on; may be omitted only for ``"SEQUENTIAL"``
            (each child of an array job waits for the previous one).
        type: ``"N_TO_N"`` or ``"SEQUENTIAL"`` for array jobs; ``None`` for a plain dependency.
    """

    job_id: str | None = Field(default=None, min_length=1, max_length=256)
    type: Literal["N_TO_N", "SEQUENTIAL"] | None = None

    @model_validator(mode="after")
    def _check_job_id(self) -> JobDependency:
        if self.job_id is None and self.type != "SEQUENTIAL":
            raise ValueError("job_id is required unless type is SEQUENTIAL")
        return self


# ---------------------------------------------------------------------------------------------
# Results


class JobResponse(Response):
    """What SubmitJob returns.

    Attributes:
        job_id: The new job's id.
        job_name: Its name.
        job_arn: Its ARN.
    """

    job_id: str
    job_name: str
    job_arn: str | None = None


class ArrayProperties(Response):
    """Array-job properties: ``size`` and ``status_summary`` on a parent, ``index`` on a child.

    Attributes:
        size: Number of children (parents only).
        index: This child's index (children only).
        status_summary: Children counted by status (parents only), e.g. ``{"SUCCEEDED": 3}``.
        status_summary_last_updated_at: When AWS last counted them.
    """

    size: int | None = None
    index: int | None = None
    status_summary: dict[str, int] = Field(default_factory=dict)
    status_summary_last_updated_at: EpochMillis | None = None


class AttemptDetail(Response):
    """One attempt of a job.

    ``exit_code``, ``reason`` and ``log_stream_name`` are the attempt's container's, or, for a
    job with ECS properties, its essential container's.

    Attributes:
        started_at: When the attempt started.
        stopped_at: When it stopped.
        status_reason: Why it stopped.
        exit_code: The container's exit code.
        reason: The container's reason (e.g. ``OutOfMemoryError: ...``).
        log_stream_name: The CloudWatch Logs stream of this attempt.
        container: The attempt's container (container and multi-node jobs).
        task_properties: The attempt's ECS task, with its named containers (ECS jobs).
        index: Its place in the job's ``attempts`` (0-based), when read from a job.
    """

    started_at: EpochMillis | None = None
    stopped_at: EpochMillis | None = None
    status_reason: str | None = None
    exit_code: int | None = None
    reason: str | None = None
    log_stream_name: str | None = None
    container: ContainerDetail | None = None
    task_properties: list[EcsTaskDetails] = Field(default_factory=list)
    index: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift(cls, data: Any) -> Any:
        return lift_attempt(data)

    @property
    def failure(self) -> JobFailure | None:
        """Why this attempt failed (``None`` if running or exited 0): ``_lifecycle/failure.py``."""
        from .._lifecycle.failure import attempt_failure

        return attempt_failure(self)


def _dependencies(value: Any) -> Any:
    return value if value is not None else []


def _empty_raw() -> Mapping[str, Any]:
    return FrozenDict({})


#: The key under which the validator hands ``raw`` over (never an AWS member name).
RAW_KEY = "aws-batch-async:raw"


class JobDetail(Response):
    """A job as DescribeJobs describes it: any kind of job.

    ``kind`` says which (:class:`JobKind`), and ``exit_code``, ``reason``, ``status_reason``
    and ``log_stream_name`` work for each: they are lifted from the container, the essential
    container of an ECS task (the first marked essential, else the first), the main (first)
    container of an EKS pod, or else the last attempt. A multi-node parent has what AWS
    reports on it (often nothing): its nodes are the jobs ``<id>#<index>``.

    ``raw`` is the job exactly as AWS returned it, read-only. Parameter values are masked in
    the repr, environment values are not modelled (``raw``'s repr masks them), and tags that
    aws-batch-async uses internally (``aws-batch-async:`` prefix) are left out of ``tags``.

    Attributes:
        job_id: The job's id (``<parent>:<index>`` for array children, ``<parent>#<index>``
            for the nodes of a multi-node job).
        job_name: The job's name.
        job_arn: The job's ARN.
        job_queue: The queue's ARN.
        job_definition: The job definition's ARN.
        status: The current :class:`JobStatus`.
        status_reason: Why the job is in this status (else the last attempt's reason).
        created_at: When it was submitted.
        started_at: When it started running.
        stopped_at: When it stopped.
        kind: What kind of job it is (:class:`JobKind`).
        platform: The :class:`Platform` AWS states in ``platformCapabilities`` (``FARGATE``,
            ``MANAGED_INSTANCES`` or ``EC2``, an unknown value kept as its string), else
            ``None``.
        exit_code: The (main) container's exit code, once known.
        reason: The (main) container's reason, once known.
        log_stream_name: The CloudWatch Logs stream of the (essential) container.
        attempts: Every attempt, oldest first.
        array_properties: Array properties, for array parents and children.
        depends_on: The jobs this one depends on.
        parameters: Job parameters (values masked in the repr).
        tags: The user's tags.
        share_identifier: The fair-share identifier.
        scheduling_priority: The scheduling priority.
        container: The container (container jobs, multi-node nodes).
        node_properties: The nodes of a multi-node parallel job.
        node_details: Which node this is (``<id>#<index>`` jobs).
        eks_properties: The pod of an EKS job.
        eks_attempts: Every attempt of an EKS job, oldest first.
        ecs_properties: The task of an ECS-properties job.
        consumable_resource_properties: The consumable resources the job takes.
        retry_strategy: Its retry strategy.
        timeout: Its time limit.
        propagate_tags: Whether its tags go to the ECS task.
        platform_capabilities: ``["EC2"]``, ``["FARGATE"]``..., as AWS gives it.
        is_cancelled: AWS says the job was cancelled.
        is_terminated: AWS says the job was terminated.
        resubmitted_from: The jobs this one was resubmitted in place of, oldest first
            (``run_job(resubmit=...)``, ``resubmit``); read from the library's tag.
        raw: The job exactly as AWS returned it (a read-only mapping; not in ``model_dump``).
    """

    job_id: str
    job_name: str
    job_arn: str | None = None
    job_queue: str | None = None
    job_definition: str | None = None
    status: JobStatus
    status_reason: str | None = None
    created_at: EpochMillis | None = None
    started_at: EpochMillis | None = None
    stopped_at: EpochMillis | None = None
    kind: JobKind = JobKind.CONTAINER
    platform: Platform | None = None
    exit_code: int | None = None
    reason: str | None = None
    log_stream_name: str | None = None
    attempts: list[AttemptDetail] = Field(default_factory=list)
    array_properties: ArrayProperties | None = None
    depends_on: Annotated[list[JobDependency], BeforeValidator(_dependencies)] = Field(
        default_factory=list
    )
    parameters: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    share_identifier: str | None = None
    scheduling_priority: int | None = None
    container: ContainerDetail | None = None
    node_properties: NodeProperties | None = None
    node_details: NodeDetails | None = None
    eks_properties: EksProperties | None = None
    eks_attempts: list[EksAttemptDetail] = Field(default_factory=list)
    ecs_properties: EcsProperties | None = None
    consumable_resource_properties: ConsumableResourceProperties | None = None
    retry_strategy: RetryStrategy | None = None
    timeout: JobTimeout | None = None
    propagate_tags: bool | None = None
    platform_capabilities: list[Platform] = Field(default_factory=list)
    is_cancelled: bool | None = None
    is_terminated: bool | None = None
    resubmitted_from: list[str] = Field(default_factory=list)
    raw: Annotated[Mapping[str, Any], SkipValidation] = Field(
        default_factory=_empty_raw, alias=RAW_KEY, exclude=True, repr=False
    )

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, data: Any) -> Any:
        data = prepare_lineage(prepare_detail(data, RAW_KEY), RAW_KEY)
        depends_on = data.get("dependsOn") if isinstance(data, dict) else None
        if depends_on:  # AWS's answer, not a request: no request limits (id length) apply
            data["dependsOn"] = [
                JobDependency.model_construct(job_id=d["jobId"], type=d["type"])
                if isinstance(d, dict)
                else d
                for d in depends_on
            ]
        return data

    @property
    def failure(self) -> JobFailure | None:
        """Why the job failed (``None`` unless it is FAILED): ``_lifecycle/failure.py``."""
        from .._lifecycle.failure import job_failure

        return job_failure(self)

    @property
    def is_terminal(self) -> bool:
        """True once the job is SUCCEEDED or FAILED."""
        return self.status.is_terminal

    @property
    def is_array_parent(self) -> bool:
        """True for the parent of an array job (its children hold the work and the logs)."""
        return self.array_properties is not None and self.array_properties.size is not None

    @property
    def is_multinode_parent(self) -> bool:
        """True for the parent of a multi-node job (its nodes ``<id>#<i>`` hold the logs)."""
        return self.node_properties is not None and self.node_details is None

    @property
    def node_job_ids(self) -> list[str]:
        """The ids of a multi-node parent's nodes, ``<id>#0`` on; empty for other jobs."""
        props = self.node_properties
        if not self.is_multinode_parent or props is None or not props.num_nodes:
            return []
        return [f"{self.job_id}#{index}" for index in range(max(props.num_nodes, 0))]

    @property
    def ecs_containers(self) -> list[EcsContainerDetail]:
        """Every container of the job's ECS task(s); empty for other kinds."""
        if self.ecs_properties is None:
            return []
        return [c for task in self.ecs_properties.task_properties for c in task.containers]

    @property
    def container_exit_codes(self) -> dict[str, int | None]:
        """Exit codes by container name, for ECS tasks and EKS pods; empty for other kinds.

        An unnamed container is shown as ``#<position>``. An EKS container without an exit
        code takes the one of the last attempt's container of that name.
        """
        if self.ecs_properties is not None:
            return {c.name or f"#{i}": c.exit_code for i, c in enumerate(self.ecs_containers)}
        pod = self.eks_properties.pod_properties if self.eks_properties else None
        if pod is None:
            return {}
        last = self.eks_attempts[-1].containers if self.eks_attempts else []
        earlier: dict[str | None, int | None] = {c.name: c.exit_code for c in last if c.name}
        return {
            c.name or f"#{i}": c.exit_code if c.exit_code is not None else earlier.get(c.name)
            for i, c in enumerate(pod.containers)
        }

    @property
    def log_stream_names(self) -> list[str]:
        """Every CloudWatch Logs stream of the job, oldest attempt first, each once.

        Each attempt's container (or ECS task containers), then the current container's
        (or the current ECS task containers'). EKS jobs have none (their logs stay in the
        cluster).
        """
        names: list[str] = []
        for attempt in self.attempts:
            _add_stream(names, attempt.container.log_stream_name if attempt.container else None)
            for task in attempt.task_properties:
                for container in task.containers:
                    _add_stream(names, container.log_stream_name)
        _add_stream(names, self.container.log_stream_name if self.container else None)
        for container in self.ecs_containers:
            _add_stream(names, container.log_stream_name)
        return names

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name == "parameters" and isinstance(value, dict):
                yield name, dict.fromkeys(value, MASK)
            else:
                yield name, value


def _add_stream(names: list[str], name: str | None) -> None:
    if name and name not in names:
        names.append(name)


class NodeSummary(Response):
    """A multi-node job as ListJobs summarises it (``JobSummary.node_properties``).

    Attributes:
        is_main_node: Whether this node is the main node (nodes only).
        num_nodes: How many nodes the job has.
        node_index: This node's index (nodes only).
    """

    is_main_node: bool | None = None
    num_nodes: int | None = None
    node_index: int | None = None


class CapacityUsage(Response):
    """An amount of capacity in use: by a job (ListJobs), or by a queue or one of its shares
    (GetJobQueueSnapshot's ``queueUtilization``).

    Attributes:
        capacity_unit: The unit: ``"VCPU"`` on EC2, ``"cpu"`` on EKS, an instance type for
            service jobs.
        quantity: How much.
    """

    capacity_unit: str | None = None
    quantity: float | None = None


class JobSummary(Response):
    """A job as ListJobs summarises it.

    AWS's model requires only ``jobId`` and ``jobName`` here: ``status`` may be absent.

    Attributes:
        job_id: The job's id.
        job_name: The job's name.
        job_arn: The job's ARN.
        job_definition: The job definition's ARN.
        status: The job's :class:`JobStatus`, when AWS gives it.
        status_reason: Why the job is in this status.
        created_at: When it was submitted.
        scheduled_at: When it was scheduled.
        started_at: When it started.
        stopped_at: When it stopped.
        exit_code: The container's exit code, once known.
        reason: The container's reason, once known.
        array_properties: ``size`` for parents, ``index`` for children.
        node_properties: Nodes of a multi-node job (``num_nodes``; ``node_index`` for nodes).
        capacity_usage: The capacity the job uses.
        share_identifier: The fair-share identifier.
        is_cancelled: AWS says the job was cancelled.
        is_terminated: AWS says the job was terminated.
    """

    job_id: str
    job_name: str
    job_arn: str | None = None
    job_definition: str | None = None
    status: JobStatus | None = None
    status_reason: str | None = None
    created_at: EpochMillis | None = None
    scheduled_at: EpochMillis | None = None
    started_at: EpochMillis | None = None
    stopped_at: EpochMillis | None = None
    exit_code: int | None = None
    reason: str | None = None
    array_properties: ArrayProperties | None = None
    node_properties: NodeSummary | None = None
    capacity_usage: list[CapacityUsage] = Field(default_factory=list)
    share_identifier: str | None = None
    is_cancelled: bool | None = None
    is_terminated: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift(cls, data: Any) -> Any:
        return prepare_summary(data)

    @property
    def is_terminal(self) -> bool:
        """True once the job is SUCCEEDED or FAILED (False while the status is unknown)."""
        return self.status is not None and self.status.is_terminal


class LogEvent(Response):
    """One line of a job's CloudWatch log.

    Attributes:
        timestamp: When the line was written.
        message: The line, without its trailing newline.
        attempt: The attempt (0-based) the line belongs to.
        log_stream_name: The CloudWatch Logs stream it came from.
        container: The container that wrote it, for jobs with several named containers
            (ECS properties); ``None`` for a job's only container.
    """

    timestamp: EpochMillis
    message: str
    attempt: int = 0
    log_stream_name: str
    container: str | None = None


publish(__name__)
