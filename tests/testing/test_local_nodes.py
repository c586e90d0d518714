"""Multi-node parallel jobs end to end on LocalBatch ("run" mode).

LocalBatch's proxy runs each node of a multi-node job as a container job of moto's (a local
process with the node's environment) and shows the parent ``P`` and its nodes ``P#i`` as AWS
does. Each test registers its definition and submits through the library.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from aws_batch_async import (
    BatchService,
    JobDetail,
    JobKind,
    JobRequest,
    JobStatus,
    NodeOverride,
    PollPolicy,
)
from aws_batch_async.testing import LocalBatch

from .test_local_batch import raw_client

FAST_POLL = PollPolicy(initial_interval=0.1, max_interval=0.5)
RESOURCES = [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}]
#: Each node says who it is, and exits with its index.
WHO = (
    "echo node $AWS_BATCH_JOB_NODE_INDEX of $AWS_BATCH_JOB_NUM_NODES, "
    "main $AWS_BATCH_JOB_MAIN_NODE_INDEX at ${AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS:-me}, "
    "as $AWS_BATCH_JOB_ID; exit $AWS_BATCH_JOB_NODE_INDEX"
)


@pytest.fixture(scope="module")
def local() -> Iterator[LocalBatch]:
    with LocalBatch(mode="run") as batch:
        yield batch


@pytest.fixture
async def batch(local: LocalBatch) -> AsyncIterator[BatchService]:
    async with BatchService(local.config.model_copy(update={"poll": FAST_POLL})) as service:
        yield service


def definition(name: str, *ranges: tuple[str, list[str]], nodes: int, main: int) -> dict[str, Any]:
    """A multinode definition: each range's ``targetNodes`` and command."""
    return {
        "jobDefinitionName": name,
        "type": "multinode",
        "nodeProperties": {
            "numNodes": nodes,
            "mainNode": main,
            "nodeRangeProperties": [
                {
                    "targetNodes": target,
                    "container": {
                        "image": "any",
                        "command": command,
                        "resourceRequirements": RESOURCES,
                    },
                }
                for target, command in ranges
            ],
        },
    }


async def lines(batch: BatchService, job_id: str, node: int | None = None) -> list[str]:
    return [e.message async for e in batch.get_logs(job_id, node=node)]


async def finished(batch: BatchService, job_ids: list[str]) -> list[JobDetail]:
    return list(
        await asyncio.gather(
            *(batch.wait_for(j, timeout=20, raise_on_failure=False) for j in job_ids)
        )
    )


async def test_every_node_runs_with_its_environment(batch: BatchService, local: LocalBatch) -> None:
    registered = await batch.register_job_definition(
        definition("nodes-who", ("0:", ["sh", "-c", WHO]), nodes=2, main=0)
    )
    info = await batch.latest_job_definition("nodes-who")
    assert info is not None
    assert (info.kind, info.arn) == (JobKind.MULTINODE, registered.arn)
    assert info.resources.memory_mib == 128  # read from the node ranges
    async with raw_client(local) as client:  # AWS's shape: nodeProperties, no hidden ranges
        answer = await client.describe_job_definitions(jobDefinitionName="nodes-who")
        everything = await client.describe_job_definitions()
    (shown,) = answer["jobDefinitions"]
    assert shown["type"] == "multinode"
    assert shown["nodeProperties"]["nodeRangeProperties"][0]["targetNodes"] == "0:"
    assert "containerProperties" not in shown
    names = {d["jobDefinitionName"] for d in everything["jobDefinitions"]}
    assert not [n for n in names if n.startswith("local-batch-node-range")]

    submitted = await batch.submit_job(
        JobRequest(job_definition="nodes-who", job_name="who", num_nodes=3)
    )
    parent_id = submitted.job_id
    parent = await batch.wait_for(parent_id, timeout=20)
    assert parent.status is JobStatus.SUCCEEDED  # the main node's exit code (0) decides
    assert parent.kind is JobKind.MULTINODE
    assert parent.is_multinode_parent
    assert parent.job_definition == registered.arn
    assert parent.container is None
    assert parent.node_properties is not None
    assert (parent.node_properties.num_nodes, parent.node_properties.main_node) == (3, 0)
    assert parent.node_job_ids == [f"{parent_id}#{i}" for i in range(3)]

    nodes = await finished(batch, parent.node_job_ids)
    assert [(n.job_id, n.node_details and n.node_details.node_index) for n in nodes] == [
        (f"{parent_id}#{i}", i) for i in range(3)
    ]
    assert [n.node_details and n.node_details.is_main_node for n in nodes] == [True, False, False]
    assert [(n.status, n.exit_code) for n in nodes] == [
        (JobStatus.SUCCEEDED, 0),
        (JobStatus.FAILED, 1),
        (JobStatus.FAILED, 2),
    ]
    assert all(n.kind is JobKind.MULTINODE and not n.is_multinode_parent for n in nodes)
    assert all(n.container and n.container.log_stream_name for n in nodes)

    assert await lines(batch, parent_id) == [f"node 0 of 3, main 0 at me, as {parent_id}#0"]
    assert await lines(batch, parent_id, node=2) == [
        f"node 2 of 3, main 0 at 127.0.0.1, as {parent_id}#2"
    ]
    assert await lines(batch, f"{parent_id}#1") == [
        f"node 1 of 3, main 0 at 127.0.0.1, as {parent_id}#1"
    ]

    failed = [
        (s.job_id, s.node_properties)
        async for s in batch.list_jobs(multi_node_job_id=parent_id, job_status="FAILED")
    ]
    assert [(j, p and (p.node_index, p.is_main_node, p.num_nodes)) for j, p in failed] == [
        (f"{parent_id}#1", (1, False, 3)),
        (f"{parent_id}#2", (2, False, 3)),
    ]
    by_queue = [s async for s in batch.list_jobs(job_name="who")]  # the parent, not its nodes
    assert [(s.job_id, s.status) for s in by_queue] == [(parent_id, JobStatus.SUCCEEDED)]
    assert by_queue[0].node_properties is not None
    assert by_queue[0].node_properties.num_nodes == 3


