"""Typed views of AWS Batch's infrastructure: job queues, compute environments, queue snapshots.

Frozen pydantic v2 models, parsed from botocore's answers as they come: snake_case fields with
AWS's camelCase names as aliases (``ComputeResources.max_vcpus`` is AWS's ``maxvCpus``), unknown
fields ignored, every member that botocore's model marks optional optional (a ``null`` is the
same as an absent member). :class:`JobQueue` and :class:`ComputeEnvironment` (and their parts)
have a field for every member of botocore's shape (``tests/models/test_views.py`` checks), enums are
open (``docs/aws-model.md``), and ``raw`` is the answer exactly as AWS gave it, read-only.

Also here: :class:`JobDiagnosis`, the result of ``explain``, and the short-lived cache of queues
and compute environments ``explain`` reads through. Job definitions are in
``_infrastructure.job_definitions``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._models.aws_enums import (
    ComputeEnvironmentType,
    JobQueueType,
    OrchestrationType,
    ResourceState,
    ResourceStatus,
)
from .._models.base import EpochMillis
from .._models.jobs import CapacityUsage, JobDetail
from .._public import publish
from .instance_types import Resources, misfit
from .view_parts import (
    ComputeResources,
    EcsSettings,
    EksConfiguration,
    InfraModel,
    RawView,
    UpdatePolicy,
)

__all__ = [
    "ComputeEnvironment",
    "ComputeEnvironmentOrder",
    "FairshareUtilization",
    "InfraCache",
    "InfraModel",
    "JobDiagnosis",
    "JobQueue",
    "JobQueueSnapshot",
    "JobStateTimeLimitAction",
    "QueueUtilization",
    "QueuedJob",
    "ServiceEnvironmentOrder",
    "ShareUtilization",
    "StuckReason",
]


# ---------------------------------------------------------------------------------------------
# Job queues


class ComputeEnvironmentOrder(InfraModel):
    """A compute environment of a job queue, tried in ascending ``order``.

    Attributes:
        order: Lower is tried first.
        compute_environment: The compute environment's ARN.
    """

    order: int
    compute_environment: str


class ServiceEnvironmentOrder(InfraModel):
    """A service environment of a job queue (SageMaker Training queues), tried in ``order``.

    Attributes:
        order: Lower is tried first.
        service_environment: The service environment's name or ARN.
    """

    order: int
    service_environment: str


class JobStateTimeLimitAction(InfraModel):
    """What AWS does to a job that waits too long at the head of a queue for a given reason.

    Attributes:
        reason: The ``statusReason`` prefix it applies to, e.g.
            ``"CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"``.
        state: The job status it applies to (``"RUNNABLE"``).
        max_time_seconds: How long the job may wait (600..86,400).
        action: ``"CANCEL"`` (``"TERMINATE"`` for SageMaker queues).
    """

    reason: str
    state: str
    max_time_seconds: int
    action: str


class JobQueue(RawView):
    """A job queue as DescribeJobQueues describes it (every member of ``JobQueueDetail``).

    Attributes:
        name: The queue's name (AWS: ``jobQueueName``).
        arn: Its ARN (``jobQueueArn``).
        state: ``ENABLED`` or ``DISABLED`` (:class:`ResourceState`).
        status: ``CREATING``, ``UPDATING``, ``DELETING``, ``DELETED``, ``VALID`` or ``INVALID``
            (:class:`ResourceStatus`).
        status_reason: Why it has this status.
        priority: Higher-priority queues are scheduled first.
        compute_environment_order: Its compute environments.
        service_environment_order: Its service environments (SageMaker Training queues).
        scheduling_policy_arn: The fair-share scheduling policy, if any.
        job_queue_type: ``ECS``, ``EKS``, ``ECS_FARGATE``... if AWS says (:class:`JobQueueType`).
        job_state_time_limit_actions: What AWS does to jobs stuck RUNNABLE at its head.
        tags: The queue's tags.
        raw: The queue exactly as AWS returned it (read-only; not in ``model_dump``).
    """

    name: str = Field(alias="jobQueueName")
    arn: str = Field(alias="jobQueueArn")
    state: ResourceState | None = None
    status: ResourceStatus | None = None
    status_reason: str | None = None
    priority: int | None = None
    compute_environment_order: list[ComputeEnvironmentOrder] = Field(default_factory=list)
    service_environment_order: list[ServiceEnvironmentOrder] = Field(default_factory=list)
    scheduling_policy_arn: str | None = None
    job_queue_type: JobQueueType | None = None
    job_state_time_limit_actions: list[JobStateTimeLimitAction] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def compute_environments(self) -> list[str]:
        """The compute environments' ARNs, in the order AWS tries them."""
        return [o.compute_environment for o in sorted(self.compute_environment_order, key=_order)]


def _order(entry: ComputeEnvironmentOrder) -> int:
    return entry.order


# ---------------------------------------------------------------------------------------------
# Compute environments


