"""Operations: typed infrastructure reads, explain, bulk stop; against moto through the proxy.

moto's simple mode finishes every job at SubmitJob, so a job that should look stuck is given
its status (and AWS's status reason) with ``proxy.override_job``. Everything else is real moto
infrastructure: disabled queues, disabled compute environments, MANAGED EC2 and Fargate
compute environments too small for a job, revisions of job definitions.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import botocore.session
import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError

from aws_batch_async import (
    BatchAPIError,
    BatchConfig,
    BatchService,
    ComputeEnvironment,
    ComputeResources,
    ConfigurationError,
    ContainerJobDefinition,
    JobDefinition,
    JobDiagnosis,
    JobKind,
    JobNotFoundError,
    JobQueueSnapshot,
    StuckReason,
    ThrottlingError,
)
from aws_batch_async._errors import error_from_botocore
from aws_batch_async._infrastructure.instance_types import (
    Resources,
    instance_sizes,
    requested_resources,
)
from aws_batch_async._operations.bulk_stop import job_not_found
from aws_batch_async._operations.operations import BatchCall, Operations
from aws_batch_async._ratelimit import AdaptiveRateLimiter, Slot
from aws_batch_async.testing import BatchInfrastructure, BatchProxy, MotoServer

from .._shapes import SEED, SERVICE, ShapeSampler, samples
from ..conftest import REGION

LOG = logging.getLogger("aws_batch_async.tests.operations")
CAPACITY = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity"


def make_call(client: Any) -> BatchCall:
    """The ``call`` a BatchService gives Operations: botocore errors mapped to ours."""

    async def call(operation: str, /, **params: Any) -> dict[str, Any]:
        method = getattr(client, xform_name(operation))
        try:
            response: dict[str, Any] = await method(**params)
        except (ClientError, BotoCoreError) as exc:
            raise error_from_botocore(exc, operation) from exc
        return response

    return call


@pytest.fixture
async def client(proxy: BatchProxy) -> AsyncIterator[Any]:
    async with get_session().create_client(
        "batch", region_name=REGION, endpoint_url=proxy.url
    ) as batch_client:
        yield batch_client


@pytest.fixture
def call(client: Any) -> BatchCall:
    return make_call(client)


@pytest.fixture
async def ops(config: BatchConfig) -> AsyncIterator[BatchService]:
    """The public face: BatchService's operations methods (over ``Operations``)."""
    async with BatchService(config) as service:
        yield service


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def submit(call: BatchCall, queue: str, definition: str, **params: Any) -> str:
    response = await call(
        "SubmitJob", jobName="job", jobQueue=queue, jobDefinition=definition, **params
    )
    job_id: str = response["jobId"]
    return job_id


async def stuck_job(
    call: BatchCall, proxy: BatchProxy, queue: str, definition: str, **fields: Any
) -> str:
    """A job moto finished at once, shown RUNNABLE (with ``fields``) by the proxy."""
    job_id = await submit(call, queue, definition)
    proxy.override_job(job_id, status="RUNNABLE", **fields)
    proxy.clear_calls()
    return job_id


