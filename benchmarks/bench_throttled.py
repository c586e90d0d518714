"""Benchmark: 1000 gathered submits against an endpoint that allows 50 SubmitJob a second.

The stub (``benchmarks/_stub.py --submit-rate 50``, a child process) answers SubmitJob past a
token bucket (50 a second, burst 50) with HTTP 429 ``TooManyRequestsException``, as AWS does,
and records every job it creates (its name and token tag), so lost and duplicated jobs are
counted on the server, not taken from what a client believes.

* ``aws-batch-async``: ``asyncio.gather`` of 1000 ``submit_job`` with the default settings
  (``submit_rate_limit`` 50/s, idempotency token, the submit's own retry budget);
* ``raw aiobotocore``: 1000 gathered ``submit_job`` on one client with botocore's ``standard``
  retry mode, as a user would write it (shown beside, no goal).

Goals for aws-batch-async: all 1000 jobs created exactly once (0 lost, 0 duplicated), in at
most 1.05x the ideal 20 s (1000 / 50 per second), with at most 5% of its SubmitJob calls
throttled. The script exits with status 1 when a goal is missed.

Usage: ``python benchmarks/bench_throttled.py [--jobs 1000] [--rate 50] [--profile]``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from _common import (
    KEY_ID,
    REGION,
    SECRET,
    Goal,
    Report,
    StubProcess,
    parser,
    profiling,
    raw_client,
)
from aiobotocore.config import AioConfig

from aws_batch_async import BatchConfig, BatchService, JobRequest

TIME_GOAL = 1.05
THROTTLED_GOAL = 0.05
QUEUE, DEFINITION = "bench-queue", "bench-def:1"


async def run_ours(url: str, jobs: int) -> list[Any]:
    config = BatchConfig(
        region=REGION,
        endpoint_url=url,
        job_queue=QUEUE,
        job_definition=DEFINITION,
        job_definition_kind="CONTAINER",
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
    )
    async with BatchService(config) as batch:
        return await asyncio.gather(
            *(batch.submit_job(JobRequest()) for _ in range(jobs)), return_exceptions=True
        )


async def run_raw(url: str, jobs: int) -> list[Any]:
    async with raw_client(url, AioConfig(retries={"mode": "standard"})) as client:
        return await asyncio.gather(
            *(
                client.submit_job(jobName=f"raw-{i}", jobQueue=QUEUE, jobDefinition=DEFINITION)
                for i in range(jobs)
            ),
            return_exceptions=True,
        )


def measure(stub: StubProcess, runner: Any, jobs: int) -> dict[str, Any]:
    stub.reset()
    time.sleep(1.5)  # the bucket refills: every client starts with the same burst
    start = time.perf_counter()
    outcomes = asyncio.run(runner(stub.url, jobs))
    seconds = time.perf_counter() - start
    stats = stub.stats()
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    calls = stats["calls"].get("submitjob", 0)
    return {
        "seconds": seconds,
        "failed": len(failed),
        "errors": sorted({type(e).__name__ for e in failed}),
        "calls": calls,
        "throttled": stats["throttled"],
        "jobs": stats["jobs"],
        "duplicated": stats["duplicate_names"] + stats["duplicate_tokens"],
    }


def main() -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--jobs", type=int, default=1000)
    args_parser.add_argument("--rate", type=float, default=50.0)
    args = args_parser.parse_args()
    jobs = 200 if args.quick else args.jobs
    with StubProcess("--submit-rate", str(args.rate)) as stub:
        if args.profile:
            with profiling(True):
                measure(stub, run_ours, jobs)
            return 0
        ours = measure(stub, run_ours, jobs)
        raw = measure(stub, run_raw, jobs)
    ideal = jobs / args.rate
    lost = jobs - (ours["jobs"] - ours["duplicated"])
    rows = []
    for name, r in (("aws-batch-async", ours), ("raw aiobotocore", raw)):
        share = r["throttled"] / r["calls"] if r["calls"] else 0.0
        rows.append(
            [
                name,
                f"{r['seconds']:.1f}",
                f"{r['seconds'] / ideal:.2f}x",
                str(r["calls"]),
                f"{r['throttled']} ({share:.1%})",
                str(r["failed"]) + (f" ({', '.join(r['errors'])})" if r["errors"] else ""),
                str(r["jobs"] - r["duplicated"]),
                str(r["duplicated"]),
            ]
        )
    report = Report(
        scenario="Throttled fan-out",
        description=(
            f"{jobs} gathered submit_job against a stub allowing {args.rate:g} SubmitJob/s "
            f"(ideal {ideal:g} s); one run each"
        ),
        columns=[
            "client",
            "seconds",
            "vs ideal",
            "SubmitJob calls",
            "throttled",
            "failed",
            "jobs created",
            "duplicated",
        ],
        rows=rows,
        goals=[
            Goal("time vs the ideal", ours["seconds"] / ideal, TIME_GOAL, "<="),
            Goal(
                "calls throttled",
                100 * ours["throttled"] / max(ours["calls"], 1),
                100 * THROTTLED_GOAL,
                "<=",
                "%",
            ),
            Goal("jobs lost", float(lost + ours["failed"]), 0, "<=", ""),
            Goal("jobs duplicated", float(ours["duplicated"]), 0, "<=", ""),
        ],
    )
    report.print()
    report.write(args.json)
    return 0 if report.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
