"""OpenTelemetry traces and metrics of the library's own work: the one place that talks to it.

Every hook in the rest of the package is a line or two calling a :class:`Telemetry` (the
service's, ``BatchService._telemetry``). Without the ``opentelemetry-api`` package the service
gets :data:`NOOP`, whose methods return at once; nothing of OpenTelemetry is imported. With it,
the spans and instruments come from the providers given to ``BatchService`` or the global ones
(the API's no-op until the application configures an SDK).

What is traced (span names, attributes, metric names and units) and why: ``docs/observability.md``.
Spans are the library's operations (a submit with its retries, a wait, a sweep of the poller, a
bulk stop, a log read, an event receive); the AWS calls inside them are
``opentelemetry-instrumentation-botocore``'s to trace, and nest under ours. Attributes never hold
request parameters, environment values or credentials: only ids, names, counts and error types.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from .._errors import BatchAPIError, ThrottlingError
from .instruments import SCOPE, instruments_of

if TYPE_CHECKING:
    from .._waiting.subscription import Subscription

__all__ = [
    "INSTRUMENTATION_NAME",
    "NOOP",
    "Telemetry",
    "create_telemetry",
    "traced_bulk_stop",
    "traced_log_read",
    "traced_submit",
]

#: The instrumentation scope of every span and instrument (and the prefix of their names).
INSTRUMENTATION_NAME = SCOPE
#: The most links a sweep span carries (the SDK's default limit is 128).
MAX_SWEEP_LINKS = 100
SUBMIT_SPAN = f"{INSTRUMENTATION_NAME}.submit"
_SUBMIT_ATTRIBUTES = {"rpc.system": "aws-api", "rpc.service": "Batch", "rpc.method": "SubmitJob"}

_F = TypeVar("_F", bound=Callable[..., Any])


class _HasTelemetry(Protocol):
    telemetry: Telemetry


class _Api:
    """The OpenTelemetry API modules, imported once (only when the package is installed)."""

    def __init__(self) -> None:
        from opentelemetry import context, metrics, trace

        self.context = context
        self.metrics = metrics
        self.trace = trace
        self.Link = trace.Link
        self.Status = trace.Status
        self.StatusCode = trace.StatusCode
        self.root = context.Context()  # a sweep's parent: none (it links to its waits)


_api: _Api | None = None
_api_missing = False


def _load_api() -> _Api | None:
    """The API, or ``None`` when ``opentelemetry-api`` is not installed (tried once)."""
    global _api, _api_missing
    if _api is None and not _api_missing:
        try:
            _api = _Api()
        except ImportError:
            _api_missing = True
    return _api


def create_telemetry(tracer_provider: Any = None, meter_provider: Any = None) -> Telemetry:
    """The telemetry of one service: :data:`NOOP` without the API package.

    Args:
        tracer_provider: Where spans go; the global provider if ``None``.
        meter_provider: Where metrics go; the global provider if ``None``.

    Returns:
        A live :class:`Telemetry`, or :data:`NOOP`.

    Raises:
        ImportError: A provider was given but ``opentelemetry-api`` cannot be imported.
    """
    api = _load_api()
    if api is None:
        if tracer_provider is not None or meter_provider is not None:
            raise ImportError(
                "tracer_provider/meter_provider need OpenTelemetry: "
                'pip install "aws-batch-async[otel]"'
            )
        return NOOP
    return Telemetry(api, tracer_provider, meter_provider)


class Telemetry:
    """The spans and metrics of one service (see the module docstring).

    Args:
        api: The OpenTelemetry API; ``None`` for the no-op telemetry.
        tracer_provider: Where spans go; the global provider if ``None``.
        meter_provider: Where metrics go; the global provider if ``None``.

    Attributes:
        enabled: False for :data:`NOOP`: every method returns at once.
    """

    def __init__(
        self, api: _Api | None = None, tracer_provider: Any = None, meter_provider: Any = None
    ) -> None:
        self.enabled = api is not None
        self._api = cast("_Api", api)
        self._live = tracer_provider is not None or meter_provider is not None
        if api is None:
            return
        self._tracer = api.trace.get_tracer(INSTRUMENTATION_NAME, tracer_provider=tracer_provider)
        self._m = instruments_of(api.metrics, meter_provider)

    def live(self) -> bool:
        """Whether anything would record: a provider given, or an SDK set as the global one.

        Until then (the API alone, its global providers unset) the hooks skip even the
        API's no-op spans. An SDK, once set, stays: so does the answer.
        """
        if self._live or not self.enabled:
            return self._live
        api = self._api
        self._live = not isinstance(api.trace.get_tracer_provider(), api.trace.ProxyTracerProvider)
        self._live |= type(api.metrics.get_meter_provider()).__name__ != "_ProxyMeterProvider"
        return self._live

    # -- submit ----------------------------------------------------------------------------

    def event(self, name: str, attributes: Mapping[str, Any] | None = None) -> None:
        """Add an event (a retry, a lookup...) to the current span, if it records."""
        if not self.enabled:
            return
        span = self._api.trace.get_current_span()
        if span.is_recording():
            span.add_event(name, dict(attributes or {}))

    # -- calls (Clients.call) ----------------------------------------------------------------

    def on_response(self, response: Mapping[str, Any]) -> None:
        """Put an answer's request id on the current span, if it is one of ours."""
        if not self._live:
            return
        span = self._api.trace.get_current_span()
        if span.is_recording() and getattr(span, "name", "").startswith(INSTRUMENTATION_NAME):
            request_id = (response.get("ResponseMetadata") or {}).get("RequestId")
            if request_id:
                span.set_attribute("aws.request_id", request_id)

    def on_error(self, operation: str, error: BaseException) -> None:
        """Count a throttled Batch call; an error's request id goes on the current span."""
        if not self.enabled:
            return
        if isinstance(error, ThrottlingError):
            self._m.throttles.add(1, {"rpc.method": operation})
        span = self._api.trace.get_current_span()
        if span.is_recording() and isinstance(error, BatchAPIError) and error.request_id:
            span.set_attribute("aws.request_id", error.request_id)

    def observe_limiter(self, limiter: Any) -> None:
        """Report ``limiter.rate`` through the ``aws_batch_async.limiter.rate`` gauge."""
        if self.enabled:
            self._m.limiters.add(limiter)

    # -- waits -------------------------------------------------------------------------------

    def observe_poller(self, poller: Any) -> None:
        """Report ``poller.tracked`` through the ``aws_batch_async.poller.tracked_jobs`` gauge."""
        if self.enabled:
            self._m.pollers.add(poller)

    def start_wait(self, subscription: Subscription) -> None:
        """Open a wait's span, a child of the caller's current span, on the subscription."""
        if not self.live():
            return
        ids = subscription.job_ids
        attributes: dict[str, Any] = {"aws.batch.job_count": len(ids)}
        if len(ids) == 1:
            attributes["aws.batch.job_id"] = ids[0]
        subscription.span = self._tracer.start_span(
            f"{INSTRUMENTATION_NAME}.wait", attributes=attributes
        )
        subscription.span_started = time.perf_counter()
        self._m.active_waits += 1

    def wait_outcome(
        self, subscriptions: Iterable[Subscription], job_id: str, outcome: object
    ) -> None:
        """Record a job's last word (terminal status or error) on the waits that had it."""
        if not self.enabled:
            return
        status = getattr(outcome, "status", None)
        for subscription in subscriptions:
            span = subscription.span
            if span is None:
                continue
            if isinstance(outcome, BaseException):
                _fail(self._api, span, outcome)
            else:
                span.add_event(
                    "job finished",
                    {"aws.batch.job_id": job_id, "aws.batch.job_status": str(_value(status))},
                )

    def end_wait(self, subscription: Subscription) -> None:
        """Close a wait's span (the subscription was closed)."""
        span = subscription.span
        if span is None:
            return
        subscription.span = None
        self._m.active_waits -= 1
        self._m.wait_duration.record(time.perf_counter() - subscription.span_started)
        span.end()

    @contextlib.contextmanager
    def sweep(self, ids: list[str], jobs: Mapping[str, Any], calls: int) -> Iterator[Any]:
        """A root span for one sweep of the poller, linked to the waits it serves.

        Yields a function to call with the sweep's results (answers or errors).
        """
        if not self.live():
            yield _ignore
            return
        api = self._api
        links: list[Any] = []
        seen: set[int] = set()
        for job_id in ids:
            job = jobs.get(job_id)
            for subscription in () if job is None else job.subscribers:
                span = subscription.span
                if span is not None and id(span) not in seen and len(links) < MAX_SWEEP_LINKS:
                    seen.add(id(span))
                    links.append(api.Link(span.get_span_context()))
        attributes = {
            "rpc.system": "aws-api",
            "rpc.service": "Batch",
            "rpc.method": "DescribeJobs",
            "aws.batch.job_count": len(ids),
            "aws.batch.calls": calls,
        }
        started = time.perf_counter()
        with self._tracer.start_as_current_span(
            f"{INSTRUMENTATION_NAME}.sweep",
            context=api.root,
            links=links,
            attributes=attributes,
            record_exception=False,
        ) as span:

            def note(results: list[Any]) -> None:
                for result in results:
                    outcome = "ok" if not isinstance(result, BaseException) else _kind(result)
                    self._m.sweep_calls.add(1, {"outcome": outcome})
                errors = [r for r in results if isinstance(r, BaseException)]
                if errors:
                    span.set_attribute("aws.batch.failed_calls", len(errors))
                    span.set_attribute("error.type", _kind(errors[0]))

            yield note
        self._m.sweep_duration.record(time.perf_counter() - started)

    # -- events --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def receive(self, queue_url: str) -> Iterator[Callable[[list[dict[str, Any]]], None]]:
        """A root span for one SQS receive of the event feed; yields a function for its messages."""
        if not self.live():
            yield _ignore
            return
        attributes = {
            "rpc.system": "aws-api",
            "rpc.service": "SQS",
            "rpc.method": "ReceiveMessage",
            "messaging.system": "aws_sqs",
            "messaging.destination.name": queue_url.rsplit("/", 1)[-1],
        }
        with self._tracer.start_as_current_span(
            f"{INSTRUMENTATION_NAME}.events.receive",
            context=self._api.root,
            attributes=attributes,
            record_exception=False,
        ) as span:

            def note(messages: list[dict[str, Any]]) -> None:
                span.set_attribute("messaging.batch.message_count", len(messages))
                self._m.events.add(len(messages))
                now = time.time()
                for message in messages:
                    sent = _event_time(message.get("Body"))
                    if sent is not None:
                        self._m.event_lag.record(max(0.0, now - sent))

            yield note

    # -- fast path -----------------------------------------------------------------------------

    def fast_path_fallback(self, operation: str, reason: str) -> None:
        """Count an operation the fast path left to botocore (the reason's first words)."""
        if self.enabled:
            kind = reason.split(":", 1)[0].split("(", 1)[0].strip()[:60]
            self._m.fallbacks.add(1, {"rpc.method": operation, "reason": kind})

    # -- spans of decorated methods --------------------------------------------------------------

    @contextlib.contextmanager
    def span(self, name: str, attributes: Mapping[str, Any]) -> Iterator[Any]:
        """A span of the library's work, current while the block runs; errors set its status."""
        with self._tracer.start_as_current_span(
            f"{INSTRUMENTATION_NAME}.{name}", attributes=dict(attributes), record_exception=False
        ) as span:
            try:
                yield span
            except BaseException as exc:
                _fail(self._api, span, exc)
                raise

    def start_span(self, name: str, attributes: Mapping[str, Any]) -> Any:
        """A span of the library's work that is not made current (across an iterator's yields)."""
        return self._tracer.start_span(
            f"{INSTRUMENTATION_NAME}.{name}", attributes=dict(attributes)
        )

    def fail(self, span: Any, error: BaseException) -> None:
        """Mark ``span`` failed with ``error``'s type (its message may hold user data: omitted)."""
        _fail(self._api, span, error)


