"""Job definitions to register, of every kind: typed models that build RegisterJobDefinition's
parameters.

:class:`ContainerJobDefinition` (also what ``register_job_definition``'s keyword arguments
fill), :class:`EcsJobDefinition` (a task of named containers), :class:`EksJobDefinition` (a pod)
and :class:`MultiNodeJobDefinition` (node ranges). Each checks its fields before any call and
leaves unset fields out, so AWS's defaults apply; environment and parameter values are masked
in reprs. What DescribeJobDefinitions returns is :class:`~aws_batch_async.JobDefinition`
(``_infrastructure.job_definitions``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from .._models.aws_enums import Platform, known_only
from .._models.base import MASK
from .._models.limits import (
    INT32_MAX,
    INT64_MAX,
    JOB_NAME_MAX,
    JOB_NAME_PATTERN,
    check_definition_size,
    check_tag,
)
from .._models.overrides import EKS_NAME_PATTERN
from .._models.redact import RedactedErrors
from .._public import publish

__all__ = [
    "ContainerJobDefinition",
    "EcsDefinitionContainer",
    "EcsJobDefinition",
    "EksDefinitionContainer",
    "EksJobDefinition",
    "JobDefinitionSpec",
    "MultiNodeJobDefinition",
    "NodeDefinitionContainer",
    "NodeRangeDefinition",
]

_REQUEST = ConfigDict(defer_build=True, frozen=True, extra="forbid", hide_input_in_errors=True)

#: A platform users give: a listed :class:`Platform` (or its string) only.
_KnownPlatform = Annotated[Platform, known_only(Platform)]


class _JobDefinitionBase(RedactedErrors):
    """What every kind of job definition to register shares.

    Its validation errors carry no input (environment and parameter values are secrets).
    """

    model_config = _REQUEST

    name: str = Field(min_length=1, max_length=JOB_NAME_MAX, pattern=JOB_NAME_PATTERN)
    parameters: dict[str, str] | None = None
    retry_attempts: int | None = Field(default=None, ge=1, le=10)
    timeout_seconds: int | None = Field(default=None, ge=60, le=INT32_MAX)
    scheduling_priority: int | None = Field(default=None, ge=0, le=9999)
    consumable_resources: dict[str, Annotated[int, Field(ge=1, le=INT64_MAX)]] | None = None
    tags: dict[str, str] | None = None
    propagate_tags: bool | None = None

    @model_validator(mode="after")
    def _check_tags(self) -> _JobDefinitionBase:
        for key, value in (self.tags or {}).items():
            check_tag(key, value)
        return self

    def _api(self, kind: str, **properties: Any) -> dict[str, Any]:
        """RegisterJobDefinition's parameters: the shared fields, then ``properties``."""
        params: dict[str, Any] = {"jobDefinitionName": self.name, "type": kind, **properties}
        platform = getattr(self, "platform", None)
        if platform is not None:
            params["platformCapabilities"] = [Platform(platform).value]
        if self.parameters is not None:
            params["parameters"] = dict(self.parameters)
        if self.retry_attempts is not None:
            params["retryStrategy"] = {"attempts": self.retry_attempts}
        if self.timeout_seconds is not None:
            params["timeout"] = {"attemptDurationSeconds": self.timeout_seconds}
        if self.scheduling_priority is not None:
            params["schedulingPriority"] = self.scheduling_priority
        if self.consumable_resources is not None:
            params["consumableResourceProperties"] = {
                "consumableResourceList": [
                    {"consumableResource": name, "quantity": quantity}
                    for name, quantity in self.consumable_resources.items()
                ]
            }
        if self.tags is not None:
            params["tags"] = dict(self.tags)
        if self.propagate_tags is not None:
            params["propagateTags"] = self.propagate_tags
        check_definition_size(params)
        return params


