"""Where a job's logs are, for each kind of job: CloudWatch Logs streams, or why there are none.

=====================  =====================================================================
kind                   streams
=====================  =====================================================================
container (EC2,        one per attempt: ``attempts[].container.logStreamName``, and the running
Fargate), node         attempt's ``container.logStreamName``
ECS properties         one per container per attempt: ``attempts[].taskProperties[].containers
                       []`` and the running task's ``ecsProperties.taskProperties[].containers[]``
multi-node parent      none of its own: each node is a job ``<id>#<index>`` with its container
EKS                    none: the pod's logs stay in the Kubernetes cluster
array parent           none of its own: each child ``<id>:<index>`` has its streams
=====================  =====================================================================

Each container's group is its ``awslogs`` log configuration's ``awslogs-group``, else
``/aws/batch/job``; an ECS attempt's container takes the configuration of the task container
of the same name.
"""

from __future__ import annotations

from typing import NamedTuple

from .._errors import BatchError
from .._models.job_parts import LogConfiguration
from .._models.jobs import JobDetail

__all__ = [
    "DEFAULT_LOG_GROUP",
    "LogStream",
    "array_parent_error",
    "eks_logs_error",
    "job_streams",
    "node_to_read",
    "not_a_parent_error",
]

#: The CloudWatch Logs group of a job whose job definition names none.
DEFAULT_LOG_GROUP = "/aws/batch/job"
_AWSLOGS = "awslogs"


class LogStream(NamedTuple):
    """One CloudWatch Logs stream of a job.

    Attributes:
        attempt: The attempt (0-based) it belongs to.
        name: The stream's name.
        group: Its log group.
        container: The ECS container that writes it; ``None`` for a job's only container.
    """

    attempt: int
    name: str
    group: str
    container: str | None


def job_streams(job: JobDetail, *, container: str | None = None) -> list[LogStream]:
    """A job's streams, oldest attempt first, each attempt's containers in task order.

    A stream named twice (the running attempt also listed in ``attempts``) is listed once.

    Args:
        job: A job that writes to CloudWatch Logs (not an EKS job, not a parent).
        container: Only this ECS container's streams.

    Returns:
        The streams, with their groups; containers that log elsewhere are left out.

    Raises:
        BatchError: ``container`` names no container of the job, or every chosen container
            logs through a driver other than ``awslogs``.
    """
    configs = _log_configurations(job)
    if container is not None and container not in configs:
        named = [name for name in configs if name is not None]
        has = (
            f"its containers are {', '.join(map(repr, named))}"
            if named
            else f"it is a {job.kind.value} job with one container (container= is for jobs "
            "with ECS properties)"
        )
        raise BatchError(f"job {job.job_id} has no container named {container!r}: {has}")
    chosen = [container] if container is not None else list(configs)
    elsewhere = {name: driver for name in chosen if (driver := _driver(configs[name]))}
    if elsewhere and len(elsewhere) == len(chosen):
        name, driver = next(iter(elsewhere.items()))
        whose = "" if name is None else f" (container {name!r})"
        raise BatchError(
            f"job {job.job_id} logs through the {driver!r} log driver{whose}; only the "
            "awslogs driver writes to CloudWatch Logs"
        )
    streams: list[LogStream] = []
    seen: set[str] = set()

    def add(attempt: int, stream: str | None, name: str | None) -> None:
        if not stream or stream in seen or name in elsewhere or name not in chosen:
            return
        seen.add(stream)
        streams.append(LogStream(attempt, stream, _group(configs.get(name)), name))

    for index, attempt in enumerate(job.attempts):
        if attempt.container is not None:
            add(index, attempt.container.log_stream_name, None)
        for task in attempt.task_properties:
            for item in task.containers:
                add(index, item.log_stream_name, item.name)
    current = len(job.attempts)  # the running attempt is not in `attempts` yet
    if job.container is not None:
        add(current, job.container.log_stream_name, None)
    for item in job.ecs_containers:
        add(current, item.log_stream_name, item.name)
    return streams


def node_to_read(job: JobDetail, node: int | None) -> int:
    """The node of a multi-node parent whose logs to read: ``node``, else the main node.

    Raises:
        BatchError: The job has no such node.
    """
    props = job.node_properties
    main = props.main_node if props is not None and props.main_node is not None else 0
    if node is None:
        return main
    count = props.num_nodes if props is not None else None
    if count is not None and node >= count:
        raise BatchError(
            f"job {job.job_id} has {count} nodes ({job.job_id}#0 .. {job.job_id}#{count - 1}); "
            f"there is no node {node}"
        )
    return node


def not_a_parent_error(job: JobDetail) -> BatchError:
    """The error for ``node=`` given with a job that is not a multi-node parent."""
    if job.node_details is not None:
        parent = job.job_id.partition("#")[0]
        return BatchError(
            f"job {job.job_id} is a node of the multi-node job {parent}: node= is for the "
            f"parent ({parent}); this node's logs are read without it"
        )
    return BatchError(
        f"job {job.job_id} is a {job.kind.value} job, not a multi-node parallel job: node= "
        "does not apply"
    )


def array_parent_error(job: JobDetail) -> BatchError:
    """The error for an array parent: its children hold the logs."""
    size = job.array_properties.size if job.array_properties else None
    last = f"{job.job_id}:{size - 1}" if size else f"{job.job_id}:<index>"
    return BatchError(
        f"job {job.job_id} is an array job: its children ({job.job_id}:0 .. {last}) hold "
        "the logs; call get_logs with a child's id"
    )


def eks_logs_error(job: JobDetail, container: str | None = None) -> BatchError:
    """The error for an EKS job: where its logs are (pod, namespace, cluster)."""
    pod = job.eks_properties.pod_properties if job.eks_properties else None
    last = job.eks_attempts[-1] if job.eks_attempts else None
    pod_name = (pod.pod_name if pod else None) or (last.pod_name if last else None)
    namespace = (last.pod_namespace if last else None) or (
        pod.metadata.namespace if pod is not None and pod.metadata is not None else None
    )
    cluster = f" of cluster {last.eks_cluster_arn}" if last and last.eks_cluster_arn else ""
    if pod_name is None:
        where = "its pod has not been created yet"
    else:
        space = (
            f"namespace {namespace}"
            if namespace
            else "the namespace of its compute environment (kubernetesNamespace)"
        )
        pick = f" -c {container}" if container else ""
        command = f"kubectl logs -n {namespace or '<namespace>'} {pod_name}{pick}"
        where = f"they are in pod {pod_name} in {space}{cluster} ({command})"
    return BatchError(
        f"job {job.job_id} is an EKS job: its logs are not in CloudWatch Logs (unless the "
        f"cluster ships them there); {where}"
    )


def _log_configurations(job: JobDetail) -> dict[str | None, LogConfiguration | None]:
    """Each container's log configuration: by name for ECS tasks, ``None`` for the only one."""
    ecs = job.ecs_containers
    if ecs:
        configs: dict[str | None, LogConfiguration | None] = {}
        for item in ecs:
            configs.setdefault(item.name, item.log_configuration)
        return configs
    return {None: job.container.log_configuration if job.container else None}


def _driver(config: LogConfiguration | None) -> str | None:
    """The log driver, when it is not awslogs (None: it writes to CloudWatch Logs)."""
    driver = config.log_driver if config is not None else None
    return driver if driver and driver != _AWSLOGS else None


def _group(config: LogConfiguration | None) -> str:
    group = config.options.get("awslogs-group") if config is not None else None
    return group or DEFAULT_LOG_GROUP
