"""Following AWS as it changes: open enums, and what is pinned checked against botocore's model.

* Every enum parsed from AWS answers keeps a value it does not know as its string (a
  pseudo-member), never raises, and a job in an unknown status is not terminal: a wait keeps
  waiting (through the real poller, with DescribeJobs answers from the proxy).
* The members of each enum, and Fargate's table of sizes, are pinned in code; these tests parse
  botocore's installed model (its enums, and the documentation of ``ResourceRequirement.value``)
  and fail when they differ (``docs/aws-model.md``).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import pickle
import re
from collections.abc import AsyncIterator

import botocore.session
import pytest
from botocore.model import StringShape

from aws_batch_async import (
    AllocationStrategy,
    BatchConfig,
    BatchService,
    ComputeEnvironmentType,
    ComputeResourceType,
    JobDefinitionType,
    JobDetail,
    JobQueueType,
    JobStatus,
    JobSummary,
    OpenEnum,
    OrchestrationType,
    Platform,
    PollPolicy,
    ResourceState,
    ResourceStatus,
    StuckReason,
)
from aws_batch_async._infrastructure.instance_types import Resources, misfit
from aws_batch_async._models import aws_enums as _aws_enums
from aws_batch_async._models.arguments import parse_status
from aws_batch_async._models.fargate import (
    FARGATE_MAX_MEMORY_MIB,
    FARGATE_MAX_VCPUS,
    FARGATE_MEMORY,
)
from aws_batch_async._models.kind_overrides import check_fargate
from aws_batch_async._submitting.definition_cache import DefinitionInfo, JobKind, definition_info
from aws_batch_async.testing import BatchInfrastructure, BatchProxy, MotoServer

from .._lifecycle_server import submit_jobs

SERVICE = botocore.session.get_session().get_service_model("batch")

#: Each open enum and the botocore shapes whose values it lists.
ENUM_SHAPES: dict[type[OpenEnum], tuple[str, ...]] = {
    JobStatus: ("JobStatus",),
    Platform: ("PlatformCapability",),
    ResourceState: ("JQState", "CEState"),
    ResourceStatus: ("JQStatus", "CEStatus"),
    JobQueueType: ("JobQueueType",),
    ComputeEnvironmentType: ("CEType",),
    ComputeResourceType: ("CRType",),
    AllocationStrategy: ("CRAllocationStrategy",),
    OrchestrationType: ("OrchestrationType",),
    JobDefinitionType: ("JobDefinitionType",),
}


def botocore_enum(name: str) -> list[str]:
    shape = SERVICE.shape_for(name)
    assert isinstance(shape, StringShape)
    return list(shape.enum)


# ---------------------------------------------------------------------------------------------
# Pinned members against botocore's model


@pytest.mark.parametrize("enum", list(ENUM_SHAPES), ids=lambda e: e.__name__)
def test_each_enum_lists_what_botocore_lists(enum: type[OpenEnum]) -> None:
    for shape in ENUM_SHAPES[enum]:
        assert [m.value for m in enum] == botocore_enum(shape), shape


def test_scheduled_is_a_status_of_service_jobs_only() -> None:
    """JobStatus gains nothing invented: SCHEDULED is ServiceJobStatus's, not JobStatus's."""
    assert "SCHEDULED" in botocore_enum("ServiceJobStatus")
    assert "SCHEDULED" not in JobStatus.__members__


# ---------------------------------------------------------------------------------------------
# Unknown values


@pytest.mark.parametrize("enum", list(ENUM_SHAPES), ids=lambda e: e.__name__)
def test_an_unknown_value_is_kept_as_its_string(enum: type[OpenEnum]) -> None:
    listed = list(enum)
    value = f"NEW_{enum.__name__.upper()}_VALUE"
    member = enum(value)
    assert isinstance(member, enum)
    assert isinstance(member, str)
    assert member == value
    assert value == member
    assert hash(member) == hash(value)
    assert str(member) == value
    assert f"{member}" == value
    assert member.value == value
    assert not member.is_known
    assert enum(value) == member
    assert list(enum) == listed  # never listed
    assert json.dumps({"v": member}) == json.dumps({"v": value})
    assert all(m.is_known for m in listed)
    with pytest.raises(ValueError, match="is not one of"):
        enum.known(value)
    with pytest.raises(ValueError, match="is not a valid"):
        enum(3)  # only strings


def test_one_pseudo_member_per_value_up_to_the_cap(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Colour(OpenEnum):
        RED = "RED"

    monkeypatch.setattr(_aws_enums, "PSEUDO_MEMBERS_MAX", 3)
    caplog.set_level(logging.WARNING, logger="aws_batch_async")
    kept = [Colour(f"C{i}") for i in range(3)]
    assert all(Colour(f"C{i}") is kept[i] for i in range(3))
    assert len(caplog.records) == 3
    beyond = Colour("C3")
    assert beyond == "C3"
    assert not beyond.is_known
    assert id(Colour("C3")) != id(beyond)  # not kept: memory and the log stay bounded
    assert len(caplog.records) == 3
    assert list(Colour) == [Colour.RED]


def test_a_pseudo_member_named_like_a_member_is_not_that_member() -> None:
    upper = JobDefinitionType("CONTAINER")  # the member CONTAINER's value is "container"
    assert not upper.is_known
    assert upper != JobDefinitionType.CONTAINER
    assert JobDefinitionType("container") is JobDefinitionType.CONTAINER


def test_a_pseudo_member_pickles_and_copies_as_itself() -> None:
    status = JobStatus("PICKLED")
    assert pickle.loads(pickle.dumps(status)) is status
    assert copy.deepcopy(status) is status
    job = JobDetail.model_validate({"jobId": "j", "jobName": "n", "status": "PICKLED"})
    assert pickle.loads(pickle.dumps(job)).status is status


def test_an_unknown_value_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="aws_batch_async")
    for _ in range(3):
        JobDetail.model_validate({"jobId": "j", "jobName": "n", "status": "LOGGED_ONCE"})
    warnings = [r for r in caplog.records if "LOGGED_ONCE" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "JobStatus" in warnings[0].getMessage()


def test_a_job_in_an_unknown_status_parses_and_is_not_terminal() -> None:
    job = JobDetail.model_validate(
        {
            "jobId": "j",
            "jobName": "n",
            "status": "SCHEDULED",
            "platformCapabilities": ["MANAGED_INSTANCES"],
        }
    )
    assert job.status == "SCHEDULED"
    assert isinstance(job.status, JobStatus)
    assert not job.status.is_known
    assert not job.is_terminal
    assert not job.status.has_started
    assert job.platform is Platform.MANAGED_INSTANCES
    assert json.loads(job.model_dump_json())["status"] == "SCHEDULED"
    assert JobDetail.model_validate(job.raw).status == "SCHEDULED"
    summary = JobSummary.model_validate({"jobId": "j", "jobName": "n", "status": "SCHEDULED"})
    assert summary.status == "SCHEDULED"
    assert not summary.is_terminal


def test_an_unknown_platform_is_kept() -> None:
    job = JobDetail.model_validate(
        {"jobId": "j", "jobName": "n", "status": "RUNNING", "platformCapabilities": ["LUNAR"]}
    )
    assert job.platform == "LUNAR"
    assert job.platform is not None
    assert not job.platform.is_known


def test_statuses_users_give_must_be_known() -> None:
    assert parse_status("succeeded") is JobStatus.SUCCEEDED
    with pytest.raises(ValueError, match="not one of"):
        parse_status("SUCESSFUL")
    with pytest.raises(ValueError, match="not one of"):
        parse_status("SCHEDULED")
    assert "SUCESSFUL" not in _aws_enums._PSEUDO_MEMBERS.get(JobStatus, {})  # no typo member


def test_managed_instances_definitions() -> None:
    info = definition_info(
        {
            "jobDefinitionName": "d",
            "type": "container",
            "platformCapabilities": ["MANAGED_INSTANCES"],
            "containerProperties": {"image": "busybox"},
        }
    )
    assert info.platform is Platform.MANAGED_INSTANCES
    assert definition_info({"type": "container"}).platform is Platform.EC2


# ---------------------------------------------------------------------------------------------
# Through the service: describe, list and wait


@pytest.fixture
async def fast_batch(config: BatchConfig) -> AsyncIterator[BatchService]:
    poll = PollPolicy(initial_interval=0.05, max_interval=0.2, not_found_grace=30.0)
    async with BatchService(config.model_copy(update={"poll": poll})) as service:
        yield service


def scheduled_answer(job_id: str, status: str = "SCHEDULED") -> str:
    job = {"jobId": job_id, "jobName": "n", "status": status, "createdAt": 1_700_000_000_000}
    return json.dumps({"jobs": [job]})


async def test_describe_jobs_returns_a_job_in_an_unknown_status(
    fast_batch: BatchService, proxy: BatchProxy, moto_server: MotoServer, infra: BatchInfrastructure
) -> None:
    [job_id] = await submit_jobs(moto_server.url, infra)
    proxy.inject_answer("DescribeJobs", scheduled_answer(job_id), times=1)
    [job] = await fast_batch.describe_jobs([job_id])
    assert job.status == "SCHEDULED"
    assert not job.is_terminal


async def test_waits_keep_waiting_through_an_unknown_status(
    fast_batch: BatchService, proxy: BatchProxy, moto_server: MotoServer, infra: BatchInfrastructure
) -> None:
    """A watch parses every status it sees; on the closed enum its failure failed every wait."""
    [job_id] = await submit_jobs(moto_server.url, infra)  # SUCCEEDED in moto's simple mode
    proxy.inject_answer("DescribeJobs", scheduled_answer(job_id), times=3)

    async def watched() -> list[str]:
        return [job.status.value async for job in fast_batch.watch(job_id, timeout=30)]

    seen, job = await asyncio.gather(watched(), fast_batch.wait_for(job_id, timeout=30))
    assert seen == ["SCHEDULED", "SUCCEEDED"]
    assert job.status is JobStatus.SUCCEEDED
    assert proxy.count("DescribeJobs") >= 4  # three SCHEDULED answers, then moto's


async def test_a_wait_logs_an_unknown_status_once(
    fast_batch: BatchService,
    proxy: BatchProxy,
    moto_server: MotoServer,
    infra: BatchInfrastructure,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="aws_batch_async")
    [job_id] = await submit_jobs(moto_server.url, infra)
    proxy.inject_answer("DescribeJobs", scheduled_answer(job_id, "WAITING_ON_WEATHER"), times=3)
    job = await fast_batch.wait_for(job_id, timeout=30)
    assert job.status is JobStatus.SUCCEEDED
    logged = [r for r in caplog.records if "WAITING_ON_WEATHER" in r.getMessage()]
    assert len(logged) == 1  # three polls saw it; the poller logged it once
    assert logged[0].levelno == logging.WARNING


async def test_explain_names_an_unknown_status(
    fast_batch: BatchService, proxy: BatchProxy, moto_server: MotoServer, infra: BatchInfrastructure
) -> None:
    [job_id] = await submit_jobs(moto_server.url, infra)
    proxy.inject_answer("DescribeJobs", scheduled_answer(job_id), times=1)
    diagnosis = await fast_batch.explain(job_id)
    assert diagnosis.verdict is StuckReason.UNKNOWN
    assert "SCHEDULED" in diagnosis.reasons[0]


async def test_list_jobs_returns_a_summary_in_an_unknown_status(
    fast_batch: BatchService, proxy: BatchProxy, infra: BatchInfrastructure
) -> None:
    summary = {"jobId": "j-1", "jobName": "n", "status": "SCHEDULED", "createdAt": 1}
    proxy.inject_answer("ListJobs", json.dumps({"jobSummaryList": [summary]}), times=1)
    found = [s async for s in fast_batch.list_jobs(job_status="RUNNING")]
    assert [s.status for s in found] == ["SCHEDULED"]


# ---------------------------------------------------------------------------------------------
# Fargate's sizes


def fargate_documentation() -> str:
    shape = SERVICE.shape_for("ResourceRequirement")
    doc = shape.members["value"].documentation  # type: ignore[attr-defined]
    assert isinstance(doc, str)
    return re.sub(r"<[^>]+>", " ", doc)


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]


def documented_sizes() -> tuple[dict[float, set[int]], dict[float, set[int]]]:
    """Fargate's sizes as botocore's documentation lists them: by vCPU, and by memory."""
    text = " ".join(fargate_documentation().split())
    by_vcpu: dict[float, set[int]] = {}
    vcpu_lists = r"value = ([\d.]+) MEMORY = ([\d, or]+?)(?= value| type|$)"
    for vcpu, memory in re.findall(vcpu_lists, text):
        by_vcpu[float(vcpu)] = {int(n) for n in _numbers(memory)}
    by_memory: dict[float, set[int]] = {}
    memory_lists = r"value = ([\d, or]+?) VCPU = ([\d., or]+?)(?= value| type)"
    for memory, vcpus in re.findall(memory_lists, text):
        for vcpu in _numbers(vcpus):
            by_memory.setdefault(vcpu, set()).update(int(m) for m in _numbers(memory))
    return by_vcpu, by_memory


def test_fargate_sizes_are_botocores() -> None:
    by_vcpu, by_memory = documented_sizes()
    assert len(by_vcpu) >= 8  # the parse found both lists
    assert len(by_memory) >= 8
    table = {vcpu: set(sizes) for vcpu, sizes in FARGATE_MEMORY.items()}
    assert by_vcpu == table
    assert by_memory == table
    assert FARGATE_MAX_VCPUS == 32
    assert FARGATE_MAX_MEMORY_MIB == 249856


FARGATE = DefinitionInfo(kind=JobKind.CONTAINER, platform=Platform.FARGATE)


@pytest.mark.parametrize("memory", [61440, 122880, 249856])
def test_a_32_vcpu_fargate_job_is_accepted(memory: int) -> None:
    check_fargate(32, memory, None, FARGATE)


def test_fargate_pairs_botocore_does_not_list_are_refused() -> None:
    with pytest.raises(ValueError, match="memory_mib"):
        check_fargate(32, 65536, None, FARGATE)
    with pytest.raises(ValueError, match="vcpus"):
        check_fargate(64, None, None, FARGATE)


def test_explain_caps_fargate_at_its_largest_size() -> None:
    def problems(vcpus: float, memory: int) -> list[str]:
        asked = Resources(vcpus=vcpus, memory_mib=memory)
        return misfit(asked, max_vcpus=256, fargate=True, instance_types=[])

    assert problems(32, 249856) == []
    assert problems(33, 1024) == ["a Fargate job has at most 32 vCPUs"]
    assert problems(16, 249857) == ["a Fargate job has at most 249856 MiB of memory"]