class ComputeEnvironment(RawView):
    """A compute environment as DescribeComputeEnvironments describes it.

    Every member of ``ComputeEnvironmentDetail`` has a field.

    Attributes:
        name: Its name (AWS: ``computeEnvironmentName``).
        arn: Its ARN (``computeEnvironmentArn``).
        type: ``MANAGED`` or ``UNMANAGED`` (:class:`ComputeEnvironmentType`).
        state: ``ENABLED`` or ``DISABLED`` (:class:`ResourceState`).
        status: ``CREATING``, ``UPDATING``, ``DELETING``, ``DELETED``, ``VALID`` or ``INVALID``
            (:class:`ResourceStatus`).
        status_reason: Why it has this status.
        compute_resources: What it may launch (MANAGED only).
        unmanaged_vcpus: The vCPUs of an UNMANAGED environment, if set (``unmanagedvCpus``).
        service_role: The IAM role AWS Batch uses for it.
        ecs_cluster_arn: Its ECS cluster.
        container_orchestration_type: ``ECS`` or ``EKS`` (:class:`OrchestrationType`).
        update_policy: What happens to running jobs when it is updated.
        eks_configuration: Its EKS cluster (EKS only).
        ecs_settings: Its ECS settings.
        uuid: Its unique id.
        context: Reserved by AWS.
        tags: Its tags.
        raw: The environment exactly as AWS returned it (read-only; not in ``model_dump``).
    """

    name: str = Field(alias="computeEnvironmentName")
    arn: str = Field(alias="computeEnvironmentArn")
    type: ComputeEnvironmentType | None = None
    state: ResourceState | None = None
    status: ResourceStatus | None = None
    status_reason: str | None = None
    compute_resources: ComputeResources | None = None
    unmanaged_vcpus: int | None = Field(default=None, alias="unmanagedvCpus")
    service_role: str | None = None
    ecs_cluster_arn: str | None = None
    container_orchestration_type: OrchestrationType | None = None
    update_policy: UpdatePolicy | None = None
    eks_configuration: EksConfiguration | None = None
    ecs_settings: EcsSettings | None = None
    uuid: str | None = None
    context: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def is_usable(self) -> bool:
        """ENABLED, and neither INVALID nor being deleted: it can run jobs."""
        return self.state != "DISABLED" and self.status not in ("INVALID", "DELETING", "DELETED")

    @property
    def is_at_max_vcpus(self) -> bool:
        """MANAGED, and it wants as many vCPUs as its maxvCpus allows: it cannot grow."""
        resources = self.compute_resources
        return (
            self.type == "MANAGED"
            and resources is not None
            and bool(resources.max_vcpus)
            and resources.desired_vcpus is not None
            and resources.max_vcpus is not None
            and resources.desired_vcpus >= resources.max_vcpus
        )

    def misfit(self, asked: Resources) -> list[str]:
        """Why this environment can never run a job asking for ``asked``.

        Args:
            asked: What one container, task, pod or node of the job asks for.

        Returns:
            Phrases naming each limit exceeded; empty when it fits or cannot be known
            (UNMANAGED, or instance types missing from the table of sizes).
        """
        resources = self.compute_resources
        if resources is None:
            return []  # UNMANAGED: its instances are not known
        return misfit(
            asked,
            max_vcpus=resources.max_vcpus,
            fargate=resources.is_fargate,
            instance_types=resources.instance_types,
        )


# ---------------------------------------------------------------------------------------------
# Queue snapshots


