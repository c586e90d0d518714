"""Answers damaged below their top level are ``MalformedResponseError`` at every read (issue 20).

The transport checks the top of every 2xx answer (``_transport/answers.py``); what lies deeper
shows when the library builds its models or indexes into the answer: a queue whose
``computeEnvironmentOrder`` item is a number, a definition whose ``containerProperties`` is a
list, a job whose ``container`` is a string, a per-job error of CancelJobs without its job...
Each read here meets three kinds of such damage (a wrong type deep down, a required member
missing deep down, ``null`` where an object is modelled), served by the proxy in front of
moto: an answer of moto's own, damaged and injected (``proxy.inject_answer``), or a job laid
over (``proxy.override_job``). Each raises ``MalformedResponseError`` naming the operation,
never a pydantic ``ValidationError``, ``KeyError``, ``TypeError`` or ``AttributeError``.

A damaged event of the EventBridge feed is dropped instead (counted, logged once); the wait it
would have ended ends from DescribeJobs' reconciliation.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiobotocore.session import AioSession

from aws_batch_async import (
    BatchConfig,
    BatchService,
    EventsConfig,
    JobRequest,
    MalformedResponseError,
    PollPolicy,
    ServiceJobRequest,
    StuckReason,
)
from aws_batch_async._waiting.event_feed import EventFedPoller
from aws_batch_async.testing import (
    BatchInfrastructure,
    BatchProxy,
    MotoServer,
    create_batch_infrastructure,
)

from ..conftest import REGION
from ..waiting.test_events import envelope

Damage = Callable[[dict[str, Any]], None]
JSON = "application/json"
KINDS = ("wrong type deep", "missing member deep", "null object")


@pytest.fixture(scope="module")
def infra(moto_server: MotoServer) -> BatchInfrastructure:
    """One queue and definition for the module (its tests only add jobs): moto is slow to set up."""
    moto_server.reset()
    return create_batch_infrastructure(moto_server.url, region=REGION)


def _check(error: MalformedResponseError, operation: str) -> None:
    assert error.operation == operation
    assert error.code == "MalformedResponse"
    assert error.body_head  # the answer's head, for debugging


async def _answer(batch: BatchService, operation: str, **params: Any) -> dict[str, Any]:
    """moto's own answer to ``operation``, as JSON again (without botocore's metadata)."""
    answer = await batch.call(operation, **params)
    answer.pop("ResponseMetadata", None)
    loaded: dict[str, Any] = json.loads(json.dumps(answer, default=str))
    return loaded


def _inject(proxy: BatchProxy, operation: str, body: dict[str, Any]) -> None:
    proxy.inject_answer(operation, json.dumps(body), content_type=JSON)


# ---------------------------------------------------------------------------------------------
# Queues, compute environments, job definitions, the queue snapshot

#: Damage to the first item of each read's answer, by kind.
QUEUE_DAMAGE: dict[str, Damage] = {
    "wrong type deep": lambda q: q.update(computeEnvironmentOrder=[7]),
    "missing member deep": lambda q: q.update(computeEnvironmentOrder=[{"order": 1}]),
    "null object": lambda q: q.update(computeEnvironmentOrder=[None]),
}
ENVIRONMENT_DAMAGE: dict[str, Damage] = {
    "wrong type deep": lambda e: e.update(computeResources="large"),
    "missing member deep": lambda e: e.pop("computeEnvironmentArn"),
    "null object": lambda e: e.update(
        computeResources={"type": "EC2", "maxvCpus": 4, "ec2Configuration": [None]}
    ),
}
DEFINITION_DAMAGE: dict[str, Damage] = {
    "wrong type deep": lambda d: d.update(containerProperties=["busybox"]),
    "missing member deep": lambda d: d.pop("revision"),
    "null object": lambda d: d.update(retryStrategy={"attempts": 2, "evaluateOnExit": [None]}),
}
SNAPSHOT_DAMAGE: dict[str, Damage] = {
    "wrong type deep": lambda s: s.update(frontOfQueue={"jobs": [{"jobArn": ["a", "b"]}]}),
    "missing member deep": lambda s: s.update(
        queueUtilization={"totalCapacityUsage": [{"quantity": "lots"}]}
    ),
    "null object": lambda s: s.update(frontOfQueue={"jobs": [None]}),
}


def _damaged(body: dict[str, Any], key: str | None, damage: Damage) -> dict[str, Any]:
    body = copy.deepcopy(body)
    damage(body[key][0] if key is not None else body)
    return body


@pytest.mark.parametrize("kind", KINDS)
async def test_damaged_queues_environments_and_definitions_raise(
    batch: BatchService, proxy: BatchProxy, infra: BatchInfrastructure, kind: str
) -> None:
    queues = await _answer(batch, "DescribeJobQueues")
    environments = await _answer(batch, "DescribeComputeEnvironments")
    definitions = await _answer(batch, "DescribeJobDefinitions", status="ACTIVE")
    assert queues["jobQueues"]
    assert environments["computeEnvironments"]
    assert definitions["jobDefinitions"]

    _inject(proxy, "DescribeJobQueues", _damaged(queues, "jobQueues", QUEUE_DAMAGE[kind]))
    with pytest.raises(MalformedResponseError) as raised:
        [q async for q in batch.describe_job_queues()]
    _check(raised.value, "DescribeJobQueues")

    body = _damaged(environments, "computeEnvironments", ENVIRONMENT_DAMAGE[kind])
    _inject(proxy, "DescribeComputeEnvironments", body)
    with pytest.raises(MalformedResponseError) as raised:
        [e async for e in batch.describe_compute_environments([infra.compute_environment])]
    _check(raised.value, "DescribeComputeEnvironments")

    body = _damaged(definitions, "jobDefinitions", DEFINITION_DAMAGE[kind])
    _inject(proxy, "DescribeJobDefinitions", body)
    with pytest.raises(MalformedResponseError) as raised:
        [d async for d in batch.describe_job_definitions()]
    _check(raised.value, "DescribeJobDefinitions")
    name = definitions["jobDefinitions"][0]["jobDefinitionName"]
    with pytest.raises(MalformedResponseError):
        await batch.latest_job_definition(name)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_damaged_queue_snapshot_raises(
    batch: BatchService, proxy: BatchProxy, kind: str
) -> None:
    snapshot = await _answer(batch, "GetJobQueueSnapshot", jobQueue=batch.config.job_queue)
    _inject(proxy, "GetJobQueueSnapshot", _damaged(snapshot, None, SNAPSHOT_DAMAGE[kind]))
    with pytest.raises(MalformedResponseError) as raised:
        await batch.get_job_queue_snapshot()
    _check(raised.value, "GetJobQueueSnapshot")


async def test_a_register_answer_without_its_revision_raises(
    batch: BatchService, proxy: BatchProxy
) -> None:
    answer = {"jobDefinitionName": "d", "jobDefinitionArn": "arn:aws:batch:x:1:job-definition/d"}
    _inject(proxy, "RegisterJobDefinition", answer)
    with pytest.raises(MalformedResponseError) as raised:
        await batch.register_job_definition(name="d", image="busybox", vcpus=1, memory_mib=512)
    _check(raised.value, "RegisterJobDefinition")
    _inject(proxy, "RegisterJobDefinition", answer)
    with pytest.raises(MalformedResponseError) as raised:
        await batch.ensure_job_definition(name="d", image="busybox", vcpus=1, memory_mib=512)
    _check(raised.value, "RegisterJobDefinition")


@pytest.mark.parametrize("kind", KINDS)
async def test_ensure_job_definition_raises_on_a_damaged_revision(
    batch: BatchService, proxy: BatchProxy, kind: str
) -> None:
    await batch.ensure_job_definition(name="ensured", image="busybox", vcpus=1, memory_mib=512)
    definitions = await _answer(
        batch, "DescribeJobDefinitions", jobDefinitionName="ensured", status="ACTIVE"
    )
    body = _damaged(definitions, "jobDefinitions", DEFINITION_DAMAGE[kind])
    _inject(proxy, "DescribeJobDefinitions", body)
    async with BatchService(batch.config) as fresh:  # nothing ensured yet: it reads
        with pytest.raises(MalformedResponseError) as raised:
            await fresh.ensure_job_definition(
                name="ensured", image="busybox:2", vcpus=1, memory_mib=512
            )
    _check(raised.value, "DescribeJobDefinitions")


# ---------------------------------------------------------------------------------------------
# explain

#: Damage laid over a job in DescribeJobs answers, by kind.
JOB_DAMAGE: dict[str, dict[str, Any]] = {
    "wrong type deep": {"container": "busybox"},
    "missing member deep": {"dependsOn": [{"type": "SEQUENTIAL"}], "attempts": [{}, 5]},
    "null object": {"attempts": [None]},
}


@pytest.mark.parametrize("kind", KINDS)
async def test_explain_of_a_damaged_job_raises(
    batch: BatchService, proxy: BatchProxy, kind: str
) -> None:
    job = await batch.submit_job(JobRequest())
    proxy.override_job(job.job_id, status="RUNNABLE", **JOB_DAMAGE[kind])
    with pytest.raises(MalformedResponseError) as raised:
        await batch.explain(job.job_id)
    _check(raised.value, "DescribeJobs")
    assert job.job_id in raised.value.body_head


@pytest.mark.parametrize("kind", KINDS)
async def test_explain_survives_damaged_reads_of_what_surrounds_the_job(
    batch: BatchService, proxy: BatchProxy, kind: str
) -> None:
    """A damaged queue or dependency answer makes the diagnosis poorer, as a refused read does."""
    dependency = await batch.submit_job(JobRequest())
    job = await batch.submit_job(JobRequest())
    proxy.override_job(dependency.job_id, status="RUNNING", **JOB_DAMAGE[kind])
    proxy.override_job(job.job_id, status="RUNNABLE", dependsOn=[{"jobId": dependency.job_id}])
    queues = await _answer(batch, "DescribeJobQueues")
    _inject(proxy, "DescribeJobQueues", _damaged(queues, "jobQueues", QUEUE_DAMAGE[kind]))
    diagnosis = await batch.explain(job.job_id)
    unread = [r for r in diagnosis.reasons if r.startswith("Could not read")]
    assert len(unread) == 2, diagnosis.reasons
    assert "its dependencies (DescribeJobs failed: MalformedResponse" in unread[0]
    assert "the job queue (DescribeJobQueues failed: MalformedResponse" in unread[1]
    assert diagnosis.verdict is StuckReason.UNKNOWN


# ---------------------------------------------------------------------------------------------
# Bulk stop


#: A CancelJobs / TerminateJobs answer damaged below its top, by kind (``{id}``: a job's id).
def _bulk_answer(kind: str, job_id: str) -> dict[str, Any]:
    error = {"job": job_id, "code": "ClientException", "message": "refused"}
    if kind == "wrong type deep":
        error["job"] = 7  # type: ignore[assignment]
    elif kind == "missing member deep":
        del error["job"]
    else:
        error["code"] = None  # type: ignore[assignment]
    return {"successful": [], "errors": [error]}


@pytest.mark.parametrize("kind", KINDS)
async def test_damaged_bulk_stop_answers_fail_their_jobs_as_malformed(
    batch: BatchService, proxy: BatchProxy, kind: str
) -> None:
    ids = [(await batch.submit_job(JobRequest())).job_id for _ in range(2)]
    for bulk, stop in (
        ("CancelJobs", batch.cancel_jobs),
        ("TerminateJobs", batch.terminate_jobs),
        ("TerminateJobs", batch.stop_jobs),
    ):
        _inject(proxy, bulk, _bulk_answer(kind, ids[0]))
        result = await stop(ids, "damaged")
        proxy.reset()
        assert result.succeeded == [], (bulk, result)
        assert set(result.failed) == set(ids)
        for error in result.failed.values():
            assert isinstance(error, MalformedResponseError), (bulk, error)
            _check(error, bulk)


# ---------------------------------------------------------------------------------------------
# list_jobs

LIST_DAMAGE: dict[str, Damage] = {
    "wrong type deep": lambda s: s.update(arrayProperties={"size": "ten"}),
    "missing member deep": lambda s: s.update(container={"exitCode": [1]}),
    "null object": lambda s: s.update(arrayProperties=["null"]),
}


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
@pytest.mark.parametrize("kind", KINDS)
async def test_damaged_list_and_describe_jobs_answers_raise(
    config: BatchConfig, proxy: BatchProxy, kind: str, fast_path: bool
) -> None:
    """botocore's parser met the damage first off the fast path: ``int("ten")``..."""
    async with BatchService(config.model_copy(update={"fast_path": fast_path})) as batch:
        job = await batch.submit_job(JobRequest())
        query = {"jobQueue": config.job_queue, "jobStatus": "SUCCEEDED"}
        listed = await _answer(batch, "ListJobs", **query)
        assert listed["jobSummaryList"]
        _inject(proxy, "ListJobs", _damaged(listed, "jobSummaryList", LIST_DAMAGE[kind]))
        with pytest.raises(MalformedResponseError) as raised:
            [j async for j in batch.list_jobs()]
        _check(raised.value, "ListJobs")
        described = await _answer(batch, "DescribeJobs", jobs=[job.job_id])
        _inject(proxy, "DescribeJobs", _damaged(described, "jobs", LIST_DAMAGE[kind]))
        with pytest.raises(MalformedResponseError) as raised:
            await batch.get_job_status(job.job_id)
        _check(raised.value, "DescribeJobs")


