"""What a job asks for, what instance types offer, and whether one fits the other.

:func:`requested_resources` reads the vCPUs, memory and GPUs a job (or job definition) asks
for, whatever its kind. The table of instance sizes is small, not a catalogue: the families
AWS Batch users meet most (general purpose, compute, memory, GPU). An instance type or family
that is not listed is "unknown", and :func:`misfit` then assumes the job could fit rather than
guess. ``optimal`` and the ``default_*`` types are unknown on purpose: AWS picks their
families per Region.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from .._models.fargate import FARGATE_MAX_MEMORY_MIB, FARGATE_MAX_VCPUS

__all__ = [
    "FARGATE_MAX_MEMORY_MIB",
    "FARGATE_MAX_VCPUS",
    "InstanceSize",
    "Resources",
    "instance_sizes",
    "memory_note",
    "misfit",
    "requested_resources",
]


@dataclass(frozen=True)
class InstanceSize:
    """What one instance type offers.

    Attributes:
        name: The instance type, e.g. ``"m5.xlarge"``.
        vcpus: Its vCPUs.
        memory_mib: Its memory in MiB (AWS reserves part of it for the ECS agent and the OS,
            so a job needs a little less than this).
        gpus: Its GPUs.
    """

    name: str
    vcpus: int
    memory_mib: int
    gpus: int = 0


_GIB = 1024


def _family(family: str, sizes: Sequence[tuple[str, int, float, int]]) -> dict[str, InstanceSize]:
    return {
        f"{family}.{size}": InstanceSize(f"{family}.{size}", vcpus, int(gib * _GIB), gpus)
        for size, vcpus, gib, gpus in sizes
    }


_M5 = [
    ("large", 2, 8, 0),
    ("xlarge", 4, 16, 0),
    ("2xlarge", 8, 32, 0),
    ("4xlarge", 16, 64, 0),
    ("8xlarge", 32, 128, 0),
    ("12xlarge", 48, 192, 0),
    ("16xlarge", 64, 256, 0),
    ("24xlarge", 96, 384, 0),
    ("metal", 96, 384, 0),
]
_C5 = [
    ("large", 2, 4, 0),
    ("xlarge", 4, 8, 0),
    ("2xlarge", 8, 16, 0),
    ("4xlarge", 16, 32, 0),
    ("9xlarge", 36, 72, 0),
    ("12xlarge", 48, 96, 0),
    ("18xlarge", 72, 144, 0),
    ("24xlarge", 96, 192, 0),
    ("metal", 96, 192, 0),
]
_R5 = [
    ("large", 2, 16, 0),
    ("xlarge", 4, 32, 0),
    ("2xlarge", 8, 64, 0),
    ("4xlarge", 16, 128, 0),
    ("8xlarge", 32, 256, 0),
    ("12xlarge", 48, 384, 0),
    ("16xlarge", 64, 512, 0),
    ("24xlarge", 96, 768, 0),
    ("metal", 96, 768, 0),
]
_C6I = [
    ("large", 2, 4, 0),
    ("xlarge", 4, 8, 0),
    ("2xlarge", 8, 16, 0),
    ("4xlarge", 16, 32, 0),
    ("8xlarge", 32, 64, 0),
    ("12xlarge", 48, 96, 0),
    ("16xlarge", 64, 128, 0),
    ("24xlarge", 96, 192, 0),
    ("32xlarge", 128, 256, 0),
]
_M6I = [*(s for s in _M5 if s[0] != "metal"), ("32xlarge", 128, 512, 0)]
_R6I = [*(s for s in _R5 if s[0] != "metal"), ("32xlarge", 128, 1024, 0)]
_P3 = [("2xlarge", 8, 61, 1), ("8xlarge", 32, 244, 4), ("16xlarge", 64, 488, 8)]
_G4DN = [
    ("xlarge", 4, 16, 1),
    ("2xlarge", 8, 32, 1),
    ("4xlarge", 16, 64, 1),
    ("8xlarge", 32, 128, 1),
    ("12xlarge", 48, 192, 4),
    ("16xlarge", 64, 256, 1),
    ("metal", 96, 384, 8),
]
_G5 = [
    ("xlarge", 4, 16, 1),
    ("2xlarge", 8, 32, 1),
    ("4xlarge", 16, 64, 1),
    ("8xlarge", 32, 128, 1),
    ("12xlarge", 48, 192, 4),
    ("16xlarge", 64, 256, 1),
    ("24xlarge", 96, 384, 4),
    ("48xlarge", 192, 768, 8),
]

#: Every known instance type by name.
INSTANCE_SIZES: dict[str, InstanceSize] = {
    **_family("m5", _M5),
    **_family("c5", _C5),
    **_family("r5", _R5),
    **_family("m6i", _M6I),
    **_family("c6i", _C6I),
    **_family("r6i", _R6I),
    **_family("p3", _P3),
    **_family("p3dn", [("24xlarge", 96, 768, 8)]),
    **_family("p4d", [("24xlarge", 96, 1152, 8)]),
    **_family("g4dn", _G4DN),
    **_family("g5", _G5),
}
_FAMILIES = {name.split(".", 1)[0] for name in INSTANCE_SIZES}


def instance_sizes(instance_type: str) -> list[InstanceSize] | None:
    """The sizes a compute environment's ``instanceTypes`` entry stands for.

    Args:
        instance_type: An instance type (``"m5.xlarge"``) or a family (``"m5"``: any size).

    Returns:
        The matching sizes, or ``None`` when the type or family is not in the table.
    """
    if instance_type in INSTANCE_SIZES:
        return [INSTANCE_SIZES[instance_type]]
    if instance_type in _FAMILIES:
        return [s for name, s in INSTANCE_SIZES.items() if name.split(".", 1)[0] == instance_type]
    return None


# ---------------------------------------------------------------------------------------------
# What a job asks for


class Resources(BaseModel):
    """What one container, task, pod or node asks for.

    Attributes:
        vcpus: vCPUs (fractions for Fargate and EKS).
        memory_mib: Memory in MiB.
        gpus: GPUs.
    """

    model_config = ConfigDict(
        defer_build=True,
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        hide_input_in_errors=True,
    )

    vcpus: float | None = None
    memory_mib: int | None = None
    gpus: int | None = None

    @property
    def is_empty(self) -> bool:
        """Nothing is known."""
        return self.vcpus is None and self.memory_mib is None and self.gpus is None

    def __str__(self) -> str:
        parts = []
        if self.vcpus is not None:
            parts.append(f"{self.vcpus:g} vCPU{'s' if self.vcpus != 1 else ''}")
        if self.memory_mib is not None:
            parts.append(f"{self.memory_mib} MiB of memory")
        if self.gpus:
            parts.append(f"{self.gpus} GPU{'s' if self.gpus != 1 else ''}")
        return ", ".join(parts) or "no stated resources"


def requested_resources(raw: Mapping[str, Any]) -> Resources:
    """What one container, task, pod or node of a job or job definition asks for.

    Reads, in this order, the first that states anything: ``container`` /
    ``containerProperties`` (``resourceRequirements`` VCPU/MEMORY/GPU, else the legacy
    ``vcpus``/``memory``), ``ecsProperties`` (the containers of the task, added up),
    ``eksProperties`` (the pod's containers' requests, else limits, added up) and
    ``nodeProperties`` (the largest of each over the node ranges).

    Args:
        raw: A DescribeJobs job or a DescribeJobDefinitions definition, as AWS sends it.

    Returns:
        The resources; empty when nothing is stated.
    """
    for key in ("container", "containerProperties"):
        container = raw.get(key)
        if isinstance(container, Mapping):
            found = _container_resources(container)
            if not found.is_empty:
                return found
    for found in (
        _ecs_resources(raw.get("ecsProperties")),
        _eks_resources(raw.get("eksProperties")),
    ):
        if not found.is_empty:
            return found
    nodes = raw.get("nodeProperties")
    ranges = nodes.get("nodeRangeProperties") if isinstance(nodes, Mapping) else None
    if isinstance(ranges, list):
        return _largest(requested_resources(r) for r in ranges if isinstance(r, Mapping))
    return Resources()


def _container_resources(container: Mapping[str, Any]) -> Resources:
    values: dict[str, float] = {}
    for requirement in container.get("resourceRequirements") or ():
        if isinstance(requirement, Mapping):
            number = _number(requirement.get("value"))
            kind = str(requirement.get("type", "")).upper()
            if number is not None and kind in ("VCPU", "MEMORY", "GPU"):
                values[kind] = number
    for legacy, kind in (("vcpus", "VCPU"), ("memory", "MEMORY")):
        number = _number(container.get(legacy))
        if kind not in values and number is not None:
            values[kind] = number
    return _resources(values.get("VCPU"), values.get("MEMORY"), values.get("GPU"))


def _ecs_resources(ecs: Any) -> Resources:
    tasks = ecs.get("taskProperties") if isinstance(ecs, Mapping) else None
    if not isinstance(tasks, list):
        return Resources()
    containers = [
        _container_resources(c)
        for task in tasks
        if isinstance(task, Mapping)
        for c in task.get("containers") or ()
        if isinstance(c, Mapping)
    ]
    return _sum(containers)


def _eks_resources(eks: Any) -> Resources:
    pod = eks.get("podProperties") if isinstance(eks, Mapping) else None
    if not isinstance(pod, Mapping):
        return Resources()
    main = _sum([_eks_container(c) for c in pod.get("containers") or () if isinstance(c, Mapping)])
    init = [_eks_container(c) for c in pod.get("initContainers") or () if isinstance(c, Mapping)]
    return _largest([main, *init]) if init else main


def _eks_container(container: Mapping[str, Any]) -> Resources:
    resources = container.get("resources")
    if not isinstance(resources, Mapping):
        return Resources()
    requests, limits = resources.get("requests"), resources.get("limits")

    def pick(key: str) -> Any:
        for source in (requests, limits):
            if isinstance(source, Mapping) and source.get(key) is not None:
                return source[key]
        return None

    memory = _quantity_bytes(pick("memory"))
    return _resources(
        _cpu(pick("cpu")),
        None if memory is None else memory / 2**20,
        _number(pick("nvidia.com/gpu")),
    )


def _resources(vcpus: float | None, memory: float | None, gpus: float | None) -> Resources:
    return Resources(
        vcpus=vcpus,
        memory_mib=None if memory is None else math.ceil(memory),
        gpus=None if gpus is None else math.ceil(gpus),
    )


def _sum(parts: Iterable[Resources]) -> Resources:
    items = list(parts)

    def total(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return sum(known) if known else None

    return _resources(
        total([p.vcpus for p in items]),
        total([None if p.memory_mib is None else float(p.memory_mib) for p in items]),
        total([None if p.gpus is None else float(p.gpus) for p in items]),
    )


def _largest(parts: Iterable[Resources]) -> Resources:
    items = list(parts)

    def top(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return max(known) if known else None

    return _resources(
        top([p.vcpus for p in items]),
        top([None if p.memory_mib is None else float(p.memory_mib) for p in items]),
        top([None if p.gpus is None else float(p.gpus) for p in items]),
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _cpu(value: Any) -> float | None:
    if isinstance(value, str) and value.endswith("m"):
        millis = _number(value[:-1])
        return None if millis is None else millis / 1000
    return _number(value)


_QUANTITY = re.compile(r"^\s*([0-9.]+)\s*(Ki|Mi|Gi|Ti|Pi|k|K|M|G|T|P)?\s*$")
_UNITS = {
    None: 1,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
}


def _quantity_bytes(value: Any) -> float | None:
    """A Kubernetes memory quantity (``"1024Mi"``, ``"1G"``, ``"500000000"``) in bytes."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value)
    if match is None:
        return None
    number = _number(match.group(1))
    return None if number is None else number * _UNITS[match.group(2)]


