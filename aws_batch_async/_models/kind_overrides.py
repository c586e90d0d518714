"""The kind-neutral fields of a request, mapped to the override each kind of job needs.

* container jobs (EC2 or Fargate): ``containerOverrides``;
* EKS: ``eksPropertiesOverride.podProperties.containers[i]`` (``command``, ``env``,
  ``resources.limits`` with ``cpu`` as a plain number string, ``memory`` as ``"<MiB>Mi"`` and
  ``nvidia.com/gpu``); AWS rejects ``containerOverrides`` for EKS jobs;
* multi-node parallel: ``nodeOverrides`` (``numNodes``; a ``nodePropertyOverrides`` entry for
  ``"0:"``, or the request's own ranges, which the neutral fields fill in);
* ECS properties: ``ecsPropertiesOverride.taskProperties[0].containers[i]``.

Every rule is checked here, before any SubmitJob call, and breaks raise ``ValueError`` naming
the field.
"""

from __future__ import annotations

import re
from typing import Any

from .._submitting.definition_cache import DefinitionInfo, JobKind
from .fargate import FARGATE_MEMORY
from .overrides import EKS_NAME_PATTERN, NodeOverride
from .requests import NEUTRAL_FIELDS, JobRequest

__all__ = ["FARGATE_MEMORY", "check_fargate", "kind_overrides"]

_EKS_NAME = re.compile(EKS_NAME_PATTERN)


def kind_overrides(request: JobRequest, info: DefinitionInfo) -> dict[str, Any]:
    """The SubmitJob override parameters of ``request`` for a definition of ``info``'s kind.

    Raises:
        ValueError: A field does not apply to the kind, or breaks AWS's rules for it.
    """
    kind = info.kind
    if kind is not JobKind.MULTINODE:
        for field in ("num_nodes", "node_overrides", "instance_type"):
            if getattr(request, field) is not None:
                raise ValueError(
                    f"{field} applies to multi-node parallel jobs only; the job definition is "
                    f"a {kind.value} job"
                )
    if kind not in (JobKind.EKS, JobKind.ECS) and request.container is not None:
        raise ValueError("container applies to EKS and ECS-properties jobs only")
    if kind is not JobKind.EKS and request.eks is not None:
        raise ValueError(f"eks applies to EKS jobs only; the job definition is a {kind.value} job")
    if kind is not JobKind.ECS and request.ecs_containers is not None:
        raise ValueError(
            f"ecs_containers applies to ECS-properties jobs only; the job definition is a "
            f"{kind.value} job"
        )
    if kind is JobKind.CONTAINER:
        if info.platform == "FARGATE":
            check_fargate(request.vcpus, request.memory_mib, request.gpus, info)
        overrides = _container(request.command, request.env_vars, _resources(request))
        return {"containerOverrides": overrides} if overrides else {}
    if kind is JobKind.MULTINODE:
        return _multinode(request, info)
    if kind is JobKind.EKS:
        return _eks(request, info)
    return _ecs(request, info)


def check_fargate(
    vcpus: float | None, memory_mib: int | None, gpus: int | None, info: DefinitionInfo
) -> None:
    """Check a Fargate job's vCPUs and memory against Fargate's pairs.

    Raises:
        ValueError: An invalid vCPU value, memory size, pair, or any GPU.
    """
    if gpus:
        raise ValueError("gpus: Fargate jobs cannot use GPUs")
    if vcpus is not None and float(vcpus) not in FARGATE_MEMORY:
        allowed = ", ".join(f"{v:g}" for v in FARGATE_MEMORY)
        raise ValueError(f"vcpus: Fargate takes {allowed} vCPUs, not {vcpus:g}")
    cpu = vcpus if vcpus is not None else info.vcpus
    if memory_mib is None:
        memory = info.memory_mib if vcpus is not None else None
        if memory is None or cpu is None or float(cpu) not in FARGATE_MEMORY:
            return
        if memory not in FARGATE_MEMORY[float(cpu)]:
            raise ValueError(
                f"vcpus: {cpu:g} vCPU on Fargate does not allow the job definition's "
                f"{memory} MiB; set memory_mib too"
            )
        return
    if cpu is None or float(cpu) not in FARGATE_MEMORY:
        if not any(memory_mib in sizes for sizes in FARGATE_MEMORY.values()):
            raise ValueError(f"memory_mib: {memory_mib} MiB is not a Fargate memory size")
        return
    sizes = FARGATE_MEMORY[float(cpu)]
    if memory_mib not in sizes:
        low, high = min(sizes), max(sizes)
        raise ValueError(
            f"memory_mib: {cpu:g} vCPU on Fargate takes {low}-{high} MiB "
            f"(in the allowed steps), not {memory_mib}"
        )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _resources(source: Any) -> list[dict[str, str]]:
    return [
        {"type": kind, "value": _number(value)}
        for kind, value in (
            ("VCPU", source.vcpus),
            ("MEMORY", source.memory_mib),
            ("GPU", source.gpus),
        )
        if value is not None
    ]


