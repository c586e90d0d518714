"""Requests and results: frozen pydantic v2 models.

Fields are snake_case with AWS's camelCase as aliases, so ``JobDetail.model_validate(aws_job)``
parses a DescribeJobs job as it comes, and unknown fields from newer AWS versions are ignored.
Requests are validated against AWS Batch's real limits before any network call, and only the
fields that are set are sent, so the job definition's defaults apply to the rest.

Environment variable values and parameter values are secrets as far as this library is
concerned: reprs show their names only, and validation errors never echo input values.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ._config import JOB_NAME_PATTERN
from ._errors import ConfigurationError

if TYPE_CHECKING:
    from ._config import BatchConfig

__all__ = [
    "ArrayProperties",
    "AttemptDetail",
    "EvaluateOnExit",
    "JobDependency",
    "JobDetail",
    "JobRequest",
    "JobResponse",
    "JobStatus",
    "JobSummary",
    "LogEvent",
    "RESERVED_TAG_PREFIX",
]

#: Tags whose key starts with this prefix belong to aws-batch-async (idempotency tokens).
RESERVED_TAG_PREFIX = "aws-batch-async:"
#: DescribeJobs takes at most this many job ids per call.
DESCRIBE_JOBS_MAX_IDS = 100
_MASK = "***"


def describe_chunks(job_ids: Sequence[str]) -> list[list[str]]:
    """Split job ids into DescribeJobs-sized lists (at most 100 ids each)."""
    size = DESCRIBE_JOBS_MAX_IDS
    return [list(job_ids[i : i + size]) for i in range(0, len(job_ids), size)]


class JobStatus(str, Enum):
    """The status of an AWS Batch job. Members are in lifecycle order.

    It is a ``str`` enum, so ``job.status == "SUCCEEDED"`` holds.
    """

    SUBMITTED = "SUBMITTED"
    PENDING = "PENDING"
    RUNNABLE = "RUNNABLE"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        """True for SUCCEEDED and FAILED: the job will not change any more."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def has_started(self) -> bool:
        """True from STARTING on: CancelJob no longer affects the job."""
        return self in (JobStatus.STARTING, JobStatus.RUNNING) or self.is_terminal


def _from_epoch_millis(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    return value


#: A datetime that AWS sends as milliseconds since the epoch.
EpochMillis = Annotated[datetime, BeforeValidator(_from_epoch_millis)]


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        hide_input_in_errors=True,
    )


class _Response(_Model):
    model_config = ConfigDict(extra="ignore")


class _Request(_Model):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------------------------
# Requests


class JobDependency(_Request):
    """A job this job depends on.

    Attributes:
        job_id: The id of the job depended on.
        type: ``"N_TO_N"`` or ``"SEQUENTIAL"`` for array jobs; ``None`` for a plain dependency.
    """

    job_id: str = Field(min_length=1, max_length=256)
    type: Literal["N_TO_N", "SEQUENTIAL"] | None = None


class EvaluateOnExit(_Request):
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


