"""Closing the service, refusing use after close, and no secrets in DEBUG logging."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from aws_batch_async import (
    BatchConfig,
    BatchService,
    JobRequest,
    JobResponse,
    ServiceClosedError,
    SubmitJobsError,
    SubmitOutcomeUnknownError,
    SubmitRetry,
)
from aws_batch_async.testing import BatchInfrastructure, BatchProxy, MotoServer

from ..submitting.test_submit import FAST, server_jobs
from ..waiting.test_wait import until

#: Every public method, called with valid arguments.
METHODS: list[tuple[str, Callable[[BatchService], Any]]] = [
    ("submit_job", lambda b: b.submit_job(JobRequest())),
    ("submit_jobs", lambda b: b.submit_jobs([JobRequest()])),
    ("get_job_status", lambda b: b.get_job_status("job-id")),
    ("describe_jobs", lambda b: b.describe_jobs(["job-id"])),
    ("list_jobs", lambda b: b.list_jobs()),
    ("wait_for", lambda b: b.wait_for("job-id")),
    ("watch", lambda b: b.watch("job-id")),
    ("as_completed", lambda b: b.as_completed(["job-id"])),
    ("get_logs", lambda b: b.get_logs("job-id")),
    ("cancel_job", lambda b: b.cancel_job("job-id", "why")),
    ("terminate_job", lambda b: b.terminate_job("job-id", "why")),
    ("stop_job", lambda b: b.stop_job("job-id", "why")),
    # a job's whole life (_service_lifecycle.py)
    ("run_job", lambda b: b.run_job(JobRequest())),
    ("resubmit", lambda b: b.resubmit("job-id")),
    ("request_of", lambda b: b.request_of("job-id")),
]


async def call(action: Callable[[BatchService], Any], batch: BatchService) -> None:
    outcome = action(batch)
    if hasattr(outcome, "__aiter__"):
        async for _ in outcome:
            pass
    else:
        await outcome


def other_tasks() -> list[asyncio.Task[Any]]:
    current = asyncio.current_task()
    return [t for t in asyncio.all_tasks() if t is not current]


async def test_exit_closes_everything_and_leaves_no_task_or_resource_warning(
    config: BatchConfig, proxy: BatchProxy
) -> None:
    proxy.drop_responses("SubmitJob", probability=0.3)  # exercise lookups and re-sends too
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with BatchService(config) as batch:
            jobs = await batch.submit_jobs([JobRequest() for _ in range(20)])
            await batch.describe_jobs([j.job_id for j in jobs])
        assert batch.is_closed
        await asyncio.sleep(0)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert other_tasks() == []


@pytest.mark.parametrize(("name", "action"), METHODS, ids=[m[0] for m in METHODS])
async def test_every_method_refuses_a_service_that_is_not_open(
    config: BatchConfig, proxy: BatchProxy, name: str, action: Callable[[BatchService], Any]
) -> None:
    unopened = BatchService(config)
    with pytest.raises(ServiceClosedError, match="not open"):
        await call(action, unopened)
    async with BatchService(config) as batch:
        pass
    with pytest.raises(ServiceClosedError, match="closed"):
        await call(action, batch)
    assert proxy.calls == []


async def test_close_is_idempotent_and_a_closed_service_cannot_reopen(config: BatchConfig) -> None:
    batch = BatchService(config)
    await batch.open()
    await batch.aclose()
    await batch.aclose()
    with pytest.raises(ServiceClosedError, match="closed"):
        await batch.open()
    with pytest.raises(ServiceClosedError):
        async with batch:
            pass


async def test_closing_fails_waiting_submits_at_once(
    config: BatchConfig, proxy: BatchProxy
) -> None:
    async with BatchService(config.model_copy(update={"submit_rate_limit": 5.0})) as batch:
        submits = [asyncio.ensure_future(batch.submit_job(JobRequest())) for _ in range(50)]
        await asyncio.sleep(0.5)  # a few are sent; the rest wait for a slot (10 s at 5/s)
    start = time.monotonic()
    outcomes = await asyncio.gather(*submits, return_exceptions=True)
    assert time.monotonic() - start < 2.0
    refused = [o for o in outcomes if isinstance(o, ServiceClosedError)]
    assert len(refused) >= 40
    assert len(refused) + proxy.count("SubmitJob") >= 50
    assert other_tasks() == []


async def test_closing_during_submit_jobs_ends_it_and_lists_what_was_created(
    config: BatchConfig, proxy: BatchProxy, moto_server: MotoServer, infra: BatchInfrastructure
) -> None:
    created: list[JobResponse] = []
    five = asyncio.Event()

    def on_submitted(index: int, job: JobResponse) -> None:
        created.append(job)
        if len(created) == 5:
            five.set()

    requests = [JobRequest() for _ in range(100)]
    batch = BatchService(config.model_copy(update={"submit_rate_limit": 10.0}))
    await batch.open()
    fan_out = asyncio.ensure_future(
        batch.submit_jobs(requests, on_submitted=on_submitted, retry=FAST)
    )
    await five.wait()
    await batch.aclose()
    start = time.monotonic()
    with pytest.raises(SubmitJobsError) as info:
        await fan_out
    assert time.monotonic() - start < 3.0
    error = info.value
    assert {j.job_id for j in created} == {j.job_id for j in error.submitted.values()}
    assert len(error.not_submitted) >= 80
    assert all(
        isinstance(e, (ServiceClosedError, SubmitOutcomeUnknownError))
        for e in error.errors.values()
    )
    on_server = {j["jobId"] for j in await server_jobs(moto_server, infra.job_queue)}
    assert {j.job_id for j in created} <= on_server
    unknown = [e for e in error.errors.values() if isinstance(e, SubmitOutcomeUnknownError)]
    assert len(on_server) - len(created) <= len(unknown)  # nothing created went unreported
    assert other_tasks() == []


async def test_submit_jobs_with_return_exceptions_fills_every_slot_when_closed(
    config: BatchConfig,
) -> None:
    batch = BatchService(config.model_copy(update={"submit_rate_limit": 10.0}))
    await batch.open()
    requests = [JobRequest() for _ in range(40)]
    fan_out = asyncio.ensure_future(batch.submit_jobs(requests, return_exceptions=True))
    await asyncio.sleep(0.3)
    await batch.aclose()
    results = await fan_out
    assert len(results) == 40
    assert any(isinstance(r, JobResponse) for r in results)
    assert sum(isinstance(r, ServiceClosedError) for r in results) >= 30


# ---------------------------------------------------------------------------------------------
# Secrets


async def test_secrets_never_reach_logs_reprs_or_errors_on_the_submit_paths(
    config: BatchConfig,
    proxy: BatchProxy,
    infra: BatchInfrastructure,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret_config = BatchConfig.model_validate(
        {
            **config.model_dump(),
            "access_key_id": "AKIDEXAMPLEKEY",
            "secret_access_key": "creds-s3cr3t",
            "session_token": "token-s3cr3t",
        }
    )
    request = JobRequest(
        job_name="secret-holder",
        env_vars={"DB_PASSWORD": "env-s3cr3t"},
        parameters={"api_key": "param-s3cr3t"},
    )
    texts = [repr(secret_config), str(secret_config), repr(request), str(request)]
    caplog.set_level(logging.DEBUG, logger="aws_batch_async")
    async with BatchService(secret_config) as batch:
        texts.append(repr(batch))
        # Lost answers, 5xx and throttling: the warning and retry paths all log.
        proxy.drop_responses("SubmitJob", times=1)
        jobs = [await batch.submit_job(request, retry=FAST)]
        proxy.inject_error("SubmitJob", status=500, times=1)
        jobs.append(await batch.submit_job(request, retry=FAST))
        proxy.inject_error("SubmitJob", status=429, times=1)
        jobs += await batch.submit_jobs([request] * 2, retry=FAST)
        texts.extend(repr(j) for j in jobs)
        texts.extend(repr(d) for d in await batch.describe_jobs([j.job_id for j in jobs]))

        bad = request.model_copy(update={"job_queue": "no-such-queue"})
        with pytest.raises(SubmitJobsError) as failed:
            await batch.submit_jobs([request, bad], concurrency=1)
        texts += [str(failed.value), repr(failed.value), str(failed.value.__cause__)]
        texts.append(repr(SubmitRetry()))

    no_token = secret_config.model_copy(update={"idempotent_submit": False})
    async with BatchService(no_token) as batch:
        proxy.drop_responses("SubmitJob", times=1)
        with pytest.raises(SubmitOutcomeUnknownError) as unknown:
            await batch.submit_job(request)
        texts += [str(unknown.value), repr(unknown.value)]

    records = [r.getMessage() for r in caplog.records]
    assert any("outcome unknown" in m for m in records)  # the paths above really ran
    assert any("retrying SubmitJob" in m for m in records)
    assert {c.access_key_id for c in proxy.calls} == {"AKIDEXAMPLEKEY"}  # they were used
    for text in texts + records:
        assert "s3cr3t" not in text.lower(), text
    # The access key id is no secret to AWS (the config's repr shows it), but logs and errors
    # have no business carrying it either.
    for text in records + texts[4:]:
        assert "AKIDEXAMPLEKEY" not in text, text


@pytest.mark.parametrize("operation", ["DescribeJobDefinitions", "ListJobs"])
async def test_a_read_in_flight_when_the_service_closes_is_service_closed(
    config: BatchConfig, proxy: BatchProxy, operation: str
) -> None:
    proxy.add_delay(operation, 1.0)
    batch = BatchService(config)
    await batch.open()
    params = {"jobQueue": config.job_queue} if operation == "ListJobs" else {}
    read = asyncio.ensure_future(batch.call(operation, **params))
    await until(lambda: proxy.in_flight(operation) > 0)
    await batch.aclose()
    with pytest.raises(ServiceClosedError, match=f"closed during {operation}"):
        await read


async def test_submits_waiting_for_their_definition_fail_as_closed(
    config: BatchConfig, proxy: BatchProxy
) -> None:
    proxy.add_delay("DescribeJobDefinitions", 1.0)
    batch = BatchService(config)
    await batch.open()
    submits = [asyncio.ensure_future(batch.submit_job(JobRequest())) for _ in range(5)]
    await until(lambda: proxy.in_flight("DescribeJobDefinitions") > 0)
    await batch.aclose()
    outcomes = await asyncio.gather(*submits, return_exceptions=True)
    assert [type(o) for o in outcomes] == [ServiceClosedError] * 5
    assert proxy.count("SubmitJob") == 0


async def test_a_logs_read_in_flight_when_the_service_closes_is_service_closed(
    config: BatchConfig, proxy: BatchProxy
) -> None:
    proxy.add_delay("DescribeLogStreams", 1.0)
    batch = BatchService(config)
    await batch.open()
    read = asyncio.ensure_future(
        batch._clients.call_logs("DescribeLogStreams", logGroupName="/aws/batch/job")
    )
    await until(lambda: proxy.in_flight("DescribeLogStreams") > 0)
    await batch.aclose()
    with pytest.raises(ServiceClosedError, match="closed during DescribeLogStreams"):
        await read
