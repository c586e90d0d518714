"""LocalBatch as the AWS CLI sees it: the requests are the CLI's (botocore's serialisation, no
library in between), the answers must be AWS's where moto's differ.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiobotocore.session import AioSession

from aws_batch_async import BatchService, JobRequest, JobStatus, PollPolicy
from aws_batch_async.testing import LocalBatch

FAST_POLL = PollPolicy(initial_interval=0.1, max_interval=0.5, not_found_grace=10)
ECS_ARN = r"arn:aws:ecs:us-east-1:\d{12}:%s/AWSBatch-[\w-]+/[0-9a-f]{32}"


@pytest.fixture(scope="module")
def run_batch() -> Iterator[LocalBatch]:
    with LocalBatch(mode="run") as local:
        yield local


@pytest.fixture
async def cli(run_batch: LocalBatch) -> AsyncIterator[Any]:
    """A plain botocore Batch client, as the AWS CLI has (``aws batch ...``)."""
    async with AioSession().create_client(
        "batch",
        region_name=run_batch.region,
        endpoint_url=run_batch.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        yield client


async def finished(local: LocalBatch, command: list[str], **request: Any) -> str:
    config = local.config.model_copy(update={"poll": FAST_POLL})
    async with BatchService(config) as batch:
        job = await batch.submit_job(JobRequest(command=command, **request))
        await batch.wait_for(job.job_id, timeout=60, raise_on_failure=False)
    return job.job_id


async def describe(cli: Any, job_id: str) -> dict[str, Any]:
    jobs: list[dict[str, Any]] = (await cli.describe_jobs(jobs=[job_id]))["jobs"]
    return jobs[0]


async def test_terminate_job_leaves_finished_jobs_alone(run_batch: LocalBatch, cli: Any) -> None:
    succeeded = await finished(run_batch, ["true"])
    failed = await finished(run_batch, ["sh", "-c", "exit 3"])
    before = [await describe(cli, job_id) for job_id in (succeeded, failed)]
    for job_id in (succeeded, failed):  # aws batch terminate-job --job-id ... --reason ...
        await cli.terminate_job(jobId=job_id, reason="cleaning up")
    after = [await describe(cli, job_id) for job_id in (succeeded, failed)]
    assert [job["status"] for job in after] == ["SUCCEEDED", "FAILED"]
    assert "statusReason" not in after[0]
    assert after[1]["statusReason"] == "Essential container in task exited"
    assert [job.get("statusReason") for job in after] == [job.get("statusReason") for job in before]
    assert after[1]["container"]["exitCode"] == 3


async def test_list_jobs_shows_the_index_of_array_children(run_batch: LocalBatch, cli: Any) -> None:
    parent = await finished(run_batch, ["true"], array_size=3)
    config = run_batch.config.model_copy(update={"poll": FAST_POLL})
    async with BatchService(config) as batch:
        children = [f"{parent}:{i}" for i in range(3)]
        assert {j.status async for j in batch.as_completed(children, timeout=60)} == {
            JobStatus.SUCCEEDED
        }
    # aws batch list-jobs --array-job-id <parent> --job-status SUCCEEDED
    listed = (await cli.list_jobs(arrayJobId=parent, jobStatus="SUCCEEDED"))["jobSummaryList"]
    indexes = {job["jobId"]: job.get("arrayProperties", {}).get("index") for job in listed}
    assert indexes == {f"{parent}:{i}": i for i in range(3)}
    child = await describe(cli, f"{parent}:1")
    assert child["arrayProperties"]["index"] == 1
    by_queue = await cli.list_jobs(jobQueue=run_batch.job_queue, jobStatus="SUCCEEDED")
    summary = next(j for j in by_queue["jobSummaryList"] if j["jobId"] == parent)
    assert summary["arrayProperties"] == {"size": 3}


async def test_attempts_name_an_ecs_task_and_container_instance(
    run_batch: LocalBatch, cli: Any
) -> None:
    job_id = await finished(run_batch, ["true"])
    job = await describe(cli, job_id)
    attempt = job["attempts"][-1]["container"]
    assert re.fullmatch(ECS_ARN % "task", attempt["taskArn"])
    assert re.fullmatch(ECS_ARN % "container-instance", attempt["containerInstanceArn"])
    assert attempt["taskArn"] != job["jobDefinition"]
    assert job["container"]["taskArn"] == attempt["taskArn"]
    assert job["container"]["containerInstanceArn"] == attempt["containerInstanceArn"]
    again = await describe(cli, job_id)  # stable from one DescribeJobs to the next
    assert again["attempts"][-1]["container"]["taskArn"] == attempt["taskArn"]
    other = await describe(cli, await finished(run_batch, ["true"]))
    assert other["attempts"][-1]["container"]["taskArn"] != attempt["taskArn"]
    assert (
        other["attempts"][-1]["container"]["containerInstanceArn"]
        == attempt["containerInstanceArn"]
    )


async def test_create_job_queue_without_state(run_batch: LocalBatch, cli: Any) -> None:
    environment = (
        await cli.describe_compute_environments(computeEnvironments=[run_batch.compute_environment])
    )["computeEnvironments"][0]["computeEnvironmentArn"]
    # aws batch create-job-queue --job-queue-name cli-queue --priority 1
    #   --compute-environment-order order=1,computeEnvironment=<arn>
    created = await cli.create_job_queue(
        jobQueueName="cli-queue",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
    )
    assert created["jobQueueName"] == "cli-queue"
    queue = (await cli.describe_job_queues(jobQueues=["cli-queue"]))["jobQueues"][0]
    assert queue["state"] == "ENABLED"


async def test_describe_jobs_finds_each_job_asked_for_once(run_batch: LocalBatch, cli: Any) -> None:
    # moto's DescribeJobs, which walked every job per call, now looks each id up
    first = await finished(run_batch, ["true"])
    second = await finished(run_batch, ["true"])
    answer = await cli.describe_jobs(jobs=[second, "no-such-job", first, second])
    assert sorted(job["jobId"] for job in answer["jobs"]) == sorted([first, second])