class JobRequest(_Request):
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
        timeout_seconds: Attempt duration limit (>= 60 seconds).
        retry_attempts: Job attempts 1..10; overrides the config's ``retry_attempts``.
        evaluate_on_exit: Up to 5 :class:`EvaluateOnExit` rules of the retry strategy.
        tags: Up to 50 tags (keys 1-128 characters, values up to 256). Keys starting with
            ``aws:`` or ``aws-batch-async:`` are reserved.
        propagate_tags: Propagate the job's tags to its ECS task.
        vcpus: vCPUs (containerOverrides.resourceRequirements VCPU).
        memory_mib: Memory in MiB (resourceRequirements MEMORY).
        gpus: GPUs (resourceRequirements GPU).
        instance_type: Instance type (multi-node parallel jobs).
        scheduling_priority: Scheduling priority override, 0..9999.
        share_identifier: Fair-share identifier, up to 255 characters.
    """

    job_name: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=JOB_NAME_PATTERN
    )
    command: list[Annotated[str, Field(max_length=65_536)]] | None = Field(
        default=None, min_length=1
    )
    env_vars: dict[str, str] | None = None
    job_queue: str | None = Field(default=None, min_length=1)
    job_definition: str | None = Field(default=None, min_length=1)
    parameters: dict[str, str] | None = None
    array_size: int | None = Field(default=None, ge=2, le=10_000)
    depends_on: list[JobDependency] | None = Field(default=None, max_length=20)
    timeout_seconds: int | None = Field(default=None, ge=60)
    retry_attempts: int | None = Field(default=None, ge=1, le=10)
    evaluate_on_exit: list[EvaluateOnExit] | None = Field(default=None, min_length=1, max_length=5)
    tags: dict[str, str] | None = Field(default=None, min_length=1, max_length=50)
    propagate_tags: bool | None = None
    vcpus: float | None = Field(default=None, gt=0, le=10_000)
    memory_mib: int | None = Field(default=None, ge=4)
    gpus: int | None = Field(default=None, ge=0, le=1_000)
    instance_type: str | None = Field(default=None, min_length=1, max_length=128)
    scheduling_priority: int | None = Field(default=None, ge=0, le=9999)
    share_identifier: str | None = Field(default=None, min_length=1, max_length=255)

    @field_validator("depends_on", mode="before")
    @classmethod
    def _ids_to_dependencies(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [{"job_id": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("env_vars")
    @classmethod
    def _check_env_names(cls, value: dict[str, str] | None) -> dict[str, str] | None:
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
            if not 1 <= len(key) <= 128:
                raise ValueError(f"tag key {key[:20]!r}... must be 1-128 characters")
            if len(tag_value) > 256:
                raise ValueError(f"the value of tag {key!r} exceeds 256 characters")
            if key.lower().startswith("aws:"):
                raise ValueError(f"tag key {key!r} uses the prefix 'aws:', reserved by AWS")
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
        return self

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name in ("env_vars", "parameters") and isinstance(value, dict):
                yield name, dict.fromkeys(value, _MASK)
            else:
                yield name, value

    def to_api(self, config: BatchConfig) -> dict[str, Any]:
        """Build SubmitJob's parameters, with the config's defaults for what is unset.

        A missing ``job_name`` is generated here, uniquely per call.

        Args:
            config: The service's configuration (queue, definition, base name, retries).

        Returns:
            The keyword arguments for botocore's ``submit_job``.

        Raises:
            ConfigurationError: Neither the request nor the config names a queue or definition.
        """
        job_queue = self.job_queue or config.job_queue
        job_definition = self.job_definition or config.job_definition
        if job_queue is None:
            raise ConfigurationError(
                "no job queue: set BatchConfig.job_queue or JobRequest.job_queue"
            )
        if job_definition is None:
            raise ConfigurationError(
                "no job definition: set BatchConfig.job_definition or JobRequest.job_definition"
            )
        params: dict[str, Any] = {
            "jobName": self.job_name or generate_job_name(config.job_base_name),
            "jobQueue": job_queue,
            "jobDefinition": job_definition,
        }
        overrides: dict[str, Any] = {}
        if self.command is not None:
            overrides["command"] = list(self.command)
        if self.env_vars:
            overrides["environment"] = [{"name": k, "value": v} for k, v in self.env_vars.items()]
        resources = [
            {"type": kind, "value": _number(value)}
            for kind, value in (
                ("VCPU", self.vcpus),
                ("MEMORY", self.memory_mib),
                ("GPU", self.gpus),
            )
            if value is not None
        ]
        if resources:
            overrides["resourceRequirements"] = resources
        if self.instance_type is not None:
            overrides["instanceType"] = self.instance_type
        if overrides:
            params["containerOverrides"] = overrides
        if self.parameters:
            params["parameters"] = dict(self.parameters)
        if self.array_size is not None:
            params["arrayProperties"] = {"size": self.array_size}
        if self.depends_on:
            params["dependsOn"] = [
                dep.model_dump(by_alias=True, exclude_none=True) for dep in self.depends_on
            ]
        if self.timeout_seconds is not None:
            params["timeout"] = {"attemptDurationSeconds": self.timeout_seconds}
        attempts = self.retry_attempts if self.retry_attempts is not None else config.retry_attempts
        retry: dict[str, Any] = {}
        if attempts is not None:
            retry["attempts"] = attempts
        if self.evaluate_on_exit:
            retry["evaluateOnExit"] = [
                rule.model_dump(by_alias=True, exclude_none=True) for rule in self.evaluate_on_exit
            ]
        if retry:
            params["retryStrategy"] = retry
        if self.tags:
            params["tags"] = dict(self.tags)
        if self.propagate_tags is not None:
            params["propagateTags"] = self.propagate_tags
        if self.scheduling_priority is not None:
            params["schedulingPriorityOverride"] = self.scheduling_priority
        if self.share_identifier is not None:
            params["shareIdentifier"] = self.share_identifier
        return params


def generate_job_name(base: str | None) -> str:
    """Return ``<base or "job">-<12 hex characters>``: valid for AWS and unique per call."""
    return f"{base or 'job'}-{uuid.uuid4().hex[:12]}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# ---------------------------------------------------------------------------------------------
# Results


class JobResponse(_Response):
    """What SubmitJob returns.

    Attributes:
        job_id: The new job's id.
        job_name: Its name.
        job_arn: Its ARN.
    """

    job_id: str
    job_name: str
    job_arn: str | None = None


class ArrayProperties(_Response):
    """Array-job properties: ``size`` and ``status_summary`` on a parent, ``index`` on a child.

    Attributes:
        size: Number of children (parents only).
        index: This child's index (children only).
        status_summary: Children counted by status (parents only), e.g. ``{"SUCCEEDED": 3}``.
    """

    size: int | None = None
    index: int | None = None
    status_summary: dict[str, int] = Field(default_factory=dict)


class AttemptDetail(_Response):
    """One attempt of a job.

    Attributes:
        started_at: When the attempt started.
        stopped_at: When it stopped.
        status_reason: Why it stopped.
        exit_code: The container's exit code.
        reason: The container's reason (e.g. ``OutOfMemoryError: ...``).
        log_stream_name: The CloudWatch Logs stream of this attempt.
    """

    started_at: EpochMillis | None = None
    stopped_at: EpochMillis | None = None
    status_reason: str | None = None
    exit_code: int | None = None
    reason: str | None = None
    log_stream_name: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift_container(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("container"), dict):
            container = data["container"]
            data = {**data}
            for key in ("exitCode", "reason", "logStreamName"):
                if key in container and key not in data:
                    data[key] = container[key]
        return data


def _dependencies(value: Any) -> Any:
    return value if value is not None else []


class JobDetail(_Response):
    """A job as DescribeJobs describes it.

    ``exit_code``, ``reason`` and ``log_stream_name`` are lifted from the container (or the
    last attempt). Parameter values are masked in the repr, and tags that aws-batch-async uses
    internally (``aws-batch-async:`` prefix) are left out of ``tags``.

    Attributes:
        job_id: The job's id (``<parent>:<index>`` for array children).
        job_name: The job's name.
        job_arn: The job's ARN.
        job_queue: The queue's ARN.
        job_definition: The job definition's ARN.
        status: The current :class:`JobStatus`.
        status_reason: Why the job is in this status (e.g. why it failed).
        created_at: When it was submitted.
        started_at: When it started running.
        stopped_at: When it stopped.
        exit_code: The container's exit code, once known.
        reason: The container's reason, once known.
        log_stream_name: The CloudWatch Logs stream of the latest attempt.
        attempts: Every attempt, oldest first.
        array_properties: Array properties, for array parents and children.
        depends_on: The jobs this one depends on.
        parameters: Job parameters (values masked in the repr).
        tags: The user's tags.
        share_identifier: The fair-share identifier.
        scheduling_priority: The scheduling priority.
        is_cancelled: AWS says the job was cancelled.
        is_terminated: AWS says the job was terminated.
    """

    job_id: str
    job_name: str
    job_arn: str | None = None
    job_queue: str | None = None
    job_definition: str | None = None
    status: JobStatus
    status_reason: str | None = None
    created_at: EpochMillis | None = None
    started_at: EpochMillis | None = None
    stopped_at: EpochMillis | None = None
    exit_code: int | None = None
    reason: str | None = None
    log_stream_name: str | None = None
    attempts: list[AttemptDetail] = Field(default_factory=list)
    array_properties: ArrayProperties | None = None
    depends_on: Annotated[list[JobDependency], BeforeValidator(_dependencies)] = Field(
        default_factory=list
    )
    parameters: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    share_identifier: str | None = None
    scheduling_priority: int | None = None
    is_cancelled: bool | None = None
    is_terminated: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {**data}
        container = data.get("container") if isinstance(data.get("container"), dict) else {}
        attempts = data.get("attempts") if isinstance(data.get("attempts"), list) else []
        last = (
            attempts[-1].get("container", {}) if attempts and isinstance(attempts[-1], dict) else {}
        )
        for key in ("exitCode", "reason", "logStreamName"):
            if key in data:
                continue
            for source in (container, last):
                if isinstance(source, dict) and source.get(key) is not None:
                    data[key] = source[key]
                    break
        if isinstance(data.get("tags"), dict):
            data["tags"] = {
                k: v for k, v in data["tags"].items() if not k.startswith(RESERVED_TAG_PREFIX)
            }
        if isinstance(data.get("dependsOn"), list):
            data["dependsOn"] = [
                {"jobId": d.get("jobId"), "type": d.get("type")} for d in data["dependsOn"]
            ]
        return data

    @property
    def is_terminal(self) -> bool:
        """True once the job is SUCCEEDED or FAILED."""
        return self.status.is_terminal

    @property
    def is_array_parent(self) -> bool:
        """True for the parent of an array job (its children hold the work and the logs)."""
        return self.array_properties is not None and self.array_properties.size is not None

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name == "parameters" and isinstance(value, dict):
                yield name, dict.fromkeys(value, _MASK)
            else:
                yield name, value


class JobSummary(_Response):
    """A job as ListJobs summarises it.

    Attributes:
        job_id: The job's id.
        job_name: The job's name.
        job_arn: The job's ARN.
        job_definition: The job definition's ARN.
        status: The job's :class:`JobStatus`.
        status_reason: Why the job is in this status.
        created_at: When it was submitted.
        started_at: When it started.
        stopped_at: When it stopped.
        exit_code: The container's exit code, once known.
        array_properties: ``size`` for parents, ``index`` for children.
        share_identifier: The fair-share identifier.
    """

    job_id: str
    job_name: str
    job_arn: str | None = None
    job_definition: str | None = None
    status: JobStatus
    status_reason: str | None = None
    created_at: EpochMillis | None = None
    started_at: EpochMillis | None = None
    stopped_at: EpochMillis | None = None
    exit_code: int | None = None
    array_properties: ArrayProperties | None = None
    share_identifier: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift(cls, data: Any) -> Any:
        container = data.get("container") if isinstance(data, dict) else None
        if isinstance(container, dict) and container.get("exitCode") is not None:
            data = {"exitCode": container["exitCode"], **data}
        return data

    @property
    def is_terminal(self) -> bool:
        """True once the job is SUCCEEDED or FAILED."""
        return self.status.is_terminal


class LogEvent(_Response):
    """One line of a job's CloudWatch log.

    Attributes:
        timestamp: When the line was written.
        message: The line, without its trailing newline.
        attempt: The attempt (0-based) the line belongs to.
        log_stream_name: The CloudWatch Logs stream it came from.
    """

    timestamp: EpochMillis
    message: str
    attempt: int = 0
    log_stream_name: str
