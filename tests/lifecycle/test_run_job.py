"""run_job on LocalBatch in "run" mode: real processes, real exit codes, real TerminateJob.

A :class:`BatchProxy` of this process sits in front of the LocalBatch (whose own proxy is in its
child process), to count calls and to show what LocalBatch cannot produce: the reason ECS gives
an out-of-memory kill (``describe_hook``) and a lost host (``override_job``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiobotocore.session import AioSession

from aws_batch_async import (
    BatchService,
    FailureKind,
    JobFailedError,
    JobRequest,
    JobResponse,
    JobStatus,
    LogEvent,
    PollPolicy,
    ResubmitPolicy,
    WaitTimeoutError,
    scale_memory,
    to_queue,
    with_env,
)
from aws_batch_async._lifecycle.failure import RUN_JOB_REASON_PREFIX
from aws_batch_async._lifecycle.lineage import RESUBMIT_TAG_KEY
from aws_batch_async.testing import BatchProxy, LocalBatch

POLL = PollPolicy(initial_interval=0.1, max_interval=0.5, not_found_grace=10)
OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"
OTHER_QUEUE = "on-demand"


@pytest.fixture(scope="module")
def local() -> Iterator[LocalBatch]:
    with LocalBatch(mode="run") as local:
        yield local


@pytest.fixture(scope="module")
def outer(local: LocalBatch) -> Iterator[BatchProxy]:
    with BatchProxy(local.endpoint_url) as proxy:
        yield proxy


@pytest.fixture
def proxy(outer: BatchProxy) -> Iterator[BatchProxy]:
    outer.reset()
    outer.describe_hook = None
    yield outer
    outer.describe_hook = None
    outer.reset()


@pytest.fixture
async def batch(local: LocalBatch, proxy: BatchProxy) -> AsyncIterator[BatchService]:
    config = local.config.model_copy(update={"endpoint_url": proxy.url, "poll": POLL})
    async with BatchService(config) as service:
        yield service


def submit_bodies(proxy: BatchProxy) -> list[dict[str, Any]]:
    return [c.body for c in proxy.calls if c.operation == "SubmitJob"]


def memory_of(body: dict[str, Any]) -> int | None:
    for item in body.get("containerOverrides", {}).get("resourceRequirements", []):
        if item["type"] == "MEMORY":
            return int(item["value"])
    return None


def ecs_out_of_memory(job: dict[str, Any]) -> None:
    """What ECS says of a container its OOM killer stopped (LocalBatch only has the 137)."""
    container = job.get("container") or {}
    ours = (job.get("statusReason") or "").startswith(RUN_JOB_REASON_PREFIX)
    if job.get("status") == "FAILED" and container.get("exitCode") == 137 and not ours:
        container["reason"] = OOM_REASON


class Submitted:
    """An ``on_submitted`` callback whose jobs can be awaited one by one."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[JobResponse] = asyncio.Queue()

    def __call__(self, response: JobResponse) -> None:
        self.queue.put_nowait(response)

    async def next(self) -> JobResponse:
        return await asyncio.wait_for(self.queue.get(), 30)


async def until_running(batch: BatchService, job_id: str) -> None:
    async for job in batch.watch(job_id, timeout=60):
        if job.status is JobStatus.RUNNING:
            return
    raise AssertionError("the job never ran")


async def test_run_job_returns_the_job_with_its_log_lines(
    batch: BatchService, proxy: BatchProxy
) -> None:
    submitted: list[JobResponse] = []
    lines: list[LogEvent] = []
    job = await batch.run_job(
        JobRequest(command=["sh", "-c", "echo one; echo two >&2"]),
        on_submitted=submitted.append,
        logs=lines.append,
        timeout=60,
    )
    assert job.status is JobStatus.SUCCEEDED
    assert [r.job_id for r in submitted] == [job.job_id]
    assert [line.message for line in lines] == ["one", "two"]
    assert job.failure is None
    assert job.resubmitted_from == []
    counts = proxy.counts()
    assert counts["SubmitJob"] == 1
    assert counts["TerminateJob"] == 0

    proxy.clear_calls()  # without logs: the figure docs/lifecycle.md gives
    plain = await batch.run_job(JobRequest(command=["true"]), timeout=60)
    assert plain.status is JobStatus.SUCCEEDED
    counts = proxy.counts()
    assert counts["SubmitJob"] == 1
    assert counts["DescribeJobs"] <= 6, counts
    assert set(counts) == {"SubmitJob", "DescribeJobs"}, counts


