"""The AWS side of a service: ONE session, its pooled clients, and one ``call()`` for each.

:class:`Clients` owns everything botocore-shaped of a :class:`~aws_batch_async.BatchService`:

* the session (the caller's, or one created here), so credentials (assume-role, SSO, an MFA
  prompt) are resolved once per service, for the Batch and the CloudWatch Logs client alike;
* the Batch client, opened with the service, and the Logs client, opened on first use under a
  lock and refused once closing has begun, both closed with the service;
* :meth:`Clients.call` / :meth:`Clients.call_logs`: the one place where botocore's errors
  become the library's (``__cause__`` kept), where each call gets its deadline
  (``BatchConfig.call_timeout``), and the loop and open-state checks;
* the service's one DescribeJobs gate (``_transport/describe_gate.py``): every DescribeJobs
  sent through :meth:`Clients.call`, whoever sends it, waits for one of
  ``PollPolicy.max_concurrent_calls`` slots;
* the answer checks (``_transport/answers.py``): a 2xx answer that is not the operation's result
  raises ``MalformedResponseError``, on the fast path and on botocore's;
* the fast path of the Batch client (``_transport/fast_path.py``): the operations sent often skip
  botocore's per-call machinery, with botocore's request, retries and errors kept, and
  botocore itself whenever a setting or a handler needs it;
* the botocore hooks: retry logging, and no botocore retries of SubmitJob (the submit path
  retries it safely, see ``_submitting/submitter.py``).

The other modules receive these calls as plain callables; none reaches into another's
private names.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

from .._config import BatchConfig
from .._errors import (
    BatchError,
    CallTimeoutError,
    ServiceClosedError,
    error_from_exception,
    operation_unavailable,
)
from .._telemetry.hooks import NOOP, Telemetry
from .answers import AnswerChecks
from .describe_gate import DESCRIBE_JOBS, DescribeGate
from .fast_path import FastPath

if TYPE_CHECKING:
    from types_aiobotocore_batch import BatchClient

__all__ = ["USER_AGENT_EXTRA", "Clients", "disable_botocore_retries"]

USER_AGENT_EXTRA = "aws-batch-async"
#: The SQS client's read timeout is at least this (a long poll waits up to 20 s).
SQS_MIN_READ_TIMEOUT = 30.0
#: Operations that only read: one broken by ``aclose()`` raises ServiceClosedError (a write's
#: outcome is unknown then, so it keeps its connection error).
_READS = ("Describe", "List", "Get")


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class Clients:
    """The session and pooled clients of one service.

    Args:
        config: The service's settings.
        session: An aiobotocore ``AioSession`` or an aioboto3 ``Session``; used, never closed.
            ``None`` creates one ``AioSession`` (with ``config.profile``) for the service.
        logger: Where retries and client creation are logged.
        telemetry: The service's OpenTelemetry hooks (throttles, request ids).

    Attributes:
        describe_gate: The service's one DescribeJobs gate; :meth:`call` sends every
            DescribeJobs through it.
    """

    def __init__(
        self,
        config: BatchConfig,
        session: Any | None,
        logger: logging.Logger,
        telemetry: Telemetry = NOOP,
    ) -> None:
        self.config = config
        self.telemetry = telemetry
        self.logger = logger
        self._given_session = session
        self._session: Any | None = session
        self._state = _State.UNOPENED
        self._stack = AsyncExitStack()
        self._batch: BatchClient | None = None
        self._fast: FastPath | None = None
        self._others: dict[str, Any] = {}  # sqs, events...: opened on first use
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        timeout = config.call_timeout
        self._timeout = None if timeout is None or math.isinf(timeout) else timeout
        self.describe_gate = DescribeGate(
            self._send, config.poll.max_concurrent_calls, check=self.batch
        )

    @property
    def state(self) -> str:
        """``"unopened"``, ``"open"``, ``"closing"`` or ``"closed"``."""
        return self._state.value

    @property
    def fast_path(self) -> FastPath | None:
        """The Batch client's fast path, or ``None`` when it is off (or the service not open)."""
        return self._fast

    @property
    def is_closed(self) -> bool:
        """True once closing has begun (or opening failed)."""
        return self._state in (_State.CLOSING, _State.CLOSED)

    async def open(self) -> None:
        """Create the session (if none was given) and the Batch client.

        Raises:
            ServiceClosedError: Already opened or closed.
            ConfigurationError: No region, an unknown profile, a malformed config file,
                credentials that cannot be loaded (SSO, credential process...).
        """
        if self._state is not _State.UNOPENED:
            raise ServiceClosedError(
                f"BatchService is {self._state.value}; create a new one instead of reopening it"
            )
        self._loop = asyncio.get_running_loop()
        try:
            if self._session is None:
                profile = self.config.profile
                self._session = AioSession(profile=profile) if profile else AioSession()
            client: BatchClient = await self._stack.enter_async_context(
                self._create("batch", self.config.endpoint_url)
            )
        except BaseException as exc:
            await self._stack.aclose()
            self._state = _State.CLOSED
            if isinstance(exc, Exception):
                mapped = error_from_exception(exc, "creating the AWS Batch client")
                if mapped is not None:
                    raise mapped from exc
            raise
        client.meta.events.register("request-created.batch", self._log_retry)
        answers = AnswerChecks()
        answers.register(client)
        no_retry = disable_botocore_retries(client, "SubmitJob")
        own_called = [self._log_retry, no_retry]
        # SubmitServiceJob is retried with its client token by _service_jobs.py instead.
        own_called.append(disable_botocore_retries(client, "SubmitServiceJob"))
        for operation in BULK_STOP_OPERATIONS:
            own_called.append(no_retry_when_unavailable(client, operation))
        if self.config.fast_path:
            self._fast = FastPath(
                client,
                self.logger,
                own_called=tuple(own_called),
                answers=answers,
                telemetry=self.telemetry,
            )
            if self._fast.disabled is not None:
                self.logger.info("fast path off: %s", self._fast.disabled)
                self._fast = None
        self._batch = client
        self._state = _State.OPEN
        self.logger.debug(
            "opened Batch client (region=%s, endpoint=%s, pool=%d)",
            client.meta.region_name,
            self.config.endpoint_url or "default",
            self.config.max_pool_connections,
        )

    async def aclose(self) -> None:
        """Close every client (idempotent). A session the caller passed in is not closed."""
        if self._state in (_State.CLOSING, _State.CLOSED):
            return
        self._state = _State.CLOSING
        async with self._lock:  # a Logs client being created is entered before we close
            try:
                await self._stack.aclose()
            finally:
                self._batch = self._fast = None
                self._others.clear()
                self._state = _State.CLOSED

    def batch(self) -> BatchClient:
        """The open Batch client.

        Raises:
            ServiceClosedError: The service is not open.
            BatchError: Called from another event loop than the one the service was opened on.
        """
        if self._state is not _State.OPEN or self._batch is None:
            raise ServiceClosedError(
                "BatchService is not open: use `async with BatchService(config) as batch:`"
                if self._state is _State.UNOPENED
                else "BatchService is closed"
            )
        if asyncio.get_running_loop() is not self._loop:
            raise BatchError("BatchService is bound to the event loop it was opened on")
        return self._batch

    async def call(self, operation: str, /, **params: Any) -> dict[str, Any]:
        """Call a Batch operation; botocore's errors become ours (``__cause__`` kept).

        A DescribeJobs call first waits for a slot of :attr:`describe_gate` (its deadline
        starts once it is sent).

        Raises:
            ServiceClosedError: The service is not open.
            ConfigurationError: Credentials cannot be found or refreshed (nothing was sent).
            CallTimeoutError: The call outlasted ``BatchConfig.call_timeout``.
            BatchConnectionError: The endpoint could not be reached or the connection broke
                (``sent=False``: no connection was made).
            MalformedResponseError: A 2xx answer that is not the operation's result.
            BatchAPIError: AWS answered with an error (``ThrottlingError`` for HTTP 429).
        """
        if operation == DESCRIBE_JOBS:  # checks the service is open before it queues
            return await self.describe_gate.call(**params)
        return await self._send(operation, **params)

    async def _send(self, operation: str, /, **params: Any) -> dict[str, Any]:
        """Send one Batch call now (:meth:`call` without the DescribeJobs gate)."""
        client = self.batch()
        fast = self._fast
        deadline = _Deadline(self._timeout)
        try:
            async with deadline:
                if fast is not None:
                    response: dict[str, Any] = await fast.call(operation, params)
                else:
                    response = await getattr(client, _snake(operation))(**params)
        except Exception as exc:
            mapped = self._failure(exc, operation, deadline, self._timeout)
            if mapped is None:
                raise
            if not isinstance(mapped, (CallTimeoutError, ServiceClosedError)):
                self.telemetry.on_error(operation, mapped)
            raise mapped from exc
        self.telemetry.on_response(response)
        return response

    async def call_logs(self, operation: str, /, **params: Any) -> dict[str, Any]:
        """Call a CloudWatch Logs operation through the service's Logs client.

        The client is created on first use, from the service's one session.

        Raises:
            ServiceClosedError: The service is not open, or began closing.
            ConfigurationError: The client cannot be created, or credentials fail.
            BatchConnectionError: The endpoint could not be reached.
            BatchAPIError: CloudWatch Logs answered with an error.
        """
        return await self.call_service("logs", operation, **params)

    async def call_service(
        self, service_name: str, operation: str, **params: Any
    ) -> dict[str, Any]:
        """Call an operation of another AWS service (``"sqs"``, ``"events"``) of the session.

        Its client is created on first use from the service's one session, with the same
        pool, timeouts and retries, and closed with the service. Its endpoint: for ``sqs``,
        ``BatchConfig.events.endpoint_url``; otherwise botocore's resolution.

        Raises:
            ServiceClosedError: The service is not open, or began closing.
            ConfigurationError: The client cannot be created, or credentials fail.
            BatchConnectionError: The endpoint could not be reached.
            BatchAPIError: The service answered with an error.
        """
        client = await self._client_of(service_name)
        if self._state is not _State.OPEN:  # closing began while the client was created
            raise ServiceClosedError("BatchService is closed")
        timeout = self._timeout
        if timeout is not None and service_name == "sqs":  # a long poll lasts 20 s
            timeout = max(timeout, SQS_MIN_READ_TIMEOUT)
        deadline = _Deadline(timeout)
        try:
            async with deadline:
                response: dict[str, Any] = await getattr(client, _snake(operation))(**params)
        except Exception as exc:
            mapped = self._failure(exc, operation, deadline, timeout)
            if mapped is None:
                raise
            raise mapped from exc
        return response

    def _failure(
        self, exc: Exception, operation: str, deadline: _Deadline, timeout: float | None
    ) -> BaseException | None:
        """The library's error for a call that raised ``exc`` (``None``: re-raise it as is)."""
        if isinstance(exc, TimeoutError) and deadline.expired():
            return CallTimeoutError(operation, timeout or 0.0)
        if self.is_closed and operation.startswith(_READS):
            # aclose() closed the connection under this read: whatever broke is ours
            return ServiceClosedError(f"BatchService closed during {operation}")
        return error_from_exception(exc, operation)

    async def _client_of(self, service_name: str) -> Any:
        self.batch()  # open, and on the right loop
        existing = self._others.get(service_name)
        if existing is not None:
            return existing
        async with self._lock:
            if self._state is not _State.OPEN:
                raise ServiceClosedError("BatchService is closed")
            existing = self._others.get(service_name)  # created while we waited for the lock
            if existing is not None:
                return existing
            endpoint = self._endpoint_of(service_name)
            try:
                client = await self._stack.enter_async_context(self._create(service_name, endpoint))
            except Exception as exc:
                mapped = error_from_exception(exc, f"creating the {service_name} client")
                if mapped is None:
                    raise
                raise mapped from exc
            AnswerChecks().register(client)
            self.logger.debug("opened %s client (endpoint=%s)", service_name, endpoint)
            self._others[service_name] = client
            return client

    def _endpoint_of(self, service_name: str) -> str | None:
        cfg = self.config
        if service_name == "logs":
            return cfg.logs_endpoint_url or cfg.endpoint_url
        if service_name == "sqs" and cfg.events is not None:
            return cfg.events.endpoint_url
        return None

    def _create(self, service_name: str, endpoint_url: str | None) -> Any:
        """The (unentered) client context of ``service_name``, from the service's session."""
        cfg = self.config
        read_timeout = cfg.read_timeout
        if service_name == "sqs":  # SQS long polls last 20 s: the read must outlast them
            read_timeout = max(read_timeout, SQS_MIN_READ_TIMEOUT)
        kwargs: dict[str, Any] = {
            "region_name": cfg.region,
            "endpoint_url": endpoint_url,
            "config": AioConfig(
                max_pool_connections=cfg.max_pool_connections,
                connect_timeout=cfg.connect_timeout,
                read_timeout=read_timeout,
                retries={"total_max_attempts": cfg.api_max_attempts, "mode": cfg.retry_mode},
                user_agent_extra=USER_AGENT_EXTRA,
            ),
        }
        if cfg.access_key_id is not None and cfg.secret_access_key is not None:
            kwargs["aws_access_key_id"] = cfg.access_key_id
            kwargs["aws_secret_access_key"] = cfg.secret_access_key.get_secret_value()
            if cfg.session_token is not None:
                kwargs["aws_session_token"] = cfg.session_token.get_secret_value()
        session: Any = self._session
        if hasattr(session, "create_client"):  # aiobotocore AioSession
            return session.create_client(service_name, **kwargs)
        return session.client(service_name, **kwargs)  # aioboto3 Session

    def _log_retry(self, request: Any = None, operation_name: str = "", **_: Any) -> None:
        context = getattr(request, "context", None) or {}
        attempt = (context.get("retries") or {}).get("attempt", 1)
        if attempt and attempt > 1:
            self.logger.warning("retrying %s (attempt %d)", operation_name, attempt)


