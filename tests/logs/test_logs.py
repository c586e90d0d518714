"""``BatchService.get_logs``: attempts, paging, groups, errors, and following a running job.

The first part reads streams written straight into moto (through the AWS-faithful proxy, with
a DescribeJobs hook describing attempts as AWS does); the second follows jobs that really run,
in a LocalBatch in "run" mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from aiobotocore.session import AioSession

from aws_batch_async import (
    BatchAPIError,
    BatchConfig,
    BatchError,
    BatchService,
    JobNotFoundError,
    JobRequest,
    JobStatus,
    LogEvent,
    PollPolicy,
    ServiceClosedError,
    ThrottlingError,
)
from aws_batch_async.testing import BatchProxy, LocalBatch, MotoServer

REGION = "us-east-1"
FAST_POLL = PollPolicy(initial_interval=0.1, max_interval=0.5, not_found_grace=10)


async def collect(events: AsyncIterator[LogEvent]) -> list[LogEvent]:
    return [event async for event in events]


async def write_stream(client: Any, group: str, stream: str, messages: list[str]) -> None:
    """Create ``group``/``stream`` (if needed) and put ``messages``, a millisecond apart."""
    with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
        await client.create_log_group(logGroupName=group)
    await client.create_log_stream(logGroupName=group, logStreamName=stream)
    start = int(time.time() * 1000) - len(messages)
    events = [{"timestamp": start + i, "message": m} for i, m in enumerate(messages)]
    for i in range(0, len(events), 10_000):  # PutLogEvents takes 10,000 events at most
        await client.put_log_events(
            logGroupName=group, logStreamName=stream, logEvents=events[i : i + 10_000]
        )


@pytest.fixture
def describe_as(
    proxy: BatchProxy, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, dict[str, Any]], None]:
    """Make DescribeJobs report extra fields for a job (attempts, log configuration)."""
    overrides: dict[str, dict[str, Any]] = {}

    def hook(job: dict[str, Any]) -> None:
        for key, value in overrides.get(job["jobId"], {}).items():
            if key == "container":
                job.setdefault("container", {}).update(value)
            else:
                job[key] = value

    monkeypatch.setattr(proxy, "describe_hook", hook)

    def describe(job_id: str, fields: dict[str, Any]) -> None:
        overrides[job_id] = fields

    return describe


def attempts(*streams: str) -> list[dict[str, Any]]:
    return [{"container": {"logStreamName": s, "exitCode": 1}} for s in streams]


# ---------------------------------------------------------------------------------------------
# Reading finished jobs


async def test_every_attempt_in_order(
    batch: BatchService, logs_client: Any, describe_as: Callable[[str, dict[str, Any]], None]
) -> None:
    job = await batch.submit_job(JobRequest(command=["true"]))
    await write_stream(logs_client, "/aws/batch/job", "def/default/a0", ["first try", "oops"])
    await write_stream(logs_client, "/aws/batch/job", "def/default/a1", ["second try", "ok\n"])
    describe_as(
        job.job_id,
        {
            "attempts": attempts("def/default/a0", "def/default/a1"),
            "container": {"logStreamName": "def/default/a1"},
        },
    )
    events = await collect(batch.get_logs(job.job_id))
    assert [(e.attempt, e.message) for e in events] == [
        (0, "first try"),
        (0, "oops"),
        (1, "second try"),
        (1, "ok"),
    ]
    assert events[0].log_stream_name == "def/default/a0"
    assert events[0].timestamp <= events[1].timestamp
    only_second = await collect(batch.get_logs(job.job_id, attempt=1))
    assert [e.message for e in only_second] == ["second try", "ok"]
    assert await collect(batch.get_logs(job.job_id, attempt=7)) == []


async def test_the_running_attempt_comes_after_the_finished_ones(
    batch: BatchService, logs_client: Any, describe_as: Callable[[str, dict[str, Any]], None]
) -> None:
    # AWS lists finished attempts in `attempts`; the running one only in the container.
    job = await batch.submit_job(JobRequest(command=["true"]))
    await write_stream(logs_client, "/aws/batch/job", "d/default/old", ["old"])
    await write_stream(logs_client, "/aws/batch/job", "d/default/now", ["now"])
    describe_as(
        job.job_id,
        {"attempts": attempts("d/default/old"), "container": {"logStreamName": "d/default/now"}},
    )
    events = await collect(batch.get_logs(job.job_id))
    assert [(e.attempt, e.message) for e in events] == [(0, "old"), (1, "now")]


async def test_pages_through_long_streams(
    batch: BatchService,
    proxy: BatchProxy,
    logs_client: Any,
    describe_as: Callable[[str, dict[str, Any]], None],
) -> None:
    job = await batch.submit_job(JobRequest(command=["true"]))
    lines = [f"line {i}" for i in range(10_001)]  # GetLogEvents returns 10,000 at most
    await write_stream(logs_client, "/aws/batch/job", "d/default/long", lines)
    describe_as(
        job.job_id,
        {"attempts": attempts("d/default/long"), "container": {"logStreamName": "d/default/long"}},
    )
    proxy.clear_calls()
    events = await collect(batch.get_logs(job.job_id))
    assert [e.message for e in events] == lines
    # Two pages, then the page that hands back the same forward token: the end.
    assert proxy.count("GetLogEvents") == 3


async def test_reads_the_group_of_the_log_configuration(
    batch: BatchService, logs_client: Any, describe_as: Callable[[str, dict[str, Any]], None]
) -> None:
    job = await batch.submit_job(JobRequest(command=["true"]))
    await write_stream(logs_client, "/my/app", "d/default/x", ["from my group"])
    await write_stream(logs_client, "/aws/batch/job", "d/default/x", ["from the default"])
    config = {"logDriver": "awslogs", "options": {"awslogs-group": "/my/app"}}
    describe_as(
        job.job_id,
        {
            "attempts": attempts("d/default/x"),
            "container": {"logStreamName": "d/default/x", "logConfiguration": config},
        },
    )
    assert [e.message for e in await collect(batch.get_logs(job.job_id))] == ["from my group"]

    splunk = {"logDriver": "splunk", "options": {}}
    describe_as(
        job.job_id, {"container": {"logStreamName": "d/default/x", "logConfiguration": splunk}}
    )
    with pytest.raises(BatchError, match="splunk"):
        await collect(batch.get_logs(job.job_id))


async def test_a_stream_that_does_not_exist_yet_means_no_logs(batch: BatchService) -> None:
    job = await batch.submit_job(JobRequest(command=["true"]))
    detail = await batch.get_job_status(job.job_id)
    assert detail.log_stream_name  # moto names a stream it never creates
    assert await collect(batch.get_logs(job.job_id)) == []
    assert await collect(batch.get_logs(job.job_id, follow=True)) == []  # terminal: ends


async def test_following_a_finished_job_catches_lines_that_show_up_late(
    config: BatchConfig, logs_client: Any, describe_as: Callable[[str, dict[str, Any]], None]
) -> None:
    """CloudWatch shows lines with a lag: a FAILED job's traceback often arrives after it ends.

    Following reads on until two reads in a row find nothing and ``initial_interval`` has
    passed since the job's ``stoppedAt``; it used to stop at the first read of a terminal job.
    """
    poll = PollPolicy(initial_interval=0.5, max_interval=1.0)
    async with BatchService(config.model_copy(update={"poll": poll})) as batch:
        job = await batch.submit_job(JobRequest(command=["false"]))
        stream = "late/default/s"
        await write_stream(logs_client, "/aws/batch/job", stream, ["working"])
        describe_as(
            job.job_id,
            {
                "status": "FAILED",
                "stoppedAt": int(time.time() * 1000),
                "container": {"logStreamName": stream},
            },
        )

        async def late_traceback() -> None:
            await asyncio.sleep(0.4)
            await logs_client.put_log_events(
                logGroupName="/aws/batch/job",
                logStreamName=stream,
                logEvents=[{"timestamp": int(time.time() * 1000), "message": "Traceback: boom"}],
            )

        writer = asyncio.ensure_future(late_traceback())
        started = time.monotonic()
        events = await collect(batch.get_logs(job.job_id, follow=True))
        await writer
    assert [e.message for e in events] == ["working", "Traceback: boom"]
    assert time.monotonic() - started < 5


async def test_an_array_parent_points_to_its_children(batch: BatchService) -> None:
    job = await batch.submit_job(JobRequest(command=["true"], array_size=3))
    with pytest.raises(BatchError, match=rf"children \({job.job_id}:0 \.\. {job.job_id}:2\)"):
        await collect(batch.get_logs(job.job_id))
    assert await collect(batch.get_logs(f"{job.job_id}:1")) == []


async def test_errors(batch: BatchService, proxy: BatchProxy, config: BatchConfig) -> None:
    with pytest.raises(JobNotFoundError):
        await collect(batch.get_logs("no-such-job"))
    with pytest.raises(ValueError, match="attempt"):
        batch.get_logs("x", attempt=-1)
    with pytest.raises(TypeError, match="attempt"):
        batch.get_logs("x", attempt="0")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="job_id"):
        batch.get_logs(" ")

    job = await batch.submit_job(JobRequest(command=["true"]))
    proxy.inject_error("GetLogEvents", status=400, code="AccessDeniedException", times=1)
    with pytest.raises(BatchAPIError) as denied:
        await collect(batch.get_logs(job.job_id))
    assert denied.value.operation == "GetLogEvents"
    assert denied.value.code == "AccessDeniedException"
    proxy.inject_error("GetLogEvents", status=400, code="ThrottlingException")
    with pytest.raises(ThrottlingError):
        await collect(batch.get_logs(job.job_id))

    closed = BatchService(config)
    with pytest.raises(ServiceClosedError):
        closed.get_logs(job.job_id)


async def test_one_logs_client_for_the_service(
    config: BatchConfig,
    proxy: BatchProxy,
    moto_server: MotoServer,
    logs_client: Any,
    describe_as: Callable[[str, dict[str, Any]], None],
) -> None:
    async with BatchService(config) as batch:
        jobs = [await batch.submit_job(JobRequest(command=["true"])) for _ in range(3)]
        proxy.clear_calls()
        results = await asyncio.gather(
            *(collect(batch.get_logs(j.job_id)) for j in jobs for _ in range(4))
        )
        assert results == [[]] * 12
        assert proxy.count("GetLogEvents") == 12
    with pytest.raises(ServiceClosedError):
        batch.get_logs(jobs[0].job_id)

    # logs_endpoint_url sends the CloudWatch calls elsewhere (here: to moto, past the proxy).
    direct = config.model_copy(update={"logs_endpoint_url": moto_server.url})
    await write_stream(logs_client, "/aws/batch/job", "direct/default/s", ["direct"])
    async with BatchService(direct) as batch:
        job = await batch.submit_job(JobRequest(command=["true"]))
        describe_as(
            job.job_id,
            {
                "attempts": attempts("direct/default/s"),
                "container": {"logStreamName": "direct/default/s"},
            },
        )
        proxy.clear_calls()
        events = await collect(batch.get_logs(job.job_id))
    assert [e.message for e in events] == ["direct"]
    assert proxy.count("GetLogEvents") == 0
    assert proxy.count("DescribeJobs") == 1


# ---------------------------------------------------------------------------------------------
# Following jobs that really run


@pytest.fixture(scope="module")
def run_batch() -> Iterator[LocalBatch]:
    with LocalBatch(mode="run", log_group="/local/jobs", events=True) as local:
        yield local


def fast(local: LocalBatch) -> BatchConfig:
    """Polling only (the LocalBatch also sends events: see the event-fed test)."""
    return local.config.model_copy(update={"poll": FAST_POLL, "events": None})


async def test_following_with_events_costs_no_describe_jobs_per_look(
    run_batch: LocalBatch,
) -> None:
    script = "echo first; sleep 1; echo second; sleep 0.5; echo third"
    events = run_batch.config.events
    assert events is not None
    counts: dict[str, int] = {}
    for name, config in (
        ("polling", fast(run_batch)),
        (
            "events",
            run_batch.config.model_copy(
                update={
                    "poll": FAST_POLL,
                    "events": events.model_copy(update={"reconcile_interval": 600.0}),
                }
            ),
        ),
    ):
        calls: list[object] = []
        session = AioSession()  # a passed-in session's handlers see every call
        session.register("before-call.batch.DescribeJobs", lambda seen=calls, **_: seen.append(1))
        async with BatchService(config, session=session) as batch:
            job = await batch.submit_job(JobRequest(command=["sh", "-c", script]))
            calls.clear()
            messages = [e.message async for e in batch.get_logs(job.job_id, follow=True)]
            counts[name] = len(calls)
            done = await batch.get_job_status(job.job_id)
        assert messages == ["first", "second", "third"], name
        assert done.status is JobStatus.SUCCEEDED
    # With events: the first look, and the poller's first sweep (then it only reconciles,
    # every 600 s); the job's changes reach the reader as events. Polling looks every step.
    assert counts["events"] <= 2, counts
    assert counts["polling"] >= 3 * counts["events"], counts


async def test_follow_a_running_job(run_batch: LocalBatch) -> None:
    script = "echo first; sleep 2; echo second; sleep 1; echo third"
    async with BatchService(fast(run_batch)) as batch:
        job = await batch.submit_job(JobRequest(command=["sh", "-c", script]))
        messages: list[str] = []
        status_at_first_line = None
        async for event in batch.get_logs(job.job_id, follow=True):
            messages.append(event.message)
            if status_at_first_line is None:
                status_at_first_line = (await batch.get_job_status(job.job_id)).status
        final = await batch.get_job_status(job.job_id)
    assert messages == ["first", "second", "third"]
    assert status_at_first_line is JobStatus.RUNNING  # lines arrive while the job runs
    assert final.status is JobStatus.SUCCEEDED


async def test_follow_waits_for_a_job_that_has_not_started(run_batch: LocalBatch) -> None:
    async with BatchService(fast(run_batch)) as batch:
        first = await batch.submit_job(JobRequest(command=["sleep", "1"]))
        second = await batch.submit_job(
            JobRequest(command=["echo", "after the first"], depends_on=[first.job_id])
        )
        waiting = await batch.get_job_status(second.job_id)
        assert not waiting.status.has_started
        assert await collect(batch.get_logs(second.job_id)) == []  # no stream yet
        followed = await collect(batch.get_logs(second.job_id, follow=True))
        done = await batch.get_job_status(second.job_id)
    assert [e.message for e in followed] == ["after the first"]
    assert done.status is JobStatus.SUCCEEDED
    assert done.log_stream_name == followed[0].log_stream_name


async def test_logs_of_array_children(run_batch: LocalBatch) -> None:
    script = 'echo "child $AWS_BATCH_JOB_ARRAY_INDEX"'
    async with BatchService(fast(run_batch)) as batch:
        job = await batch.submit_job(JobRequest(command=["sh", "-c", script], array_size=2))
        await asyncio.gather(*(batch.wait_for(f"{job.job_id}:{i}", timeout=60) for i in range(2)))
        with pytest.raises(BatchError, match="children"):
            await collect(batch.get_logs(job.job_id))
        second = await collect(batch.get_logs(f"{job.job_id}:1"))
    assert [e.message for e in second] == ["child 1"]


async def test_a_job_that_writes_nothing(run_batch: LocalBatch) -> None:
    async with BatchService(fast(run_batch)) as batch:
        job = await batch.submit_job(JobRequest(command=["true"]))
        assert await collect(batch.get_logs(job.job_id, follow=True)) == []
        detail = await batch.get_job_status(job.job_id)
    assert detail.status is JobStatus.SUCCEEDED
    assert detail.log_stream_name is not None


async def test_logs_go_to_the_job_definitions_group(run_batch: LocalBatch) -> None:
    async with BatchService(fast(run_batch)) as batch:
        job = await batch.submit_job(JobRequest(command=["echo", "grouped"]))
        await batch.wait_for(job.job_id, timeout=60)
        events = await collect(batch.get_logs(job.job_id))
        stream = events[0].log_stream_name
    async with AioSession().create_client(
        "logs",
        region_name=run_batch.region,
        endpoint_url=run_batch.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        page = await client.get_log_events(
            logGroupName="/local/jobs", logStreamName=stream, startFromHead=True
        )
    assert [e["message"] for e in page["events"]] == ["grouped"]
