"""BatchProxy itself: the bounded, masked call log; the operations moto lacks; job overrides."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from aws_batch_async._errors import operation_unavailable
from aws_batch_async.testing import BatchInfrastructure, BatchProxy, MotoServer
from aws_batch_async.testing._proxy.call_log import CallLog, mask_secrets

from ..conftest import REGION


@pytest.fixture
async def client(proxy: BatchProxy) -> AsyncIterator[Any]:
    async with get_session().create_client(
        "batch", region_name=REGION, endpoint_url=proxy.url
    ) as batch_client:
        yield batch_client


async def submit(client: Any, infra: BatchInfrastructure, **params: Any) -> str:
    response = await client.submit_job(
        jobName="job", jobQueue=infra.job_queue, jobDefinition=infra.job_definition, **params
    )
    job_id: str = response["jobId"]
    return job_id


async def describe(client: Any, job_id: str) -> dict[str, Any]:
    [job] = (await client.describe_jobs(jobs=[job_id]))["jobs"]
    found: dict[str, Any] = job
    return found


# ---------------------------------------------------------------------------------------------
# The call log


async def test_the_call_log_is_bounded_and_its_counts_stay_exact(
    moto_server: MotoServer, infra: BatchInfrastructure
) -> None:
    with BatchProxy(moto_server.url, max_calls=5) as small:
        async with get_session().create_client(
            "batch", region_name=REGION, endpoint_url=small.url
        ) as batch_client:
            for _ in range(12):
                await batch_client.describe_job_queues()
            await batch_client.describe_compute_environments()
        assert len(small.calls) == 5
        assert [c.operation for c in small.calls][-1] == "DescribeComputeEnvironments"
        assert small.count() == 13
        assert small.count("DescribeJobQueues") == 12
        assert small.count("DescribeJobQueues", outcome="forwarded") == 12
        assert small.counts() == {"DescribeJobQueues": 12, "DescribeComputeEnvironments": 1}
        assert len(small.peers) == 1  # one pooled connection
        small.clear_calls()
        assert (small.calls, small.count(), small.counts()) == ([], 0, {})


def test_the_default_log_keeps_ten_thousand_calls() -> None:
    assert CallLog().max_calls == 10_000
    with pytest.raises(ValueError, match="max_calls"):
        BatchProxy("http://127.0.0.1:1", max_calls=-1)


async def test_recorded_bodies_mask_environment_and_parameter_values(
    client: Any, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    job_id = await submit(
        client,
        infra,
        containerOverrides={"environment": [{"name": "TOKEN", "value": "s3cr3t"}]},
        parameters={"password": "hunter2"},
    )
    await client.register_job_definition(
        jobDefinitionName="with-env",
        type="container",
        parameters={"db": "postgres://user:pw@host"},
        containerProperties={
            "image": "busybox",
            "vcpus": 1,
            "memory": 128,
            "environment": [{"name": "API_KEY", "value": "abc123"}],
        },
    )
    sent = next(c.body for c in proxy.calls if c.operation == "SubmitJob")
    assert sent["containerOverrides"]["environment"] == [{"name": "TOKEN", "value": "***"}]
    assert sent["parameters"] == {"password": "***"}
    registered = next(c.body for c in proxy.calls if c.operation == "RegisterJobDefinition")
    assert registered["containerProperties"]["environment"] == [{"name": "API_KEY", "value": "***"}]
    assert registered["parameters"] == {"db": "***"}
    assert registered["containerProperties"]["image"] == "busybox"  # the rest is kept
    for call in proxy.calls:
        assert "s3cr3t" not in repr(call)
        assert "hunter2" not in repr(call)
    # moto itself got the real values: only the log is masked
    job = await describe(client, job_id)
    assert {"name": "TOKEN", "value": "s3cr3t"} in job["container"]["environment"]


def test_mask_secrets_reaches_every_environment_and_keeps_the_input() -> None:
    body = {
        "nodeOverrides": {
            "nodePropertyOverrides": [
                {
                    "targetNodes": "0:",
                    "containerOverrides": {"environment": [{"name": "A", "value": "1"}]},
                    "ecsPropertiesOverride": {
                        "taskProperties": [
                            {"containers": [{"environment": [{"name": "B", "value": "2"}]}]}
                        ]
                    },
                }
            ]
        },
        "eksPropertiesOverride": {
            "podProperties": {"containers": [{"env": [{"name": "C", "value": "3"}, {"name": "D"}]}]}
        },
        "containerOverrides": {"resourceRequirements": [{"type": "VCPU", "value": "2"}]},
    }
    original = copy.deepcopy(body)
    masked = mask_secrets(body)
    assert body == original
    node = masked["nodeOverrides"]["nodePropertyOverrides"][0]
    assert node["containerOverrides"]["environment"] == [{"name": "A", "value": "***"}]
    ecs = node["ecsPropertiesOverride"]["taskProperties"][0]["containers"][0]
    assert ecs["environment"] == [{"name": "B", "value": "***"}]
    eks = masked["eksPropertiesOverride"]["podProperties"]["containers"][0]["env"]
    assert eks == [{"name": "C", "value": "***"}, {"name": "D"}]
    assert masked["containerOverrides"]["resourceRequirements"][0]["value"] == "2"


async def test_new_operations_are_counted_by_name(
    client: Any, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    await client.update_job_queue(jobQueue=infra.job_queue, priority=2)
    await client.get_job_queue_snapshot(jobQueue=infra.job_queue)
    await client.cancel_jobs(jobs=["x"], reason="r")
    await client.terminate_jobs(jobs=["x"], reason="r")
    assert proxy.counts() == {
        "UpdateJobQueue": 1,
        "GetJobQueueSnapshot": 1,
        "CancelJobs": 1,
        "TerminateJobs": 1,
    }


# ---------------------------------------------------------------------------------------------
# GetJobQueueSnapshot


async def test_the_snapshot_shows_runnable_jobs_oldest_first(
    client: Any, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    first, second, done = [await submit(client, infra) for _ in range(3)]
    proxy.override_job(second, status="RUNNABLE")
    proxy.override_job(first, status="RUNNABLE")
    snapshot = await client.get_job_queue_snapshot(jobQueue=infra.job_queue)
    front = snapshot["frontOfQueue"]
    assert [j["jobArn"].rsplit("/", 1)[1] for j in front["jobs"]] == [second, first]
    assert front["jobs"][0]["earliestTimeAtPosition"] <= front["jobs"][1]["earliestTimeAtPosition"]
    assert front["lastUpdatedAt"] >= front["jobs"][1]["earliestTimeAtPosition"]
    assert done not in str(front)
    with pytest.raises(ClientError) as caught:
        await client.get_job_queue_snapshot(jobQueue="no-such-queue")
    assert caught.value.response["Error"]["Code"] == "ClientException"


# ---------------------------------------------------------------------------------------------
# CancelJobs / TerminateJobs


async def test_bulk_stop_treats_unknown_jobs_as_successfully_processed(
    client: Any, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    runnable, running = await submit(client, infra), await submit(client, infra)
    proxy.override_job(runnable, status="RUNNABLE")
    proxy.override_job(running, status="RUNNING")
    answer = await client.cancel_jobs(jobs=[runnable, "nope", running], reason="bye")
    # AWS's documentation: "Jobs that can't be found are treated as successfully processed."
    assert answer["successful"] == [runnable, "nope", running]
    assert answer["errors"] == []
    assert (await describe(client, runnable))["status"] == "FAILED"
    assert (await describe(client, runnable))["statusReason"] == "bye"
    assert (await describe(client, running))["status"] == "RUNNING"  # cancel: no effect
    answer = await client.terminate_jobs(jobs=[running], reason="stop")
    assert answer == {**answer, "successful": [running], "errors": []}
    job = await describe(client, running)
    assert (job["status"], job["isTerminated"]) == ("FAILED", True)
    assert proxy.count("CancelJob") == proxy.count("TerminateJob") == 0  # answered inside


async def test_bulk_stop_checks_its_request(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        await client.cancel_jobs(jobs=[f"job-{i}" for i in range(51)], reason="r")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError):
        await client.terminate_jobs(jobs=["a"], reason="x" * 1025)


async def test_bulk_stop_can_be_passed_to_moto(client: Any, proxy: BatchProxy) -> None:
    proxy.set_bulk_stop(False)
    with pytest.raises(ClientError) as caught:
        await client.cancel_jobs(jobs=["a"], reason="r")
    # moto has no CancelJobs: 5.2.5 answers 404, 5.2.6 an HTML 500. Either is "unavailable".
    response = caught.value.response
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    error = response["Error"]
    assert operation_unavailable(status, error["Code"], error["Message"])
    proxy.reset()  # back to the constructor's choice
    answer = await client.cancel_jobs(jobs=["a"], reason="r")
    assert (answer["successful"], answer["errors"]) == (["a"], [])


# ---------------------------------------------------------------------------------------------
# Job overrides


async def test_overrides_show_in_describe_and_list(
    client: Any, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    job_id = await submit(client, infra)
    reason = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - no m5 in us-east-1a"
    proxy.override_job(job_id, status="RUNNABLE", statusReason=reason)
    job = await describe(client, job_id)
    assert (job["status"], job["statusReason"]) == ("RUNNABLE", reason)
    assert "startedAt" not in job
    assert "stoppedAt" not in job
    listed = await client.list_jobs(jobQueue=infra.job_queue, jobStatus="RUNNABLE")
    assert [j["jobId"] for j in listed["jobSummaryList"]] == [job_id]
    proxy.override_job(job_id, statusReason=None, container={"vcpus": 64})
    job = await describe(client, job_id)
    assert "statusReason" not in job
    assert job["container"] == {"vcpus": 64}
    proxy.clear_overrides(job_id)
    assert (await describe(client, job_id))["status"] == "SUCCEEDED"
    proxy.override_job(job_id, status="PENDING")
    proxy.reset()
    assert (await describe(client, job_id))["status"] == "SUCCEEDED"
    with pytest.raises(ValueError, match="status"):
        proxy.override_job(job_id, status="STUCK")


async def test_single_stops_through_the_proxy_move_overridden_jobs(
    client: Any, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    job_id = await submit(client, infra)
    proxy.override_job(job_id, status="STARTING")
    await client.cancel_job(jobId=job_id, reason="too late")
    assert (await describe(client, job_id))["status"] == "STARTING"
    await client.terminate_job(jobId=job_id, reason="now")
    job = await describe(client, job_id)
    assert (job["status"], job["statusReason"]) == ("FAILED", "now")