def disable_botocore_retries(client: Any, operation: str = "SubmitJob") -> Any:
    """Stop botocore from retrying ``operation`` on ``client``; other operations keep retrying.

    A handler registered first on ``needs-retry.<service>.<operation>`` runs before
    botocore's retry handler and raises what botocore would have raised after its last
    attempt, so the one pooled client serves SubmitJob without retries (rationale:
    ``docs/reliability.md``).

    Args:
        client: An aiobotocore client.
        operation: The operation's name, e.g. ``"SubmitJob"``.

    Returns:
        The handler (the fast path calls it where botocore would).
    """
    service = client.meta.service_model.service_id.hyphenize()

    def no_retry(
        response: Any = None, caught_exception: BaseException | None = None, **_: Any
    ) -> None:
        if caught_exception is not None:
            raise caught_exception
        if response is not None:
            http_response, parsed = response
            if http_response.status_code >= 300:
                code = (parsed.get("Error") or {}).get("Code")
                raise client.exceptions.from_code(code)(parsed, operation)

    client.meta.events.register_first(
        f"needs-retry.{service}.{operation}",
        no_retry,
        unique_id=f"aws-batch-async-no-retry-{service}-{operation}",
    )
    return no_retry


#: Operations an endpoint may not have, whose "unavailable" answer is final
#: (``_operations/bulk_stop.py``).
BULK_STOP_OPERATIONS = ("CancelJobs", "TerminateJobs")


