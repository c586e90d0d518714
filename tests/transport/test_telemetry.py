"""OpenTelemetry: the library's spans and metrics, read back from the SDK's in-memory exporters.

Every test runs the real path against the moto server through the proxy (``config``); the
providers are given to ``BatchService`` so nothing global is touched.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from aiobotocore.session import AioSession
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import ExemplarFilter, MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, StatusCode
from opentelemetry.util.types import Attributes

from aws_batch_async import (
    BatchConfig,
    BatchService,
    JobNotFoundError,
    JobRequest,
    PollPolicy,
    SubmitRetry,
)
from aws_batch_async.testing import BatchProxy, LocalBatch

FAST_POLL = PollPolicy(initial_interval=0.05, max_interval=0.2, not_found_grace=0.3)
FAST_RETRY = SubmitRetry(lookup_delays=(0.05, 0.1), initial_backoff=0.02, max_backoff=0.1)
SECRET = "s3cr3t-value-never-exported"


@dataclass
class Otel:
    """An SDK wired to in-memory exporters."""

    spans: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def finished(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans.get_finished_spans() if s.name == f"aws_batch_async.{name}"]

    def metrics(self) -> dict[str, list[Any]]:
        """Metric name -> its data points (of the aws_batch_async scope)."""
        data = self.reader.get_metrics_data()
        found: dict[str, list[Any]] = {}
        for resource in data.resource_metrics if data is not None else []:
            for scope in resource.scope_metrics:
                if scope.scope.name != "aws_batch_async":
                    continue
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found

    def total(self, name: str, **attributes: Any) -> float:
        points = self.metrics().get(name, [])
        wanted = attributes.items()
        chosen = [p for p in points if all(p.attributes.get(k) == v for k, v in wanted)]
        return float(sum(p.value for p in chosen))

    def service(self, config: BatchConfig) -> BatchService:
        return BatchService(
            config, tracer_provider=self.tracer_provider, meter_provider=self.meter_provider
        )


@pytest.fixture
def otel() -> Iterator[Otel]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Otel(spans, reader, tracer_provider, meter_provider)
    tracer_provider.shutdown()
    meter_provider.shutdown()


@pytest.fixture
async def traced(otel: Otel, config: BatchConfig) -> AsyncIterator[BatchService]:
    config = config.model_copy(update={"poll": FAST_POLL})
    async with otel.service(config) as service:
        yield service


async def test_a_submit_is_one_span_with_aws_attributes_and_is_counted(
    otel: Otel, traced: BatchService, config: BatchConfig
) -> None:
    job = await traced.submit_job(JobRequest(command=["true"], job_name="otel-one"))

    (span,) = otel.finished("submit")
    attributes = dict(span.attributes or {})
    assert attributes["rpc.system"] == "aws-api"
    assert attributes["rpc.service"] == "Batch"
    assert attributes["rpc.method"] == "SubmitJob"
    assert attributes["aws.batch.job_id"] == job.job_id
    assert attributes["aws.batch.job_queue"] == config.job_queue
    assert attributes["aws.request_id"]
    assert span.status.status_code is not StatusCode.ERROR
    assert otel.total("aws_batch_async.submits", outcome="created") == 1
    rates = otel.metrics()["aws_batch_async.limiter.rate"]
    assert [p.value for p in rates] == [config.submit_rate_limit]


async def test_a_throttled_submit_records_the_retry_and_counts_the_throttle(
    otel: Otel, traced: BatchService, proxy: BatchProxy
) -> None:
    proxy.inject_error("SubmitJob", status=429, code="TooManyRequestsException", times=2)

    await traced.submit_job(JobRequest(command=["true"]), retry=FAST_RETRY)

    (span,) = otel.finished("submit")
    retries = [e for e in span.events if e.name == "retry"]
    assert [dict(e.attributes or {}) for e in retries] == [
        {"reason": "throttled", "attempt": 1},
        {"reason": "throttled", "attempt": 2},
    ]
    assert otel.total("aws_batch_async.throttles", **{"rpc.method": "SubmitJob"}) == 2
    assert otel.total("aws_batch_async.submits", outcome="created") == 1


async def test_a_lost_answer_shows_the_lookup_and_a_rejection_fails_the_span(
    otel: Otel, traced: BatchService, proxy: BatchProxy
) -> None:
    proxy.drop_responses("SubmitJob", times=1)
    await traced.submit_job(JobRequest(command=["true"]), retry=FAST_RETRY)
    proxy.inject_error("SubmitJob", status=400, code="ClientException", times=1)
    with pytest.raises(Exception, match="Injected fault"):
        await traced.submit_job(JobRequest(command=["true"]), retry=FAST_RETRY)

    found, rejected = otel.finished("submit")
    names = [e.name for e in found.events]
    assert names[0] == "outcome unknown"
    assert "lookup" in names
    assert dict(found.events[names.index("lookup")].attributes or {}) == {"found": True}
    assert rejected.status.status_code is StatusCode.ERROR
    assert rejected.attributes is not None
    assert rejected.attributes["error.type"] == "BatchAPIError"
    assert rejected.attributes["aws.error_code"] == "ClientException"
    assert otel.total("aws_batch_async.submits", outcome="error") == 1
    assert otel.total("aws_batch_async.submits", outcome="created") == 1


class CountingSampler(Sampler):
    """Drops every span (``ALWAYS_OFF``), noting the name of each span it was asked about."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        self.asked.append(name)
        return ALWAYS_OFF.should_sample(parent_context, trace_id, name, kind, attributes, links)

    def get_description(self) -> str:
        return "CountingSampler"