# ---------------------------------------------------------------------------------------------
# Idempotency keys: the lookup reads tags

TAGS_DAMAGE: dict[str, Any] = {
    "wrong type deep": ["aws-batch-async:idempotency-key", "wrong type deep"],
    "missing member deep": "aws-batch-async:idempotency-key",
    "null object": 7,
}


@pytest.mark.parametrize("kind", KINDS)
async def test_a_keyed_submit_whose_lookup_reads_damaged_tags_raises(
    config: BatchConfig, proxy: BatchProxy, kind: str
) -> None:
    async with BatchService(config) as first:
        job = await first.submit_job(JobRequest(idempotency_key=kind))
    proxy.override_job(job.job_id, tags=TAGS_DAMAGE[kind])
    async with BatchService(config) as second:  # a new process: it looks the key up
        with pytest.raises(MalformedResponseError) as raised:
            await second.submit_job(JobRequest(idempotency_key=kind))
    _check(raised.value, "DescribeJobs")
    assert proxy.count("SubmitJob") == 1  # the lookup failed: nothing was sent


# ---------------------------------------------------------------------------------------------
# Service jobs

PAYLOAD = {"TrainingJobName": "t", "AlgorithmSpecification": {"TrainingInputMode": "File"}}

SERVICE_DAMAGE: dict[str, Damage] = {
    "wrong type deep": lambda j: j.update(retryStrategy="twice"),
    "missing member deep": lambda j: j.pop("jobId"),
    "null object": lambda j: j.update(attempts=[None]),
}
SERVICE_SUMMARY_DAMAGE: dict[str, Damage] = {
    "wrong type deep": lambda j: j.update(latestAttempt="sagemaker"),
    "missing member deep": lambda j: j.pop("jobId"),
    "null object": lambda j: j.update(latestAttempt=["null"]),
}