class ContainerJobDefinition(_JobDefinitionBase):
    """A container job definition to register; unset fields are left to AWS's defaults.

    Attributes:
        name: 1-128 letters, digits, ``-`` and ``_``, first a letter or digit.
        image: The container image.
        command: The default command.
        vcpus: vCPUs (``resourceRequirements`` VCPU; fractions for Fargate).
        memory_mib: Memory in MiB (MEMORY).
        gpus: GPUs (GPU; none on Fargate).
        platform: ``EC2``, ``FARGATE`` or ``MANAGED_INSTANCES`` (``platformCapabilities``).
        environment: Environment variables (names starting with ``AWS_BATCH`` are reserved).
        parameters: Default ``Ref::`` parameters.
        job_role_arn: The IAM role of the job's container.
        execution_role_arn: The ECS task execution role (Fargate needs one).
        retry_attempts: Attempts, 1..10.
        timeout_seconds: Attempt duration limit, >= 60.
        scheduling_priority: The scheduling priority (fair-share queues), 0..9999.
        consumable_resources: Consumable resources each job takes, by name or ARN.
        tags: The definition's tags.
        propagate_tags: Propagate tags to the ECS task.
    """

    image: str = Field(min_length=1)
    command: list[str] | None = None
    vcpus: float | None = Field(default=None, gt=0, le=INT32_MAX, allow_inf_nan=False)
    memory_mib: int | None = Field(default=None, ge=4, le=INT32_MAX)
    gpus: int | None = Field(default=None, ge=0, le=INT32_MAX)
    platform: _KnownPlatform | None = None
    environment: dict[str, str] | None = None
    job_role_arn: str | None = Field(default=None, min_length=1)
    execution_role_arn: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _check(self) -> ContainerJobDefinition:
        _check_environment(self.environment)
        if self.platform == Platform.FARGATE and self.gpus:
            raise ValueError("Fargate jobs cannot have GPUs")
        return self

    def to_api(self) -> dict[str, Any]:
        """RegisterJobDefinition's parameters.

        Raises:
            ValueError: They exceed AWS Batch's 24 KiB per job definition.
        """
        return self._api("container", containerProperties=_container_properties(self))

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        return _masked(super().__repr_args__())


class NodeDefinitionContainer(RedactedErrors):
    """The container of a range of nodes of a multi-node job definition.

    Attributes:
        image: The container image.
        command: The default command.
        vcpus: vCPUs (VCPU).
        memory_mib: Memory in MiB (MEMORY).
        gpus: GPUs (GPU).
        environment: Environment variables.
        job_role_arn: The IAM role of the container.
        execution_role_arn: The ECS task execution role.
        instance_type: The instance type the nodes run on.
    """

    model_config = _REQUEST

    image: str = Field(min_length=1)
    command: list[str] | None = None
    vcpus: float | None = Field(default=None, gt=0, le=INT32_MAX, allow_inf_nan=False)
    memory_mib: int | None = Field(default=None, ge=4, le=INT32_MAX)
    gpus: int | None = Field(default=None, ge=0, le=INT32_MAX)
    environment: dict[str, str] | None = None
    job_role_arn: str | None = Field(default=None, min_length=1)
    execution_role_arn: str | None = Field(default=None, min_length=1)
    instance_type: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _check(self) -> NodeDefinitionContainer:
        _check_environment(self.environment)
        return self

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        return _masked(super().__repr_args__())


class NodeRangeDefinition(RedactedErrors):
    """What runs on a range of nodes.

    Attributes:
        target_nodes: The range: ``"0:"``, ``"0:3"``, ``"4:"``...
        container: The container of these nodes.
        instance_types: The instance types they may run on.
    """

    model_config = _REQUEST

    target_nodes: str = Field(min_length=1, pattern=r"^\d*:?\d*$")
    container: NodeDefinitionContainer
    instance_types: list[str] | None = None


