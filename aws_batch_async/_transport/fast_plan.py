"""A fast-path plan: one operation's request as botocore built it, and how to build it again.

:func:`make_plan` turns the request botocore built for an operation's first call (captured by
``_transport/fast_path.py`` just before it would have been sent) into a :class:`Plan`: the URL, the
headers that stay the same from call to call (``Content-Type``, botocore's user agent, what the
endpoint rules add), the SigV4 scope, the request context botocore starts each call with, and
the handlers to call. It then rebuilds that very request with :func:`prepare` and
:func:`attempt_headers`, the two functions every fast call uses, from the same parameters,
credentials, clock and invocation id; the plan is kept only if both requests are the same.
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from typing import Any

from .fast_hooks import SIGNER, USER_AGENT, Handlers
from .sigv4 import RequestScope, SigV4Signer, request_scope
from .wire import Check, compile_check, encode_json, json_native_output

__all__ = [
    "CREDENTIALS_CHANGED",
    "FAST_JSON_OPERATIONS",
    "Captured",
    "Plan",
    "attempt_headers",
    "invocation_id",
    "make_plan",
    "prepare",
]

#: Operations whose answers the library validates itself: decoded as JSON, not by botocore.
FAST_JSON_OPERATIONS = frozenset({"SubmitJob", "DescribeJobs", "ListJobs"})
#: Why a plan was not made when the credentials were refreshed between probe and plan.
CREDENTIALS_CHANGED = "the credentials changed while planning"
#: Headers that change from request to request (the rest of botocore's request is kept).
_PER_REQUEST = frozenset(
    {
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
        "content-length",
        "x-amzn-trace-id",
    }
)


@dataclass
class Captured:
    """The request botocore built for one call, and the parameters of that call."""

    params: dict[str, Any]
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Plan:
    """Everything one operation's fast calls share."""

    name: str
    service: str
    model: Any
    check: Check
    handlers: Handlers
    url: str
    url_path: str
    template: dict[str, str]  # botocore's headers but those set per request
    scope: RequestScope
    signer: SigV4Signer
    context: dict[str, Any]  # botocore's request context, before the call adds to it
    fast_json: bool
    request_signer: Any  # botocore's, passed to before-call handlers as botocore does


