"""Configuration: one frozen model with sensible defaults.

``None`` means "let botocore's own resolution decide" (region, credentials, profile), the way
botocore does for boto3 users: environment variables, shared config files, instance metadata.
"""

from __future__ import annotations

import ipaddress
import math
import os
import random
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from ._backoff import backoff_delay
from ._models.limits import JOB_BASE_NAME_MAX, JOB_NAME_PATTERN
from ._models.redact import RedactedErrors
from ._public import publish
from ._submitting.definition_cache import JobKind

__all__ = [
    "BatchConfig",
    "EndpointUrl",
    "EventsConfig",
    "PollPolicy",
    "SubmitRetry",
    "check_endpoint_url",
]

#: A DNS host name as botocore accepts it (``botocore.utils.is_valid_endpoint_url``).
_HOST_NAME = re.compile(r"^((?!-)[A-Z\d-]{1,63}(?<!-)\.)*((?!-)[A-Z\d-]{1,63}(?<!-))$", re.I)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: A region name as botocore accepts it (``botocore.utils.validate_region_name``).
#: ``\Z``, not botocore's ``$``: a trailing newline is no region either.
_REGION = re.compile(r"^(?![0-9]+\Z)(?!-)[a-zA-Z0-9-]{1,63}(?<!-)\Z")


def check_endpoint_url(url: str) -> str:
    """Check an endpoint URL: ``http(s)://`` with a host botocore accepts and a valid port.

    Args:
        url: The URL.

    Returns:
        The URL, unchanged.

    Raises:
        ValueError: No ``http``/``https`` scheme, no host or an invalid one, a port outside
            1..65535, or whitespace or control characters. The message never shows the URL
            (it may carry credentials).
    """
    if _CONTROL.search(url) or " " in url:
        raise ValueError("an endpoint URL must not hold spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(
            f"an endpoint URL needs the scheme http:// or https://, not {parts.scheme!r}"
        )
    host = parts.hostname
    if not host:
        raise ValueError("the endpoint URL has no host")
    if parts.netloc.rpartition("@")[2].startswith("["):
        try:
            ipaddress.IPv6Address(host.partition("%")[0])
        except ValueError:
            raise ValueError(f"the endpoint URL's IPv6 host {host!r} is invalid") from None
    elif len(host) > 255 or not _HOST_NAME.match(host.removesuffix(".")):
        raise ValueError(f"the endpoint URL's host {host!r} is invalid")
    try:
        port = parts.port
    except ValueError:  # not a number, or beyond 65535
        port = 0
    if port == 0:
        raise ValueError("the endpoint URL's port must be a number 1..65535")
    return url


#: An endpoint URL, checked by :func:`check_endpoint_url`.
EndpointUrl = Annotated[str, AfterValidator(check_endpoint_url)]


def _check_region(value: str | None) -> str | None:
    if value is not None and not _REGION.match(value):
        raise ValueError(
            "a region is letters, digits and '-' (at most 63, not all digits, no '-' at "
            "either end), e.g. 'us-east-1'"
        )
    return value


def _no_control_characters(value: Any) -> Any:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if isinstance(text, str) and _CONTROL.search(text):
        raise ValueError("must not hold control characters (CR, LF, NUL...)")
    return value


def _inf_is_none(value: Any) -> Any:
    if isinstance(value, float) and math.isinf(value) and value > 0:
        return None
    return value


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
        max_concurrent_calls: The most DescribeJobs calls of the service in flight at once,
            whoever sends them (the poller's sweeps, ``describe_jobs``, submit lookups,
            ``explain``...), so that 10,000 waits do not send 100 calls at once over the pool
            that submits and logs share.
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

    queue_url: EndpointUrl
    endpoint_url: EndpointUrl | None = None
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
            ``math.inf`` means ``None``.
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
    outage_after: Annotated[float | None, BeforeValidator(_inf_is_none)] = Field(
        default=35.0, gt=0, le=86_400
    )

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


