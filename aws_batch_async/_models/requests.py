"""Requests: what a caller asks AWS Batch to run, validated against its limits at once.

Only the fields that are set are sent, so the job definition's defaults apply to the rest.
Environment variable values and parameter values are secrets: reprs show their names only,
and validation errors never carry input values (not even in ``.errors()`` or ``.json()``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from .._public import publish
from .._submitting.definition_cache import JobKind
from .jobs import MASK, JobDependency, Request
from .limits import (
    ARRAY_SIZE_MAX,
    ARRAY_SIZE_MIN,
    DEPENDS_ON_MAX,
    EVALUATE_ON_EXIT_MAX,
    INT32_MAX,
    INT64_MAX,
    JOB_NAME_MAX,
    JOB_NAME_PATTERN,
    RESERVED_TAG_PREFIX,
    SHARE_IDENTIFIER_PATTERN,
    TAG_VALUE_MAX,
    TAGS_MAX,
    check_payload_floor,
    check_tag,
)
from .overrides import (
    EcsContainerOverride,
    EksPodOverride,
    Gpus,
    MemoryMib,
    NodeOverride,
    Vcpus,
    check_env_names,
)
from .redact import RedactedErrors

__all__ = ["EvaluateOnExit", "JobRequest", "NEUTRAL_FIELDS"]

#: The fields every kind of job takes, each mapped to the override its kind needs.
NEUTRAL_FIELDS = ("command", "env_vars", "vcpus", "memory_mib", "gpus")
#: Fields not sent as such (``container`` names the target of EKS and ECS jobs only).
_NOT_SENT = frozenset({"kind", "container"})


class EvaluateOnExit(Request):
    """A retry-strategy rule: RETRY or EXIT when every given glob pattern matches.

    Attributes:
        action: ``"RETRY"`` or ``"EXIT"`` (case-insensitive).
        on_status_reason: Glob against the job's status reason.
        on_reason: Glob against the container's reason.
        on_exit_code: Glob of digits (optionally ending in ``*``) against the exit code.
    """

    action: Literal["RETRY", "EXIT"]
    on_status_reason: str | None = Field(default=None, min_length=1, max_length=512)
    on_reason: str | None = Field(default=None, min_length=1, max_length=512)
    on_exit_code: str | None = Field(
        default=None, min_length=1, max_length=512, pattern=r"^[0-9]*\*?$"
    )

    @field_validator("action", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class JobRequest(Request, RedactedErrors):
    """A job to submit. Validated against AWS Batch's limits when constructed.

    Only the fields that are set are sent, so the job definition's defaults apply to the rest.

    Attributes:
        job_name: 1-128 characters, first alphanumeric, then letters, digits, ``-`` and ``_``.
            When absent, ``<job_base_name or "job">-<unique suffix>`` is generated per submit.
        command: Overrides the job definition's command.
        env_vars: Environment variables for the container. Names starting with ``AWS_BATCH``
            are reserved by AWS. Values are never logged or shown in reprs.
        job_queue: Overrides the config's job queue.
        job_definition: Overrides the config's job definition.
        parameters: Substitutions for ``Ref::`` placeholders of the job definition.
        array_size: Makes an array job of 2..10,000 children.
        depends_on: Up to 20 job ids or :class:`JobDependency` objects.
        timeout_seconds: Attempt duration limit (60 seconds .. 2**31 - 1, AWS's Integer).
        retry_attempts: Job attempts 1..10; overrides the config's ``retry_attempts``.
        evaluate_on_exit: Up to 5 :class:`EvaluateOnExit` rules of the retry strategy.
        tags: Up to 50 tags (keys 1-128 characters, values up to 256, of letters, digits,
            spaces and ``_ . : / = + - @``). Keys starting with ``aws:`` or
            ``aws-batch-async:`` are reserved.
        propagate_tags: Propagate the job's tags to its ECS task.
        vcpus: vCPUs (containerOverrides.resourceRequirements VCPU), finite, > 0.
        memory_mib: Memory in MiB (resourceRequirements MEMORY), 4 .. 2**31 - 1.
        gpus: GPUs (resourceRequirements GPU), 0 .. 2**31 - 1.
        instance_type: Instance type of every node range (multi-node parallel jobs only: AWS
            says it does not apply to single-node jobs; a ``ValueError`` there).
        scheduling_priority: Scheduling priority override, 0..9999.
        share_identifier: Fair-share identifier: up to 255 letters and digits, optionally
            followed by ``*``.
        kind: The job definition's :class:`JobKind`; given, it skips the service's lookup of
            the definition (which needs ``batch:DescribeJobDefinitions``).
        container: Which container of an EKS pod or ECS task the neutral fields override
            (default: the only one, else the first essential one).
        num_nodes: Nodes of a multi-node parallel job, >= 1 (1,000 is AWS's default quota,
            which an account may raise).
        node_overrides: Per-node-range overrides of a multi-node job (:class:`NodeOverride`);
            the neutral fields fill in what each range does not set.
        consumable_resources: Consumable resource (name or ARN) -> quantity (AWS's Long).
        eks: The rest of an EKS pod's overrides (:class:`EksPodOverride`).
        ecs_containers: Overrides of other containers of an ECS task
            (:class:`EcsContainerOverride`).
        idempotency_key: Submit at most one job per key and queue: a submission whose key
            already created a job (still listed by AWS: about a day after it finished)
            returns that job instead, also from another process. Costs a lookup before the
            send; see ``docs/arrays-and-definitions.md``. Up to 256 characters (a tag value).
    """

    job_name: str | None = Field(
        default=None, min_length=1, max_length=JOB_NAME_MAX, pattern=JOB_NAME_PATTERN
    )
    command: list[str] | None = Field(default=None, min_length=1)
    env_vars: dict[str, str] | None = None
    job_queue: str | None = Field(default=None, min_length=1)
    job_definition: str | None = Field(default=None, min_length=1)
    parameters: dict[str, str] | None = None
    array_size: int | None = Field(default=None, ge=ARRAY_SIZE_MIN, le=ARRAY_SIZE_MAX)
    depends_on: list[JobDependency] | None = Field(default=None, max_length=DEPENDS_ON_MAX)
    timeout_seconds: int | None = Field(default=None, ge=60, le=INT32_MAX)
    retry_attempts: int | None = Field(default=None, ge=1, le=10)
    evaluate_on_exit: list[EvaluateOnExit] | None = Field(
        default=None, min_length=1, max_length=EVALUATE_ON_EXIT_MAX
    )
    tags: dict[str, str] | None = Field(default=None, min_length=1, max_length=TAGS_MAX)
    propagate_tags: bool | None = None
    vcpus: Vcpus | None = None
    memory_mib: MemoryMib | None = None
    gpus: Gpus | None = None
    instance_type: str | None = Field(default=None, min_length=1, max_length=128)
    scheduling_priority: int | None = Field(default=None, ge=0, le=9999)
    share_identifier: str | None = Field(default=None, pattern=SHARE_IDENTIFIER_PATTERN)
    kind: JobKind | None = None
    container: str | None = Field(default=None, min_length=1, max_length=255)
    num_nodes: int | None = Field(default=None, ge=1, le=INT32_MAX)
    node_overrides: list[NodeOverride] | None = Field(default=None, min_length=1)
    consumable_resources: dict[str, Annotated[int, Field(ge=0, le=INT64_MAX)]] | None = Field(
        default=None, min_length=1
    )
    eks: EksPodOverride | None = None
    ecs_containers: list[EcsContainerOverride] | None = Field(default=None, min_length=1)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=TAG_VALUE_MAX)

    @field_validator("depends_on", mode="before")
    @classmethod
    def _ids_to_dependencies(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [{"job_id": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("env_vars")
    @classmethod
    def _check_env_names(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return check_env_names(value)

    @field_validator("parameters")
    @classmethod
    def _check_parameter_names(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name in value or {}:
            if not name:
                raise ValueError("parameter names must not be empty")
        return value

    @field_validator("tags")
    @classmethod
    def _check_tags(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key, tag_value in (value or {}).items():
            check_tag(key, tag_value)
            if key.startswith(RESERVED_TAG_PREFIX):
                raise ValueError(
                    f"tag key {key!r} uses the prefix {RESERVED_TAG_PREFIX!r}, "
                    "reserved by aws-batch-async"
                )
        return value

    @model_validator(mode="after")
    def _check_combinations(self) -> JobRequest:
        for dep in self.depends_on or ():
            if dep.type is not None and self.array_size is None:
                raise ValueError(
                    f"depends_on type {dep.type} is only valid for array jobs (set array_size)"
                )
        # ``kind`` is never sent, ``container`` not for every kind: a strict lower bound
        check_payload_floor(value for name, value in self.__dict__.items() if name not in _NOT_SENT)
        return self

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name in ("env_vars", "parameters") and isinstance(value, dict):
                yield name, dict.fromkeys(value, MASK)
            else:
                yield name, value


publish(__name__)