class CountingExemplarFilter(ExemplarFilter):
    """Sees every synchronous measurement the meter is handed (and keeps no exemplar)."""

    def __init__(self) -> None:
        self.measured: list[dict[str, Any]] = []

    def should_sample(
        self, value: float, time_unix_nano: int, attributes: Attributes, context: Context
    ) -> bool:
        self.measured.append(dict(attributes or {}))
        return False


async def test_a_sampled_out_fan_out_costs_the_sdk_one_decision_per_job_and_is_counted(
    config: BatchConfig, proxy: BatchProxy
) -> None:
    sampler, measurements = CountingSampler(), CountingExemplarFilter()
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider(sampler=sampler)
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader], exemplar_filter=measurements)
    otel = Otel(spans, reader, tracer_provider, meter_provider)
    proxy.inject_error("SubmitJob", status=429, code="TooManyRequestsException", times=1)
    try:
        async with otel.service(config) as service:
            await service.submit_jobs([JobRequest(command=["true"]) for _ in range(10)])
    finally:
        tracer_provider.shutdown()
        meter_provider.shutdown()

    # One span per job, none per attempt (one was throttled and retried); all dropped.
    assert sampler.asked == ["aws_batch_async.submit"] * 10
    assert spans.get_finished_spans() == ()
    # The submissions reach the meter only when it collects: no measurement per job.
    assert measurements.measured == [{"rpc.method": "SubmitJob"}]  # the throttle
    assert otel.total("aws_batch_async.submits", outcome="created") == 10
    assert otel.total("aws_batch_async.throttles") == 1


async def test_a_wait_hands_the_meter_one_measurement_its_duration(config: BatchConfig) -> None:
    measurements = CountingExemplarFilter()
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader], exemplar_filter=measurements)
    otel = Otel(spans, reader, tracer_provider, meter_provider)
    try:
        async with otel.service(config.model_copy(update={"poll": FAST_POLL})) as service:
            job = await service.submit_job(JobRequest(command=["true"]))
            measurements.measured.clear()
            await service.wait_for(job.job_id)
            measured = list(measurements.measured)  # before a collection adds its observations
    finally:
        tracer_provider.shutdown()
        meter_provider.shutdown()

    # Per sweep a poller.calls add and a sweep.duration record; per wait only its duration
    # (waits.active is read at collection).
    sweeps = otel.finished("sweep")
    assert sweeps
    assert len(measured) == 1 + 2 * len(sweeps)
    assert otel.total("aws_batch_async.waits.active") == 0
    (duration,) = otel.metrics()["aws_batch_async.wait.duration"]
    assert duration.count == 1


