"""The base of the infrastructure views, and the parts of a compute environment.

:class:`InfraModel` is the base of every infrastructure model: a
:class:`~aws_batch_async._models.base.Response` (frozen, AWS's camelCase as aliases, unknown
members ignored, epoch-millisecond times) in which a ``null`` is the same as an absent member;
:class:`RawView`
adds ``raw``, the answer exactly as AWS gave it, read-only (``JobQueue``, ``ComputeEnvironment``,
``JobDefinition``). The parts of a compute environment that botocore's model describes (what
it launches, its launch template, AMI choices, scaling policy, ECS Managed Instances provider,
update policy, EKS and ECS settings) are here too, with a field for every member of their
shapes; the views themselves are in ``_infrastructure.views``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, SkipValidation, model_validator

from .._models.aws_enums import AllocationStrategy, ComputeResourceType
from .._models.base import Response
from .._models.jobs import RAW_KEY
from .._models.raw import FrozenDict, freeze, unwrap
from .._public import publish

__all__ = [
    "ComputeResources",
    "ComputeScalingPolicy",
    "Ec2Configuration",
    "EcsSettings",
    "EksAccessEntry",
    "EksConfiguration",
    "InfraModel",
    "LaunchTemplate",
    "LaunchTemplateOverride",
    "ManagedInstancesProvider",
    "RawView",
    "UpdatePolicy",
    "keep_raw",
]


class InfraModel(Response):
    """The base of the infrastructure models: a :class:`Response` that reads ``null`` as absent.

    AWS's answers may hold ``null`` for an optional member; dropping it lets the field's
    default (an empty list or dict) apply instead of failing validation.
    """

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if v is not None}
        return data


def _empty_raw() -> Mapping[str, Any]:
    return FrozenDict({})


def keep_raw(data: Any) -> Any:
    """``data`` with a read-only view of itself under the raw key (for a view's validator).

    Args:
        data: An AWS answer (a dict, or the ``raw`` of another view), or anything else.

    Returns:
        A new dict (``data`` is not changed); anything but a mapping as it is.
    """
    if isinstance(data, FrozenDict):  # Model.model_validate(other.raw)
        return {**unwrap(data), RAW_KEY: data}
    if isinstance(data, dict) and RAW_KEY not in data:
        return {**data, RAW_KEY: freeze(data)}
    return data


class RawView(InfraModel):
    """An infrastructure view that keeps AWS's answer: ``raw``.

    Attributes:
        raw: The answer exactly as AWS returned it, read-only (nested objects and lists too);
            environment and parameter values are masked in its repr. Not in ``model_dump``.
    """

    raw: Annotated[Mapping[str, Any], SkipValidation] = Field(
        default_factory=_empty_raw, alias=RAW_KEY, exclude=True, repr=False
    )

    @model_validator(mode="before")
    @classmethod
    def _keep_raw(cls, data: Any) -> Any:
        return keep_raw(data)


# ---------------------------------------------------------------------------------------------
# The parts of a compute environment


class LaunchTemplateOverride(InfraModel):
    """A launch template used instead of the default for some instance types.

    Attributes:
        launch_template_id: Its id.
        launch_template_name: Its name.
        version: Its version (``$Default``, ``$Latest`` or a number).
        target_instance_types: The instance types it applies to.
        userdata_type: ``EKS_BOOTSTRAP_SH`` or ``EKS_NODEADM``.
    """

    launch_template_id: str | None = None
    launch_template_name: str | None = None
    version: str | None = None
    target_instance_types: list[str] = Field(default_factory=list)
    userdata_type: str | None = None


class LaunchTemplate(InfraModel):
    """The EC2 launch template of a compute environment (``launchTemplate``).

    Attributes:
        launch_template_id: Its id.
        launch_template_name: Its name.
        version: Its version (``$Default``, ``$Latest`` or a number).
        overrides: Other templates for some instance types.
        userdata_type: ``EKS_BOOTSTRAP_SH`` or ``EKS_NODEADM``.
    """

    launch_template_id: str | None = None
    launch_template_name: str | None = None
    version: str | None = None
    overrides: list[LaunchTemplateOverride] = Field(default_factory=list)
    userdata_type: str | None = None


class Ec2Configuration(InfraModel):
    """An AMI choice of a compute environment (``ec2Configuration[]``).

    Attributes:
        image_type: ``ECS_AL2``, ``ECS_AL2023``, ``EKS_AL2``...
        image_id_override: An AMI id used instead of the default.
        batch_image_status: Whether AWS still supports the image type.
        image_kubernetes_version: The Kubernetes version of the AMI (EKS).
    """

    image_type: str | None = None
    image_id_override: str | None = None
    batch_image_status: str | None = None
    image_kubernetes_version: str | None = None


class ComputeScalingPolicy(InfraModel):
    """How a compute environment scales down (``scalingPolicy``).

    Attributes:
        min_scale_down_delay_minutes: How long an idle instance is kept.
    """

    min_scale_down_delay_minutes: int | None = None


class ManagedInstancesProvider(InfraModel):
    """The ECS Managed Instances provider of an ``ECS_MANAGED_INSTANCES`` environment.

    Attributes:
        propagate_tags: Where tags go (``"CAPACITY_PROVIDER"``...).
        infrastructure_role_arn: The role ECS uses to manage the instances.
        instance_launch_template: What the instances are launched with, as AWS gives it
            (JSON: ``ec2InstanceProfileArn``, ``networkConfiguration``...).
        infrastructure_optimization: How idle instances are scaled in, as AWS gives it
            (``{"scaleInAfter": ...}``).
    """

    propagate_tags: str | None = None
    infrastructure_role_arn: str | None = None
    instance_launch_template: dict[str, Any] | None = None
    infrastructure_optimization: dict[str, Any] | None = None


class UpdatePolicy(InfraModel):
    """What happens to running jobs when a compute environment's infrastructure is updated.

    Attributes:
        terminate_jobs_on_update: Whether they are terminated.
        job_execution_timeout_minutes: How long they may keep running first.
    """

    terminate_jobs_on_update: bool | None = None
    job_execution_timeout_minutes: int | None = None


class EksAccessEntry(InfraModel):
    """The EKS access entry AWS Batch manages for a compute environment.

    Attributes:
        desired_state: ``ENABLED``, ``DISABLED`` or ``INHERIT_FROM_CLUSTER``.
        status: ``ACTIVE`` or ``INACTIVE``.
    """

    desired_state: str | None = None
    status: str | None = None


class EksConfiguration(InfraModel):
    """The EKS cluster of an EKS compute environment.

    Attributes:
        eks_cluster_arn: The cluster.
        kubernetes_namespace: The namespace its jobs' pods run in.
        access_entry: Its access entry.
    """

    eks_cluster_arn: str | None = None
    kubernetes_namespace: str | None = None
    access_entry: EksAccessEntry | None = None


class EcsSettings(InfraModel):
    """ECS settings of a compute environment.

    Attributes:
        container_insights: ``ENABLED``, ``ENHANCED`` or ``DISABLED``.
    """

    container_insights: str | None = None


class ComputeResources(InfraModel):
    """What a MANAGED compute environment may launch (every member of ``ComputeResource``).

    Attributes:
        type: ``EC2``, ``SPOT``, ``FARGATE``, ``FARGATE_SPOT`` or ``ECS_MANAGED_INSTANCES``
            (:class:`ComputeResourceType`).
        allocation_strategy: ``BEST_FIT``, ``BEST_FIT_PROGRESSIVE``,
            ``SPOT_CAPACITY_OPTIMIZED``... (:class:`AllocationStrategy`).
        min_vcpus: The vCPUs it keeps running (AWS: ``minvCpus``).
        desired_vcpus: The vCPUs it wants now (``desiredvCpus``).
        max_vcpus: The most vCPUs it may run (``maxvCpus``).
        instance_types: The instance types or families it may launch (EC2/SPOT).
        image_id: The AMI (deprecated by AWS for ``ec2_configuration``).
        subnets: Its subnets.
        security_group_ids: Its security groups.
        ec2_key_pair: The EC2 key pair of its instances.
        instance_role: The instance profile of its instances.
        tags: Tags of its instances.
        placement_group: Its EC2 placement group.
        bid_percentage: The most a Spot instance may cost, in percent of On-Demand.
        spot_iam_fleet_role: The Spot Fleet role (SPOT with ``BEST_FIT``).
        launch_template: Its launch template.
        ec2_configuration: Its AMI choices.
        scaling_policy: How it scales down.
        managed_instances_provider: Its ECS Managed Instances provider.
        capacity_tags: Tags of the capacity it launches.
    """

    type: ComputeResourceType | None = None
    allocation_strategy: AllocationStrategy | None = None
    min_vcpus: int | None = Field(default=None, alias="minvCpus")
    desired_vcpus: int | None = Field(default=None, alias="desiredvCpus")
    max_vcpus: int | None = Field(default=None, alias="maxvCpus")
    instance_types: list[str] = Field(default_factory=list)
    image_id: str | None = None
    subnets: list[str] = Field(default_factory=list)
    security_group_ids: list[str] = Field(default_factory=list)
    ec2_key_pair: str | None = None
    instance_role: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    placement_group: str | None = None
    bid_percentage: int | None = None
    spot_iam_fleet_role: str | None = None
    launch_template: LaunchTemplate | None = None
    ec2_configuration: list[Ec2Configuration] = Field(default_factory=list)
    scaling_policy: ComputeScalingPolicy | None = None
    managed_instances_provider: ManagedInstancesProvider | None = None
    capacity_tags: dict[str, str] = Field(default_factory=dict)

    @property
    def is_fargate(self) -> bool:
        """True for FARGATE and FARGATE_SPOT."""
        return self.type in (ComputeResourceType.FARGATE, ComputeResourceType.FARGATE_SPOT)


publish(__name__)