def _container(
    command: list[str] | None,
    env_vars: dict[str, str] | None,
    resources: list[dict[str, str]],
    **extra: Any,
) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if command is not None:
        overrides["command"] = list(command)
    if env_vars:
        overrides["environment"] = [{"name": k, "value": v} for k, v in env_vars.items()]
    if resources:
        overrides["resourceRequirements"] = resources
    overrides.update({k: v for k, v in extra.items() if v is not None})
    return overrides


def _neutral_set(request: JobRequest) -> bool:
    return any(getattr(request, field) is not None for field in NEUTRAL_FIELDS)


def _multinode(request: JobRequest, info: DefinitionInfo) -> dict[str, Any]:
    num_nodes = request.num_nodes if request.num_nodes is not None else info.num_nodes
    ranges = list(request.node_overrides or ())
    if not ranges and (_neutral_set(request) or request.instance_type is not None):
        ranges = [NodeOverride(target_nodes="0:")]
    entries: list[dict[str, Any]] = []
    for index, node in enumerate(ranges):
        first, last = node.node_range()
        where = f"node_overrides[{index}].target_nodes"
        if last is not None and last < first:
            raise ValueError(f"{where}: {node.target_nodes!r} ends before it starts")
        if num_nodes is not None and (
            first >= num_nodes or (last is not None and last >= num_nodes)
        ):
            raise ValueError(
                f"{where}: {node.target_nodes!r} is outside the job's {num_nodes} nodes "
                f"(indexes 0..{num_nodes - 1})"
            )
        merged = {f: _pick(node, request, f) for f in NEUTRAL_FIELDS}
        container = _container(
            merged["command"],
            merged["env_vars"],
            _resources(_Values(merged)),
        )
        entry: dict[str, Any] = {"targetNodes": node.target_nodes}
        if container:
            entry["containerOverrides"] = container
        types = node.instance_types or ([request.instance_type] if request.instance_type else None)
        if types:
            entry["instanceTypes"] = list(types)
        entries.append(entry)
    overrides: dict[str, Any] = {}
    if request.num_nodes is not None:
        overrides["numNodes"] = request.num_nodes
    if entries:
        overrides["nodePropertyOverrides"] = entries
    return {"nodeOverrides": overrides} if overrides else {}


class _Values:
    def __init__(self, values: dict[str, Any]) -> None:
        self.vcpus = values["vcpus"]
        self.memory_mib = values["memory_mib"]
        self.gpus = values["gpus"]


def _pick(node: Any, request: JobRequest, field: str) -> Any:
    own = getattr(node, field)
    return own if own is not None else getattr(request, field)


def _target(request: JobRequest, info: DefinitionInfo, *, essential_only: bool) -> str | None:
    names = info.container_names
    if request.container is not None:
        if names and request.container not in names:
            raise ValueError(
                f"container: {request.container!r} is not a container of the job definition "
                f"({', '.join(names)})"
            )
        return request.container
    if len(names) == 1:
        return names[0]
    essential = [
        name for name, is_essential in info.containers if is_essential or not essential_only
    ]
    return essential[0] if essential else (names[0] if names else None)