def no_retry_when_unavailable(client: Any, operation: str) -> Any:
    """Stop botocore from retrying an answer that says ``operation`` does not exist here.

    botocore retries every 5xx; an endpoint without the operation (moto 5.2.6 answers
    CancelJobs with an HTML 500) would be asked ``api_max_attempts`` times for nothing. A
    5xx in AWS's own shape keeps botocore's retries (:func:`~._errors.operation_unavailable`).

    Args:
        client: An aiobotocore client.
        operation: The operation's name, e.g. ``"CancelJobs"``.

    Returns:
        The handler (the fast path calls it where botocore would).
    """
    service = client.meta.service_model.service_id.hyphenize()

    def no_retry_unavailable(response: Any = None, **_: Any) -> None:
        if response is None:
            return
        http_response, parsed = response
        status = http_response.status_code
        error = parsed.get("Error") or {}
        code, message = str(error.get("Code") or ""), str(error.get("Message") or "")
        if status >= 400 and operation_unavailable(status, code, message):
            raise client.exceptions.from_code(code)(parsed, operation)

    client.meta.events.register_first(
        f"needs-retry.{service}.{operation}",
        no_retry_unavailable,
        unique_id=f"aws-batch-async-no-retry-unavailable-{service}-{operation}",
    )
    return no_retry_unavailable


class _Deadline:
    """``asyncio.timeout(delay)`` (3.11+), kept to what a call needs, for Python 3.10 too.

    ``None`` is no deadline. When the delay passes, the task is cancelled and the block
    raises ``TimeoutError``; :meth:`expired` tells it from any other ``TimeoutError``.
    """

    __slots__ = ("_delay", "_expired", "_handle", "_task")

    def __init__(self, delay: float | None) -> None:
        self._delay = delay
        self._expired = False
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None

    def expired(self) -> bool:
        """True when the deadline passed (and cancelled the block)."""
        return self._expired

    async def __aenter__(self) -> _Deadline:
        if self._delay is not None:
            self._task = asyncio.current_task()
            self._handle = asyncio.get_running_loop().call_later(self._delay, self._fire)
        return self

    def _fire(self) -> None:
        if self._task is not None and not self._task.done():
            self._expired = True
            self._task.cancel()

    async def __aexit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if not self._expired:
            return
        uncancel = getattr(self._task, "uncancel", None)  # 3.11+: take back our cancel only
        others = uncancel() if uncancel is not None else 0
        if kind is asyncio.CancelledError and others == 0:
            raise TimeoutError from exc
        # else: the caller cancelled too (its cancellation goes on), or ours was swallowed


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