async def test_ranges_overrides_and_the_main_node_decide(batch: BatchService) -> None:
    await batch.register_job_definition(
        definition(
            "nodes-ranges",
            ("0", ["sleep", "30"]),  # would run on; stopped once the main node exits
            ("1:", ["sh", "-c", "echo range $AWS_BATCH_JOB_NODE_INDEX"]),
            nodes=3,
            main=1,
        )
    )
    override = ["sh", "-c", "echo override $AWS_BATCH_JOB_NODE_INDEX; exit 3"]
    submitted = await batch.submit_job(
        JobRequest(
            job_definition="nodes-ranges",
            node_overrides=[NodeOverride(target_nodes="1:", command=override)],
        )
    )
    parent = await batch.wait_for(submitted.job_id, timeout=20, raise_on_failure=False)
    assert parent.status is JobStatus.FAILED  # the main node (1) exited with 3
    assert parent.node_properties is not None
    assert parent.node_properties.main_node == 1
    assert await lines(batch, parent.job_id) == ["override 1"]  # the main node's lines
    assert await lines(batch, parent.job_id, node=2) == ["override 2"]

    sleeper, main, other = await finished(batch, parent.node_job_ids)
    assert (main.exit_code, other.exit_code) == (3, 3)
    assert sleeper.status is JobStatus.FAILED  # stopped, as AWS stops the other nodes
    assert sleeper.status_reason is not None
    assert "main node exited" in sleeper.status_reason
    assert sleeper.container is not None
    assert sleeper.container.command == ["sleep", "30"]  # the override reached nodes 1: only


async def test_stopping_the_parent_stops_every_node(batch: BatchService) -> None:
    await batch.register_job_definition(
        definition("nodes-sleep", ("0:", ["sleep", "30"]), nodes=2, main=0)
    )
    submitted = await batch.submit_job(JobRequest(job_definition="nodes-sleep"))
    async for job in batch.watch(submitted.job_id):
        if job.status is JobStatus.RUNNING:
            break
    await batch.stop_job(submitted.job_id, "enough")
    parent = await batch.wait_for(submitted.job_id, timeout=20, raise_on_failure=False)
    assert (parent.status, parent.status_reason) == (JobStatus.FAILED, "enough")
    nodes = await finished(batch, parent.node_job_ids)
    assert [(n.status, n.status_reason) for n in nodes] == [(JobStatus.FAILED, "enough")] * 2


async def test_instant_mode_fails_the_parent_and_every_node() -> None:
    async with LocalBatch(mode="instant", fail=True) as local:
        config = local.config.model_copy(update={"poll": FAST_POLL})
        async with BatchService(config) as batch:
            await batch.register_job_definition(
                definition("nodes-instant", ("0:", ["true"]), nodes=2, main=1)
            )
            submitted = await batch.submit_job(JobRequest(job_definition="nodes-instant"))
            parent = await batch.wait_for(submitted.job_id, timeout=20, raise_on_failure=False)
            nodes = await finished(batch, parent.node_job_ids)
    assert parent.status is JobStatus.FAILED
    assert [(n.status, n.exit_code) for n in nodes] == [(JobStatus.FAILED, 1)] * 2
    assert [n.node_details and n.node_details.is_main_node for n in nodes] == [False, True]
