"""The fast path: Batch calls sent without botocore's per-call machinery, botocore's meaning kept.

An aiobotocore call spends most of its CPU outside the network: it rebuilds the user agent
(twice), resolves the endpoint through the rules engine, derives the SigV4 key, validates and
serialises through the shape walker, dispatches a dozen events and parses the answer through
the shape walker again. For an operation that is sent often the fast path does each of those
once, **from botocore's own answer**, and then only what changes from call to call:

1. At the first call of an operation botocore builds the request (parameters, endpoint
   rules with FIPS, dual-stack or a custom endpoint, user agent with ``user_agent_extra``,
   signature) and a ``before-send`` handler keeps it and stops it there: nothing is sent
   twice. This call, and every later one, is then sent by the fast path.
2. The plan is checked against that request: the fast path rebuilds it from the same
   parameters, credentials, clock and invocation id and must produce **the same URL, headers
   and body** (the signature included), or the operation stays with botocore.
3. Later calls: the parameters pass a quick check (:func:`~._fastwire.compile_check`, else
   botocore sends them, and raises its own validation error), are written as botocore writes
   them, signed (:class:`~._sigv4.SigV4Signer`, the key cached per day) and sent through the
   client's own HTTP session (pool, proxies, TLS, timeouts). Answers of SubmitJob,
   DescribeJobs and ListJobs are decoded as JSON (one of :data:`STEPWISE_FROM` bytes or more
   a few milliseconds at a time, the loop getting turns in between); other answers and every
   error go through botocore's parser.
4. Retries stay botocore's: on an error the client's ``needs-retry`` handlers (its retry mode,
   quota and attempts, and the library's no-retry rule for SubmitJob) decide, with the same
   arguments botocore gives them; ``after-call`` handlers (the retry quota) run as well.
   Errors are the ``ClientError`` subclasses botocore raises, with the same response dict.

When the fast path cannot honour a setting it steps aside, per operation and automatically:
handlers it does not know on the client's events (a user's, on a passed-in session; see
``_transport/fast_hooks.py``), a moto mock while it is on, an adaptive retry mode, unsigned or
non-SigV4
requests, botocore's history recorder, or aiobotocore internals it relies on missing
(``client._endpoint``, ``client._request_signer``, the emitter's handler table).
:attr:`FastPath.disabled` and :meth:`FastPath.refused` say why (also logged at DEBUG).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
from typing import Any

from botocore.awsrequest import AWSPreparedRequest
from botocore.history import get_global_history_recorder

from .._telemetry.hooks import NOOP, Telemetry
from .answers import AnswerChecks
from .fast_hooks import Handlers, inspect_handlers, lookup_marker
from .fast_plan import (
    CREDENTIALS_CHANGED,
    Captured,
    Plan,
    attempt_headers,
    before_parameter_build,
    invocation_id,
    make_plan,
    prepare,
)
from .wire import decode_json_in_steps, json_native_input

__all__ = ["FastPath"]

_HISTORY: Any = get_global_history_recorder()
#: Answers at least this large are decoded in steps (see FastPath._decode): ~2 ms of decoding.
STEPWISE_FROM = 256 * 1024


class _Probed(Exception):
    """Raised by the capture handler: botocore built the request, and need not send it."""


class _Holder:
    """The probe under way in a task: its operation, parameters, and what was captured."""

    __slots__ = ("captured", "operation", "params")

    def __init__(self, operation: str, params: dict[str, Any]) -> None:
        self.operation = operation
        self.params = params
        self.captured: Captured | None = None


#: The probe under way in this task (see FastPath._probe).
_CAPTURE: contextvars.ContextVar[_Holder | None] = contextvars.ContextVar(
    "aws_batch_async_fastpath_capture", default=None
)


class FastPath:
    """The fast path of one aiobotocore client (see the module docstring).

    Args:
        client: An open aiobotocore client (Batch, rest-json).
        logger: Where the fast path says why it steps aside (DEBUG).
        own_called: The library's handlers on the client to call as botocore would.
        answers: The client's answer checks (``_transport/answers.py``): the fast path checks each
            2xx answer itself, in place of their ``before-parse`` handler.
        clock: Epoch seconds for signing (tests pass a fixed one).
        telemetry: Counts the operations it leaves to botocore.
    """

    def __init__(
        self,
        client: Any,
        logger: logging.Logger,
        *,
        own_called: tuple[Any, ...] = (),
        answers: AnswerChecks | None = None,
        clock: Any = None,
        telemetry: Telemetry = NOOP,
    ) -> None:
        self._client = client
        self._telemetry = telemetry
        self._logger = logger
        self._own_called = own_called
        self._answers = answers if answers is not None else AnswerChecks()
        self._clock: dict[str, Any] = {} if clock is None else {"clock": clock}
        self._plans: dict[str, Plan] = {}
        self._refused: dict[str, str] = {}
        self._probing: set[str] = set()
        self._probe_after: dict[str, float] = {}
        self._marker: object = None
        self._decoding = asyncio.Lock()
        self.disabled: str | None = None
        try:
            self._endpoint = client._endpoint
            self._http = client._endpoint.http_session
            self._update_retries = client._endpoint._update_retries_context
            self._request_signer = client._request_signer
            self._credentials = client._request_signer._credentials
            self._parser_factory = getattr(client._endpoint, "_response_parser_factory", None)
            meta = client.meta
            self._service = meta.service_model.service_id.hyphenize()
            self._events = meta.events
            lookup_marker(meta.events)
            meta.events._emitter._handlers.prefix_search(f"before-send.{self._service}")
        except AttributeError as exc:
            self.disabled = f"aiobotocore internals changed ({exc})"
            return
        if not isinstance(getattr(_HISTORY, "_enabled", None), bool):
            self.disabled = "botocore's history recorder changed"
            return
        retries = getattr(meta.config, "retries", None) or {}
        if retries.get("mode") == "adaptive":
            self.disabled = "retry mode 'adaptive' (its rate limiter runs on before-send)"
            return
        self._events.register(
            f"before-send.{self._service}",
            self._capture,
            unique_id=f"aws-batch-async-fastpath-{id(self)}",
        )

    def refused(self) -> dict[str, str]:
        """Operations the fast path left to botocore, and why."""
        return dict(self._refused)

    def planned(self) -> list[str]:
        """Operations the fast path sends itself."""
        return sorted(self._plans)

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Call ``operation``: by the fast path when it has a plan for it, else by botocore.

        Raises:
            botocore.exceptions.ClientError: AWS answered with an error (after botocore's
                retries), the subclass botocore raises.
            Exception: What botocore raises for the same call (connection errors,
                validation, credentials).
        """
        if _HISTORY._enabled:  # botocore records calls (`aws --debug`-style): let it
            return await self._botocore(operation, params)
        plan = self._plans.get(operation)
        if plan is not None and lookup_marker(self._events) is not self._marker:
            self._recheck()
            plan = self._plans.get(operation)
        if plan is None:
            if operation in self._refused or operation in self._probing:
                return await self._botocore(operation, params)
            probed = await self._probe(operation, params)
            if not isinstance(probed, Plan):
                return probed if probed is not None else await self._botocore(operation, params)
            plan = probed
        elif plan.handlers.switches and plan.handlers.switched_on():
            return await self._botocore(operation, params)  # e.g. a moto mock answers it
        context = dict(plan.context)
        before_parameter_build(plan, params, context)
        if plan.check(params):
            return await self._send(plan, params, context)
        return await self._botocore(operation, params)

    # -----------------------------------------------------------------------------------------
    # botocore's path, and what it teaches

    async def _botocore(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = await getattr(self._client, _snake(operation))(**params)
        return response

    async def _probe(self, operation: str, params: dict[str, Any]) -> Plan | dict[str, Any] | None:
        """Let botocore build ``operation``'s request for ``params``, stop it, plan from it.

        Returns:
            The plan; ``None`` when there is none (botocore then sends the call); or, should
            botocore have sent the call after all, its answer.
        """
        loop = asyncio.get_running_loop()
        if self._probe_after.get(operation, 0.0) > loop.time():
            return None
        try:
            model = self._client.meta.service_model.operation_model(operation)
        except Exception:  # not an operation: botocore says so as it always did
            return None
        why = json_native_input(model)
        handlers = self._handlers(operation) if why is None else why
        if isinstance(handlers, str):
            self._refuse(operation, handlers)
            return None
        if handlers.switched_on():  # the probe would stop a moto mock's answer
            return None
        self._probing.add(operation)
        holder = _Holder(operation, dict(params))
        token = _CAPTURE.set(holder)
        try:
            answer: dict[str, Any] = await self._botocore(operation, dict(params))
            return answer  # not stopped: botocore sent it, and this is AWS's answer
        except _Probed:
            pass
        except Exception as exc:  # botocore refused the call: the real one says why
            self._logger.debug("fast path: probing %s failed: %r", operation, exc)
            self._probe_after[operation] = loop.time() + 1.0
            return None
        finally:
            _CAPTURE.reset(token)
            self._probing.discard(operation)
        assert holder.captured is not None
        try:
            frozen = await self._credentials.get_frozen_credentials()
            plan = make_plan(
                self._client,
                self._request_signer,
                operation,
                handlers,
                holder.captured,
                frozen,
                self._clock,
            )
        except Exception as exc:  # a plan that cannot be built leaves botocore in charge
            plan = f"{type(exc).__name__}: {exc}"
        if isinstance(plan, str):
            if plan == CREDENTIALS_CHANGED:  # refreshed in between: plan on a later call
                self._probe_after[operation] = loop.time() + 1.0
            else:
                self._refuse(operation, plan)
            return None
        if not self._plans:
            self._marker = lookup_marker(self._events)
        self._plans[operation] = plan
        self._logger.debug("fast path: %s planned", operation)
        return plan

    def _refuse(self, operation: str, reason: str) -> None:
        first = not self._refused
        self._refused[operation] = reason
        log = self._logger.info if first else self._logger.debug  # INFO once per service
        log("fast path: %s stays with botocore: %s", operation, reason)
        self._telemetry.fast_path_fallback(operation, reason)

    def _capture(self, request: Any = None, event_name: str = "", **_: Any) -> None:
        """before-send: keep the request botocore built for a probe, and stop it there."""
        holder = _CAPTURE.get()
        if holder is None or request is None or holder.captured is not None:
            return
        if not event_name.endswith(f".{holder.operation}"):
            return
        body = request.body
        holder.captured = Captured(
            method=request.method,
            url=request.url,
            headers={str(k): _text(v) for k, v in request.headers.items()},
            body=body if isinstance(body, bytes) else _text(body or "").encode(),
            params=holder.params,
        )
        raise _Probed

    def _handlers(self, operation: str) -> Handlers | str:
        return inspect_handlers(
            self._events,
            self._service,
            operation,
            own_called=self._own_called,
            own_ignored=(self._capture, self._answers.before_parse),
        )

    def _recheck(self) -> None:
        """Handlers were (un)registered: check every plan again."""
        for name, plan in list(self._plans.items()):
            handlers = self._handlers(name)
            if isinstance(handlers, str):
                del self._plans[name]
                self._refused[name] = handlers
                self._logger.debug("fast path: %s back to botocore: %s", name, handlers)
                self._telemetry.fast_path_fallback(name, handlers)
            else:
                plan.handlers = handlers
        self._marker = lookup_marker(self._events)

    # -----------------------------------------------------------------------------------------
    # The fast call

    async def _send(
        self, plan: Plan, params: dict[str, Any], context: dict[str, Any]
    ) -> dict[str, Any]:
        """Send checked ``params``, retrying as the client's needs-retry handlers decide."""
        context["retries"] = {"attempt": 1, "invocation-id": invocation_id()}
        request_dict = prepare(plan, params, context)
        body = request_dict["body"]
        attempts = 1
        while True:
            frozen = await self._credentials.get_frozen_credentials()
            headers: Any = attempt_headers(plan, request_dict, plan.signer, frozen)
            request: Any = AWSPreparedRequest("POST", plan.url, headers, body, False)
            request.context = context  # botocore >= 1.41 reads it; older ones ignore it
            http: Any = None
            parsed: dict[str, Any] = {}
            caught: Exception | None = None
            try:
                http = await self._http.send(request)
            except Exception as exc:  # botocore passes every exception to needs-retry
                caught = exc
            else:  # reading and parsing fail as in botocore: outside needs-retry
                content = await http.content
                if http.status_code < 300 and plan.fast_json:
                    parsed = await self._decode(plan, content, http.headers)
                    meta = {"HTTPStatusCode": http.status_code, "HTTPHeaders": http.headers}
                    request_id = http.headers.get("x-amzn-requestid")
                    if request_id is not None:
                        meta = {"RequestId": request_id, **meta}
                    parsed["ResponseMetadata"] = meta
                else:
                    if http.status_code < 300:
                        self._answers.check_body(plan.model, content, http.headers)
                    parsed = await self._parse(plan, http, content)
                if http.status_code < 300:
                    break
            delay = await self._needs_retry(plan, request_dict, http, parsed, caught, attempts)
            if not delay:
                break
            await asyncio.sleep(delay)
            attempts += 1
            self._update_retries(context, attempts, (http, parsed) if caught is None else None)
        if caught is not None:
            raise caught
        parsed["ResponseMetadata"]["RetryAttempts"] = attempts - 1
        for handler in plan.handlers.after_call:
            await _resolve(
                handler(
                    http_response=http,
                    parsed=parsed,
                    model=plan.model,
                    context=context,
                    event_name=f"after-call.{plan.service}.{plan.name}",
                )
            )
        if http.status_code >= 300:
            code = (parsed.get("Error") or {}).get("Code")
            raise self._client.exceptions.from_code(code)(parsed, plan.name)
        return parsed

    async def _decode(self, plan: Plan, content: bytes, headers: Any) -> dict[str, Any]:
        """A 2xx answer's JSON, checked (``AnswerChecks.decode``); a large one in steps.

        An answer of :data:`STEPWISE_FROM` bytes or more is decoded a few milliseconds at a
        time (``decode_json_in_steps``), the loop getting a turn between steps, and one at a
        time per client: answers that arrive together (the poller's concurrent DescribeJobs
        calls) would otherwise each take their step in the same turn of the loop.

        Raises:
            MalformedResponseError: The answer is not the operation's result (the same error
                as for a small answer: a damaged one is decoded again by ``AnswerChecks``).
        """
        if len(content) < STEPWISE_FROM:
            return self._answers.decode(plan.model, content, headers)
        parsed: dict[str, Any] | None = None
        async with self._decoding:
            steps = decode_json_in_steps(content)
            try:
                while True:
                    next(steps)
                    await asyncio.sleep(0)
            except StopIteration as done:
                parsed = done.value
            except ValueError:
                parsed = None
            finally:
                steps.close()
        if parsed is None or self._answers.of(plan.model).problem(parsed) is not None:
            return self._answers.decode(plan.model, content, headers)  # raises its error
        return parsed

    async def _parse(self, plan: Plan, http: Any, content: bytes) -> dict[str, Any]:
        """botocore's parse of an answer (with the modeled fields of an error)."""
        factory = self._parser_factory
        if factory is None:
            from aiobotocore.parsers import AioResponseParserFactory

            factory = self._parser_factory = AioResponseParserFactory()
        parser = factory.create_parser(plan.model.service_model.resolved_protocol)
        response_dict = {
            "headers": http.headers,
            "status_code": http.status_code,
            "body": content,
            "context": {"operation_name": plan.name},
        }
        parsed: dict[str, Any] = await _resolve(
            parser.parse(response_dict, plan.model.output_shape)
        )
        if http.status_code >= 300:
            code = (parsed.get("Error") or {}).get("Code")
            shape = plan.model.service_model.shape_for_error_code(code) if code else None
            if shape is not None:
                parsed.update(await _resolve(parser.parse(response_dict, shape)))
        return parsed

    async def _needs_retry(
        self,
        plan: Plan,
        request_dict: dict[str, Any],
        http: Any,
        parsed: dict[str, Any],
        caught: Exception | None,
        attempts: int,
    ) -> Any:
        """The client's needs-retry handlers, called as botocore's endpoint calls them."""
        response = None if caught is not None else (http, parsed)
        for handler in plan.handlers.needs_retry:
            answer = await _resolve(
                handler(
                    response=response,
                    endpoint=self._endpoint,
                    operation=plan.model,
                    attempts=attempts,
                    caught_exception=caught,
                    request_dict=request_dict,
                    event_name=f"needs-retry.{plan.service}.{plan.name}",
                )
            )
            if answer is not None:
                return answer
        return None


async def _resolve(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
