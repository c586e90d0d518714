"""Benchmark: 1000 concurrent waits, coalesced by aws-batch-async vs polling with raw aiobotocore.

Three clients wait for the same number of jobs on a local stub of AWS Batch's DescribeJobs:

* ``aws-batch-async``: ``asyncio.gather(*(batch.wait_for(j) for j in ids))``;
* ``one call per job``: each job polled by its own loop of single-id DescribeJobs calls (what
  most tools do);
* ``hand-written sweep``: one loop describing every pending job in calls of 100 ids, the best a
  user can write by hand.

The stub runs in a child process, so ``time.process_time()`` counts the client's CPU only. It
answers instantly, and each job is RUNNING for its first ``--polls - 1`` descriptions and
SUCCEEDED from then on: every client must describe every job the same number of times, so the
comparison isolates the cost of the calls and of the client's machinery.

"Calls per sweep" is DescribeJobs calls x jobs / ids described: the calls one round of polling
every job costs. Goals: ⌈N/100⌉ calls per sweep for aws-batch-async (and no single sweep of
the poller above it), and at most 1.5x the CPU of the hand-written 100-id sweep. The script
exits with status 1 when a goal is missed.

Usage: ``python benchmarks/bench_wait.py [--jobs 1000] [--runs 5] [--polls 4]``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from aiohttp import web

from aws_batch_async import BatchConfig, BatchService, PollPolicy

REGION = "us-east-1"
INTERVAL = 0.05  # seconds between polls of a job (the raw clients' fixed interval)
POLICY = PollPolicy(initial_interval=INTERVAL, max_interval=0.2, multiplier=2.0)
CPU_GOAL = 1.5
POOL = 64  # connections per client, for every client (aws-batch-async's default)


# ---------------------------------------------------------------------------------------------
# The stub (child process)


def serve_stub(polls: int) -> None:
    """Serve DescribeJobs on 127.0.0.1:<free port>; print the port; run until killed."""
    described: Counter[str] = Counter()
    totals = {"calls": 0, "ids": 0}

    async def describe_jobs(request: web.Request) -> web.Response:
        ids = (await request.json()).get("jobs", [])
        totals["calls"] += 1
        totals["ids"] += len(ids)
        jobs = []
        for job_id in ids:
            described[job_id] += 1
            status = "SUCCEEDED" if described[job_id] >= polls else "RUNNING"
            jobs.append(_job(job_id, status))
        return web.json_response({"jobs": jobs})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(totals)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/describejobs", describe_jobs)
        app.router.add_get("/stats", stats)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        print(f"PORT {port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def _job(job_id: str, status: str) -> dict[str, Any]:
    """A DescribeJobs job about as large as a real container job's."""
    now = 1_764_000_000_000
    return {
        "jobArn": f"arn:aws:batch:{REGION}:123456789012:job/{job_id}",
        "jobName": f"bench-{job_id}",
        "jobId": job_id,
        "jobQueue": f"arn:aws:batch:{REGION}:123456789012:job-queue/bench-queue",
        "status": status,
        "attempts": [],
        "createdAt": now,
        "startedAt": now + 5000,
        "stoppedAt": now + 9000 if status == "SUCCEEDED" else None,
        "dependsOn": [],
        "jobDefinition": f"arn:aws:batch:{REGION}:123456789012:job-definition/bench:1",
        "parameters": {},
        "container": {
            "image": "public.ecr.aws/docker/library/busybox:latest",
            "command": ["sh", "-c", "echo hello"],
            "jobRoleArn": "arn:aws:iam::123456789012:role/bench-job-role",
            "volumes": [],
            "environment": [{"name": "STAGE", "value": "bench"}],
            "mountPoints": [],
            "ulimits": [],
            "exitCode": 0 if status == "SUCCEEDED" else None,
            "logStreamName": f"bench/default/{job_id}",
            "networkInterfaces": [],
            "resourceRequirements": [
                {"value": "1", "type": "VCPU"},
                {"value": "2048", "type": "MEMORY"},
            ],
            "secrets": [],
        },
        "tags": {"project": "bench"},
        "propagateTags": False,
        "platformCapabilities": ["EC2"],
    }


# ---------------------------------------------------------------------------------------------
# The clients (this process)


@dataclass
class Run:
    cpu: float
    wall: float
    calls: int
    ids: int
    sweeps: list[int]  # calls of each poller sweep (aws-batch-async only)


async def wait_with_library(url: str, ids: list[str]) -> list[int]:
    """aws-batch-async: one wait_for per job, all at once."""
    sweeps = _SweepLog()
    config = BatchConfig(
        region=REGION,
        endpoint_url=url,
        access_key_id="bench",
        secret_access_key="bench",
        max_pool_connections=POOL,
        poll=POLICY,
    )
    async with BatchService(config) as batch:
        with sweeps.capture(batch.logger):
            jobs = await _timed(asyncio.gather(*(batch.wait_for(i) for i in ids)))
    assert all(job.status == "SUCCEEDED" for job in jobs)
    return sweeps.calls


async def wait_one_call_per_job(url: str, ids: list[str]) -> list[int]:
    """Raw aiobotocore: each job polled by its own loop of single-id calls."""
    async with _raw_client(url) as client:

        async def wait(job_id: str) -> None:
            while True:
                answer = await client.describe_jobs(jobs=[job_id])
                if answer["jobs"][0]["status"] in ("SUCCEEDED", "FAILED"):
                    return
                await asyncio.sleep(INTERVAL)

        await _timed(asyncio.gather(*(wait(i) for i in ids)))
    return []


async def wait_hand_written_sweep(url: str, ids: list[str]) -> list[int]:
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

        await _timed(sweep_until_done())
    return []


