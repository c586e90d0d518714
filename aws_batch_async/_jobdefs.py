"""Job definitions: the typed view of DescribeJobDefinitions, and what RegisterJobDefinition takes.

:class:`JobDefinition` works out what kind of job a definition makes (a
:class:`~aws_batch_async.JobKind`) and what one container, task, pod or node asks for
(:class:`~aws_batch_async._instances.Resources`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from ._definitions import JobKind
from ._infra import InfraModel
from ._instances import Resources, requested_resources
from ._limits import INT32_MAX, JOB_NAME_MAX, JOB_NAME_PATTERN, check_definition_size, check_tag
from ._public import publish
from ._redact import RedactedErrors

__all__ = [
    "ContainerJobDefinition",
    "JobDefinition",
    "RegisteredJobDefinition",
    "definition_query",
    "raw_definition_params",
]


class JobDefinition(InfraModel):
    """A job definition as DescribeJobDefinitions describes it.

    Attributes:
        name: Its name (AWS: ``jobDefinitionName``).
        revision: Its revision.
        arn: Its ARN (``jobDefinitionArn``), ending in ``:<revision>``.
        status: ``"ACTIVE"`` or ``"INACTIVE"``.
        type: AWS's ``type``: ``"container"`` or ``"multinode"``.
        kind: What it runs, a :class:`JobKind` (worked out from its properties).
        platform: ``"EC2"`` or ``"FARGATE"`` from ``platformCapabilities``; ``None`` when not
            stated (AWS then uses EC2).
        resources: What one container, ECS task, EKS pod or node asks for (for multi-node
            definitions, the largest of each over the node ranges).
        retry_attempts: ``retryStrategy.attempts``.
        timeout_seconds: ``timeout.attemptDurationSeconds``.
        parameters: Default parameters.
        scheduling_priority: The scheduling priority.
        propagate_tags: Whether tags go to the ECS task.
        container_orchestration_type: ``"ECS"`` or ``"EKS"``.
        tags: Its tags.
        num_nodes: A multi-node definition's ``nodeProperties.numNodes``, else ``None``.
        main_node: A multi-node definition's ``nodeProperties.mainNode``, else ``None``.
    """

    name: str = Field(alias="jobDefinitionName")
    revision: int
    arn: str = Field(alias="jobDefinitionArn")
    status: str | None = None
    type: str | None = None
    kind: JobKind = JobKind.CONTAINER
    platform: str | None = None
    resources: Resources = Field(default_factory=Resources)
    retry_attempts: int | None = None
    timeout_seconds: int | None = None
    parameters: dict[str, str] = Field(default_factory=dict)
    scheduling_priority: int | None = None
    propagate_tags: bool | None = None
    container_orchestration_type: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    num_nodes: int | None = None
    main_node: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _derive(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        if "kind" not in data:
            data["kind"] = _kind(data)
        if "platform" not in data:
            capabilities = data.get("platformCapabilities")
            if isinstance(capabilities, list) and capabilities:
                data["platform"] = str(capabilities[0])
        if "resources" not in data:
            data["resources"] = requested_resources(data)
        retry = data.get("retryStrategy")
        if "retry_attempts" not in data and isinstance(retry, Mapping):
            data.setdefault("retryAttempts", retry.get("attempts"))
        timeout = data.get("timeout")
        if "timeout_seconds" not in data and isinstance(timeout, Mapping):
            data.setdefault("timeoutSeconds", timeout.get("attemptDurationSeconds"))
        nodes = data.get("nodeProperties")
        if isinstance(nodes, Mapping):
            data.setdefault("numNodes", nodes.get("numNodes"))
            data.setdefault("mainNode", nodes.get("mainNode"))
        return data

    @property
    def is_active(self) -> bool:
        """ACTIVE: jobs can be submitted with it."""
        return self.status == "ACTIVE"


def _kind(data: Mapping[str, Any]) -> JobKind:
    if data.get("nodeProperties") or str(data.get("type", "")).lower() == "multinode":
        return JobKind.MULTINODE
    if data.get("eksProperties"):
        return JobKind.EKS
    if data.get("ecsProperties"):
        return JobKind.ECS
    return JobKind.CONTAINER


class RegisteredJobDefinition(InfraModel):
    """What RegisterJobDefinition returns.

    Attributes:
        name: The definition's name.
        arn: The new revision's ARN.
        revision: The new revision.
    """

    name: str = Field(alias="jobDefinitionName")
    arn: str = Field(alias="jobDefinitionArn")
    revision: int


class ContainerJobDefinition(RedactedErrors):
    """A container job definition to register; unset fields are left to AWS's defaults.

    Its validation errors carry no input (environment and parameter values are secrets).

    Attributes:
        name: 1-128 letters, digits, ``-`` and ``_``, first a letter or digit.
        image: The container image.
        command: The default command.
        vcpus: vCPUs (``resourceRequirements`` VCPU; fractions for Fargate).
        memory_mib: Memory in MiB (MEMORY).
        gpus: GPUs (GPU; none on Fargate).
        platform: ``"EC2"`` or ``"FARGATE"`` (``platformCapabilities``).
        environment: Environment variables (names starting with ``AWS_BATCH`` are reserved).
        parameters: Default ``Ref::`` parameters.
        job_role_arn: The IAM role of the job's container.
        execution_role_arn: The ECS task execution role (Fargate needs one).
        retry_attempts: Attempts, 1..10.
        timeout_seconds: Attempt duration limit, >= 60.
        tags: The definition's tags.
        propagate_tags: Propagate tags to the ECS task.
    """

    model_config = ConfigDict(
        defer_build=True, frozen=True, extra="forbid", hide_input_in_errors=True
    )

    name: str = Field(min_length=1, max_length=JOB_NAME_MAX, pattern=JOB_NAME_PATTERN)
    image: str = Field(min_length=1)
    command: list[str] | None = None
    vcpus: float | None = Field(default=None, gt=0, le=INT32_MAX, allow_inf_nan=False)
    memory_mib: int | None = Field(default=None, ge=4, le=INT32_MAX)
    gpus: int | None = Field(default=None, ge=0, le=INT32_MAX)
    platform: Literal["EC2", "FARGATE"] | None = None
    environment: dict[str, str] | None = None
    parameters: dict[str, str] | None = None
    job_role_arn: str | None = Field(default=None, min_length=1)
    execution_role_arn: str | None = Field(default=None, min_length=1)
    retry_attempts: int | None = Field(default=None, ge=1, le=10)
    timeout_seconds: int | None = Field(default=None, ge=60, le=INT32_MAX)
    tags: dict[str, str] | None = None
    propagate_tags: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> ContainerJobDefinition:
        for key in self.environment or {}:
            if not key or key.upper().startswith("AWS_BATCH"):
                raise ValueError(f"environment variable name {key!r} is empty or reserved")
        if self.platform == "FARGATE" and self.gpus:
            raise ValueError("Fargate jobs cannot have GPUs")
        for key, value in (self.tags or {}).items():
            check_tag(key, value)
        return self

    def to_api(self) -> dict[str, Any]:
        """RegisterJobDefinition's parameters.

        Raises:
            ValueError: They exceed AWS Batch's 24 KiB per job definition.
        """
        container: dict[str, Any] = {"image": self.image}
        if self.command is not None:
            container["command"] = list(self.command)
        requirements = [
            {"type": kind, "value": _number(value)}
            for kind, value in (
                ("VCPU", self.vcpus),
                ("MEMORY", self.memory_mib),
                ("GPU", self.gpus),
            )
            if value is not None
        ]
        if requirements:
            container["resourceRequirements"] = requirements
        if self.environment is not None:
            container["environment"] = [
                {"name": k, "value": v} for k, v in self.environment.items()
            ]
        if self.job_role_arn is not None:
            container["jobRoleArn"] = self.job_role_arn
        if self.execution_role_arn is not None:
            container["executionRoleArn"] = self.execution_role_arn
        params: dict[str, Any] = {
            "jobDefinitionName": self.name,
            "type": "container",
            "containerProperties": container,
        }
        if self.platform is not None:
            params["platformCapabilities"] = [self.platform]
        if self.parameters is not None:
            params["parameters"] = dict(self.parameters)
        if self.retry_attempts is not None:
            params["retryStrategy"] = {"attempts": self.retry_attempts}
        if self.timeout_seconds is not None:
            params["timeout"] = {"attemptDurationSeconds": self.timeout_seconds}
        if self.tags is not None:
            params["tags"] = dict(self.tags)
        if self.propagate_tags is not None:
            params["propagateTags"] = self.propagate_tags
        check_definition_size(params)
        return params


def raw_definition_params(definition: Mapping[str, Any]) -> dict[str, Any]:
    """RegisterJobDefinition's parameters from a raw dict, as AWS names them.

    Raises:
        TypeError: Not a mapping.
        ValueError: ``jobDefinitionName`` or ``type`` is missing, or the definition exceeds
            AWS Batch's 24 KiB.
    """
    if not isinstance(definition, Mapping):
        raise TypeError(f"definition must be a mapping, not {type(definition).__name__}")
    params = dict(definition)
    for key in ("jobDefinitionName", "type"):
        if not isinstance(params.get(key), str) or not params[key]:
            raise ValueError(f"definition needs {key!r} (RegisterJobDefinition's own names)")
    with contextlib.suppress(TypeError):  # not JSON: botocore's validation names the value
        check_definition_size(params)
    return params


def definition_query(name: str | None) -> tuple[dict[str, Any], int | None]:
    """DescribeJobDefinitions' parameters for a name, ``name:revision`` or ARN.

    Returns:
        The parameters, and the revision to keep (moto ignores ``jobDefinitions=["name:3"]``,
        so a revision is looked up by name and filtered).

    Raises:
        TypeError: Not a string.
        ValueError: Empty, or a revision that is not a number.
    """
    if name is None:
        return {}, None
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, not {type(name).__name__}")
    if not name.strip():
        raise ValueError("name must not be empty")
    if name.startswith("arn:"):
        return {"jobDefinitions": [name]}, None
    base, _, revision = name.partition(":")
    if revision and not revision.isdigit():
        raise ValueError("name must be 'name' or 'name:revision'")
    return {"jobDefinitionName": base}, int(revision) if revision else None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


publish(__name__)
