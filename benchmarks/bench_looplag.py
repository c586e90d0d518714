"""Benchmark: the event loop stays responsive while many waits end, and a first look is quick.

Against the local stub (``benchmarks/_stub.py``, a child process), with a **loop-lag probe**: a
task that sleeps 5 ms again and again and records how late each sleep wakes. The lag is what
every other coroutine of the process (a web server's requests, heartbeats) waits on top.

* **Many waits ending in one sweep**: N ``wait_for`` on jobs RUNNING at their first look and
  SUCCEEDED at the second, so all of them end in the same sweep: 10,000 jobs of ~1.5 KB, and
  3,000 of ~20 KB (``--detail-kb 20``: retried attempts and parameters). The probe runs from
  once every wait is subscribed until the last one returned. The client is measured as it is
  (answers of 256 KB or more decoded in steps of ~2 ms, one at a time; answers handed to the
  waits in slices; the loop free between them) and with slicing off (every answer decoded
  whole, one slice per sweep, as before): worst lag and the client's CPU of the whole run.
* **First look**: the median latency of a ``wait_for`` on a job that already finished (the
  default ``PollPolicy``: 1 s interval, 20 ms first-poll window) against one DescribeJobs
  round trip of the same service (``describe_jobs``).

The probe also records the process's CPU time during each sleep, and the part of it spent in
garbage collections (``gc.callbacks``): on a shared machine the wall-clock lag is inflated by
the other processes, and in a process holding thousands of job details CPython's full
collections (hundreds of milliseconds, whoever triggers them) dominate it.

Goals: worst lag outside garbage collections <= 50 ms of CPU in both loads, CPU <= 1.1x the
unsliced client's, and a first look within one round trip + 50 ms. The script exits with
status 1 when a goal is missed.

Usage: ``python benchmarks/bench_looplag.py [--runs 3] [--quick]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterator
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
    write_reports,
)

from aws_batch_async import BatchConfig, BatchService, PollPolicy
from aws_batch_async._transport import fast_path
from aws_batch_async._waiting import poller as watcher

PROBE = 0.005  # the probe's sleep
LOADS = [(10_000, 0), (3_000, 20)]  # (jobs, detail KB; 0: the stub's ~1.5 KB job)
LAG_GOAL_MS = 50.0
CPU_GOAL = 1.1
FIRST_LOOK_GOAL_MS = 50.0
POLICY = PollPolicy(initial_interval=0.5, max_interval=1.0)
SLICED, UNSLICED = "sliced (this client)", "unsliced (one slice per sweep)"


def config(url: str, policy: PollPolicy = POLICY) -> BatchConfig:
    return BatchConfig(
        region=REGION,
        endpoint_url=url,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        poll=policy,
    )


@contextlib.contextmanager
def slicing(enabled: bool) -> Iterator[None]:
    """The client as it is, or with slicing off: one slice for a whole sweep, and every
    answer decoded whole (no ``decode_json_in_steps``)."""
    saved = watcher.SLICE_SECONDS, watcher.SLICE_DELIVERIES, fast_path.STEPWISE_FROM
    if not enabled:
        watcher.SLICE_SECONDS, watcher.SLICE_DELIVERIES = float("inf"), sys.maxsize
        fast_path.STEPWISE_FROM = sys.maxsize
    try:
        yield
    finally:
        watcher.SLICE_SECONDS, watcher.SLICE_DELIVERIES, fast_path.STEPWISE_FROM = saved


class GcClock:
    """The process's CPU seconds spent in garbage collections so far (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.worst = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            spent = time.process_time() - self._started
            self.total += spent
            self.worst = max(self.worst, spent)


@contextlib.asynccontextmanager
async def lag_probe(gc_clock: GcClock) -> AsyncIterator[list[tuple[float, float, float]]]:
    """While the block runs, a task sleeps 5 ms again and again; for each sleep: how late it
    woke (wall seconds), the process's CPU seconds meanwhile (the loop's blocking work, which
    other processes of a loaded machine cannot inflate: one thread runs the loop), and the
    part of those spent in garbage collections."""
    lags: list[tuple[float, float, float]] = []
    loop = asyncio.get_running_loop()

    async def probe() -> None:
        while True:
            start, cpu, in_gc = loop.time(), time.process_time(), gc_clock.total
            await asyncio.sleep(PROBE)
            lags.append(
                (
                    loop.time() - start - PROBE,
                    time.process_time() - cpu,
                    gc_clock.total - in_gc,
                )
            )

    task = loop.create_task(probe())
    try:
        yield lags
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def many_waits(url: str, jobs: int, sliced: bool, prefix: str) -> Measured:
    """``jobs`` waits that all end in one sweep; worst lag while they run, and CPU."""
    ids = [f"{prefix}-{i:06d}-0000-4000-8000-000000000000" for i in range(jobs)]
    gc_clock = GcClock()
    gc.callbacks.append(gc_clock)
    try:
        with slicing(sliced):
            async with BatchService(config(url)) as batch:
                cpu = time.process_time()
                wall = time.perf_counter()
                tasks = [asyncio.ensure_future(batch.wait_for(i)) for i in ids]
                await asyncio.sleep(0)  # every wait subscribes (the caller's own burst)
                gc_clock.worst = 0.0
                async with lag_probe(gc_clock) as lags:
                    results = await asyncio.gather(*tasks)
                wall = time.perf_counter() - wall
                cpu = time.process_time() - cpu
    finally:
        gc.callbacks.remove(gc_clock)
    assert all(job.status == "SUCCEEDED" for job in results)
    return Measured(
        wall,
        cpu,
        {
            "wall": max(lag for lag, _, _ in lags),  # worst lag, wall clock
            "cpu": max(used for _, used, _ in lags),  # worst lag, CPU
            "own": max(used - in_gc for _, used, in_gc in lags),  # worst lag, CPU outside GC
            "gc": gc_clock.worst,  # longest garbage collection
        },
    )