#: The telemetry of a service without OpenTelemetry: every method returns at once.
NOOP = Telemetry()


def traced_submit(method: _F) -> _F:
    """Decorate ``Submitter.submit``: a span per submission, its outcome counted."""

    @functools.wraps(method)
    async def submit(self: _HasTelemetry, sub: Any, *args: Any, **kwargs: Any) -> Any:
        # Runs once per job of a fan-out: no context manager, no closure, no attribute work
        # for a span the sampler dropped (docs/observability.md has the cost, µs by µs).
        telemetry = self.telemetry
        if not telemetry.live():
            return await method(self, sub, *args, **kwargs)
        api = telemetry._api
        job_queue = sub.job_queue
        span = telemetry._tracer.start_span(
            SUBMIT_SPAN,
            attributes={
                **_SUBMIT_ATTRIBUTES,
                "aws.batch.job_name": sub.job_name,
                "aws.batch.job_queue": job_queue,
            },
        )
        # Current while it runs: its retries and lookups become events on it, AWS-call spans
        # its children (a sampled-out span too: its context still propagates).
        token = api.context.attach(api.trace.set_span_in_context(span))
        try:
            result = await method(self, sub, *args, **kwargs)
        except BaseException as exc:
            api.context.detach(token)
            if span.is_recording():
                _fail(api, span, exc)
            span.end()
            telemetry._m.count_submit(job_queue, _kind(exc))
            raise
        api.context.detach(token)
        if span.is_recording():
            span.set_attribute("aws.batch.job_id", result.job_id)
        span.end()
        telemetry._m.count_submit(job_queue, None)
        return result

    return cast("_F", submit)


