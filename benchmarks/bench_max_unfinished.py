"""Memory of ``submit_jobs(..., max_unfinished=N)`` over a generator of many requests.

Submits ``--count`` requests (default 100,000) read from a generator to the Batch stub
(``benchmarks/_stub.py``: a job is SUCCEEDED at its first DescribeJobs), with
``max_unfinished`` (default 50), and reports the peak of Python allocations (tracemalloc)
and of the process's resident memory, beside the same count submitted without the cap (the
whole list is built first). Also: the peak of jobs unfinished as the library saw them (the
cap) and the calls the stub answered.

Usage: ``python benchmarks/bench_max_unfinished.py [--count 100000] [--cap 50]``.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
import tracemalloc
from collections.abc import Iterator

from _common import REGION, StubProcess

from aws_batch_async import BatchConfig, BatchService, JobRequest, PollPolicy


def requests(count: int) -> Iterator[JobRequest]:
    for i in range(count):
        yield JobRequest(command=["echo", str(i)])


async def submit(url: str, count: int, cap: int | None) -> tuple[int, float, int]:
    config = BatchConfig(
        region=REGION,
        endpoint_url=url,
        access_key_id="bench",
        secret_access_key="bench",
        job_queue="bench-queue",
        job_definition="bench-def",
        job_definition_kind="CONTAINER",
        submit_rate_limit=None,
        poll=PollPolicy(initial_interval=0.05, max_interval=0.05),
    )
    started = time.perf_counter()
    tracemalloc.start()
    async with BatchService(config) as batch:
        if cap is None:
            jobs = await batch.submit_jobs(list(requests(count)), concurrency=50)
        else:
            jobs = await batch.submit_jobs(requests(count), max_unfinished=cap)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return len(jobs), time.perf_counter() - started, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--cap", type=int, default=50)
    parser.add_argument("--uncapped", action="store_true", help="measure without the cap")
    args = parser.parse_args()
    with StubProcess("--polls", "1") as stub:
        cap = None if args.uncapped else args.cap
        done, seconds, peak = asyncio.run(submit(stub.url, args.count, cap))
        calls = stub.stats()["calls"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    label = "no cap (list)" if cap is None else f"max_unfinished={cap} (generator)"
    print(
        f"{label}: {done} jobs in {seconds:.0f} s; tracemalloc peak {peak / 2**20:.1f} MiB, "
        f"max RSS {rss:.0f} MiB; stub calls {calls}"
    )


if __name__ == "__main__":
    main()
