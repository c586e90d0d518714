"""Stuck waits: ``stuck_after`` raises JobStuckError carrying the diagnosis; the job is untouched.

moto finishes jobs at once in simple mode, so the AWS-faithful proxy shows them RUNNABLE
(``override_job``) where a test needs a queued job; the queue is really disabled in moto.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aws_batch_async import (
    BatchConfig,
    BatchService,
    JobRequest,
    JobStatus,
    JobStuckError,
    PollPolicy,
    StuckReason,
)
from aws_batch_async.testing import BatchInfrastructure, BatchProxy

FAST = PollPolicy(initial_interval=0.05, max_interval=0.1)


@pytest.fixture
async def fast(config: BatchConfig) -> AsyncIterator[BatchService]:
    async with BatchService(config.model_copy(update={"poll": FAST})) as service:
        yield service


async def queued_job(batch: BatchService, proxy: BatchProxy, **fields: Any) -> str:
    job_id = (await batch.submit_job(JobRequest(command=["true"]))).job_id
    proxy.override_job(job_id, status="RUNNABLE", **fields)
    return job_id


async def test_wait_for_raises_with_the_diagnosis_of_a_disabled_queue(
    fast: BatchService, proxy: BatchProxy, infra: BatchInfrastructure
) -> None:
    job_id = await queued_job(fast, proxy)
    await fast._clients.call("UpdateJobQueue", jobQueue=infra.job_queue, state="DISABLED")
    started = time.monotonic()
    with pytest.raises(JobStuckError) as caught:
        await fast.wait_for(job_id, stuck_after=0.3, timeout=10)
    assert 0.3 <= time.monotonic() - started < 5
    error = caught.value
    assert error.job_id == job_id
    assert error.stuck_after == 0.3
    assert error.diagnosis.verdict is StuckReason.QUEUE_DISABLED
    assert "QUEUE_DISABLED" in str(error)
    assert proxy.count("CancelJob") == proxy.count("TerminateJob") == 0  # the job is untouched
    assert (await fast.get_job_status(job_id)).status is JobStatus.RUNNABLE


async def test_a_job_that_starts_is_never_stuck(fast: BatchService, proxy: BatchProxy) -> None:
    job_id = await queued_job(fast, proxy)
    seen = []
    async for job in fast.watch(job_id, stuck_after=0.5, timeout=10):
        seen.append(job.status)
        if job.status is JobStatus.RUNNABLE:
            proxy.override_job(job_id, status="RUNNING")
        elif job.status is JobStatus.RUNNING:
            await asyncio.sleep(0.8)  # past stuck_after: a started job is not stuck
            proxy.override_job(job_id, status="SUCCEEDED")
    assert seen[0] is JobStatus.RUNNABLE
    assert seen[-1] is JobStatus.SUCCEEDED


async def test_the_config_default_and_as_completed(config: BatchConfig, proxy: BatchProxy) -> None:
    update = {"poll": FAST, "stuck_after": 0.3}
    async with BatchService(config.model_copy(update=update)) as batch:
        done = (await batch.submit_job(JobRequest(command=["true"]))).job_id
        stuck = await queued_job(batch, proxy)
        yielded: list[str] = []

        async def collect() -> None:
            async for job in batch.as_completed([done, stuck], timeout=10):
                yielded.append(job.job_id)

        with pytest.raises(JobStuckError) as caught:
            await collect()
        assert yielded == [done]
        assert caught.value.job_id == stuck
        assert caught.value.diagnosis.verdict is StuckReason.QUEUED
        finished = await batch.wait_for(done, stuck_after=None)  # the config's default applies
        assert finished.status is JobStatus.SUCCEEDED


async def test_bad_stuck_after_is_rejected_before_any_call(
    fast: BatchService, proxy: BatchProxy
) -> None:
    proxy.clear_calls()
    with pytest.raises(ValueError, match="stuck_after"):
        await fast.wait_for("job", stuck_after=-1)
    with pytest.raises(TypeError, match="stuck_after"):
        await fast.wait_for("job", stuck_after="10")  # type: ignore[arg-type]
    assert proxy.count() == 0
