"""SageMaker service jobs: the models of what is sent (:class:`ServiceJobRequest`) and what
AWS returns (:class:`ServiceJobDetail`, :class:`ServiceJobSummary`).

Statuses and job types are plain strings: AWS adds values (``SCHEDULED`` came with service
jobs), and a value unknown today must never raise. The calls are in ``_service_jobs/client.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from .._errors import ConfigurationError
from .._models.base import EpochMillis, Model, Response
from .._models.jobs import TERMINAL_STATUSES
from .._models.limits import JOB_NAME_MAX, JOB_NAME_PATTERN, TAG_KEY_MAX, TAG_VALUE_MAX, TAGS_MAX
from .._public import publish

__all__ = [
    "SERVICE_JOB_STATUSES",
    "SERVICE_REQUEST_PAYLOAD_MAX",
    "ServiceJobAttempt",
    "ServiceJobDetail",
    "ServiceJobRequest",
    "ServiceJobRetryStrategy",
    "ServiceJobSummary",
    "ServiceResourceId",
]

#: Every service-job status botocore 1.43's model knows, in lifecycle order.
SERVICE_JOB_STATUSES = (
    "SUBMITTED",
    "PENDING",
    "RUNNABLE",
    "SCHEDULED",
    "STARTING",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
)
#: "Maximum job service request payload size (for SubmitServiceJob API operations): 10 KiB".
SERVICE_REQUEST_PAYLOAD_MAX = 10 * 1024


class ServiceJobRetryStrategy(Response):
    """A service job's retry strategy.

    Attributes:
        attempts: Attempts, 1..10.
        evaluate_on_exit: Rules, each ``{"action": "RETRY" | "EXIT", "onStatusReason": glob}``.
    """

    attempts: int = Field(ge=1, le=10)
    evaluate_on_exit: list[dict[str, str]] = Field(default_factory=list)


class ServiceJobRequest(Model):
    """A SubmitServiceJob request. Unset fields are omitted from the call.

    Attributes:
        job_name: The job's name (1-128 letters, digits, ``-``, ``_``; first alphanumeric).
        service_request_payload: SageMaker's ``CreateTrainingJob`` request, as a JSON string
            or a mapping (serialised for you); at most 10 KiB. Never logged or shown in reprs.
        job_queue: The queue (of a SageMaker service environment); the config's ``job_queue``
            if omitted.
        service_job_type: ``"SAGEMAKER_TRAINING"`` (the one type AWS has today).
        scheduling_priority: 0..9999; higher runs first in a fair-share queue.
        share_identifier: The fair-share identifier.
        quota_share_name: The quota share to charge.
        retry_strategy: Attempts and exit rules.
        timeout_seconds: ``timeoutConfig.attemptDurationSeconds``.
        preemption_retries: ``preemptionConfiguration.preemptionRetriesBeforeTermination``.
        tags: Up to 50 tags.
        client_token: AWS's idempotency token (1-64 characters); a uuid4 if omitted. Reuse one
            only to resubmit the very same request.
    """

    model_config = ConfigDict(extra="forbid")

    job_name: str = Field(min_length=1, max_length=JOB_NAME_MAX, pattern=JOB_NAME_PATTERN)
    service_request_payload: str = Field(min_length=1, repr=False)
    job_queue: str | None = Field(default=None, min_length=1)
    service_job_type: str = Field(default="SAGEMAKER_TRAINING", min_length=1)
    scheduling_priority: int | None = Field(default=None, ge=0, le=9999)
    share_identifier: str | None = Field(default=None, min_length=1, max_length=255)
    quota_share_name: str | None = Field(default=None, min_length=1)
    retry_strategy: ServiceJobRetryStrategy | None = None
    timeout_seconds: int | None = Field(default=None, ge=1)
    preemption_retries: int | None = Field(default=None, ge=0)
    tags: dict[str, str] = Field(default_factory=dict, max_length=TAGS_MAX)
    client_token: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("service_request_payload", mode="before")
    @classmethod
    def _payload_json(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            value = json.dumps(value, separators=(",", ":"))
        if isinstance(value, str) and len(value.encode()) > SERVICE_REQUEST_PAYLOAD_MAX:
            raise ValueError("service_request_payload is over AWS's 10 KiB limit")
        return value

    @field_validator("tags")
    @classmethod
    def _check_tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, tag in value.items():
            if not 1 <= len(key) <= TAG_KEY_MAX or len(tag) > TAG_VALUE_MAX:
                raise ValueError(f"tag keys are 1-{TAG_KEY_MAX} characters, values <= 256")
        return value

    def to_params(self, default_queue: str | None) -> dict[str, Any]:
        """The SubmitServiceJob parameters (without ``clientToken``).

        Args:
            default_queue: The queue when the request names none.

        Returns:
            botocore's keyword arguments.

        Raises:
            ConfigurationError: No queue given or configured.
        """
        queue = self.job_queue or default_queue
        if queue is None:
            raise ConfigurationError("no job queue: set ServiceJobRequest.job_queue or job_queue")
        params: dict[str, Any] = {
            "jobName": self.job_name,
            "jobQueue": queue,
            "serviceJobType": self.service_job_type,
            "serviceRequestPayload": self.service_request_payload,
        }
        if self.scheduling_priority is not None:
            params["schedulingPriority"] = self.scheduling_priority
        if self.share_identifier is not None:
            params["shareIdentifier"] = self.share_identifier
        if self.quota_share_name is not None:
            params["quotaShareName"] = self.quota_share_name
        if self.retry_strategy is not None:
            params["retryStrategy"] = self.retry_strategy.model_dump(
                by_alias=True, exclude_defaults=True
            ) | {"attempts": self.retry_strategy.attempts}
        if self.timeout_seconds is not None:
            params["timeoutConfig"] = {"attemptDurationSeconds": self.timeout_seconds}
        if self.preemption_retries is not None:
            params["preemptionConfiguration"] = {
                "preemptionRetriesBeforeTermination": self.preemption_retries
            }
        if self.tags:
            params["tags"] = dict(self.tags)
        return params


class ServiceResourceId(Response):
    """The SageMaker resource behind an attempt.

    Attributes:
        name: ``"TrainingJobArn"`` today.
        value: The training job's ARN.
    """

    name: str
    value: str


class ServiceJobAttempt(Response):
    """One attempt of a service job.

    Attributes:
        service_resource_id: The SageMaker training job of the attempt.
        started_at: When it started.
        stopped_at: When it stopped.
        status_reason: Why it ended.
    """

    service_resource_id: ServiceResourceId | None = None
    started_at: EpochMillis | None = None
    stopped_at: EpochMillis | None = None
    status_reason: str | None = None


class _ServiceJobCommon(Response):
    job_id: str
    job_name: str
    job_arn: str | None = None
    service_job_type: str | None = None
    status: str | None = None
    status_reason: str | None = None
    created_at: EpochMillis | None = None
    scheduled_at: EpochMillis | None = None
    started_at: EpochMillis | None = None
    stopped_at: EpochMillis | None = None
    share_identifier: str | None = None
    quota_share_name: str | None = None
    is_terminated: bool | None = None
    latest_attempt: ServiceJobAttempt | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the job is SUCCEEDED or FAILED."""
        return self.status in TERMINAL_STATUSES  # JobStatus.is_terminal's: jobs end alike

    @property
    def training_job_arn(self) -> str | None:
        """The SageMaker training job of the latest attempt, if any."""
        latest = self.latest_attempt
        resource = latest.service_resource_id if latest is not None else None
        return resource.value if resource is not None else None


