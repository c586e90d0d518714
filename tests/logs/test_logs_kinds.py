"""``get_logs`` for every kind of job: ECS-properties containers, multi-node nodes, EKS pods.

Jobs are submitted to moto through the AWS-faithful proxy, whose DescribeJobs hook makes them
look like the kind under test (moto runs container jobs only); their streams are written
straight into moto's CloudWatch Logs. moto itself has no multi-node node jobs (``<id>#<index>``),
so those tests add the nodes to the service's DescribeJobs answers (LocalBatch emulates real
nodes: ``tests/testing/test_local_nodes.py``).
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from typing import Any

import pytest

from aws_batch_async import BatchError, BatchService, JobRequest
from aws_batch_async.testing import BatchProxy

from .test_logs import collect, write_stream

Describe = Callable[[str, dict[str, Any]], None]


@pytest.fixture
def describe_as(proxy: BatchProxy, monkeypatch: pytest.MonkeyPatch) -> Describe:
    """Make DescribeJobs report ``fields`` for a job (a ``None`` value removes the member)."""
    overrides: dict[str, dict[str, Any]] = {}

    def hook(job: dict[str, Any]) -> None:
        for key, value in overrides.get(job["jobId"], {}).items():
            if value is None:
                job.pop(key, None)
            else:
                job[key] = copy.deepcopy(value)

    monkeypatch.setattr(proxy, "describe_hook", hook)

    def describe(job_id: str, fields: dict[str, Any]) -> None:
        overrides[job_id] = fields

    return describe


class NodeJobs:
    """Node jobs ``<id>#<index>`` added to the service's DescribeJobs answers (moto has none)."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.calls: list[list[str]] = []


@pytest.fixture
def nodes(batch: BatchService, monkeypatch: pytest.MonkeyPatch) -> NodeJobs:
    table = NodeJobs()
    original = batch._describe_raw

    async def describe(job_ids: Any) -> list[dict[str, Any]]:
        ids = list(job_ids)
        table.calls.append(ids)
        real = [i for i in ids if i not in table.jobs]
        found = await original(real) if real else []
        return [*found, *(copy.deepcopy(table.jobs[i]) for i in ids if i in table.jobs)]

    monkeypatch.setattr(batch, "_describe_raw", describe)
    return table


def ecs_task(*containers: dict[str, Any]) -> dict[str, Any]:
    return {
        "taskProperties": [{"taskArn": "arn:aws:ecs:::task/t1", "containers": list(containers)}]
    }


def node_job(parent: str, index: int, stream: str | None, *, main: bool) -> dict[str, Any]:
    container: dict[str, Any] = {"image": "mpi", "exitCode": 0}
    if stream is not None:
        container["logStreamName"] = stream
    return {
        "jobId": f"{parent}#{index}",
        "jobName": "mpi",
        "jobQueue": "q",
        "jobDefinition": "d",
        "status": "SUCCEEDED",
        "startedAt": 1,
        "stoppedAt": 2,
        "nodeDetails": {"nodeIndex": index, "isMainNode": main},
        "container": container,
    }


# ---------------------------------------------------------------------------------------------
# ECS properties: several named containers


async def test_every_container_of_an_ecs_task_with_its_name(
    batch: BatchService, logs_client: Any, describe_as: Describe
) -> None:
    job = await batch.submit_job(JobRequest(command=["true"]))
    await write_stream(logs_client, "/aws/batch/job", "multi/app/t0", ["app try 1"])
    await write_stream(logs_client, "/aws/batch/job", "multi/app/t1", ["app 1", "app 2"])
    await write_stream(logs_client, "/my/sidecar", "multi/sidecar/t1", ["side 1"])
    sidecar_logs = {"logDriver": "awslogs", "options": {"awslogs-group": "/my/sidecar"}}
    describe_as(
        job.job_id,
        {
            "container": None,
            "attempts": [
                {
                    "taskProperties": [
                        {
                            "containers": [
                                {"name": "app", "exitCode": 1, "logStreamName": "multi/app/t0"}
                            ]
                        }
                    ]
                }
            ],
            "ecsProperties": ecs_task(
                {
                    "name": "app",
                    "essential": True,
                    "logStreamName": "multi/app/t1",
                    "environment": [{"name": "PASSWORD", "value": "s3cr3t"}],
                },
                {
                    "name": "sidecar",
                    "essential": False,
                    "logStreamName": "multi/sidecar/t1",
                    "logConfiguration": sidecar_logs,
                },
            ),
        },
    )
    events = await collect(batch.get_logs(job.job_id))
    assert [(e.attempt, e.container, e.message) for e in events] == [
        (0, "app", "app try 1"),
        (1, "app", "app 1"),
        (1, "app", "app 2"),
        (1, "sidecar", "side 1"),
    ]
    assert events[-1].log_stream_name == "multi/sidecar/t1"

    sidecar = await collect(batch.get_logs(job.job_id, container="sidecar"))
    assert [(e.container, e.message) for e in sidecar] == [("sidecar", "side 1")]
    latest_app = await collect(batch.get_logs(job.job_id, container="app", attempt=1))
    assert [e.message for e in latest_app] == ["app 1", "app 2"]
    with pytest.raises(BatchError, match=r"no container named 'db'.*'app', 'sidecar'"):
        await collect(batch.get_logs(job.job_id, container="db"))


