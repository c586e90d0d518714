"""``JobDetail`` and ``JobSummary`` for every kind of AWS Batch job.

* A generator driven by botocore's own output shapes (DescribeJobs, ListJobs) builds thousands of
  answers the model allows (every optional member present or absent, every enum value, empty
  and full lists, unknown extra members, extreme numbers), from a fixed seed: each must parse.
* Realistic answers of each kind, written from AWS's documented shapes: what each field shows,
  and the fields lifted for every kind (exit code, reasons, log streams).
* ``raw``: the job as AWS returned it, read-only; no repr shows an environment value.
"""

from __future__ import annotations

import copy
import json
import pickle
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.model import StructureShape

from aws_batch_async import (
    ContainerDetail,
    EcsContainerDetail,
    EksAttemptDetail,
    JobDetail,
    JobKind,
    JobStatus,
    JobSummary,
    NodeProperties,
)
from aws_batch_async._models.raw import FrozenDict, FrozenList

from .._shapes import SECRET, SEED, ShapeSampler, output_member, samples

DETAIL_SAMPLES = 3000
SUMMARY_SAMPLES = 2000

JOB_DETAIL = output_member("DescribeJobs", "jobs")
JOB_SUMMARY = output_member("ListJobs", "jobSummaryList")


def expected_kind(job: dict[str, Any]) -> JobKind:
    if "nodeProperties" in job or "nodeDetails" in job:
        return JobKind.MULTINODE
    if "eksProperties" in job:
        return JobKind.EKS
    if "ecsProperties" in job:
        return JobKind.ECS
    return JobKind.CONTAINER


def stream_names(job: dict[str, Any]) -> set[str]:
    """Every container log stream named anywhere in a DescribeJobs job, by walking it."""
    found: set[str] = set()
    container = job.get("container", {})
    found.add(container.get("logStreamName", ""))
    for attempt in job.get("attempts", []):
        found.add(attempt.get("container", {}).get("logStreamName", ""))
        for task in attempt.get("taskProperties", []):
            found.update(c.get("logStreamName", "") for c in task.get("containers", []))
    for task in job.get("ecsProperties", {}).get("taskProperties", []):
        found.update(c.get("logStreamName", "") for c in task.get("containers", []))
    return found - {""}


def test_the_generator_covers_the_model() -> None:
    """The samples hold every kind, every status, and environment values to hide."""
    sampler = ShapeSampler(SEED)
    assert isinstance(JOB_DETAIL, StructureShape)
    jobs = [sampler.structure(JOB_DETAIL, top=True) for _ in range(500)]
    assert {expected_kind(job) for job in jobs} == set(JobKind)
    assert {job["status"] for job in jobs} == {s.value for s in JobStatus}
    assert sampler.secrets > 100
    assert any(job.get("dependsOn") == [] for job in jobs)
    assert any(job.get("dependsOn") for job in jobs)
    assert any(set(job) == set(JOB_DETAIL.required_members) for job in jobs)


def test_every_describe_jobs_answer_the_model_allows_parses() -> None:
    kinds: set[JobKind] = set()
    for job in samples(JOB_DETAIL, DETAIL_SAMPLES, SEED):
        detail = JobDetail.model_validate(job)
        kinds.add(detail.kind)
        assert detail.job_id == job["jobId"]
        assert detail.status is JobStatus(job["status"])
        assert detail.kind is expected_kind(job)
        capabilities = job.get("platformCapabilities", [])
        platforms = ("FARGATE", "MANAGED_INSTANCES", "EC2")
        platform = next((p for p in platforms if p in capabilities), None)
        assert detail.platform == platform
        assert detail.raw == job
        container_code = job.get("container", {}).get("exitCode")
        if container_code is not None:
            assert detail.exit_code == container_code
        if job.get("statusReason") is not None:
            assert detail.status_reason == job["statusReason"]
        assert set(detail.log_stream_names) == stream_names(job)
        assert detail.log_stream_name in {None, "", *stream_names(job)}
        assert all(d.job_id or d.type == "SEQUENTIAL" for d in detail.depends_on)
        assert not any(k.startswith("aws-batch-async:") for k in detail.tags)
        detail.container_exit_codes  # noqa: B018 (computes for every kind)
        dumped = detail.model_dump_json()
        shown = repr(detail) + str(detail) + repr(detail.raw) + dumped
        assert SECRET not in shown
        for attempt in detail.attempts:
            assert SECRET not in repr(attempt)
    assert kinds == set(JobKind)