async def first_looks(url: str, rounds: int) -> tuple[list[float], list[float]]:
    """Latency of wait_for on a finished job, and of one describe_jobs, interleaved."""
    waits, raws = [], []
    async with BatchService(config(url, PollPolicy())) as batch:
        await batch.describe_jobs(["warm-up"])  # connection and first-call costs
        for n in range(rounds):
            job_id = f"first-{n:06d}-0000-4000-8000-000000000000"
            started = time.perf_counter()
            await batch.describe_jobs([job_id])  # the stub: SUCCEEDED from now on
            raws.append(time.perf_counter() - started)
            started = time.perf_counter()
            job = await batch.wait_for(job_id)
            waits.append(time.perf_counter() - started)
            assert job.status == "SUCCEEDED"
    return waits, raws


def scenario(runs: int, quick: bool) -> Report:
    rows: list[list[str]] = []
    goals: list[Goal] = []
    notes: list[str] = []
    for jobs, kb in LOADS:
        if quick:
            jobs //= 5
        args = ["--polls", "2"] + (["--detail-kb", str(kb)] if kb else [])
        results: dict[str, list[Measured]] = {SLICED: [], UNSLICED: []}
        with StubProcess(*args) as stub:
            for round_ in range(runs):
                for name in (UNSLICED, SLICED):
                    gc.collect()
                    prefix = f"r{round_}{'s' if name == SLICED else 'u'}"
                    results[name].append(
                        asyncio.run(many_waits(stub.url, jobs, name == SLICED, prefix))
                    )
                print(f"  {jobs} jobs: round {round_ + 1}/{runs} done", file=sys.stderr)
        size = f"~{kb} KB" if kb else "~1.5 KB"

        def worst(name: str, key: str) -> float:
            return float(max(m.extra[key] for m in results[name])) * 1000  # noqa: B023

        for name, measured in results.items():
            rows.append(
                [
                    f"{jobs} jobs of {size}",
                    name,
                    *(f"{worst(name, key):.0f}" for key in ("wall", "cpu", "own", "gc")),
                    f"{median(m.cpu for m in measured):.2f}",
                ]
            )
        ratio = median(m.cpu for m in results[SLICED]) / median(m.cpu for m in results[UNSLICED])
        goals.append(
            Goal(
                f"worst loop lag outside GC (CPU), {jobs} jobs of {size}",
                worst(SLICED, "own"),
                LAG_GOAL_MS,
                "<=",
                "ms",
            )
        )
        goals.append(Goal(f"CPU vs unsliced, {jobs} jobs of {size}", ratio, CPU_GOAL, "<="))
        notes.append(
            f"{jobs} jobs of {size}: worst lag outside GC {worst(UNSLICED, 'own'):.0f} ms "
            f"unsliced, {worst(SLICED, 'own'):.0f} ms sliced; with GC (CPU) "
            f"{worst(UNSLICED, 'cpu'):.0f} / {worst(SLICED, 'cpu'):.0f} ms; on the wall clock "
            f"{worst(UNSLICED, 'wall'):.0f} / {worst(SLICED, 'wall'):.0f} ms"
        )
    with StubProcess("--polls", "1") as stub:
        waits, raws = asyncio.run(first_looks(stub.url, 10 if quick else 30))
    wait_ms, raw_ms = statistics.median(waits) * 1000, statistics.median(raws) * 1000
    rows.append(["first look: wait_for on a finished job", f"{wait_ms:.1f} ms", *[""] * 5])
    rows.append(["one describe_jobs round trip", f"{raw_ms:.1f} ms", *[""] * 5])
    goals.append(
        Goal(
            "first look: wait_for minus one round trip",
            wait_ms - raw_ms,
            FIRST_LOOK_GOAL_MS,
            "<=",
            "ms",
        )
    )
    notes.append(
        f"first look: wait_for on a finished job {wait_ms:.1f} ms, one DescribeJobs "
        f"{raw_ms:.1f} ms (medians of {len(waits)}); before this poller it waited "
        "initial_interval (1 s)"
    )
    return Report(
        scenario="Loop lag and first look",
        description=(
            "a task sleeping 5 ms records how late it wakes while every wait ends in one sweep; "
            f"worst of {runs} rounds; client CPU: medians"
        ),
        columns=[
            "load",
            "poller",
            "worst lag ms (wall)",
            "worst lag ms (CPU)",
            "outside GC ms",
            "longest GC ms",
            "client CPU s",
        ],
        rows=rows,
        goals=goals,
        notes=notes,
    )


def main() -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--runs", type=int, default=3)
    args = args_parser.parse_args()
    report = scenario(1 if args.quick else args.runs, args.quick)
    report.print()
    write_reports(args.json, [report])
    return 0 if report.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
