"""One gate for every DescribeJobs of a service: ``PollPolicy.max_concurrent_calls`` holds for all.

The cap is measured where it matters, at the endpoint: the proxy counts the DescribeJobs calls it
serves at once (``BatchProxy.peak_in_flight``), and a small delay on each makes them overlap.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiobotocore.session import AioSession

from aws_batch_async import (
    BatchConfig,
    BatchService,
    JobRequest,
    JobStatus,
    PollPolicy,
    ServiceClosedError,
    StuckReason,
    SubmitRetry,
)
from aws_batch_async._transport.describe_gate import DescribeGate
from aws_batch_async.testing import (
    BatchInfrastructure,
    BatchProxy,
    MotoServer,
    create_batch_infrastructure,
)

from .._lifecycle_server import submit_jobs
from ..conftest import REGION

CAP = 4
#: Every DescribeJobs is held this long at the endpoint, so that calls overlap.
DELAY = 0.02
FAST_LOOKUPS = SubmitRetry(lookup_delays=(0.05, 0.1, 0.2), initial_backoff=0.05, max_backoff=0.5)


def capped(config: BatchConfig, cap: int = CAP) -> BatchConfig:
    policy = PollPolicy(initial_interval=0.05, max_interval=0.5, max_concurrent_calls=cap)
    return config.model_copy(update={"poll": policy})


async def test_waits_explains_and_submit_lookups_share_the_cap_at_the_endpoint(
    config: BatchConfig, moto_server: MotoServer, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    """The issue's test: 2,000 waits + 20 explain() + 50 submits with lost answers, at once."""
    # 2,000 jobs in one SubmitJob, in a queue of their own: the lookups list the main queue
    waited = create_batch_infrastructure(moto_server.url, region=REGION, name="waited")
    [parent] = await submit_jobs(moto_server.url, waited, array_size=2000)
    ids = [f"{parent}:{index}" for index in range(2000)]
    proxy.clear_calls()
    proxy.add_delay("DescribeJobs", DELAY)
    proxy.drop_responses("SubmitJob", times=50)  # moto creates each job; its answer is lost
    started = time.monotonic()
    async with BatchService(capped(config)) as batch:
        waits = [batch.wait_for(job_id, timeout=60) for job_id in ids]
        explains = [batch.explain(job_id) for job_id in ids[:20]]
        submits = [
            batch.submit_job(JobRequest(job_name=f"lost-{i}"), retry=FAST_LOOKUPS)
            for i in range(50)
        ]
        details, diagnoses, submitted = await asyncio.gather(
            asyncio.gather(*waits), asyncio.gather(*explains), asyncio.gather(*submits)
        )
    took = time.monotonic() - started

    assert proxy.peak_in_flight("DescribeJobs") <= CAP
    assert proxy.peak_in_flight("DescribeJobs") == CAP  # the calls did overlap: the cap held
    assert [d.job_id for d in details] == ids
    assert {d.status for d in details} == {JobStatus.SUCCEEDED}
    assert [d.verdict for d in diagnoses] == [StuckReason.FINISHED] * 20
    assert proxy.count("SubmitJob", outcome="dropped") == 50
    assert proxy.count("SubmitJob") == 50  # every lost answer was looked up, none re-sent
    # 50 jobs, no duplicates: each lookup found the one job its send created
    lost = [j for j in await moto_jobs(moto_server, infra.job_queue) if j.startswith("lost-")]
    assert sorted(lost) == sorted(f"lost-{i}" for i in range(50))
    assert len({s.job_id for s in submitted}) == 50
    assert took < 20


async def test_a_describe_jobs_sent_by_name_passes_the_gate_too(
    config: BatchConfig, moto_server: MotoServer, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    [job_id] = await submit_jobs(moto_server.url, infra)
    proxy.add_delay("DescribeJobs", DELAY)
    async with BatchService(capped(config, 2)) as batch:
        answers = await asyncio.gather(
            *(batch.call("DescribeJobs", jobs=[job_id]) for _ in range(10)),
            *(batch.describe_jobs([job_id]) for _ in range(10)),
        )
    assert all(a["jobs"][0]["jobId"] == job_id for a in answers[:10])
    assert proxy.count("DescribeJobs") == 20
    assert proxy.peak_in_flight("DescribeJobs") == 2


async def test_the_gate_counts_its_calls_in_flight_and_refuses_more_than_100_ids() -> None:
    release = asyncio.Event()
    sent: list[dict[str, Any]] = []

    async def send(operation: str, /, **params: Any) -> dict[str, Any]:
        sent.append({"operation": operation, **params})
        await release.wait()
        return {"jobs": []}

    gate = DescribeGate(send, 2)
    calls = [asyncio.ensure_future(gate.describe([f"j{i}"])) for i in range(5)]
    await asyncio.sleep(0)
    assert (gate.in_flight, len(sent)) == (2, 2)
    release.set()
    assert await asyncio.gather(*calls) == [{"jobs": []}] * 5
    assert gate.in_flight == 0
    assert sent[0] == {"operation": "DescribeJobs", "jobs": ["j0"]}
    with pytest.raises(ValueError, match="at most 100 ids"):
        await gate.describe([f"j{i}" for i in range(101)])
    with pytest.raises(ValueError, match="at least 1"):
        DescribeGate(send, 0)


async def test_a_describe_waiting_for_a_slot_when_the_service_closes_is_never_sent(
    config: BatchConfig, proxy: BatchProxy
) -> None:
    proxy.add_delay("DescribeJobs", 0.3)
    batch = BatchService(capped(config, 1))
    await batch.open()
    first = asyncio.ensure_future(batch.call("DescribeJobs", jobs=["a"]))
    queued = asyncio.ensure_future(batch.call("DescribeJobs", jobs=["b"]))
    for _ in range(500):  # until the first call reaches the endpoint (5 s at most)
        if proxy.in_flight("DescribeJobs"):
            break
        await asyncio.sleep(0.01)
    await batch.aclose()
    outcomes = await asyncio.gather(first, queued, return_exceptions=True)
    assert isinstance(outcomes[1], ServiceClosedError)
    assert proxy.peak_in_flight("DescribeJobs") == 1  # the queued call never left


def test_the_proxy_counts_the_calls_it_serves_at_once(
    proxy: BatchProxy, infra: BatchInfrastructure
) -> None:
    async def five_at_once() -> None:
        async with AioSession().create_client(
            "batch",
            region_name=REGION,
            endpoint_url=proxy.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ) as client:
            await asyncio.gather(*(client.describe_jobs(jobs=["nope"]) for _ in range(5)))
            await client.describe_job_queues()

    proxy.add_delay("DescribeJobs", 0.2)
    asyncio.run(five_at_once())
    assert proxy.peak_in_flight("DescribeJobs") == 5
    assert proxy.peak_in_flight("DescribeJobQueues") == 1
    assert proxy.in_flight("DescribeJobs") == 0
    proxy.clear_calls()
    assert proxy.peak_in_flight("DescribeJobs") == 0


async def moto_jobs(moto: MotoServer, queue: str) -> list[str]:
    """The names of every job moto holds in ``queue``, asked of moto directly."""
    async with AioSession().create_client(
        "batch",
        region_name=REGION,
        endpoint_url=moto.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        listed = await client.list_jobs(jobQueue=queue)  # moto: every status, no paging
    return [str(j["jobName"]) for j in listed["jobSummaryList"]]