class MultiNodeJobDefinition(_JobDefinitionBase):
    """A multi-node parallel job definition to register (``type="multinode"``).

    Attributes:
        name: The definition's name.
        num_nodes: How many nodes each job has.
        main_node: The index of the main node.
        node_ranges: What runs on which nodes (each node in exactly one range).
        parameters: Default ``Ref::`` parameters.
        retry_attempts: Attempts, 1..10.
        timeout_seconds: Attempt duration limit, >= 60.
        scheduling_priority: The scheduling priority, 0..9999.
        consumable_resources: Consumable resources each job takes.
        tags: The definition's tags.
        propagate_tags: Propagate tags to the ECS tasks.
    """

    num_nodes: int = Field(ge=1, le=INT32_MAX)
    main_node: int = Field(default=0, ge=0, le=INT32_MAX)
    node_ranges: list[NodeRangeDefinition] = Field(min_length=1, max_length=5)

    @model_validator(mode="after")
    def _check(self) -> MultiNodeJobDefinition:
        if self.main_node >= self.num_nodes:
            raise ValueError(f"main_node {self.main_node} is not below num_nodes {self.num_nodes}")
        return self

    def to_api(self) -> dict[str, Any]:
        """RegisterJobDefinition's parameters."""
        ranges = []
        for node_range in self.node_ranges:
            entry: dict[str, Any] = {
                "targetNodes": node_range.target_nodes,
                "container": _container_properties(node_range.container),
            }
            if node_range.container.instance_type is not None:
                entry["container"]["instanceType"] = node_range.container.instance_type
            if node_range.instance_types is not None:
                entry["instanceTypes"] = list(node_range.instance_types)
            ranges.append(entry)
        nodes = {
            "numNodes": self.num_nodes,
            "mainNode": self.main_node,
            "nodeRangeProperties": ranges,
        }
        return self._api("multinode", nodeProperties=nodes)


class EcsDefinitionContainer(RedactedErrors):
    """A named container of the ECS task of an ECS-properties job definition.

    Attributes:
        name: The container's name (jobs override it by name).
        image: The container image.
        command: The default command.
        essential: Whether the task stops when it stops (AWS's default: true).
        vcpus: vCPUs (VCPU).
        memory_mib: Memory in MiB (MEMORY).
        gpus: GPUs (GPU).
        environment: Environment variables.
    """

    model_config = _REQUEST

    name: str | None = Field(default=None, min_length=1, max_length=255)
    image: str = Field(min_length=1)
    command: list[str] | None = None
    essential: bool | None = None
    vcpus: float | None = Field(default=None, gt=0, le=INT32_MAX, allow_inf_nan=False)
    memory_mib: int | None = Field(default=None, ge=4, le=INT32_MAX)
    gpus: int | None = Field(default=None, ge=0, le=INT32_MAX)
    environment: dict[str, str] | None = None

    @model_validator(mode="after")
    def _check(self) -> EcsDefinitionContainer:
        _check_environment(self.environment)
        return self

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        return _masked(super().__repr_args__())


