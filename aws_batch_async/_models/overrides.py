"""Typed pass-through overrides for each kind of job, beyond the kind-neutral fields.

:class:`~aws_batch_async.JobRequest` maps ``command``, ``env_vars``, ``vcpus``, ``memory_mib``
and ``gpus`` to the right override for the job's kind; these models reach the rest of what AWS
accepts: per-node-range overrides of multi-node jobs, every container (and init container) of
an EKS pod with its image, args and pod metadata, and every container of an ECS task.
Environment values are secrets: reprs show the names only, and validation errors carry no
input values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Field, field_validator

from .._public import publish
from .jobs import MASK, Request
from .limits import INT32_MAX
from .redact import RedactedErrors

__all__ = [
    "EKS_NAME_PATTERN",
    "Command",
    "Gpus",
    "MemoryMib",
    "Vcpus",
    "EcsContainerOverride",
    "EksContainerOverride",
    "EksPodOverride",
    "NodeOverride",
    "check_env_names",
]

#: A Kubernetes container name: a DNS label (RFC 1123), at most 63 characters.
EKS_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
#: AWS's range syntax for node indexes: ``"0:"``, ``"2:5"``, ``":3"``, ``"4"``.
TARGET_NODES_PATTERN = r"^(\d+|\d*:\d*)$"

#: A command of an override: items not empty. AWS sets no length on an item; the request's
#: size limits (``_models/limits.py``) apply to the whole.
Command = list[Annotated[str, Field(min_length=1)]]
#: vCPUs: a finite number > 0 (AWS's VCPU resource requirement; Fargate takes fractions).
Vcpus = Annotated[float, Field(gt=0, le=INT32_MAX, allow_inf_nan=False)]
#: Memory in MiB: 4 .. AWS's Integer maximum (the MEMORY requirement replaces ``memory``).
MemoryMib = Annotated[int, Field(ge=4, le=INT32_MAX)]
#: GPUs: 0 .. AWS's Integer maximum.
Gpus = Annotated[int, Field(ge=0, le=INT32_MAX)]


def check_env_names(value: dict[str, str] | None) -> dict[str, str] | None:
    """Check environment variable names (values are never echoed).

    Raises:
        ValueError: An empty name, a name with ``=`` or NUL, or one starting with
            ``AWS_BATCH`` (reserved by the service).
    """
    for name in value or {}:
        if not name:
            raise ValueError("environment variable names must not be empty")
        if name.upper().startswith("AWS_BATCH"):
            raise ValueError(
                f"environment variable name {name!r} is reserved: names starting with "
                "AWS_BATCH are set by the AWS Batch service"
            )
        if "=" in name or "\x00" in name:
            raise ValueError(f"environment variable name {name!r} contains '=' or NUL")
    return value


class _Masked(Request, RedactedErrors):
    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name == "env_vars" and isinstance(value, dict):
                yield name, dict.fromkeys(value, MASK)
            else:
                yield name, value


class NodeOverride(_Masked):
    """Overrides of one range of nodes of a multi-node parallel job.

    Attributes:
        target_nodes: The node indexes, in AWS's range syntax: ``"0:"`` (every node),
            ``"0:3"``, ``":3"``, ``"4"``.
        command: The nodes' command.
        env_vars: Environment variables (values never shown).
        vcpus: vCPUs per node.
        memory_mib: Memory in MiB per node.
        gpus: GPUs per node.
        instance_types: Instance types for these nodes.
    """

    target_nodes: str = Field(pattern=TARGET_NODES_PATTERN, max_length=16)
    command: Command | None = Field(default=None, min_length=1)
    env_vars: dict[str, str] | None = None
    vcpus: Vcpus | None = None
    memory_mib: MemoryMib | None = None
    gpus: Gpus | None = None
    instance_types: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, min_length=1
    )

    _env = field_validator("env_vars")(classmethod(lambda cls, v: check_env_names(v)))

    def node_range(self) -> tuple[int, int | None]:
        """``(first, last)`` node index of the range (``last`` None: to the end)."""
        text = self.target_nodes
        if ":" not in text:
            return int(text), int(text)
        start, _, end = text.partition(":")
        return int(start or 0), int(end) if end else None


class EksContainerOverride(_Masked):
    """Overrides of one container (or init container) of an EKS pod.

    Attributes:
        name: The container's name in the job definition (a DNS label).
        image: Another image.
        command: The entrypoint.
        args: The entrypoint's arguments.
        env_vars: Environment variables (values never shown).
        limits: Resource limits, e.g. ``{"cpu": "2", "memory": "4096Mi"}``.
        requests: Resource requests, same keys as ``limits``.
    """

    name: str | None = Field(default=None, max_length=63, pattern=EKS_NAME_PATTERN)
    image: str | None = Field(default=None, min_length=1, max_length=1024)
    command: Command | None = Field(default=None, min_length=1)
    args: list[str] | None = None
    env_vars: dict[str, str] | None = None
    limits: dict[str, str] | None = None
    requests: dict[str, str] | None = None

    _env = field_validator("env_vars")(classmethod(lambda cls, v: check_env_names(v)))


class EksPodOverride(Request, RedactedErrors):
    """Overrides of an EKS job's pod beyond the kind-neutral fields.

    Attributes:
        containers: Per-container overrides (by name).
        init_containers: Per-init-container overrides (by name).
        labels: Pod labels.
        annotations: Pod annotations.
        namespace: The Kubernetes namespace.
    """

    containers: list[EksContainerOverride] | None = None
    init_containers: list[EksContainerOverride] | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    namespace: str | None = Field(default=None, min_length=1, max_length=63)


class EcsContainerOverride(_Masked):
    """Overrides of one named container of an ECS-properties job's task.

    Attributes:
        name: The container's name in the job definition.
        command: The container's command.
        env_vars: Environment variables (values never shown).
        vcpus: vCPUs.
        memory_mib: Memory in MiB.
        gpus: GPUs.
    """

    name: str = Field(min_length=1, max_length=255)
    command: Command | None = Field(default=None, min_length=1)
    env_vars: dict[str, str] | None = None
    vcpus: Vcpus | None = None
    memory_mib: MemoryMib | None = None
    gpus: Gpus | None = None

    _env = field_validator("env_vars")(classmethod(lambda cls, v: check_env_names(v)))


publish(__name__)
