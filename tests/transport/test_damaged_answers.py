"""Answers that are damaged, refused, too slow or cancelled, and what each call does then.

* a 2xx SubmitJob answer that is not a SubmitJob result is a lost answer: looked up, never
  re-sent blind, never raised as a decoding error (fast path and botocore's);
* every other operation raises ``MalformedResponseError`` for such an answer (``body_head``
  keeps its first bytes, masked), ``get_logs`` included;
* a connection that was never made sent nothing: re-sent without lookups, a few times;
* ``BatchConfig.call_timeout`` ends a call whose answer trickles in; a SubmitJob so ended is
  looked up;
* ``submit_jobs`` cancelled any number of times (``task.cancel()`` twice, anyio's
  ``move_on_after``) accounts for every job it created.

Job counts are read from moto itself, never from what the library believes it created.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import anyio
import pytest
from aiohttp import web

from aws_batch_async import (
    BatchConfig,
    BatchConnectionError,
    BatchService,
    CallTimeoutError,
    JobNotFoundError,
    JobRequest,
    JobResponse,
    MalformedResponseError,
)
from aws_batch_async._transport.wire import decode_json
from aws_batch_async.testing import BatchInfrastructure, BatchProxy, MotoServer

from ..submitting.test_submit import FAST, server_jobs

#: What a damaged 2xx answer looks like, by kind.
DAMAGED: dict[str, bytes] = {
    "truncated": b'{"jobArn": "arn:aws:batch:us-east-1:1:job/x", "jobName": "n", "jo',
    "html": b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    "empty object": b"{}",
    "a list": b"[]",
    "wrong shape": b'{"jobId": 7, "jobName": ["n"]}',
}
#: Damaged answers of DescribeJobs / ListJobs.
DAMAGED_READS: dict[str, bytes] = {
    "truncated": b'{"jobs": [{"jobId": "a", "jobName": "n", "status": "RUN',
    "html": b"<!DOCTYPE html><html><title>Error</title></html>",
    "null": b"null",
    "wrong shape": b'{"jobs": {"jobId": "a"}, "jobSummaryList": "none"}',
    "item without id": b'{"jobs": [{"jobName": "n"}], "jobSummaryList": [{"jobName": "n"}]}',
}


def _config(config: BatchConfig, fast_path: bool, **more: Any) -> BatchConfig:
    return config.model_copy(update={"fast_path": fast_path, **more})


# ---------------------------------------------------------------------------------------------
# SubmitJob: a damaged answer is a lost answer


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
async def test_a_damaged_submit_answer_is_looked_up_not_raised(
    config: BatchConfig,
    proxy: BatchProxy,
    moto_server: MotoServer,
    infra: BatchInfrastructure,
    fast_path: bool,
) -> None:
    ids = []
    async with BatchService(_config(config, fast_path)) as batch:
        await batch.submit_job(JobRequest())  # the fast path plans on a first call
        for kind, body in DAMAGED.items():
            proxy.clear_calls()
            proxy.inject_answer(
                "SubmitJob", body, content_type="application/json", after_forward=True, times=1
            )
            job = await batch.submit_job(JobRequest(), retry=FAST)
            ids.append(job.job_id)
            assert proxy.count("SubmitJob") == 1, kind  # found by its token: not sent again
            assert proxy.count("ListJobs") >= 1, kind
    jobs = await server_jobs(moto_server, infra.job_queue)
    assert set(ids) <= {j["jobId"] for j in jobs}
    assert len(jobs) == len(DAMAGED) + 1


async def test_damaged_submit_answers_before_moto_acted_are_resent_once(
    batch: BatchService, proxy: BatchProxy, moto_server: MotoServer, infra: BatchInfrastructure
) -> None:
    """The damaged answer came from something in between: no job; the lookup says so."""
    proxy.inject_answer("SubmitJob", DAMAGED["html"], times=1)
    job = await batch.submit_job(JobRequest(), retry=FAST)
    jobs = await server_jobs(moto_server, infra.job_queue)
    assert [j["jobId"] for j in jobs] == [job.job_id]
    assert proxy.count("SubmitJob") == 2


async def test_the_fault_matrix_loses_and_duplicates_nothing(
    batch: BatchService, proxy: BatchProxy, moto_server: MotoServer, infra: BatchInfrastructure
) -> None:
    """60 submits per fault, 20% of the answers faulty after moto created the job: 60 jobs."""
    before: set[str] = set()
    for fault in ("damaged", "dropped", "5xx"):
        proxy.reset()
        if fault == "damaged":
            for body in DAMAGED.values():
                proxy.inject_answer(
                    "SubmitJob", body, after_forward=True, probability=0.2 / len(DAMAGED)
                )
        elif fault == "dropped":
            proxy.drop_responses("SubmitJob", probability=0.2)
        else:
            proxy.inject_error("SubmitJob", status=500, probability=0.2, after_forward=True)
        outcomes = await asyncio.gather(
            *(batch.submit_job(JobRequest(), retry=FAST) for _ in range(60)),
            return_exceptions=True,
        )
        errors = [o for o in outcomes if not isinstance(o, JobResponse)]
        ids = {o.job_id for o in outcomes if isinstance(o, JobResponse)}
        every = [j["jobId"] for j in await server_jobs(moto_server, infra.job_queue)]
        created = [job_id for job_id in every if job_id not in before]
        before.update(every)
        faulty = proxy.count("SubmitJob", outcome="injected") + proxy.count(
            "SubmitJob", outcome="dropped"
        )
        print(
            f"fault matrix, {fault}: 60 submits, {faulty} faulty answers -> {len(created)} jobs, "
            f"{len(created) - len(set(created))} duplicated, {len(set(created) - ids)} ids "
            f"lost, {len(errors)} errors"
        )
        assert faulty >= 5, fault
        assert errors == [], fault
        assert len(created) == 60, fault
        assert set(created) == ids, fault


# ---------------------------------------------------------------------------------------------
# Every other operation: MalformedResponseError


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
async def test_damaged_reads_raise_malformed_response_error(
    config: BatchConfig, proxy: BatchProxy, fast_path: bool
) -> None:
    async with BatchService(_config(config, fast_path)) as batch:
        job = await batch.submit_job(JobRequest())
        await batch.describe_jobs([job.job_id])  # the fast path plans on a first call
        assert [j.job_id async for j in batch.list_jobs()] == [job.job_id]
        for body in DAMAGED_READS.values():
            proxy.reset()
            proxy.inject_answer("DescribeJobs", body, content_type="application/json")
            proxy.inject_answer("ListJobs", body, content_type="application/json")
            with pytest.raises(MalformedResponseError) as status_error:
                await batch.get_job_status(job.job_id)
            with pytest.raises(MalformedResponseError) as describe_error:
                await batch.describe_jobs([job.job_id])
            with pytest.raises(MalformedResponseError) as list_error:
                async for _ in batch.list_jobs():
                    pass
            assert describe_error.value.operation == "DescribeJobs"
            assert status_error.value.operation == "DescribeJobs"
            assert list_error.value.operation == "ListJobs"
            assert status_error.value.code == "MalformedResponse"
            assert status_error.value.status_code == 200
            assert status_error.value.body_head == body.decode()[:256]


async def test_a_job_of_the_wrong_shape_deep_down_is_a_malformed_response(
    batch: BatchService, proxy: BatchProxy
) -> None:
    job = await batch.submit_job(JobRequest())
    proxy.override_job(job.job_id, attempts=[{"container": {"exitCode": "not a number"}}])
    with pytest.raises(MalformedResponseError) as raised:
        await batch.get_job_status(job.job_id)
    assert raised.value.operation == "DescribeJobs"
    assert job.job_id in raised.value.body_head


async def test_body_head_masks_environment_and_parameter_values(
    batch: BatchService, proxy: BatchProxy
) -> None:
    job = await batch.submit_job(JobRequest())
    body = (
        '{"jobs": [{"jobId": "a", "parameters": {"password": "hunter2"}, "container": '
        '{"environment": [{"name": "TOKEN", "value": "s3cr3t"}, {"name": "X", "value": "sec'
    )
    proxy.inject_answer("DescribeJobs", body)
    with pytest.raises(MalformedResponseError) as raised:
        await batch.get_job_status(job.job_id)
    head = raised.value.body_head
    for secret in ("hunter2", "s3cr3t", '"sec'):
        assert secret not in head
    assert '"name": "TOKEN"' in head
    assert "***" in head


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
async def test_a_describe_answer_without_jobs_is_not_job_not_found(
    config: BatchConfig, proxy: BatchProxy, fast_path: bool
) -> None:
    """Without the fast path, botocore read an HTML 200 as "no jobs": JobNotFoundError."""
    async with BatchService(_config(config, fast_path)) as batch:
        job = await batch.submit_job(JobRequest())
        for body in (b"{}", b"<html>maintenance</html>", b""):
            proxy.inject_answer("DescribeJobs", body, times=1)
            with pytest.raises(MalformedResponseError):
                await batch.get_job_status(job.job_id)
        proxy.inject_answer("DescribeJobs", b'{"jobs": []}', times=1)
        with pytest.raises(JobNotFoundError):
            await batch.get_job_status(job.job_id)  # a clean answer without the job


async def test_a_garbled_get_log_events_answer_raises_instead_of_yielding_nothing(
    batch: BatchService, proxy: BatchProxy, logs_client: Any
) -> None:
    job = await batch.submit_job(JobRequest())
    await logs_client.create_log_group(logGroupName="/aws/batch/job")
    await logs_client.create_log_stream(logGroupName="/aws/batch/job", logStreamName="d/s")
    await logs_client.put_log_events(
        logGroupName="/aws/batch/job",
        logStreamName="d/s",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "hello"}],
    )
    proxy.override_job(job.job_id, container={"logStreamName": "d/s"})
    assert [e.message async for e in batch.get_logs(job.job_id)] == ["hello"]
    for body in (b"<html>oops</html>", b'{"events": "none"}', b'{"events": [{"message": 1}]}'):
        proxy.inject_answer(
            "GetLogEvents", body, content_type="application/x-amz-json-1.1", times=1
        )
        with pytest.raises(MalformedResponseError) as raised:
            async for _ in batch.get_logs(job.job_id):
                pass
        assert raised.value.operation == "GetLogEvents"


def test_decode_json_refuses_what_is_not_a_json_object() -> None:
    for body in (b"[]", b"null", b'"text"', b"7"):
        with pytest.raises(ValueError, match="not an object"):
            decode_json(body)
    with pytest.raises(ValueError, match="Expecting value"):
        decode_json(b"<html></html>")
    assert decode_json(b"") == {}


# ---------------------------------------------------------------------------------------------
# decode_json and "null"


def test_decode_json_drops_null_members_and_keeps_the_text_null(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aws_batch_async._transport import wire as _fastwire

    hooked: list[int] = []
    real = _fastwire._drop_nulls

    def counting(value: dict[str, Any]) -> dict[str, Any]:
        hooked.append(1)
        return real(value)

    monkeypatch.setattr(_fastwire, "_drop_nulls", counting)
    text_only = {"jobs": [{"jobId": "a", "command": ["sh", "-c", "x > /dev/null"], "n": "null"}]}
    assert decode_json(json.dumps(text_only).encode()) == text_only
    assert hooked == []  # the text "null" in strings costs no pass over the answer
    with_nulls = (
        b'{"jobs": [{"jobId": "a", "reason": null, "l": [null, {"x" :\n null}]}], "t": null}'
    )
    assert decode_json(with_nulls) == {"jobs": [{"jobId": "a", "l": [None, {}]}]}
    assert hooked
    assert decode_json(b'{"a": [ null ]}') == {"a": [None]}


# ---------------------------------------------------------------------------------------------
# A refused connection sent nothing


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@asynccontextmanager
async def forwarder(
    port: int, target: str, *, trickle: Callable[[str], bool] | None = None
) -> AsyncIterator[None]:
    """An HTTP endpoint on ``port`` that forwards every request to ``target``.

    Answers of the operations ``trickle`` picks are sent a byte every 0.2 s (after the
    target acted), as a connection whose every read succeeds but the answer never ends.
    """
    session = aiohttp.ClientSession()

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with session.request(
            request.method, target + request.path_qs, data=body, headers=headers
        ) as answer:
            data = await answer.read()
            status = answer.status
            content_type = answer.headers.get("Content-Type", "application/json")
        operation = request.headers.get("X-Amz-Target", request.path).rsplit("/", 1)[-1]
        if trickle is None or not trickle(operation):
            return web.Response(body=data, status=status, content_type=content_type.split(";")[0])
        response = web.StreamResponse(status=status, headers={"Content-Type": content_type})
        response.content_length = len(data)
        await response.prepare(request)
        for i in range(len(data)):
            await response.write(data[i : i + 1])
            await asyncio.sleep(0.2)
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield
    finally:
        await runner.cleanup()
        await session.close()


async def test_a_refused_submit_fails_within_seconds_without_lookups(
    config: BatchConfig, caplog: pytest.LogCaptureFixture
) -> None:
    down = config.model_copy(
        update={
            "endpoint_url": f"http://127.0.0.1:{_free_port()}",
            "job_definition_kind": "CONTAINER",
        }
    )
    async with BatchService(down) as batch:
        start = time.monotonic()
        with (
            caplog.at_level(logging.WARNING, logger="aws_batch_async"),
            pytest.raises(BatchConnectionError) as raised,
        ):
            await batch.submit_job(JobRequest())
        elapsed = time.monotonic() - start
    print(f"refused endpoint: BatchConnectionError after {elapsed:.2f} s, no lookups")
    assert type(raised.value) is BatchConnectionError
    assert raised.value.sent is False
    assert elapsed < 5, elapsed
    assert "outcome unknown" not in caplog.text
    assert len(re.findall(r"not sent", caplog.text)) == 3


async def test_a_submit_refused_then_served_is_sent_once(
    config: BatchConfig, proxy: BatchProxy, moto_server: MotoServer, infra: BatchInfrastructure
) -> None:
    port = _free_port()
    late = config.model_copy(
        update={"endpoint_url": f"http://127.0.0.1:{port}", "job_definition_kind": "CONTAINER"}
    )
    async with BatchService(late) as batch:
        submitter = batch._submitting.submitter
        real_sleep = submitter.sleep
        opened: list[Any] = []

        async def sleep(delay: float) -> None:  # the endpoint comes up at the first backoff
            if not opened:
                opened.append(forwarder(port, proxy.url))
                await opened[0].__aenter__()
            await real_sleep(delay)

        submitter.sleep = sleep
        proxy.clear_calls()
        try:
            job = await batch.submit_job(JobRequest())
        finally:
            if opened:
                await opened[0].__aexit__(None, None, None)
    assert opened
    assert proxy.count("SubmitJob") == 1
    assert proxy.count("ListJobs") == 0  # nothing had been sent: nothing to look up
    jobs = await server_jobs(moto_server, infra.job_queue)
    assert [j["jobId"] for j in jobs] == [job.job_id]


# ---------------------------------------------------------------------------------------------
# A deadline per call


def test_call_timeout_defaults_to_a_minute_and_may_be_off() -> None:
    assert BatchConfig().call_timeout == 60
    assert BatchConfig(call_timeout=None).call_timeout is None
    assert BatchConfig(call_timeout=float("inf")).call_timeout == float("inf")
    with pytest.raises(ValueError, match="greater than 0"):
        BatchConfig(call_timeout=0)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
async def test_a_trickling_answer_ends_at_the_call_timeout(
    config: BatchConfig, proxy: BatchProxy, fast_path: bool
) -> None:
    port = _free_port()
    slow = _config(
        config,
        fast_path,
        endpoint_url=f"http://127.0.0.1:{port}",
        read_timeout=2,
        call_timeout=1,
    )
    trickled = forwarder(port, proxy.url, trickle=lambda op: op == "describejobs")
    async with trickled, BatchService(slow) as batch:
        start = time.monotonic()
        with pytest.raises(CallTimeoutError) as raised:
            await batch.describe_jobs(["a" * 36])
        elapsed = time.monotonic() - start
    assert isinstance(raised.value, BatchConnectionError)
    assert isinstance(raised.value, TimeoutError)
    assert raised.value.operation == "DescribeJobs"
    assert 0.9 <= elapsed < 1.8, elapsed


async def test_a_submit_past_the_call_timeout_is_looked_up_not_duplicated(
    config: BatchConfig, proxy: BatchProxy, moto_server: MotoServer, infra: BatchInfrastructure
) -> None:
    port = _free_port()
    slow = config.model_copy(
        update={"endpoint_url": f"http://127.0.0.1:{port}", "call_timeout": 1.0}
    )
    trickled = forwarder(port, proxy.url, trickle=lambda op: op == "submitjob")
    async with trickled, BatchService(slow) as batch:
        job = await batch.submit_job(JobRequest(), retry=FAST)
    jobs = await server_jobs(moto_server, infra.job_queue)
    assert [j["jobId"] for j in jobs] == [job.job_id]
    assert proxy.count("SubmitJob") == 1
    assert proxy.count("ListJobs") >= 1


# ---------------------------------------------------------------------------------------------
# submit_jobs cancelled, however often


async def _cancelled_fan_out(
    config: BatchConfig,
    proxy: BatchProxy,
    caplog: pytest.LogCaptureFixture,
    cancel: Callable[[Callable[[], Awaitable[Any]]], Awaitable[None]],
) -> tuple[dict[int, JobResponse], str]:
    proxy.add_delay("SubmitJob", 0.3)  # sends are in flight when the cancellation comes
    created: dict[int, JobResponse] = {}
    requests = [JobRequest() for _ in range(60)]
    async with BatchService(config.model_copy(update={"submit_rate_limit": None})) as batch:
        with caplog.at_level(logging.WARNING, logger="aws_batch_async"):
            await cancel(
                lambda: batch.submit_jobs(
                    requests, concurrency=12, on_submitted=lambda i, j: created.__setitem__(i, j)
                )
            )
    current = asyncio.current_task()
    assert [t for t in asyncio.all_tasks() if t is not current] == []
    reports = [r.getMessage() for r in caplog.records if "interrupted" in r.getMessage()]
    assert len(reports) == 1, reports
    return created, reports[0]


async def _accounted(
    moto_server: MotoServer,
    infra: BatchInfrastructure,
    created: dict[int, JobResponse],
    report: str,
) -> None:
    jobs = {j["jobId"] for j in await server_jobs(moto_server, infra.job_queue)}
    assert jobs, "nothing was created before the cancellation"
    assert len(jobs) < 60
    named = {job_id for job_id in jobs if job_id in report}
    reported = {j.job_id for j in created.values()}
    print(
        f"cancelled fan-out: {len(jobs)} jobs created, {len(reported)} reported to "
        f"on_submitted, {len(named)} named in the warning, "
        f"{len(jobs - reported - named)} unaccounted for"
    )
    assert jobs <= reported | named, jobs - reported - named
    assert f"{len(jobs)} of 60 jobs created" in report
    assert "; 0 in doubt" in report


async def test_submit_jobs_cancelled_twice_accounts_for_every_job(
    config: BatchConfig,
    proxy: BatchProxy,
    moto_server: MotoServer,
    infra: BatchInfrastructure,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def cancel_twice(fan_out: Callable[[], Awaitable[Any]]) -> None:
        task = asyncio.ensure_future(fan_out())
        await asyncio.sleep(0.5)
        task.cancel()
        await asyncio.sleep(0.05)
        task.cancel()  # while it finishes the sends under way
        with pytest.raises(asyncio.CancelledError):
            await task

    created, report = await _cancelled_fan_out(config, proxy, caplog, cancel_twice)
    await _accounted(moto_server, infra, created, report)


async def test_submit_jobs_under_anyio_move_on_after_accounts_for_every_job(
    config: BatchConfig,
    proxy: BatchProxy,
    moto_server: MotoServer,
    infra: BatchInfrastructure,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def move_on(fan_out: Callable[[], Awaitable[Any]]) -> None:
        with anyio.move_on_after(0.5) as scope:
            await fan_out()
        assert scope.cancelled_caught

    created, report = await _cancelled_fan_out(config, proxy, caplog, move_on)
    await _accounted(moto_server, infra, created, report)


async def test_the_call_deadline_leaves_other_cancellations_alone() -> None:
    from aws_batch_async._transport.clients import _Deadline

    deadline = _Deadline(0.05)
    with pytest.raises(TimeoutError):
        async with deadline:
            await asyncio.sleep(5)
    assert deadline.expired()
    cancelling = getattr(asyncio.current_task(), "cancelling", None)  # Python 3.11+
    if cancelling is not None:
        assert cancelling() == 0  # our own cancel was taken back

    async def cancelled_meanwhile() -> None:
        async with _Deadline(0.05):
            await asyncio.sleep(5)

    task = asyncio.ensure_future(cancelled_meanwhile())
    await asyncio.sleep(0.01)
    task.cancel()  # the caller's cancellation is not turned into a timeout
    with pytest.raises(asyncio.CancelledError):
        await task
    async with _Deadline(None) as none:
        await asyncio.sleep(0)
    assert not none.expired()