async def test_cancelling_run_job_terminates_the_job(
    batch: BatchService, proxy: BatchProxy
) -> None:
    submitted = Submitted()
    task = asyncio.create_task(
        batch.run_job(JobRequest(command=["sleep", "60"]), on_submitted=submitted)
    )
    job_id = (await submitted.next()).job_id
    await until_running(batch, job_id)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert proxy.count("TerminateJob") == 1  # sent before the cancellation propagated
    cancelled_at = time.monotonic()
    final = await batch.wait_for(job_id, timeout=30, raise_on_failure=False)
    took = time.monotonic() - cancelled_at
    assert final.status is JobStatus.FAILED
    assert final.status_reason == f"{RUN_JOB_REASON_PREFIX}: the caller cancelled it"
    assert final.failure is not None
    assert final.failure.kind is FailureKind.CANCELLED
    assert not final.failure.retryable
    assert took < 2 * POLL.max_interval + 2.0, took  # one poll interval (0.6-0.9 s measured) + load


async def test_a_timeout_terminates_the_job_and_detach_leaves_it(
    batch: BatchService, proxy: BatchProxy
) -> None:
    submitted = Submitted()
    with pytest.raises(WaitTimeoutError):
        await batch.run_job(
            JobRequest(command=["sleep", "60"]), timeout=1.5, on_submitted=submitted
        )
    timed_out = await submitted.next()
    final = await batch.wait_for(timed_out.job_id, timeout=30, raise_on_failure=False)
    assert final.status is JobStatus.FAILED
    assert final.status_reason is not None
    assert "no result within its timeout (1.5 s)" in final.status_reason

    proxy.clear_calls()
    task = asyncio.create_task(
        batch.run_job(
            JobRequest(command=["sleep", "60"]),
            on_cancel="detach",
            on_submitted=submitted,
        )
    )
    detached = (await submitted.next()).job_id
    await until_running(batch, detached)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert proxy.count("TerminateJob") == 0
    assert (await batch.get_job_status(detached)).status is JobStatus.RUNNING
    await batch.stop_job(detached, "the test is over")


async def test_out_of_memory_is_resubmitted_once_with_twice_the_memory(
    batch: BatchService, proxy: BatchProxy, tmp_path: Path
) -> None:
    proxy.describe_hook = ecs_out_of_memory
    marker = tmp_path / "first-run"
    # The first job dies of SIGKILL (137) as the OOM killer would; the resubmission succeeds.
    script = f"if [ -e {marker} ]; then echo enough; else : > {marker}; kill -9 $$; fi"
    policy = ResubmitPolicy(
        max_attempts=3, on={FailureKind.OUT_OF_MEMORY: scale_memory(2.0, max_mib=4096)}
    )
    lines: list[LogEvent] = []
    job = await batch.run_job(
        JobRequest(command=["sh", "-c", script], memory_mib=512),
        resubmit=policy,
        logs=lines.append,
        timeout=60,
    )
    assert job.status is JobStatus.SUCCEEDED
    assert len(job.resubmitted_from) == 1
    first = await batch.get_job_status(job.resubmitted_from[0])
    assert first.failure is not None
    assert first.failure.kind is FailureKind.OUT_OF_MEMORY
    assert first.failure.reason == OOM_REASON
    bodies = submit_bodies(proxy)
    assert [memory_of(b) for b in bodies] == [512, 1024]
    assert bodies[1]["tags"][RESUBMIT_TAG_KEY] == first.job_id
    assert RESUBMIT_TAG_KEY not in bodies[0].get("tags", {})
    described = await batch.get_job_status(job.job_id)
    assert described.resubmitted_from == [first.job_id]  # from the tag, on any later read
    assert RESUBMIT_TAG_KEY not in described.tags
    assert [line.message for line in lines] == ["enough"]


