"""wait_for, watch and as_completed against moto.

* Simple mode (the session server of conftest.py, through the AWS-faithful proxy): jobs are
  SUCCEEDED when SubmitJob returns (FAILED with ``MOTO_SIMPLE_BATCH_FAIL_AFTER=0``). Used for
  results, coalescing of hundreds of waits, injected throttling and errors, not-found, closing.
* Lifecycles (a second moto in a child process, docker mode, time transitions): jobs step
  SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, then end FAILED. Used for watch order, array
  progress, timeouts, completion order and cancelling one wait among many.

Timing assertions are lower bounds only (a sleep lasts at least its time), so a loaded machine
can slow these tests down but not break them.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from aws_batch_async import (
    BatchAPIError,
    BatchConfig,
    BatchService,
    JobDetail,
    JobFailedError,
    JobNotFoundError,
    JobRequest,
    JobStatus,
    PollPolicy,
    ServiceClosedError,
    ThrottlingError,
    WaitTimeoutError,
)
from aws_batch_async.testing import (
    BatchInfrastructure,
    BatchProxy,
    LocalBatch,
    MotoServer,
    create_batch_infrastructure,
    set_job_transition,
)

from .._lifecycle_server import REGION, LifecycleMotoServer, submit_jobs

FAST = PollPolicy(initial_interval=0.05, max_interval=0.5, not_found_grace=30.0)
POLLER_TASK = "aws-batch-async job poller"
LIFECYCLE_ORDER = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "FAILED"]


def fast_config(config: BatchConfig, **poll: float) -> BatchConfig:
    return config.model_copy(update={"poll": FAST.model_copy(update=poll)})


@pytest.fixture
async def fast_batch(config: BatchConfig) -> AsyncIterator[BatchService]:
    """A service through the proxy, polling every 50 ms at first."""
    async with BatchService(fast_config(config)) as service:
        yield service


@pytest.fixture
async def graceful_batch(config: BatchConfig) -> AsyncIterator[BatchService]:
    """As ``fast_batch``, with the not-found grace for every id: unknown ids wait 30 s."""
    async with BatchService(fast_config(config, not_found_grace_all_ids=True)) as service:
        yield service


def describe_calls(proxy: BatchProxy) -> list[list[str]]:
    """The ids of each DescribeJobs call the proxy received, in order."""
    return [list(c.body.get("jobs", [])) for c in proxy.calls if c.operation == "DescribeJobs"]


def poller_running() -> bool:
    return any(task.get_name() == POLLER_TASK for task in asyncio.all_tasks())


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait until ``condition`` holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def poller_stopped(timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while poller_running():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


# ---------------------------------------------------------------------------------------------
# Results (simple mode)


async def test_wait_for_returns_the_succeeded_job(
    fast_batch: BatchService, moto_server: MotoServer, infra: BatchInfrastructure
) -> None:
    [job_id] = await submit_jobs(moto_server.url, infra)
    job = await fast_batch.wait_for(job_id, timeout=30)
    assert isinstance(job, JobDetail)
    assert job.job_id == job_id
    assert job.status is JobStatus.SUCCEEDED


async def test_wait_for_raises_job_failed_error_unless_told_not_to(
    fast_batch: BatchService,
    moto_server: MotoServer,
    infra: BatchInfrastructure,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", "0")
    [job_id] = await submit_jobs(moto_server.url, infra)

    with pytest.raises(JobFailedError) as caught:
        await fast_batch.wait_for(job_id, timeout=30)
    assert caught.value.job.job_id == job_id
    assert caught.value.job.status is JobStatus.FAILED

    job = await fast_batch.wait_for(job_id, timeout=30, raise_on_failure=False)
    assert job.status is JobStatus.FAILED


async def test_watch_yields_the_terminal_detail_and_ends(
    fast_batch: BatchService, moto_server: MotoServer, infra: BatchInfrastructure
) -> None:
    [job_id] = await submit_jobs(moto_server.url, infra)
    seen = [job async for job in fast_batch.watch(job_id, timeout=30)]
    assert [job.status for job in seen] == [JobStatus.SUCCEEDED]


async def test_as_completed_yields_every_job_once_and_failed_ones_too(
    fast_batch: BatchService,
    moto_server: MotoServer,
    infra: BatchInfrastructure,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    succeeded = await submit_jobs(moto_server.url, infra, 5)
    monkeypatch.setenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", "0")
    failed = await submit_jobs(moto_server.url, infra, 3)
    ids = succeeded + failed

    seen = [job async for job in fast_batch.as_completed([*ids, *ids], timeout=30)]

    assert sorted(job.job_id for job in seen) == sorted(ids)
    statuses = {job.job_id: job.status for job in seen}
    assert {statuses[i] for i in succeeded} == {JobStatus.SUCCEEDED}
    assert {statuses[i] for i in failed} == {JobStatus.FAILED}


async def test_as_completed_of_no_jobs_yields_nothing(fast_batch: BatchService) -> None:
    assert [job async for job in fast_batch.as_completed([])] == []


# ---------------------------------------------------------------------------------------------
# Coalescing and faults (through the proxy)


@pytest.mark.parametrize("count", [250, 300])
async def test_hundreds_of_waits_cost_ceil_n_over_100_describe_calls_per_sweep(
    fast_batch: BatchService,
    moto_server: MotoServer,
    infra: BatchInfrastructure,
    proxy: BatchProxy,
    count: int,
) -> None:
    ids = await submit_jobs(moto_server.url, infra, count)
    proxy.clear_calls()

    jobs = await asyncio.gather(*(fast_batch.wait_for(i, timeout=60) for i in ids))

    assert {job.status for job in jobs} == {JobStatus.SUCCEEDED}
    calls = describe_calls(proxy)
    # one sweep (every job is SUCCEEDED at its first poll), split into calls of <= 100 ids
    assert len(calls) == math.ceil(count / 100)
    assert all(len(c) <= 100 for c in calls)
    assert sorted(i for c in calls for i in c) == sorted(ids)
    assert proxy.count("DescribeJobs", outcome="rejected") == 0


async def test_throttled_describe_jobs_slows_the_poller_and_no_wait_fails(
    config: BatchConfig, moto_server: MotoServer, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    ids = await submit_jobs(moto_server.url, infra, 150)
    proxy.clear_calls()
    proxy.inject_error("DescribeJobs", status=429, times=4)  # two whole sweeps of two calls
    # 0.2 s: the 150 waits must all subscribe within one early window (half the interval) to
    # share each sweep; 25 ms (the 50 ms default here) is less than a GIL stall of the
    # in-process moto server can take on a loaded machine.
    interval = 0.2
    no_retries = fast_config(config, initial_interval=interval).model_copy(
        update={"api_max_attempts": 1}
    )

    async with BatchService(no_retries) as service:
        jobs = await asyncio.gather(*(service.wait_for(i, timeout=60) for i in ids))

    assert {job.status for job in jobs} == {JobStatus.SUCCEEDED}
    assert proxy.count("DescribeJobs", outcome="injected") == 4
    describes = [c for c in proxy.calls if c.operation == "DescribeJobs"]
    assert [c.outcome for c in describes] == ["injected"] * 4 + ["forwarded"] * 2
    # Throttled twice, the poller runs at a quarter of its pace: the next sweep comes at
    # least initial_interval * 4 later (instead of initial_interval).
    assert describes[4].at - describes[3].at >= interval * 4


async def test_sustained_random_throttling_never_fails_a_wait(
    config: BatchConfig, moto_server: MotoServer, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    ids = await submit_jobs(moto_server.url, infra, 250)
    proxy.clear_calls()
    proxy.inject_error("DescribeJobs", status=429, probability=0.5)
    no_retries = fast_config(config).model_copy(update={"api_max_attempts": 1})

    async with BatchService(no_retries) as service:
        jobs = await asyncio.gather(*(service.wait_for(i, timeout=120) for i in ids))

    assert sorted(job.job_id for job in jobs) == sorted(ids)
    assert all(len(c) <= 100 for c in describe_calls(proxy))


async def test_botocore_retries_and_server_errors_do_not_fail_waits(
    fast_batch: BatchService,
    moto_server: MotoServer,
    infra: BatchInfrastructure,
    proxy: BatchProxy,
) -> None:
    ids = await submit_jobs(moto_server.url, infra, 120)
    proxy.clear_calls()
    # 8 failures: more than botocore's 3 attempts of a call, so the poller sees ServerException
    proxy.inject_error("DescribeJobs", status=500, times=8)

    jobs = await asyncio.gather(*(fast_batch.wait_for(i, timeout=120) for i in ids))

    assert {job.status for job in jobs} == {JobStatus.SUCCEEDED}
    assert proxy.count("DescribeJobs", outcome="injected") == 8


async def test_an_error_retrying_cannot_fix_fails_the_wait(
    fast_batch: BatchService,
    moto_server: MotoServer,
    infra: BatchInfrastructure,
    proxy: BatchProxy,
) -> None:
    [job_id] = await submit_jobs(moto_server.url, infra)
    proxy.inject_error(
        "DescribeJobs", status=403, code="AccessDeniedException", message="not authorized"
    )
    with pytest.raises(BatchAPIError) as caught:
        await fast_batch.wait_for(job_id, timeout=30)
    assert caught.value.code == "AccessDeniedException"
    assert not isinstance(caught.value, ThrottlingError)


async def test_an_id_nobody_submitted_is_not_found_at_the_first_answer(
    fast_batch: BatchService, proxy: BatchProxy
) -> None:
    started = time.monotonic()
    with pytest.raises(JobNotFoundError) as caught:
        await fast_batch.wait_for("no-such-job", timeout=60)
    assert time.monotonic() - started < FAST.not_found_grace / 2  # not after the grace (30 s)
    assert caught.value.job_id == "no-such-job"
    assert "does not know it" in str(caught.value)
    assert proxy.count("DescribeJobs") == 1
    # and with a short timeout it is still a not-found, not a timeout of a slow job
    with pytest.raises(JobNotFoundError):
        await fast_batch.wait_for("no-such-job", timeout=5)


async def test_a_job_this_service_submitted_gets_the_not_found_grace(
    fast_batch: BatchService, proxy: BatchProxy
) -> None:
    submitted = await fast_batch.submit_job(JobRequest(command=["echo", "hi"]))
    # DescribeJobs does not show it at first (eventually consistent, as right after SubmitJob)
    proxy.inject_answer("DescribeJobs", '{"jobs": []}', times=2)
    job = await fast_batch.wait_for(submitted.job_id, timeout=30)
    assert job.status is JobStatus.SUCCEEDED
    assert proxy.count("DescribeJobs") == 3
    with pytest.raises(JobNotFoundError):  # another id: no grace
        await fast_batch.wait_for("no-such-job", timeout=30)


async def test_unknown_job_raises_not_found_after_the_grace_period_when_asked(
    config: BatchConfig, proxy: BatchProxy
) -> None:
    grace = 0.5
    asked = fast_config(config, not_found_grace=grace, not_found_grace_all_ids=True)
    async with BatchService(asked) as service:
        started = time.monotonic()
        with pytest.raises(JobNotFoundError) as caught:
            await service.wait_for("no-such-job", timeout=60)
        assert time.monotonic() - started >= grace
    assert caught.value.job_id == "no-such-job"
    assert proxy.count("DescribeJobs") >= 2  # polled again during the grace period


async def test_timeout_of_a_job_never_seen_carries_none(graceful_batch: BatchService) -> None:
    started = time.monotonic()
    with pytest.raises(WaitTimeoutError) as caught:
        await graceful_batch.wait_for("not-there-yet", timeout=0.3)
    assert time.monotonic() - started >= 0.3
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.job_id == "not-there-yet"
    assert caught.value.job is None


# ---------------------------------------------------------------------------------------------
# Cancellation and the life of the poller


async def test_cancelling_one_wait_leaves_the_others_and_the_poller(
    graceful_batch: BatchService, proxy: BatchProxy
) -> None:
    # Unknown ids (30 s grace for every id) keep their waits open as long as we like.
    cancelled = asyncio.ensure_future(graceful_batch.wait_for("ghost-cancelled"))
    kept = asyncio.ensure_future(graceful_batch.wait_for("ghost-kept"))
    await until(lambda: any("ghost-cancelled" in c for c in describe_calls(proxy)))

    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    proxy.clear_calls()
    await until(lambda: len(describe_calls(proxy)) >= 2)

    calls = describe_calls(proxy)
    assert all(c == ["ghost-kept"] for c in calls)  # still polled, alone
    assert not kept.done()
    assert poller_running()

    kept.cancel()
    with pytest.raises(asyncio.CancelledError):
        await kept
    assert await poller_stopped()  # nobody waits: the task ends


async def test_the_poller_task_ends_once_every_wait_is_done(
    fast_batch: BatchService, moto_server: MotoServer, infra: BatchInfrastructure
) -> None:
    ids = await submit_jobs(moto_server.url, infra, 3)
    await asyncio.gather(*(fast_batch.wait_for(i) for i in ids))
    assert await poller_stopped()
    # and it starts again on demand
    assert (await fast_batch.wait_for(ids[0])).job_id == ids[0]


async def test_closing_the_service_fails_open_waits_and_leaves_no_task(
    config: BatchConfig,
) -> None:
    service = BatchService(fast_config(config, not_found_grace_all_ids=True))
    await service.open()
    wait = asyncio.ensure_future(service.wait_for("ghost"))
    await until(poller_running)

    await service.aclose()

    with pytest.raises(ServiceClosedError):
        await wait
    assert asyncio.all_tasks() == {asyncio.current_task()}
    with pytest.raises(ServiceClosedError):
        await service.wait_for("ghost")


async def test_waiting_needs_an_open_service(config: BatchConfig) -> None:
    service = BatchService(config)
    with pytest.raises(ServiceClosedError):
        await service.wait_for("job")
    with pytest.raises(ServiceClosedError):
        async for _ in service.watch("job"):
            pass


async def test_bad_arguments_are_rejected_before_any_call(
    fast_batch: BatchService, proxy: BatchProxy
) -> None:
    with pytest.raises(ValueError, match="job_id"):
        await fast_batch.wait_for("")
    with pytest.raises(ValueError, match="timeout"):
        await fast_batch.wait_for("job", timeout=-1)
    with pytest.raises(TypeError):
        async for _ in fast_batch.as_completed("job-id"):
            pass
    with pytest.raises(ValueError, match="job_id"):
        async for _ in fast_batch.as_completed(["ok", " "]):
            pass
    with pytest.raises(ValueError, match="timeout"):
        async for _ in fast_batch.watch("job", timeout=float("nan")):
            pass
    assert proxy.count("DescribeJobs") == 0


# ---------------------------------------------------------------------------------------------
# Lifecycles (moto in a child process, docker mode with time transitions)


@pytest.fixture(scope="module")
def lifecycle_server() -> Iterator[LifecycleMotoServer]:
    with LifecycleMotoServer() as server:
        yield server


@pytest.fixture
def lifecycle(lifecycle_server: LifecycleMotoServer) -> Iterator[BatchInfrastructure]:
    """A wiped lifecycle server with a queue and a definition; jobs step every 0.3 s."""
    lifecycle_server.reset()
    infra = create_batch_infrastructure(lifecycle_server.url, region=REGION)
    set_job_transition(lifecycle_server.url, 0.3)
    yield infra
    set_job_transition(lifecycle_server.url, None)


@pytest.fixture
async def lifecycle_batch(
    lifecycle_server: LifecycleMotoServer, lifecycle: BatchInfrastructure
) -> AsyncIterator[BatchService]:
    config = BatchConfig(region=REGION, endpoint_url=lifecycle_server.url, poll=FAST)
    async with BatchService(config) as service:
        yield service


@pytest.mark.slow
async def test_watch_yields_each_status_change_in_lifecycle_order(
    lifecycle_batch: BatchService,
    lifecycle_server: LifecycleMotoServer,
    lifecycle: BatchInfrastructure,
) -> None:
    [job_id] = await submit_jobs(lifecycle_server.url, lifecycle)

    statuses = [job.status.value async for job in lifecycle_batch.watch(job_id, timeout=60)]

    assert statuses[-1] == "FAILED"  # no Docker engine: the container cannot run
    assert len(set(statuses)) == len(statuses)  # one detail per change
    positions = [LIFECYCLE_ORDER.index(s) for s in statuses]
    assert positions == sorted(positions)
    assert len(statuses) >= 3  # polling at 50 ms sees most of the 0.3 s steps


@pytest.mark.slow
async def test_watch_follows_the_status_summary_of_an_array_job() -> None:
    # Children that finish 2 s apart (LocalBatch really runs them): the parent's status stays
    # put while its statusSummary moves, and watch must yield each of those changes.
    command = ["sh", "-c", "sleep $((AWS_BATCH_JOB_ARRAY_INDEX * 2))"]
    async with LocalBatch(mode="run") as local:
        config = local.config.model_copy(update={"poll": FAST})
        async with BatchService(config) as batch:
            parent = await batch.submit_job(JobRequest(command=command, array_size=3))
            seen = [job async for job in batch.watch(parent.job_id, timeout=90)]

    assert seen[-1].status is JobStatus.SUCCEEDED
    keys = [
        (j.status, tuple(sorted(j.array_properties.status_summary.items())))
        for j in seen
        if j.array_properties
    ]
    assert len(set(keys)) == len(keys)  # each yield is a change of status or summary
    succeeded = [dict(summary).get("SUCCEEDED", 0) for _, summary in keys]
    assert succeeded == sorted(succeeded)
    assert {1, 2, 3} <= set(succeeded)  # each child's completion was seen on its own
    # the summary alone changed at least once (children moved, the parent's status did not)
    assert any(a[0] == b[0] for a, b in itertools.pairwise(keys))


@pytest.mark.slow
async def test_timeout_carries_the_last_detail_seen(
    lifecycle_batch: BatchService,
    lifecycle_server: LifecycleMotoServer,
    lifecycle: BatchInfrastructure,
) -> None:
    set_job_transition(lifecycle_server.url, 600)  # held in SUBMITTED
    [job_id] = await submit_jobs(lifecycle_server.url, lifecycle)

    with pytest.raises(WaitTimeoutError) as caught:
        await lifecycle_batch.wait_for(job_id, timeout=0.5)
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.job is not None
    assert caught.value.job.job_id == job_id
    assert caught.value.job.status is JobStatus.SUBMITTED

    seen: list[JobStatus] = []

    async def follow() -> None:
        async for job in lifecycle_batch.watch(job_id, timeout=0.5):
            seen.append(job.status)

    with pytest.raises(WaitTimeoutError) as watched:
        await follow()
    assert seen == [JobStatus.SUBMITTED]
    assert watched.value.job is not None


@pytest.mark.slow
async def test_as_completed_yields_in_completion_order(
    lifecycle_batch: BatchService,
    lifecycle_server: LifecycleMotoServer,
    lifecycle: BatchInfrastructure,
) -> None:
    [first] = await submit_jobs(lifecycle_server.url, lifecycle)
    await asyncio.sleep(1.2)  # four transitions ahead
    [second] = await submit_jobs(lifecycle_server.url, lifecycle)

    order = [job.job_id async for job in lifecycle_batch.as_completed([second, first], timeout=60)]

    assert order == [first, second]


@pytest.mark.slow
async def test_cancelling_one_wait_among_many_touches_neither_the_job_nor_other_waits(
    lifecycle_server: LifecycleMotoServer, lifecycle: BatchInfrastructure
) -> None:
    ids = await submit_jobs(lifecycle_server.url, lifecycle, 12)
    with BatchProxy(lifecycle_server.url) as proxy:
        config = BatchConfig(region=REGION, endpoint_url=proxy.url, poll=FAST)
        async with BatchService(config) as service:
            waits = [
                asyncio.ensure_future(service.wait_for(i, timeout=60, raise_on_failure=False))
                for i in ids
            ]
            # a second wait on the job whose first wait gets cancelled
            same_job = asyncio.ensure_future(
                service.wait_for(ids[0], timeout=60, raise_on_failure=False)
            )
            await until(lambda: proxy.count("DescribeJobs") >= 2)
            waits[0].cancel()

            jobs = await asyncio.gather(*waits[1:])
            other = await same_job
            with pytest.raises(asyncio.CancelledError):
                await waits[0]

        assert {job.status for job in jobs} == {JobStatus.FAILED}
        assert other.job_id == ids[0]
        assert other.status is JobStatus.FAILED  # the job ran its course
        assert proxy.count("CancelJob") == 0
        assert proxy.count("TerminateJob") == 0
        assert all(len(c) <= 100 for c in describe_calls(proxy))