class EcsJobDefinition(_JobDefinitionBase):
    """A job definition with ECS properties: one task of several named containers.

    Attributes:
        name: The definition's name.
        containers: The task's containers (1..10; name them when there are several).
        platform: ``EC2``, ``FARGATE`` or ``MANAGED_INSTANCES`` (``platformCapabilities``).
        task_role_arn: The IAM role the task's containers can assume.
        execution_role_arn: The ECS task execution role (Fargate needs one).
        parameters: Default ``Ref::`` parameters.
        retry_attempts: Attempts, 1..10.
        timeout_seconds: Attempt duration limit, >= 60.
        scheduling_priority: The scheduling priority, 0..9999.
        consumable_resources: Consumable resources each job takes.
        tags: The definition's tags.
        propagate_tags: Propagate tags to the ECS task.
    """

    containers: list[EcsDefinitionContainer] = Field(min_length=1, max_length=10)
    platform: _KnownPlatform | None = None
    task_role_arn: str | None = Field(default=None, min_length=1)
    execution_role_arn: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _check(self) -> EcsJobDefinition:
        names = [c.name for c in self.containers]
        if len(names) > 1 and (None in names or len(set(names)) != len(names)):
            raise ValueError("containers of a task with several need distinct names")
        if self.platform == Platform.FARGATE and any(c.gpus for c in self.containers):
            raise ValueError("Fargate jobs cannot have GPUs")
        return self

    def to_api(self) -> dict[str, Any]:
        """RegisterJobDefinition's parameters."""
        containers = []
        for container in self.containers:
            entry = _container_properties(container)
            if container.name is not None:
                entry = {"name": container.name, **entry}
            if container.essential is not None:
                entry["essential"] = container.essential
            containers.append(entry)
        task: dict[str, Any] = {"containers": containers}
        if self.task_role_arn is not None:
            task["taskRoleArn"] = self.task_role_arn
        if self.execution_role_arn is not None:
            task["executionRoleArn"] = self.execution_role_arn
        return self._api("container", ecsProperties={"taskProperties": [task]})


class EksDefinitionContainer(RedactedErrors):
    """A container of the pod of an EKS job definition.

    Attributes:
        name: The container's name (a DNS label; jobs override it by name).
        image: The container image.
        command: The entrypoint.
        args: Its arguments.
        vcpus: CPUs (``resources.limits.cpu``).
        memory_mib: Memory in MiB (``resources.limits.memory``, as ``"<MiB>Mi"``).
        gpus: GPUs (``resources.limits["nvidia.com/gpu"]``).
        environment: Environment variables (``env``).
        image_pull_policy: ``Always``, ``IfNotPresent`` or ``Never``.
    """

    model_config = _REQUEST

    name: str | None = Field(default=None, max_length=63, pattern=EKS_NAME_PATTERN)
    image: str = Field(min_length=1)
    command: list[str] | None = None
    args: list[str] | None = None
    vcpus: float | None = Field(default=None, gt=0, le=INT32_MAX, allow_inf_nan=False)
    memory_mib: int | None = Field(default=None, ge=4, le=INT32_MAX)
    gpus: int | None = Field(default=None, ge=0, le=INT32_MAX)
    environment: dict[str, str] | None = None
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None

    @model_validator(mode="after")
    def _check(self) -> EksDefinitionContainer:
        _check_environment(self.environment)
        return self

    def to_api(self) -> dict[str, Any]:
        """The pod container, as AWS names it."""
        entry: dict[str, Any] = {"image": self.image}
        if self.name is not None:
            entry["name"] = self.name
        if self.image_pull_policy is not None:
            entry["imagePullPolicy"] = self.image_pull_policy
        if self.command is not None:
            entry["command"] = list(self.command)
        if self.args is not None:
            entry["args"] = list(self.args)
        if self.environment is not None:
            entry["env"] = [{"name": k, "value": v} for k, v in self.environment.items()]
        limits = {
            key: value
            for key, value in (
                ("cpu", None if self.vcpus is None else _number(self.vcpus)),
                ("memory", None if self.memory_mib is None else f"{self.memory_mib}Mi"),
                ("nvidia.com/gpu", None if self.gpus is None else str(self.gpus)),
            )
            if value is not None
        }
        if limits:
            entry["resources"] = {"limits": limits}
        return entry

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        return _masked(super().__repr_args__())