@pytest.mark.parametrize("kind", KINDS)
async def test_damaged_service_job_answers_raise(
    batch: BatchService, proxy: BatchProxy, kind: str
) -> None:
    proxy.service_jobs.step = 60.0  # stays SUBMITTED
    request = ServiceJobRequest.model_validate(
        {"job_name": "train", "service_request_payload": PAYLOAD}
    )
    job = await batch.submit_service_job(request)
    detail = await _answer(batch, "DescribeServiceJob", jobId=job.job_id)
    body = _damaged(detail, None, SERVICE_DAMAGE[kind])
    _inject(proxy, "DescribeServiceJob", body)
    with pytest.raises(MalformedResponseError) as raised:
        await batch.describe_service_job(job.job_id)
    _check(raised.value, "DescribeServiceJob")

    listed = await _answer(
        batch, "ListServiceJobs", jobQueue=batch.config.job_queue, jobStatus="SUBMITTED"
    )
    assert listed["jobSummaryList"]
    body = _damaged(listed, "jobSummaryList", SERVICE_SUMMARY_DAMAGE[kind])
    _inject(proxy, "ListServiceJobs", body)
    with pytest.raises(MalformedResponseError) as raised:
        [j async for j in batch.list_service_jobs(job_status="SUBMITTED")]
    _check(raised.value, "ListServiceJobs")

    _inject(proxy, "TerminateServiceJobs", _bulk_answer(kind, job.job_id))
    result = await batch.terminate_service_jobs([job.job_id], "damaged")
    assert result.succeeded == []
    error = result.failed[job.job_id]
    assert isinstance(error, MalformedResponseError), error
    _check(error, "TerminateServiceJobs")