def traced_bulk_stop(method: _F) -> _F:
    """Decorate ``BulkStopper.stop``: a span per bulk stop, with its counts."""

    @functools.wraps(method)
    async def stop(
        self: _HasTelemetry, bulk: str, single: str, job_ids: Any, *args: Any, **kwargs: Any
    ) -> Any:
        telemetry = self.telemetry
        if not telemetry.live():
            return await method(self, bulk, single, job_ids, *args, **kwargs)
        attributes = {"rpc.system": "aws-api", "rpc.service": "Batch", "rpc.method": bulk}
        with telemetry.span("bulk_stop", attributes) as span:
            result = await method(self, bulk, single, job_ids, *args, **kwargs)
            span.set_attribute("aws.batch.job_count", len(result.succeeded) + len(result.failed))
            span.set_attribute("aws.batch.failed_jobs", len(result.failed))
            return result

    return cast("_F", stop)


def traced_log_read(method: _F) -> _F:
    """Decorate ``LogReader.events``: a span per read (not current: it spans the yields)."""

    @functools.wraps(method)
    def events(self: _HasTelemetry, job_id: str, *args: Any, **kwargs: Any) -> Any:
        inner = method(self, job_id, *args, **kwargs)
        telemetry = self.telemetry
        if not telemetry.live():
            return inner
        attributes = {
            "rpc.system": "aws-api",
            "rpc.service": "CloudWatch Logs",
            "rpc.method": "GetLogEvents",
            "aws.batch.job_id": job_id,
            "aws.batch.follow": bool(kwargs.get("follow", False)),
        }
        return _counted(telemetry, telemetry.start_span("logs.read", attributes), inner)

    return cast("_F", events)