class QueuedJob(InfraModel):
    """A job at the front of a queue.

    Attributes:
        job_arn: The job's ARN.
        job_id: The job's id (the end of its ARN).
        earliest_time_at_position: When it reached this position.
    """

    job_arn: str | None = None
    job_id: str | None = None
    earliest_time_at_position: EpochMillis | None = None

    @model_validator(mode="before")
    @classmethod
    def _id_from_arn(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "job_id" not in data and "jobId" not in data:
            arn = data.get("jobArn", data.get("job_arn"))
            if isinstance(arn, str) and "/" in arn:
                data = {**data, "jobId": arn.rsplit("/", 1)[1]}
        return data


class ShareUtilization(InfraModel):
    """Capacity used by one fair share or quota share.

    Attributes:
        share_identifier: The fair share's identifier.
        quota_share_name: The quota share's name.
        capacity_usage: What it uses.
    """

    share_identifier: str | None = None
    quota_share_name: str | None = None
    capacity_usage: list[CapacityUsage] = Field(default_factory=list)


class FairshareUtilization(InfraModel):
    """Fair-share utilisation of a queue.

    Attributes:
        active_share_count: Shares with jobs.
        top_capacity_utilization: The biggest users.
    """

    active_share_count: int | None = None
    top_capacity_utilization: list[ShareUtilization] = Field(default_factory=list)


class QueueUtilization(InfraModel):
    """How much of a queue's capacity is in use.

    Attributes:
        total_capacity_usage: The capacity in use.
        fairshare_utilization: Per fair share, for fair-share queues.
        quota_share_utilization: Per quota share (its ``top_capacity_utilization``).
        last_updated_at: When AWS measured it.
    """

    total_capacity_usage: list[CapacityUsage] = Field(default_factory=list)
    fairshare_utilization: FairshareUtilization | None = None
    quota_share_utilization: FairshareUtilization | None = None
    last_updated_at: EpochMillis | None = None


class JobQueueSnapshot(InfraModel):
    """What GetJobQueueSnapshot says about the front of a queue.

    Attributes:
        front_of_queue: The first RUNNABLE jobs (up to 100), next to run first.
        last_updated_at: When AWS took the snapshot.
        front_of_quota_shares: The front of each quota share, by share name.
        queue_utilization: The capacity in use, if AWS said.
    """

    front_of_queue: list[QueuedJob] = Field(default_factory=list)
    last_updated_at: EpochMillis | None = None
    front_of_quota_shares: dict[str, list[QueuedJob]] = Field(default_factory=dict)
    queue_utilization: QueueUtilization | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        front = data.get("frontOfQueue")
        if isinstance(front, Mapping):
            data["frontOfQueue"] = front.get("jobs") or []
            if front.get("lastUpdatedAt") is not None:
                data.setdefault("lastUpdatedAt", front["lastUpdatedAt"])
        shares = data.get("frontOfQuotaShares")
        if isinstance(shares, Mapping):  # AWS's FrontOfQuotaSharesDetail (snake: already lifted)
            data["frontOfQuotaShares"] = shares.get("quotaShares") or {}
        return data

    def position(self, job_id: str) -> int | None:
        """The job's 1-based place at the front of the queue, or ``None`` if not there.

        Args:
            job_id: The job's id or ARN.
        """
        for index, job in enumerate(self.front_of_queue, start=1):
            if job_id in (job.job_id, job.job_arn):
                return index
        return None


# ---------------------------------------------------------------------------------------------
# Diagnosis


class StuckReason(str, Enum):
    """The verdict of ``explain``: why a job is where it is (checked in this order)."""

    FINISHED = "FINISHED"
    RUNNING = "RUNNING"
    WAITING_FOR_DEPENDENCIES = "WAITING_FOR_DEPENDENCIES"
    QUEUE_DISABLED = "QUEUE_DISABLED"
    QUEUE_INVALID = "QUEUE_INVALID"
    NO_VALID_COMPUTE_ENVIRONMENT = "NO_VALID_COMPUTE_ENVIRONMENT"
    RESOURCES_EXCEED_COMPUTE_ENVIRONMENTS = "RESOURCES_EXCEED_COMPUTE_ENVIRONMENTS"
    INSUFFICIENT_CAPACITY = "INSUFFICIENT_CAPACITY"
    QUEUED = "QUEUED"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value


class JobDiagnosis(BaseModel):
    """Why a job is where it is, and what to do about it.

    Attributes:
        job: The job as DescribeJobs described it.
        verdict: The first :class:`StuckReason` that applies.
        reasons: Sentences a person can act on: the verdict's evidence first, then notes and
            what could not be read.
        requested: What one container, task, pod or node of the job asks for, if known.
        queue: The job's queue, if it was read.
        compute_environments: The queue's compute environments that were read, in order.
        position: The job's 1-based place at the front of the queue, if it is there.
    """

    model_config = ConfigDict(defer_build=True, frozen=True)

    job: JobDetail
    verdict: StuckReason
    reasons: list[str]
    requested: Resources | None = None
    queue: JobQueue | None = None
    compute_environments: list[ComputeEnvironment] = Field(default_factory=list)
    position: int | None = None

    def __str__(self) -> str:
        lines = [f"job {self.job.job_id} ({self.job.job_name}): {self.verdict.value}"]
        lines += [f"- {reason}" for reason in self.reasons]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Cache

_T = TypeVar("_T", JobQueue, ComputeEnvironment)
_CACHE_MAX = 1000


class InfraCache(Generic[_T]):
    """Queues or compute environments by name and ARN, each kept ``seconds``.

    Args:
        seconds: How long an entry lives (``<= 0``: nothing is kept).
        clock: Monotonic clock in seconds.
    """

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._seconds = seconds
        self._clock = clock
        self._items: dict[str, tuple[float, _T]] = {}

    def get(self, ref: str) -> _T | None:
        """The entry of a name or ARN, if it has not expired."""
        entry = self._items.get(ref)
        if entry is None:
            return None
        expires, item = entry
        if self._clock() >= expires:
            del self._items[ref]
            return None
        return item

    def put(self, item: _T) -> None:
        """Keep ``item`` under its name and its ARN."""
        if self._seconds <= 0:
            return
        now = self._clock()
        if len(self._items) > _CACHE_MAX:
            self._items = {k: v for k, v in self._items.items() if v[0] > now}
        for key in (item.name, item.arn):
            self._items[key] = (now + self._seconds, item)


publish(__name__)
