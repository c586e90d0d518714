"""Job definitions: the typed view of DescribeJobDefinitions, and RegisterJobDefinition's answer.

:class:`JobDefinition` keeps every member of AWS's answer (``raw`` too) and works out what kind
of job a definition makes (a :class:`~aws_batch_async.JobKind`) and what one container, task,
pod or node asks for (:class:`~aws_batch_async._infrastructure.instance_types.Resources`). The
typed definitions to
register are in ``_infrastructure.definition_requests``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import Field, model_validator

from .._models.aws_enums import JobDefinitionType, OrchestrationType, Platform
from .._models.base import MASK
from .._models.job_kinds import job_kind, platform_of
from .._models.job_parts import (
    ConsumableResourceProperties,
    ContainerDetail,
    EcsProperties,
    EksProperties,
    JobKind,
    JobTimeout,
    NodeProperties,
    RetryStrategy,
)
from .._models.limits import check_definition_size
from .._public import publish
from .._submitting.definition_cache import parse_reference
from .definition_requests import ContainerJobDefinition, JobDefinitionSpec
from .instance_types import Resources, requested_resources
from .view_parts import InfraModel, RawView, keep_raw

__all__ = [
    "JobDefinition",
    "RegisteredJobDefinition",
    "definition_query",
    "definition_params",
    "raw_definition_params",
]


class JobDefinition(RawView):
    """A job definition as DescribeJobDefinitions describes it.

    Every member of botocore's ``JobDefinition`` shape has a field; the properties of each
    kind are typed with the parts a :class:`~aws_batch_async.JobDetail` shows (their other
    members, such as volumes or environment variables, are in ``raw``). Derived fields
    (``kind``, ``platform``, ``resources``, ``retry_attempts``...) save the digging.

    Attributes:
        name: Its name (AWS: ``jobDefinitionName``).
        revision: Its revision.
        arn: Its ARN (``jobDefinitionArn``), ending in ``:<revision>``.
        status: ``"ACTIVE"`` or ``"INACTIVE"``.
        type: AWS's ``type``: ``container`` or ``multinode`` (:class:`JobDefinitionType`).
        kind: What it runs, a :class:`JobKind` (worked out from its properties).
        platform: The :class:`Platform` of ``platformCapabilities`` (``FARGATE``,
            ``MANAGED_INSTANCES``, ``EC2``, or a newer value as its string); ``None`` when not
            stated (AWS then uses EC2).
        platform_capabilities: ``platformCapabilities`` as AWS gives it.
        resources: What one container, ECS task, EKS pod or node asks for (for multi-node
            definitions, the largest of each over the node ranges).
        container_properties: The container of a container definition: image, command,
            resources, job and execution roles, log configuration...
        node_properties: The node ranges of a multi-node definition.
        ecs_properties: The ECS task of an ECS-properties definition: its containers and roles.
        eks_properties: The pod of an EKS definition.
        retry_strategy: Its retry strategy (attempts and ``evaluate_on_exit`` rules).
        timeout: Its time limit.
        consumable_resource_properties: The consumable resources its jobs take.
        retry_attempts: ``retryStrategy.attempts``.
        timeout_seconds: ``timeout.attemptDurationSeconds``.
        parameters: Default parameters (values masked in the repr).
        scheduling_priority: The scheduling priority.
        propagate_tags: Whether tags go to the ECS task.
        container_orchestration_type: ``ECS`` or ``EKS`` (:class:`OrchestrationType`).
        tags: Its tags.
        num_nodes: A multi-node definition's ``nodeProperties.numNodes``, else ``None``.
        main_node: A multi-node definition's ``nodeProperties.mainNode``, else ``None``.
        raw: The definition exactly as AWS returned it (read-only; environment and parameter
            values masked in its repr; not in ``model_dump``).
    """

    name: str = Field(alias="jobDefinitionName")
    revision: int
    arn: str = Field(alias="jobDefinitionArn")
    status: str | None = None
    type: JobDefinitionType | None = None
    kind: JobKind = JobKind.CONTAINER
    platform: Platform | None = None
    platform_capabilities: list[Platform] = Field(default_factory=list)
    resources: Resources = Field(default_factory=Resources)
    container_properties: ContainerDetail | None = None
    node_properties: NodeProperties | None = None
    ecs_properties: EcsProperties | None = None
    eks_properties: EksProperties | None = None
    retry_strategy: RetryStrategy | None = None
    timeout: JobTimeout | None = None
    consumable_resource_properties: ConsumableResourceProperties | None = None
    retry_attempts: int | None = None
    timeout_seconds: int | None = None
    parameters: dict[str, str] = Field(default_factory=dict)
    scheduling_priority: int | None = None
    propagate_tags: bool | None = None
    container_orchestration_type: OrchestrationType | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    num_nodes: int | None = None
    main_node: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _derive(cls, data: Any) -> Any:
        data = keep_raw(data)
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        if "kind" not in data:
            data["kind"] = job_kind(data)
        if "platform" not in data:
            data["platform"] = platform_of(data)
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

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name == "parameters" and isinstance(value, dict):
                yield name, dict.fromkeys(value, MASK)
            else:
                yield name, value


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


def definition_params(
    definition: Mapping[str, Any] | JobDefinitionSpec | None, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """RegisterJobDefinition's parameters from a typed definition, a raw dict, or keywords.

    Args:
        definition: A typed definition, AWS's own parameters, or ``None``.
        fields: Keyword fields of a container definition (``None`` values are unset).

    Raises:
        TypeError: Both ``definition`` and keywords, or a ``definition`` no mapping.
        ValueError: A raw definition without ``jobDefinitionName`` or ``type``, or over 24 KiB.
        pydantic.ValidationError: A keyword is missing or out of AWS's range.
    """
    given = {k: v for k, v in fields.items() if v is not None}
    if definition is None:
        return ContainerJobDefinition.model_validate(given).to_api()
    if given:
        raise TypeError("pass a definition or keyword arguments, not both")
    if isinstance(definition, JobDefinitionSpec):
        return definition.to_api()
    return raw_definition_params(definition)


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
    base, revision = parse_reference(name)
    if ":" in base:
        raise ValueError("name must be 'name' or 'name:revision'")
    return {"jobDefinitionName": base}, revision


publish(__name__)