async def test_a_wait_is_a_child_of_the_callers_span_and_the_sweep_links_to_it(
    otel: Otel, traced: BatchService
) -> None:
    job = await traced.submit_job(JobRequest(command=["true"]))
    tracer = otel.tracer_provider.get_tracer("the-app")
    with tracer.start_as_current_span("request") as parent:
        await traced.wait_for(job.job_id)

    (wait,) = otel.finished("wait")
    assert wait.parent is not None
    assert wait.parent.span_id == parent.get_span_context().span_id
    assert wait.attributes is not None
    assert wait.attributes["aws.batch.job_id"] == job.job_id
    assert [e.name for e in wait.events] == ["job finished"]
    sweeps = otel.finished("sweep")
    assert sweeps
    for sweep in sweeps:
        assert sweep.parent is None  # a root: it serves many callers' waits
        assert sweep.attributes is not None
        assert sweep.attributes["rpc.method"] == "DescribeJobs"
    assert wait.context is not None
    assert any(link.context.span_id == wait.context.span_id for s in sweeps for link in s.links)
    assert otel.total("aws_batch_async.waits.active") == 0
    (duration,) = otel.metrics()["aws_batch_async.wait.duration"]
    assert duration.count == 1
    assert otel.total("aws_batch_async.poller.calls", outcome="ok") == len(sweeps)
    assert otel.metrics()["aws_batch_async.poller.sweep.duration"][0].count == len(sweeps)


async def test_one_sweep_serves_many_waits_and_links_each(otel: Otel, traced: BatchService) -> None:
    jobs = await traced.submit_jobs([JobRequest(command=["true"]) for _ in range(5)])
    assert len(otel.finished("submit")) == 5

    async def wait(job_id: str) -> None:
        await traced.wait_for(job_id)

    await asyncio.gather(*(wait(j.job_id) for j in jobs))

    waits = otel.finished("wait")
    assert len(waits) == 5
    linked = {link.context.span_id for s in otel.finished("sweep") for link in s.links}
    assert {w.context.span_id for w in waits if w.context is not None} <= linked
    assert len(otel.finished("sweep")) < 5  # coalesced


async def test_as_completed_is_one_wait_span_for_all_its_jobs(
    otel: Otel, traced: BatchService
) -> None:
    jobs = await traced.submit_jobs([JobRequest(command=["true"]) for _ in range(3)])
    done = [job.job_id async for job in traced.as_completed([j.job_id for j in jobs])]

    (wait,) = otel.finished("wait")
    assert wait.attributes is not None
    assert wait.attributes["aws.batch.job_count"] == 3
    assert "aws.batch.job_id" not in wait.attributes
    finished = [dict(e.attributes or {}) for e in wait.events if e.name == "job finished"]
    assert sorted(str(e["aws.batch.job_id"]) for e in finished) == sorted(done)
    assert {e["aws.batch.job_status"] for e in finished} == {"SUCCEEDED"}


async def test_the_tracked_jobs_gauge_reads_the_poller(otel: Otel, traced: BatchService) -> None:
    task = asyncio.ensure_future(traced.wait_for("never-there-yet", raise_on_failure=False))
    await asyncio.sleep(0.01)
    assert otel.total("aws_batch_async.poller.tracked_jobs") == 1
    assert otel.total("aws_batch_async.waits.active") == 1
    with pytest.raises(JobNotFoundError):
        await task
    assert otel.total("aws_batch_async.poller.tracked_jobs") == 0

    (wait,) = otel.finished("wait")
    assert wait.status.status_code is StatusCode.ERROR
    assert wait.attributes is not None
    assert wait.attributes["error.type"] == "JobNotFoundError"


async def test_bulk_stop_and_log_reads_are_spans(otel: Otel, traced: BatchService) -> None:
    jobs = await traced.submit_jobs([JobRequest(command=["true"]) for _ in range(3)])
    await traced.terminate_jobs([j.job_id for j in jobs], "done with them")
    lines = [event async for event in traced.get_logs(jobs[0].job_id)]

    (stop,) = otel.finished("bulk_stop")
    assert stop.attributes is not None
    assert stop.attributes["rpc.method"] == "TerminateJobs"
    assert stop.attributes["aws.batch.job_count"] == 3
    (read,) = otel.finished("logs.read")
    assert read.attributes is not None
    assert read.attributes["aws.batch.job_id"] == jobs[0].job_id
    assert read.attributes["aws.batch.log_events"] == len(lines)


