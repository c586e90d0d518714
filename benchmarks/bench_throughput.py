"""Benchmark: fan-out throughput of ``submit_job`` against a fast local stub, in the same run.

Clients, each gathering N SubmitJob calls over a pool of 64 connections to the stub
(``benchmarks/_stub.py``, its own process, so this process's CPU is the client's alone):

* ``aws-batch-async``: ``asyncio.gather`` of N ``submit_job(JobRequest())`` with
  ``BatchConfig(submit_rate_limit=None)`` (everything else default: the idempotency token,
  validation, the response model);
* ``raw aiobotocore``: one client, ``max_pool_connections=64``, an ``asyncio.Semaphore(64)``;
* ``capo-batch``: ``AsyncBatchClient`` on its own HTTP/SigV4 stack, 64 connections;
* ``boto3, 32 threads``: one boto3 client shared by a pool of 32 threads;
* ``aws-batch-async, OpenTelemetry on``: ours with the SDK as a production app configures it,
  with a no-op exporter: a ``TracerProvider`` (default sampler: every span recorded) with a
  ``BatchSpanProcessor`` handing every span to an exporter that discards it (the processor's
  worker thread is this process's: its CPU counts), and a ``MeterProvider`` with a reader that
  is never collected: the cost of the library's spans and metrics (``docs/observability.md``);
* ``aws-batch-async, OpenTelemetry on, traces sampled out``: the same with the ``ALWAYS_OFF``
  sampler: the library's hooks, the context they make current and the SDK's sampling decision,
  without the SDK recording a span. On less this is what the recorded span costs in place.

Throughput is N / wall seconds (median of the rounds). Our own share of CPU per call is
measured apart, right after our run in each round: the same gather with the transport
replaced by an instant fake answer (validation, models, limiter, token, less a bare gather of
N coroutines), over our total CPU per call; the median of the rounds' shares. So is the SDK's
own cost: per job a bare span started and ended and one counter add (three attributes, as the
``submits`` point), gathered the same way, less a bare gather. Goals: at least
1.0x capo-batch's and 1.3x raw aiobotocore's throughput, our share at most 10%, OpenTelemetry
on at most 5% more CPU per call than off (the median of the rounds' ratios). Exits with
status 1 when a goal is missed.

Usage: ``python benchmarks/bench_throughput.py [--jobs 1500] [--runs 3] [--profile]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _common import (
    KEY_ID,
    REGION,
    SECRET,
    Goal,
    Measured,
    Report,
    StubProcess,
    median,
    parser,
    profiling,
    raw_client,
    rounds,
    timed,
)

from aws_batch_async import BatchConfig, BatchService, JobRequest

POOL = 64
QUEUE = "bench-queue"
DEFINITION = "bench-def:1"
CAPO_GOAL = 1.0
RAW_GOAL = 1.3
SHARE_GOAL = 0.10
OTEL_GOAL = 0.05

OURS = "aws-batch-async"
RAW = "raw aiobotocore"
CAPO = "capo-batch"
BOTO3 = "boto3, 32 threads"
OTEL = "aws-batch-async, OpenTelemetry on"
OTEL_SAMPLED_OUT = "aws-batch-async, OpenTelemetry on, traces sampled out"


def _config(url: str) -> BatchConfig:
    return BatchConfig(
        region=REGION,
        endpoint_url=url,
        job_queue=QUEUE,
        job_definition=DEFINITION,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        max_pool_connections=POOL,
        submit_rate_limit=None,
    )


#: Full (generation 2) garbage collections during each timed run, by client.
FULL_COLLECTIONS: dict[str, list[int]] = {}


@contextlib.contextmanager
def _full_collections(name: str) -> Iterator[None]:
    """Count the full collections of the block under ``FULL_COLLECTIONS[name]``.

    One costs about 100 ms in a process holding botocore's models: whether one falls inside a
    run moves its CPU per call by tens of µs (``docs/observability.md``).
    """
    count = 0

    def note(phase: str, info: dict[str, int]) -> None:
        nonlocal count
        count += phase == "stop" and info["generation"] == 2

    gc.callbacks.append(note)
    try:
        yield
    finally:
        gc.callbacks.remove(note)
        FULL_COLLECTIONS.setdefault(name, []).append(count)


async def run_ours(
    url: str, jobs: int, profile: bool = False, otel: bool = False, sampled: bool = True
) -> Measured:
    providers, exported = _otel_providers(sampled) if otel else ({}, [])
    name = (OTEL if sampled else OTEL_SAMPLED_OUT) if otel else OURS
    async with BatchService(_config(url), **providers) as batch:
        await batch.submit_job(JobRequest())  # connection and first-call costs
        with profiling(profile), _full_collections(name):
            results, wall, cpu = await timed(
                asyncio.gather(*(batch.submit_job(JobRequest()) for _ in range(jobs)))
            )
    for provider in providers.values():
        provider.shutdown()  # the span processor exports what it still holds
    assert len({r.job_id for r in results}) == jobs
    if otel and sampled:  # a span dropped (the processor's queue full) would flatter the figure
        assert sum(exported) == jobs + 1, f"{jobs + 1 - sum(exported)} spans dropped"
    return Measured(wall, cpu)


def _otel_providers(sampled: bool = True) -> tuple[dict[str, Any], list[int]]:
    """The SDK as a production app sets it up, exporting to nowhere; and the spans exported.

    ``BatchSpanProcessor`` (what an operator runs: ``SimpleSpanProcessor`` exports each span
    on the caller's thread, for tests) with its defaults, and a metric reader never collected.
    """
    from collections.abc import Sequence

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    exported: list[int] = []

    class Discard(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            exported.append(len(spans))
            return SpanExportResult.SUCCESS

    # The default sampler (parent-based, always on) records every span.
    tracer_provider = TracerProvider() if sampled else TracerProvider(sampler=ALWAYS_OFF)
    tracer_provider.add_span_processor(BatchSpanProcessor(Discard()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return {"tracer_provider": tracer_provider, "meter_provider": meter_provider}, exported


async def run_sdk_alone(jobs: int) -> Measured:
    """The SDK on its own: per job a bare span start/end and one counter add, less a bare gather.

    Set up as in :func:`run_ours`; the coroutines are gathered and suspend once between the
    span's start and end, as a submission does, so the spans are alive together.
    """
    providers, _ = _otel_providers()
    tracer = providers["tracer_provider"].get_tracer("bench")
    counter = providers["meter_provider"].get_meter("bench").create_counter("bench.submits")
    attributes = {"rpc.method": "SubmitJob", "aws.batch.job_queue": QUEUE, "outcome": "created"}

    async def bare() -> None:
        await asyncio.sleep(0)

    async def traced() -> None:
        span = tracer.start_span("bench.submit")
        await asyncio.sleep(0)
        span.end()
        counter.add(1, attributes)

    await traced()
    _, _, cpu_bare = await timed(asyncio.gather(*(bare() for _ in range(jobs))))
    _, _, cpu_sdk = await timed(asyncio.gather(*(traced() for _ in range(jobs))))
    for provider in providers.values():
        provider.shutdown()
    return Measured(0.0, cpu_sdk - cpu_bare)


async def run_ours_layer(url: str, jobs: int) -> Measured:
    """Our layer alone: submit_job over an instant fake transport, less a bare gather."""
    answer = {"jobArn": "arn:aws:batch:us-east-1:1:job/x", "jobName": "n", "jobId": "x"}

    async def fake_call(operation: str, **params: Any) -> dict[str, Any]:
        return dict(answer)

    async with BatchService(_config(url)) as batch:
        batch._submitting.submitter.call = fake_call
        await batch.submit_job(JobRequest())
        _, _, cpu_ours = await timed(
            asyncio.gather(*(batch.submit_job(JobRequest()) for _ in range(jobs)))
        )
        _, _, cpu_bare = await timed(asyncio.gather(*(fake_call("x") for _ in range(jobs))))
    return Measured(0.0, cpu_ours - cpu_bare)


async def run_raw(url: str, jobs: int) -> Measured:
    from aiobotocore.config import AioConfig

    async with raw_client(url, AioConfig(max_pool_connections=POOL)) as client:
        limit = asyncio.Semaphore(POOL)

        async def submit(i: int) -> Any:
            async with limit:
                return await client.submit_job(
                    jobName=f"raw-{i}", jobQueue=QUEUE, jobDefinition=DEFINITION
                )

        await submit(-1)
        results, wall, cpu = await timed(asyncio.gather(*(submit(i) for i in range(jobs))))
    assert len(results) == jobs
    return Measured(wall, cpu)


async def run_capo(url: str, jobs: int) -> Measured:
    from capo_batch import AsyncBatchClient, Credentials
    from zapros import AsyncStdNetworkHandler

    handler = AsyncStdNetworkHandler(
        http1={"max_connections_per_host": POOL, "max_idle_connections_per_host": POOL}
    )
    credentials = Credentials(access_key=KEY_ID, secret_key=SECRET)
    async with AsyncBatchClient(
        http_handler=handler, region=REGION, endpoint=url, credentials=credentials
    ) as client:

        async def submit(i: int) -> Any:
            return await client.submit_job(
                job_name=f"capo-{i}", job_queue=QUEUE, job_definition=DEFINITION
            )

        await submit(-1)
        results, wall, cpu = await timed(asyncio.gather(*(submit(i) for i in range(jobs))))
    assert len(results) == jobs
    return Measured(wall, cpu)


def run_boto3(url: str, jobs: int) -> Measured:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config

    client = boto3.session.Session().client(
        "batch",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        config=Config(max_pool_connections=32),
    )
    lock = threading.Lock()
    done: list[Any] = []

    def submit(i: int) -> None:
        answer = client.submit_job(jobName=f"b3-{i}", jobQueue=QUEUE, jobDefinition=DEFINITION)
        with lock:
            done.append(answer)

    submit(-1)
    with ThreadPoolExecutor(32) as pool:
        cpu, wall = time.process_time(), time.perf_counter()
        list(pool.map(submit, range(jobs)))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    client.close()
    assert len(done) == jobs + 1
    return Measured(wall, cpu)


def main() -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--jobs", type=int, default=1500)
    args_parser.add_argument("--runs", type=int, default=3)
    args_parser.add_argument("--no-capo", action="store_true", help="skip capo-batch")
    args = args_parser.parse_args()
    jobs = 300 if args.quick else args.jobs

    with StubProcess() as stub:
        url = stub.url
        if args.profile:
            asyncio.run(run_ours(url, jobs, profile=True))
            return 0
        clients = {
            OURS: lambda: asyncio.run(run_ours(url, jobs)),
            OTEL: lambda: asyncio.run(run_ours(url, jobs, otel=True)),
            OTEL_SAMPLED_OUT: lambda: asyncio.run(run_ours(url, jobs, otel=True, sampled=False)),
            "sdk": lambda: asyncio.run(run_sdk_alone(jobs)),
            "layer": lambda: asyncio.run(run_ours_layer(url, jobs)),
            RAW: lambda: asyncio.run(run_raw(url, jobs)),
            BOTO3: lambda: run_boto3(url, jobs),
        }
        if not args.no_capo:
            clients[CAPO] = lambda: asyncio.run(run_capo(url, jobs))
        results = rounds(clients, 1 if args.quick else args.runs)
    layer = results.pop("layer")
    sdk = results.pop("sdk")

    def rate(name: str) -> float:
        return jobs / median(r.wall for r in results[name])

    def cpu_per_call(name: str) -> float:
        return median(r.cpu for r in results[name]) / jobs

    rows = []
    for name in results:
        rows.append(
            [
                name,
                f"{rate(name):,.0f}",
                f"{cpu_per_call(name) * 1e6:,.0f}",
                f"{rate(name) / rate(RAW):.2f}x",
            ]
        )
    # Our layer next to our run in each round (the same load on a shared machine): the median
    # of the rounds' shares.
    layer_per_call = [r.cpu / jobs for r in layer]
    share = median(lc / (o.cpu / jobs) for lc, o in zip(layer_per_call, results[OURS], strict=True))
    goals = [Goal("throughput vs raw aiobotocore", rate(OURS) / rate(RAW), RAW_GOAL, ">=")]
    if CAPO in results:
        goals.append(Goal("throughput vs capo-batch", rate(OURS) / rate(CAPO), CAPO_GOAL, ">="))
    goals.append(Goal("our own share of CPU per call", share * 100, SHARE_GOAL * 100, "<=", "%"))
    # OpenTelemetry on vs off, round by round (the same load on a shared machine).
    otel_ratio = median(t.cpu / o.cpu for t, o in zip(results[OTEL], results[OURS], strict=True))
    extra = (otel_ratio - 1) * 100
    goals.append(Goal("OpenTelemetry on: extra CPU per call", extra, OTEL_GOAL * 100, "<=", "%"))

    def extra_per_call(name: str) -> float:
        return median(
            (t.cpu - o.cpu) / jobs for t, o in zip(results[name], results[OURS], strict=True)
        )

    def share_of_ours(per_call: list[float]) -> float:
        return median(x / (o.cpu / jobs) for x, o in zip(per_call, results[OURS], strict=True))

    sdk_per_call = [r.cpu / jobs for r in sdk]
    unsampled = extra_per_call(OTEL_SAMPLED_OUT)
    otel_notes = [
        f"OpenTelemetry on: +{extra_per_call(OTEL) * 1e6:.0f} µs/call; traces sampled out "
        f"(the hooks, the context, the SDK's sampling): +{unsampled * 1e6:.0f} µs/call",
        f"the SDK alone (bare span start/end + one counter add, gathered): "
        f"{median(sdk_per_call) * 1e6:.0f} µs/call = {share_of_ours(sdk_per_call):.1%} of our "
        "CPU per call with OpenTelemetry off",
        "full collections per run (about 100 ms each): "
        + ", ".join(f"{n}: {FULL_COLLECTIONS.get(n)}" for n in (OURS, OTEL, OTEL_SAMPLED_OUT)),
    ]
    report = Report(
        scenario="Fan-out",
        description=(
            f"asyncio.gather of {jobs} submit_job (submit_rate_limit=None), pool {POOL}, "
            "fast local stub; medians of the rounds"
        ),
        columns=["client", "submits/s", "CPU µs/call", "vs raw aiobotocore"],
        rows=rows,
        goals=goals,
        notes=[
            f"our own layer (validation, models, limiter, token): "
            f"{median(layer_per_call) * 1e6:.0f} µs/call = {share:.1%} of our CPU",
            *otel_notes,
        ],
    )
    report.print()
    report.write(args.json)
    return 0 if report.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