async def test_a_failure_the_policy_does_not_name_is_raised(
    batch: BatchService, proxy: BatchProxy
) -> None:
    policy = ResubmitPolicy(on={FailureKind.OUT_OF_MEMORY: scale_memory(2.0)})
    with pytest.raises(JobFailedError) as caught:
        await batch.run_job(JobRequest(command=["sh", "-c", "exit 3"]), resubmit=policy)
    failure = caught.value.job.failure
    assert failure is not None
    assert failure.kind is FailureKind.APPLICATION_ERROR
    assert failure.exit_code == 3
    assert not failure.retryable
    assert proxy.count("SubmitJob") == 1


async def test_a_lost_host_is_resubmitted_to_another_queue(
    batch: BatchService, proxy: BatchProxy, local: LocalBatch
) -> None:
    await create_queue(local, OTHER_QUEUE)

    def lose_the_host(response: JobResponse) -> None:
        if proxy.count("SubmitJob") == 1:  # only the first job's host goes away
            proxy.override_job(
                response.job_id,
                status="FAILED",
                statusReason="Host EC2 (instance i-0123456789abcdef0) terminated.",
            )

    policy = ResubmitPolicy(
        max_attempts=2,
        on={
            FailureKind.HOST_TERMINATED: to_queue(OTHER_QUEUE),
            FailureKind.SPOT_INTERRUPTED: with_env({"ON_DEMAND": "1"}),
        },
    )
    job = await batch.run_job(
        JobRequest(command=["true"]), resubmit=policy, on_submitted=lose_the_host, timeout=60
    )
    assert job.status is JobStatus.SUCCEEDED
    assert job.job_queue is not None
    assert job.job_queue.endswith(f"/{OTHER_QUEUE}")
    bodies = submit_bodies(proxy)
    assert [b["jobQueue"] for b in bodies] == [local.job_queue, OTHER_QUEUE]
    lost = await batch.get_job_status(job.resubmitted_from[0])
    assert lost.failure is not None
    assert lost.failure.kind is FailureKind.HOST_TERMINATED
    assert lost.failure.retryable


async def test_a_failing_logs_callback_terminates_the_job(
    batch: BatchService, proxy: BatchProxy
) -> None:
    def explode(event: LogEvent) -> None:
        raise RuntimeError(f"cannot handle {event.message!r}")

    with pytest.raises(RuntimeError, match="cannot handle 'hello'"):
        await batch.run_job(
            JobRequest(command=["sh", "-c", "echo hello; exec sleep 60"]), logs=explode
        )
    assert proxy.count("TerminateJob") == 1


async def test_resubmit_rebuilds_the_request_and_tags_the_new_job(
    batch: BatchService, proxy: BatchProxy
) -> None:
    request = JobRequest(
        job_name="rebuilt",
        command=["sh", "-c", "echo $GREETING"],
        env_vars={"GREETING": "hello"},
        tags={"team": "data"},
        scheduling_priority=5,
    )
    first = await batch.run_job(request, timeout=60)
    rebuilt = await batch.request_of(first.job_id)
    assert rebuilt.job_name == "rebuilt"
    assert rebuilt.command == ["sh", "-c", "echo $GREETING"]
    assert rebuilt.env_vars == {"GREETING": "hello"}
    assert rebuilt.tags == {"team": "data"}
    assert rebuilt.memory_mib is not None

    proxy.clear_calls()
    again = await batch.resubmit(first.job_id, scale_memory(2.0))
    second = await batch.wait_for(again.job_id, timeout=60)
    assert second.resubmitted_from == [first.job_id]
    body = submit_bodies(proxy)[0]
    assert memory_of(body) == 2 * rebuilt.memory_mib
    assert body["tags"]["team"] == "data"
    assert body["containerOverrides"]["command"] == ["sh", "-c", "echo $GREETING"]
    assert [e["name"] for e in body["containerOverrides"]["environment"]] == ["GREETING"]
    lines = [e.message async for e in batch.get_logs(again.job_id)]
    assert lines == ["hello"]


async def create_queue(local: LocalBatch, name: str) -> None:
    async with AioSession().create_client(
        "batch",
        region_name=local.region,
        endpoint_url=local.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        queues = await client.describe_job_queues(jobQueues=[name])
        if queues["jobQueues"]:
            return
        await client.create_job_queue(
            jobQueueName=name,
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": local.compute_environment}],
        )
