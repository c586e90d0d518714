"""Benchmark: 1000 concurrent waits, coalesced by aws-batch-async vs polling with raw aiobotocore.

Three clients wait for the same jobs on the local stub (``benchmarks/_stub.py``, a child
process, so ``time.process_time()`` counts the client's CPU only):

* ``aws-batch-async wait_for``: ``asyncio.gather(*(batch.wait_for(j) for j in ids))``;
* ``raw: one call per job``: each job polled by its own loop of single-id DescribeJobs calls
  (what most tools do; one round only, it is slow);
* ``raw: hand-written 100-id sweep``: one loop describing every pending job in calls of 100
  ids, the best a user can write by hand with aiobotocore.

Two scenarios, each with its own stub: jobs **already finished** (SUCCEEDED at the first
description) and jobs that need **4 polls** (RUNNING for their first three descriptions):
every client describes every job the same number of times, so the comparison isolates the
cost of the calls and of the client's machinery. Each measured run opens its own client, whose
first DescribeJobs is measured too.

Goals: ⌈N/100⌉ DescribeJobs calls per sweep for aws-batch-async, and its CPU at most 1.5x the
hand-written sweep's for finished jobs, 1.2x for jobs polled 4 times (medians of the rounds;
finished jobs get twice ``--runs`` rounds, each being short).
The script exits with status 1 when a goal is missed.

Usage: ``python benchmarks/bench_wait.py [--jobs 1000] [--runs 5] [--profile]``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sys
from collections.abc import Callable, Coroutine
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
    write_reports,
)
from aiobotocore.config import AioConfig

from aws_batch_async import BatchConfig, BatchService, PollPolicy

INTERVAL = 0.05  # seconds between polls of a job (the raw clients' fixed interval)
POLICY = PollPolicy(initial_interval=INTERVAL, max_interval=0.2, multiplier=2.0)
POOL = 64  # connections per client, for every client (aws-batch-async's default)
GOALS = {1: 1.5, 4: 1.2}  # CPU ratio to the hand-written sweep, by polls per job

LIBRARY = "aws-batch-async wait_for"
PER_JOB = "raw: one call per job"
SWEEP = "raw: hand-written 100-id sweep"


async def wait_with_library(url: str, ids: list[str], profile: bool = False) -> Measured:
    """aws-batch-async: one wait_for per job, all at once."""
    sweeps = _SweepLog()
    config = BatchConfig(
        region=REGION,
        endpoint_url=url,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        max_pool_connections=POOL,
        poll=POLICY,
    )
    async with BatchService(config) as batch:
        with sweeps.capture(batch.logger), profiling(profile):
            jobs, wall, cpu = await timed(asyncio.gather(*(batch.wait_for(i) for i in ids)))
    assert all(job.status == "SUCCEEDED" for job in jobs)
    return Measured(wall, cpu, {"sweeps": sweeps.calls})


async def wait_one_call_per_job(url: str, ids: list[str]) -> Measured:
    """Raw aiobotocore: each job polled by its own loop of single-id calls."""
    async with _raw_client(url) as client:

        async def wait(job_id: str) -> None:
            while True:
                answer = await client.describe_jobs(jobs=[job_id])
                if answer["jobs"][0]["status"] in ("SUCCEEDED", "FAILED"):
                    return
                await asyncio.sleep(INTERVAL)

        _, wall, cpu = await timed(asyncio.gather(*(wait(i) for i in ids)))
    return Measured(wall, cpu)


async def wait_hand_written_sweep(url: str, ids: list[str]) -> Measured:
    """Raw aiobotocore: one loop describing every pending job in calls of 100 ids."""
    async with _raw_client(url) as client:

        async def sweep_until_done() -> None:
            pending = list(ids)
            while True:
                await asyncio.sleep(INTERVAL)
                chunks = [pending[i : i + 100] for i in range(0, len(pending), 100)]
                answers = await asyncio.gather(*(client.describe_jobs(jobs=c) for c in chunks))
                done = {
                    job["jobId"]
                    for answer in answers
                    for job in answer["jobs"]
                    if job["status"] in ("SUCCEEDED", "FAILED")
                }
                pending = [i for i in pending if i not in done]
                if not pending:
                    return

        _, wall, cpu = await timed(sweep_until_done())
    return Measured(wall, cpu)


CLIENTS: dict[str, Callable[[str, list[str]], Coroutine[Any, Any, Measured]]] = {
    LIBRARY: wait_with_library,
    PER_JOB: wait_one_call_per_job,
    SWEEP: wait_hand_written_sweep,
}


def _raw_client(url: str) -> Any:
    return raw_client(url, AioConfig(max_pool_connections=POOL))


class _SweepLog(logging.Handler):
    """Collects the poller's "polling N job(s) in M DescribeJobs call(s)" DEBUG records."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.calls: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and record.msg.startswith("polling %d job(s) in"):
            assert isinstance(record.args, tuple)
            calls = record.args[1]
            assert isinstance(calls, int)
            self.calls.append(calls)

    def capture(self, logger: logging.Logger) -> _SweepLog:
        self._logger, self._level = logger, logger.level
        return self

    def __enter__(self) -> None:
        self._logger.addHandler(self)
        self._logger.setLevel(logging.DEBUG)

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)