# ---------------------------------------------------------------------------------------------
# The EventBridge feed: a damaged event is dropped; reconciliation ends the wait

#: Event details damaged below their top, each for the waited job and ahead of what was seen
#: (a damaged detail that is behind is dropped as stale, before it is read).
EVENT_DAMAGE: list[dict[str, Any]] = [
    {"status": ["SUCCEEDED"]},  # an unhashable status
    {"status": "SUCCEEDED", "container": "busybox"},  # terminal, a wrong type deep down
    {"status": "RUNNING", "attempts": [None, 5]},  # not terminal: it was never validated
    {"status": "RUNNING", "attempts": [{}] * 3, "arrayProperties": {"statusSummary": [1]}},
    {"status": "SUCCEEDED", "jobName": None},  # a required member missing
]


@pytest.fixture
async def sqs(moto_server: MotoServer) -> AsyncIterator[Any]:
    async with AioSession().create_client(
        "sqs", region_name=REGION, endpoint_url=moto_server.url
    ) as client:
        yield client


async def test_a_damaged_event_is_dropped_and_the_wait_ends_by_reconciliation(
    config: BatchConfig,
    proxy: BatchProxy,
    moto_server: MotoServer,
    sqs: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_server.url)
    queue_url = (await sqs.create_queue(QueueName="damaged-events"))["QueueUrl"]
    events = EventsConfig(queue_url=queue_url, reconcile_interval=1.0)
    fed = config.model_copy(
        update={"events": events, "poll": PollPolicy(initial_interval=0.05, max_interval=0.2)}
    )
    async with BatchService(fed) as batch:
        job = await batch.submit_job(JobRequest())
        proxy.override_job(job.job_id, status="RUNNING")
        poller = batch._waiting.created_poller
        assert isinstance(poller, EventFedPoller)
        with caplog.at_level(logging.WARNING, logger="aws_batch_async"):
            wait = asyncio.ensure_future(batch.wait_for(job.job_id))
            consumer = poller.feed
            assert consumer is not None
            for damage in EVENT_DAMAGE:
                event = {"jobId": job.job_id, "jobName": "n", "jobQueue": "q", **damage}
                event = {k: v for k, v in event.items() if v is not None}
                await sqs.send_message(QueueUrl=queue_url, MessageBody=envelope(event))
            for _ in range(400):
                if consumer.counts["malformed"] >= len(EVENT_DAMAGE):
                    break
                await asyncio.sleep(0.01)
            assert consumer.counts["malformed"] == len(EVENT_DAMAGE), consumer.counts
            assert consumer.counts["applied"] == 0
            assert poller.event_fed  # the consumer still runs: no fall back to polling
            assert not wait.done()
            proxy.override_job(job.job_id, status="SUCCEEDED")  # no event says so
            finished = await asyncio.wait_for(wait, 5)
    assert finished.status.value == "SUCCEEDED"
    warnings = [r for r in caplog.records if "damaged" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    assert warnings[0].levelno == logging.WARNING
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ---------------------------------------------------------------------------------------------
# Waits: a job answered damaged for a while is polled again, never a failed wait


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
async def test_a_wait_outlives_a_job_answered_damaged_for_a_while(
    config: BatchConfig, proxy: BatchProxy, fast_path: bool
) -> None:
    polled = config.model_copy(
        update={
            "fast_path": fast_path,
            "poll": PollPolicy(initial_interval=0.02, max_interval=0.05),
        }
    )
    async with BatchService(polled) as batch:
        job = await batch.submit_job(JobRequest())
        proxy.override_job(job.job_id, status="RUNNING", attempts=[None], container="busybox")
        wait = asyncio.ensure_future(batch.wait_for(job.job_id))
        for _ in range(500):
            if proxy.count("DescribeJobs") >= 4 or wait.done():
                break
            await asyncio.sleep(0.01)
        assert not wait.done(), wait.exception()
        proxy.override_job(job.job_id, status="SUCCEEDED", attempts=None, container=None)
        finished = await asyncio.wait_for(wait, 5)
    assert finished.status.value == "SUCCEEDED"
