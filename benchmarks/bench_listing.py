"""Benchmark: listing 100,000 jobs, ``list_jobs`` vs raw aiobotocore's paginator, in the same run.

The stub (``benchmarks/_stub.py``, a child process) holds ``--jobs`` job summaries of one
queue and pages them by ``maxResults``. Both clients list every SUCCEEDED job of the queue in
pages of 1000 (ListJobs' largest with a status) and touch every job:

* ``aws-batch-async``: ``async for job in batch.list_jobs(job_queue, "SUCCEEDED")``, an async
  generator yielding one validated :class:`~aws_batch_async.JobSummary` at a time;
* ``raw aiobotocore paginator``: ``get_paginator("list_jobs").paginate(...)``, each page's
  ``jobSummaryList`` iterated (dicts, no models).

Goals: at least 1.0x the paginator's jobs/s (median of the rounds), and **constant memory**:
the peak traced by ``tracemalloc`` while listing all the jobs at most 1.25x the peak while
listing a tenth of them (a listing that kept its jobs would grow tenfold). The script exits
with status 1 when a goal is missed.

Usage: ``python benchmarks/bench_listing.py [--jobs 100000] [--runs 3] [--profile]``.
"""

from __future__ import annotations

import asyncio
import sys
import tracemalloc
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

from aws_batch_async import BatchConfig, BatchService

QUEUE = "bench-queue"
SPEED_GOAL = 1.0
MEMORY_GOAL = 1.25

OURS = "aws-batch-async list_jobs"
RAW = "raw aiobotocore paginator"


def _config(url: str) -> BatchConfig:
    return BatchConfig(
        region=REGION, endpoint_url=url, access_key_id=KEY_ID, secret_access_key=SECRET
    )


async def list_ours(url: str, limit: int | None = None, profile: bool = False) -> Measured:
    async with BatchService(_config(url)) as batch:

        async def consume() -> int:
            count = 0
            async for job in batch.list_jobs(QUEUE, "SUCCEEDED"):
                assert job.job_id
                count += 1
                if limit is not None and count >= limit:
                    break
            return count

        with profiling(profile):
            count, wall, cpu = await timed(consume())
    return Measured(wall, cpu, {"jobs": count})


async def list_raw(url: str) -> Measured:
    async with raw_client(url) as client:

        async def consume() -> int:
            count = 0
            pages = client.get_paginator("list_jobs").paginate(
                jobQueue=QUEUE, jobStatus="SUCCEEDED", PaginationConfig={"PageSize": 1000}
            )
            async for page in pages:
                for job in page["jobSummaryList"]:
                    assert job["jobId"]
                    count += 1
            return count

        count, wall, cpu = await timed(consume())
    return Measured(wall, cpu, {"jobs": count})


def peak_memory(url: str, limit: int) -> int:
    """tracemalloc's peak while list_jobs yields ``limit`` jobs (after the client is open)."""

    async def run() -> int:
        async with BatchService(_config(url)) as batch:
            tracemalloc.start()
            try:
                count = 0
                async for _ in batch.list_jobs(QUEUE, "SUCCEEDED"):
                    count += 1
                    if count >= limit:
                        break
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    result: int = asyncio.run(run())
    return result


def main() -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--jobs", type=int, default=100_000)
    args_parser.add_argument("--runs", type=int, default=3)
    args = args_parser.parse_args()
    jobs = 20_000 if args.quick else args.jobs
    with StubProcess("--list-jobs", str(jobs)) as stub:
        url = stub.url
        if args.profile:
            asyncio.run(list_ours(url, profile=True))
            return 0
        asyncio.run(list_ours(url, limit=2000))  # first-call costs
        clients: dict[str, Any] = {
            OURS: lambda: asyncio.run(list_ours(url)),
            RAW: lambda: asyncio.run(list_raw(url)),
        }
        results = rounds(clients, 1 if args.quick else args.runs)
        small, large = peak_memory(url, jobs // 10), peak_memory(url, jobs)
    for name, measured in results.items():
        assert all(m.extra["jobs"] == jobs for m in measured), name

    def rate(name: str) -> float:
        return jobs / median(r.wall for r in results[name])

    rows = [
        [
            name,
            f"{rate(name):,.0f}",
            f"{median(r.cpu for r in results[name]) / jobs * 1e6:.1f}",
            f"{rate(name) / rate(RAW):.2f}x",
        ]
        for name in results
    ]
    report = Report(
        scenario="Listing",
        description=f"{jobs:,} SUCCEEDED jobs of one queue in pages of 1000; medians of the rounds",
        columns=["client", "jobs/s", "CPU µs/job", "vs paginator"],
        rows=rows,
        goals=[
            Goal("jobs/s vs the raw paginator", rate(OURS) / rate(RAW), SPEED_GOAL, ">="),
            Goal(
                f"peak memory listing {jobs:,} vs {jobs // 10:,} jobs",
                large / small,
                MEMORY_GOAL,
                "<=",
            ),
        ],
        notes=[
            f"tracemalloc peak: {small / 1e6:.2f} MB for {jobs // 10:,} jobs, "
            f"{large / 1e6:.2f} MB for {jobs:,} jobs"
        ],
    )
    report.print()
    report.write(args.json)
    return 0 if report.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
