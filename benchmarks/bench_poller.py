"""Benchmark: the poller's CPU per sweep grows with the jobs due, not with the jobs tracked.

Two pollers track 50,000 and 1,000 jobs; in both, the same 100 "busy" jobs change status at
every poll (so they are due every ``initial_interval``) while the others sit RUNNABLE and have
backed off far beyond the measured window (``max_interval`` 3600 s, ``rand`` at the top of the
band). Every measured sweep therefore describes exactly 100 ids, in one DescribeJobs call.

The clock and sleep are injected (the fake sleep moves the clock, so nothing waits) and
DescribeJobs is an instant fake returning prepared dicts: ``time.process_time()`` counts the
poller's own work only, wakes included. The scenarios are measured in interleaved rounds (the
other poller is paused meanwhile), and the figure is the median over rounds of CPU per sweep.

Goal: CPU per sweep with 50,000 tracked at most 2x that with 1,000 tracked (a wake that scanned
every tracked job would cost about 50x). The script exits with status 1 when the goal is missed
or when a measured sweep did not describe exactly the due jobs.

Usage: ``python benchmarks/bench_poller.py [--runs 7] [--sweeps 60]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from aws_batch_async import PollPolicy
from aws_batch_async._waiting.poller import JobPoller

RATIO_GOAL = 2.0
DUE = 100  # busy jobs: described at every sweep
SIZES = (50_000, 1_000)  # tracked jobs of the two scenarios
POLICY = PollPolicy(initial_interval=1.0, max_interval=3600.0, multiplier=10.0)
#: Idle jobs are polled at t = 1, 2, 7 and 57 (backoff 1, 10, 100, 1000 s, joining sweeps early),
#: then not before t = 557: sweeps in between describe the busy jobs only.
MEASURE_FROM = 60.0
MEASURE_UNTIL = 550.0
BUDGET = int(MEASURE_UNTIL - MEASURE_FROM) - 10  # one sweep per fake second


class World:
    """One poller with its fake clock, sleep and DescribeJobs; paused unless measured."""

    def __init__(self, tracked: int) -> None:
        self.tracked = tracked
        self.now = 0.0
        self.gate = asyncio.Event()
        self.calls: list[int] = []  # ids per DescribeJobs call
        self.target = 0
        self.reached = asyncio.Event()
        self.warm = asyncio.Event()  # set once the idle jobs have backed off
        busy = [f"busy-{i}" for i in range(DUE)]
        idle = [f"idle-{i}" for i in range(tracked - DUE)]
        self.answers: dict[str, Any] = {i: _job(i, "RUNNABLE") for i in idle}
        self.answers |= {i: (_job(i, "RUNNING"), _job(i, "STARTING")) for i in busy}
        self.polls = dict.fromkeys(busy, 0)
        self.poller = JobPoller(
            self.describe, POLICY, clock=self.clock, sleep=self.sleep, rand=lambda: 1.0
        )
        self.subscriptions = [self.poller.subscribe(idle), self.poller.subscribe(busy)]

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.now >= MEASURE_FROM:
            self.warm.set()
        await asyncio.sleep(0)
        await self.gate.wait()

    async def describe(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        self.calls.append(len(ids))
        answer = []
        for job_id in ids:
            found = self.answers[job_id]
            if isinstance(found, tuple):  # busy: a new status at every poll
                self.polls[job_id] += 1
                found = found[self.polls[job_id] % 2]
            answer.append(found)
        if len(self.calls) >= self.target:
            self.reached.set()
        return answer

    async def run_until(self, calls: int) -> None:
        """Let the poller run until it has made ``calls`` DescribeJobs calls in all."""
        self.target = calls
        self.reached.clear()
        self.gate.set()
        await self.reached.wait()
        self.gate.clear()

    async def warm_up(self) -> None:
        self.gate.set()
        await self.warm.wait()
        self.gate.clear()

    async def measure(self, sweeps: int) -> float:
        """CPU seconds per sweep over the next ``sweeps`` sweeps."""
        start_calls = len(self.calls)
        start = time.process_time()
        await self.run_until(start_calls + sweeps)
        cpu = time.process_time() - start
        done = self.calls[start_calls:]
        if self.now > MEASURE_UNTIL or any(n != DUE for n in done):
            raise RuntimeError(f"set-up broken: sweeps of {sorted(set(done))} ids at t={self.now}")
        return cpu / len(done)

    async def close(self) -> None:
        self.gate.set()
        for subscription in self.subscriptions:
            subscription.close()
        await self.poller.aclose()


def _job(job_id: str, status: str) -> dict[str, Any]:
    return {
        "jobId": job_id,
        "jobName": "bench",
        "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
        "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/d:1",
        "status": status,
        "createdAt": 1_700_000_000_000,
        "container": {"image": "busybox", "environment": [{"name": "K", "value": "v"}]},
    }


async def bench(runs: int, sweeps: int) -> dict[int, list[float]]:
    worlds = [World(size) for size in SIZES]
    try:
        for world in worlds:
            await world.warm_up()
        results: dict[int, list[float]] = {size: [] for size in SIZES}
        for round_ in range(runs + 1):  # round 0 warms caches up and is not counted
            for world in worlds if round_ % 2 else reversed(worlds):
                per_sweep = await world.measure(sweeps)
                if round_:
                    results[world.tracked].append(per_sweep)
        return results
    finally:
        for world in worlds:
            await world.close()


def report(results: dict[int, list[float]]) -> bool:
    """Print the figures and the goal; return whether it is met."""
    big, small = (statistics.median(results[size]) for size in SIZES)
    rounds = len(results[SIZES[0]])
    print(f"\nJobPoller CPU per sweep of {DUE} due jobs (median of {rounds} rounds)\n")
    for size, cpu in zip(SIZES, (big, small), strict=True):
        spread = ", ".join(f"{x * 1e6:.0f}" for x in results[size])
        print(f"{size:>7,} tracked: {cpu * 1e6:8.1f} µs per sweep   (rounds: {spread})")
    ratio = big / small
    verdict = "goal met" if ratio <= RATIO_GOAL else "GOAL MISSED"
    print(f"\n{verdict}: {SIZES[0]:,} tracked cost {ratio:.2f}x {SIZES[1]:,} (<= {RATIO_GOAL}x)")
    return ratio <= RATIO_GOAL


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="measured rounds per scenario")
    parser.add_argument("--sweeps", type=int, default=60, help="sweeps per round")
    args, _ = parser.parse_known_args()  # `nox -s bench -- ...` passes posargs to every script
    if args.runs < 1 or args.sweeps < 1 or (args.runs + 1) * args.sweeps > BUDGET:
        parser.error(f"need runs >= 1, sweeps >= 1 and (runs + 1) * sweeps <= {BUDGET}")
    results = asyncio.run(bench(args.runs, args.sweeps))
    return 0 if report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
