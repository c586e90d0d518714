"""The poller keeps the loop responsive and a wait alive: sliced delivery, a damaged answer
retried, a first look in milliseconds, a close that cannot be cancelled half-way, finite
timeouts.

Schedule tests use the injected clock of ``test_watcher_schedule.py``; the service tests run
against moto through the proxy, which counts the calls.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from typing import Any

import pytest

from aws_batch_async import (
    BatchConfig,
    BatchService,
    JobNotFoundError,
    JobStatus,
    MalformedResponseError,
    PollPolicy,
    ServiceClosedError,
)
from aws_batch_async._waiting.poller import SLICE_DELIVERIES
from aws_batch_async.testing import BatchInfrastructure, BatchProxy, MotoServer

from .._lifecycle_server import submit_jobs
from .test_poller_faults import HANG, outcome
from .test_poller_schedule import FIRST, make_poller

# ---------------------------------------------------------------------------------------------
# One bad answer never fails a wait


def damaged() -> MalformedResponseError:
    return MalformedResponseError(
        "DescribeJobs answered garbled JSON", operation="DescribeJobs", status_code=200
    )


async def test_a_damaged_answer_is_retried_with_backoff_and_fails_no_wait() -> None:
    ids = [f"job-{i}" for i in range(150)]
    poller, describe, _ = make_poller({i: ["SUCCEEDED"] for i in ids}, rand=lambda: 1.0)
    describe.errors.append(damaged())  # the first call of the sweep (ids 0..99)
    subscriptions = [poller.subscribe([i]) for i in ids]
    jobs = [await outcome(s) for s in subscriptions]
    assert [getattr(job, "status", job) for job in jobs] == [JobStatus.SUCCEEDED] * 150
    assert describe.poll_times("job-0") == pytest.approx([FIRST, FIRST + 2])  # backed off
    assert describe.poll_times("job-100") == [FIRST]  # the other call of the sweep was fine


@pytest.mark.parametrize("answer", [42, None, {"jobs": []}, ["not a job"]])
async def test_an_answer_that_is_not_a_list_of_jobs_is_retried(answer: object) -> None:
    poller, describe, _ = make_poller({"j": ["SUCCEEDED"]}, rand=lambda: 0.0)
    calls = 0

    async def once_damaged(ids: Sequence[str]) -> Any:
        nonlocal calls
        calls += 1
        return answer if calls == 1 else await describe(ids)

    poller._describe = once_damaged
    job = await outcome(poller.subscribe(["j"]))
    assert job.status is JobStatus.SUCCEEDED
    assert calls == 2


# ---------------------------------------------------------------------------------------------
# Never stall the loop: a sweep's answers reach the waits in slices


async def test_a_big_sweep_wakes_its_waits_in_slices_with_the_loop_free_between() -> None:
    ids = [f"job-{i}" for i in range(1000)]
    poller, describe, _ = make_poller({i: ["SUCCEEDED"] for i in ids})
    ticks = 0

    async def probe() -> None:  # another task: counts the loop's turns it gets
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    async def wait(job_id: str) -> int:
        subscription = poller.subscribe([job_id])
        try:
            await subscription.get()
        finally:
            subscription.close()
        return ticks  # the probe's count when this wait woke

    ticker = asyncio.ensure_future(probe())
    try:
        woken_at = await asyncio.wait_for(asyncio.gather(*(wait(i) for i in ids)), HANG)
    finally:
        ticker.cancel()
    assert len(describe.calls) == 10  # one sweep
    per_turn: dict[int, int] = {}
    for tick in woken_at:
        per_turn[tick] = per_turn.get(tick, 0) + 1
    # the probe ran between the slices: at least 1000 / 128 of them, none above 128 waits
    assert len(per_turn) >= math.ceil(len(ids) / SLICE_DELIVERIES)
    assert max(per_turn.values()) <= SLICE_DELIVERIES


# ---------------------------------------------------------------------------------------------
# aclose() finishes its work even when cancelled


async def test_a_cancelled_aclose_still_fails_every_open_wait() -> None:
    poller, describe, _ = make_poller({i: ["RUNNING"] for i in ("a", "b")})
    describe.block_after = 0  # every call hangs: the poller is in a sweep
    subscriptions = [poller.subscribe(["a"]), poller.subscribe(["b"], every_change=True)]
    await asyncio.wait_for(_until_calls(describe.calls, 1), HANG)

    closing = asyncio.ensure_future(poller.aclose())
    await asyncio.sleep(0)  # aclose now waits for the task it cancelled
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing

    for subscription in subscriptions:
        assert type(await outcome(subscription)) is ServiceClosedError
    await poller.aclose()  # the second call waits for the task
    assert not poller.running
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("aws-batch-async")] == []


async def _until_calls(calls: list[Any], count: int) -> None:
    while len(calls) < count:  # noqa: ASYNC110  # the fake DescribeJobs records calls only
        await asyncio.sleep(0)


async def test_a_cancelled_service_aclose_can_be_finished_by_a_second_one(
    config: BatchConfig, proxy: BatchProxy
) -> None:
    proxy.add_delay("DescribeJobs", 30)  # the poller stays in its first sweep
    graceful = config.model_copy(update={"poll": PollPolicy(not_found_grace_all_ids=True)})
    service = BatchService(graceful)
    await service.open()
    wait = asyncio.ensure_future(service.wait_for("ghost", timeout=60))
    await asyncio.sleep(0.3)  # its first look (20 ms) is held by the proxy

    closing = asyncio.ensure_future(service.aclose())
    await asyncio.sleep(0)
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    with pytest.raises(ServiceClosedError):
        await asyncio.wait_for(wait, HANG)  # the wait did not hang

    await asyncio.wait_for(service.aclose(), HANG)  # finishes what the first left
    assert service.is_closed
    assert asyncio.all_tasks() == {asyncio.current_task()}


# ---------------------------------------------------------------------------------------------
# Finite timeouts


@pytest.mark.parametrize("value", [10**400, float("nan"), -1, -math.inf])
async def test_timeouts_that_are_not_durations_are_refused_before_any_call(
    config: BatchConfig, proxy: BatchProxy, value: float
) -> None:
    async with BatchService(config) as service:
        with pytest.raises(ValueError, match="timeout"):
            await service.wait_for("job", timeout=value)
        with pytest.raises(ValueError, match="stuck_after"):
            await service.wait_for("job", stuck_after=value)
        with pytest.raises(ValueError, match="timeout"):
            async for _ in service.watch("job", timeout=value):
                pass
        with pytest.raises(ValueError, match="stuck_after"):
            async for _ in service.watch("job", stuck_after=value):
                pass
        with pytest.raises(ValueError, match="timeout"):
            async for _ in service.as_completed(["job"], timeout=value):
                pass
        with pytest.raises(ValueError, match="stuck_after"):
            async for _ in service.as_completed(["job"], stuck_after=value):
                pass
    assert proxy.count("DescribeJobs") == 0


async def test_math_inf_means_no_timeout_and_never_stuck(
    config: BatchConfig, moto_server: MotoServer, infra: BatchInfrastructure
) -> None:
    [job_id] = await submit_jobs(moto_server.url, infra)
    async with BatchService(config) as service:
        job = await service.wait_for(job_id, timeout=math.inf, stuck_after=math.inf)
        huge = await service.wait_for(job_id, timeout=1e300, stuck_after=1e300)
    assert job.status is huge.status is JobStatus.SUCCEEDED


# ---------------------------------------------------------------------------------------------
# A first look in milliseconds


async def test_a_wait_on_a_finished_job_returns_in_one_round_trip_plus_the_window(
    config: BatchConfig, moto_server: MotoServer, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    [job_id] = await submit_jobs(moto_server.url, infra)
    # the default policy: initial_interval is 1 s, the first-poll window 20 ms
    async with BatchService(config.model_copy(update={"poll": PollPolicy()})) as service:
        await service.describe_jobs([job_id])  # one raw round trip, warms the connection
        proxy.clear_calls()
        started = time.monotonic()
        job = await service.wait_for(job_id, timeout=30)
        took = time.monotonic() - started
    assert job.status is JobStatus.SUCCEEDED
    assert proxy.count("DescribeJobs") == 1
    assert took < PollPolicy().initial_interval / 2  # 1.05 s before; ~25 ms unloaded


async def test_a_thousand_waits_subscribed_together_share_ten_calls_for_their_first_look(
    config: BatchConfig, moto_server: MotoServer, infra: BatchInfrastructure, proxy: BatchProxy
) -> None:
    ids = await submit_jobs(moto_server.url, infra, 300)
    unknown = [f"unknown-{i}" for i in range(700)]  # 700 more waits, each not found at once
    proxy.clear_calls()
    async with BatchService(config.model_copy(update={"poll": PollPolicy()})) as service:
        outcomes = await asyncio.gather(
            *(service.wait_for(i, timeout=60) for i in [*ids, *unknown]), return_exceptions=True
        )
    assert [getattr(o, "status", None) for o in outcomes[:300]] == [JobStatus.SUCCEEDED] * 300
    assert all(isinstance(o, JobNotFoundError) for o in outcomes[300:])
    assert proxy.count("DescribeJobs") == 10  # ceil(1000 / 100), within the first window


def test_the_first_poll_window_is_configurable() -> None:
    assert PollPolicy().first_poll_window == 0.02
    assert PollPolicy(first_poll_window=0).first_poll_window == 0
    with pytest.raises(ValueError, match="first_poll_window"):
        PollPolicy(first_poll_window=-1)


async def test_a_new_wait_wakes_an_idle_poller() -> None:
    # b arrives while the poller sleeps towards a's next poll: b is looked at within its
    # window, not when that sleep ends (here: never, a long sleep blocks).
    poller, describe, fake_time = make_poller({"a": ["RUNNING"], "b": ["SUCCEEDED"]})
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if seconds > 0.1:
            await asyncio.Event().wait()  # a long sleep that never ends by itself
        fake_time.now += seconds
        await asyncio.sleep(0)

    poller._sleep = sleep
    first = poller.subscribe(["a"])
    while not (describe.calls and slept and slept[-1] > 0.1):
        await asyncio.wait_for(asyncio.sleep(0), HANG)
    assert describe.calls == [(FIRST, ["a"])]  # a was seen; the poller sleeps until later
    fake_time.now = FIRST + 0.3
    second = poller.subscribe(["b"])
    assert (await outcome(second)).status is JobStatus.SUCCEEDED
    at, ids = describe.calls[1]
    assert at == pytest.approx(FIRST + 0.3 + FIRST)
    assert ids == ["b"]
    first.close()
    await poller.aclose()
