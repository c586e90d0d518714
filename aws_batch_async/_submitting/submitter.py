"""Exactly-once SubmitJob: idempotency tokens, lookups before re-sending, and fan-out.

AWS Batch's SubmitJob takes no client token, and botocore retries throttling, 5xx answers and
broken connections. A SubmitJob whose answer was lost after AWS created the job is then sent
again and creates a **second** job. This module makes a submit safe to retry:

1. **A token.** Each submission carries a tag ``aws-batch-async:submit-token=<uuid4 hex>``
   (``BatchConfig.idempotent_submit``, on by default). The tag key uses the reserved prefix, so
   it never clashes with a user's tag and :class:`~aws_batch_async.JobDetail` hides it. Tagging
   on submit needs the IAM permission ``batch:TagResource``, and the user keeps 49 of AWS's 50
   tags per job.
2. **No blind retries.** botocore is told never to retry SubmitJob on the service's one pooled
   client (:func:`disable_botocore_retries`); this module retries instead, knowing which
   failures are safe to re-send: a throttled call (HTTP 429) never reached Batch, a connection
   that was never made (refused, connect timeout) sent nothing, a 4xx is a final answer, and
   anything else (a 5xx, a dropped connection, a read timeout, a call past
   ``BatchConfig.call_timeout``, a 2xx answer that is not a SubmitJob result) leaves the
   outcome **unknown**.
3. **Look before re-sending.** An unknown outcome is resolved by looking the job up: ListJobs
   with a JOB_NAME filter on the exact name (jobs of every status, newest first), then
   DescribeJobs on the candidates created since the first send, matching the token tag. Two
   callers that reuse a job name each find their own job. AWS is eventually consistent, so a
   job created a moment ago may not be listed yet: the lookup is repeated after each of
   ``SubmitRetry.lookup_delays`` (0.5, 1, 2 and 4 seconds by default), and only when the last
   lookup answers cleanly without a match is the job re-sent, with the **same** token.

``docs/reliability.md`` explains the residual risk (a job listed only after the lookup window),
the outage rule, and submits without the token (``idempotent_submit=False``: the unknown outcome
of a caller-named job raises ``SubmitOutcomeUnknownError``: at most once, never twice).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from .._backoff import sleep_within
from .._config import BatchConfig, SubmitRetry
from .._errors import (
    BatchAPIError,
    BatchConnectionError,
    BatchError,
    ConfigurationError,
    MalformedResponseError,
    ServiceClosedError,
    SubmitOutcomeUnknownError,
    ThrottlingError,
)
from .._lifecycle.idempotency import KeyedJobs, apply_key, submit_keyed
from .._models.jobs import JobResponse
from .._models.limits import SUBMIT_TOKEN_TAG_KEY, TAGS_MAX, chunked
from .._models.requests import JobRequest
from .._ratelimit import AdaptiveRateLimiter, Slot
from .._telemetry.hooks import NOOP, Telemetry, traced_submit
from .._transport.answers import validate_answer
from .._transport.pagination import pages
from .._types import CallFn
from .definition_cache import DefinitionInfo
from .params import submit_params

__all__ = ["TOKEN_TAG_KEY", "OnSubmitted", "State", "Submission", "Submitter", "new_token"]

#: The tag that carries a submission's idempotency token (AWS's limits count it in).
TOKEN_TAG_KEY = SUBMIT_TOKEN_TAG_KEY
#: How far AWS's clock may be behind ours when filtering lookup candidates by creation time.
_CLOCK_SKEW_MS = 5 * 60 * 1000
#: A lookup reads at most this many ListJobs pages (100 jobs each) of one job name.
_LOOKUP_MAX_PAGES = 10
#: Sends of one submission that may find no connection (nothing sent) before it gives up:
#: with the default backoff, about 1.5 s of retries, not the whole budget.
_NOT_SENT_RETRIES = 3

OnSubmitted = Callable[[int, JobResponse], object]


class State(enum.Enum):
    """Where a submission stands."""

    NOT_SENT = "not sent"
    IN_FLIGHT = "in flight"  # a send or a lookup is under way: the job may exist
    NOT_CREATED = "not created"
    CREATED = "created"


class Submission:
    """One job on its way to AWS: its SubmitJob parameters, token and state.

    The parameters hold environment and parameter values, so the repr shows the job's name
    and state only (tools that print frame locals must not expose them).
    """

    __slots__ = ("first_sent_ms", "generated_name", "idempotency_key", "params", "state", "token")

    def __init__(self, params: dict[str, Any], token: str | None, generated_name: bool) -> None:
        self.params = params
        self.token = token
        self.generated_name = generated_name
        self.state = State.NOT_SENT
        self.first_sent_ms: int | None = None
        self.idempotency_key: str | None = None  # JobRequest.idempotency_key: _idempotency.py

    def __repr__(self) -> str:
        return f"<Submission {self.job_name!r} to {self.job_queue!r}: {self.state.value}>"

    @property
    def job_name(self) -> str:
        """The job's name."""
        return str(self.params["jobName"])

    @property
    def job_queue(self) -> str:
        """The job's queue."""
        return str(self.params["jobQueue"])