async def test_no_secret_reaches_an_attribute_or_an_event(
    otel: Otel, traced: BatchService, proxy: BatchProxy
) -> None:
    proxy.drop_responses("SubmitJob", times=1)
    request = JobRequest(
        command=["echo", SECRET],
        env_vars={"TOKEN": SECRET},
        parameters={"password": SECRET},
    )
    job = await traced.submit_job(request, retry=FAST_RETRY)
    await traced.wait_for(job.job_id)

    spans = otel.spans.get_finished_spans()
    assert spans
    for span in spans:
        texts = [str(v) for v in (span.attributes or {}).values()]
        texts += [str(v) for e in span.events for v in (e.attributes or {}).values()]
        texts += [e.name for e in span.events] + [span.status.description or ""]
        assert not any(SECRET in text for text in texts), span.name
    for points in otel.metrics().values():
        for point in points:
            assert SECRET not in str(point.attributes)


async def test_the_global_providers_are_used_when_none_is_given(
    otel: Otel, config: BatchConfig
) -> None:
    # The API's own proxy tracer: a non-recording span, nothing exported anywhere.
    async with BatchService(config) as service:
        await service.submit_job(JobRequest(command=["true"]))
        assert not service._telemetry.live()  # no SDK anywhere: the hooks skip
    assert otel.spans.get_finished_spans() == ()
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def test_without_opentelemetry_the_service_runs_without_importing_it() -> None:
    script = textwrap.dedent(
        """
        import sys
        import aws_batch_async  # installed, but not imported until a service is created
        assert not any(m.startswith("opentelemetry") for m in sys.modules)
        sys.modules["opentelemetry"] = None  # now as if the package were not installed
        from aws_batch_async import BatchService, BatchConfig
        from aws_batch_async._telemetry.hooks import NOOP

        service = BatchService(BatchConfig(region="us-east-1"))
        assert service._telemetry is NOOP
        assert not [m for m in sys.modules if m.startswith("opentelemetry") and sys.modules[m]]
        try:
            BatchService(BatchConfig(region="us-east-1"), tracer_provider=object())
        except ImportError as exc:
            assert "aws-batch-async[otel]" in str(exc)
        else:
            raise AssertionError("a provider without the package must be refused")
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


async def test_the_fast_path_stepping_aside_is_counted(otel: Otel, config: BatchConfig) -> None:
    session = AioSession()

    def users_handler(**_: Any) -> None:
        return None

    session.register("before-send.batch.DescribeJobs", users_handler)
    service = BatchService(
        config,
        session=session,
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
    )
    async with service:
        await service.describe_jobs(["nobody"])
        await service.describe_jobs(["nobody"])

    fallbacks = otel.metrics()["aws_batch_async.fast_path.fallbacks"]
    assert [(p.attributes["rpc.method"], p.value) for p in fallbacks] == [("DescribeJobs", 1)]
    assert fallbacks[0].attributes["reason"]


async def test_event_receives_are_spans_and_their_lag_is_measured(otel: Otel) -> None:
    local_batch = LocalBatch(mode="lifecycle", step_seconds=0.1, run_seconds=0.1, events=True)
    async with local_batch as local:
        events = local.config.events
        assert events is not None
        config = local.config.model_copy(
            update={  # only events end the wait within the test
                "poll": PollPolicy(initial_interval=60.0, max_interval=120.0),
                "events": events.model_copy(update={"reconcile_interval": 600.0}),
            }
        )
        async with otel.service(config) as batch:
            job = await batch.submit_job(JobRequest(command=["true"]))
            await asyncio.wait_for(batch.wait_for(job.job_id), 30)

    receives = otel.finished("events.receive")
    assert receives
    for span in receives:
        assert span.parent is None
        assert span.attributes is not None
        assert span.attributes["rpc.method"] == "ReceiveMessage"
    counts = [(s.attributes or {}).get("messaging.batch.message_count") for s in receives]
    received = sum(c for c in counts if isinstance(c, int))
    assert received >= 1
    assert otel.total("aws_batch_async.events.received") == received
    (lag,) = otel.metrics()["aws_batch_async.events.lag"]
    assert lag.count >= 1
    assert 0 <= lag.sum / lag.count < 30
