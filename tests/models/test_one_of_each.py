"""One of each (issue 19): one model base for AWS's answers, one ``CapacityUsage``, one
derivation of a job's or definition's kind, one terminal-status rule, one reference parser."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import aws_batch_async
from aws_batch_async import (
    BatchConfig,
    CapacityUsage,
    EventsConfig,
    JobDefinition,
    JobDetail,
    JobDiagnosis,
    JobKind,
    JobQueueSnapshot,
    JobStatus,
    JobSummary,
    PollPolicy,
    SubmitRetry,
)
from aws_batch_async._infrastructure.instance_types import Resources
from aws_batch_async._infrastructure.job_definitions import definition_query
from aws_batch_async._infrastructure.view_parts import InfraModel
from aws_batch_async._models.base import Model, Response
from aws_batch_async._models.job_kinds import job_kind, platform_of
from aws_batch_async._models.redact import RedactedErrors
from aws_batch_async._service_jobs.models import SERVICE_JOB_STATUSES, ServiceJobSummary
from aws_batch_async._submitting.definition_cache import definition_info, parse_reference

PACKAGE = Path(aws_batch_async.__file__).parent

#: Pydantic models of the package that model no AWS answer: configuration, what a job asks
#: for (worked out by us), the result of ``explain``. Requests derive from ``Model`` (or
#: ``RedactedErrors``: the typed definitions to register) and are told apart by that.
NOT_ANSWERS: set[type[BaseModel]] = {
    BatchConfig,
    PollPolicy,
    EventsConfig,
    SubmitRetry,
    Resources,
    JobDiagnosis,
}


#: LocalBatch's own models (the tools of tests, not the library), and the command line (it
#: defines no model, and needs the ``cli`` extra).
_SKIPPED = (
    "aws_batch_async.testing",
    "aws_batch_async._cli",
    "aws_batch_async.cli",
    "aws_batch_async.__main__",
)


def package_models() -> dict[str, type[BaseModel]]:
    """Every pydantic model class defined in the package (not ``testing/``), by qualified name."""
    found: dict[int, type[BaseModel]] = {}
    for info in pkgutil.walk_packages(aws_batch_async.__path__, "aws_batch_async."):
        if info.name.startswith(_SKIPPED):
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseModel)
                and obj.__module__.startswith("aws_batch_async")
                and not obj.__module__.startswith("aws_batch_async.testing")
            ):
                found[id(obj)] = obj
    return {f"{cls.__module__}.{cls.__qualname__}": cls for cls in found.values()}


MODELS = package_models()


def test_every_model_of_an_aws_answer_is_a_response() -> None:
    answers = {
        name: cls
        for name, cls in MODELS.items()
        if cls not in NOT_ANSWERS
        and not (issubclass(cls, Model) and not issubclass(cls, Response))  # requests
        and not issubclass(cls, RedactedErrors)  # typed definitions to register
        and cls is not BaseModel
    }
    assert {name for name, cls in answers.items() if not issubclass(cls, Response)} == set()
    assert issubclass(InfraModel, Response)
    assert len(answers) > 50  # the walk found the package's models


def test_every_time_aws_sends_is_epoch_millis() -> None:
    """A ``datetime`` field of an answer is ``EpochMillis`` (its clamp is there) and parses
    milliseconds the same in a job and in a queue snapshot."""
    for name, cls in MODELS.items():
        for field, info in cls.model_fields.items():
            annotation = repr(info.annotation)
            if "datetime" in annotation:
                assert "_clamp" in annotation, f"{name}.{field}"
    millis = 1_700_000_000_123
    job = JobDetail.model_validate(
        {"jobId": "j", "jobName": "n", "status": "RUNNABLE", "createdAt": millis}
    )
    snapshot = JobQueueSnapshot.model_validate(
        {
            "frontOfQueue": {
                "jobs": [{"jobArn": "arn:job/j", "earliestTimeAtPosition": millis}],
                "lastUpdatedAt": 10**20,  # beyond what a datetime holds: clamped
            }
        }
    )
    assert snapshot.front_of_queue[0].earliest_time_at_position == job.created_at
    assert snapshot.last_updated_at is not None
    assert snapshot.last_updated_at.year == 9999


def test_one_capacity_usage() -> None:
    named = [cls for cls in MODELS.values() if cls.__name__ == "CapacityUsage"]
    assert named == [CapacityUsage]
    snapshot = JobQueueSnapshot.model_validate(
        {
            "queueUtilization": {
                "totalCapacityUsage": [{"capacityUnit": "VCPU", "quantity": 12.5}],
                "fairshareUtilization": {
                    "topCapacityUtilization": [
                        {"shareIdentifier": "a", "capacityUsage": [{"capacityUnit": "cpu"}]}
                    ]
                },
            }
        }
    )
    summary = JobSummary.model_validate(
        {"jobId": "j", "jobName": "n", "capacityUsage": [{"capacityUnit": "VCPU", "quantity": 2}]}
    )
    utilization = snapshot.queue_utilization
    assert utilization is not None
    assert utilization.fairshare_utilization is not None
    share = utilization.fairshare_utilization.top_capacity_utilization[0]
    used = [*utilization.total_capacity_usage, *share.capacity_usage, *summary.capacity_usage]
    assert [type(u) for u in used] == [CapacityUsage] * 3
    assert used[0] == CapacityUsage(capacity_unit="VCPU", quantity=12.5)


# ---------------------------------------------------------------------------------------------
# One kind and platform

_NODES = {"numNodes": 2, "mainNode": 0}
_POD = {"podProperties": {"containers": [{"name": "main", "image": "busybox"}]}}
_TASK = {"taskProperties": [{"containers": [{"name": "app", "image": "busybox"}]}]}

#: (what a job or definition holds, its kind): every form one of the three derivations read.
KIND_FORMS: list[tuple[dict[str, Any], JobKind]] = [
    ({"nodeProperties": _NODES}, JobKind.MULTINODE),
    ({"nodeDetails": {"nodeIndex": 1, "isMainNode": False}}, JobKind.MULTINODE),
    ({"type": "multinode"}, JobKind.MULTINODE),  # moto leaves nodeProperties out
    ({"type": "multinode", "containerProperties": {"image": "x"}}, JobKind.MULTINODE),
    ({"node_properties": _NODES}, JobKind.MULTINODE),  # snake_case, built by hand
    ({"node_details": {"node_index": 0}}, JobKind.MULTINODE),
    ({"eksProperties": _POD}, JobKind.EKS),
    ({"type": "container", "eksProperties": _POD}, JobKind.EKS),
    ({"eks_properties": _POD}, JobKind.EKS),
    ({"ecsProperties": _TASK}, JobKind.ECS),
    ({"ecs_properties": _TASK}, JobKind.ECS),
    ({"containerProperties": {"image": "busybox"}}, JobKind.CONTAINER),
    ({"type": "container"}, JobKind.CONTAINER),
    ({"nodeProperties": None, "eksProperties": None}, JobKind.CONTAINER),  # null: absent
    ({}, JobKind.CONTAINER),
]


@pytest.mark.parametrize("platform", ["FARGATE", "MANAGED_INSTANCES", "EC2", None])
@pytest.mark.parametrize(("form", "kind"), KIND_FORMS, ids=lambda v: str(v)[:40])
def test_one_kind_and_platform_for_every_form(
    form: dict[str, Any], kind: JobKind, platform: str | None
) -> None:
    if platform is not None:
        form = {**form, "platformCapabilities": [platform, "EC2"]}
    definition = {"jobDefinitionName": "d", "revision": 1, "jobDefinitionArn": "arn:d:1", **form}
    read = JobDefinition.model_validate(definition)
    info = definition_info(definition)
    assert job_kind(form) is kind
    assert (read.kind, info.kind) == (kind, kind)
    assert platform_of(form) == read.platform == platform
    # A submit sizes an EKS pod by its nodes (EC2), and reads "none stated" as EC2.
    assert info.platform == ("EC2" if kind is JobKind.EKS or platform is None else platform)
    if "type" not in form:  # a job has no ``type``
        job = JobDetail.model_validate(
            {"job_id": "j", "job_name": "n", "status": "RUNNING", **form}
        )
        assert (job.kind, job.platform) == (kind, platform)


def test_an_aws_job_s_kind_reads_only_aws_names() -> None:
    """A job with AWS's ``jobId`` came from AWS: snake_case members are not its own."""
    assert job_kind({"jobId": "j", "node_properties": _NODES}) is JobKind.CONTAINER
    assert job_kind({"jobId": "j", "nodeProperties": _NODES}) is JobKind.MULTINODE