async def test_an_ecs_container_that_logs_elsewhere(
    batch: BatchService, logs_client: Any, describe_as: Describe
) -> None:
    job = await batch.submit_job(JobRequest(command=["true"]))
    await write_stream(logs_client, "/aws/batch/job", "m/app/t", ["from app"])
    firelens = {"logDriver": "awsfirelens", "options": {}}
    describe_as(
        job.job_id,
        {
            "container": None,
            "ecsProperties": ecs_task(
                {"name": "app", "logStreamName": "m/app/t"},
                {"name": "router", "logConfiguration": firelens},
            ),
        },
    )
    events = await collect(batch.get_logs(job.job_id))  # the readable container only
    assert [(e.container, e.message) for e in events] == [("app", "from app")]
    with pytest.raises(BatchError, match=r"'awsfirelens' log driver \(container 'router'\)"):
        await collect(batch.get_logs(job.job_id, container="router"))


async def test_container_is_for_ecs_jobs_and_is_checked_at_the_call(
    batch: BatchService,
) -> None:
    job = await batch.submit_job(JobRequest(command=["true"]))
    with pytest.raises(BatchError, match="CONTAINER job with one container"):
        await collect(batch.get_logs(job.job_id, container="app"))
    with pytest.raises(ValueError, match="container"):
        batch.get_logs(job.job_id, container=" ")
    with pytest.raises(TypeError, match="container"):
        batch.get_logs(job.job_id, container=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="node"):
        batch.get_logs(job.job_id, node=-1)
    with pytest.raises(TypeError, match="node"):
        batch.get_logs(job.job_id, node="0")  # type: ignore[arg-type]


async def test_following_an_ecs_job_ends_once_it_is_finished(
    batch: BatchService, logs_client: Any, describe_as: Describe
) -> None:
    job = await batch.submit_job(JobRequest(command=["true"]))
    await write_stream(logs_client, "/aws/batch/job", "f/app/t", ["done"])
    describe_as(
        job.job_id,
        {
            "container": None,
            "status": "SUCCEEDED",
            "stoppedAt": int(time.time() * 1000) - 60_000,
            "ecsProperties": ecs_task({"name": "app", "logStreamName": "f/app/t", "exitCode": 0}),
        },
    )
    events = await collect(batch.get_logs(job.job_id, follow=True))
    assert [(e.container, e.message) for e in events] == [("app", "done")]


# ---------------------------------------------------------------------------------------------
# Multi-node parallel jobs: the node jobs hold the streams


async def test_a_multi_node_job_reads_its_main_node_by_default(
    batch: BatchService, logs_client: Any, describe_as: Describe, nodes: NodeJobs
) -> None:
    job = await batch.submit_job(JobRequest(command=["true"]))
    parent = job.job_id
    describe_as(
        parent,
        {
            "container": None,
            "nodeProperties": {"numNodes": 3, "mainNode": 1, "nodeRangeProperties": []},
        },
    )
    for index in range(3):
        stream = f"mpi/default/node{index}"
        await write_stream(logs_client, "/aws/batch/job", stream, [f"node {index} says hi"])
        nodes.jobs[f"{parent}#{index}"] = node_job(parent, index, stream, main=index == 1)

    main = await collect(batch.get_logs(parent))
    assert [(e.message, e.log_stream_name, e.container) for e in main] == [
        ("node 1 says hi", "mpi/default/node1", None)
    ]
    assert nodes.calls == [[parent], [f"{parent}#1"]]  # the parent, then its main node

    nodes.calls.clear()
    second = await collect(batch.get_logs(parent, node=2))
    assert [e.message for e in second] == ["node 2 says hi"]
    itself = await collect(batch.get_logs(f"{parent}#0"))  # a node job read directly
    assert [e.message for e in itself] == ["node 0 says hi"]

    with pytest.raises(
        BatchError, match=rf"3 nodes \({parent}#0 \.\. {parent}#2\); there is no node 3"
    ):
        await collect(batch.get_logs(parent, node=3))
    with pytest.raises(BatchError, match=rf"node of the multi-node job {parent}"):
        await collect(batch.get_logs(f"{parent}#0", node=1))


async def test_following_a_multi_node_job_describes_parent_and_node_together(
    batch: BatchService, logs_client: Any, describe_as: Describe, nodes: NodeJobs
) -> None:
    job = await batch.submit_job(JobRequest(command=["true"]))
    parent = job.job_id
    finished = int(time.time() * 1000) - 60_000
    describe_as(
        parent,
        {
            "container": None,
            "status": "SUCCEEDED",
            "stoppedAt": finished,
            "nodeProperties": {"numNodes": 2, "mainNode": 0, "nodeRangeProperties": []},
        },
    )
    await write_stream(logs_client, "/aws/batch/job", "mpi/default/main", ["main node"])
    nodes.jobs[f"{parent}#0"] = node_job(parent, 0, "mpi/default/main", main=True)
    events = await collect(batch.get_logs(parent, follow=True))
    assert [e.message for e in events] == ["main node"]
    assert nodes.calls[:2] == [[parent], [f"{parent}#0"]]
    assert all(call == [parent, f"{parent}#0"] for call in nodes.calls[2:])  # one call a look
    assert len(nodes.calls) >= 3  # read on until two quiet reads