def test_every_list_jobs_summary_the_model_allows_parses() -> None:
    statuses: set[JobStatus | None] = set()
    for job in samples(JOB_SUMMARY, SUMMARY_SAMPLES, SEED + 1):
        summary = JobSummary.model_validate(job)
        statuses.add(summary.status)
        assert summary.job_id == job["jobId"]
        assert summary.is_terminal == (job.get("status") in ("SUCCEEDED", "FAILED"))
        if job.get("container", {}).get("exitCode") is not None:
            assert summary.exit_code == job["container"]["exitCode"]
        summary.model_dump_json()
    assert None in statuses  # status is optional in ListJobs' model
    assert statuses >= set(JobStatus)


# ---------------------------------------------------------------------------------------------
# Each kind, as AWS documents it

ACCOUNT = "arn:aws:batch:us-east-1:123456789012"
T0 = 1_700_000_000_000

CONTAINER_EC2: dict[str, Any] = {
    "jobArn": f"{ACCOUNT}:job/876da822-4198-45f2-a252-6cea32512ea8",
    "jobName": "example",
    "jobId": "876da822-4198-45f2-a252-6cea32512ea8",
    "jobQueue": f"{ACCOUNT}:job-queue/HighPriority",
    "status": "FAILED",
    "statusReason": "Essential container in task exited",
    "attempts": [
        {
            "container": {
                "containerInstanceArn": "arn:aws:ecs:us-east-1:123456789012:container-instance/c1",
                "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/t1",
                "exitCode": 1,
                "logStreamName": "example/default/t1",
                "networkInterfaces": [],
            },
            "startedAt": T0,
            "stoppedAt": T0 + 10_000,
            "statusReason": "Essential container in task exited",
        },
        {
            "container": {"exitCode": 137, "logStreamName": "example/default/t2"},
            "startedAt": T0 + 20_000,
            "stoppedAt": T0 + 30_000,
            "statusReason": "Essential container in task exited",
        },
    ],
    "createdAt": T0 - 5_000,
    "retryStrategy": {
        "attempts": 2,
        "evaluateOnExit": [{"onExitCode": "137", "action": "RETRY"}],
    },
    "startedAt": T0 + 20_000,
    "stoppedAt": T0 + 30_000,
    "dependsOn": [],
    "jobDefinition": f"{ACCOUNT}:job-definition/sleep60:1",
    "parameters": {"token": "p4r4m-value"},
    "container": {
        "image": "busybox",
        "command": ["sleep", "60"],
        "volumes": [],
        "environment": [{"name": "DB_PASSWORD", "value": "s3cr3t-db"}],
        "mountPoints": [],
        "ulimits": [],
        "exitCode": 137,
        "reason": "OutOfMemoryError: Container killed due to memory usage",
        "containerInstanceArn": "arn:aws:ecs:us-east-1:123456789012:container-instance/c2",
        "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/t2",
        "logStreamName": "example/default/t2",
        "resourceRequirements": [
            {"value": "1", "type": "VCPU"},
            {"value": "2048", "type": "MEMORY"},
        ],
        "logConfiguration": {"logDriver": "awslogs", "options": {}, "secretOptions": []},
        "secrets": [{"name": "API_KEY", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/k"}],
    },
    "timeout": {"attemptDurationSeconds": 3600},
    "tags": {"team": "ml", "aws-batch-async:token": "t-1"},
    "propagateTags": True,
    "platformCapabilities": ["EC2"],
    "eksAttempts": [],
    "isCancelled": False,
    "isTerminated": False,
}

CONTAINER_FARGATE: dict[str, Any] = {
    "jobName": "fargate",
    "jobId": "f4a6",
    "jobQueue": f"{ACCOUNT}:job-queue/fargate",
    "status": "RUNNING",
    "attempts": [],
    "createdAt": T0,
    "startedAt": T0 + 60_000,
    "jobDefinition": f"{ACCOUNT}:job-definition/fargate:3",
    "container": {
        "image": "public.ecr.aws/amazonlinux/amazonlinux:latest",
        "command": ["echo", "hello"],
        "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
        "environment": [{"name": "TOKEN", "value": "s3cr3t-token"}],
        "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/fargate/abc",
        "logStreamName": "fargate/default/abc",
        "networkInterfaces": [{"attachmentId": "eni-att-1", "privateIpv4Address": "10.0.0.5"}],
        "resourceRequirements": [
            {"value": "0.25", "type": "VCPU"},
            {"value": "512", "type": "MEMORY"},
        ],
        "networkConfiguration": {"assignPublicIp": "ENABLED"},
        "fargatePlatformConfiguration": {"platformVersion": "LATEST"},
        "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"},
        "ephemeralStorage": {"sizeInGiB": 21},
    },
    "platformCapabilities": ["FARGATE"],
}

MULTINODE_PARENT: dict[str, Any] = {
    "jobName": "mpi",
    "jobId": "c3d1",
    "jobQueue": f"{ACCOUNT}:job-queue/mnp",
    "status": "RUNNING",
    "attempts": [],
    "createdAt": T0,
    "startedAt": T0 + 1_000,
    "jobDefinition": f"{ACCOUNT}:job-definition/mpi:1",
    "nodeProperties": {
        "numNodes": 4,
        "mainNode": 0,
        "nodeRangeProperties": [
            {
                "targetNodes": "0:",
                "container": {
                    "image": "mpi:latest",
                    "command": ["mpirun", "app"],
                    "environment": [{"name": "MPI_SECRET", "value": "s3cr3t-mpi"}],
                    "resourceRequirements": [{"value": "4", "type": "VCPU"}],
                    "instanceType": "c5.xlarge",
                },
                "instanceTypes": ["c5.xlarge"],
            }
        ],
    },
    "platformCapabilities": ["EC2"],
}

MULTINODE_NODE: dict[str, Any] = {
    "jobName": "mpi",
    "jobId": "c3d1#2",
    "jobQueue": f"{ACCOUNT}:job-queue/mnp",
    "status": "SUCCEEDED",
    "attempts": [{"container": {"exitCode": 0, "logStreamName": "mpi/default/n2"}}],
    "startedAt": T0 + 2_000,
    "stoppedAt": T0 + 9_000,
    "jobDefinition": f"{ACCOUNT}:job-definition/mpi:1",
    "nodeDetails": {"nodeIndex": 2, "isMainNode": False},
    "container": {
        "image": "mpi:latest",
        "exitCode": 0,
        "logStreamName": "mpi/default/n2",
        "instanceType": "c5.xlarge",
        "environment": [{"name": "MPI_SECRET", "value": "s3cr3t-mpi"}],
    },
}

EKS_JOB: dict[str, Any] = {
    "jobArn": f"{ACCOUNT}:job/e1",
    "jobName": "eks-job",
    "jobId": "e1",
    "jobQueue": f"{ACCOUNT}:job-queue/eks",
    "status": "FAILED",
    "statusReason": "Essential container in pod exited",
    "createdAt": T0,
    "startedAt": T0 + 5_000,
    "stoppedAt": T0 + 25_000,
    "jobDefinition": f"{ACCOUNT}:job-definition/eks:2",
    "eksProperties": {
        "podProperties": {
            "serviceAccountName": "batch-runner",
            "hostNetwork": True,
            "dnsPolicy": "ClusterFirstWithHostNet",
            "containers": [
                {
                    "name": "main",
                    "image": "public.ecr.aws/amazonlinux/amazonlinux:2",
                    "command": ["sh", "-c", "exit 3"],
                    "env": [{"name": "KEY", "value": "s3cr3t-eks"}],
                    "resources": {"limits": {"cpu": "1", "memory": "1024Mi"}},
                    "exitCode": 3,
                    "reason": "Error",
                },
                {"name": "logger", "image": "fluent-bit", "exitCode": 0},
            ],
            "podName": "aws-batch.c5a3f1bc-7f2d-3c1c-9a2b-0b6a1f3c7e20",
            "nodeName": "ip-192-168-1-10.ec2.internal",
            "metadata": {"labels": {"team": "ml"}},
        }
    },
    "eksAttempts": [
        {
            "containers": [
                {"name": "main", "containerID": "containerd://1a2b", "exitCode": 3},
                {"name": "logger", "exitCode": 0},
            ],
            "podName": "aws-batch.c5a3f1bc-7f2d-3c1c-9a2b-0b6a1f3c7e20",
            "podNamespace": "my-aws-batch-namespace",
            "nodeName": "ip-192-168-1-10.ec2.internal",
            "eksClusterArn": "arn:aws:eks:us-east-1:123456789012:cluster/batch",
            "startedAt": T0 + 5_000,
            "stoppedAt": T0 + 25_000,
            "statusReason": "Essential container in pod exited",
        }
    ],
    "platformCapabilities": ["EC2"],
}

ECS_JOB: dict[str, Any] = {
    "jobName": "ecs-multi",
    "jobId": "m1",
    "jobQueue": f"{ACCOUNT}:job-queue/ecs",
    "status": "FAILED",
    "createdAt": T0,
    "startedAt": T0 + 1_000,
    "stoppedAt": T0 + 61_000,
    "jobDefinition": f"{ACCOUNT}:job-definition/multi:1",
    "attempts": [
        {
            "startedAt": T0 + 1_000,
            "stoppedAt": T0 + 61_000,
            "statusReason": "Essential container in task exited",
            "taskProperties": [
                {
                    "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/t9",
                    "containers": [
                        {"name": "sidecar", "exitCode": 0, "logStreamName": "multi/sidecar/t9"},
                        {"name": "app", "exitCode": 2, "logStreamName": "multi/app/t9"},
                    ],
                }
            ],
        }
    ],
    "ecsProperties": {
        "taskProperties": [
            {
                "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/t9",
                "platformVersion": "1.4.0",
                "networkMode": "awsvpc",
                "containers": [
                    {
                        "name": "sidecar",
                        "image": "envoy",
                        "essential": False,
                        "exitCode": 0,
                        "logStreamName": "multi/sidecar/t9",
                        "environment": [{"name": "MESH", "value": "s3cr3t-mesh"}],
                    },
                    {
                        "name": "app",
                        "image": "my-app",
                        "essential": True,
                        "command": ["python", "main.py"],
                        "exitCode": 2,
                        "reason": "Application error",
                        "logStreamName": "multi/app/t9",
                        "environment": [{"name": "DB_PASSWORD", "value": "s3cr3t-db"}],
                        "logConfiguration": {
                            "logDriver": "awslogs",
                            "options": {"awslogs-group": "/my/app"},
                        },
                    },
                ],
            }
        ]
    },
    "platformCapabilities": ["FARGATE"],
    "consumableResourceProperties": {
        "consumableResourceList": [{"consumableResource": "licenses", "quantity": 2}]
    },
}

KINDS: list[tuple[str, dict[str, Any], JobKind]] = [
    ("container on EC2", CONTAINER_EC2, JobKind.CONTAINER),
    ("container on Fargate", CONTAINER_FARGATE, JobKind.CONTAINER),
    ("multi-node parent", MULTINODE_PARENT, JobKind.MULTINODE),
    ("multi-node node", MULTINODE_NODE, JobKind.MULTINODE),
    ("EKS", EKS_JOB, JobKind.EKS),
    ("ECS properties", ECS_JOB, JobKind.ECS),
]


@pytest.mark.parametrize(("name", "raw", "kind"), KINDS, ids=[k[0] for k in KINDS])
def test_each_kind_is_recognised_and_hides_its_secrets(
    name: str, raw: dict[str, Any], kind: JobKind
) -> None:
    before = copy.deepcopy(raw)
    job = JobDetail.model_validate(raw)
    assert job.kind is kind
    assert job.kind == kind.value  # a str enum
    assert raw == before  # parsing never changes what it was given
    assert job.raw == raw
    for text in (repr(job), str(job), repr(job.raw), job.model_dump_json()):
        assert SECRET not in text
        assert "p4r4m-value" not in text or text == job.model_dump_json()
    assert "aws-batch-async:" not in repr(job.tags)
    assert JobDetail.model_validate(job.raw) == job  # a detail parses again from its raw


def test_a_container_job_on_ec2() -> None:
    job = JobDetail.model_validate(CONTAINER_EC2)
    assert (job.kind, job.platform) == (JobKind.CONTAINER, "EC2")
    assert job.exit_code == 137
    assert job.reason is not None
    assert job.reason.startswith("OutOfMemoryError")
    assert job.log_stream_name == "example/default/t2"
    assert job.log_stream_names == ["example/default/t1", "example/default/t2"]
    assert [a.exit_code for a in job.attempts] == [1, 137]
    assert job.attempts[0].container is not None
    assert job.attempts[0].container.task_arn is not None
    container = job.container
    assert container is not None
    assert (container.requirement("VCPU"), container.requirement("MEMORY")) == ("1", "2048")
    assert container.requirement("GPU") is None
    assert container.log_configuration is not None
    assert container.log_configuration.log_driver == "awslogs"
    assert job.retry_strategy is not None
    assert job.retry_strategy.attempts == 2
    assert job.retry_strategy.evaluate_on_exit[0].action == "RETRY"
    assert job.timeout is not None
    assert job.timeout.attempt_duration_seconds == 3600
    assert job.propagate_tags is True
    assert (job.is_cancelled, job.is_terminated) == (False, False)
    assert job.tags == {"team": "ml"}
    assert job.container_exit_codes == {}
    assert not job.is_multinode_parent
    assert job.node_job_ids == []
    assert "environment" not in ContainerDetail.model_fields  # values are never modelled


def test_a_fargate_container_job() -> None:
    job = JobDetail.model_validate(CONTAINER_FARGATE)
    assert (job.kind, job.platform) == (JobKind.CONTAINER, "FARGATE")
    assert job.platform_capabilities == ["FARGATE"]
    assert job.exit_code is None  # running
    assert job.log_stream_name == "fargate/default/abc"
    assert job.container is not None
    assert job.container.network_interfaces[0].private_ipv4_address == "10.0.0.5"
    assert job.container.requirement("VCPU") == "0.25"


def test_a_multi_node_parent_and_its_node() -> None:
    parent = JobDetail.model_validate(MULTINODE_PARENT)
    assert parent.kind is JobKind.MULTINODE
    assert parent.is_multinode_parent
    assert parent.exit_code is None  # AWS reports none on the parent: its nodes have them
    assert parent.log_stream_names == []
    props = parent.node_properties
    assert isinstance(props, NodeProperties)
    assert (props.num_nodes, props.main_node) == (4, 0)
    node_range = props.node_range_properties[0]
    assert node_range.target_nodes == "0:"
    assert node_range.instance_types == ["c5.xlarge"]
    assert node_range.container is not None
    assert node_range.container.command == ["mpirun", "app"]
    assert parent.node_job_ids == ["c3d1#0", "c3d1#1", "c3d1#2", "c3d1#3"]

    node = JobDetail.model_validate(MULTINODE_NODE)
    assert node.kind is JobKind.MULTINODE
    assert not node.is_multinode_parent
    assert node.node_job_ids == []
    assert node.node_details is not None
    assert (node.node_details.node_index, node.node_details.is_main_node) == (2, False)
    assert node.exit_code == 0
    assert node.log_stream_name == "mpi/default/n2"
    assert node.container is not None
    assert node.container.instance_type == "c5.xlarge"
    assert node.platform is None  # AWS did not say

    reported = JobDetail.model_validate({**MULTINODE_PARENT, "container": {"exitCode": 1}})
    assert reported.exit_code == 1  # what AWS reports on the parent, when it does


def test_an_eks_job() -> None:
    job = JobDetail.model_validate(EKS_JOB)
    assert job.kind is JobKind.EKS
    assert job.exit_code == 3  # the pod's main (first) container
    assert job.reason == "Error"
    assert job.log_stream_name is None
    assert job.log_stream_names == []
    assert job.container_exit_codes == {"main": 3, "logger": 0}
    assert job.eks_properties is not None
    pod = job.eks_properties.pod_properties
    assert pod is not None
    assert pod.pod_name is not None
    assert pod.pod_name.startswith("aws-batch.")
    assert pod.node_name == "ip-192-168-1-10.ec2.internal"
    main = pod.containers[0]
    assert main.resources is not None
    assert main.resources.limits == {"cpu": "1", "memory": "1024Mi"}
    assert pod.metadata is not None
    assert pod.metadata.labels == {"team": "ml"}
    attempt = job.eks_attempts[0]
    assert isinstance(attempt, EksAttemptDetail)
    assert attempt.pod_namespace == "my-aws-batch-namespace"
    assert attempt.containers[0].container_id == "containerd://1a2b"
    assert attempt.started_at == datetime.fromtimestamp((T0 + 5_000) / 1000, tz=timezone.utc)

    running = copy.deepcopy(EKS_JOB)
    del running["eksProperties"]["podProperties"]["containers"][0]["exitCode"]
    running.pop("statusReason")
    job = JobDetail.model_validate(running)
    assert job.exit_code == 3  # from the last attempt's main container
    assert job.status_reason == "Essential container in pod exited"  # the last attempt's
    assert job.container_exit_codes == {"main": 3, "logger": 0}


def test_an_ecs_properties_job() -> None:
    job = JobDetail.model_validate(ECS_JOB)
    assert (job.kind, job.platform) == (JobKind.ECS, "FARGATE")
    assert job.exit_code == 2  # the essential container's, not the first's
    assert job.reason == "Application error"
    assert job.log_stream_name == "multi/app/t9"
    assert job.log_stream_names == ["multi/sidecar/t9", "multi/app/t9"]
    assert job.container_exit_codes == {"sidecar": 0, "app": 2}
    assert [c.name for c in job.ecs_containers] == ["sidecar", "app"]
    assert all(isinstance(c, EcsContainerDetail) for c in job.ecs_containers)
    assert job.ecs_properties is not None
    task = job.ecs_properties.task_properties[0]
    assert (task.platform_version, task.network_mode) == ("1.4.0", "awsvpc")
    app = task.containers[1]
    assert app.log_configuration is not None
    assert app.log_configuration.options == {"awslogs-group": "/my/app"}
    assert job.attempts[0].exit_code == 2  # the attempt's essential container: by position
    assert job.consumable_resource_properties is not None
    resource = job.consumable_resource_properties.consumable_resource_list[0]
    assert (resource.consumable_resource, resource.quantity) == ("licenses", 2)

    retried = copy.deepcopy(ECS_JOB)  # a second attempt starts: no exit codes in the task yet
    for container in retried["ecsProperties"]["taskProperties"][0]["containers"]:
        container.pop("exitCode")
        container.pop("reason", None)
    second = JobDetail.model_validate(retried)
    assert second.exit_code == 2  # the last attempt's essential container (by name)
    assert second.container_exit_codes == {"sidecar": None, "app": None}

    unmarked = copy.deepcopy(ECS_JOB)
    for container in unmarked["ecsProperties"]["taskProperties"][0]["containers"]:
        container.pop("essential")
    assert JobDetail.model_validate(unmarked).exit_code == 0  # none essential: the first


def test_lifted_fields_come_from_the_last_attempt_when_the_job_has_none() -> None:
    job = JobDetail.model_validate({**CONTAINER_EC2, "container": {"image": "busybox"}})
    assert job.exit_code == 137
    assert job.log_stream_name == "example/default/t2"
    given = JobDetail(job_id="j", job_name="n", status=JobStatus.FAILED, exit_code=4)
    assert given.exit_code == 4  # built by hand: what is given stands


# ---------------------------------------------------------------------------------------------
# raw, reprs, robustness


def test_raw_is_the_answer_read_only_and_masks_environment_values() -> None:
    job = JobDetail.model_validate(CONTAINER_EC2)
    raw = job.raw
    assert isinstance(raw, FrozenDict)
    assert raw == CONTAINER_EC2
    assert raw["tags"] == {"team": "ml", "aws-batch-async:token": "t-1"}  # exactly as returned
    env = raw["container"]["environment"]
    assert isinstance(env, FrozenList)
    assert env[0]["value"] == "s3cr3t-db"  # reading it gives AWS's answer
    assert env == [{"name": "DB_PASSWORD", "value": "s3cr3t-db"}]
    with pytest.raises(TypeError):
        raw["status"] = "SUCCEEDED"  # type: ignore[index]
    with pytest.raises(TypeError):
        raw["container"]["exitCode"] = 0
    with pytest.raises(TypeError):
        env[0] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        del raw["jobId"]  # type: ignore[attr-defined]
    assert not hasattr(env, "append")
    assert not hasattr(raw, "update")
    for text in (repr(raw), str(raw), repr(raw["container"]), repr(env), repr(env[0])):
        assert "s3cr3t" not in text
    assert "DB_PASSWORD" in repr(raw)
    assert "'value': '***'" in repr(env[0])
    assert "raw" not in job.model_dump()  # nor in --json output
    assert "raw" not in repr(job)


def test_eks_env_values_are_masked_and_reprs_of_every_part_hide_them() -> None:
    job = JobDetail.model_validate(EKS_JOB)
    pod_env = job.raw["eksProperties"]["podProperties"]["containers"][0]["env"]
    assert "s3cr3t" not in repr(pod_env)
    assert "KEY" in repr(pod_env)
    assert job.eks_properties is not None
    assert job.eks_properties.pod_properties is not None
    parts: list[Any] = [
        job,
        job.eks_properties,
        job.eks_properties.pod_properties.containers[0],
        JobDetail.model_validate(ECS_JOB).ecs_properties,
        JobDetail.model_validate(MULTINODE_PARENT).node_properties,
        JobDetail.model_validate(CONTAINER_FARGATE).container,
    ]
    for part in parts:
        assert "s3cr3t" not in repr(part)
        assert "s3cr3t" not in part.model_dump_json()


def test_parameters_stay_masked_and_details_copy_and_pickle() -> None:
    job = JobDetail.model_validate(CONTAINER_EC2)
    assert "p4r4m-value" not in repr(job)
    assert job.parameters == {"token": "p4r4m-value"}
    assert copy.deepcopy(job) == job
    again = pickle.loads(pickle.dumps(job))
    assert again == job
    assert "s3cr3t" not in repr(again.raw)
    assert job == JobDetail.model_validate(copy.deepcopy(CONTAINER_EC2))
    json.dumps(job.model_dump(mode="json"))


def test_minimal_answers_and_what_aws_may_leave_out() -> None:
    job = JobDetail.model_validate({"jobId": "1", "jobName": "n", "status": "SUBMITTED"})
    assert (job.kind, job.platform, job.exit_code) == (JobKind.CONTAINER, None, None)
    assert job.raw == {"jobId": "1", "jobName": "n", "status": "SUBMITTED"}
    assert job.log_stream_names == []
    summary = JobSummary.model_validate({"jobId": "1", "jobName": "n"})
    assert summary.status is None
    assert not summary.is_terminal
    summary = JobSummary.model_validate(
        {
            "jobId": "c3d1#1",
            "jobName": "mpi",
            "status": "FAILED",
            "container": {"exitCode": 1, "reason": "Error"},
            "nodeProperties": {"isMainNode": False, "numNodes": 4, "nodeIndex": 1},
            "capacityUsage": [{"capacityUnit": "vCPU", "quantity": 4.0}],
        }
    )
    assert (summary.exit_code, summary.reason, summary.is_terminal) == (1, "Error", True)
    assert summary.node_properties is not None
    assert summary.node_properties.node_index == 1
    assert summary.capacity_usage[0].quantity == 4.0


def test_dependencies_as_aws_allows_them() -> None:
    job = JobDetail.model_validate(
        {
            "jobId": "c",
            "jobName": "n",
            "status": "PENDING",
            "dependsOn": [
                {"type": "SEQUENTIAL"},
                {"jobId": "", "type": "SEQUENTIAL"},
                {"jobId": "", "type": "N_TO_N"},
                {"type": "N_TO_N"},
                {},
                {"jobId": "a"},
                {"jobId": "b", "type": "N_TO_N"},
            ],
        }
    )
    assert [(d.job_id, d.type) for d in job.depends_on] == [
        (None, "SEQUENTIAL"),
        (None, "SEQUENTIAL"),
        ("a", None),
        ("b", "N_TO_N"),
    ]


def test_times_beyond_what_a_datetime_holds_are_clamped() -> None:
    job = JobDetail.model_validate(
        {
            "jobId": "1",
            "jobName": "n",
            "status": "RUNNING",
            "startedAt": 2**63 - 1,
            "createdAt": -(2**63),
            "stoppedAt": 0,
        }
    )
    assert job.started_at == datetime.max.replace(tzinfo=timezone.utc)
    assert job.created_at == datetime.min.replace(tzinfo=timezone.utc)
    assert job.stopped_at == datetime(1970, 1, 1, tzinfo=timezone.utc)
