"""Which botocore event handlers the fast path can stand in for, and how.

botocore emits a dozen events around every call. The fast path takes over an operation only
when each handler registered for those events (on the client's emitter: the session's
handlers, copied when the client was created, plus the client's own) is one it knows:

* **called**: cheap handlers that work on plain data (the recursion-detection header, the
  retry headers, the retry decision, the retry quota...) are called with the very keyword
  arguments botocore would pass;
* **done by the fast path**: the request signer (SigV4, checked against botocore's own
  signature of the operation's first request) and the user-agent rebuild (the string botocore
  sent is kept);
* **constant per operation**: the signer choice, whose outcome the first request shows;
* **inert until switched on**: moto's ``BotocoreStubber`` (registered on every session once
  moto is imported) does nothing unless a ``mock_aws`` is active. The fast path checks it on
  every call and leaves the call to botocore, so to the mock, while it is on.

Any other handler, a user's on a passed-in session above all, sends the operation through
botocore, so it runs as it always did. Handlers are told apart by module and qualified name;
the library's own are recognised by identity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Handlers", "handler_key", "inspect_handlers", "lookup_marker"]

#: Events emitted around one call, as ``(prefix, per operation)`` (else per service).
EVENTS: tuple[tuple[str, bool], ...] = (
    ("provide-client-params", True),
    ("before-parameter-build", True),
    ("before-endpoint-resolution", False),
    ("before-call", True),
    ("request-created", True),
    ("choose-signer", True),
    ("before-sign", True),
    ("before-send", True),
    ("before-parse", True),
    ("response-received", True),
    ("needs-retry", True),
    ("after-call", True),
    ("after-call-error", True),
)

_CALLED: dict[str, frozenset[str]] = {
    "before-parameter-build": frozenset(
        {
            "botocore.handlers:generate_idempotent_uuid",
            "botocore.handlers:_handle_request_validation_mode_member",
        }
    ),
    "before-call": frozenset(
        {
            "botocore.handlers:add_recursion_detection_header",
            "botocore.handlers:inject_api_version_header_if_needed",
        }
    ),
    "request-created": frozenset(
        {
            "botocore.handlers:add_retry_headers",
            "botocore.retries.standard:MaxAttemptsSeeder.seed_max_attempts",
        }
    ),
    "needs-retry": frozenset(
        {
            "aiobotocore.retries.standard:AioRetryHandler.needs_retry",
            "aiobotocore.retryhandler:AioRetryHandler",
            "botocore.retries.standard:RetryHandler.needs_retry",
            "botocore.retryhandler:RetryHandler",
        }
    ),
    "after-call": frozenset({"botocore.retries.standard:RetryQuotaChecker.release_retry_quota"}),
}
SIGNER = "signer"
USER_AGENT = "user-agent"
_DONE: dict[str, dict[str, str]] = {
    "request-created": {
        "aiobotocore.signers:AioRequestSigner.handler": SIGNER,
        "botocore.signers:RequestSigner.handler": SIGNER,
        "botocore.useragent:UserAgentString.rebuild_and_replace_user_agent_handler": USER_AGENT,
    },
}
_CONSTANT: dict[str, frozenset[str]] = {
    "choose-signer": frozenset(
        {
            "botocore.handlers:set_operation_specific_signer",
            "botocore.handlers:_set_auth_scheme_preference_signer",
        }
    ),
}

#: Handlers that do nothing while their predicate says so (checked before every fast call).
_INERT_WHILE: dict[str, dict[str, Callable[[Any], bool]]] = {
    "before-send": {
        "moto.core.botocore_stubber:BotocoreStubber": lambda h: getattr(h, "enabled", 1) is False,
    },
}

#: One step of the request-created event: a handler to call, or SIGNER / USER_AGENT.
Step = Callable[..., Any] | str


@dataclass
class Handlers:
    """What the fast path runs for one operation, in botocore's order."""

    before_parameter_build: list[Callable[..., Any]] = field(default_factory=list)
    before_call: list[Callable[..., Any]] = field(default_factory=list)
    request_created: list[Step] = field(default_factory=list)
    needs_retry: list[Callable[..., Any]] = field(default_factory=list)
    after_call: list[Callable[..., Any]] = field(default_factory=list)
    #: ``active()`` of each handler that is inert for now: the call goes to botocore if any.
    switches: list[Callable[[], bool]] = field(default_factory=list)

    def switched_on(self) -> bool:
        """True when a handler that was inert is now on (a moto mock has started)."""
        return any(active() for active in self.switches)


def handler_key(handler: Any) -> str:
    """``module:qualname`` of a function, bound method or callable object."""
    func = getattr(handler, "__func__", handler)
    module = getattr(func, "__module__", None) or type(handler).__module__
    name = getattr(func, "__qualname__", None) or type(handler).__qualname__
    return f"{module}:{name}"


def lookup_marker(events: Any) -> object:
    """An object that changes whenever a handler is registered or unregistered.

    botocore's emitter replaces its lookup cache on every (un)registration.

    Raises:
        AttributeError: The emitter is not shaped as expected (the caller falls back).
    """
    return events._emitter._lookup_cache


def inspect_handlers(
    events: Any,
    service: str,
    operation: str,
    own_called: Iterable[Callable[..., Any]] = (),
    own_ignored: Iterable[Callable[..., Any]] = (),
) -> Handlers | str:
    """The handlers of ``operation``'s events, sorted into what the fast path does with them.

    Args:
        events: The client's ``meta.events``.
        service: The hyphenised service id (``"batch"``).
        operation: The operation name.
        own_called: The library's handlers the fast path calls like botocore's.
        own_ignored: The library's handlers the fast path does the work of itself.

    Returns:
        The :class:`Handlers`, or why the operation must go through botocore.

    Raises:
        AttributeError: The emitter is not shaped as expected (the caller falls back).
    """
    trie = events._emitter._handlers
    called = list(own_called)
    ignored = list(own_ignored)
    plan = Handlers()
    for prefix, per_operation in EVENTS:
        name = f"{prefix}.{service}.{operation}" if per_operation else f"{prefix}.{service}"
        for handler in trie.prefix_search(name):
            if any(handler == own for own in ignored):
                continue
            key = handler_key(handler)
            if any(handler == own for own in called) or key in _CALLED.get(prefix, ()):
                target = _target(plan, prefix)
                if target is None:
                    return f"{key} on {name}"
                target.append(handler)
            elif key in _DONE.get(prefix, {}):
                plan.request_created.append(_DONE[prefix][key])
            elif key in _INERT_WHILE.get(prefix, {}):
                plan.switches.append(_switch(handler, _INERT_WHILE[prefix][key]))
            elif key not in _CONSTANT.get(prefix, ()):
                return f"the handler {key} on {name}"
    if plan.request_created.count(SIGNER) != 1:
        return "no single request signer"
    return plan


def _switch(handler: Any, inert: Callable[[Any], bool]) -> Callable[[], bool]:
    def active() -> bool:
        return not inert(handler)

    return active


def _target(plan: Handlers, prefix: str) -> list[Any] | None:
    targets: dict[str, list[Any]] = {
        "before-parameter-build": plan.before_parameter_build,
        "before-call": plan.before_call,
        "request-created": plan.request_created,
        "needs-retry": plan.needs_retry,
        "after-call": plan.after_call,
    }
    return targets.get(prefix)