# ---------------------------------------------------------------------------------------------
# One terminal rule, one reference parser


def test_terminal_is_decided_by_job_status_only() -> None:
    """No module spells the terminal statuses out as a collection of its own."""
    spelled: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("testing/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Set, ast.Tuple, ast.List)):
                values = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                if values == {"SUCCEEDED", "FAILED"}:
                    spelled.append(f"{relative}:{node.lineno}")
    assert spelled == []
    for status in [*SERVICE_JOB_STATUSES, "SOMETHING_NEW"]:
        job = ServiceJobSummary(job_id="j", job_name="n", status=status)
        known = status in {s.value for s in JobStatus}
        assert job.is_terminal is (known and JobStatus(status).is_terminal), status


def test_one_reference_parser() -> None:
    """DescribeJobDefinitions' query reads a reference as the submit path's lookup does."""
    for reference in ["d", "d:3", "my-def_1:12", "d:latest", "a:b:3", "d:", ":3"]:
        name, revision = parse_reference(reference)
        if ":" in name:  # not a name, nor name:revision
            with pytest.raises(ValueError, match="'name' or 'name:revision'"):
                definition_query(reference)
        else:
            assert definition_query(reference) == ({"jobDefinitionName": name}, revision)
    arn = "arn:aws:batch:us-east-1:123456789012:job-definition/d:7"
    assert parse_reference(arn) == ("d", 7)
    assert definition_query(arn) == ({"jobDefinitions": [arn]}, None)
