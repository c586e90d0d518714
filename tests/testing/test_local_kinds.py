"""EKS and ECS-properties jobs end to end on LocalBatch ("run" mode).

LocalBatch's proxy runs the pod's main container of an EKS job, and the essential container
of an ECS-properties task, as moto's container job (a local process), and shows the jobs as AWS
does. Each test registers its definitions through the library, submits through the library,
and checks the exact SubmitJob body (seen by a recording proxy in front of LocalBatch), the
parsed detail, the exit codes and the logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from aws_batch_async import (
    BatchConfig,
    BatchError,
    BatchService,
    EksContainerOverride,
    EksPodOverride,
    JobDetail,
    JobKind,
    JobRequest,
    JobStatus,
    PollPolicy,
)
from aws_batch_async.testing import BatchProxy, LocalBatch

from .test_local_batch import raw_client

FAST_POLL = PollPolicy(initial_interval=0.1, max_interval=0.5)
LOG_GROUP = "/local/kinds"


@pytest.fixture(scope="module")
def local() -> Iterator[LocalBatch]:
    with LocalBatch(mode="run") as batch:
        yield batch


@pytest.fixture(scope="module")
def recorder(local: LocalBatch) -> Iterator[BatchProxy]:
    """A plain recording proxy in front of LocalBatch: what the library really sent."""
    with BatchProxy(local.endpoint_url, aws_faithful=False) as proxy:
        yield proxy


@pytest.fixture
async def batch(local: LocalBatch, recorder: BatchProxy) -> AsyncIterator[BatchService]:
    config: BatchConfig = local.config.model_copy(
        update={"endpoint_url": recorder.url, "poll": FAST_POLL}
    )
    async with BatchService(config) as service:
        yield service


def sent(recorder: BatchProxy, job_name: str) -> dict[str, Any]:
    """The SubmitJob body of ``job_name`` (environment values masked by the log)."""
    bodies = [
        c.body
        for c in recorder.calls
        if c.operation == "SubmitJob" and c.body.get("jobName") == job_name
    ]
    assert len(bodies) == 1, bodies
    body = dict(bodies[0])
    assert body.pop("jobQueue")
    assert body.pop("tags")  # the library's submit token
    return body


async def run(batch: BatchService, name: str, request: JobRequest) -> JobDetail:
    submitted = await batch.submit_job(request.model_copy(update={"job_name": name}))
    return await batch.wait_for(submitted.job_id, timeout=30, raise_on_failure=False)


# ---------------------------------------------------------------------------------------------
# EKS: the pod's main container runs


async def test_eks_main_container_runs_with_the_override(
    batch: BatchService, recorder: BatchProxy
) -> None:
    registered = await batch.register_job_definition(
        {
            "jobDefinitionName": "kinds-eks",
            "type": "container",
            "eksProperties": {
                "podProperties": {
                    "containers": [
                        {
                            "name": "main",
                            "image": "busybox",
                            "command": ["sh", "-c"],
                            "args": ["exit 9"],
                            "env": [{"name": "A", "value": "a"}],
                            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                        },
                        {"name": "side", "image": "envoy"},
                    ],
                    "metadata": {"labels": {"team": "ml"}},
                }
            },
        }
    )
    definition = await batch.latest_job_definition("kinds-eks")
    assert definition is not None
    assert definition.kind is JobKind.EKS
    assert definition.arn == registered.arn

    check_env = '[ "$A-$B" = "a-b" ] && exit 0; exit 7'
    ok, command, default = await asyncio.gather(
        run(
            batch,
            "eks-env",
            JobRequest(
                job_definition="kinds-eks",
                env_vars={"B": "b"},
                eks=EksPodOverride(
                    containers=[EksContainerOverride(name="main", image="img:2", args=[check_env])],
                    namespace="jobs",
                ),
            ),
        ),
        run(
            batch,
            "eks-command",
            JobRequest(job_definition="kinds-eks", command=["sh", "-c", "exit 3"]),
        ),
        run(batch, "eks-default", JobRequest(job_definition="kinds-eks")),
    )

    assert sent(recorder, "eks-env") == {
        "jobName": "eks-env",
        "jobDefinition": "kinds-eks",
        "eksPropertiesOverride": {
            "podProperties": {
                "containers": [
                    {
                        "name": "main",
                        "image": "img:2",
                        "args": [check_env],
                        "env": [{"name": "B", "value": "***"}],
                    }
                ],
                "metadata": {"namespace": "jobs"},
            }
        },
    }
    assert sent(recorder, "eks-command")["eksPropertiesOverride"] == {
        "podProperties": {"containers": [{"name": "main", "command": ["sh", "-c", "exit 3"]}]}
    }
    assert "eksPropertiesOverride" not in sent(recorder, "eks-default")

    # the override's env and args reached the process; its command replaces the entrypoint
    assert (ok.status, ok.exit_code) == (JobStatus.SUCCEEDED, 0)
    assert (command.status, command.exit_code) == (JobStatus.FAILED, 3)
    assert (default.status, default.exit_code) == (JobStatus.FAILED, 9)

    assert ok.kind is JobKind.EKS
    assert ok.job_definition == registered.arn
    assert ok.container is None
    assert ok.log_stream_name is None
    assert ok.eks_properties is not None
    pod = ok.eks_properties.pod_properties
    assert pod is not None
    assert pod.pod_name is not None
    assert pod.pod_name.startswith("aws-batch.")
    assert pod.node_name
    assert pod.metadata is not None
    assert (pod.metadata.namespace, pod.metadata.labels) == ("jobs", {"team": "ml"})
    main, side = pod.containers
    assert (main.name, main.image, main.command, main.args) == (
        "main",
        "img:2",
        ["sh", "-c"],
        [check_env],
    )
    assert main.exit_code == 0
    assert main.resources is not None
    assert main.resources.limits == {
        "cpu": "500m",
        "memory": "256Mi",
    }
    assert (side.name, side.exit_code) == ("side", None)  # not run
    assert [(c.name, c.exit_code) for c in command.eks_attempts[-1].containers] == [("main", 3)]
    attempt = command.eks_attempts[-1]
    assert attempt.pod_namespace == "default"
    assert attempt.stopped_at is not None
    assert command.container_exit_codes == {"main": 3, "side": None}

    with pytest.raises(BatchError, match=rf"EKS job.*pod {pod.pod_name} in namespace jobs"):
        [e async for e in batch.get_logs(ok.job_id)]


# ---------------------------------------------------------------------------------------------
# ECS properties: the task's essential container runs


ECS_TASK = {
    "containers": [
        {"name": "init", "image": "x", "essential": False, "command": ["false"]},
        {
            "name": "app",
            "image": "x",
            "essential": True,
            "command": ["echo", "from-def"],
            "environment": [{"name": "K", "value": "def"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": LOG_GROUP}},
        },
        {"name": "log", "image": "x", "essential": True},
    ]
}


async def test_ecs_definitions_have_revisions_arns_and_statuses(batch: BatchService) -> None:
    definition = {"jobDefinitionName": "kinds-ecs-revs", "type": "container"}
    first = await batch.register_job_definition(
        {**definition, "ecsProperties": {"taskProperties": [ECS_TASK]}}
    )
    second = await batch.register_job_definition(
        {**definition, "ecsProperties": {"taskProperties": [ECS_TASK]}}
    )
    assert (first.revision, second.revision) == (1, 2)
    assert second.arn.endswith(":job-definition/kinds-ecs-revs:2")
    await batch.deregister_job_definition(second.arn)

    described = {
        d.revision: d async for d in batch.describe_job_definitions("kinds-ecs-revs", status=None)
    }
    assert {r: d.status for r, d in described.items()} == {1: "ACTIVE", 2: "INACTIVE"}
    assert all(d.kind is JobKind.ECS for d in described.values())
    latest = await batch.latest_job_definition("kinds-ecs-revs")
    assert latest is not None
    assert latest.revision == 1

    job = await run(
        batch, "ecs-latest", JobRequest(job_definition="kinds-ecs-revs", command=["true"])
    )
    assert job.job_definition == first.arn  # the latest ACTIVE revision, as on AWS
    assert job.exit_code == 0


async def test_ecs_essential_container_runs_with_its_logs(
    batch: BatchService, recorder: BatchProxy
) -> None:
    registered = await batch.register_job_definition(
        {
            "jobDefinitionName": "kinds-ecs",
            "type": "container",
            "ecsProperties": {"taskProperties": [ECS_TASK]},
        }
    )
    failed, env = await asyncio.gather(
        run(
            batch,
            "ecs-fail",
            JobRequest(
                kind=JobKind.ECS,
                job_definition="kinds-ecs",
                container="app",
                command=["sh", "-c", "echo one; echo two >&2; exit 3"],
            ),
        ),
        run(
            batch,
            "ecs-env",
            JobRequest(
                job_definition="kinds-ecs", command=["sh", "-c", 'echo "K=$K"'], env_vars={"K": "v"}
            ),
        ),
    )
    assert sent(recorder, "ecs-fail") == {
        "jobName": "ecs-fail",
        "jobDefinition": "kinds-ecs",
        "ecsPropertiesOverride": {
            "taskProperties": [
                {
                    "containers": [
                        {"name": "app", "command": ["sh", "-c", "echo one; echo two >&2; exit 3"]}
                    ]
                }
            ]
        },
    }
    assert sent(recorder, "ecs-env")["ecsPropertiesOverride"] == {
        "taskProperties": [
            {
                "containers": [
                    {
                        "name": "app",
                        "command": ["sh", "-c", 'echo "K=$K"'],
                        "environment": [{"name": "K", "value": "***"}],
                    }
                ]
            }
        ]
    }

    assert (failed.status, failed.exit_code) == (JobStatus.FAILED, 3)
    assert failed.kind is JobKind.ECS
    assert failed.job_definition == registered.arn
    assert failed.container is None
    init, app, log = failed.ecs_containers
    assert (app.name, app.exit_code, app.command) == (
        "app",
        3,
        ["sh", "-c", "echo one; echo two >&2; exit 3"],
    )
    assert app.log_stream_name
    assert failed.log_stream_name == app.log_stream_name
    assert (init.exit_code, init.log_stream_name, log.exit_code, log.log_stream_name) == (None,) * 4
    assert failed.attempts[-1].exit_code == 3
    assert failed.container_exit_codes == {"init": None, "app": 3, "log": None}

    lines = [(e.container, e.message) async for e in batch.get_logs(failed.job_id, container="app")]
    assert lines == [("app", "one"), ("app", "two")]
    assert [e.message async for e in batch.get_logs(env.job_id)] == ["K=v"]
    assert [e async for e in batch.get_logs(env.job_id, container="init")] == []  # never ran
    assert (env.status, env.exit_code) == (JobStatus.SUCCEEDED, 0)


async def refused(client: Any, local: LocalBatch, definition: str, **override: Any) -> str:
    """The message of the ClientException a raw SubmitJob with ``override`` gets."""
    with pytest.raises(ClientError) as caught:
        await client.submit_job(
            jobName="raw", jobQueue=local.job_queue, jobDefinition=definition, **override
        )
    return str(caught.value)


async def test_definitions_are_checked_and_container_overrides_refused(local: LocalBatch) -> None:
    async with raw_client(local) as client:
        with pytest.raises(ClientError, match="exactly one task"):
            await client.register_job_definition(
                jobDefinitionName="kinds-ecs-bad",
                type="container",
                ecsProperties={"taskProperties": [ECS_TASK, ECS_TASK]},
            )
        twice = [{"name": "m", "image": "x"}] * 2
        with pytest.raises(ClientError, match="container names must be unique"):
            await client.register_job_definition(
                jobDefinitionName="kinds-eks-bad",
                type="container",
                eksProperties={"podProperties": {"containers": twice}},
            )
        await client.register_job_definition(
            jobDefinitionName="kinds-ecs-raw",
            type="container",
            ecsProperties={"taskProperties": [ECS_TASK]},
        )
        await client.register_job_definition(
            jobDefinitionName="kinds-eks-raw",
            type="container",
            eksProperties={"podProperties": {"containers": [{"name": "m", "image": "x"}]}},
        )
        command = {"containerOverrides": {"command": ["true"]}}
        for definition in ("kinds-ecs-raw", "kinds-eks-raw"):
            assert "containerOverrides cannot be used" in await refused(
                client, local, definition, **command
            )
        nope = {"podProperties": {"containers": [{"name": "nope"}]}}
        assert "'nope' is not a container" in await refused(
            client, local, "kinds-eks-raw", eksPropertiesOverride=nope
        )


# ---------------------------------------------------------------------------------------------
# "instant" mode: the same shapes, nothing run


async def test_instant_mode_shows_both_kinds_succeeded() -> None:
    async with LocalBatch() as instant:
        config = instant.config.model_copy(update={"poll": FAST_POLL})
        async with BatchService(config) as service:
            await service.register_job_definition(
                {
                    "jobDefinitionName": "instant-eks",
                    "type": "container",
                    "eksProperties": {"podProperties": {"containers": [{"image": "x"}]}},
                }
            )
            await service.register_job_definition(
                {
                    "jobDefinitionName": "instant-ecs",
                    "type": "container",
                    "ecsProperties": {"taskProperties": [ECS_TASK]},
                }
            )
            eks, ecs = await asyncio.gather(
                run(service, "i-eks", JobRequest(job_definition="instant-eks", command=["false"])),
                run(service, "i-ecs", JobRequest(job_definition="instant-ecs", command=["false"])),
            )
    assert (eks.kind, eks.status, eks.exit_code) == (JobKind.EKS, JobStatus.SUCCEEDED, 0)
    assert eks.container_exit_codes == {"#0": 0}
    assert (ecs.kind, ecs.status, ecs.exit_code) == (JobKind.ECS, JobStatus.SUCCEEDED, 0)
    assert ecs.container_exit_codes == {"init": None, "app": 0, "log": None}
