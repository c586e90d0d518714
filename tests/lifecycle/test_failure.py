"""Why a job failed (``JobDetail.failure``), the resubmit policy's changes, and request_of.

The classification is pure: each case is a DescribeJobs job as AWS documents it, for every kind
of job (container on EC2, Fargate, EKS pods, multi-node nodes, ECS-properties tasks). ``explain``
is checked against moto with the reason laid over the job by the proxy.
"""

from __future__ import annotations

from typing import Any

import pytest

from aws_batch_async import (
    BatchService,
    FailureKind,
    JobDetail,
    JobRequest,
    ResubmitPolicy,
    scale_memory,
    scale_vcpus,
    to_queue,
    with_env,
)
from aws_batch_async._lifecycle.lineage import chain_tag
from aws_batch_async._lifecycle.rebuild import request_of
from aws_batch_async.testing import BatchProxy

HOST = "Host EC2 (instance i-0123456789abcdef0) terminated."
ESSENTIAL = "Essential container in task exited"
OOM = "OutOfMemoryError: Container killed due to memory usage"
NODE_SHUTDOWN = "Pod was terminated in response to imminent node shutdown."


RETRY_ON_HOST = {"action": "RETRY", "onStatusReason": "Host EC2*"}


def vcpus(value: int) -> dict[str, str]:
    return {"type": "VCPU", "value": str(value)}


def memory(value: int) -> dict[str, str]:
    return {"type": "MEMORY", "value": str(value)}


def job(**fields: Any) -> JobDetail:
    data = {
        "jobId": "j-1",
        "jobName": "n",
        "status": "FAILED",
        "startedAt": 1_700_000_000_000,
        **fields,
    }
    return JobDetail.model_validate(data)


