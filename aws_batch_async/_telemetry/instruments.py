"""The metric instruments of ``_telemetry/hooks.py``: names, units, descriptions, observed sources.

One set per meter provider, shared by every service that uses it (an SDK refuses a second
instrument of the same name with other callbacks). The table is in ``docs/observability.md``.

``aws_batch_async.submits`` runs once per job of a fan-out, so it is an asynchronous counter:
:meth:`Instruments.count_submit` adds one to a dict, and the SDK reads the totals when it
collects (a synchronous ``add`` with attributes costs the SDK about 7 µs per call; the figures
are in ``docs/observability.md``). ``waits.active`` likewise reads an integer.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

__all__ = ["SCOPE", "Instruments", "instruments_of"]

#: The instrumentation scope of every span and instrument (and the prefix of their names).
SCOPE = "aws_batch_async"


class Instruments:
    """The instruments of one meter provider, shared by every service that uses it."""

    def __init__(self, metrics: Any, meter: Any) -> None:
        self.limiters: weakref.WeakSet[Any] = weakref.WeakSet()
        self.pollers: weakref.WeakSet[Any] = weakref.WeakSet()
        #: Submissions by (job queue, error type or ``None``), and each key's attributes.
        self.submit_counts: dict[tuple[str, str | None], int] = {}
        self._submit_attributes: dict[tuple[str, str | None], dict[str, str]] = {}
        self.throttles = meter.create_counter(
            "aws_batch_async.throttles",
            unit="{throttle}",
            description="AWS Batch calls answered with throttling, by rpc.method.",
        )
        #: Waits under way, read by ``aws_batch_async.waits.active`` at collection.
        self.active_waits = 0
        self.wait_duration = meter.create_histogram(
            "aws_batch_async.wait.duration", unit="s", description="From subscribe to result."
        )
        self.sweep_calls = meter.create_counter(
            "aws_batch_async.poller.calls",
            unit="{call}",
            description="DescribeJobs calls of the poller's sweeps, by outcome.",
        )
        self.sweep_duration = meter.create_histogram(
            "aws_batch_async.poller.sweep.duration", unit="s", description="One sweep's calls."
        )
        self.event_lag = meter.create_histogram(
            "aws_batch_async.events.lag",
            unit="s",
            description="From a job state change event's time to its receipt.",
        )
        self.events = meter.create_counter(
            "aws_batch_async.events.received", unit="{event}", description="SQS messages received."
        )
        self.fallbacks = meter.create_counter(
            "aws_batch_async.fast_path.fallbacks",
            unit="{fallback}",
            description="Operations the fast path left to botocore, by rpc.method and reason.",
        )
        observation = metrics.Observation

        def rates(_: Any) -> Iterator[Any]:
            for limiter in list(self.limiters):
                rate = limiter.rate
                if rate is not None:
                    yield observation(rate, {"rpc.method": "SubmitJob"})

        def tracked(_: Any) -> Iterator[Any]:
            yield observation(sum(poller.tracked for poller in list(self.pollers)))

        def submits(_: Any) -> Iterator[Any]:
            attributes = self._submit_attributes
            for key, count in list(self.submit_counts.items()):
                yield observation(count, attributes[key])

        def waits(_: Any) -> Iterator[Any]:
            yield observation(self.active_waits)

        meter.create_observable_up_down_counter(
            "aws_batch_async.waits.active",
            callbacks=[waits],
            unit="{wait}",
            description="Waits under way.",
        )
        meter.create_observable_counter(
            "aws_batch_async.submits",
            callbacks=[submits],
            unit="{submit}",
            description="Submissions by outcome.",
        )
        meter.create_observable_gauge(
            "aws_batch_async.limiter.rate",
            callbacks=[rates],
            unit="{request}/s",
            description="The SubmitJob rate limiter's current rate.",
        )
        meter.create_observable_gauge(
            "aws_batch_async.poller.tracked_jobs",
            callbacks=[tracked],
            unit="{job}",
            description="Jobs the pollers track for waits.",
        )

    def count_submit(self, job_queue: str, error_type: str | None) -> None:
        """Count one submission: created (``error_type`` ``None``) or failed.

        Args:
            job_queue: The job queue it was sent to.
            error_type: The class name of the error it raised, or ``None``.
        """
        key = (job_queue, error_type)
        counts = self.submit_counts
        if key in counts:
            counts[key] += 1
            return
        attributes = {"rpc.method": "SubmitJob", "aws.batch.job_queue": job_queue}
        if error_type is None:
            attributes["outcome"] = "created"
        else:
            attributes.update({"outcome": "error", "error.type": error_type})
        self._submit_attributes[key] = attributes  # before the count: the reader's thread
        counts[key] = 1


#: One set of instruments per meter provider given to a service (dropped with the provider).
_of_provider: weakref.WeakKeyDictionary[Any, Instruments] = weakref.WeakKeyDictionary()
#: The instruments of the global meter provider (``None`` until a service uses it).
_of_global: list[Instruments] = []


def instruments_of(metrics: Any, meter_provider: Any) -> Instruments:
    """The instruments of ``meter_provider`` (``None``: the global one), created once.

    Args:
        metrics: The ``opentelemetry.metrics`` module.
        meter_provider: The provider a service was given, or ``None``.

    Returns:
        The shared :class:`Instruments`.
    """
    known = _of_global[0] if meter_provider is None and _of_global else None
    if meter_provider is not None:
        known = _of_provider.get(meter_provider)
    if known is None:
        meter = metrics.get_meter(SCOPE, meter_provider=meter_provider)
        known = Instruments(metrics, meter)
        if meter_provider is None:
            _of_global.append(known)
        else:
            _of_provider[meter_provider] = known
    return known
