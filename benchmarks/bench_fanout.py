"""Benchmark: fan-out under AWS's limits, aws-batch-async vs raw aiobotocore, in the same run.

Each scenario gathers N ``submit_job`` calls through a fault-injecting proxy
(:class:`aws_batch_async.testing.BatchProxy`) in front of a local moto server, once with
aws-batch-async (default settings: 50 submits/s, idempotency token, default retry budget) and
once with a plain aiobotocore client (default settings plus botocore's ``standard`` retry mode,
as a user would write it). Jobs are counted on moto itself, never from what a client believes.

Scenarios (the goals of issue 4):

* ``throttle``: 400 submits, the proxy throttles SubmitJob at 50/s (token bucket, burst 50).
  Goal: all succeed, in at most 1.3x the ideal 8 s, with at most 15% of calls throttled.
* ``throttle-shared``: 200 submits while other clients leave only 25/s of the account's limit
  (aws-batch-async still set to 50/s: its limiter must adapt). Same goals, ideal 8 s.
* ``drop``: 150 submits, 20% of SubmitJob answers are dropped after moto created the job.
  Goal: exactly 150 jobs on the server.
* ``5xx-after``: 120 submits, 25% answered 500 after moto created the job. Goal: exactly 120.
* ``5xx-before``: 120 submits, 25% answered 500 before reaching moto. Goal: exactly 120.

moto answers about 100 requests a second, so the absolute times say little about AWS; the
comparison and the counts are the point. The script exits with status 1 when aws-batch-async
misses a goal.

Usage: ``python benchmarks/bench_fanout.py [--scale 1.0] [--seed 4]``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

from aws_batch_async import BatchConfig, BatchService, JobRequest
from aws_batch_async.testing import BatchProxy, MotoServer, create_batch_infrastructure

REGION = "us-east-1"
KEY_ID = SECRET = "testing"  # what moto accepts; no real account is reached
TIME_GOAL = 1.3
THROTTLED_GOAL = 0.15


@dataclass
class Scenario:
    name: str
    submits: int
    setup: Callable[[BatchProxy], object]
    description: str
    allowed_rate: float | None = None  # SubmitJob/s the endpoint allows (time goal)


@dataclass
class Result:
    scenario: str
    client: str
    submits: int
    seconds: float
    succeeded: int
    failed: int
    submit_calls: int
    throttled: int
    lookup_calls: int
    jobs_on_server: int

    @property
    def throttled_share(self) -> float:
        return self.throttled / self.submit_calls if self.submit_calls else 0.0


def scenarios(scale: float) -> list[Scenario]:
    def n(count: int) -> int:
        return max(10, round(count * scale))

    return [
        Scenario(
            "throttle",
            n(400),
            lambda p: p.set_rate_limit("SubmitJob", 50),
            "SubmitJob throttled at 50/s (HTTP 429 past the token bucket)",
            allowed_rate=50,
        ),
        Scenario(
            "throttle-shared",
            n(200),
            lambda p: p.set_rate_limit("SubmitJob", 25),
            "other clients use half the account's limit: 25/s left, we are set to 50/s",
            allowed_rate=25,
        ),
        Scenario(
            "drop",
            n(150),
            lambda p: p.drop_responses("SubmitJob", probability=0.2),
            "20% of SubmitJob answers dropped after moto created the job",
        ),
        Scenario(
            "5xx-after",
            n(120),
            lambda p: p.inject_error("SubmitJob", status=500, probability=0.25, after_forward=True),
            "25% of SubmitJob calls answered 500 after moto created the job",
        ),
        Scenario(
            "5xx-before",
            n(120),
            lambda p: p.inject_error("SubmitJob", status=500, probability=0.25),
            "25% of SubmitJob calls answered 500 before reaching moto",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# The two clients


async def run_ours(endpoint: str, queue: str, definition: str, count: int) -> list[Any]:
    config = BatchConfig(
        region=REGION,
        endpoint_url=endpoint,
        job_queue=queue,
        job_definition=definition,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
    )
    async with BatchService(config) as batch:
        return await asyncio.gather(
            *(batch.submit_job(JobRequest()) for _ in range(count)), return_exceptions=True
        )


async def run_raw(endpoint: str, queue: str, definition: str, count: int) -> list[Any]:
    session = AioSession()
    config = AioConfig(retries={"mode": "standard"})
    async with session.create_client(
        "batch",
        region_name=REGION,
        endpoint_url=endpoint,
        config=config,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    ) as client:
        return await asyncio.gather(
            *(
                client.submit_job(jobName=f"raw-{i}", jobQueue=queue, jobDefinition=definition)
                for i in range(count)
            ),
            return_exceptions=True,
        )


async def jobs_on_server(moto_url: str, queue: str) -> int:
    session = AioSession()
    async with session.create_client(
        "batch",
        region_name=REGION,
        endpoint_url=moto_url,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    ) as client:
        listed = await client.list_jobs(jobQueue=queue)  # moto: every status, no paging
        return len(listed["jobSummaryList"])


Runner = Callable[[str, str, str, int], Coroutine[Any, Any, list[Any]]]


def measure(
    moto: MotoServer, proxy: BatchProxy, scenario: Scenario, client: str, runner: Runner
) -> Result:
    moto.reset()
    infra = create_batch_infrastructure(moto.url, region=REGION)
    proxy.reset()
    scenario.setup(proxy)
    start = time.monotonic()
    outcomes = asyncio.run(
        runner(proxy.url, infra.job_queue, infra.job_definition, scenario.submits)
    )
    seconds = time.monotonic() - start
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    failed = len(errors)
    if errors:
        kinds = sorted({type(e).__name__ for e in errors})
        print(f"    {client} errors: {', '.join(kinds)}; e.g. {errors[0]}")
    return Result(
        scenario=scenario.name,
        client=client,
        submits=scenario.submits,
        seconds=seconds,
        succeeded=len(outcomes) - failed,
        failed=failed,
        submit_calls=proxy.count("SubmitJob"),
        throttled=proxy.count("SubmitJob", outcome="throttled"),
        lookup_calls=proxy.count("ListJobs") + proxy.count("DescribeJobs"),
        jobs_on_server=asyncio.run(jobs_on_server(moto.url, infra.job_queue)),
    )


def goals_missed(scenario: Scenario, result: Result) -> list[str]:
    missed = []
    if result.succeeded != result.submits:
        missed.append(f"{result.failed} submits failed")
    if result.jobs_on_server != result.submits:
        missed.append(f"{result.jobs_on_server} jobs on the server, not {result.submits}")
    if scenario.allowed_rate is not None:
        ideal = result.submits / scenario.allowed_rate
        if result.seconds > TIME_GOAL * ideal:
            missed.append(f"{result.seconds:.1f} s > {TIME_GOAL} x {ideal:.1f} s")
        if result.throttled_share > THROTTLED_GOAL:
            missed.append(f"{result.throttled_share:.0%} throttled > {THROTTLED_GOAL:.0%}")
    return missed


def table(results: list[Result]) -> str:
    lines = [
        "| scenario | client | submits | time (s) | succeeded | failed | SubmitJob calls "
        "| throttled | lookup calls | jobs on server |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.scenario} | {r.client} | {r.submits} | {r.seconds:.1f} | {r.succeeded} "
            f"| {r.failed} | {r.submit_calls} | {r.throttled} ({r.throttled_share:.0%}) "
            f"| {r.lookup_calls} | **{r.jobs_on_server}** |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every N by this")
    parser.add_argument("--seed", type=int, default=4, help="seed of the proxy's fault dice")
    args, _ = parser.parse_known_args()  # `nox -s bench -- ...` passes posargs to every script
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log

    results: list[Result] = []
    missed: list[str] = []
    with MotoServer(simple_batch=True) as moto, BatchProxy(moto.url, seed=args.seed) as proxy:
        for scenario in scenarios(args.scale):
            print(f"{scenario.name}: {scenario.submits} gathered submits; {scenario.description}")
            for client, runner in (("aws-batch-async", run_ours), ("raw aiobotocore", run_raw)):
                result = measure(moto, proxy, scenario, client, runner)
                results.append(result)
                print(
                    f"  {client:16} {result.seconds:6.1f} s, {result.failed} failed, "
                    f"{result.throttled_share:.0%} throttled, "
                    f"{result.jobs_on_server} jobs on the server"
                )
                if client == "aws-batch-async":
                    missed += [f"{scenario.name}: {m}" for m in goals_missed(scenario, result)]
    print()
    print(table(results))
    if missed:
        print("\nGoals missed by aws-batch-async:\n  " + "\n  ".join(missed))
        return 1
    print("\nEvery goal met by aws-batch-async.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
