"""Configuration: one frozen model with sensible defaults.

``None`` means "let botocore's own resolution decide" (region, credentials, profile), the way
botocore does for boto3 users: environment variables, shared config files, instance metadata.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ._backoff import backoff_delay
from ._definitions import JobKind
from ._limits import JOB_BASE_NAME_MAX, JOB_NAME_PATTERN

__all__ = ["BatchConfig", "EventsConfig", "PollPolicy", "SubmitRetry"]


class PollPolicy(BaseModel):
    """How waiting polls DescribeJobs.

    Each waited-for job is polled with exponential backoff and full jitter between
    ``initial_interval`` and ``max_interval``; the backoff resets when the job's status changes.
    All polls of one service are coalesced into DescribeJobs calls of up to 100 ids.

    Attributes:
        first_poll_window: Seconds a new wait's first DescribeJobs waits for other new waits
            to share its call (a coalescing window): a job that already finished is answered
            in one round trip plus this.
        initial_interval: Seconds between a job's first polls, and the backoff floor.
        max_interval: The backoff ceiling in seconds.
        multiplier: Growth factor of the interval after each poll that sees no change.
        not_found_grace: Seconds a job this service submitted (or one already seen) may be
            absent from DescribeJobs (AWS is eventually consistent right after SubmitJob)
            before the wait raises ``JobNotFoundError``. Another id DescribeJobs does not know
            raises at the first answer, unless ``not_found_grace_all_ids``.
        not_found_grace_all_ids: Give every id the grace (jobs submitted by another process
            an instant before the wait).
        max_concurrent_calls: The most DescribeJobs calls of the service in flight at once
            (the poller's sweeps and ``describe_jobs`` alike), so that 10,000 waits do not
            send 100 calls at once over the pool that submits and logs share.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    first_poll_window: float = Field(default=0.02, ge=0, le=60)
    initial_interval: float = Field(default=1.0, gt=0, le=3600)
    max_interval: float = Field(default=30.0, gt=0, le=3600)
    multiplier: float = Field(default=2.0, ge=1.0, le=10.0)
    not_found_grace: float = Field(default=30.0, ge=0, le=3600)
    not_found_grace_all_ids: bool = False
    max_concurrent_calls: int = Field(default=8, ge=1, le=1000)

    @model_validator(mode="after")
    def _check_order(self) -> PollPolicy:
        if self.max_interval < self.initial_interval:
            raise ValueError("max_interval must be >= initial_interval")
        return self


class EventsConfig(BaseModel):
    """Where a service reads AWS Batch's job state-change events (EventBridge -> SQS).

    With events, waits are fed by the events and DescribeJobs only reconciles (see
    ``docs/events.md``); :meth:`~aws_batch_async.BatchService.ensure_event_queue` sets the
    queue, its policy and the EventBridge rule up.

    Attributes:
        queue_url: The SQS queue's URL. It need not exist when the service opens.
        endpoint_url: The SQS endpoint; ``None`` lets botocore resolve it
            (``AWS_ENDPOINT_URL_SQS`` and friends work). EventBridge calls (setup only) always
            use botocore's resolution (``AWS_ENDPOINT_URL_EVENTBRIDGE``).
        reconcile_interval: Seconds between the DescribeJobs sweeps of the waited jobs that
            catch lost events (one sweep also runs when a wait starts).
        delete_unwaited: Delete the events of jobs nobody waits on (``True``), or leave them for
            their visibility timeout so another consumer of the queue may take them.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    queue_url: str = Field(min_length=1, pattern=r"^https?://")
    endpoint_url: str | None = Field(default=None, pattern=r"^https?://")
    reconcile_interval: float = Field(default=300.0, gt=0, le=86_400)
    delete_unwaited: bool = True


class SubmitRetry(BaseModel):
    """How a submit retries: the budget of one submission, bounded by count and by time.

    A throttled send (HTTP 429) is re-sent after a jittered backoff, and the service's rate
    limiter slows down. A send with an unknown outcome is looked up first (see
    :meth:`~aws_batch_async.BatchService.submit_job`) and re-sent only if the job was not
    created. With 25% of sends failing, 10 attempts lose about one submission in a million.

    Attributes:
        max_attempts: Sends of one submission that may fail other than by throttling.
        max_throttled: Sends of one submission that may be throttled.
        timeout: Seconds from the first send after which no further send or lookup starts.
        initial_backoff: Backoff ceiling in seconds before the first re-send; it doubles per
            failure (full jitter: the actual wait is uniform between 0 and the ceiling).
        max_backoff: The largest backoff ceiling, in seconds.
        lookup_delays: Seconds to wait before each lookup of a send whose outcome is unknown.
            Their sum is how long a just-created job may stay invisible to ListJobs without
            being submitted twice.
        outage_after: Seconds during which every SubmitJob send of the service (across all
            its submissions) failed with a server or connection error, with no answer of any
            kind in between, after which SubmitJob is taken to be down: a submission whose
            send then fails is looked up as usual and, if no job was created, fails at once
            instead of spending the rest of its budget. ``None`` turns this off. The default
            makes a submit during a total outage fail within about 40 seconds (5 sends).
    """

    model_config = ConfigDict(
        defer_build=True, frozen=True, extra="forbid", hide_input_in_errors=True
    )

    max_attempts: int = Field(default=10, ge=1, le=100)
    max_throttled: int = Field(default=50, ge=0, le=1000)
    timeout: float = Field(default=300.0, gt=0, le=86_400)
    initial_backoff: float = Field(default=0.2, ge=0, le=600)
    max_backoff: float = Field(default=20.0, ge=0, le=3600)
    lookup_delays: tuple[float, ...] = Field(
        default=(0.5, 1.0, 2.0, 4.0), min_length=1, max_length=20
    )
    outage_after: float | None = Field(default=35.0, gt=0, le=86_400)

    @field_validator("lookup_delays")
    @classmethod
    def _check_delays(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 <= delay <= 600 for delay in value):
            raise ValueError("each lookup delay must be between 0 and 600 seconds")
        return value

    @model_validator(mode="after")
    def _check_backoff(self) -> SubmitRetry:
        if self.max_backoff < self.initial_backoff:
            raise ValueError("max_backoff must be >= initial_backoff")
        return self

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff before the re-send that follows ``failures`` failures.

        Args:
            failures: Failed sends so far (1 for the first re-send).
            rng: The random source.

        Returns:
            Seconds to wait.
        """
        return backoff_delay(
            failures - 1, initial=self.initial_backoff, maximum=self.max_backoff, rand=rng.random()
        )


class BatchConfig(BaseModel):
    """Settings of a :class:`~aws_batch_async.BatchService`. Frozen; invalid values raise at once.

    Attributes:
        region: AWS region; ``None`` lets botocore resolve it (``AWS_REGION``, profile...).
        job_queue: Default job queue (name or ARN) for submits and listings.
        job_definition: Default job definition (``name``, ``name:revision`` or ARN).
        job_definition_kind: The :class:`JobKind` of every job definition used; given, it
            skips the lookup of each definition (DescribeJobDefinitions) before submitting.
        job_base_name: Prefix of generated job names (``<base>-<unique suffix>``).
        retry_attempts: The *job* retry strategy (1..10) sent with every submit unless the
            request sets its own; ``None`` sends none, so the job definition's applies.
        endpoint_url: Custom Batch endpoint (LocalBatch, moto, a VPC endpoint).
        logs_endpoint_url: Custom CloudWatch Logs endpoint; defaults to ``endpoint_url``.
        profile: Named profile of the shared AWS config files.
        access_key_id: Explicit credentials (else botocore's chain is used).
        secret_access_key: Explicit secret key; never shown in reprs or logs.
        session_token: Explicit session token; never shown in reprs or logs.
        max_pool_connections: Size of the client's HTTP connection pool.
        api_max_attempts: botocore's attempts per API call, first try included (retries of
            throttling, 5xx and network errors). SubmitJob is the exception: botocore never
            re-sends it; the submit path retries it safely (see ``SubmitRetry``).
        retry_mode: botocore's retry mode, ``"standard"`` or ``"adaptive"``.
        connect_timeout: Seconds to establish a connection.
        read_timeout: Seconds to wait for a response.
        poll: How ``wait_for``/``watch``/``as_completed`` poll.
        events: Feed waits from EventBridge events through SQS (``None``: poll only).
        fast_path: Send the hot Batch calls (SubmitJob, DescribeJobs, ListJobs...) through the
            library's lean path, which rebuilds botocore's own request (verified against it)
            and falls back to botocore whenever a setting needs it (``docs/performance.md``);
            ``False`` sends every call through botocore.
        stuck_after: The default ``stuck_after`` of every wait: seconds a job may stay
            SUBMITTED, PENDING or RUNNABLE before the wait raises ``JobStuckError``
            (``None``: never).
        submit_rate_limit: SubmitJob calls per second for this service (``None``: unlimited).
        idempotent_submit: Tag each submission with a unique token so that a submit whose outcome
            is unknown is looked up instead of re-sent blindly (needs ``batch:TagResource``).
    """

    model_config = ConfigDict(
        defer_build=True, frozen=True, extra="forbid", hide_input_in_errors=True
    )

    region: str | None = Field(default=None, min_length=1)
    job_queue: str | None = Field(default=None, min_length=1)
    job_definition: str | None = Field(default=None, min_length=1)
    job_definition_kind: JobKind | None = None
    job_base_name: str | None = Field(
        default=None, min_length=1, max_length=JOB_BASE_NAME_MAX, pattern=JOB_NAME_PATTERN
    )
    retry_attempts: int | None = Field(default=None, ge=1, le=10)

    endpoint_url: str | None = Field(default=None, pattern=r"^https?://")
    logs_endpoint_url: str | None = Field(default=None, pattern=r"^https?://")
    profile: str | None = Field(default=None, min_length=1)
    access_key_id: str | None = Field(default=None, min_length=1, repr=False)
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None

    max_pool_connections: int = Field(default=64, ge=1, le=1000)
    api_max_attempts: int = Field(default=3, ge=1, le=20)
    retry_mode: Literal["standard", "adaptive"] = "standard"
    connect_timeout: float = Field(default=10.0, gt=0, le=600)
    read_timeout: float = Field(default=60.0, gt=0, le=3600)

    poll: PollPolicy = Field(default_factory=PollPolicy)
    events: EventsConfig | None = None
    stuck_after: float | None = Field(default=None, gt=0, le=30 * 86_400)
    fast_path: bool = True
    submit_rate_limit: float | None = Field(default=50.0, gt=0, le=10_000)
    idempotent_submit: bool = True

    @model_validator(mode="after")
    def _check_credentials(self) -> BatchConfig:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("access_key_id and secret_access_key must be given together")
        if self.session_token is not None and self.access_key_id is None:
            raise ValueError("session_token needs access_key_id and secret_access_key")
        if self.profile is not None and self.access_key_id is not None:
            raise ValueError("give either profile or explicit credentials, not both")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> BatchConfig:
        """Build a config from environment variables, then apply ``overrides``.

        Reads ``AWS_BATCH_JOB_QUEUE``, ``AWS_BATCH_JOB_DEFINITION``, ``AWS_BATCH_JOB_BASE_NAME``,
        ``AWS_BATCH_RETRY_ATTEMPTS``, ``AWS_BATCH_ENDPOINT_URL``, ``AWS_REGION`` (or
        ``AWS_DEFAULT_REGION``). Profile and credentials are left to botocore, which reads
        ``AWS_PROFILE`` and the rest of its chain itself.

        Args:
            environ: The mapping to read; ``os.environ`` by default.
            **overrides: Field values that win over the environment.

        Returns:
            The validated config.

        Raises:
            pydantic.ValidationError: A value is invalid.
        """
        env = os.environ if environ is None else environ
        names = {
            "job_queue": "AWS_BATCH_JOB_QUEUE",
            "job_definition": "AWS_BATCH_JOB_DEFINITION",
            "job_base_name": "AWS_BATCH_JOB_BASE_NAME",
            "retry_attempts": "AWS_BATCH_RETRY_ATTEMPTS",
            "endpoint_url": "AWS_BATCH_ENDPOINT_URL",
        }
        values: dict[str, Any] = {k: env[v] for k, v in names.items() if env.get(v)}
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if region:
            values["region"] = region
        values.update(overrides)
        return cls.model_validate(values)
