"""SageMaker service jobs: the typed calls against LocalBatch's emulation (the proxy)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

import pytest
from pydantic import ValidationError

from aws_batch_async import (
    BatchAPIError,
    BatchConfig,
    BatchConnectionError,
    BatchService,
    JobFailedError,
    JobNotFoundError,
    PollPolicy,
    ServiceJobDetail,
    ServiceJobRequest,
    ServiceJobRetryStrategy,
    ServiceJobSummary,
    SubmitOutcomeUnknownError,
    SubmitRetry,
    ThrottlingError,
    WaitTimeoutError,
)
from aws_batch_async._service_jobs.client import SUBMIT_SERVICE_JOB_RATE, ServiceJobs
from aws_batch_async.testing import BatchProxy

PAYLOAD = {"TrainingJobName": "t", "AlgorithmSpecification": {"TrainingInputMode": "File"}}
FAST_RETRY = SubmitRetry(initial_backoff=0.01, max_backoff=0.05, lookup_delays=(0.0, 0.05))


@pytest.fixture
async def svc(config: BatchConfig) -> AsyncIterator[BatchService]:
    fast = config.model_copy(
        update={"poll": PollPolicy(initial_interval=0.05, max_interval=0.1, not_found_grace=1)}
    )
    async with BatchService(fast) as service:
        yield service


def request(name: str = "train", **fields: object) -> ServiceJobRequest:
    return ServiceJobRequest.model_validate(
        {"job_name": name, "service_request_payload": PAYLOAD, **fields}
    )


async def test_submit_and_describe(svc: BatchService, proxy: BatchProxy) -> None:
    job = await svc.submit_service_job(request(scheduling_priority=5, tags={"team": "ml"}))
    detail = await svc.describe_service_job(job.job_id)
    assert isinstance(detail, ServiceJobDetail)
    assert (detail.job_id, detail.job_name, detail.scheduling_priority) == (job.job_id, "train", 5)
    assert json.loads(detail.service_request_payload or "") == PAYLOAD
    assert detail.service_job_type == "SAGEMAKER_TRAINING"
    assert detail.tags == {"team": "ml"}
    assert "service_request_payload" not in repr(detail)
    sent = [c.body for c in proxy.calls if c.operation == "SubmitServiceJob"]
    assert len(sent) == 1
    assert len(str(sent[0]["clientToken"])) == 32


async def test_dropped_answer_is_retried_into_one_job(svc: BatchService, proxy: BatchProxy) -> None:
    proxy.drop_responses("SubmitServiceJob", times=1)
    job = await svc.submit_service_job(request("once"), retry=FAST_RETRY)
    assert proxy.service_jobs.count() == 1
    assert (await svc.describe_service_job(job.job_id)).job_name == "once"
    sends = [c for c in proxy.calls if c.operation == "SubmitServiceJob"]
    assert [c.outcome for c in sends] == ["dropped", "rejected"]  # same token: AWS refuses
    assert sends[0].body["clientToken"] == sends[1].body["clientToken"]


async def test_server_error_before_creating_is_resent(svc: BatchService, proxy: BatchProxy) -> None:
    proxy.inject_error("SubmitServiceJob", status=500, times=1)
    job = await svc.submit_service_job(request("resent"), retry=FAST_RETRY)
    assert proxy.service_jobs.count() == 1
    assert (await svc.describe_service_job(job.job_id)).job_name == "resent"


async def test_client_error_is_final(svc: BatchService, proxy: BatchProxy) -> None:
    bad = request(service_job_type="SAGEMAKER_NOPE")
    with pytest.raises(BatchAPIError) as caught:
        await svc.submit_service_job(bad, retry=FAST_RETRY)
    assert caught.value.code == "ClientException"
    assert caught.value.__cause__ is not None
    assert proxy.count("SubmitServiceJob") == 1


async def test_list_without_status_gives_every_status(svc: BatchService, proxy: BatchProxy) -> None:
    proxy.service_jobs.step = 60.0  # stays SUBMITTED
    waiting = await svc.submit_service_job(request("waiting"))
    stopped = await svc.submit_service_job(request("stopped"))
    await svc.terminate_service_job(stopped.job_id, "not needed")
    jobs = [job async for job in svc.list_service_jobs(page_size=1)]
    assert all(isinstance(job, ServiceJobSummary) for job in jobs)
    assert {(j.job_id, j.status) for j in jobs} == {
        (waiting.job_id, "SUBMITTED"),
        (stopped.job_id, "FAILED"),
    }
    bare = await svc._clients.call("ListServiceJobs", jobQueue=svc.config.job_queue)
    assert bare["jobSummaryList"] == []  # AWS: RUNNING only without a status
    only = [job.job_id async for job in svc.list_service_jobs(job_status="FAILED")]
    assert only == [stopped.job_id]
    named = [job.job_id async for job in svc.list_service_jobs(job_name="wait*")]
    assert named == [waiting.job_id]


async def test_terminate_and_terminate_many(svc: BatchService, proxy: BatchProxy) -> None:
    proxy.service_jobs.step = 60.0
    ids = [(await svc.submit_service_job(request(f"j{i}"))).job_id for i in range(3)]
    await svc.terminate_service_job(ids[0], "one")
    result = await svc.terminate_service_jobs(ids[1:], "bulk")
    assert result.ok
    assert result.succeeded == ids[1:]
    assert proxy.count("TerminateServiceJobs") == 1
    for job_id, reason in zip(ids, ["one", "bulk", "bulk"], strict=True):
        detail = await svc.describe_service_job(job_id)
        assert (detail.status, detail.status_reason, detail.is_terminated) == (
            "FAILED",
            reason,
            True,
        )
    with pytest.raises(TypeError):
        await svc.terminate_service_jobs("abc", "no")


async def test_terminate_many_falls_back_without_bulk_operation(
    svc: BatchService, proxy: BatchProxy
) -> None:
    proxy.service_jobs.step = 60.0
    ids = [(await svc.submit_service_job(request(f"f{i}"))).job_id for i in range(2)]
    proxy.inject_answer("TerminateServiceJobs", "<html>Not Found</html>", status=404)
    result = await svc.terminate_service_jobs(ids, "fallback")
    assert result.ok
    assert sorted(result.succeeded) == sorted(ids)
    assert proxy.count("TerminateServiceJob") == 2
    assert {(await svc.describe_service_job(i)).status for i in ids} == {"FAILED"}


async def test_update_priority(svc: BatchService, proxy: BatchProxy) -> None:
    proxy.service_jobs.step = 60.0
    job = await svc.submit_service_job(request(scheduling_priority=1))
    answer = await svc.update_service_job(job.job_id, scheduling_priority=42)
    assert answer.job_id == job.job_id
    assert answer.job_name == "train"
    assert (await svc.describe_service_job(job.job_id)).scheduling_priority == 42
    with pytest.raises(ValueError, match="scheduling_priority"):
        await svc.update_service_job(job.job_id, scheduling_priority=10_000)


async def test_wait_to_succeeded_through_scheduled(svc: BatchService, proxy: BatchProxy) -> None:
    job = await svc.submit_service_job(request())
    done = await svc.wait_for_service_job(job.job_id, timeout=10)
    assert done.status == "SUCCEEDED"
    assert done.is_terminal
    assert done.scheduled_at is not None
    assert done.started_at is not None
    assert done.training_job_arn is not None
    assert "training-job/train" in done.training_job_arn
    assert proxy.count("DescribeServiceJob") >= 2


async def test_a_just_submitted_job_gets_the_not_found_grace(
    svc: BatchService, proxy: BatchProxy
) -> None:
    job = await svc.submit_service_job(request())
    proxy.inject_error(
        "DescribeServiceJob", status=400, code="ClientException", message="Job not found", times=2
    )
    done = await svc.wait_for_service_job(job.job_id, timeout=10)
    assert done.status == "SUCCEEDED"
    assert proxy.count("DescribeServiceJob") >= 3
    with pytest.raises(JobNotFoundError, match="DescribeServiceJob does not know it"):
        await svc.wait_for_service_job("never-submitted", timeout=10)  # not submitted: at once


async def test_wait_to_failed(svc: BatchService, proxy: BatchProxy) -> None:
    proxy.service_jobs.outcome = "FAILED"
    job = await svc.submit_service_job(request())
    with pytest.raises(JobFailedError) as caught:
        await svc.wait_for_service_job(job.job_id, timeout=10)
    failed_job: object = caught.value.job
    assert isinstance(failed_job, ServiceJobDetail)
    assert "AlgorithmError" in str(caught.value)
    failed = await svc.wait_for_service_job(job.job_id, timeout=10, raise_on_failure=False)
    assert failed.status == "FAILED"


async def test_wait_times_out_with_last_status(svc: BatchService, proxy: BatchProxy) -> None:
    proxy.service_jobs.step = 60.0
    job = await svc.submit_service_job(request())
    with pytest.raises(WaitTimeoutError) as caught:
        await svc.wait_for_service_job(job.job_id, timeout=0.3)
    assert "last seen SUBMITTED" in str(caught.value)


async def test_unknown_status_is_kept() -> None:
    raw = {"jobId": "1", "jobName": "n", "status": "PAUSED", "serviceJobType": "NEW_TYPE"}
    assert ServiceJobDetail.model_validate(raw).status == "PAUSED"
    assert ServiceJobSummary.model_validate(raw).service_job_type == "NEW_TYPE"


def test_request_validation() -> None:
    assert request().service_request_payload == json.dumps(PAYLOAD, separators=(",", ":"))
    with pytest.raises(ValidationError):
        request("-bad")
    with pytest.raises(ValidationError):
        request(service_request_payload="x" * (10 * 1024 + 1))
    with pytest.raises(ValidationError):
        request(scheduling_priority=10_000)
    with pytest.raises(ValidationError):
        request(unknown_field=1)


async def test_submits_have_their_own_limiter(svc: BatchService) -> None:
    await svc.submit_service_job(request())
    calls = svc._service_jobs.created_calls
    assert calls is not None
    assert calls.limiter.ceiling == SUBMIT_SERVICE_JOB_RATE == 5.0


# ---------------------------------------------------------------------------------------------
# The submit's retry rules, against a scripted endpoint (what AWS answers each send)


class _Endpoint:
    """Answers SubmitServiceJob with a script of errors, then with a job; records the sends."""

    def __init__(self, *script: BaseException) -> None:
        self.script = list(script)
        self.sends: list[dict[str, object]] = []

    async def __call__(self, operation: str, /, **params: object) -> dict[str, object]:
        if operation == "ListServiceJobs":
            return {"jobSummaryList": []}
        assert operation == "SubmitServiceJob"
        self.sends.append(params)
        if self.script:
            raise self.script.pop(0)
        return {"jobId": "j-1", "jobName": params["jobName"]}


def _calls(endpoint: _Endpoint) -> ServiceJobs:
    async def no_sleep(_: float) -> None:
        return None

    config = BatchConfig(region="us-east-1", job_queue="q")
    return ServiceJobs(endpoint, config, logging.getLogger("test"), rate=None, sleep=no_sleep)


def _api_error(status: int, code: str) -> BatchAPIError:
    error_type = ThrottlingError if status == 429 else BatchAPIError
    return error_type("boom", operation="SubmitServiceJob", code=code, status_code=status)


async def test_throttled_submit_is_resent_with_the_same_token() -> None:
    endpoint = _Endpoint(_api_error(429, "TooManyRequestsException"))
    job = await _calls(endpoint).submit(request(), FAST_RETRY)
    assert job.job_id == "j-1"
    assert len({str(s["clientToken"]) for s in endpoint.sends}) == 1
    assert len(endpoint.sends) == 2


async def test_refused_resend_without_a_job_found_is_an_unknown_outcome() -> None:
    endpoint = _Endpoint(
        BatchConnectionError("reset", operation="SubmitServiceJob"),
        _api_error(400, "ClientException"),
    )
    with pytest.raises(SubmitOutcomeUnknownError) as caught:
        await _calls(endpoint).submit(request("lost"), FAST_RETRY)
    assert caught.value.job_name == "lost"
    assert isinstance(caught.value.__cause__, BatchAPIError)
    assert len(endpoint.sends) == 2  # never a third send: the token was used


async def test_given_client_token_is_sent() -> None:
    endpoint = _Endpoint()
    await _calls(endpoint).submit(request(client_token="my-token-1"), FAST_RETRY)
    assert endpoint.sends[0]["clientToken"] == "my-token-1"


async def test_waits_bound_describe_calls_in_flight(config: BatchConfig, proxy: BatchProxy) -> None:
    proxy.add_delay("DescribeServiceJob", 0.05)
    tight = config.model_copy(
        update={"poll": PollPolicy(initial_interval=0.05, max_interval=0.1, max_concurrent_calls=2)}
    )
    in_flight = peak = 0
    async with BatchService(tight) as service:
        ids = [(await service.submit_service_job(request(f"w{i}"))).job_id for i in range(8)]
        calls = service._service_jobs.calls()
        real = calls._call

        async def spy(operation: str, /, **params: object) -> dict[str, object]:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                return await real(operation, **params)
            finally:
                in_flight -= 1

        calls._call = spy
        done = await asyncio.gather(*(service.wait_for_service_job(i, timeout=20) for i in ids))
    assert {job.status for job in done} == {"SUCCEEDED"}
    assert peak == 2


async def test_submits_are_paced_at_the_quota(svc: BatchService, proxy: BatchProxy) -> None:
    proxy.set_rate_limit("SubmitServiceJob", 5.0, burst=2.0)  # AWS's 5 TPS
    started = time.monotonic()
    await asyncio.gather(*(svc.submit_service_job(request(f"p{i}")) for i in range(6)))
    elapsed = time.monotonic() - started
    assert proxy.count("SubmitServiceJob", outcome="throttled") == 0
    assert proxy.count("SubmitServiceJob") == 6
    assert elapsed >= 0.9  # 6 sends 0.2 s apart


async def test_damaged_answer_after_creating_is_one_job(
    svc: BatchService, proxy: BatchProxy
) -> None:
    proxy.inject_answer("SubmitServiceJob", "<html>oops</html>", after_forward=True, times=1)
    job = await svc.submit_service_job(request("damaged"), retry=FAST_RETRY)
    assert proxy.service_jobs.count() == 1
    assert (await svc.describe_service_job(job.job_id)).job_name == "damaged"


async def test_optional_fields_round_trip(svc: BatchService, proxy: BatchProxy) -> None:
    proxy.service_jobs.step = 60.0
    rules = [{"action": "RETRY", "onStatusReason": "Capacity*"}]
    job = await svc.submit_service_job(
        request(
            retry_strategy=ServiceJobRetryStrategy(attempts=3, evaluate_on_exit=rules),
            timeout_seconds=3600,
            share_identifier="teamA",
            preemption_retries=2,
        )
    )
    sent = next(c.body for c in proxy.calls if c.operation == "SubmitServiceJob")
    assert sent["retryStrategy"] == {"attempts": 3, "evaluateOnExit": rules}
    assert sent["timeoutConfig"] == {"attemptDurationSeconds": 3600}
    assert sent["preemptionConfiguration"] == {"preemptionRetriesBeforeTermination": 2}
    assert "schedulingPriority" not in sent  # unset fields are not sent
    detail = await svc.describe_service_job(job.job_id)
    assert detail.retry_strategy == ServiceJobRetryStrategy(attempts=3, evaluate_on_exit=rules)
    assert detail.timeout_seconds == 3600
    assert detail.share_identifier == "teamA"


async def test_the_proxy_log_masks_the_payload(svc: BatchService, proxy: BatchProxy) -> None:
    await svc.submit_service_job(request(service_request_payload={"Environment": {"K": "s3cr3t"}}))
    sent = next(c.body for c in proxy.calls if c.operation == "SubmitServiceJob")
    assert sent["serviceRequestPayload"] == "***"
    assert "s3cr3t" not in repr(proxy.calls)
