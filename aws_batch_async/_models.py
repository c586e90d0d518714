"""Requests and results: frozen pydantic v2 models.

Fields are snake_case with AWS's camelCase as aliases, so ``JobDetail.model_validate(aws_job)``
parses a DescribeJobs job as it comes, and unknown fields from newer AWS versions are ignored.
Models are data: requests live in ``_requests.py``, and SubmitJob's parameters are built by
the submit path (``_params.py``).

Parameter values are secrets as far as this library is concerned: reprs show their names
only, and validation errors never echo input values.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ._limits import RESERVED_TAG_PREFIX

__all__ = [
    "MASK",
    "ArrayProperties",
    "AttemptDetail",
    "EpochMillis",
    "JobDependency",
    "JobDetail",
    "JobResponse",
    "JobStatus",
    "JobSummary",
    "LogEvent",
]

#: What reprs show instead of a secret value.
MASK = "***"


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


class Request(_Model):
    model_config = ConfigDict(extra="forbid")


class JobDependency(Request):
    """A job this job depends on.

    Attributes:
        job_id: The id of the job depended on; may be omitted only for ``"SEQUENTIAL"``
            (each child of an array job waits for the previous one).
        type: ``"N_TO_N"`` or ``"SEQUENTIAL"`` for array jobs; ``None`` for a plain dependency.
    """

    job_id: str | None = Field(default=None, min_length=1, max_length=256)
    type: Literal["N_TO_N", "SEQUENTIAL"] | None = None

    @model_validator(mode="after")
    def _check_job_id(self) -> JobDependency:
        if self.job_id is None and self.type != "SEQUENTIAL":
            raise ValueError("job_id is required unless type is SEQUENTIAL")
        return self


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
                {"jobId": d.get("jobId"), "type": d.get("type")}
                for d in data["dependsOn"]
                if isinstance(d, dict) and (d.get("jobId") or d.get("type") == "SEQUENTIAL")
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
                yield name, dict.fromkeys(value, MASK)
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