def _eks(request: JobRequest, info: DefinitionInfo) -> dict[str, Any]:
    if request.container is not None and not _EKS_NAME.match(request.container):
        raise ValueError(
            f"container: {request.container!r} is not a Kubernetes container name (lowercase "
            "letters, digits and '-', at most 63)"
        )
    names = info.container_names
    target = _target(request, info, essential_only=False)
    pod = request.eks
    given = {c.name: c for c in (pod.containers or [])} if pod else {}
    for name in given:
        if names and name is not None and name not in names:
            raise ValueError(f"eks.containers: {name!r} is not a container of the job definition")
    containers: list[dict[str, Any]] = []
    if _neutral_set(request):
        own = given.pop(target, None)
        containers.append(_eks_container(target, request, own))
    containers.extend(_eks_container(c.name, None, c) for c in given.values())
    pod_override: dict[str, Any] = {}
    if containers:
        pod_override["containers"] = containers
    if pod is not None:
        if pod.init_containers:
            pod_override["initContainers"] = [
                _eks_container(c.name, None, c) for c in pod.init_containers
            ]
        metadata = {
            k: v
            for k, v in (
                ("labels", pod.labels),
                ("annotations", pod.annotations),
                ("namespace", pod.namespace),
            )
            if v is not None
        }
        if metadata:
            pod_override["metadata"] = metadata
    return {"eksPropertiesOverride": {"podProperties": pod_override}} if pod_override else {}


def _eks_container(name: str | None, request: JobRequest | None, own: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if name is not None:
        entry["name"] = name
    for field in ("image", "args"):
        value = getattr(own, field, None)
        if value is not None:
            entry[field] = list(value) if isinstance(value, list) else value
    command = _merge(request, own, "command")
    if command is not None:
        entry["command"] = list(command)
    env = _merge(request, own, "env_vars")
    if env:
        entry["env"] = [{"name": k, "value": v} for k, v in env.items()]
    resources = _eks_resources(name, request, own)
    if resources:
        entry["resources"] = resources
    return entry


def _eks_resources(name: str | None, request: JobRequest | None, own: Any) -> dict[str, Any]:
    """An EKS container's ``resources``: its own limits with the request's vCPUs, memory, GPUs."""
    limits: dict[str, str] = dict(getattr(own, "limits", None) or {})
    if request is not None:
        for key, value in (
            ("cpu", request.vcpus),
            ("memory", None if request.memory_mib is None else f"{request.memory_mib}Mi"),
            ("nvidia.com/gpu", request.gpus),
        ):
            if value is None:
                continue
            if key in limits:
                raise ValueError(f"eks.containers[{name}].limits.{key} is also set by the request")
            limits[key] = value if isinstance(value, str) else _number(value)
    resources: dict[str, Any] = {}
    if limits:
        resources["limits"] = limits
    if getattr(own, "requests", None):
        resources["requests"] = dict(own.requests)
    return resources


def _merge(request: JobRequest | None, own: Any, field: str) -> Any:
    mine = getattr(request, field, None) if request is not None else None
    theirs = getattr(own, field, None) if own is not None else None
    if mine is not None and theirs is not None:
        raise ValueError(f"{field} is set both on the request and in its container's override")
    return mine if mine is not None else theirs


def _ecs(request: JobRequest, info: DefinitionInfo) -> dict[str, Any]:
    names = info.container_names
    given = {c.name: c for c in request.ecs_containers or []}
    for name in given:
        if names and name not in names:
            raise ValueError(
                f"ecs_containers: {name!r} is not a container of the job definition "
                f"({', '.join(names)})"
            )
    containers: list[dict[str, Any]] = []
    if _neutral_set(request):
        target = _target(request, info, essential_only=True)
        if target is None:
            raise ValueError(
                "container: name the ECS container to override (its names are known only "
                "when the service looks the job definition up; JobRequest.kind skips that)"
            )
        own = given.pop(target, None)
        merged = {f: _merge(request, own, f) for f in NEUTRAL_FIELDS}
        containers.append(
            {
                "name": target,
                **_container(merged["command"], merged["env_vars"], _resources(_Values(merged))),
            }
        )
    for name, own in given.items():
        containers.append({"name": name, **_container(own.command, own.env_vars, _resources(own))})
    if not containers:
        return {}
    return {"ecsPropertiesOverride": {"taskProperties": [{"containers": containers}]}}
