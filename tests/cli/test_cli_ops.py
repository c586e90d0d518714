"""The operations commands of the command line, run for real in subprocesses: ``why``,
``queues``, ``definitions``, bulk ``cancel`` / ``terminate``, ``submit --nodes`` and
``wait --stuck-after``.

As in test_cli.py, each command runs as ``python -m aws_batch_async`` with fake credentials
against the moto server of conftest.py behind the AWS-faithful proxy. moto's simple mode
finishes every job at SubmitJob, so a job that should look stuck is shown RUNNABLE by
``proxy.override_job``; queues, compute environments and job definitions are real moto ones.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from aws_batch_async import BatchConfig
from aws_batch_async.testing import BatchInfrastructure, BatchProxy, MotoServer

from ..conftest import REGION
from .test_cli import assert_one_line_error, cli_env, parse_json, run_cli, run_cli_many

CAPACITY = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


@pytest.fixture
def connection(config: BatchConfig) -> list[str]:
    """The connection flags without a job definition (tests that need one add it)."""
    assert config.endpoint_url is not None
    assert config.job_queue is not None
    return [
        "--endpoint-url",
        config.endpoint_url,
        "--region",
        REGION,
        "--job-queue",
        config.job_queue,
    ]


@pytest.fixture
def moto_batch(moto_server: MotoServer) -> Iterator[Any]:
    """A plain botocore Batch client of moto itself, to set things up behind the proxy's back."""
    client = botocore.session.get_session().create_client(
        "batch",
        region_name=REGION,
        endpoint_url=moto_server.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    yield client
    client.close()


def requirements(vcpus: float, memory: int, gpus: int | None = None) -> list[dict[str, str]]:
    """``resourceRequirements`` as AWS takes them."""
    items = [{"type": "VCPU", "value": f"{vcpus:g}"}, {"type": "MEMORY", "value": str(memory)}]
    if gpus is not None:
        items.append({"type": "GPU", "value": str(gpus)})
    return items


def fields(output: str) -> dict[str, str]:
    """The rows of a two-column field/value table, by field (columns apart by 2+ spaces)."""
    rows = (re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in output.splitlines())
    return {row[0]: row[1] if len(row) > 1 else "" for row in rows if row[0]}


def submit_runnable(
    moto_batch: Any, proxy: BatchProxy, infra: BatchInfrastructure, count: int, **fields: Any
) -> list[str]:
    """Submit ``count`` jobs (moto finishes them) and have the proxy show them RUNNABLE."""
    ids = []
    for i in range(count):
        job_id: str = moto_batch.submit_job(
            jobName=f"held-{i}", jobQueue=infra.job_queue, jobDefinition=infra.job_definition
        )["jobId"]
        proxy.override_job(job_id, status="RUNNABLE", **fields)
        ids.append(job_id)
    return ids


# ---------------------------------------------------------------------------------------------
# Help


def test_help_names_the_new_commands_and_flags(env: dict[str, str]) -> None:
    top, why, queues, definitions, submit, cancel, wait = run_cli_many(
        ["--help"],
        ["why", "--help"],
        ["queues", "--help"],
        ["definitions", "--help"],
        ["submit", "--help"],
        ["cancel", "--help"],
        ["wait", "--help"],
        env=env,
    )
    for result in (top, why, queues, definitions, submit, cancel, wait):
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
    for command in ("explain", "why", "queues", "definitions"):
        assert f" {command} " in top.stdout, command
    assert "aws-batch-async explain JOB_ID" in top.stdout
    assert "JOB_ID" in why.stdout
    assert "RUNNABLE" in why.stdout
    assert "Exits 0 whatever the verdict" in why.stdout
    assert "NAME..." in queues.stdout
    assert "--all" in definitions.stdout
    assert "INACTIVE" in definitions.stdout
    assert "--nodes" in submit.stdout
    assert "multi-node" in submit.stdout
    assert "CancelJobs calls of up to 50 ids" in cancel.stdout
    assert "--stuck-after" in wait.stdout
    assert "exit 5" in wait.stdout
    for result in (why, queues, definitions):
        for flag in ("--json", "--debug", "--region", "--endpoint-url", "--profile"):
            assert flag in result.stdout, flag


# ---------------------------------------------------------------------------------------------
# why


def test_why_a_stuck_job_on_a_disabled_queue(
    connection: list[str],
    env: dict[str, str],
    proxy: BatchProxy,
    infra: BatchInfrastructure,
    moto_batch: Any,
) -> None:
    (job_id,) = submit_runnable(moto_batch, proxy, infra, 1, statusReason=CAPACITY)
    moto_batch.update_job_queue(jobQueue=infra.job_queue, state="DISABLED")
    shown, as_json, unknown = run_cli_many(
        ["why", *connection, job_id],
        ["why", "--json", *connection, job_id],
        ["why", *connection, "no-such-job"],
        env=env,
    )
    assert shown.returncode == 0, shown.stderr  # a verdict is information, not a failure
    facts = fields(shown.stdout.split("\n\n")[0])
    assert facts == {
        "Job": f"{job_id} (held-0)",
        "Status": "RUNNABLE",
        "Status reason": CAPACITY,
        "Queue": infra.job_queue,
        "Verdict": "QUEUE_DISABLED",
    }
    bullets = [line for line in shown.stdout.splitlines() if line.startswith("- ")]
    assert bullets, shown.stdout
    assert f"- The job queue {infra.job_queue} is DISABLED" in bullets[0]
    assert 'UpdateJobQueue(jobQueue="' in shown.stdout  # brackets and quotes printed as they are
    assert shown.stderr == ""

    data = parse_json(as_json)
    assert data["job_id"] == job_id
    assert data["verdict"] == "QUEUE_DISABLED"
    assert data["reasons"][0].startswith(f"The job queue {infra.job_queue} is DISABLED")
    assert data["job"]["status"] == "RUNNABLE"
    assert data["job"]["job_id"] == job_id
    assert data["queue"]["name"] == infra.job_queue
    assert data["queue"]["state"] == "DISABLED"
    assert list(data)[:3] == ["job_id", "verdict", "reasons"]

    assert_one_line_error(unknown, "job 'no-such-job' was not found")
    assert unknown.returncode == 1
    assert unknown.stdout == ""


def test_why_a_finished_job_and_a_queued_one(
    connection: list[str],
    env: dict[str, str],
    proxy: BatchProxy,
    infra: BatchInfrastructure,
    moto_batch: Any,
) -> None:
    done = moto_batch.submit_job(
        jobName="done", jobQueue=infra.job_queue, jobDefinition=infra.job_definition
    )["jobId"]
    first, second = submit_runnable(moto_batch, proxy, infra, 2)
    finished, head, queued = run_cli_many(
        ["why", *connection, done],
        ["why", *connection, first],
        ["why", "--json", *connection, second],
        env=env,
    )
    assert finished.returncode == 0, finished.stderr
    assert fields(finished.stdout)["Verdict"] == "FINISHED"
    assert "- The job SUCCEEDED" in finished.stdout
    assert head.returncode == 0, head.stderr
    facts = fields(head.stdout.split("\n\n")[0])
    assert (facts["Verdict"], facts["Position"]) == ("QUEUED", "at the head of the queue")
    assert facts["Asks for"] == "1 vCPU, 128 MiB of memory"
    data = parse_json(queued)
    assert (data["verdict"], data["position"]) == ("QUEUED", 2)
    assert data["requested"] == {"vcpus": 1.0, "memory_mib": 128, "gpus": None}
    assert [e["name"] for e in data["compute_environments"]] == [infra.compute_environment]


def test_wait_stuck_after_says_why_and_exits_5(
    connection: list[str],
    env: dict[str, str],
    proxy: BatchProxy,
    infra: BatchInfrastructure,
    moto_batch: Any,
) -> None:
    held, done = submit_runnable(moto_batch, proxy, infra, 2, statusReason=CAPACITY)
    proxy.clear_overrides(done)  # SUCCEEDED, as moto made it
    moto_batch.update_job_queue(jobQueue=infra.job_queue, state="DISABLED")
    shown, as_json, finished = run_cli_many(
        ["wait", *connection, "--stuck-after", "1", held, done],
        ["wait", "--json", *connection, "--stuck-after", "1", held],
        ["wait", "--json", *connection, "--stuck-after", "1", done],
        env=env,
    )
    assert shown.returncode == 5, shown.stderr
    assert fields(shown.stdout.split("\n\n")[0])["Verdict"] == "QUEUE_DISABLED"
    assert f"- The job queue {infra.job_queue} is DISABLED" in shown.stdout
    assert f"Job {held} has not started after 1s; it stays queued." in shown.stderr
    assert f"aws-batch-async cancel {held}" in shown.stderr
    assert "Traceback" not in shown.stderr

    assert as_json.returncode == 5, as_json.stderr
    data = json.loads(as_json.stdout)
    assert (data["job_id"], data["stuck_after"], data["verdict"]) == (held, 1, "QUEUE_DISABLED")
    assert data["reasons"][0].startswith(f"The job queue {infra.job_queue} is DISABLED")
    assert data["job"]["status"] == "RUNNABLE"

    assert parse_json(finished)["status"] == "SUCCEEDED"  # a finished job is never stuck


# ---------------------------------------------------------------------------------------------
# queues


def managed_environment(
    moto_server: MotoServer, infra: BatchInfrastructure, moto_batch: Any
) -> str:
    """A MANAGED EC2 compute environment (max 16 vCPUs, m5.large) added second to the queue."""
    session = botocore.session.get_session()
    kwargs: dict[str, Any] = {
        "region_name": REGION,
        "endpoint_url": moto_server.url,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    ec2: Any = session.create_client("ec2", **kwargs)
    iam: Any = session.create_client("iam", **kwargs)
    try:
        subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
        group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
        profile = iam.create_instance_profile(InstanceProfileName="cli-ops-profile")
        arn: str = moto_batch.create_compute_environment(
            computeEnvironmentName="cli-ops-ec2",
            type="MANAGED",
            state="DISABLED",
            serviceRole=infra.service_role_arn,
            computeResources={
                "type": "EC2",
                "minvCpus": 0,
                "desiredvCpus": 2,
                "maxvCpus": 16,
                "instanceTypes": ["m5.large"],
                "subnets": [subnet],
                "securityGroupIds": [group],
                "instanceRole": profile["InstanceProfile"]["Arn"],
            },
        )["computeEnvironmentArn"]
    finally:
        ec2.close()
        iam.close()
    environments = moto_batch.describe_job_queues(jobQueues=[infra.job_queue])["jobQueues"][0]
    order = environments["computeEnvironmentOrder"]
    moto_batch.update_job_queue(
        jobQueue=infra.job_queue,
        computeEnvironmentOrder=[*order, {"order": 2, "computeEnvironment": arn}],
    )
    return arn


def test_queues_show_their_compute_environments_and_capacity(
    connection: list[str],
    env: dict[str, str],
    infra: BatchInfrastructure,
    moto_server: MotoServer,
    moto_batch: Any,
) -> None:
    managed_environment(moto_server, infra, moto_batch)
    moto_batch.create_job_queue(
        jobQueueName="cli-ops-other",
        state="DISABLED",
        priority=5,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": infra.compute_environment}],
    )
    every, named, as_json, unknown = run_cli_many(
        ["queues", *connection],
        ["queues", *connection, infra.job_queue],
        ["queues", "--json", *connection, infra.job_queue],
        ["queues", *connection, infra.job_queue, "nope-1", "nope-2"],
        env=env,
    )
    assert every.returncode == 0, every.stderr
    rows = {line.split()[0]: line.split() for line in every.stdout.splitlines() if line.strip()}
    assert rows[infra.job_queue][1:4] == ["1", "ENABLED", "VALID"]
    assert rows["cli-ops-other"][1:3] == ["5", "DISABLED"]
    lines = every.stdout.splitlines()
    assert lines[0].split()[:4] == ["QUEUE", "/", "COMPUTE", "ENVIRONMENT"]
    assert "INSTANCE TYPES" in lines[0]
    # Under the queue, its compute environments in order: the UNMANAGED one, then the EC2 one.
    start = next(i for i, line in enumerate(lines) if line.startswith(infra.job_queue))
    first, second = lines[start + 1].split(), lines[start + 2].split()
    assert first[:5] == ["1.", infra.compute_environment, "ENABLED", "VALID", "UNMANAGED"]
    assert second[:7] == ["2.", "cli-ops-ec2", "DISABLED", "VALID", "MANAGED", "EC2", "0/2/16"]
    assert second[7] == "m5.large"

    assert named.returncode == 0, named.stderr
    assert "cli-ops-other" not in named.stdout
    assert "cli-ops-ec2" in named.stdout

    data = parse_json(as_json)
    assert [q["name"] for q in data] == [infra.job_queue]
    queue = data[0]
    assert (queue["state"], queue["status"], queue["priority"]) == ("ENABLED", "VALID", 1)
    envs = queue["compute_environments"]
    assert [e["name"] for e in envs] == [infra.compute_environment, "cli-ops-ec2"]
    assert envs[0]["type"] == "UNMANAGED"
    resources = envs[1]["compute_resources"]
    assert (resources["type"], resources["max_vcpus"], resources["desired_vcpus"]) == ("EC2", 16, 2)
    assert resources["instance_types"] == ["m5.large"]
    assert envs[1]["state"] == "DISABLED"

    assert_one_line_error(unknown, "job queues not found: nope-1, nope-2")
    assert unknown.returncode == 1
    assert unknown.stdout == ""


# ---------------------------------------------------------------------------------------------
# definitions

MULTINODE = {
    "jobDefinitionName": "cli-ops-mnp",
    "type": "multinode",
    "nodeProperties": {
        "numNodes": 2,
        "mainNode": 0,
        "nodeRangeProperties": [
            {
                "targetNodes": "0:",
                "container": {
                    "image": "busybox",
                    "resourceRequirements": [
                        {"type": "VCPU", "value": "4"},
                        {"type": "MEMORY", "value": "2048"},
                        {"type": "GPU", "value": "1"},
                    ],
                },
            }
        ],
    },
}


def test_definitions_active_all_and_json(
    connection: list[str], env: dict[str, str], infra: BatchInfrastructure, moto_batch: Any
) -> None:
    moto_batch.register_job_definition(**MULTINODE)
    moto_batch.register_job_definition(
        jobDefinitionName="cli-ops-gpu",
        type="container",
        containerProperties={"image": "busybox", "resourceRequirements": requirements(2, 4096, 1)},
    )
    moto_batch.register_job_definition(
        jobDefinitionName="cli-ops-fargate",
        type="container",
        platformCapabilities=["FARGATE"],
        containerProperties={
            "image": "busybox",
            "resourceRequirements": requirements(0.5, 1024),
            "executionRoleArn": infra.service_role_arn,
        },
    )
    moto_batch.register_job_definition(
        jobDefinitionName=infra.job_definition,
        type="container",
        containerProperties={"image": "busybox", "resourceRequirements": requirements(1, 256)},
    )
    moto_batch.deregister_job_definition(jobDefinition=f"{infra.job_definition}:1")
    active, every, as_json, unknown = run_cli_many(
        ["definitions", *connection],
        ["definitions", "--all", *connection, infra.job_definition],
        ["definitions", "--json", *connection, "cli-ops-gpu"],
        ["definitions", *connection, "no-such-definition"],
        env=env,
    )
    assert active.returncode == 0, active.stderr
    lines = active.stdout.splitlines()
    assert lines[0].split() == [
        "DEFINITION", "KIND", "PLATFORM", "VCPUS", "MEMORY", "GPUS", "STATUS",
    ]  # fmt: skip
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert rows == {
        f"{infra.job_definition}:2": ["CONTAINER", "EC2", "1", "256", "MiB", "-", "ACTIVE"],
        "cli-ops-fargate:1": ["CONTAINER", "FARGATE", "0.5", "1024", "MiB", "-", "ACTIVE"],
        "cli-ops-gpu:1": ["CONTAINER", "EC2", "2", "4096", "MiB", "1", "ACTIVE"],
        # moto keeps no nodeProperties: the kind comes from the type, the resources are unknown
        "cli-ops-mnp:1": ["MULTINODE", "EC2", "-", "-", "-", "ACTIVE"],
    }  # sorted by name; the INACTIVE revision 1 shows only with --all
    assert list(rows) == sorted(rows)

    assert every.returncode == 0, every.stderr
    listed = [line.split() for line in every.stdout.splitlines()[2:]]
    assert [(row[0], row[-1]) for row in listed] == [
        (f"{infra.job_definition}:2", "ACTIVE"),
        (f"{infra.job_definition}:1", "INACTIVE"),
    ]  # newest revision first

    data = parse_json(as_json)
    assert [(d["name"], d["revision"], d["kind"], d["type"]) for d in data] == [
        ("cli-ops-gpu", 1, "CONTAINER", "container")
    ]
    assert data[0]["resources"] == {"vcpus": 2.0, "memory_mib": 4096, "gpus": 1}
    assert data[0]["status"] == "ACTIVE"

    assert_one_line_error(unknown, "job definition 'no-such-definition' was not found")
    assert "--all shows INACTIVE revisions" in unknown.stderr
    assert unknown.returncode == 1


# ---------------------------------------------------------------------------------------------
# cancel / terminate of several jobs: the bulk calls


def test_cancel_and_terminate_several_jobs_in_one_bulk_call(
    connection: list[str],
    env: dict[str, str],
    proxy: BatchProxy,
    infra: BatchInfrastructure,
    moto_batch: Any,
) -> None:
    a, b, c, running = submit_runnable(moto_batch, proxy, infra, 4)
    proxy.override_job(running, status="RUNNING")
    finished = moto_batch.submit_job(
        jobName="done", jobQueue=infra.job_queue, jobDefinition=infra.job_definition
    )["jobId"]
    proxy.clear_calls()

    cancelled = run_cli("cancel", "--json", *connection, a, b, running, finished, a, env=env)
    assert cancelled.returncode == 0, cancelled.stderr
    assert proxy.count("CancelJobs") == 1
    assert proxy.count("CancelJob") == 0
    sent = next(call.body for call in proxy.calls if call.operation == "CancelJobs")
    assert sent["jobs"] == [a, b]  # the started and the finished job are left alone
    assert sent["reason"] == "cancel requested with aws-batch-async"
    items = {item["job_id"]: item for item in parse_json(cancelled)}
    assert list(items) == [a, b, running, finished]  # given order, duplicates once
    assert [items[i]["action"] for i in (a, b, running, finished)] == [
        "cancel", "cancel", "none", "none",
    ]  # fmt: skip
    assert items[a] == {
        "job_id": a,
        "job_name": "held-0",
        "previous_status": "RUNNABLE",
        "action": "cancel",
        "note": None,
    }
    assert items[finished]["note"] == "already SUCCEEDED"
    assert f"aws-batch-async terminate {running}" in cancelled.stderr  # the warning

    proxy.clear_calls()
    terminated = run_cli("terminate", *connection, "-r", "no longer needed", c, running, env=env)
    assert terminated.returncode == 0, terminated.stderr
    assert proxy.count("TerminateJobs") == 1
    assert proxy.count("TerminateJob") == 0
    sent = next(call.body for call in proxy.calls if call.operation == "TerminateJobs")
    assert (sent["jobs"], sent["reason"]) == ([c, running], "no longer needed")
    assert terminated.stdout.splitlines() == [
        f"Termination requested for held-2 {c} (was RUNNABLE)",
        f"Termination requested for held-3 {running} (was RUNNING)",
    ]
    assert terminated.stderr == ""
    statuses = parse_json(run_cli("status", "--json", *connection, a, c, env=env))
    assert [(j["status"], j["status_reason"]) for j in statuses] == [
        ("FAILED", "cancel requested with aws-batch-async"),
        ("FAILED", "no longer needed"),
    ]


def test_bulk_stop_reports_each_failure(
    connection: list[str],
    env: dict[str, str],
    proxy: BatchProxy,
    infra: BatchInfrastructure,
    moto_batch: Any,
) -> None:
    ids = submit_runnable(moto_batch, proxy, infra, 5)
    # An endpoint without CancelJobs: one CancelJob per job, and one of them refused.
    proxy.set_bulk_stop(False)
    proxy.inject_error("CancelJob", status=400, code="ClientException", message="nope", times=1)
    proxy.clear_calls()
    cancelled = run_cli("cancel", "--json", *connection, *ids[:3], env=env)
    assert cancelled.returncode == 1
    assert proxy.count("CancelJobs") == 1  # answered 404: the library fell back
    assert proxy.count("CancelJob") == 3
    items = parse_json_any(cancelled)
    failed = [item for item in items if item["action"] == "failed"]
    assert len(failed) == 1
    assert "CancelJob failed: ClientException: nope" in failed[0]["note"]
    assert sorted(item["action"] for item in items) == ["cancel", "cancel", "failed"]
    errors = cancelled.stderr.strip().splitlines()
    assert errors == [
        f"aws-batch-async: error: cancel of job {failed[0]['job_id']} ({failed[0]['job_name']}): "
        "CancelJob failed: ClientException: nope"
    ]

    # The whole TerminateJobs call refused: every job is reported.
    proxy.set_bulk_stop(True)
    proxy.inject_error("TerminateJobs", status=403, code="AccessDeniedException", message="no")
    terminated = run_cli("terminate", *connection, *ids[3:], env=env)
    assert terminated.returncode == 1
    assert terminated.stdout == ""
    assert terminated.stderr.strip().splitlines() == [
        f"aws-batch-async: error: terminate of job {job_id} (held-{i}): TerminateJobs failed: "
        "AccessDeniedException: no"
        for i, job_id in enumerate(ids[3:], start=3)
    ]
    assert "Traceback" not in terminated.stderr


def parse_json_any(result: subprocess.CompletedProcess[str]) -> Any:
    """The JSON on stdout, whatever the exit code."""
    return json.loads(result.stdout)


# ---------------------------------------------------------------------------------------------
# submit --nodes


def test_submit_nodes_sets_the_multi_node_override(
    connection: list[str],
    env: dict[str, str],
    proxy: BatchProxy,
    infra: BatchInfrastructure,
    moto_batch: Any,
) -> None:
    moto_batch.register_job_definition(**MULTINODE)
    multinode, container, zero = run_cli_many(
        ["submit", "--json", *connection, "--job-definition", "cli-ops-mnp", "--nodes", "3",
         "--", "mpirun", "app"],
        ["submit", *connection, "--job-definition", infra.job_definition, "--nodes", "2"],
        ["submit", *connection, "--job-definition", infra.job_definition, "--nodes", "0"],
        env=env,
    )  # fmt: skip
    submitted = parse_json(multinode)
    bodies = [call.body for call in proxy.calls if call.operation == "SubmitJob"]
    assert len(bodies) == 1  # the container job was refused before anything was sent
    body = bodies[0]
    assert body["jobDefinition"] == "cli-ops-mnp"
    assert body["nodeOverrides"]["numNodes"] == 3
    assert body["nodeOverrides"]["nodePropertyOverrides"] == [
        {"targetNodes": "0:", "containerOverrides": {"command": ["mpirun", "app"]}}
    ]
    assert "containerOverrides" not in body
    assert submitted["job_id"]

    assert_one_line_error(container, "--nodes applies to multi-node parallel jobs only")
    assert "CONTAINER job" in container.stderr
    assert container.returncode == 2
    assert_one_line_error(zero, "--nodes")
    assert zero.returncode == 2