class BatchConfig(RedactedErrors):
    """Settings of a :class:`~aws_batch_async.BatchService`. Frozen; invalid values raise at once.

    Its validation errors carry no input, not even in ``.errors()`` or ``.json()`` (the
    credentials are secrets).

    Attributes:
        region: AWS region; ``None`` lets botocore resolve it (``AWS_REGION``, profile...).
            Checked as botocore checks it when it creates a client (a host label).
        job_queue: Default job queue (name or ARN) for submits and listings.
        job_definition: Default job definition (``name``, ``name:revision`` or ARN).
        job_definition_kind: The :class:`JobKind` of every job definition used; given, it
            skips the lookup of each definition (DescribeJobDefinitions) before submitting.
        job_base_name: Prefix of generated job names (``<base>-<unique suffix>``).
        retry_attempts: The *job* retry strategy (1..10) sent with every submit unless the
            request sets its own; ``None`` sends none, so the job definition's applies.
        endpoint_url: Custom Batch endpoint (LocalBatch, moto, a VPC endpoint): ``http(s)://``,
            a host and, if given, a port 1..65535.
        logs_endpoint_url: Custom CloudWatch Logs endpoint; defaults to ``endpoint_url``.
        profile: Named profile of the shared AWS config files.
        access_key_id: Explicit credentials (else botocore's chain is used). Credentials
            must not hold control characters.
        secret_access_key: Explicit secret key; never shown in reprs or logs.
        session_token: Explicit session token; never shown in reprs or logs.
        max_pool_connections: Size of the client's HTTP connection pool.
        api_max_attempts: botocore's attempts per API call, first try included (retries of
            throttling, 5xx and network errors). SubmitJob is the exception: botocore never
            re-sends it; the submit path retries it safely (see ``SubmitRetry``).
        retry_mode: botocore's retry mode, ``"standard"`` or ``"adaptive"``.
        connect_timeout: Seconds to establish a connection.
        read_timeout: Seconds to wait for a response.
        call_timeout: Seconds one API call may take end to end, botocore's retries
            included; past it the call raises ``CallTimeoutError``. It also ends an answer
            that trickles in (``read_timeout`` bounds each socket read, not the answer), and
            a SubmitJob that timed out is looked up, never re-sent blind. ``None`` or
            ``math.inf``: no limit.
        poll: How ``wait_for``/``watch``/``as_completed`` poll.
        events: Feed waits from EventBridge events through SQS (``None``: poll only).
        fast_path: Send the hot Batch calls (SubmitJob, DescribeJobs, ListJobs...) through the
            library's lean path, which rebuilds botocore's own request (verified against it)
            and falls back to botocore whenever a setting needs it (``docs/performance.md``);
            ``False`` sends every call through botocore.
        stuck_after: The default ``stuck_after`` of every wait: seconds a job may stay
            SUBMITTED, PENDING or RUNNABLE before the wait raises ``JobStuckError``
            (``None`` or ``math.inf``: never).
        submit_rate_limit: SubmitJob calls per second for this service (``None``: unlimited).
        idempotent_submit: Tag each submission with a unique token so that a submit whose outcome
            is unknown is looked up instead of re-sent blindly (needs ``batch:TagResource``).
    """

    model_config = ConfigDict(
        defer_build=True, frozen=True, extra="forbid", hide_input_in_errors=True
    )

    region: Annotated[str | None, AfterValidator(_check_region)] = Field(default=None, min_length=1)
    job_queue: str | None = Field(default=None, min_length=1)
    job_definition: str | None = Field(default=None, min_length=1)
    job_definition_kind: JobKind | None = None
    job_base_name: str | None = Field(
        default=None, min_length=1, max_length=JOB_BASE_NAME_MAX, pattern=JOB_NAME_PATTERN
    )
    retry_attempts: int | None = Field(default=None, ge=1, le=10)

    endpoint_url: EndpointUrl | None = None
    logs_endpoint_url: EndpointUrl | None = None
    profile: str | None = Field(default=None, min_length=1)
    access_key_id: str | None = Field(default=None, min_length=1, repr=False)
    secret_access_key: SecretStr | None = Field(default=None, min_length=1)
    session_token: SecretStr | None = Field(default=None, min_length=1)

    max_pool_connections: int = Field(default=64, ge=1, le=1000)
    api_max_attempts: int = Field(default=3, ge=1, le=20)
    retry_mode: Literal["standard", "adaptive"] = "standard"
    connect_timeout: float = Field(default=10.0, gt=0, le=600)
    read_timeout: float = Field(default=60.0, gt=0, le=3600)
    call_timeout: float | None = Field(default=60.0, gt=0)

    poll: PollPolicy = Field(default_factory=PollPolicy)
    events: EventsConfig | None = None
    stuck_after: Annotated[float | None, BeforeValidator(_inf_is_none)] = Field(
        default=None, gt=0, le=30 * 86_400
    )
    fast_path: bool = True
    submit_rate_limit: float | None = Field(default=50.0, gt=0, le=10_000)
    idempotent_submit: bool = True

    _credentials = field_validator("access_key_id", "secret_access_key", "session_token")(
        classmethod(lambda cls, value: _no_control_characters(value))
    )

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


publish(__name__)