def scenario(polls: int, jobs: int, runs: int) -> tuple[Report, dict[str, list[Measured]]]:
    """Measure the three clients on a stub whose jobs need ``polls`` descriptions."""
    with StubProcess("--polls", str(polls)) as stub:
        counter = iter(range(10**9))

        def run(name: str, count: int = jobs) -> Callable[[], Measured]:
            def one() -> Measured:
                tag = f"p{polls}-{next(counter)}"
                before = stub.stats()
                measured: Measured = asyncio.run(
                    CLIENTS[name](stub.url, [f"{tag}-{i}" for i in range(count)])
                )
                after = stub.stats()
                calls = after["calls"].get("describejobs", 0)
                calls -= before["calls"].get("describejobs", 0)
                measured.extra.update(calls=calls, ids=after["ids"] - before["ids"])
                return measured

            return one

        for name in CLIENTS:  # caches, first-call costs
            run(name, min(jobs, 100))()
        results = rounds({n: run(n) for n in CLIENTS}, runs, skip={PER_JOB: 1})
    base = median(r.cpu for r in results[SWEEP])
    rows = []
    for name, measured in results.items():
        calls = median(r.extra["calls"] for r in measured)
        ids = median(r.extra["ids"] for r in measured)
        cpu = median(r.cpu for r in measured)
        rows.append(
            [
                name,
                f"{calls:.0f}",
                f"{ids / calls:.1f}",
                f"{calls * jobs / ids:.1f}",
                f"{cpu:.3f}",
                f"{median(r.wall for r in measured):.2f}",
                f"{cpu / base:.2f}x",
            ]
        )
    ours = results[LIBRARY]
    ratio = median(r.cpu for r in ours) / base
    ideal = math.ceil(jobs / 100)
    per_sweep = median(r.extra["calls"] for r in ours) * jobs / median(r.extra["ids"] for r in ours)
    largest = max(max(r.extra["sweeps"] or [0]) for r in ours)
    what = "already finished" if polls == 1 else f"described {polls} times before they succeed"
    report = Report(
        scenario=f"Waiting ({'finished jobs' if polls == 1 else f'{polls} polls per job'})",
        description=f"{jobs} concurrent wait_for on jobs {what}; medians of {runs} rounds",
        columns=["client", "DescribeJobs", "ids/call", "calls/sweep", "CPU s", "wall s", "CPU"],
        rows=rows,
        goals=[
            Goal("CPU vs the hand-written 100-id sweep", ratio, GOALS[polls], "<="),
            Goal("largest poller sweep (calls)", float(max(largest, per_sweep)), ideal, "<=", ""),
        ],
        notes=[
            f"one call per job costs {median(r.cpu for r in results[PER_JOB]) / base:.1f}x "
            "the CPU of the hand-written sweep",
            f"aws-batch-async poller sweeps (calls each), first run: {ours[0].extra['sweeps']}",
        ],
    )
    return report, results


def main() -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--jobs", type=int, default=1000)
    args_parser.add_argument("--runs", type=int, default=5)
    args = args_parser.parse_args()
    runs = 1 if args.quick else args.runs
    if args.profile:
        for polls in GOALS:
            with StubProcess("--polls", str(polls)) as stub:
                ids = [f"profile-{i}" for i in range(args.jobs)]
                asyncio.run(wait_with_library(stub.url, ids, profile=True))
        return 0
    # Finished jobs take a fraction of a second a round: twice the rounds steady their median.
    reports = [scenario(polls, args.jobs, runs * (2 if polls == 1 else 1))[0] for polls in GOALS]
    for report in reports:
        report.print()
    write_reports(args.json, reports)
    return 0 if all(r.ok() for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