@dataclass
class _Tries:
    """The sends of one submission so far, counted by what became of them."""

    deadline: float | None = None
    #: Sends whose outcome was unknown and whose job the lookup did not find.
    failures: int = 0
    throttled: int = 0
    #: Sends that made no connection (nothing reached AWS).
    not_sent: int = 0
    #: The next send is a retry: it goes before first sends waiting for a slot.
    urgent: bool = False


class _LookupFailed(Exception):
    """A lookup could not give a clean answer (an API error, or too many jobs of the name)."""


@dataclass
class Submitter:
    """Submits jobs exactly once, paced by the service's rate limiter.

    Args:
        call: The service's Batch call (operation name and botocore parameters; raises our
            errors).
        config: The service's configuration.
        logger: Where to log.
        clock: Monotonic clock (injectable for tests).
        wall_clock: Epoch seconds, to compare with AWS's ``createdAt``.
        sleep: Async sleep (injectable for tests).
        rng: Random source of the backoff jitter.
        telemetry: The service's OpenTelemetry hooks (a span per submission).

    Attributes:
        limiter: The service's SubmitJob limiter, built from ``config.submit_rate_limit``.
    """

    call: CallFn
    config: BatchConfig
    logger: logging.Logger
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    telemetry: Telemetry = NOOP
    limiter: AdaptiveRateLimiter = field(init=False)
    keyed: KeyedJobs = field(init=False, default_factory=KeyedJobs)  # _idempotency.py
    #: Since when every SubmitJob send of the service failed with an unknown outcome (no
    #: answer of any kind in between); ``None`` while sends are answered.
    failing_since: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.limiter = AdaptiveRateLimiter(
            self.config.submit_rate_limit, clock=self.clock, sleep=self.sleep
        )
        self.telemetry.observe_limiter(self.limiter)

    def close(self) -> None:
        """Refuse further sends: submissions waiting for a slot raise ServiceClosedError."""
        self.limiter.close(lambda: ServiceClosedError("BatchService is closed"))

    # -----------------------------------------------------------------------------------------
    # Preparing (no network)

    def check(self, request: Any, where: str = "request") -> JobRequest:
        """The checks that need no knowledge of the job definition (no network).

        Raises:
            TypeError: ``request`` is not a JobRequest.
            ValueError: The request has more tags than the token leaves room for.
            ConfigurationError: No job queue or job definition is configured.
        """
        if not isinstance(request, JobRequest):
            raise TypeError(f"{where} must be a JobRequest, not {type(request).__name__}")
        own = int(self.config.idempotent_submit) + int(request.idempotency_key is not None)
        if own:
            user_tags = len(request.tags or {})
            if user_tags > TAGS_MAX - own:
                raise ValueError(
                    f"{where}.tags: {user_tags} tags, but at most {TAGS_MAX - own} are allowed: "
                    "BatchConfig.idempotent_submit's token and an idempotency_key each use one "
                    f"of AWS's {TAGS_MAX}; remove a tag or turn idempotent_submit off"
                )
        if not (request.job_queue or self.config.job_queue):
            raise ConfigurationError(
                f"{where}: no job queue: set BatchConfig.job_queue or JobRequest.job_queue"
            )
        if not (request.job_definition or self.config.job_definition):
            raise ConfigurationError(
                f"{where}: no job definition: set BatchConfig.job_definition or "
                "JobRequest.job_definition"
            )
        return request

    def prepare(
        self, request: Any, where: str = "request", info: DefinitionInfo | None = None
    ) -> Submission:
        """Validate ``request`` against the config and build its SubmitJob parameters.

        Args:
            request: Should be a :class:`JobRequest`.
            where: How error messages name the request (``"requests[3]"``).
            info: What the service learned of the job definition (kind, containers...).

        Returns:
            The submission, not yet sent.

        Raises:
            TypeError: ``request`` is not a JobRequest.
            ValueError: The request has more tags than the token leaves room for, or a field
                does not apply to (or breaks AWS's rules for) the job definition's kind.
            ConfigurationError: No job queue or job definition is configured.
        """
        self.check(request, where)
        token: str | None = None
        if self.config.idempotent_submit:
            token = new_token()
        try:
            params = submit_params(request, self.config, info)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{where}: {exc}") from exc
        except ValueError as exc:
            raise ValueError(f"{where}.{exc}") from None
        if token is not None:
            params["tags"] = {**params.get("tags", {}), TOKEN_TAG_KEY: token}
        sub = Submission(params, token, generated_name=request.job_name is None)
        if request.idempotency_key is not None:  # a name and a tag to find it by
            apply_key(sub, request.idempotency_key, request.job_name, self.config.job_base_name)
        return sub

    # -----------------------------------------------------------------------------------------
    # One submission

    @traced_submit
    async def submit(
        self,
        sub: Submission,
        retry: SubmitRetry,
        *,
        before_send: Callable[[], None] | None = None,
        warn_on_cancel: bool = True,
    ) -> JobResponse:
        """Send ``sub`` until AWS has created exactly one job for it.

        Args:
            sub: A prepared submission.
            retry: The retry budget.
            before_send: Called before every send; raising stops the submission unsent.
            warn_on_cancel: Log a warning when cancelled while the job may exist.

        Returns:
            The job AWS created.

        Raises:
            ThrottlingError: Still throttled when the budget ran out.
            BatchAPIError: AWS rejected the job (4xx), or kept failing (5xx) and lookups showed
                that no job was created.
            BatchConnectionError: The connection kept failing and no job was created, or
                none could be made 4 times (``sent`` is False: nothing was sent).
            SubmitOutcomeUnknownError: Whether the job was created could not be established.
            ServiceClosedError: The service was closed.
        """
        if sub.idempotency_key is not None:  # look for the key's job first: _idempotency.py
            return await submit_keyed(self, sub, retry, before_send, warn_on_cancel)
        try:
            return await self._send_until_created(sub, retry, before_send)
        except asyncio.CancelledError:
            if warn_on_cancel and sub.state is State.IN_FLIGHT:
                self.logger.warning(
                    "submit of job %s cancelled while its outcome was unknown: the job may "
                    "exist; look for it with list_jobs(job_name=%r)",
                    sub.job_name,
                    sub.job_name,
                )
            raise

    async def _send_until_created(
        self, sub: Submission, retry: SubmitRetry, before_send: Callable[[], None] | None
    ) -> JobResponse:
        """The loop of :meth:`submit`: send, and after an unknown outcome look, then resend."""
        tries = _Tries()
        while True:
            slot = await self.limiter.acquire(urgent=tries.urgent)
            if before_send is not None:
                before_send()
            now = self.clock()
            if tries.deadline is None:
                tries.deadline = now + retry.timeout
                sub.first_sent_ms = int(self.wall_clock() * 1000)
            sent = await self._send(sub, retry, tries, slot, tries.deadline)
            if isinstance(sent, JobResponse):
                return sent
            if sent is not None:  # the outcome is unknown: AWS may have created the job
                found = await self._after_unknown_outcome(sub, retry, tries, tries.deadline, sent)
                if found is not None:
                    return found

    async def _send(
        self, sub: Submission, retry: SubmitRetry, tries: _Tries, slot: Slot, deadline: float
    ) -> JobResponse | BatchError | None:
        """Send SubmitJob once.

        Returns:
            The job AWS created; ``None`` to send again (nothing was created, and the backoff
            was slept); or the error of a send whose outcome is unknown.

        Raises:
            BatchError: A final answer (a 4xx, the service closed), or a budget ran out.
        """
        before = sub.state
        sub.state = State.IN_FLIGHT
        try:
            raw = await self.call("SubmitJob", **sub.params)
            result = validate_answer(JobResponse, raw, "SubmitJob")
        except (ServiceClosedError, ConfigurationError):
            sub.state = before  # refused before anything was sent
            raise
        except BatchConnectionError as exc:
            if exc.sent is not False:
                return exc
            sub.state = before  # no connection was made: nothing reached AWS
            await self._retry_not_sent(sub, retry, tries, deadline, exc)
            return None
        except ThrottlingError as exc:
            await self._retry_throttled(sub, retry, tries, slot, deadline, exc)
            return None
        except MalformedResponseError as exc:
            return exc  # a damaged 2xx: AWS may well have created the job
        except BatchAPIError as exc:
            if exc.status_code is not None and exc.status_code < 500:
                self.failing_since = None
                sub.state = State.NOT_CREATED
                raise
            return exc
        except BatchError as exc:
            return exc
        self.failing_since = None
        self.limiter.on_success(slot)
        sub.state = State.CREATED
        self.logger.info("submitted job %s (%s)", result.job_id, result.job_name)
        return result

    async def _retry_not_sent(
        self,
        sub: Submission,
        retry: SubmitRetry,
        tries: _Tries,
        deadline: float,
        error: BatchConnectionError,
    ) -> None:
        """Back off after a send that made no connection; raise ``error`` past the budget."""
        tries.not_sent += 1
        if tries.not_sent > _NOT_SENT_RETRIES:
            raise error
        await self._backoff(retry.backoff(tries.not_sent, self.rng), deadline, error)
        self.logger.warning("retrying SubmitJob of job %s: not sent", sub.job_name)

    async def _retry_throttled(
        self,
        sub: Submission,
        retry: SubmitRetry,
        tries: _Tries,
        slot: Slot,
        deadline: float,
        error: ThrottlingError,
    ) -> None:
        """Back off after a throttled send (it never reached Batch); raise past the budget."""
        self.failing_since = None  # an answer: the endpoint is up
        sub.state = State.NOT_CREATED
        self.limiter.on_throttle(slot)
        tries.throttled += 1
        if tries.throttled > retry.max_throttled:
            raise error
        self.telemetry.event("retry", {"reason": "throttled", "attempt": tries.throttled})
        await self._backoff(retry.backoff(tries.throttled, self.rng), deadline, error)
        self.logger.warning(
            "retrying SubmitJob of job %s (attempt %d): throttled",
            sub.job_name,
            tries.failures + tries.throttled + 1,
        )
        tries.urgent = True

    async def _after_unknown_outcome(
        self,
        sub: Submission,
        retry: SubmitRetry,
        tries: _Tries,
        deadline: float,
        error: BatchError,
    ) -> JobResponse | None:
        """Look the job up; ``None`` (after the backoff) when it was not created.

        Raises:
            BatchError: ``error``, when the budget ran out or the endpoint is in an outage.
            SubmitOutcomeUnknownError: The lookup could not establish the outcome.
        """
        tries.failures += 1
        if self.failing_since is None:
            self.failing_since = self.clock()
        self.logger.warning(
            "SubmitJob of job %s: outcome unknown (%s); looking the job up before sending it again",
            sub.job_name,
            _describe(error),
        )
        self.telemetry.event("outcome unknown", {"error.type": type(error).__name__})
        found = await self._resolve(sub, retry, deadline, error)
        if found is not None:
            sub.state = State.CREATED
            self.logger.info(
                "submitted job %s (%s): found after an answer was lost",
                found.job_id,
                found.job_name,
            )
            return found
        sub.state = State.NOT_CREATED
        self._give_up_if_spent(sub, retry, tries.failures, error)
        await self._backoff(retry.backoff(tries.failures, self.rng), deadline, error)
        self.telemetry.event("retry", {"reason": "not created", "attempt": tries.failures})
        self.logger.warning(
            "retrying SubmitJob of job %s (attempt %d): it was not created",
            sub.job_name,
            tries.failures + tries.throttled + 1,
        )
        tries.urgent = True
        return None

    def _give_up_if_spent(
        self, sub: Submission, retry: SubmitRetry, failures: int, error: BatchError
    ) -> None:
        """Raise ``error`` when the attempts ran out or the service's sends are in an outage."""
        if failures >= retry.max_attempts:
            self.logger.warning(
                "giving up on job %s after %d failed sends; no job was created",
                sub.job_name,
                failures,
            )
            raise error
        if self._outage(retry):
            self.logger.warning(
                "giving up on job %s: every SubmitJob of this service has failed for "
                "%.0fs (an outage); no job was created",
                sub.job_name,
                self.clock() - (self.failing_since or 0.0),
            )
            raise error

    def _outage(self, retry: SubmitRetry) -> bool:
        """True when every send of the service failed for ``retry.outage_after`` seconds."""
        since = self.failing_since
        return (
            retry.outage_after is not None
            and since is not None
            and self.clock() - since >= retry.outage_after
        )

    async def _backoff(self, delay: float, deadline: float, error: BaseException) -> None:
        if not await sleep_within(delay, deadline, clock=self.clock, sleep=self.sleep):
            raise error

    async def _resolve(
        self, sub: Submission, retry: SubmitRetry, deadline: float, error: BatchError
    ) -> JobResponse | None:
        """Find the job an unknown-outcome send may have created; None if it was not created.

        Raises:
            SubmitOutcomeUnknownError: The outcome cannot be established (also when the service
                was closed, or lost its credentials, before the job could be looked up).
        """
        if sub.token is None and not sub.generated_name:
            raise SubmitOutcomeUnknownError(
                sub.job_name,
                sub.job_queue,
                "BatchConfig.idempotent_submit is off and the job name was chosen by the "
                "caller, so the job cannot be told apart from others of that name",
            ) from error
        # Lookups at the scheduled delays; the last one must answer cleanly. Lookups that fail
        # are repeated (at the last delay) as often again before giving up.
        delays = list(retry.lookup_delays)
        delays += [delays[-1]] * len(delays)
        clean = 0
        for index, delay in enumerate(delays):
            if self.clock() + delay >= deadline:
                break
            await self.sleep(delay)
            try:
                found = await self._find(sub)
                self.telemetry.event("lookup", {"found": found is not None})
            except (ServiceClosedError, ConfigurationError) as exc:
                raise SubmitOutcomeUnknownError(
                    sub.job_name, sub.job_queue, f"the job cannot be looked up: {exc}"
                ) from exc
            except (BatchError, _LookupFailed) as exc:
                self.logger.warning("looking up job %s failed: %s", sub.job_name, _describe(exc))
                continue
            if found is not None:
                return found
            clean += 1
            if index >= len(retry.lookup_delays) - 1:
                return None  # the last scheduled lookup (or a repeat of it) found nothing
        raise SubmitOutcomeUnknownError(
            sub.job_name,
            sub.job_queue,
            "the job could not be looked up in time"
            if clean == 0
            else "the last lookups failed, so an earlier miss is not conclusive",
        ) from error

    async def _find(self, sub: Submission) -> JobResponse | None:
        """One lookup: ListJobs by exact name, then DescribeJobs to match the token."""
        assert sub.first_sent_ms is not None
        not_before = sub.first_sent_ms - _CLOCK_SKEW_MS
        candidates: list[dict[str, Any]] = []
        exhausted = False
        params: dict[str, Any] = {
            "jobQueue": sub.job_queue,
            "filters": [{"name": "JOB_NAME", "values": [sub.job_name]}],
            "maxResults": 100,
        }
        looked = 0
        async with aclosing(pages(self.call, "ListJobs", params, logger=self.logger)) as listing:
            async for page in listing:
                summaries = page.get("jobSummaryList", [])
                for summary in summaries:
                    if summary.get("jobName") != sub.job_name:
                        continue  # the filter ignores case; names are case-sensitive
                    created = summary.get("createdAt")
                    if isinstance(created, int) and created < not_before:
                        continue
                    candidates.append(summary)
                oldest = min((s.get("createdAt") or 0 for s in summaries), default=0)
                if not page.get("nextToken") or (
                    isinstance(oldest, int) and 0 < oldest < not_before
                ):
                    exhausted = True
                    break
                looked += 1
                if looked == _LOOKUP_MAX_PAGES:
                    break
        if not exhausted:  # too many pages, or a token given back twice (the paginator stopped)
            raise _LookupFailed(f"more than {_LOOKUP_MAX_PAGES * 100} jobs named {sub.job_name}")
        if sub.token is None:  # a generated name is unique: any job of that name is ours
            matches = candidates
        else:
            matches = []
            for chunk in chunked([c["jobId"] for c in candidates]):
                described = await self.call("DescribeJobs", jobs=chunk)
                matches.extend(
                    job
                    for job in described.get("jobs", [])
                    if (job.get("tags") or {}).get(TOKEN_TAG_KEY) == sub.token
                )
        if not matches:
            return None
        matches.sort(key=lambda job: job.get("createdAt") or 0)
        if len(matches) > 1:
            self.logger.warning(
                "job %s was created %d times (%s): AWS listed it only after it was re-sent",
                sub.job_name,
                len(matches),
                ", ".join(str(m.get("jobId")) for m in matches),
            )
        return validate_answer(JobResponse, matches[0], "DescribeJobs")


def new_token() -> str:
    """A fresh idempotency token: a random version-4 UUID as 32 hex digits.

    The same as ``uuid.uuid4().hex``, at half its cost (a submit's hot path).
    """
    h = os.urandom(16).hex()
    return f"{h[:12]}4{h[13:16]}{'89ab'[int(h[16], 16) & 3]}{h[17:]}"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