async def test_a_multi_node_job_whose_nodes_do_not_exist_yet(
    batch: BatchService, describe_as: Describe, nodes: NodeJobs
) -> None:
    job = await batch.submit_job(JobRequest(command=["true"]))
    describe_as(
        job.job_id,
        {
            "container": None,
            "status": "RUNNABLE",
            "nodeProperties": {"numNodes": 2, "mainNode": 0, "nodeRangeProperties": []},
        },
    )
    assert await collect(batch.get_logs(job.job_id)) == []


async def test_node_is_for_multi_node_parents(batch: BatchService) -> None:
    job = await batch.submit_job(JobRequest(command=["true"]))
    with pytest.raises(BatchError, match="not a multi-node parallel job"):
        await collect(batch.get_logs(job.job_id, node=0))


# ---------------------------------------------------------------------------------------------
# EKS: the logs stay in the cluster


async def test_an_eks_job_says_where_its_logs_are(
    batch: BatchService, describe_as: Describe
) -> None:
    job = await batch.submit_job(JobRequest(command=["true"]))
    pod = "aws-batch.0c5f2a6e-51b3-3bd7-9a5e-4a9cbc6e2d11"
    describe_as(
        job.job_id,
        {
            "container": None,
            "eksProperties": {
                "podProperties": {
                    "podName": pod,
                    "nodeName": "ip-10-0-0-1.ec2.internal",
                    "containers": [{"name": "main", "exitCode": 0}],
                }
            },
            "eksAttempts": [
                {
                    "podName": pod,
                    "podNamespace": "batch-jobs",
                    "eksClusterArn": "arn:aws:eks:us-east-1:123456789012:cluster/c",
                    "containers": [{"name": "main", "exitCode": 0}],
                }
            ],
        },
    )
    for follow in (False, True):
        with pytest.raises(BatchError) as raised:
            await collect(batch.get_logs(job.job_id, follow=follow))
        message = str(raised.value)
        assert "EKS job" in message
        assert f"pod {pod} in namespace batch-jobs" in message
        assert f"kubectl logs -n batch-jobs {pod}" in message
        assert "cluster/c" in message
    with pytest.raises(BatchError, match=rf"kubectl logs -n batch-jobs {pod} -c main"):
        await collect(batch.get_logs(job.job_id, container="main"))


async def test_an_eks_job_before_its_pod_exists(batch: BatchService, describe_as: Describe) -> None:
    job = await batch.submit_job(JobRequest(command=["true"]))
    describe_as(
        job.job_id,
        {
            "container": None,
            "status": "RUNNABLE",
            "eksProperties": {
                "podProperties": {
                    "containers": [{"name": "main"}],
                    "metadata": {"namespace": "ml"},
                }
            },
        },
    )
    with pytest.raises(BatchError, match=r"EKS job.*pod has not been created yet"):
        await collect(batch.get_logs(job.job_id))
    describe_as(
        job.job_id,
        {
            "container": None,
            "eksProperties": {"podProperties": {"podName": "p", "metadata": {"namespace": "ml"}}},
        },
    )
    with pytest.raises(BatchError, match="pod p in namespace ml"):
        await collect(batch.get_logs(job.job_id))


async def test_the_logs_command_picks_a_container_and_names_each_line(
    batch: BatchService, logs_client: Any, describe_as: Describe, config: Any, tmp_path: Any
) -> None:
    from ..cli.test_cli import cli_env, run_cli

    job = await batch.submit_job(JobRequest(command=["true"]))
    await write_stream(logs_client, "/aws/batch/job", "cli/app/s", ["from app"])
    await write_stream(logs_client, "/aws/batch/job", "cli/side/s", ["from side"])
    describe_as(
        job.job_id,
        {
            "container": None,
            "ecsProperties": ecs_task(
                {"name": "app", "essential": True, "logStreamName": "cli/app/s"},
                {"name": "side", "essential": False, "logStreamName": "cli/side/s"},
            ),
        },
    )
    flags = ["--endpoint-url", config.endpoint_url, "--region", "us-east-1"]
    env = cli_env(tmp_path)
    every, one = await asyncio.gather(
        asyncio.to_thread(run_cli, "logs", job.job_id, *flags, env=env),
        asyncio.to_thread(run_cli, "logs", job.job_id, "--container", "side", *flags, env=env),
    )
    assert every.returncode == 0, every.stderr
    assert every.stdout.splitlines() == ["[app] from app", "[side] from side"]
    assert one.returncode == 0, one.stderr
    assert one.stdout.splitlines() == ["from side"]