def moto_clients(moto: MotoServer) -> tuple[Any, Any, Any]:
    session = botocore.session.get_session()
    kwargs: dict[str, Any] = {
        "region_name": REGION,
        "endpoint_url": moto.url,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    return (
        session.create_client("batch", **kwargs),
        session.create_client("ec2", **kwargs),
        session.create_client("iam", **kwargs),
    )


def managed_queue(
    moto: MotoServer,
    infra: BatchInfrastructure,
    name: str,
    *,
    kind: str = "EC2",
    max_vcpus: int = 16,
    desired_vcpus: int = 0,
    instance_types: tuple[str, ...] = ("m5.large",),
) -> str:
    """A queue whose one compute environment is MANAGED (created in moto directly)."""
    batch, ec2, iam = moto_clients(moto)
    try:
        subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
        group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
        resources: dict[str, Any] = {
            "type": kind,
            "maxvCpus": max_vcpus,
            "subnets": [subnet],
            "securityGroupIds": [group],
        }
        if not kind.startswith("FARGATE"):
            profile = iam.create_instance_profile(InstanceProfileName=f"{name}-profile")
            resources.update(
                minvCpus=0,
                desiredvCpus=desired_vcpus,
                instanceTypes=list(instance_types),
                instanceRole=profile["InstanceProfile"]["Arn"],
            )
        env = batch.create_compute_environment(
            computeEnvironmentName=f"{name}-ce",
            type="MANAGED",
            state="ENABLED",
            serviceRole=infra.service_role_arn,
            computeResources=resources,
        )
        batch.create_job_queue(
            jobQueueName=f"{name}-queue",
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[
                {"order": 1, "computeEnvironment": env["computeEnvironmentArn"]}
            ],
        )
    finally:
        for c in (batch, ec2, iam):
            c.close()
    return f"{name}-queue"


async def definition(call: BatchCall, name: str, **container: Any) -> str:
    properties = {"image": "busybox", **container}
    response = await call(
        "RegisterJobDefinition", jobDefinitionName=name, type="container",
        containerProperties=properties,
    )  # fmt: skip
    arn: str = response["jobDefinitionArn"]
    return arn


def requirements(vcpus: float, memory: int, gpus: int | None = None) -> list[dict[str, str]]:
    items = [{"type": "VCPU", "value": f"{vcpus:g}"}, {"type": "MEMORY", "value": str(memory)}]
    if gpus is not None:
        items.append({"type": "GPU", "value": str(gpus)})
    return items


# ---------------------------------------------------------------------------------------------
# explain: each verdict, for real where moto can


async def test_a_finished_job_costs_one_describe(
    ops: BatchService, call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    job_id = await submit(call, infra.job_queue, infra.job_definition)
    proxy.clear_calls()
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.FINISHED
    assert diagnosis.job.job_id == job_id
    assert "SUCCEEDED" in diagnosis.reasons[0]
    assert dict(proxy.counts()) == {"DescribeJobs": 1}


async def test_a_failed_job_is_finished_with_its_reason(
    ops: BatchService,
    call: BatchCall,
    infra: BatchInfrastructure,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", "0")
    job_id = await submit(call, infra.job_queue, infra.job_definition)
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.FINISHED
    assert "FAILED" in diagnosis.reasons[0]


@pytest.mark.parametrize("status", ["STARTING", "RUNNING"])
async def test_starting_and_running_jobs_are_running(
    status: str, ops: BatchService, call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    job_id = await submit(call, infra.job_queue, infra.job_definition)
    proxy.override_job(job_id, status=status)
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.RUNNING
    assert status in diagnosis.reasons[0]


async def test_unfinished_and_failed_dependencies_are_named(
    ops: BatchService, call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    first = await submit(call, infra.job_queue, infra.job_definition)
    second = await submit(call, infra.job_queue, infra.job_definition)
    job_id = await submit(
        call,
        infra.job_queue,
        infra.job_definition,
        dependsOn=[{"jobId": first}, {"jobId": second}, {"jobId": "gone-long-ago"}],
    )
    proxy.override_job(first, status="RUNNING")
    proxy.override_job(second, status="FAILED", statusReason="Essential container exited")
    proxy.override_job(job_id, status="PENDING")
    proxy.clear_calls()
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.WAITING_FOR_DEPENDENCIES
    text = " ".join(diagnosis.reasons)
    assert f"{first} (job), which is RUNNING" in text
    assert f"{second} (job) FAILED: Essential container exited" in text
    assert "gone-long-ago" in text  # unknown to DescribeJobs: said so
    assert dict(proxy.counts()) == {"DescribeJobs": 2}  # the job, then its dependencies


async def test_finished_dependencies_do_not_hold_a_job(
    ops: BatchService, call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    first = await submit(call, infra.job_queue, infra.job_definition)
    job_id = await submit(call, infra.job_queue, infra.job_definition, dependsOn=[{"jobId": first}])
    proxy.override_job(job_id, status="RUNNABLE")
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.QUEUED


async def test_a_disabled_queue(
    ops: BatchService, call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    job_id = await stuck_job(call, proxy, infra.job_queue, infra.job_definition)
    await call("UpdateJobQueue", jobQueue=infra.job_queue, state="DISABLED")
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.QUEUE_DISABLED
    assert infra.job_queue in diagnosis.reasons[0]
    assert 'state="ENABLED"' in diagnosis.reasons[0]
    assert diagnosis.queue is not None
    assert diagnosis.queue.state == "DISABLED"
    assert proxy.count("DescribeComputeEnvironments") == 0  # the queue was enough


async def test_a_deleted_queue_is_invalid(
    ops: BatchService, call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    job_id = await stuck_job(call, proxy, infra.job_queue, infra.job_definition)
    await call("UpdateJobQueue", jobQueue=infra.job_queue, state="DISABLED")
    await call("DeleteJobQueue", jobQueue=infra.job_queue)
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.QUEUE_INVALID
    assert "no longer exists" in diagnosis.reasons[0]


async def test_a_queue_whose_compute_environment_is_disabled(
    ops: BatchService, call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    job_id = await stuck_job(call, proxy, infra.job_queue, infra.job_definition)
    await call(
        "UpdateComputeEnvironment", computeEnvironment=infra.compute_environment, state="DISABLED"
    )
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.NO_VALID_COMPUTE_ENVIRONMENT
    assert any(f"{infra.compute_environment} is DISABLED" in r for r in diagnosis.reasons)
    assert [e.name for e in diagnosis.compute_environments] == [infra.compute_environment]


async def test_a_managed_environment_whose_max_vcpus_is_below_the_job(
    ops: BatchService,
    call: BatchCall,
    infra: BatchInfrastructure,
    proxy: BatchProxy,
    moto_server: MotoServer,
) -> None:
    queue = managed_queue(moto_server, infra, "small", max_vcpus=4, instance_types=("m5",))
    big = await definition(call, "big", resourceRequirements=requirements(8, 2048))
    job_id = await stuck_job(call, proxy, queue, big)
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.RESOURCES_EXCEED_COMPUTE_ENVIRONMENTS
    assert diagnosis.requested == Resources(vcpus=8, memory_mib=2048)
    assert "small-ce: its maxvCpus is 4, below the job's 8 vCPUs." in diagnosis.reasons
    calls = proxy.counts()
    assert calls["DescribeJobQueues"] == calls["DescribeComputeEnvironments"] == 1
    assert calls["DescribeJobDefinitions"] == 0  # the job itself states its resources


async def test_memory_and_gpus_beyond_the_instance_types(
    ops: BatchService,
    call: BatchCall,
    infra: BatchInfrastructure,
    proxy: BatchProxy,
    moto_server: MotoServer,
) -> None:
    queue = managed_queue(moto_server, infra, "cpu", max_vcpus=64, instance_types=("m5.large",))
    job_id = await stuck_job(call, proxy, queue, infra.job_definition)
    # moto's job shows the definition's legacy vcpus/memory; AWS shows resourceRequirements
    proxy.override_job(job_id, container={"resourceRequirements": requirements(2, 8192, gpus=1)})
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.RESOURCES_EXCEED_COMPUTE_ENVIRONMENTS
    text = " ".join(diagnosis.reasons)
    assert "at most 8192 MiB of memory" in text
    assert "have no GPUs" in text


async def test_fargate_limits(
    ops: BatchService,
    call: BatchCall,
    infra: BatchInfrastructure,
    proxy: BatchProxy,
    moto_server: MotoServer,
) -> None:
    queue = managed_queue(moto_server, infra, "fargate", kind="FARGATE", max_vcpus=256)
    job_id = await stuck_job(call, proxy, queue, infra.job_definition)
    proxy.override_job(job_id, container={"resourceRequirements": requirements(64, 4096)})
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.RESOURCES_EXCEED_COMPUTE_ENVIRONMENTS
    assert any("a Fargate job has at most 32 vCPUs" in r for r in diagnosis.reasons)
    # Fargate's largest task (botocore's model): 32 vCPUs and 244 GiB fit.
    proxy.override_job(job_id, container={"resourceRequirements": requirements(32, 249856)})
    fits = await ops.explain(job_id)
    assert fits.verdict is not StuckReason.RESOURCES_EXCEED_COMPUTE_ENVIRONMENTS
    assert not any("Fargate" in r for r in fits.reasons)


async def test_aws_says_the_job_needs_more_than_the_environments_have(
    ops: BatchService, call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    reason = "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement is higher"
    job_id = await stuck_job(
        call, proxy, infra.job_queue, infra.job_definition, statusReason=reason
    )
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.RESOURCES_EXCEED_COMPUTE_ENVIRONMENTS
    assert diagnosis.reasons[0] == f"AWS says: {reason}."
    assert any("no jobStateTimeLimitActions" in r for r in diagnosis.reasons)


async def test_insufficient_capacity_from_the_status_reason(
    ops: BatchService, call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    job_id = await stuck_job(
        call, proxy, infra.job_queue, infra.job_definition, statusReason=CAPACITY
    )
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.INSUFFICIENT_CAPACITY
    assert diagnosis.reasons[0] == f"AWS says: {CAPACITY}."
    assert diagnosis.reasons[-1].endswith("such jobs wait RUNNABLE until someone cancels them.")


async def test_insufficient_capacity_when_every_environment_is_at_its_max(
    ops: BatchService,
    call: BatchCall,
    infra: BatchInfrastructure,
    proxy: BatchProxy,
    moto_server: MotoServer,
) -> None:
    queue = managed_queue(moto_server, infra, "full", max_vcpus=2, desired_vcpus=2)
    job_id = await stuck_job(call, proxy, queue, infra.job_definition)
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.INSUFFICIENT_CAPACITY
    assert "full-ce runs at its maxvCpus (2 of 2 vCPUs wanted)" in diagnosis.reasons[0]


async def test_a_queued_job_and_its_place_in_the_queue(
    ops: BatchService, call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    ids = [await submit(call, infra.job_queue, infra.job_definition) for _ in range(3)]
    for job_id in ids:
        proxy.override_job(job_id, status="RUNNABLE")
    proxy.clear_calls()
    diagnosis = await ops.explain(ids[1])
    assert diagnosis.verdict is StuckReason.QUEUED
    assert diagnosis.position == 2
    assert "number 2 at the front of the queue since" in diagnosis.reasons[0]
    assert dict(proxy.counts()) == {
        "DescribeJobs": 1,
        "DescribeJobQueues": 1,
        "DescribeComputeEnvironments": 1,
        "GetJobQueueSnapshot": 1,
    }
    head = await ops.explain(ids[0])
    assert head.position == 1
    assert "at the head of the queue" in head.reasons[0]


async def test_an_iam_denial_degrades_the_diagnosis(
    ops: BatchService, call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    job_id = await stuck_job(call, proxy, infra.job_queue, infra.job_definition)
    proxy.inject_error(
        "DescribeComputeEnvironments",
        status=403,
        code="AccessDeniedException",
        message="not authorized to perform: batch:DescribeComputeEnvironments",
    )
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.UNKNOWN
    assert diagnosis.position == 1  # the rest was still read
    assert any(
        "Could not read the compute environments" in r
        and "allow batch:DescribeComputeEnvironments" in r
        for r in diagnosis.reasons
    )
    assert proxy.count("DescribeComputeEnvironments") == 1


async def test_a_denied_queue_read_still_uses_the_status_reason(
    ops: BatchService, call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    job_id = await stuck_job(
        call, proxy, infra.job_queue, infra.job_definition, statusReason=CAPACITY
    )
    proxy.inject_error("DescribeJobQueues", status=403, code="AccessDeniedException")
    proxy.inject_error("GetJobQueueSnapshot", status=403, code="AccessDeniedException")
    diagnosis = await ops.explain(job_id)
    assert diagnosis.verdict is StuckReason.INSUFFICIENT_CAPACITY
    assert any("batch:DescribeJobQueues" in r for r in diagnosis.reasons)


async def test_an_unknown_job(ops: BatchService) -> None:
    with pytest.raises(JobNotFoundError) as caught:
        await ops.explain("no-such-job")
    assert caught.value.job_id == "no-such-job"


async def test_the_job_definition_is_read_when_the_job_states_no_resources(
    ops: BatchService, call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    job_id = await stuck_job(call, proxy, infra.job_queue, infra.job_definition)
    proxy.override_job(job_id, container={"image": "busybox"})
    diagnosis = await ops.explain(job_id)
    assert diagnosis.requested == Resources(vcpus=1, memory_mib=128)  # the definition's
    assert proxy.count("DescribeJobDefinitions") == 1


async def test_queues_and_environments_are_cached_a_few_seconds(
    call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    clock = FakeClock()
    ops = Operations(call, logger=LOG, clock=clock, cache_seconds=5)
    job_id = await stuck_job(call, proxy, infra.job_queue, infra.job_definition)
    await ops.explain(job_id)
    await ops.explain(job_id)
    assert proxy.count("DescribeJobQueues") == proxy.count("DescribeComputeEnvironments") == 1
    clock.now += 5
    await ops.explain(job_id)
    assert proxy.count("DescribeJobQueues") == proxy.count("DescribeComputeEnvironments") == 2
    assert proxy.count("DescribeJobs") == proxy.count("GetJobQueueSnapshot") == 3


async def test_explain_checks_its_argument(ops: BatchService, proxy: BatchProxy) -> None:
    with pytest.raises(TypeError):
        await ops.explain(123)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        await ops.explain(" ")
    assert proxy.count() == 0


def test_a_diagnosis_reads_as_text() -> None:
    diagnosis = JobDiagnosis.model_validate(
        {
            "job": {"jobId": "j-1", "jobName": "nightly", "status": "RUNNABLE"},
            "verdict": "QUEUED",
            "reasons": ["The job is number 2 at the front of the queue."],
        }
    )
    assert str(diagnosis) == (
        "job j-1 (nightly): QUEUED\n- The job is number 2 at the front of the queue."
    )


# ---------------------------------------------------------------------------------------------
# Verdicts moto cannot show: fed to explain through a fake call


class FakeBatch:
    """A ``call`` answering from canned responses; records what was called."""

    def __init__(self, **responses: Any) -> None:
        self.responses = responses
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, operation: str, /, **params: Any) -> dict[str, Any]:
        self.calls.append((operation, params))
        answer = self.responses.get(operation, {})
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            result: dict[str, Any] = answer(**params)
            return result
        return dict(answer)


QUEUE_ARN = "arn:aws:batch:us-east-1:123456789012:job-queue/q"
CE_ARN = "arn:aws:batch:us-east-1:123456789012:compute-environment/ce"


def fake_job(**fields: Any) -> dict[str, Any]:
    job = {
        "jobId": "j-1",
        "jobName": "job",
        "jobQueue": QUEUE_ARN,
        "status": "RUNNABLE",
        "startedAt": 0,
        "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/d:1",
        "container": {"resourceRequirements": requirements(1, 1024)},
    }
    job.update(fields)
    return job


def fake_queue(**fields: Any) -> dict[str, Any]:
    queue = {
        "jobQueueName": "q",
        "jobQueueArn": QUEUE_ARN,
        "state": "ENABLED",
        "status": "VALID",
        "priority": 1,
        "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": CE_ARN}],
    }
    queue.update(fields)
    return queue


def fake_environment(**resources: Any) -> dict[str, Any]:
    return {
        "computeEnvironmentName": "ce",
        "computeEnvironmentArn": CE_ARN,
        "type": "MANAGED",
        "state": "ENABLED",
        "status": "VALID",
        "computeResources": {"type": "EC2", "maxvCpus": 256, **resources},
    }


async def explain_fake(**responses: Any) -> tuple[JobDiagnosis, FakeBatch]:
    fake = FakeBatch(**responses)
    return await Operations(fake, logger=LOG).explain("j-1"), fake


async def test_an_invalid_queue_gives_its_status_reason() -> None:
    diagnosis, fake = await explain_fake(
        DescribeJobs={"jobs": [fake_job()]},
        DescribeJobQueues={
            "jobQueues": [fake_queue(status="INVALID", statusReason="CE ce is INVALID")]
        },
    )
    assert diagnosis.verdict is StuckReason.QUEUE_INVALID
    assert "is INVALID: CE ce is INVALID" in diagnosis.reasons[0]
    assert [op for op, _ in fake.calls] == ["DescribeJobs", "DescribeJobQueues"]


async def test_an_invalid_environment_gives_its_status_reason() -> None:
    invalid = {**fake_environment(), "status": "INVALID", "statusReason": "no such subnet"}
    diagnosis, _ = await explain_fake(
        DescribeJobs={"jobs": [fake_job()]},
        DescribeJobQueues={"jobQueues": [fake_queue()]},
        DescribeComputeEnvironments={"computeEnvironments": [invalid]},
    )
    assert diagnosis.verdict is StuckReason.NO_VALID_COMPUTE_ENVIRONMENT
    assert "ce is ENABLED and INVALID: no such subnet." in diagnosis.reasons


async def test_gpu_jobs_fit_gpu_instances_only() -> None:
    gpu_job = fake_job(container={"resourceRequirements": requirements(8, 30000, gpus=4)})
    too_small, _ = await explain_fake(
        DescribeJobs={"jobs": [gpu_job]},
        DescribeJobQueues={"jobQueues": [fake_queue()]},
        DescribeComputeEnvironments={
            "computeEnvironments": [fake_environment(instanceTypes=["g4dn.xlarge", "g5.2xlarge"])]
        },
        GetJobQueueSnapshot={"frontOfQueue": {"jobs": []}},
    )
    assert too_small.verdict is StuckReason.RESOURCES_EXCEED_COMPUTE_ENVIRONMENTS
    assert any("at most 1 GPUs" in r for r in too_small.reasons)
    fits, _ = await explain_fake(
        DescribeJobs={"jobs": [gpu_job]},
        DescribeJobQueues={"jobQueues": [fake_queue()]},
        DescribeComputeEnvironments={
            "computeEnvironments": [fake_environment(instanceTypes=["g5"])]
        },
        GetJobQueueSnapshot={"frontOfQueue": {"jobs": []}},
    )
    assert fits.verdict is StuckReason.QUEUED  # g5.12xlarge has 4 GPUs


async def test_unknown_instance_types_are_given_the_benefit_of_the_doubt() -> None:
    diagnosis, _ = await explain_fake(
        DescribeJobs={"jobs": [fake_job(container={"vcpus": 64, "memory": 900_000})]},
        DescribeJobQueues={"jobQueues": [fake_queue()]},
        DescribeComputeEnvironments={
            "computeEnvironments": [fake_environment(instanceTypes=["optimal"])]
        },
        GetJobQueueSnapshot={"frontOfQueue": {"jobs": []}},
    )
    assert diagnosis.verdict is StuckReason.QUEUED
    assert "not among the 0 jobs at the front" in diagnosis.reasons[0]


async def test_memory_close_to_the_instance_is_noted() -> None:
    diagnosis, _ = await explain_fake(
        DescribeJobs={"jobs": [fake_job(container={"vcpus": 2, "memory": 8000})]},
        DescribeJobQueues={"jobQueues": [fake_queue()]},
        DescribeComputeEnvironments={
            "computeEnvironments": [fake_environment(instanceTypes=["m5.large"])]
        },
        GetJobQueueSnapshot={"frontOfQueue": {"jobs": []}},
    )
    assert diagnosis.verdict is StuckReason.QUEUED
    assert any("close to all of the instance's 8192 MiB" in r for r in diagnosis.reasons)


async def test_an_unclassified_aws_reason_is_unknown() -> None:
    reason = "MISCONFIGURATION:SERVICE_ROLE_PERMISSIONS - Batch cannot assume the role"
    diagnosis, _ = await explain_fake(
        DescribeJobs={"jobs": [fake_job(statusReason=reason)]},
        DescribeJobQueues={"jobQueues": [fake_queue()]},
        DescribeComputeEnvironments={"computeEnvironments": [fake_environment()]},
        GetJobQueueSnapshot={"frontOfQueue": {"jobs": []}},
    )
    assert diagnosis.verdict is StuckReason.UNKNOWN
    assert diagnosis.reasons[0].startswith(f"AWS says: {reason}.")


async def test_the_queue_time_limit_action_is_named() -> None:
    action = {
        "reason": "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
        "state": "RUNNABLE",
        "maxTimeSeconds": 600,
        "action": "CANCEL",
    }
    diagnosis, _ = await explain_fake(
        DescribeJobs={"jobs": [fake_job(statusReason=CAPACITY)]},
        DescribeJobQueues={"jobQueues": [fake_queue(jobStateTimeLimitActions=[action])]},
        DescribeComputeEnvironments={"computeEnvironments": [fake_environment()]},
    )
    assert diagnosis.verdict is StuckReason.INSUFFICIENT_CAPACITY
    assert diagnosis.reasons[-1] == (
        "The queue q will CANCEL the job after 600 s RUNNABLE for this reason "
        "(jobStateTimeLimitActions)."
    )


async def test_a_running_array_parent_is_running() -> None:
    parent = fake_job(
        status="PENDING",
        arrayProperties={"size": 3, "statusSummary": {"RUNNING": 2, "SUCCEEDED": 1}},
    )
    diagnosis, fake = await explain_fake(DescribeJobs={"jobs": [parent]})
    assert diagnosis.verdict is StuckReason.RUNNING
    assert "Its array children: 2 RUNNING, 1 SUCCEEDED." in diagnosis.reasons
    assert len(fake.calls) == 1


async def test_a_connection_error_reading_the_definition_is_survived() -> None:
    from aws_batch_async import BatchConnectionError

    diagnosis, _ = await explain_fake(
        DescribeJobs={"jobs": [fake_job(container={})]},
        DescribeJobQueues={"jobQueues": [fake_queue()]},
        DescribeComputeEnvironments={"computeEnvironments": [fake_environment()]},
        DescribeJobDefinitions=BatchConnectionError("boom", operation="DescribeJobDefinitions"),
        GetJobQueueSnapshot={"frontOfQueue": {"jobs": [{"jobArn": "arn:x:job/j-1"}]}},
    )
    assert diagnosis.verdict is StuckReason.UNKNOWN
    assert diagnosis.position == 1
    assert any("Could not read the job definition" in r for r in diagnosis.reasons)


async def test_the_job_read_itself_failing_raises() -> None:
    denied = BatchAPIError("no", operation="DescribeJobs", code="AccessDeniedException")
    with pytest.raises(BatchAPIError):
        await explain_fake(DescribeJobs=denied)


# ---------------------------------------------------------------------------------------------
# Typed reads


async def test_describe_queues_and_environments(
    ops: BatchService,
    infra: BatchInfrastructure,
    proxy: BatchProxy,
    moto_server: MotoServer,
) -> None:
    managed_queue(moto_server, infra, "m", max_vcpus=8, instance_types=("m5.large", "c5"))
    queues = {q.name: q async for q in ops.describe_job_queues()}
    assert set(queues) == {infra.job_queue, "m-queue"}
    queue = queues[infra.job_queue]
    assert (queue.state, queue.status, queue.priority) == ("ENABLED", "VALID", 1)
    assert queue.compute_environments[0].endswith(f"/{infra.compute_environment}")
    [only] = [q async for q in ops.describe_job_queues(["m-queue"])]
    assert only.name == "m-queue"
    envs = {e.name: e async for e in ops.describe_compute_environments()}
    managed = envs["m-ce"].compute_resources
    assert managed is not None
    assert (managed.type, managed.min_vcpus, managed.max_vcpus) == ("EC2", 0, 8)
    assert managed.instance_types == ["m5.large", "c5"]
    assert envs[infra.compute_environment].type == "UNMANAGED"
    assert [e async for e in ops.describe_compute_environments([])] == []


async def test_names_go_100_per_call_and_pages_are_followed() -> None:
    def queues(jobQueues: list[str], nextToken: str | None = None) -> dict[str, Any]:
        half = len(jobQueues) // 2
        names = jobQueues[half:] if nextToken else jobQueues[:half]
        page: dict[str, Any] = {
            "jobQueues": [fake_queue(jobQueueName=n, jobQueueArn=f"arn:{n}") for n in names]
        }
        if not nextToken:
            page["nextToken"] = "second"
        return page

    fake = FakeBatch(DescribeJobQueues=queues)
    ops = Operations(fake, logger=LOG)
    names = [f"q{i}" for i in range(250)] + ["q0"]
    found = [q.name async for q in ops.describe_job_queues(names)]
    assert found == names[:250]
    sizes = [len(p["jobQueues"]) for _, p in fake.calls]
    assert sizes == [100, 100, 100, 100, 50, 50]
    assert [p.get("nextToken") for _, p in fake.calls] == [None, "second"] * 3


def test_describe_checks_names_before_any_call() -> None:
    ops = Operations(FakeBatch(), logger=LOG)
    with pytest.raises(TypeError):
        ops.describe_job_queues("q")
    with pytest.raises(ValueError, match="empty"):
        ops.describe_compute_environments([""])
    with pytest.raises(ValueError, match="status"):
        ops.describe_job_definitions(status="GONE")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="revision"):
        ops.describe_job_definitions("name:latest")


async def test_job_definition_revisions_and_the_latest_active_one(
    ops: BatchService, call: BatchCall, infra: BatchInfrastructure
) -> None:
    name = infra.job_definition
    second = await ops.register_job_definition(name=name, image="busybox", vcpus=2, memory_mib=256)
    third = await ops.register_job_definition(
        name=name, image="busybox", vcpus=1, memory_mib=128, retry_attempts=3
    )
    assert (second.revision, third.revision) == (2, 3)
    assert second.arn.endswith(f"{name}:2")
    await ops.deregister_job_definition(second.arn)
    active = [d.revision async for d in ops.describe_job_definitions(name)]
    assert sorted(active) == [1, 3]
    inactive = [d.revision async for d in ops.describe_job_definitions(name, status="INACTIVE")]
    assert inactive == [2]
    assert [d.revision async for d in ops.describe_job_definitions(name, status=None)] != []
    [only] = [d async for d in ops.describe_job_definitions(f"{name}:3")]
    assert only.retry_attempts == 3
    [by_arn] = [d async for d in ops.describe_job_definitions(second.arn, status=None)]
    assert by_arn.resources == Resources(vcpus=2, memory_mib=256)
    latest = await ops.latest_job_definition(name)
    assert latest is not None
    assert latest.revision == 3
    await ops.deregister_job_definition(f"{name}:3")
    latest = await ops.latest_job_definition(name)
    assert latest is not None
    assert latest.revision == 1
    assert await ops.latest_job_definition("never-registered") is None
    with pytest.raises(ValueError, match="without a revision"):
        await ops.latest_job_definition(f"{name}:1")


async def test_kinds_platforms_and_resources_of_definitions(ops: BatchService) -> None:
    fargate = await ops.register_job_definition(
        name="fargate",
        image="busybox",
        vcpus=0.5,
        memory_mib=1024,
        platform="FARGATE",
        execution_role_arn="arn:aws:iam::123456789012:role/exec",
        timeout_seconds=120,
    )
    eks = await ops.register_job_definition(
        {
            "jobDefinitionName": "eks",
            "type": "container",
            "eksProperties": {
                "podProperties": {
                    "containers": [
                        {
                            "image": "busybox",
                            "resources": {
                                "requests": {"cpu": "500m", "memory": "1Gi"},
                                "limits": {"nvidia.com/gpu": "1"},
                            },
                        },
                        {
                            "image": "sidecar",
                            "resources": {"limits": {"cpu": "1", "memory": "512Mi"}},
                        },
                    ]
                }
            },
        }
    )
    multinode = await ops.register_job_definition(
        {
            "jobDefinitionName": "mnp",
            "type": "multinode",
            "nodeProperties": {
                "numNodes": 2,
                "mainNode": 0,
                "nodeRangeProperties": [
                    {
                        "targetNodes": "0:",
                        "container": {"image": "busybox", "vcpus": 2, "memory": 512},
                    }
                ],
            },
        }
    )
    by_name = {d.name: d async for d in ops.describe_job_definitions()}
    assert by_name["fargate"].kind is JobKind.CONTAINER
    assert by_name["fargate"].platform == "FARGATE"
    assert by_name["fargate"].resources == Resources(vcpus=0.5, memory_mib=1024)
    assert by_name["fargate"].timeout_seconds == 120
    assert by_name["eks"].kind is JobKind.EKS
    assert by_name["eks"].resources == Resources(vcpus=1.5, memory_mib=1536, gpus=1)
    assert by_name["mnp"].kind is JobKind.MULTINODE  # moto drops its nodeProperties
    assert by_name["fargate"].num_nodes is None
    as_aws = JobDefinition.model_validate(
        {
            "jobDefinitionName": "mnp",
            "revision": 1,
            "jobDefinitionArn": "arn:aws:batch:us-east-1:123456789012:job-definition/mnp:1",
            "type": "multinode",
            "nodeProperties": {"numNodes": 4, "mainNode": 1, "nodeRangeProperties": []},
        }
    )  # as AWS (and LocalBatch) describe it
    assert (as_aws.kind, as_aws.num_nodes, as_aws.main_node) == (JobKind.MULTINODE, 4, 1)
    assert {fargate.name, eks.name, multinode.name} <= set(by_name)


async def test_register_checks_its_arguments(ops: BatchService, proxy: BatchProxy) -> None:
    with pytest.raises(TypeError, match="not both"):
        await ops.register_job_definition({"jobDefinitionName": "x", "type": "container"}, name="x")
    with pytest.raises(ValueError, match="jobDefinitionName"):
        await ops.register_job_definition({"type": "container"})
    with pytest.raises(TypeError, match="unexpected keyword argument 'imgae'"):
        await ops.register_job_definition(name="x", imgae="busybox")
    with pytest.raises(ValueError, match="image"):  # pydantic's ValidationError is a ValueError
        await ops.register_job_definition(name="x")
    with pytest.raises(ValueError, match="retry_attempts"):
        await ops.register_job_definition(name="x", image="i", retry_attempts=11)
    with pytest.raises(ValueError, match="GPUs"):
        await ops.register_job_definition(name="x", image="i", gpus=1, platform="FARGATE")
    with pytest.raises(ValueError, match="reserved"):
        await ops.register_job_definition(name="x", image="i", environment={"AWS_BATCH_X": "1"})
    assert proxy.count() == 0


def test_container_definition_parameters() -> None:
    params = ContainerJobDefinition(
        name="d",
        image="busybox",
        command=["echo", "hi"],
        vcpus=0.25,
        memory_mib=512,
        gpus=0,
        environment={"STAGE": "prod"},
        tags={"team": "data"},
        propagate_tags=True,
    ).to_api()
    assert params == {
        "jobDefinitionName": "d",
        "type": "container",
        "containerProperties": {
            "image": "busybox",
            "command": ["echo", "hi"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "0.25"},
                {"type": "MEMORY", "value": "512"},
                {"type": "GPU", "value": "0"},
            ],
            "environment": [{"name": "STAGE", "value": "prod"}],
        },
        "tags": {"team": "data"},
        "propagateTags": True,
    }


# ---------------------------------------------------------------------------------------------
# Queue snapshots


async def test_the_snapshot_lists_runnable_jobs_oldest_first(
    ops: BatchService, call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    ids = [await submit(call, infra.job_queue, infra.job_definition) for _ in range(3)]
    for job_id in reversed(ids):
        proxy.override_job(job_id, status="RUNNABLE")
    snapshot = await ops.get_job_queue_snapshot()  # the default queue
    assert [j.job_id for j in snapshot.front_of_queue] == list(reversed(ids))
    times = [j.earliest_time_at_position for j in snapshot.front_of_queue]
    known = [t for t in times if t is not None]
    assert known == sorted(known)
    assert len(known) == 3
    assert snapshot.last_updated_at is not None
    assert snapshot.position(ids[0]) == 3


async def test_snapshot_errors(call: BatchCall, ops: BatchService) -> None:
    with pytest.raises(ConfigurationError):
        await Operations(call, logger=LOG).get_job_queue_snapshot()
    with pytest.raises(BatchAPIError):
        await ops.get_job_queue_snapshot("no-such-queue")


def test_a_snapshot_with_utilization_parses() -> None:
    snapshot = JobQueueSnapshot.model_validate(
        {
            "frontOfQueue": {
                "jobs": [{"jobArn": "arn:aws:batch:r:1:job/abc", "earliestTimeAtPosition": 1000}],
                "lastUpdatedAt": 2000,
            },
            "frontOfQuotaShares": {"quotaShares": {"s": [{"jobArn": "arn:a:job/x"}]}},
            "queueUtilization": {
                "totalCapacityUsage": [{"capacityUnit": "VCPU", "quantity": 12.5}],
                "fairshareUtilization": {
                    "activeShareCount": 2,
                    "topCapacityUtilization": [
                        {"shareIdentifier": "a", "capacityUsage": [{"capacityUnit": "VCPU"}]}
                    ],
                },
                "lastUpdatedAt": 2000,
            },
        }
    )
    assert snapshot.front_of_queue[0].job_id == "abc"
    assert snapshot.front_of_queue[0].earliest_time_at_position is not None
    assert snapshot.front_of_quota_shares["s"][0].job_id == "x"
    assert snapshot.queue_utilization is not None
    assert snapshot.queue_utilization.total_capacity_usage[0].quantity == 12.5
    assert JobQueueSnapshot.model_validate({}).front_of_queue == []
    far = JobQueueSnapshot.model_validate({"frontOfQueue": {"lastUpdatedAt": 2**63 - 1}})
    assert far.last_updated_at is not None
    assert far.last_updated_at.year == 9999  # a Long beyond datetime is clamped, not an error


# ---------------------------------------------------------------------------------------------
# Every answer botocore's model allows parses


@pytest.mark.parametrize("nested_required", [0.9, 1.0], ids=["parts-incomplete", "parts-whole"])
def test_every_snapshot_the_model_allows_parses(nested_required: float) -> None:
    """Queues, compute environments and definitions: ``tests/models/test_views.py``."""
    output = SERVICE.operation_model("GetJobQueueSnapshot").output_shape
    assert output is not None
    sampler = ShapeSampler(SEED, nested_required=nested_required)
    for answer in samples(output, 500, SEED, sampler):
        snapshot = JobQueueSnapshot.model_validate(answer)
        front = answer.get("frontOfQueue", {}).get("jobs", [])
        assert len(snapshot.front_of_queue) == len(front)


def test_requested_resources_of_every_kind() -> None:
    assert requested_resources({"container": {"vcpus": 2, "memory": 2048}}) == Resources(
        vcpus=2, memory_mib=2048
    )
    ecs = {
        "ecsProperties": {
            "taskProperties": [
                {
                    "containers": [
                        {"resourceRequirements": requirements(1, 1024)},
                        {"resourceRequirements": requirements(0.5, 512)},
                    ]
                }
            ]
        }
    }
    assert requested_resources(ecs) == Resources(vcpus=1.5, memory_mib=1536)
    eks = {
        "eksProperties": {
            "podProperties": {
                "containers": [{"resources": {"limits": {"cpu": "2", "memory": "2G"}}}],
                "initContainers": [{"resources": {"requests": {"cpu": "4", "memory": "1024Mi"}}}],
            }
        }
    }
    assert requested_resources(eks) == Resources(vcpus=4, memory_mib=1908)
    nodes = {
        "nodeProperties": {
            "nodeRangeProperties": [
                {"targetNodes": "0", "container": {"resourceRequirements": requirements(4, 512)}},
                {"targetNodes": "1:", "container": {"vcpus": 1, "memory": 4096}},
            ]
        }
    }
    assert requested_resources(nodes) == Resources(vcpus=4, memory_mib=4096)
    assert requested_resources({}).is_empty
    assert str(Resources(vcpus=1, memory_mib=512, gpus=2)) == "1 vCPU, 512 MiB of memory, 2 GPUs"


def test_instance_sizes() -> None:
    [xlarge] = instance_sizes("m5.xlarge") or []
    assert (xlarge.vcpus, xlarge.memory_mib, xlarge.gpus) == (4, 16384, 0)
    assert len(instance_sizes("g5") or []) == 8
    assert instance_sizes("optimal") is None
    assert instance_sizes("x2iedn.32xlarge") is None


def test_models_take_snake_names_and_aws_names() -> None:
    by_alias = ComputeResources.model_validate({"type": "EC2", "maxvCpus": 4, "desiredvCpus": 4})
    by_name = ComputeResources(type="EC2", max_vcpus=4, desired_vcpus=4)
    assert by_alias == by_name
    assert by_name.model_dump(by_alias=True, exclude_none=True)["maxvCpus"] == 4
    environment = ComputeEnvironment.model_validate(
        {
            "computeEnvironmentName": "ce",
            "computeEnvironmentArn": "arn",
            "type": "MANAGED",
            "computeResources": by_alias.model_dump(by_alias=True),
            "someFieldFromTheFuture": {"a": 1},
        }
    )
    assert environment.is_at_max_vcpus
    assert environment.misfit(Resources(vcpus=8)) == ["its maxvCpus is 4, below the job's 8 vCPUs"]


# ---------------------------------------------------------------------------------------------
# Bulk stop


async def many_jobs(call: BatchCall, infra: BatchInfrastructure, n: int) -> list[str]:
    sem = asyncio.Semaphore(20)

    async def one() -> str:
        async with sem:
            return await submit(call, infra.job_queue, infra.job_definition)

    return list(await asyncio.gather(*(one() for _ in range(n))))


@pytest.fixture
async def runnable_jobs(
    call: BatchCall, infra: BatchInfrastructure, proxy: BatchProxy
) -> list[str]:
    ids = await many_jobs(call, infra, 120)
    for job_id in ids:
        proxy.override_job(job_id, status="RUNNABLE")
    proxy.clear_calls()
    return ids


async def statuses(call: BatchCall, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 100):
        response = await call("DescribeJobs", jobs=ids[start : start + 100])
        found |= {j["status"] for j in response["jobs"]}
    return found


async def test_cancel_120_jobs_in_three_calls_and_unknown_ids_are_successes(
    ops: BatchService, call: BatchCall, proxy: BatchProxy, runnable_jobs: list[str]
) -> None:
    unknown = ["no-such-job-1", "no-such-job-2"]
    result = await ops.cancel_jobs([*runnable_jobs, *unknown, runnable_jobs[0]], "tidy up")
    assert proxy.count("CancelJobs") == 3  # 122 distinct ids, 50 per call
    assert proxy.count("CancelJob") == 0
    # AWS: "Jobs that can't be found are treated as successfully processed."
    assert result.succeeded == [*runnable_jobs, *unknown]
    assert result.failed == {}
    assert result.ok
    sizes = sorted(len(c.body["jobs"]) for c in proxy.calls if c.operation == "CancelJobs")
    assert sizes == [22, 50, 50]
    assert await statuses(call, runnable_jobs) == {"FAILED"}


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "one-by-one"])
async def test_unknown_ids_are_successes_on_both_paths(
    ops: BatchService, proxy: BatchProxy, runnable_jobs: list[str], bulk: bool
) -> None:
    proxy.set_bulk_stop(bulk)  # False: moto has no CancelJobs, so one CancelJob per job
    ids = [runnable_jobs[0], "no-such-job", runnable_jobs[1]]
    cancelled = await ops.cancel_jobs(ids, "tidy up")
    terminated = await ops.terminate_jobs(ids, "tidy up")
    assert cancelled.succeeded == terminated.succeeded == ids
    assert cancelled.ok
    assert terminated.ok
    singles = proxy.count("CancelJob") + proxy.count("TerminateJob")
    assert singles == (0 if bulk else 6)


async def test_a_job_not_found_answer_of_the_single_call_is_a_success(
    ops: BatchService, proxy: BatchProxy, runnable_jobs: list[str]
) -> None:
    # moto 5.2 and AWS answer CancelJob of an unknown id with success; older moto releases and
    # other emulators answered "ClientException: Job ... not found". Both mean: nothing to stop.
    proxy.set_bulk_stop(False)
    proxy.inject_error(
        "CancelJob", status=400, code="ClientException", message="Job gone-1 not found", times=1
    )
    result = await ops.cancel_jobs(["gone-1", *runnable_jobs[:3]], "tidy up")
    assert result.succeeded == ["gone-1", *runnable_jobs[:3]]
    assert result.ok
    proxy.inject_error("CancelJob", status=400, code="ClientException", message="nope", times=1)
    refused = await ops.cancel_jobs(runnable_jobs[3:4], "tidy up")
    assert list(refused.failed) == runnable_jobs[3:4]  # any other refusal is still a failure


async def test_without_the_bulk_operations_one_call_per_job(
    ops: BatchService,
    call: BatchCall,
    proxy: BatchProxy,
    runnable_jobs: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    proxy.set_bulk_stop(False)  # moto's own 404 answer
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        result = await ops.cancel_jobs(runnable_jobs, "tidy up")
    assert result.ok
    assert result.succeeded == runnable_jobs
    assert proxy.count("CancelJobs") == 1
    assert proxy.count("CancelJob") == 120
    assert any("CancelJobs is not available" in r.getMessage() for r in caplog.records)
    assert await statuses(call, runnable_jobs) == {"FAILED"}
    proxy.clear_calls()
    again = await ops.terminate_jobs(runnable_jobs[:10], "again")  # remembered: no bulk try
    assert again.succeeded == runnable_jobs[:10]
    assert dict(proxy.counts()) == {"TerminateJob": 10}


_NOT_IMPLEMENTED = "The cancel_jobs action has not been implemented"


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (404, "<html><title>404 Not Found</title></html>", "text/html"),  # moto 5.2.5
        (500, "<!doctype html><title>500 Internal Server Error</title>", "text/html"),  # 5.2.6
        (500, json.dumps({"message": _NOT_IMPLEMENTED}), "application/json"),
        (
            400,
            json.dumps({"__type": "UnknownOperationException", "message": "no such op"}),
            "application/json",
        ),
    ],
    ids=["404-html", "500-html", "500-not-implemented", "unknown-operation"],
)
async def test_an_unavailable_bulk_operation_is_tried_once_per_service(
    ops: BatchService,
    call: BatchCall,
    proxy: BatchProxy,
    runnable_jobs: list[str],
    status: int,
    body: str,
    content_type: str,
) -> None:
    proxy.inject_answer("CancelJobs", body, status=status, content_type=content_type)
    proxy.inject_answer("TerminateJobs", body, status=status, content_type=content_type)
    result = await ops.cancel_jobs(runnable_jobs, "tidy up")
    assert result.ok
    assert result.succeeded == runnable_jobs
    assert proxy.count("CancelJobs") == 1  # tried once, its answer not retried
    assert proxy.count("CancelJob") == 120
    assert await statuses(call, runnable_jobs) == {"FAILED"}
    proxy.clear_calls()
    again = await ops.terminate_jobs(runnable_jobs[:60], "again")  # remembered for the service
    assert again.succeeded == runnable_jobs[:60]
    assert dict(proxy.counts()) == {"TerminateJob": 60}


async def test_a_persistent_aws_5xx_sends_its_chunk_one_by_one_and_keeps_the_bulk_call(
    ops: BatchService, call: BatchCall, proxy: BatchProxy, runnable_jobs: list[str]
) -> None:
    attempts = ops.config.api_max_attempts
    proxy.inject_error("CancelJobs", status=500, times=attempts)  # AWS's ServerException shape
    result = await ops.cancel_jobs(runnable_jobs, "tidy up")
    assert result.ok
    assert result.succeeded == runnable_jobs
    assert proxy.count("CancelJobs") == attempts + 2  # botocore retried the first chunk
    assert proxy.count("CancelJob") == 50  # only that chunk went one by one
    assert await statuses(call, runnable_jobs) == {"FAILED"}


async def test_terminate_and_stop_reach_running_jobs(
    ops: BatchService, call: BatchCall, proxy: BatchProxy, runnable_jobs: list[str]
) -> None:
    running = runnable_jobs[:3]
    for job_id in running:
        proxy.override_job(job_id, status="RUNNING")
    cancelled = await ops.cancel_jobs(running, "cancel")  # AWS: accepted, does nothing
    assert cancelled.succeeded == running
    assert await statuses(call, running) == {"RUNNING"}
    stopped = await ops.stop_jobs(running, "stop")
    assert stopped.succeeded == running
    assert await statuses(call, running) == {"FAILED"}
    assert proxy.count("TerminateJobs") == 1


async def test_a_refused_bulk_call_fails_its_chunk_only(
    ops: BatchService, proxy: BatchProxy, runnable_jobs: list[str]
) -> None:
    proxy.inject_error("TerminateJobs", status=400, code="ClientException", times=1)
    result = await ops.terminate_jobs(runnable_jobs, "stop")
    assert set(result.failed) == set(runnable_jobs[:50])  # the first chunk is sent first
    assert all(
        isinstance(e, BatchAPIError) and e.operation == "TerminateJobs"
        for e in result.failed.values()
    )
    assert result.succeeded == runnable_jobs[50:]


class CountingLimiter(AdaptiveRateLimiter):
    def __init__(self) -> None:
        super().__init__(1000.0)
        self.acquired = 0
        self.succeeded = 0

    async def acquire(self, *, urgent: bool = False) -> Slot:
        self.acquired += 1
        return await super().acquire(urgent=urgent)

    def on_success(self, slot: Slot) -> None:
        self.succeeded += 1
        super().on_success(slot)


async def test_stop_calls_are_paced_and_throttles_retried(
    infra: BatchInfrastructure, proxy: BatchProxy, runnable_jobs: list[str]
) -> None:
    config = AioConfig(retries={"mode": "standard", "total_max_attempts": 1})
    async with get_session().create_client(
        "batch", region_name=REGION, endpoint_url=proxy.url, config=config
    ) as once:
        limiter = CountingLimiter()
        ops = Operations(make_call(once), logger=LOG, limiter=limiter)
        proxy.inject_error("CancelJobs", status=429, times=1)
        result = await ops.cancel_jobs(runnable_jobs, "paced")
    assert result.ok
    assert limiter.throttles == 1
    assert (limiter.acquired, limiter.succeeded) == (4, 3)
    assert proxy.count("CancelJobs") == 4


async def test_a_throttle_without_a_limiter_fails_the_chunk() -> None:
    throttled = ThrottlingError("slow down", operation="CancelJobs", code="TooManyRequests")
    result = await Operations(FakeBatch(CancelJobs=throttled), logger=LOG).cancel_jobs(
        ["a", "b"], "r"
    )
    assert result.failed == {"a": throttled, "b": throttled}


async def test_a_client_without_the_bulk_operation_falls_back() -> None:
    class OldClient(FakeBatch):
        async def __call__(self, operation: str, /, **params: Any) -> dict[str, Any]:
            if operation == "TerminateJobs":
                raise AttributeError("'Batch' object has no attribute 'terminate_jobs'")
            return await super().__call__(operation, **params)

    old = OldClient()
    result = await Operations(old, logger=LOG).terminate_jobs(["a", "b", "a"], "r")
    assert result.succeeded == ["a", "b"]
    assert [op for op, _ in old.calls] == ["TerminateJob", "TerminateJob"]


async def test_ids_missing_from_the_answer_are_failures() -> None:
    fake = FakeBatch(CancelJobs={"successful": ["arn:aws:batch:r:1:job/a"], "errors": []})
    result = await Operations(fake, logger=LOG).cancel_jobs(["a", "b"], "r")
    assert result.succeeded == ["a"]  # an ARN in the answer maps back to its id
    error = result.failed["b"]
    assert isinstance(error, BatchAPIError)
    assert error.code == "MissingFromResponse"


async def test_per_job_errors_fail_their_jobs_but_not_found_ones_succeed() -> None:
    answer = {
        "successful": ["a"],
        "errors": [
            {"job": "b", "code": "ClientException", "message": "Job b not found"},
            {"job": "c", "code": "ClientException", "message": "Job c is an array child"},
            {"job": "d", "code": "AccessDeniedException", "message": "Job d not found"},
        ],
    }
    fake = FakeBatch(TerminateJobs=answer)
    result = await Operations(fake, logger=LOG).terminate_jobs(["a", "b", "c", "d"], "r")
    assert result.succeeded == ["a", "b"]
    assert sorted(result.failed) == ["c", "d"]
    error = result.failed["c"]
    assert isinstance(error, BatchAPIError)
    assert (error.operation, error.code) == ("TerminateJobs", "ClientException")


@pytest.mark.parametrize(
    ("code", "message", "not_found"),
    [
        ("ClientException", "Job 1234 not found", True),
        ("ClientException", "Job ID does not exist", True),
        ("ClientException", "The job doesn't exist", True),
        ("ClientException", "jobId could not be found", True),
        ("ClientException", "reason is too long", False),
        ("ClientException", "nope", False),
        ("AccessDeniedException", "Job 1234 not found", False),
        ("ServerException", "not found", False),
    ],
)
def test_what_counts_as_job_not_found(code: str, message: str, not_found: bool) -> None:
    error = BatchAPIError(message, operation="CancelJob", code=code)
    assert job_not_found(error) is not_found


@pytest.mark.parametrize(
    ("job_ids", "reason", "error"),
    [
        ("job-1", "r", TypeError),
        ([1], "r", TypeError),
        ([""], "r", ValueError),
        (["a"], "", ValueError),
        (["a"], "x" * 1025, ValueError),
        (["a"], None, TypeError),
    ],
)
async def test_bulk_stop_checks_before_any_call(
    job_ids: Any, reason: Any, error: type[Exception]
) -> None:
    fake = FakeBatch()
    with pytest.raises(error):
        await Operations(fake, logger=LOG).cancel_jobs(job_ids, reason)
    assert fake.calls == []


async def test_an_empty_list_makes_no_call() -> None:
    fake = FakeBatch()
    result = await Operations(fake, logger=LOG).stop_jobs([], "r")
    assert (result.succeeded, result.failed, fake.calls) == ([], {}, [])
