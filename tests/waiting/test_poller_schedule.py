"""The poller's schedule, with an injected clock and sleep: no test here waits for real time.

``FakeDescribeJobs`` stands in for AWS's DescribeJobs (the poller's only outside dependency):
it answers from a script of statuses per job, records when each call came and with which ids,
and raises the errors it is told to.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from aws_batch_async import (
    BatchAPIError,
    BatchConnectionError,
    JobNotFoundError,
    JobStatus,
    PollPolicy,
    ServiceClosedError,
    ThrottlingError,
    WaitTimeoutError,
)
from aws_batch_async._backoff import backoff_delay
from aws_batch_async._models.arguments import check_timeout
from aws_batch_async._waiting.poller import EARLY_FRACTION, MIN_PACE, JobPoller
from aws_batch_async._waiting.subscription import TrackedJob

POLICY = PollPolicy(initial_interval=1.0, max_interval=8.0, multiplier=2.0, not_found_grace=5.0)
FIRST = POLICY.first_poll_window  # a new wait's first look (0.02 s)


class FakeTime:
    """A clock that only moves when the poller sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds
        await asyncio.sleep(0)


class FakeDescribeJobs:
    """DescribeJobs from a script: ``scripts[job_id][n]`` is the answer to the n-th poll.

    An answer is a status, a raw job dict, or ``None`` (the job is absent); the last answer
    repeats. Ids without a script are unknown.
    """

    def __init__(self, fake_time: FakeTime, scripts: dict[str, list[Any]]) -> None:
        self.time = fake_time
        self.scripts = scripts
        self.calls: list[tuple[float, list[str]]] = []
        self.errors: deque[BaseException] = deque()
        self.block_after: int | None = None
        self._polls: Counter[str] = Counter()

    async def __call__(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        assert len(ids) <= 100
        self.calls.append((self.time.now, list(ids)))
        if self.block_after is not None and len(self.calls) > self.block_after:
            await asyncio.Event().wait()  # a call that never returns
        await asyncio.sleep(0)
        if self.errors:
            raise self.errors.popleft()
        answer = []
        for job_id in ids:
            script = self.scripts.get(job_id)
            if script is None:
                continue
            step = script[min(self._polls[job_id], len(script) - 1)]
            self._polls[job_id] += 1
            if isinstance(step, dict):
                answer.append({"jobId": job_id, "jobName": "n", **step})
            elif step is not None:
                answer.append({"jobId": job_id, "jobName": "n", "status": step})
        return answer

    def poll_times(self, job_id: str) -> list[float]:
        return [at for at, ids in self.calls if job_id in ids]


def intervals(times: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in zip([0.0, *times], times, strict=False)]


def make_poller(
    scripts: dict[str, list[Any]],
    *,
    policy: PollPolicy = POLICY,
    rand: Callable[[], float] = random.random,
) -> tuple[JobPoller, FakeDescribeJobs, FakeTime]:
    fake_time = FakeTime()
    describe = FakeDescribeJobs(fake_time, scripts)
    poller = JobPoller(describe, policy, clock=fake_time.clock, sleep=fake_time.sleep, rand=rand)
    return poller, describe, fake_time


def is_running(poller: JobPoller) -> bool:
    return poller.running


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run until ``condition`` holds (the fake clock makes this quick)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


def throttling() -> ThrottlingError:
    return ThrottlingError(
        "Too Many Requests",
        operation="DescribeJobs",
        code="TooManyRequestsException",
        status_code=429,
    )


# ---------------------------------------------------------------------------------------------
# The poller's backoff: the shared backoff_delay with floor = initial_interval


def poll_delay(level: int, rand: float, policy: PollPolicy = POLICY) -> float:
    """The delay the poller uses at ``level`` (what ``JobPoller`` passes to backoff_delay)."""
    return backoff_delay(
        level,
        initial=policy.initial_interval,
        maximum=policy.max_interval,
        multiplier=policy.multiplier,
        floor=policy.initial_interval,
        rand=rand,
    )


@pytest.mark.parametrize("rand", [0.0, 0.3, 0.999])
def test_level_zero_waits_the_initial_interval(rand: float) -> None:
    assert poll_delay(0, rand) == 1.0


@pytest.mark.parametrize(("level", "cap"), [(1, 2.0), (2, 4.0), (3, 8.0), (4, 8.0), (50, 8.0)])
def test_full_jitter_spans_initial_interval_to_the_capped_exponential(
    level: int, cap: float
) -> None:
    assert poll_delay(level, 0.0) == 1.0
    assert poll_delay(level, 1.0) == cap
    assert poll_delay(level, 0.5) == pytest.approx(1.0 + (cap - 1.0) / 2)


def test_backoff_of_a_huge_level_does_not_overflow() -> None:
    assert poll_delay(10_000, 1.0) == POLICY.max_interval


def test_random_delays_stay_within_the_policy() -> None:
    rng = random.Random(3)
    delays = [poll_delay(level, rng.random()) for level in range(12) for _ in range(50)]
    assert min(delays) >= POLICY.initial_interval
    assert max(delays) <= POLICY.max_interval


# ---------------------------------------------------------------------------------------------
# The schedule of one job


async def test_unchanged_job_backs_off_exponentially_and_a_change_resets_it() -> None:
    script = ["RUNNABLE"] * 5 + ["RUNNING"] * 3 + ["SUCCEEDED"]
    poller, describe, _ = make_poller({"j": script}, rand=lambda: 1.0)  # top of the band
    subscription = poller.subscribe(["j"])
    job = await subscription.get()
    subscription.close()

    assert job.status is JobStatus.SUCCEEDED
    # first poll within the first-poll window; the first sight counts as a change; then
    # initial_interval, x2 up to max_interval; RUNNING resets to initial_interval.
    assert intervals(describe.poll_times("j")) == [FIRST, 1, 2, 4, 8, 8, 1, 2, 4]


async def test_jitter_draws_within_the_band() -> None:
    poller, describe, _ = make_poller({"j": ["RUNNING"] * 8 + ["SUCCEEDED"]}, rand=lambda: 0.0)
    subscription = poller.subscribe(["j"])
    await subscription.get()
    subscription.close()
    # the first look, then the bottom of every band
    assert intervals(describe.poll_times("j")) == [FIRST] + [1.0] * 8


async def test_a_job_may_be_polled_early_to_share_a_due_sweep() -> None:
    # The schedule alone (no task): a due at 1.0; b rescheduled with a 1 s delay at 0.6 is
    # due at 1.6 and its early window opens at 1.1, too late; at 0.4 it opens at 0.9.
    late, soon = 1.0 - EARLY_FRACTION + 0.1, 1.0 - EARLY_FRACTION - 0.1
    for arrived, swept in ((late, ["a"]), (soon, ["a", "b"])):
        poller, _, _ = make_poller({})
        a = TrackedJob("a", 0.0, 0)
        b = TrackedJob("b", 0.0, 1)
        poller._jobs.update(a=a, b=b)
        poller._schedule(a, 0.0, 1.0)
        poller._schedule(b, arrived, 1.0)
        assert await poller._due_ids(0.99) == []  # nothing is due yet
        assert await poller._due_ids(1.0) == swept


async def test_a_new_wait_joins_any_sweep_before_its_first_look() -> None:
    poller, describe, _ = make_poller({"a": ["SUCCEEDED"], "b": ["SUCCEEDED"]})
    first = poller.subscribe(["a"])  # due at FIRST
    later = poller.subscribe(["b"])
    await first.get()
    await later.get()
    assert describe.calls == [(FIRST, ["a", "b"])]


# ---------------------------------------------------------------------------------------------
# Coalescing


async def test_concurrent_waits_cost_ceil_n_over_100_calls_per_sweep() -> None:
    ids = [f"job-{i}" for i in range(250)]
    scripts: dict[str, list[Any]] = {i: ["RUNNING"] * 4 + ["SUCCEEDED"] for i in ids}
    poller, describe, _ = make_poller(scripts, rand=random.Random(7).random)
    subscriptions = [poller.subscribe([i]) for i in ids]
    jobs = await asyncio.gather(*(s.get() for s in subscriptions))

    assert {job.status for job in jobs} == {JobStatus.SUCCEEDED}
    sweeps: defaultdict[float, list[list[str]]] = defaultdict(list)
    for at, call_ids in describe.calls:
        sweeps[at].append(call_ids)
    assert len(sweeps) == 5  # each job polled 5 times, always all together
    for calls in sweeps.values():
        assert sorted(len(c) for c in calls) == [50, 100, 100]
        assert sorted(i for c in calls for i in c) == sorted(ids)
    assert not poller.running or poller.tracked == 0


async def test_two_waits_on_one_job_share_its_polls() -> None:
    poller, describe, _ = make_poller({"j": ["RUNNING", "SUCCEEDED"]})
    first = poller.subscribe(["j"])
    second = poller.subscribe(["j"])
    assert (await first.get()).status is JobStatus.SUCCEEDED
    assert (await second.get()).status is JobStatus.SUCCEEDED
    assert [ids for _, ids in describe.calls] == [["j"], ["j"]]


async def test_every_change_subscription_gets_each_change_once() -> None:
    summary = {"RUNNING": 1, "SUCCEEDED": 1}
    done = {"RUNNING": 0, "SUCCEEDED": 2}
    script: list[Any] = [
        "PENDING",
        "PENDING",
        {"status": "RUNNING", "arrayProperties": {"size": 2, "statusSummary": summary}},
        {"status": "RUNNING", "arrayProperties": {"size": 2, "statusSummary": summary}},
        {"status": "RUNNING", "arrayProperties": {"size": 2, "statusSummary": done}},
        {"status": "SUCCEEDED", "arrayProperties": {"size": 2, "statusSummary": done}},
    ]
    poller, _, _ = make_poller({"j": script})
    seen = [job async for job in poller.subscribe(["j"], every_change=True)]
    assert [job.status.value for job in seen] == ["PENDING", "RUNNING", "RUNNING", "SUCCEEDED"]
    assert [job.array_properties.status_summary for job in seen[1:] if job.array_properties] == [
        summary,
        done,
        done,
    ]


# ---------------------------------------------------------------------------------------------
# Errors


async def test_throttling_slows_the_whole_poller_then_it_recovers_gradually() -> None:
    poller, describe, _ = make_poller({"j": ["RUNNING"] * 12 + ["SUCCEEDED"]}, rand=lambda: 0.0)
    describe.errors.extend([throttling(), throttling()])
    subscription = poller.subscribe(["j"])
    job = await subscription.get()
    subscription.close()

    assert job.status is JobStatus.SUCCEEDED
    gaps = intervals(describe.poll_times("j"))
    # every delay is initial_interval (rand 0) divided by the pace: throttled twice -> 1/4
    assert gaps[:3] == [FIRST, 2.0, 4.0]
    recovering = gaps[3:]
    assert all(a > b for a, b in itertools.pairwise(recovering) if a > 1.0)
    assert recovering[0] < 4.0
    assert recovering[-1] == 1.0  # back to full pace
    assert poller.pace == 1.0


async def test_throttling_never_fails_a_wait_and_the_slowdown_is_bounded() -> None:
    poller, describe, _ = make_poller({"j": ["SUCCEEDED"]}, rand=lambda: 0.0)
    describe.errors.extend(throttling() for _ in range(30))
    subscription = poller.subscribe(["j"])
    job = await subscription.get()
    subscription.close()

    assert job.status is JobStatus.SUCCEEDED
    assert len(describe.calls) == 31
    assert max(intervals(describe.poll_times("j"))) == pytest.approx(1.0 / MIN_PACE)


@pytest.mark.parametrize(
    "error",
    [
        BatchAPIError("boom", operation="DescribeJobs", code="ServerException", status_code=500),
        BatchAPIError("busy", operation="DescribeJobs", code="ServiceUnavailable", status_code=503),
        BatchConnectionError("connection reset", operation="DescribeJobs"),
    ],
)
async def test_server_and_connection_errors_are_retried_with_backoff(error: Exception) -> None:
    poller, describe, _ = make_poller({"j": ["SUCCEEDED"]}, rand=lambda: 1.0)
    describe.errors.extend([error, error, error])
    subscription = poller.subscribe(["j"])
    job = await subscription.get()
    subscription.close()

    assert job.status is JobStatus.SUCCEEDED
    # the first look, then backs off like no change
    assert intervals(describe.poll_times("j")) == [FIRST, 2, 4, 8]
    assert poller.pace == 1.0  # only throttling slows the whole poller


async def test_an_error_that_retrying_cannot_fix_fails_the_waits_of_that_call_only() -> None:
    ids = [f"job-{i}" for i in range(150)]
    poller, describe, _ = make_poller({i: ["SUCCEEDED"] for i in ids})
    denied = BatchAPIError(
        "not authorized", operation="DescribeJobs", code="AccessDeniedException", status_code=403
    )
    describe.errors.append(denied)  # the first call of the sweep: ids 0..99
    subscriptions = [poller.subscribe([i]) for i in ids]
    outcomes = await asyncio.gather(*(s.get() for s in subscriptions), return_exceptions=True)

    assert all(o is denied for o in outcomes[:100])
    assert all(getattr(o, "status", None) is JobStatus.SUCCEEDED for o in outcomes[100:])
    assert len(describe.calls) == 2  # failed waits are not polled again


async def test_an_id_nobody_submitted_is_not_found_at_the_first_answer() -> None:
    poller, describe, _ = make_poller({}, rand=lambda: 0.0)
    poller.note_submitted("another")
    subscription = poller.subscribe(["ghost"])
    with pytest.raises(JobNotFoundError) as caught:
        await subscription.get()
    assert caught.value.job_id == "ghost"
    assert "does not know it" in str(caught.value)
    assert describe.poll_times("ghost") == [FIRST]  # one call, no grace


async def test_a_job_this_service_submitted_gets_the_grace_period_then_not_found() -> None:
    poller, describe, _ = make_poller({}, rand=lambda: 0.0)
    poller.note_submitted("ghost")
    subscription = poller.subscribe(["ghost"])
    with pytest.raises(JobNotFoundError) as caught:
        await subscription.get()
    assert caught.value.job_id == "ghost"
    # grace is 5 s from the wait's start: polled at the first look, then every second
    assert describe.poll_times("ghost") == pytest.approx([FIRST + n for n in range(6)])


@pytest.mark.parametrize("child", ["parent:0", "parent:41", "parent#2"])
async def test_children_and_nodes_of_a_submitted_job_get_the_grace(child: str) -> None:
    poller, describe, _ = make_poller({child: [None, None, "SUCCEEDED"]}, rand=lambda: 0.0)
    poller.note_submitted("parent")
    job = await poller.subscribe([child]).get()
    assert job.status is JobStatus.SUCCEEDED
    assert len(describe.poll_times(child)) == 3
    with pytest.raises(JobNotFoundError):  # another parent's child: no grace
        await poller.subscribe(["other:0"]).get()


async def test_not_found_grace_all_ids_gives_every_id_the_grace() -> None:
    policy = POLICY.model_copy(update={"not_found_grace_all_ids": True})
    poller, describe, _ = make_poller({}, policy=policy, rand=lambda: 0.0)
    subscription = poller.subscribe(["ghost"])
    with pytest.raises(JobNotFoundError):
        await subscription.get()
    assert len(describe.poll_times("ghost")) == 6


async def test_a_submitted_id_is_remembered_for_the_grace_period_only() -> None:
    poller, describe, fake_time = make_poller({}, rand=lambda: 0.0)
    poller.note_submitted("old")
    fake_time.now = POLICY.not_found_grace + 1  # submitted long before anyone waited
    poller.note_submitted("new")
    assert list(poller._submitted) == ["new"]  # pruned: the memory stays small
    subscription = poller.subscribe(["old"])
    with pytest.raises(JobNotFoundError):
        await subscription.get()
    assert len(describe.poll_times("old")) == 1


async def test_a_job_that_appears_within_the_grace_period_is_waited_for() -> None:
    poller, describe, _ = make_poller({"late": [None, None, None, "SUCCEEDED"]}, rand=lambda: 0.0)
    poller.note_submitted("late")
    subscription = poller.subscribe(["late"])
    assert (await subscription.get()).status is JobStatus.SUCCEEDED
    assert len(describe.calls) == 4


async def test_a_job_that_disappears_gets_a_fresh_grace_period() -> None:
    script: list[Any] = ["RUNNING", "RUNNING", None]
    poller, describe, _ = make_poller({"aged": script}, rand=lambda: 0.0)
    subscription = poller.subscribe(["aged"])
    with pytest.raises(JobNotFoundError):
        await subscription.get()
    times = describe.poll_times("aged")
    assert times[2] == pytest.approx(FIRST + 2.0)  # first absent (nobody noted its submit)
    assert times[-1] == pytest.approx(times[2] + POLICY.not_found_grace)


async def test_a_slow_describe_never_delays_a_timeout() -> None:
    poller, describe, _ = make_poller({"j": ["RUNNING"]})
    describe.block_after = 1  # the second DescribeJobs never answers
    subscription = poller.subscribe(["j"], timeout=0.3)
    with pytest.raises(WaitTimeoutError) as caught:
        await subscription.get()
    subscription.close()
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.job is not None
    assert caught.value.job.status is JobStatus.RUNNING
    await poller.aclose()


# ---------------------------------------------------------------------------------------------
# Life of the task


async def test_the_task_stops_when_nobody_waits_and_restarts_on_demand() -> None:
    poller, describe, _ = make_poller({"j": ["RUNNING"]})
    subscription = poller.subscribe(["j"])
    assert is_running(poller)
    await until(lambda: poller.tracked == 1 and bool(describe.calls))
    subscription.close()
    assert poller.tracked == 0
    await until(lambda: not is_running(poller))

    again = poller.subscribe(["j"])
    assert is_running(poller)
    again.close()
    await poller.aclose()


async def test_cancelling_one_waiter_leaves_the_other_waiters_of_the_same_job() -> None:
    poller, describe, _ = make_poller({"j": ["RUNNING"] * 5 + ["SUCCEEDED"]})

    async def wait() -> JobStatus:
        subscription = poller.subscribe(["j"])
        try:
            return (await subscription.get()).status
        finally:
            subscription.close()

    cancelled = asyncio.ensure_future(wait())
    kept = asyncio.ensure_future(wait())
    await until(lambda: bool(describe.calls))
    cancelled.cancel()
    assert await kept is JobStatus.SUCCEEDED
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert len(describe.calls) == 6


async def test_aclose_fails_open_waits_and_refuses_new_ones() -> None:
    poller, _, _ = make_poller({"j": ["RUNNING"]})
    subscription = poller.subscribe(["j"])
    await asyncio.sleep(0)
    await poller.aclose()
    assert not poller.running
    with pytest.raises(ServiceClosedError):
        await subscription.get()
    with pytest.raises(ServiceClosedError):
        poller.subscribe(["j"])
    await poller.aclose()  # idempotent


async def test_an_unexpected_error_in_describe_reaches_the_waits() -> None:
    poller, describe, _ = make_poller({"j": ["SUCCEEDED"]})
    describe.errors.append(RuntimeError("bug"))
    subscription = poller.subscribe(["j"])
    with pytest.raises(RuntimeError, match="bug"):
        await subscription.get()


@pytest.mark.parametrize(
    ("value", "error"),
    [(-1, ValueError), (float("nan"), ValueError), ("5", TypeError), (True, TypeError)],
)
def test_check_timeout_rejects_bad_values(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_timeout(value)


def test_check_timeout_accepts_none_zero_and_inf() -> None:
    for value in (None, 0, 0.5, float("inf")):
        check_timeout(value)
