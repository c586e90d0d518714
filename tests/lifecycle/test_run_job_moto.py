"""run_job's arguments, a stuck job and a failing on_submitted, against moto and the proxy.

moto's simple backend finishes a job when SubmitJob returns; ``override_job`` holds it queued.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from aws_batch_async import (
    BatchConfig,
    BatchService,
    FailureKind,
    JobFailedError,
    JobRequest,
    JobResponse,
    JobStatus,
    JobStuckError,
    PollPolicy,
    ResubmitPolicy,
    scale_memory,
)
from aws_batch_async._lifecycle.failure import RUN_JOB_REASON_PREFIX
from aws_batch_async.testing import BatchProxy


async def test_bad_arguments_are_refused_before_any_call(
    batch: BatchService, proxy: BatchProxy
) -> None:
    request = JobRequest(command=["true"])
    with pytest.raises(ValueError, match="on_cancel"):
        await batch.run_job(request, on_cancel="ignore")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="logs must be callable"):
        await batch.run_job(request, logs="print")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ResubmitPolicy"):
        await batch.run_job(request, resubmit={"OUT_OF_MEMORY": None})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="JobRequest"):
        await batch.run_job({"command": ["true"]})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        await batch.run_job(request, timeout=-1)
    assert proxy.count() == 0


async def test_a_stuck_job_is_terminated(config_fast: BatchService, proxy: BatchProxy) -> None:
    batch = config_fast
    submitted: list[JobResponse] = []

    def hold(response: JobResponse) -> None:
        submitted.append(response)
        proxy.override_job(
            response.job_id,
            status="RUNNABLE",
            statusReason="CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - no capacity",
        )

    with pytest.raises(JobStuckError):
        await batch.run_job(JobRequest(command=["true"]), on_submitted=hold, stuck_after=0.3)
    assert proxy.count("TerminateJob") == 1
    job = await batch.get_job_status(submitted[0].job_id)
    assert job.status is JobStatus.FAILED
    assert job.status_reason == f"{RUN_JOB_REASON_PREFIX}: the caller gave up (JobStuckError)"


async def test_an_on_submitted_error_terminates_the_job(
    config_fast: BatchService, proxy: BatchProxy
) -> None:
    def fail(response: JobResponse) -> None:
        proxy.override_job(response.job_id, status="RUNNING")
        raise LookupError("no row for this job")

    with pytest.raises(LookupError):
        await config_fast.run_job(JobRequest(command=["true"]), on_submitted=fail)
    assert proxy.count("TerminateJob") == 1


async def test_the_chain_stops_at_max_attempts(
    config_fast: BatchService, proxy: BatchProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", "0")  # every job FAILS

    def out_of_memory(response: JobResponse) -> None:
        proxy.override_job(
            response.job_id,
            statusReason="Essential container in task exited",
            container={"exitCode": 137, "reason": "OutOfMemoryError: Container killed"},
        )

    policy = ResubmitPolicy(max_attempts=3, on={FailureKind.OUT_OF_MEMORY: scale_memory(2.0)})
    with pytest.raises(JobFailedError) as caught:
        await config_fast.run_job(
            JobRequest(command=["true"], memory_mib=100),
            resubmit=policy,
            on_submitted=out_of_memory,
        )
    assert proxy.count("SubmitJob") == 3
    memories = [
        next(
            r["value"]
            for r in c.body["containerOverrides"]["resourceRequirements"]
            if r["type"] == "MEMORY"
        )
        for c in proxy.calls
        if c.operation == "SubmitJob"
    ]
    assert memories == ["100", "200", "400"]
    assert len(caught.value.job.resubmitted_from) == 2


@pytest.fixture
async def config_fast(config: BatchConfig) -> AsyncIterator[BatchService]:
    """A service on the conftest moto and proxy, its poller quick."""
    quick = config.model_copy(update={"poll": PollPolicy(initial_interval=0.05, max_interval=0.2)})
    async with BatchService(quick) as service:
        yield service