# ---------------------------------------------------------------------------------------------
# Does it fit?


def misfit(
    asked: Resources,
    *,
    max_vcpus: int | None,
    fargate: bool,
    instance_types: Sequence[str],
) -> list[str]:
    """Why a MANAGED compute environment can never run a job (empty: it can, or unknown).

    Args:
        asked: What the job asks for.
        max_vcpus: The environment's maxvCpus.
        fargate: It is FARGATE or FARGATE_SPOT.
        instance_types: Its instance types or families (EC2/SPOT).

    Returns:
        Phrases naming each limit the job exceeds.
    """
    problems = []
    vcpus, memory, gpus = asked.vcpus, asked.memory_mib, asked.gpus or 0
    if max_vcpus is not None and vcpus is not None and vcpus > max_vcpus:
        problems.append(f"its maxvCpus is {max_vcpus}, below the job's {vcpus:g} vCPUs")
    if fargate:
        if vcpus is not None and vcpus > FARGATE_MAX_VCPUS:
            problems.append(f"a Fargate job has at most {FARGATE_MAX_VCPUS:g} vCPUs")
        if memory is not None and memory > FARGATE_MAX_MEMORY_MIB:
            problems.append(f"a Fargate job has at most {FARGATE_MAX_MEMORY_MIB} MiB of memory")
        if gpus:
            problems.append("Fargate offers no GPUs")
        return problems
    known = _known_sizes(instance_types)
    if known is None:
        return problems  # an unknown type or family may fit
    if any(_fits(asked, s) for s in known):
        return problems
    types = ", ".join(instance_types)
    top_vcpus = max(s.vcpus for s in known)
    top_memory = max(s.memory_mib for s in known)
    top_gpus = max(s.gpus for s in known)
    if vcpus is not None and vcpus > top_vcpus:
        problems.append(f"its instance types ({types}) have at most {top_vcpus} vCPUs")
    if memory is not None and memory >= top_memory:
        problems.append(
            f"its instance types ({types}) have at most {top_memory} MiB of memory, part of "
            "which the ECS agent and the OS keep"
        )
    if gpus > top_gpus:
        offer = f"at most {top_gpus} GPUs" if top_gpus else "no GPUs"
        problems.append(f"its instance types ({types}) have {offer}")
    if not problems:
        problems.append(f"no single instance type of {types} has all of {asked} at once")
    return problems


