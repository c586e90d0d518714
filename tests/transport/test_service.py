"""BatchService against a real moto server, through the AWS-faithful proxy."""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

import pytest
from aiobotocore.session import AioSession
from botocore.exceptions import ClientError, EndpointConnectionError

from aws_batch_async import (
    BatchAPIError,
    BatchConfig,
    BatchConnectionError,
    BatchError,
    BatchService,
    ConfigurationError,
    JobNotFoundError,
    JobRequest,
    JobStatus,
    PollPolicy,
    ServiceClosedError,
    ThrottlingError,
)
from aws_batch_async.testing import BatchProxy, MotoServer

from ..conftest import REGION


async def submit_many(batch: BatchService, n: int, **kwargs: Any) -> list[str]:
    results = await asyncio.gather(*(batch.submit_job(JobRequest(**kwargs)) for _ in range(n)))
    return [r.job_id for r in results]


async def test_submit_and_describe_round_trip(batch: BatchService, proxy: BatchProxy) -> None:
    result = await batch.submit_job(
        JobRequest(job_name="my-job-123", command=["echo", "Hello, World!"], env_vars={"V": "1"})
    )
    assert result.job_name == "my-job-123"
    assert result.job_arn is not None
    assert result.job_arn.endswith(result.job_id)
    job = await batch.get_job_status(result.job_id)
    assert job.job_id == result.job_id
    assert job.status is JobStatus.SUCCEEDED  # moto's simple mode finishes jobs at submit
    sent = next(c.body for c in proxy.calls if c.operation == "SubmitJob")
    assert sent["containerOverrides"] == {
        "command": ["echo", "Hello, World!"],
        "environment": [{"name": "V", "value": "***"}],  # the proxy's log masks env values
    }
    assert "retryStrategy" not in sent  # unset: the job definition's applies