class ServiceJobSummary(_ServiceJobCommon):
    """A service job as ListServiceJobs returns it.

    Attributes:
        job_id: The job's id.
        job_name: Its name.
        job_arn: Its ARN.
        service_job_type: ``"SAGEMAKER_TRAINING"``.
        status: One of :data:`SERVICE_JOB_STATUSES` (or a value AWS added since: kept as is).
        status_reason: Why it is in that status.
        created_at: When it was submitted.
        scheduled_at: When it was scheduled onto SageMaker.
        started_at: When it started.
        stopped_at: When it stopped.
        share_identifier: Its fair-share identifier.
        quota_share_name: Its quota share.
        is_terminated: Whether it was terminated.
        latest_attempt: The latest attempt's SageMaker resource.
    """


class ServiceJobDetail(_ServiceJobCommon):
    """A service job as DescribeServiceJob returns it.

    Attributes:
        job_id: The job's id.
        job_name: Its name.
        job_arn: Its ARN.
        job_queue: Its queue's ARN.
        service_job_type: ``"SAGEMAKER_TRAINING"``.
        status: One of :data:`SERVICE_JOB_STATUSES` (or a value AWS added since: kept as is).
        status_reason: Why it is in that status.
        created_at: When it was submitted.
        scheduled_at: When it was scheduled onto SageMaker.
        started_at: When it started.
        stopped_at: When it stopped.
        scheduling_priority: Its scheduling priority.
        share_identifier: Its fair-share identifier.
        quota_share_name: Its quota share.
        service_request_payload: The payload it was submitted with (not shown in reprs).
        attempts: Its attempts, oldest first.
        latest_attempt: The latest attempt's SageMaker resource.
        retry_strategy: Its retry strategy.
        timeout_seconds: ``timeoutConfig.attemptDurationSeconds``.
        tags: Its tags.
        is_terminated: Whether it was terminated.
    """

    job_queue: str | None = None
    scheduling_priority: int | None = None
    service_request_payload: str | None = Field(default=None, repr=False)
    attempts: list[ServiceJobAttempt] = Field(default_factory=list)
    retry_strategy: ServiceJobRetryStrategy | None = None
    timeout_seconds: int | None = Field(default=None, validation_alias="timeoutConfig", repr=False)
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("timeout_seconds", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> Any:
        return value.get("attemptDurationSeconds") if isinstance(value, Mapping) else value

    @property
    def exit_code(self) -> None:
        """Service jobs have no exit code (for :class:`JobFailedError`'s message)."""
        return None


publish(__name__)
