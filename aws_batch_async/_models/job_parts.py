"""The parts of a DescribeJobs job, typed: containers, ECS tasks, EKS pods, nodes, retries.

One model per shape of botocore's Batch model that a :class:`~aws_batch_async.JobDetail`
shows, with the members a user reads (snake_case, AWS's camelCase as aliases). Every member is
optional, lists default to empty, unknown members are ignored: any answer AWS's model allows
parses. Some models serve several shapes that AWS spells alike: :class:`ContainerDetail` is
also an attempt's container and a node range's container properties, :class:`EcsTaskDetails`
also an attempt's ECS task.

Environment variables are not modelled: their values are secrets (``JobDetail.raw`` has them,
masked in its repr).
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from .._public import publish
from .base import EpochMillis, Response

__all__ = [
    "ConsumableResource",
    "ConsumableResourceProperties",
    "ContainerDetail",
    "EcsContainerDetail",
    "EcsProperties",
    "EcsTaskDetails",
    "EksAttemptContainer",
    "EksAttemptDetail",
    "EksContainerDetail",
    "EksContainerResources",
    "EksMetadata",
    "EksPodProperties",
    "EksProperties",
    "JobKind",
    "JobTimeout",
    "LogConfiguration",
    "NetworkInterface",
    "NodeDetails",
    "NodeProperties",
    "NodeRangeProperty",
    "ResourceRequirement",
    "RetryRule",
    "RetryStrategy",
]


class JobKind(str, Enum):
    """What kind of AWS Batch job a :class:`~aws_batch_async.JobDetail` describes.

    Attributes:
        CONTAINER: A single-node container job (EC2 or Fargate): ``container``.
        MULTINODE: A multi-node parallel job (``node_properties``) or one of its nodes
            (``<id>#<index>``, with ``node_details``).
        EKS: A job run as a Kubernetes pod on Amazon EKS: ``eks_properties``.
        ECS: A job with ECS properties (a task of several named containers): ``ecs_properties``.
    """

    CONTAINER = "CONTAINER"
    MULTINODE = "MULTINODE"
    EKS = "EKS"
    ECS = "ECS"

    def __str__(self) -> str:
        return self.value


# ---------------------------------------------------------------------------------------------
# Containers


class NetworkInterface(Response):
    """A network interface of a container or ECS task container.

    Attributes:
        attachment_id: The attachment's id.
        ipv6_address: Its IPv6 address.
        private_ipv4_address: Its private IPv4 address.
    """

    attachment_id: str | None = None
    ipv6_address: str | None = None
    private_ipv4_address: str | None = None


class ResourceRequirement(Response):
    """A resource a container asks for.

    Attributes:
        type: ``"VCPU"``, ``"MEMORY"`` (MiB) or ``"GPU"``.
        value: The amount, as AWS gives it (a string: ``"0.25"``, ``"2048"``).
    """

    type: str | None = None
    value: str | None = None


class LogConfiguration(Response):
    """Where a container's output goes.

    Attributes:
        log_driver: ``"awslogs"`` (CloudWatch Logs), ``"splunk"``, ``"awsfirelens"``...
        options: The driver's options, e.g. ``{"awslogs-group": "/my/app"}``.
    """

    log_driver: str | None = None
    options: dict[str, str] = Field(default_factory=dict)


class ContainerDetail(Response):
    """The container of a container job, a node, or an attempt (``container``).

    Attributes:
        image: The image.
        command: The command.
        vcpus: vCPUs, in the legacy field (``resource_requirements`` has them otherwise).
        memory: Memory in MiB, in the legacy field.
        resource_requirements: VCPU, MEMORY and GPU requirements.
        exit_code: The exit code, once the container has stopped.
        reason: Why the container stopped (e.g. ``OutOfMemoryError: Container killed...``).
        log_stream_name: The CloudWatch Logs stream of its output.
        task_arn: The ECS task that ran it.
        container_instance_arn: The ECS container instance it ran on.
        instance_type: The instance type (multi-node jobs).
        job_role_arn: The IAM role the container can assume.
        execution_role_arn: The IAM role ECS uses to start it.
        user: The user it runs as.
        privileged: Whether it runs privileged.
        readonly_root_filesystem: Whether its root filesystem is read-only.
        network_interfaces: Its network interfaces.
        log_configuration: Its log driver and options.
        enable_execute_command: Whether ECS Exec is enabled.
    """

    image: str | None = None
    command: list[str] = Field(default_factory=list)
    vcpus: float | None = None  # an int in the model; LocalBatch and others may send 0.5
    memory: int | None = None
    resource_requirements: list[ResourceRequirement] = Field(default_factory=list)
    exit_code: int | None = None
    reason: str | None = None
    log_stream_name: str | None = None
    task_arn: str | None = None
    container_instance_arn: str | None = None
    instance_type: str | None = None
    job_role_arn: str | None = None
    execution_role_arn: str | None = None
    user: str | None = None
    privileged: bool | None = None
    readonly_root_filesystem: bool | None = None
    network_interfaces: list[NetworkInterface] = Field(default_factory=list)
    log_configuration: LogConfiguration | None = None
    enable_execute_command: bool | None = None

    def requirement(self, kind: str) -> str | None:
        """The value of a resource requirement (``"VCPU"``, ``"MEMORY"``, ``"GPU"``), if any."""
        return next((r.value for r in self.resource_requirements if r.type == kind), None)


# ---------------------------------------------------------------------------------------------
# ECS properties


class EcsContainerDetail(Response):
    """One named container of an ECS task (``ecs_properties.task_properties[].containers[]``).

    Attributes:
        name: The container's name.
        image: The image.
        command: The command.
        essential: Whether the task stops when this container stops (AWS: the default is true
            for a task's only container).
        exit_code: The exit code, once it has stopped.
        reason: Why it stopped.
        log_stream_name: The CloudWatch Logs stream of its output.
        resource_requirements: VCPU, MEMORY and GPU requirements.
        log_configuration: Its log driver and options.
        network_interfaces: Its network interfaces.
        user: The user it runs as.
        privileged: Whether it runs privileged.
    """

    name: str | None = None
    image: str | None = None
    command: list[str] = Field(default_factory=list)
    essential: bool | None = None
    exit_code: int | None = None
    reason: str | None = None
    log_stream_name: str | None = None
    resource_requirements: list[ResourceRequirement] = Field(default_factory=list)
    log_configuration: LogConfiguration | None = None
    network_interfaces: list[NetworkInterface] = Field(default_factory=list)
    user: str | None = None
    privileged: bool | None = None


class EcsTaskDetails(Response):
    """An ECS task (``ecs_properties.task_properties[]``, ``attempts[].task_properties[]``).

    Attributes:
        containers: Its containers, in the job definition's order.
        task_arn: The ECS task.
        container_instance_arn: The container instance it ran on.
        execution_role_arn: The IAM role ECS uses to start it.
        task_role_arn: The IAM role its containers can assume.
        platform_version: The Fargate platform version.
        network_mode: The Docker network mode.
    """

    containers: list[EcsContainerDetail] = Field(default_factory=list)
    task_arn: str | None = None
    container_instance_arn: str | None = None
    execution_role_arn: str | None = None
    task_role_arn: str | None = None
    platform_version: str | None = None
    network_mode: str | None = None


class EcsProperties(Response):
    """The ECS properties of a job (``ecs_properties``): its task.

    Attributes:
        task_properties: The task (AWS runs one task per job).
    """

    task_properties: list[EcsTaskDetails] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# EKS properties


class EksContainerResources(Response):
    """A pod container's Kubernetes resources.

    Attributes:
        limits: e.g. ``{"cpu": "1", "memory": "1024Mi", "nvidia.com/gpu": "1"}``.
        requests: The same keys, requested.
    """

    limits: dict[str, str] = Field(default_factory=dict)
    requests: dict[str, str] = Field(default_factory=dict)


class EksContainerDetail(Response):
    """A container of a job's pod (``eks_properties.pod_properties.containers[]``).

    Attributes:
        name: The container's name.
        image: The image.
        image_pull_policy: ``Always``, ``IfNotPresent`` or ``Never``.
        command: The entrypoint.
        args: Its arguments.
        resources: Its limits and requests.
        exit_code: The exit code, once it has stopped.
        reason: Why it stopped.
    """

    name: str | None = None
    image: str | None = None
    image_pull_policy: str | None = None
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    resources: EksContainerResources | None = None
    exit_code: int | None = None
    reason: str | None = None


class EksMetadata(Response):
    """A pod's Kubernetes metadata.

    Attributes:
        namespace: The namespace it runs in.
        labels: Its labels.
        annotations: Its annotations.
    """

    namespace: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class EksPodProperties(Response):
    """A job's pod (``eks_properties.pod_properties``).

    Attributes:
        pod_name: The pod's name, once it exists.
        node_name: The Kubernetes node it runs on.
        containers: Its containers; the first is the job's main container.
        init_containers: Its init containers.
        metadata: Namespace, labels, annotations.
        service_account_name: Its service account.
        host_network: Whether it uses the host's network.
        dns_policy: Its DNS policy.
        share_process_namespace: Whether its containers share a process namespace.
    """

    pod_name: str | None = None
    node_name: str | None = None
    containers: list[EksContainerDetail] = Field(default_factory=list)
    init_containers: list[EksContainerDetail] = Field(default_factory=list)
    metadata: EksMetadata | None = None
    service_account_name: str | None = None
    host_network: bool | None = None
    dns_policy: str | None = None
    share_process_namespace: bool | None = None


class EksProperties(Response):
    """The EKS properties of a job (``eks_properties``).

    Attributes:
        pod_properties: Its pod.
    """

    pod_properties: EksPodProperties | None = None


class EksAttemptContainer(Response):
    """A container of an EKS attempt's pod.

    Attributes:
        name: The container's name.
        container_id: Its Kubernetes container id.
        exit_code: Its exit code.
        reason: Why it stopped.
    """

    name: str | None = None
    container_id: str | None = Field(default=None, alias="containerID")
    exit_code: int | None = None
    reason: str | None = None


class EksAttemptDetail(Response):
    """One attempt of an EKS job (``eks_attempts[]``).

    Attributes:
        pod_name: The attempt's pod.
        pod_namespace: Its namespace.
        node_name: The node it ran on.
        eks_cluster_arn: The cluster.
        containers: Its containers; the first is the main one.
        init_containers: Its init containers.
        started_at: When it started.
        stopped_at: When it stopped.
        status_reason: Why it stopped.
    """

    pod_name: str | None = None
    pod_namespace: str | None = None
    node_name: str | None = None
    eks_cluster_arn: str | None = None
    containers: list[EksAttemptContainer] = Field(default_factory=list)
    init_containers: list[EksAttemptContainer] = Field(default_factory=list)
    started_at: EpochMillis | None = None
    stopped_at: EpochMillis | None = None
    status_reason: str | None = None


# ---------------------------------------------------------------------------------------------
# Multi-node parallel jobs


class ConsumableResource(Response):
    """A consumable resource a job takes while it runs.

    Attributes:
        consumable_resource: Its name or ARN.
        quantity: How much.
    """

    consumable_resource: str | None = None
    quantity: int | None = None


class ConsumableResourceProperties(Response):
    """The consumable resources of a job or node range.

    Attributes:
        consumable_resource_list: The resources and quantities.
    """

    consumable_resource_list: list[ConsumableResource] = Field(default_factory=list)


class NodeRangeProperty(Response):
    """What runs on a range of nodes of a multi-node parallel job.

    Attributes:
        target_nodes: The range: ``"0:"``, ``"0:3"``, ``"4:"``...
        container: The container properties of these nodes.
        instance_types: The instance types they may run on.
        ecs_properties: Their ECS properties, for ECS-based nodes.
        eks_properties: Their EKS properties, for EKS-based nodes.
        consumable_resource_properties: Their consumable resources.
    """

    target_nodes: str | None = None
    container: ContainerDetail | None = None
    instance_types: list[str] = Field(default_factory=list)
    ecs_properties: EcsProperties | None = None
    eks_properties: EksProperties | None = None
    consumable_resource_properties: ConsumableResourceProperties | None = None


class NodeProperties(Response):
    """A multi-node parallel job's nodes (``node_properties``, on the parent).

    Attributes:
        num_nodes: How many nodes; they are jobs ``<id>#0`` .. ``<id>#<num_nodes - 1>``.
        main_node: The index of the main node.
        node_range_properties: What runs on which nodes.
    """

    num_nodes: int | None = None
    main_node: int | None = None
    node_range_properties: list[NodeRangeProperty] = Field(default_factory=list)


class NodeDetails(Response):
    """Which node of a multi-node parallel job this is (``node_details``, on ``<id>#<index>``).

    Attributes:
        node_index: The node's index.
        is_main_node: Whether it is the main node.
    """

    node_index: int | None = None
    is_main_node: bool | None = None


# ---------------------------------------------------------------------------------------------
# Retries and time limits


class RetryRule(Response):
    """A rule of a retry strategy: RETRY or EXIT when its glob patterns match.

    Attributes:
        action: ``"RETRY"`` or ``"EXIT"``.
        on_status_reason: Glob against the job's status reason.
        on_reason: Glob against the container's reason.
        on_exit_code: Glob against the exit code.
    """

    action: str | None = None
    on_status_reason: str | None = None
    on_reason: str | None = None
    on_exit_code: str | None = None


class RetryStrategy(Response):
    """A job's retry strategy.

    Attributes:
        attempts: How many attempts at most.
        evaluate_on_exit: The rules deciding whether a failed attempt is retried.
    """

    attempts: int | None = None
    evaluate_on_exit: list[RetryRule] = Field(default_factory=list)


class JobTimeout(Response):
    """A job's time limit.

    Attributes:
        attempt_duration_seconds: How long an attempt may run before AWS terminates it.
    """

    attempt_duration_seconds: int | None = None


publish(__name__)