def memory_note(asked: Resources, instance_types: Iterable[Sequence[str]]) -> str | None:
    """A hint when the job's memory is within 5% of every instance that could hold it.

    Args:
        asked: What the job asks for.
        instance_types: The instance types of each usable EC2 compute environment.

    Returns:
        The hint, or ``None``.
    """
    if asked.memory_mib is None:
        return None
    memories = []
    for types in instance_types:
        known = _known_sizes(types)
        if known is None:
            return None
        memories += [s.memory_mib for s in known]
    roomy = [m for m in memories if m > asked.memory_mib]
    if roomy and asked.memory_mib > 0.95 * min(roomy):
        return (
            f"The job's {asked.memory_mib} MiB of memory is close to all of the instance's "
            f"{min(roomy)} MiB; the ECS agent and the OS keep part of it, so the job may not fit."
        )
    return None


def _known_sizes(instance_types: Sequence[str]) -> list[InstanceSize] | None:
    groups = [instance_sizes(t) for t in instance_types]
    if not groups or any(g is None for g in groups):
        return None
    return [size for group in groups if group is not None for size in group]


def _fits(asked: Resources, size: InstanceSize) -> bool:
    return (
        (asked.vcpus is None or asked.vcpus <= size.vcpus)
        and (asked.memory_mib is None or asked.memory_mib < size.memory_mib)
        and (asked.gpus or 0) <= size.gpus
    )