async def test_failed_jobs_are_reported(
    batch: BatchService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", "0")
    result = await batch.submit_job(JobRequest())
    assert (await batch.get_job_status(result.job_id)).status is JobStatus.FAILED


async def test_unknown_job_is_not_found(batch: BatchService) -> None:
    with pytest.raises(JobNotFoundError) as info:
        await batch.get_job_status("00000000-0000-0000-0000-000000000000")
    assert info.value.job_id == "00000000-0000-0000-0000-000000000000"


async def test_describe_jobs_chunks_by_100(batch: BatchService, proxy: BatchProxy) -> None:
    ids = await submit_many(batch, 230)
    proxy.clear_calls()
    wanted = [*reversed(ids), "no-such-job", ids[0]]
    jobs = await batch.describe_jobs(wanted)
    assert [j.job_id for j in jobs] == list(reversed(ids))  # input order, unknown absent, dedup
    sizes = sorted(len(c.body["jobs"]) for c in proxy.calls if c.operation == "DescribeJobs")
    assert sizes == [31, 100, 100]


async def test_describe_jobs_of_nothing_makes_no_call(
    batch: BatchService, proxy: BatchProxy
) -> None:
    assert await batch.describe_jobs([]) == []
    assert proxy.count() == 0


async def test_list_jobs_yields_every_status_across_pages(
    batch: BatchService, proxy: BatchProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    succeeded = set(await submit_many(batch, 5))
    monkeypatch.setenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", "0")
    failed = set(await submit_many(batch, 4))

    # Bare ListJobs on real AWS (and on the proxy) returns only RUNNING jobs: none here.
    client = batch._clients.batch()
    bare = await client.list_jobs(jobQueue=batch.config.job_queue or "")
    assert bare["jobSummaryList"] == []

    proxy.clear_calls()
    listed = [s async for s in batch.list_jobs(page_size=2)]
    assert [s.job_id for s in listed if s.job_id in succeeded | failed] == [
        s.job_id for s in listed
    ]
    assert len(listed) == len({s.job_id for s in listed}) == 9
    assert {s.job_id for s in listed} == succeeded | failed
    assert proxy.count("ListJobs") == 5  # 9 jobs, 2 per page
    created = [s.created_at.timestamp() if s.created_at else 0.0 for s in listed]
    assert created == sorted(created, reverse=True)  # newest first

    only_failed = [s async for s in batch.list_jobs(job_status="FAILED")]
    assert {s.job_id for s in only_failed} == failed
    assert all(s.status is JobStatus.FAILED for s in only_failed)
    paged_failed = [s async for s in batch.list_jobs(None, JobStatus.FAILED, page_size=1)]
    assert {s.job_id for s in paged_failed} == failed


async def test_list_jobs_fetches_pages_lazily(batch: BatchService, proxy: BatchProxy) -> None:
    await submit_many(batch, 6)
    proxy.clear_calls()
    jobs = batch.list_jobs(page_size=2)
    first = await anext(jobs)
    assert first.job_name.startswith("job-")
    assert proxy.count("ListJobs") == 1
    await jobs.aclose()


async def test_list_jobs_by_name_prefix(batch: BatchService) -> None:
    await batch.submit_job(JobRequest(job_name="etl-a"))
    await batch.submit_job(JobRequest(job_name="ETL-b"))
    await batch.submit_job(JobRequest(job_name="train-c"))
    names = sorted([s.job_name async for s in batch.list_jobs(job_name="etl-*")])
    assert names == ["ETL-b", "etl-a"]
    exact = [s.job_name async for s in batch.list_jobs(job_name="train-c", job_status="SUCCEEDED")]
    assert exact == ["train-c"]


async def test_list_array_children(batch: BatchService) -> None:
    parent = await batch.submit_job(JobRequest(array_size=3))
    # Listed before anything described it, the parent already shows its children's outcome.
    listed = [s async for s in batch.list_jobs()]
    assert [(s.job_id, s.status) for s in listed] == [(parent.job_id, JobStatus.SUCCEEDED)]
    assert listed[0].array_properties is not None
    assert listed[0].array_properties.size == 3
    children = [s async for s in batch.list_jobs(array_job_id=parent.job_id)]
    assert sorted(s.job_id for s in children) == [f"{parent.job_id}:{i}" for i in range(3)]
    queue = [s.job_id async for s in batch.list_jobs()]
    assert queue == [parent.job_id]  # a queue lists the parent, not its children
    job = await batch.get_job_status(parent.job_id)
    assert job.is_array_parent
    assert job.array_properties is not None
    assert job.array_properties.status_summary["SUCCEEDED"] == 3


async def test_cancel_and_terminate_send_the_reason(
    batch: BatchService, proxy: BatchProxy, caplog: pytest.LogCaptureFixture
) -> None:
    job_id = (await batch.submit_job(JobRequest())).job_id
    await batch.cancel_job(job_id, "User requested cancellation")
    await batch.terminate_job(job_id, "reason")
    bodies = {c.operation: c.body for c in proxy.calls}
    assert bodies["CancelJob"] == {"jobId": job_id, "reason": "User requested cancellation"}
    assert bodies["TerminateJob"] == {"jobId": job_id, "reason": "reason"}
    # Once the service has seen the job started, cancel_job warns that AWS will ignore it.
    await batch.get_job_status(job_id)
    with caplog.at_level(logging.WARNING, logger="aws_batch_async"):
        await batch.cancel_job(job_id, "too late")
    assert any("stop_job" in r.getMessage() for r in caplog.records)


async def test_stop_job_leaves_finished_jobs_alone(batch: BatchService, proxy: BatchProxy) -> None:
    job_id = (await batch.submit_job(JobRequest())).job_id
    proxy.clear_calls()
    seen = await batch.stop_job(job_id, "done anyway")
    assert seen.status is JobStatus.SUCCEEDED
    assert proxy.count("CancelJob") == proxy.count("TerminateJob") == 0


async def test_bad_arguments_make_no_call(batch: BatchService, proxy: BatchProxy) -> None:
    cases: list[tuple[type[Exception], Any]] = [
        (ValueError, batch.get_job_status("")),
        (TypeError, batch.get_job_status(123)),  # type: ignore[arg-type]
        (TypeError, batch.describe_jobs("abc")),
        (ValueError, batch.describe_jobs(["ok", " "])),
        (ValueError, batch.cancel_job("id", "")),
        (ValueError, batch.terminate_job("id", "x" * 1025)),
        (ValueError, batch.stop_job("", "r")),
        (TypeError, batch.submit_job({"job_name": "x"})),  # type: ignore[arg-type]
    ]
    for exc_type, coro in cases:
        with pytest.raises(exc_type):
            await coro
    for kwargs in (
        {"job_status": "DONE"},
        {"page_size": 0},
        {"page_size": 101},
        {"job_name": ""},
        {"array_job_id": "a", "job_queue": "q"},
        {"array_job_id": "a", "job_name": "n"},
    ):
        with pytest.raises(ValueError, match=r"job_status|page_size|job_name|array_job_id"):
            async for _ in batch.list_jobs(**kwargs):
                pass
    assert proxy.count() == 0


async def test_missing_queue_is_a_configuration_error_without_a_call(
    proxy: BatchProxy, infra: Any
) -> None:
    config = BatchConfig(region=REGION, endpoint_url=proxy.url)
    async with BatchService(config) as batch:
        with pytest.raises(ConfigurationError, match="job queue"):
            await batch.submit_job(JobRequest(job_definition=infra.job_definition))
        with pytest.raises(ConfigurationError, match="job queue"):
            async for _ in batch.list_jobs():
                pass
    assert proxy.count() == 0


async def test_aws_errors_are_typed_and_keep_their_cause(
    config: BatchConfig, proxy: BatchProxy
) -> None:
    async with BatchService(config.model_copy(update={"api_max_attempts": 2})) as batch:
        proxy.inject_error("DescribeJobs", status=500, times=2)
        with pytest.raises(BatchAPIError) as info:
            await batch.describe_jobs(["x"])
        error = info.value
        assert type(error) is BatchAPIError
        assert (error.operation, error.code, error.status_code) == (
            "DescribeJobs",
            "ServerException",
            500,
        )
        assert error.request_id is not None
        assert error.request_id.startswith("proxy-")
        assert isinstance(error.__cause__, ClientError)

        proxy.inject_error("ListJobs", status=429, times=2)
        with pytest.raises(ThrottlingError) as throttled:
            async for _ in batch.list_jobs():
                pass
        assert throttled.value.code == "TooManyRequestsException"
        assert throttled.value.status_code == 429
        assert isinstance(throttled.value, BatchAPIError)

        with pytest.raises(BatchAPIError) as rejected:
            await batch.submit_job(JobRequest(job_queue="no-such-queue"))
        assert rejected.value.code == "ClientException"
        assert rejected.value.status_code == 400
        assert isinstance(rejected.value.__cause__, ClientError)


async def test_throttling_is_retried_and_logged(
    batch: BatchService, proxy: BatchProxy, caplog: pytest.LogCaptureFixture
) -> None:
    proxy.inject_error("SubmitJob", status=429, times=1)
    with caplog.at_level(logging.WARNING, logger="aws_batch_async"):
        result = await batch.submit_job(JobRequest())
    assert result.job_id
    assert proxy.count("SubmitJob", outcome="injected") == 1
    assert any("retrying" in r.getMessage() for r in caplog.records)


async def test_unreachable_endpoint_is_a_connection_error(infra: Any) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = BatchConfig(
        region=REGION,
        endpoint_url=f"http://127.0.0.1:{port}",
        job_queue=infra.job_queue,
        job_definition=infra.job_definition,
        api_max_attempts=1,
        connect_timeout=2,
    )
    async with BatchService(config) as batch:
        with pytest.raises(BatchConnectionError) as info:
            await batch.get_job_status("abc")
    assert info.value.operation == "DescribeJobs"
    assert isinstance(info.value.__cause__, EndpointConnectionError)


async def test_closed_and_unopened_services_refuse_use(config: BatchConfig) -> None:
    service = BatchService(config)
    with pytest.raises(ServiceClosedError, match="not open"):
        await service.get_job_status("x")
    async with service as batch:
        assert batch is service
        assert not batch.is_closed
    assert service.is_closed
    with pytest.raises(ServiceClosedError, match="closed"):
        await service.submit_job(JobRequest())
    await service.aclose()  # idempotent
    with pytest.raises(ServiceClosedError):
        async with service:
            pass
    assert issubclass(ServiceClosedError, BatchError)


async def test_one_client_with_a_bounded_pool(config: BatchConfig, proxy: BatchProxy) -> None:
    ids: list[str] = []
    async with BatchService(config) as batch:
        ids = await submit_many(batch, 3)
    proxy.clear_calls()
    proxy.add_delay("DescribeJobs", 0.05)
    async with BatchService(config.model_copy(update={"max_pool_connections": 4})) as batch:
        await asyncio.gather(*(batch.describe_jobs([ids[i % 3]]) for i in range(40)))
        assert proxy.count("DescribeJobs") == 40
        assert 1 <= len(proxy.peers) <= 4
    proxy.clear_calls()
    proxy.reset()
    async with BatchService(config) as batch:
        for job_id in ids:  # sequential calls reuse one keep-alive connection
            await batch.get_job_status(job_id)
        assert len(proxy.peers) == 1


async def test_caller_session_is_used(config: BatchConfig, proxy: BatchProxy) -> None:
    session = AioSession()
    session.set_credentials("session-key", "session-secret")
    async with BatchService(config, session=session) as batch:
        assert batch._clients.batch().meta.config.max_pool_connections == 64  # type: ignore[attr-defined]
        await batch.submit_job(JobRequest())
        assert {c.access_key_id for c in proxy.calls} == {"session-key"}
    # the session is still usable: we did not close anything of the caller's
    async with session.create_client("batch", region_name=REGION, endpoint_url=proxy.url) as c:
        assert (await c.list_jobs(jobQueue=config.job_queue or "", jobStatus="SUCCEEDED"))[
            "jobSummaryList"
        ]


async def test_session_and_profile_together_are_rejected(config: BatchConfig) -> None:
    with pytest.raises(ConfigurationError):
        BatchService(config.model_copy(update={"profile": "dev"}), session=AioSession())


async def test_configuration_errors_at_open(config: BatchConfig) -> None:
    with pytest.raises(ConfigurationError, match="region"):
        async with BatchService(BatchConfig(job_queue="q")):
            pass
    with pytest.raises(ConfigurationError, match="profile"):
        async with BatchService(config.model_copy(update={"profile": "no-such-profile"})):
            pass


async def test_missing_credentials_are_a_configuration_error(
    config: BatchConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    async with BatchService(config) as batch:
        with pytest.raises(ConfigurationError, match="credentials"):
            await batch.get_job_status("x")


async def test_secrets_never_reach_logs_reprs_or_errors(
    config: BatchConfig, proxy: BatchProxy, caplog: pytest.LogCaptureFixture
) -> None:
    secret_config = config.model_copy(
        update={"access_key_id": "AKIDSECRETID", "secret_access_key": "creds-s3cr3t"}
    )
    secret_config = BatchConfig.model_validate(secret_config.model_dump())
    texts: list[str] = [repr(secret_config)]
    with caplog.at_level(logging.DEBUG, logger="aws_batch_async"):
        async with BatchService(secret_config) as batch:
            request = JobRequest(
                env_vars={"API_TOKEN": "env-s3cr3t"}, parameters={"pw": "param-s3cr3t"}
            )
            texts.append(repr(request))
            job = await batch.get_job_status((await batch.submit_job(request)).job_id)
            texts.append(repr(job))
            proxy.inject_error("SubmitJob", status=400, code="ClientException", times=5)
            with pytest.raises(BatchAPIError) as info:
                await batch.submit_job(request)
            texts.append(str(info.value))
    texts.extend(r.getMessage() for r in caplog.records)
    assert {c.access_key_id for c in proxy.calls} == {"AKIDSECRETID"}  # explicit creds were used
    assert any("submitted job" in t for t in texts)
    for text in texts:
        assert "s3cr3t" not in text


async def test_no_resource_warnings_or_pending_tasks(config: BatchConfig) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with BatchService(config) as batch:
            await batch.submit_job(JobRequest())
        await asyncio.sleep(0)
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    current = asyncio.current_task()
    assert [t for t in asyncio.all_tasks() if t is not current] == []


async def test_moto_server_fixture_is_loopback(moto_server: MotoServer) -> None:
    assert moto_server.url.startswith("http://127.0.0.1:")


async def test_cancel_warns_about_jobs_the_poller_saw_started(
    config: BatchConfig, caplog: pytest.LogCaptureFixture
) -> None:
    fast = config.model_copy(update={"poll": PollPolicy(initial_interval=0.05, max_interval=0.2)})
    async with BatchService(fast) as batch:
        job_id = (await batch.submit_job(JobRequest())).job_id
        await batch.wait_for(job_id, timeout=30)
        with caplog.at_level(logging.WARNING, logger="aws_batch_async"):
            await batch.cancel_job(job_id, "too late")
    assert any("AWS ignores CancelJob" in r.getMessage() for r in caplog.records)


async def test_the_fast_path_can_be_turned_off(config: BatchConfig, proxy: BatchProxy) -> None:
    async with BatchService(config.model_copy(update={"fast_path": False})) as batch:
        assert batch._clients._fast is None  # every call goes through botocore
        job = await batch.submit_job(JobRequest(command=["true"]))
        assert (await batch.get_job_status(job.job_id)).job_id == job.job_id
    async with BatchService(config) as batch:
        assert batch._clients._fast is not None
    assert proxy.count("SubmitJob") == 1