LIBRARY = "aws-batch-async wait_for"
PER_JOB = "raw: one call per job"
SWEEP = "raw: hand-written 100-id sweep"
CLIENTS: dict[str, Callable[[str, list[str]], Awaitable[list[int]]]] = {
    LIBRARY: wait_with_library,
    PER_JOB: wait_one_call_per_job,
    SWEEP: wait_hand_written_sweep,
}

_measured: dict[str, float] = {}


async def _timed(awaitable: Awaitable[Any]) -> Any:
    """Await, recording the CPU and wall time of this part only (not client set-up)."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = await awaitable
    _measured["cpu"] = time.process_time() - cpu
    _measured["wall"] = time.perf_counter() - wall
    return result


def _raw_client(url: str) -> Any:
    return AioSession().create_client(
        "batch",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=AioConfig(max_pool_connections=POOL),
    )


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


async def measure(name: str, url: str, jobs: int, tag: str) -> Run:
    before = await _stats(url)
    ids = [f"{tag}-{i}" for i in range(jobs)]
    sweeps = await CLIENTS[name](url, ids)
    after = await _stats(url)
    return Run(
        cpu=_measured["cpu"],
        wall=_measured["wall"],
        calls=after["calls"] - before["calls"],
        ids=after["ids"] - before["ids"],
        sweeps=sweeps,
    )


async def _stats(url: str) -> dict[str, int]:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(url + "/stats") as response:
        data: dict[str, int] = await response.json()
        return data


# ---------------------------------------------------------------------------------------------
# Main


async def bench(url: str, jobs: int, runs: int, per_job_runs: int) -> dict[str, list[Run]]:
    """Warm every client up, then measure them in interleaved rounds (fair under load drift)."""
    for index, name in enumerate(CLIENTS):
        await measure(name, url, min(jobs, 100), f"warmup{index}")  # caches, first-call costs
    results: dict[str, list[Run]] = {name: [] for name in CLIENTS}
    for round_ in range(runs):
        for index, name in enumerate(CLIENTS):
            if name == PER_JOB and round_ >= per_job_runs:
                continue
            results[name].append(await measure(name, url, jobs, f"c{index}r{round_}"))
        print(f"  round {round_ + 1}/{runs} done", file=sys.stderr)
    return results


def report(results: dict[str, list[Run]], jobs: int, polls: int) -> bool:
    """Print the table and the goals; return whether every goal is met."""
    ideal = math.ceil(jobs / 100)
    base = statistics.median(r.cpu for r in results[SWEEP])
    rows = []
    for name, runs in results.items():
        cpu = statistics.median(r.cpu for r in runs)
        calls = statistics.median(r.calls for r in runs)
        ids = statistics.median(r.ids for r in runs)
        per_sweep = calls * jobs / ids
        wall = statistics.median(r.wall for r in runs)
        rows.append((name, calls, ids / calls, per_sweep, cpu, wall, cpu / base))
    print(f"\n{jobs} concurrent waits; every job is described {polls} times before it succeeds")
    print("(medians of the runs; CPU ratio relative to the hand-written 100-id sweep)\n")
    print(
        f"{'client':<32}{'DescribeJobs':>13}{'ids/call':>10}{'calls/sweep':>13}"
        f"{'CPU s':>9}{'wall s':>9}{'CPU ratio':>11}"
    )
    for name, calls, per_call, per_sweep, cpu, wall, ratio in rows:
        print(
            f"{name:<32}{calls:>13.0f}{per_call:>10.1f}{per_sweep:>13.1f}"
            f"{cpu:>9.3f}{wall:>9.2f}{ratio:>10.2f}x"
        )

    ours = results[LIBRARY]
    ours_cpu = statistics.median(r.cpu for r in ours)
    per_job_cpu = statistics.median(r.cpu for r in results[PER_JOB])
    largest_sweep = max(max(r.sweeps) for r in ours)
    ours_per_sweep = rows[0][3]
    print(f"\naws-batch-async poller sweeps (calls each), first run: {ours[0].sweeps}")
    print(f"one call per job costs {per_job_cpu / ours_cpu:.1f}x the CPU of aws-batch-async")

    ok = True
    if largest_sweep > ideal or ours_per_sweep > ideal + 1e-9:
        print(
            f"GOAL MISSED: {ours_per_sweep:.1f} calls per sweep (largest {largest_sweep}) > {ideal}"
        )
        ok = False
    else:
        print(f"goal met: {ideal} DescribeJobs calls per sweep (ceil({jobs}/100))")
    ratio = ours_cpu / base
    if ratio > CPU_GOAL:
        print(f"GOAL MISSED: CPU {ratio:.2f}x the hand-written 100-id sweep > {CPU_GOAL}x")
        ok = False
    else:
        print(f"goal met: CPU {ratio:.2f}x the hand-written 100-id sweep (<= {CPU_GOAL}x)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-job-runs", type=int, default=3)
    parser.add_argument("--polls", type=int, default=4, help="descriptions until SUCCEEDED")
    parser.add_argument("--stub", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stub:
        serve_stub(args.polls)
        return 0

    stub = subprocess.Popen(
        [sys.executable, __file__, "--stub", "--polls", str(args.polls)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert stub.stdout is not None
        line = stub.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError("the DescribeJobs stub did not start")
        url = f"http://127.0.0.1:{int(line.split()[1])}"
        results = asyncio.run(bench(url, args.jobs, args.runs, args.per_job_runs))
    finally:
        stub.kill()
        stub.wait()
    return 0 if report(results, args.jobs, args.polls) else 1


if __name__ == "__main__":
    sys.exit(main())