async def _counted(
    telemetry: Telemetry, span: Any, inner: AsyncGenerator[Any, None]
) -> AsyncGenerator[Any, None]:
    lines = 0
    try:
        async with contextlib.aclosing(inner):
            async for item in inner:
                lines += 1
                yield item
    except Exception as exc:
        telemetry.fail(span, exc)
        raise
    finally:
        span.set_attribute("aws.batch.log_events", lines)
        span.end()


def _fail(api: _Api, span: Any, error: BaseException) -> None:
    span.set_attribute("error.type", _kind(error))
    code = getattr(error, "code", None)
    if isinstance(code, str):
        span.set_attribute("aws.error_code", code)
    request_id = getattr(error, "request_id", None)
    if isinstance(request_id, str) and request_id:
        span.set_attribute("aws.request_id", request_id)
    span.set_status(api.Status(api.StatusCode.ERROR, type(error).__name__))


def _kind(error: BaseException) -> str:
    return type(error).__name__


def _value(status: object) -> object:
    return getattr(status, "value", status)


def _ignore(_: Any) -> None:
    return None


def _event_time(body: object) -> float | None:
    """An EventBridge event's ``time`` (epoch seconds) from an SQS body, if it has one."""
    if not isinstance(body, str):
        return None
    try:
        stamp = json.loads(body).get("time")
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError, TypeError):
        return None