CASES: list[tuple[str, dict[str, Any], FailureKind, bool]] = [
    ("application error", {"statusReason": ESSENTIAL, "container": {"exitCode": 2}},
     FailureKind.APPLICATION_ERROR, False),
    ("ECS out of memory", {"statusReason": ESSENTIAL,
                           "container": {"exitCode": 137, "reason": OOM}},
     FailureKind.OUT_OF_MEMORY, False),
    ("bare 137", {"statusReason": ESSENTIAL, "container": {"exitCode": 137}},
     FailureKind.OUT_OF_MEMORY, False),
    ("spot reclaim", {"statusReason": HOST, "container": {}}, FailureKind.HOST_TERMINATED, True),
    ("host in the attempt", {"statusReason": ESSENTIAL,
                             "attempts": [{"statusReason": HOST, "container": {"exitCode": 143}}]},
     FailureKind.HOST_TERMINATED, True),
    ("Fargate Spot", {"platformCapabilities": ["FARGATE"],
                      "statusReason": "Your Spot Task was interrupted.",
                      "container": {"reason": "Your Spot Task was interrupted."}},
     FailureKind.SPOT_INTERRUPTED, True),
    ("image pull", {"statusReason": "CannotPullContainerError: pull image manifest has been "
                    "retried 1 time(s): failed to resolve ref docker.io/x:latest: not found"},
     FailureKind.IMAGE_PULL, False),
    ("image pull throttled", {"statusReason": ESSENTIAL, "container": {"reason":
        "CannotPullContainerError: toomanyrequests: You have reached your pull rate limit."}},
     FailureKind.IMAGE_PULL, True),
    ("secrets", {"statusReason": "ResourceInitializationError: unable to pull secrets or "
                 "registry auth: execution resource retrieval failed: AccessDeniedException"},
     FailureKind.RESOURCE_INITIALIZATION, False),
    ("secrets timeout", {"statusReason": "ResourceInitializationError: unable to pull secrets "
                         "or registry auth: ... dial tcp 10.0.0.1:443: i/o timeout"},
     FailureKind.RESOURCE_INITIALIZATION, True),
    ("timeout", {"statusReason": "Job attempt duration exceeded timeout",
                 "container": {"exitCode": 137}}, FailureKind.TIMEOUT, False),
    ("dependency", {"statusReason": "Dependent Job failed", "startedAt": None},
     FailureKind.DEPENDENCY_FAILED, False),
    ("queue time limit", {"statusReason": "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - no capacity",
                          "startedAt": None, "isCancelled": True},
     FailureKind.QUEUE_TIME_LIMIT, False),
    ("cancelled by a caller", {"statusReason": "no longer needed", "isCancelled": True,
                               "startedAt": None}, FailureKind.CANCELLED, False),
    ("terminated by a caller", {"statusReason": "stop", "isTerminated": True,
                                "container": {"exitCode": 137}}, FailureKind.CANCELLED, False),
    ("EKS OOMKilled", {"eksProperties": {"podProperties": {"containers": [
        {"name": "main", "exitCode": 137, "reason": "OOMKilled"}]}}},
     FailureKind.OUT_OF_MEMORY, False),
    ("EKS node shutdown", {"eksAttempts": [{"statusReason": NODE_SHUTDOWN,
                                            "containers": [{"name": "main", "exitCode": 143}]}]},
     FailureKind.HOST_TERMINATED, True),
    ("ECS properties", {"statusReason": ESSENTIAL, "ecsProperties": {"taskProperties": [
        {"containers": [{"name": "side", "exitCode": 0},
                        {"name": "main", "essential": True, "exitCode": 137, "reason": OOM}]}]}},
     FailureKind.OUT_OF_MEMORY, False),
    ("multi-node node", {"jobId": "j-1#0", "statusReason": HOST,
                         "nodeDetails": {"nodeIndex": 0, "isMainNode": True},
                         "container": {"exitCode": 1}}, FailureKind.HOST_TERMINATED, True),
    ("unknown", {"statusReason": "something new"}, FailureKind.UNKNOWN, False),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "kind", "retryable"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_each_documented_failure_is_classified(
    fields: dict[str, Any], kind: FailureKind, retryable: bool
) -> None:
    failure = job(**fields).failure
    assert failure is not None
    assert failure.kind is kind
    assert failure.retryable is retryable
    assert failure.reason


def test_only_failed_jobs_and_failed_attempts_have_a_failure() -> None:
    done = job(status="SUCCEEDED", container={"exitCode": 0})
    assert done.failure is None
    running = job(status="RUNNING", attempts=[{"startedAt": 1}])
    assert running.failure is None
    assert running.attempts[0].failure is None
    retried = job(
        statusReason=ESSENTIAL,
        container={"exitCode": 137, "reason": OOM},
        attempts=[
            {"container": {"exitCode": 1}, "statusReason": HOST, "stoppedAt": 2},
            {"container": {"exitCode": 137, "reason": OOM}, "statusReason": ESSENTIAL,
             "stoppedAt": 3},
        ],
    )  # fmt: skip
    first, second = (a.failure for a in retried.attempts)
    assert first is not None
    assert (first.kind, first.attempt, first.retryable) == (FailureKind.HOST_TERMINATED, 0, True)
    assert second is not None
    assert (second.kind, second.attempt) == (FailureKind.OUT_OF_MEMORY, 1)
    assert retried.failure == second
    assert str(second) == f"OUT_OF_MEMORY: {OOM}, exit code 137"


def test_resubmitted_from_comes_from_the_librarys_tag_only() -> None:
    tagged = job(tags={"aws-batch-async:resubmit-of": "a b", "team": "x"})
    assert tagged.resubmitted_from == ["a", "b"]
    assert tagged.tags == {"team": "x"}
    assert job(tags={"team": "x"}).resubmitted_from == []
    ids = [f"{i:036d}" for i in range(10)]
    value = chain_tag(ids)["aws-batch-async:resubmit-of"]
    assert len(value) <= 256
    assert value.split() == ids[-6:]  # the newest that fit


def test_the_changes() -> None:
    base = JobRequest(memory_mib=1000, vcpus=1.0, env_vars={"A": "1"}, job_queue="spot")
    assert scale_memory(2.0)(base) == base.model_copy(update={"memory_mib": 2000})
    assert scale_memory(3.0, max_mib=2048)(base).memory_mib == 2048  # type: ignore[union-attr]
    assert scale_memory(2.0, max_mib=1000)(base) is None  # at the cap: no resubmission
    assert scale_vcpus(1.5)(base).vcpus == 1.5  # type: ignore[union-attr]
    assert to_queue("on-demand")(base).job_queue == "on-demand"  # type: ignore[union-attr]
    changed = with_env({"B": "2"})(base)
    assert changed is not None
    assert changed.env_vars == {"A": "1", "B": "2"}
    with pytest.raises(ValueError, match="sets no memory"):
        scale_memory(2.0)(JobRequest())
    with pytest.raises(ValueError, match="above 1"):
        scale_memory(0.5)
    with pytest.raises(ValueError, match="reserved"):
        with_env({"AWS_BATCH_X": "1"})


def test_the_policy_checks_its_arguments() -> None:
    policy = ResubmitPolicy(on={"OUT_OF_MEMORY": scale_memory(2.0), FailureKind.UNKNOWN: None})  # type: ignore[dict-item]
    assert policy.change_for(FailureKind.OUT_OF_MEMORY) is not None
    same = policy.change_for(FailureKind.UNKNOWN)
    request = JobRequest(command=["true"])
    assert same is not None
    assert same(request) is request
    assert policy.change_for(FailureKind.APPLICATION_ERROR) is None
    with pytest.raises(ValueError, match="max_attempts"):
        ResubmitPolicy(max_attempts=0)
    with pytest.raises(TypeError, match="callable"):
        ResubmitPolicy(on={FailureKind.TIMEOUT: "twice"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="NOT_A_KIND"):
        ResubmitPolicy(on={"NOT_A_KIND": None})  # type: ignore[dict-item]


def test_request_of_rebuilds_every_field_of_a_container_job() -> None:
    detail = job(
        jobQueue="arn:aws:batch:us-east-1:1:job-queue/q",
        jobDefinition="arn:aws:batch:us-east-1:1:job-definition/d:3",
        parameters={"size": "big"},
        tags={"team": "x", "aws-batch-async:submit-token": "t"},
        arrayProperties={"size": 4},
        dependsOn=[{"jobId": "before", "type": "N_TO_N"}],
        timeout={"attemptDurationSeconds": 600},
        retryStrategy={"attempts": 3, "evaluateOnExit": [RETRY_ON_HOST]},
        schedulingPriority=7,
        shareIdentifier="blue",
        container={
            "command": ["run", "it"],
            "environment": [{"name": "A", "value": "1"}, {"name": "AWS_BATCH_JOB_ID", "value": "x"}],  # noqa: E501
            "resourceRequirements": [vcpus(2), memory(4096)],
        },
    )  # fmt: skip
    request = request_of(detail)
    assert request.job_queue == "arn:aws:batch:us-east-1:1:job-queue/q"
    assert request.job_definition == "arn:aws:batch:us-east-1:1:job-definition/d:3"
    assert request.parameters == {"size": "big"}
    assert request.tags == {"team": "x"}
    assert request.array_size == 4
    assert request.depends_on is not None
    assert [(d.job_id, d.type) for d in request.depends_on] == [("before", "N_TO_N")]
    assert request.timeout_seconds == 600
    assert request.retry_attempts == 3
    assert request.evaluate_on_exit is not None
    assert request.evaluate_on_exit[0].on_status_reason == "Host EC2*"
    assert (request.scheduling_priority, request.share_identifier) == (7, "blue")
    assert request.command == ["run", "it"]
    assert request.env_vars == {"A": "1"}
    assert (request.vcpus, request.memory_mib) == (2.0, 4096)


def test_request_of_other_kinds() -> None:
    ecs = request_of(
        job(ecsProperties={"taskProperties": [{"containers": [
            {"name": "side", "command": ["s"], "environment": [{"name": "S", "value": "1"}]},
            {"name": "main", "essential": True, "command": ["m"],
             "resourceRequirements": [{"type": "MEMORY", "value": "2048"}]},
        ]}]})
    )  # fmt: skip
    assert (ecs.container, ecs.command, ecs.memory_mib) == ("main", ["m"], 2048)
    assert ecs.ecs_containers is not None
    assert [(c.name, c.command, c.env_vars) for c in ecs.ecs_containers] == [
        ("side", ["s"], {"S": "1"})
    ]
    eks = request_of(
        job(eksProperties={"podProperties": {"containers": [
            {"name": "main", "command": ["m"], "env": [{"name": "E", "value": "1"}],
             "resources": {"requests": {"memory": "1024Mi", "cpu": "1"}}},
            {"name": "sidecar", "args": ["--x"]},
        ]}})
    )  # fmt: skip
    assert (eks.container, eks.command, eks.env_vars) == ("main", ["m"], {"E": "1"})
    assert eks.eks is not None
    assert eks.eks.containers is not None
    assert eks.eks.containers[0].args == ["--x"]
    mnp = request_of(
        job(nodeProperties={"numNodes": 4, "mainNode": 0, "nodeRangeProperties": [
            {"targetNodes": "0:",
             "container": {"command": ["train"], "resourceRequirements": [memory(8192)]}},
        ]})
    )  # fmt: skip
    assert mnp.num_nodes == 4
    assert mnp.node_overrides is not None
    assert [(n.target_nodes, n.command) for n in mnp.node_overrides] == [("0:", ["train"])]
    assert mnp.memory_mib == 8192


async def test_explain_says_the_failure_kind(batch: BatchService, proxy: BatchProxy) -> None:
    job_id = (await batch.submit_job(JobRequest(command=["true"]))).job_id
    proxy.override_job(job_id, status="FAILED", statusReason=HOST)
    diagnosis = await batch.explain(job_id)
    assert "Failure kind: HOST_TERMINATED (worth retrying)." in diagnosis.reasons
    detail = await batch.get_job_status(job_id)
    assert detail.failure is not None
    assert detail.failure.kind is FailureKind.HOST_TERMINATED


def test_status_shows_the_failure_kind() -> None:
    from aws_batch_async._cli._output import job_json, job_table

    detail = job(statusReason=ESSENTIAL, container={"exitCode": 137, "reason": OOM})
    assert job_json(detail)["failure"]["kind"] == "OUT_OF_MEMORY"
    names, values = (list(column.cells) for column in job_table(detail).columns)
    rows = dict(zip(names, values, strict=True))
    assert rows["Failure"] == "OUT_OF_MEMORY"
