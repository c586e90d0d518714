"""``JobRequest(idempotency_key=...)``: one job per key, from any process (moto, proxy)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from aws_batch_async import BatchAPIError, BatchConfig, BatchService, JobRequest
from aws_batch_async._lifecycle.idempotency import KEY_TAG, keyed_name
from aws_batch_async.testing import BatchProxy

ROOT = str(Path(__file__).resolve().parents[2])


async def test_a_key_reused_from_a_second_service_returns_the_first_job(
    config: BatchConfig, proxy: BatchProxy
) -> None:
    request = JobRequest(command=["true"], idempotency_key="order-42")
    async with BatchService(config) as first:
        created = await first.submit_job(request)
    proxy.clear_calls()
    async with BatchService(config) as second:  # a restarted process
        again = await second.submit_job(request)
    assert again.job_id == created.job_id
    assert proxy.count("SubmitJob") == 0
    # The figure of the docs: one ListJobs and one DescribeJobs per keyed submit of a known key.
    assert proxy.count("ListJobs") == 1
    assert proxy.count("DescribeJobs") == 1
    async with BatchService(config) as third:
        jobs = [j async for j in third.list_jobs(job_name=created.job_name)]
    assert [j.job_id for j in jobs] == [created.job_id]


async def test_a_new_key_costs_one_lookup_then_one_send(
    batch: BatchService, proxy: BatchProxy
) -> None:
    proxy.clear_calls()
    job = await batch.submit_job(JobRequest(command=["true"], idempotency_key="fresh"))
    assert proxy.count("ListJobs") == 1
    assert proxy.count("DescribeJobs") == 0
    assert proxy.count("SubmitJob") == 1
    assert job.job_name == keyed_name(None, "fresh")
    raw = await batch.describe_jobs([job.job_id])
    assert KEY_TAG not in raw[0].tags  # the library's tags stay hidden


async def test_a_key_in_a_new_process_after_a_crash(config: BatchConfig, proxy: BatchProxy) -> None:
    script = (
        "import asyncio, sys\n"
        "from aws_batch_async import BatchConfig, BatchService, JobRequest\n"
        "async def main():\n"
        f"    config = BatchConfig.model_validate_json({config.model_dump_json()!r})\n"
        "    async with BatchService(config) as batch:\n"
        "        job = await batch.submit_job(JobRequest(command=['true'], idempotency_key='k1'))\n"
        "        print(job.job_id, flush=True)\n"
        "asyncio.run(main())\n"
    )

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            env={
                "PYTHONPATH": ROOT,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_EC2_METADATA_DISABLED": "true",
            },
        )
        return done.stdout.strip()

    first = await asyncio.to_thread(run)
    second = await asyncio.to_thread(run)
    assert first
    assert first == second
    assert proxy.count("SubmitJob") == 1


async def test_concurrent_submits_of_one_key_make_one_job(
    batch: BatchService, proxy: BatchProxy
) -> None:
    requests = [JobRequest(command=["true"], idempotency_key="same") for _ in range(5)]
    jobs = await asyncio.gather(*(batch.submit_job(r) for r in requests))
    assert len({j.job_id for j in jobs}) == 1
    assert proxy.count("SubmitJob") == 1
    # submit_jobs too, and a second key next to it.
    more = await batch.submit_jobs([*requests, JobRequest(command=["true"], idempotency_key="b")])
    assert {j.job_id for j in more[:5]} == {jobs[0].job_id}
    assert more[5].job_id != jobs[0].job_id
    assert proxy.count("SubmitJob") == 2


async def test_a_named_keyed_job_is_told_apart_from_others_of_its_name(
    batch: BatchService, proxy: BatchProxy
) -> None:
    other = await batch.submit_job(JobRequest(command=["true"], job_name="nightly"))
    keyed = await batch.submit_job(
        JobRequest(command=["true"], job_name="nightly", idempotency_key="2026-12-07")
    )
    assert keyed.job_id != other.job_id
    async with BatchService(batch.config) as fresh:
        again = await fresh.submit_job(
            JobRequest(command=["true"], job_name="nightly", idempotency_key="2026-12-07")
        )
        different = await fresh.submit_job(
            JobRequest(command=["true"], job_name="nightly", idempotency_key="2026-12-08")
        )
    assert again.job_id == keyed.job_id
    assert different.job_id not in (keyed.job_id, other.job_id)


async def test_a_failed_lookup_sends_nothing(batch: BatchService, proxy: BatchProxy) -> None:
    proxy.inject_error("ListJobs", status=400, code="ClientException", times=1)
    with pytest.raises(BatchAPIError):
        await batch.submit_job(JobRequest(command=["true"], idempotency_key="k"))
    assert proxy.count("SubmitJob") == 0


async def test_without_a_key_nothing_changes(batch: BatchService, proxy: BatchProxy) -> None:
    await batch.submit_job(JobRequest(command=["true"]))
    assert proxy.count("ListJobs") == 0
    assert proxy.count("SubmitJob") == 1


def test_the_key_takes_a_tag() -> None:
    with pytest.raises(ValueError, match="idempotency_key"):
        JobRequest(idempotency_key="")
    with pytest.raises(ValueError, match="idempotency_key"):
        JobRequest(idempotency_key="k" * 257)


async def test_the_key_leaves_room_for_its_tag(batch: BatchService) -> None:
    tags = {f"t{i}": "v" for i in range(49)}
    with pytest.raises(ValueError, match="at most 48"):
        await batch.submit_job(JobRequest(command=["true"], tags=tags, idempotency_key="k"))