class _RequestView:
    """What request-created handlers read and write of a request: context and headers."""

    __slots__ = ("body", "context", "headers", "method", "url")

    def __init__(
        self, method: str, url: str, headers: dict[str, str], body: bytes, context: Any
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.context = context


def make_plan(
    client: Any,
    request_signer: Any,
    operation: str,
    handlers: Handlers,
    captured: Captured,
    frozen: Any,
    clock: dict[str, Any],
) -> Plan | str:
    """The plan of ``operation`` from botocore's request, checked by rebuilding that request.

    Args:
        client: The aiobotocore client.
        request_signer: The client's request signer.
        operation: The operation's name.
        handlers: The operation's handlers (``inspect_handlers``).
        captured: botocore's request for ``captured.params``.
        frozen: The client's frozen credentials.
        clock: ``{"clock": epoch_seconds}`` for tests, else empty.

    Returns:
        The plan, or why the operation stays with botocore.
    """
    meta = client.meta
    model = meta.service_model.operation_model(operation)
    auth = captured.headers.get("Authorization", "")
    algorithm, _, rest = auth.partition(" Credential=")
    if algorithm != "AWS4-HMAC-SHA256":
        return f"not a SigV4 request ({algorithm or 'unsigned'})"
    credential = rest.partition(",")[0].split("/")
    stamp = captured.headers.get("X-Amz-Date", "")
    if len(credential) != 5 or not stamp.startswith(credential[1]):
        return "an unexpected credential scope or date"
    if credential[0] != frozen.access_key:
        return CREDENTIALS_CHANGED
    if model.auth and getattr(meta.config, "auth_scheme_preference", None):
        return "an auth scheme preference"
    template = {k: v for k, v in captured.headers.items() if k.lower() not in _PER_REQUEST}
    path = "/" + captured.url.split("://", 1)[-1].partition("/")[2]
    plan = Plan(
        name=operation,
        service=meta.service_model.service_id.hyphenize(),
        model=model,
        check=compile_check(model.input_shape),
        handlers=handlers,
        url=captured.url,
        url_path=path.partition("?")[0],
        template=template,
        scope=request_scope(captured.method, captured.url),
        signer=SigV4Signer(credential[2], credential[3], **clock),
        context={  # as botocore's _make_api_call starts it
            "client_region": meta.region_name,
            "client_config": meta.config,
            "has_streaming_input": model.has_streaming_input,
            "auth_type": model.resolved_auth_type,
            "unsigned_payload": model.unsigned_payload,
            "auth_options": meta.service_model.metadata.get("auth"),
        },
        fast_json=operation in FAST_JSON_OPERATIONS and json_native_output(model),
        request_signer=request_signer,
    )
    rebuilt = _rebuild(plan, captured, frozen, stamp)
    theirs = (captured.method, captured.url, _lower(captured.headers), captured.body)
    if rebuilt != theirs:
        return "botocore's request and the fast path's differ: " + _difference(rebuilt, theirs)
    return plan


def prepare(plan: Plan, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """botocore's request dict for checked ``params``, after the before-call handlers."""
    request_dict = {
        "url_path": plan.url_path,
        "query_string": {},
        "method": "POST",
        "headers": dict(plan.template),
        "body": encode_json(params),
        "url": plan.url,
        "context": context,
    }
    for handler in plan.handlers.before_call:
        handler(
            model=plan.model,
            params=request_dict,
            request_signer=plan.request_signer,
            context=context,
            event_name=f"before-call.{plan.service}.{plan.name}",
        )
    return request_dict


def attempt_headers(
    plan: Plan, request_dict: dict[str, Any], signer: SigV4Signer, frozen: Any
) -> dict[str, str]:
    """One attempt's headers: request-created in botocore's order, then Content-Length."""
    headers = dict(request_dict["headers"])
    body = request_dict["body"]
    view = _RequestView("POST", plan.url, headers, body, request_dict["context"])
    for step in plan.handlers.request_created:
        if step == SIGNER:
            signer.sign("POST", plan.scope, headers, body, frozen)
        elif step == USER_AGENT:
            pass  # the template holds the user agent botocore built for the operation
        else:
            assert callable(step)
            step(
                request=view,
                operation_name=plan.name,
                event_name=f"request-created.{plan.service}.{plan.name}",
            )
    headers["Content-Length"] = str(len(body))
    return headers


def before_parameter_build(plan: Plan, params: dict[str, Any], context: dict[str, Any]) -> None:
    """The before-parameter-build handlers, on the caller's parameters (as botocore)."""
    for handler in plan.handlers.before_parameter_build:
        handler(
            params=params,
            model=plan.model,
            context=context,
            event_name=f"before-parameter-build.{plan.service}.{plan.name}",
        )


def invocation_id() -> str:
    """A version-4 UUID string, as botocore's ``amz-sdk-invocation-id`` (an id, not a secret)."""
    t = f"{random.getrandbits(128):032x}"
    return f"{t[:8]}-{t[8:12]}-4{t[13:16]}-{'89ab'[int(t[16], 16) & 3]}{t[17:20]}-{t[20:]}"


_Request = tuple[str, str, dict[str, str], bytes]


def _rebuild(plan: Plan, captured: Captured, frozen: Any, stamp: str) -> _Request:
    """The captured call as the fast path sends it: same parameters, clock and ids."""
    params = dict(captured.params)
    context = dict(plan.context)
    before_parameter_build(plan, params, context)
    if not plan.check(params):
        return ("", "", {}, b"parameters the fast path does not take")
    invocation = captured.headers.get("amz-sdk-invocation-id", "")
    context["retries"] = {"attempt": 1, "invocation-id": invocation}
    fields = (stamp[0:4], stamp[4:6], stamp[6:8], stamp[9:11], stamp[11:13], stamp[13:15])
    epoch = float(calendar.timegm(tuple(int(f) for f in fields)))  # strptime costs 7 ms once
    signer = SigV4Signer(plan.signer.region, plan.signer.service, clock=lambda: epoch)
    request_dict = prepare(plan, params, context)
    headers = attempt_headers(plan, request_dict, signer, frozen)
    return (captured.method, plan.url, _lower(headers), request_dict["body"])


def _lower(headers: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): _text(v) for k, v in headers.items()}


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _difference(ours: _Request, theirs: _Request) -> str:
    if ours[:2] != theirs[:2]:
        return f"{ours[0]} {ours[1]} vs {theirs[0]} {theirs[1]}"
    for key in sorted(set(ours[2]) | set(theirs[2])):
        if ours[2].get(key) != theirs[2].get(key):
            return f"header {key}"
    return "the body" if ours[3] != theirs[3] else "nothing"