class EksJobDefinition(_JobDefinitionBase):
    """A job definition run as a Kubernetes pod on Amazon EKS.

    Attributes:
        name: The definition's name.
        containers: The pod's containers (the first is the main one).
        init_containers: Containers run to completion before them.
        service_account_name: The pod's service account.
        namespace: The namespace (else the compute environment's).
        host_network: Whether the pod uses the host's network (AWS's default: true).
        dns_policy: ``Default``, ``ClusterFirst`` or ``ClusterFirstWithHostNet``.
        labels: The pod's labels.
        parameters: Default ``Ref::`` parameters.
        retry_attempts: Attempts, 1..10.
        timeout_seconds: Attempt duration limit, >= 60.
        scheduling_priority: The scheduling priority, 0..9999.
        consumable_resources: Consumable resources each job takes.
        tags: The definition's tags.
        propagate_tags: Propagate tags (AWS ignores this for EKS).
    """

    containers: list[EksDefinitionContainer] = Field(min_length=1, max_length=10)
    init_containers: list[EksDefinitionContainer] | None = Field(default=None, max_length=10)
    service_account_name: str | None = Field(default=None, min_length=1)
    namespace: str | None = Field(default=None, min_length=1, max_length=63)
    host_network: bool | None = None
    dns_policy: Literal["Default", "ClusterFirst", "ClusterFirstWithHostNet"] | None = None
    labels: dict[str, str] | None = None

    @model_validator(mode="after")
    def _check(self) -> EksJobDefinition:
        every = [*self.containers, *(self.init_containers or ())]
        names = [c.name for c in every]
        if len(every) > 1 and (None in names or len(set(names)) != len(names)):
            raise ValueError("the containers of a pod with several need distinct names")
        return self

    def to_api(self) -> dict[str, Any]:
        """RegisterJobDefinition's parameters."""
        pod: dict[str, Any] = {"containers": [c.to_api() for c in self.containers]}
        if self.init_containers is not None:
            pod["initContainers"] = [c.to_api() for c in self.init_containers]
        if self.service_account_name is not None:
            pod["serviceAccountName"] = self.service_account_name
        if self.host_network is not None:
            pod["hostNetwork"] = self.host_network
        if self.dns_policy is not None:
            pod["dnsPolicy"] = self.dns_policy
        metadata: dict[str, Any] = {}
        if self.namespace is not None:
            metadata["namespace"] = self.namespace
        if self.labels is not None:
            metadata["labels"] = dict(self.labels)
        if metadata:
            pod["metadata"] = metadata
        return self._api("container", eksProperties={"podProperties": pod})


#: A typed job definition to register, of any kind.
JobDefinitionSpec = (
    ContainerJobDefinition | EcsJobDefinition | EksJobDefinition | MultiNodeJobDefinition
)


def _check_environment(environment: dict[str, str] | None) -> None:
    for key in environment or {}:
        if not key or key.upper().startswith("AWS_BATCH"):
            raise ValueError(f"environment variable name {key!r} is empty or reserved")


def _container_properties(
    source: ContainerJobDefinition | NodeDefinitionContainer | EcsDefinitionContainer,
) -> dict[str, Any]:
    """``containerProperties`` (or an ECS task container) from a typed container."""
    container: dict[str, Any] = {"image": source.image}
    if source.command is not None:
        container["command"] = list(source.command)
    requirements = [
        {"type": kind, "value": _number(value)}
        for kind, value in (
            ("VCPU", source.vcpus),
            ("MEMORY", source.memory_mib),
            ("GPU", source.gpus),
        )
        if value is not None
    ]
    if requirements:
        container["resourceRequirements"] = requirements
    if source.environment is not None:
        container["environment"] = [{"name": k, "value": v} for k, v in source.environment.items()]
    for field, key in (("job_role_arn", "jobRoleArn"), ("execution_role_arn", "executionRoleArn")):
        value = getattr(source, field, None)
        if value is not None:
            container[key] = value
    return container


def _masked(args: Iterable[tuple[str | None, Any]]) -> Iterator[tuple[str | None, Any]]:
    """Repr arguments with environment and parameter values masked."""
    for name, value in args:
        if name in ("environment", "parameters") and isinstance(value, dict):
            yield name, dict.fromkeys(value, MASK)
        else:
            yield name, value


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


publish(__name__)
