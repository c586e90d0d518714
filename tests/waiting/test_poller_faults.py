"""The poller under stress: crashes, a cap on concurrent calls, O(due) wakes, secrets, outages.

Same fakes as ``test_watcher_schedule.py``: an injected clock and sleep, and a scripted
DescribeJobs, so no test here waits for real time (a hang fails after a few real seconds).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from pydantic import BaseModel

from aws_batch_async import (
    BatchAPIError,
    BatchConnectionError,
    BatchError,
    JobStatus,
    PollPolicy,
    ServiceClosedError,
)
from aws_batch_async._waiting.poller import JobPoller
from aws_batch_async._waiting.subscription import Subscription

from .test_poller_schedule import (
    FIRST,
    POLICY,
    FakeDescribeJobs,
    FakeTime,
    intervals,
    make_poller,
    until,
)

HANG = 5.0  # real seconds after which a wait that should have ended counts as hung


async def outcome(subscription: Subscription) -> Any:
    """What the next ``get`` returns or raises (a hang fails the test instead of blocking it)."""
    try:
        return await asyncio.wait_for(subscription.get(), HANG)
    except asyncio.TimeoutError:
        raise AssertionError("the wait hung") from None
    except Exception as exc:
        return exc


# ---------------------------------------------------------------------------------------------
# 1. A crash of the poller fails every open wait, and the next wait starts a new task


def assert_crash(error: object, cause: type[BaseException]) -> None:
    assert type(error) is BatchError
    assert isinstance(error.__cause__, cause)
    assert "job poller stopped" in str(error)


async def test_a_describe_raising_cancelled_error_fails_every_open_wait() -> None:
    poller, describe, _ = make_poller({"a": ["RUNNING"], "b": ["SUCCEEDED"]})
    describe.errors.append(asyncio.CancelledError())  # not a cancellation of the poller
    gate, entered = asyncio.Event(), asyncio.Event()

    async def gated(ids: Sequence[str]) -> list[dict[str, Any]]:
        entered.set()
        await gate.wait()
        return await describe(ids)

    poller._describe = gated
    first = poller.subscribe(["a"])  # looked at FIRST
    await asyncio.wait_for(entered.wait(), HANG)
    other = poller.subscribe(["b"])  # the sweep of a is under way: b is not in it
    watcher = poller.subscribe(["a"], every_change=True)
    gate.set()

    for subscription in (first, other, watcher):
        assert_crash(await outcome(subscription), asyncio.CancelledError)
    assert describe.calls == [(FIRST, ["a"])]
    assert poller.tracked == 0
    await until(lambda: not poller.running)

    again = poller.subscribe(["b"])  # a new task
    assert poller.running
    assert (await outcome(again)).status is JobStatus.SUCCEEDED
    await poller.aclose()


async def test_a_cancelled_call_among_several_crashes_the_whole_sweep() -> None:
    ids = [f"job-{i}" for i in range(250)]
    poller, describe, _ = make_poller({i: ["SUCCEEDED"] for i in ids})
    describe.errors.extend([asyncio.CancelledError()])
    subscriptions = [poller.subscribe([i]) for i in ids]
    for subscription in subscriptions:
        assert_crash(await outcome(subscription), asyncio.CancelledError)
    assert len(describe.calls) == 3  # one sweep; the calls in flight finished first
    await until(lambda: not poller.running)
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("aws-batch-async")] == []


class BrokenSleep(FakeTime):
    broken = True

    async def sleep(self, seconds: float) -> None:
        if self.broken:
            raise RuntimeError("the sleep broke")
        await super().sleep(seconds)


@pytest.mark.parametrize("where", ["sleep", "answer"])
async def test_an_unexpected_error_inside_the_poller_reaches_every_wait_as_a_batch_error(
    where: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake_time = BrokenSleep()
    fake_time.broken = where == "sleep"
    describe = FakeDescribeJobs(fake_time, {"a": ["SUCCEEDED"], "b": ["SUCCEEDED"]})

    async def malformed(ids: Sequence[str]) -> Any:
        return [{"jobId": ["a"]}]  # an unhashable id: the poller's own code fails on it

    poller = JobPoller(
        malformed if where == "answer" else describe,
        POLICY,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )
    first, second = poller.subscribe(["a"]), poller.subscribe(["a", "b"])
    for subscription in (first, second):
        assert_crash(await outcome(subscription), RuntimeError if where == "sleep" else TypeError)
    assert "job poller stopped on an unexpected error" in caplog.text
    await until(lambda: not poller.running)

    poller._describe, fake_time.broken = describe, False  # repaired: a fresh task works
    assert (await outcome(poller.subscribe(["b"]))).status is JobStatus.SUCCEEDED
    await poller.aclose()


async def test_aclose_during_a_sweep_still_raises_service_closed_and_cancels_the_calls() -> None:
    ids = [f"job-{i}" for i in range(250)]
    poller, describe, _ = make_poller({i: ["RUNNING"] for i in ids})
    describe.block_after = 0  # every call hangs
    subscriptions = [poller.subscribe([i]) for i in ids]
    await until(lambda: len(describe.calls) == 3)
    await poller.aclose()
    for subscription in subscriptions:
        assert type(await outcome(subscription)) is ServiceClosedError
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("aws-batch-async")] == []


# ---------------------------------------------------------------------------------------------
# 2. At most max_concurrent_calls DescribeJobs calls in flight, from as few tasks


class CountingDescribe:
    """An instant DescribeJobs (RUNNING twice, then SUCCEEDED) that counts calls in flight."""

    def __init__(self) -> None:
        self.in_flight = self.max_in_flight = self.max_tasks = self.calls = 0
        self.polls: dict[str, int] = {}

    async def __call__(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        assert len(ids) <= 100
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.max_tasks = max(self.max_tasks, len(asyncio.all_tasks()))
        for _ in range(3):  # let every other call start
            await asyncio.sleep(0)
        self.in_flight -= 1
        for job_id in ids:
            self.polls[job_id] = self.polls.get(job_id, 0) + 1
        return [
            {"jobId": i, "jobName": "n", "status": "SUCCEEDED" if self.polls[i] > 2 else "RUNNING"}
            for i in ids
        ]


@pytest.mark.parametrize("cap", [1, 3, 8])
async def test_sweeps_never_have_more_calls_in_flight_than_the_cap(cap: int) -> None:
    fake_time = FakeTime()
    describe = CountingDescribe()
    policy = POLICY.model_copy(update={"max_concurrent_calls": cap})
    poller = JobPoller(describe, policy, clock=fake_time.clock, sleep=fake_time.sleep)
    ids = [f"job-{i}" for i in range(2000)]
    subscriptions = [poller.subscribe([i]) for i in ids]  # 2,000 waits: 20 calls per sweep
    for subscription in subscriptions:  # one task collects: all_tasks() counts the poller's
        assert (await subscription.get()).status is JobStatus.SUCCEEDED

    assert describe.max_in_flight == cap
    assert describe.max_tasks <= 2 + cap  # this test, the poller and its workers
    assert describe.calls == 3 * 20
    assert describe.polls == dict.fromkeys(ids, 3)


def test_the_default_cap_is_eight() -> None:
    assert PollPolicy().max_concurrent_calls == 8


# ---------------------------------------------------------------------------------------------
# 3. A wake costs the due jobs, not every tracked job


class NoScan(dict[str, Any]):
    """The poller's job table, refusing to be scanned."""

    def _refuse(self, *args: object) -> Any:
        raise AssertionError("the poller scanned every tracked job")

    values = items = keys = __iter__ = _refuse


async def test_a_wake_never_scans_every_tracked_job() -> None:
    idle = [f"idle-{i}" for i in range(5000)]
    scripts: dict[str, list[Any]] = {job_id: ["RUNNABLE"] for job_id in idle}
    scripts |= {"busy-1": ["RUNNING", "STARTING"] * 3 + ["SUCCEEDED"], "busy-2": ["SUCCEEDED"]}
    poller, describe, fake_time = make_poller(scripts, rand=lambda: 1.0)
    parked = poller.subscribe(idle)
    await until(lambda: len(describe.calls) >= 50 * 4)  # idle jobs now wait 8 s between polls
    await until(lambda: all(job.due > fake_time.now for job in poller._jobs.values()))
    poller._jobs = NoScan(poller._jobs)

    busy = poller.subscribe(["busy-1"], every_change=True)
    statuses = []
    while busy.pending:
        statuses.append((await outcome(busy)).status.value)
    assert statuses == ["RUNNING", "STARTING"] * 3 + ["SUCCEEDED"]
    assert (await outcome(poller.subscribe(["busy-2"]))).status is JobStatus.SUCCEEDED
    poller._jobs = dict(dict.items(poller._jobs))
    parked.close()
    await poller.aclose()


async def test_a_waiter_that_reschedules_a_job_sooner_leaves_no_extra_poll() -> None:
    script = ["RUNNING"] * 8 + ["SUCCEEDED"]
    poller, describe, fake_time = make_poller({"j": script}, rand=lambda: 1.0)
    first = poller.subscribe(["j"])
    # polled at FIRST, +1, +3, +7
    await until(lambda: poller._jobs["j"].due == pytest.approx(FIRST + 15))
    arrived = fake_time.now
    second = poller.subscribe(["j"])  # due 1 s from now; its entry for FIRST + 15 is stale
    assert (await outcome(second)).status is JobStatus.SUCCEEDED
    assert (await outcome(first)).status is JobStatus.SUCCEEDED
    times = describe.poll_times("j")
    assert times[:5] == pytest.approx([FIRST, FIRST + 1, FIRST + 3, FIRST + 7, arrived + 1])
    # the level was kept, and no poll at FIRST + 15
    assert intervals(times)[5:] == pytest.approx([8, 8, 8, 8])


async def test_the_heaps_stay_bounded_when_waits_come_and_go() -> None:
    poller, describe, _ = make_poller({"kept": ["RUNNING", "SUCCEEDED"]}, rand=lambda: 0.0)
    kept = poller.subscribe(["kept"])
    for i in range(10_000):
        poller.subscribe([f"gone-{i}"]).close()
        assert len(poller._due) + len(poller._early) <= 200  # stale entries are compacted
    assert (await outcome(kept)).status is JobStatus.SUCCEEDED
    assert [ids for _, ids in describe.calls] == [["kept"], ["kept"]]


# ---------------------------------------------------------------------------------------------
# 4. The poller keeps no environment value


SECRET = "s3cr3t-token-value"


def env(style: str) -> list[dict[str, str]]:
    return [{"name": f"TOKEN_{style}", "value": SECRET}]


def job_with_secrets(status: str) -> dict[str, Any]:
    """A job with an environment value in every place botocore's model allows one."""
    containers = [{"name": "main", "environment": env("ECS"), "image": "busybox"}]
    ecs = {"taskProperties": [{"containers": containers, "taskArn": "task"}]}
    pod = {
        "containers": [{"name": "main", "env": env("EKS"), "image": "busybox"}],
        "initContainers": [{"name": "init", "env": env("INIT")}],
        "podName": "pod",
    }
    node_range = {
        "targetNodes": "0:",
        "container": {"environment": env("NODE"), "image": "busybox"},
        "ecsProperties": ecs,
        "eksProperties": {"podProperties": pod},
    }
    return {
        "status": status,
        "container": {"environment": env("CONTAINER"), "image": "busybox", "exitCode": 0},
        "ecsProperties": ecs,
        "eksProperties": {"podProperties": pod},
        "nodeProperties": {"numNodes": 2, "nodeRangeProperties": [node_range]},
        "parameters": {"p": "v"},
    }


def reachable(obj: object, seen: set[int] | None = None) -> Iterator[str]:
    """Every string reachable from ``obj`` (stopping at the poller itself), and reprs."""
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, JobPoller | FakeDescribeJobs):
        return
    seen.add(id(obj))
    yield repr(obj)
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from reachable(key, seen)
            yield from reachable(value, seen)
    elif isinstance(obj, list | tuple | set | frozenset | deque):
        for item in obj:
            yield from reachable(item, seen)
    elif isinstance(obj, BaseModel):
        yield from reachable(obj.model_dump(), seen)
    elif hasattr(obj, "__dict__"):
        yield from reachable(vars(obj), seen)


async def test_the_poller_keeps_no_environment_value() -> None:
    script = [job_with_secrets("RUNNING")] * 3 + [job_with_secrets("SUCCEEDED")]
    poller, _, _ = make_poller({"j": script})
    watcher = poller.subscribe(["j"], every_change=True)
    assert (await outcome(watcher)).status is JobStatus.RUNNING

    state = [getattr(poller, name, None) for name in ("_jobs", "_due", "_early")]
    strings = list(reachable(state))
    assert not [s for s in strings if SECRET in s]
    assert script[0]["container"]["environment"] == env("CONTAINER")  # the answer is intact
    raw = poller._jobs["j"].raw
    assert raw is not None
    assert raw["container"] == {"image": "busybox", "exitCode": 0}  # only the secrets go
    assert raw["eksProperties"]["podProperties"]["initContainers"] == [{"name": "init"}]
    assert raw["nodeProperties"]["nodeRangeProperties"][0]["targetNodes"] == "0:"
    last = poller.last_seen("j")
    assert last is not None
    assert last.exit_code == 0
    assert (await outcome(watcher)).status is JobStatus.SUCCEEDED


async def test_a_job_without_environment_is_stored_as_given() -> None:
    answer = {"status": "RUNNING", "container": {"image": "busybox"}}
    poller, _, _ = make_poller({"j": [answer]})
    subscription = poller.subscribe(["j"])
    await until(lambda: poller._jobs["j"].raw is not None)
    raw = poller._jobs["j"].raw
    assert raw is not None
    assert raw["container"] is answer["container"]  # nothing copied
    subscription.close()
    await poller.aclose()


# ---------------------------------------------------------------------------------------------
# 5. Connection-class errors never fail a wait


@pytest.mark.parametrize(
    "error",
    [
        BatchConnectionError("DescribeJobs: connection reset by peer", operation="DescribeJobs"),
        BatchAPIError("busy", operation="DescribeJobs", code="ServiceUnavailable", status_code=503),
    ],
    ids=["connection", "503"],
)
async def test_a_connection_error_in_one_call_is_retried_and_fails_no_wait(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [f"job-{i}" for i in range(250)]
    poller, describe, fake_time = make_poller({i: ["SUCCEEDED"] for i in ids}, rand=lambda: 1.0)
    failed: list[tuple[float, list[str]]] = []

    async def flaky(chunk: Sequence[str]) -> list[dict[str, Any]]:
        if "job-100" in chunk and len(failed) < 3:  # the second call, three sweeps running
            failed.append((fake_time.now, list(chunk)))
            await asyncio.sleep(0)
            raise error
        return await describe(chunk)

    poller._describe = flaky
    subscriptions = [poller.subscribe([i]) for i in ids]
    with caplog.at_level(logging.WARNING, logger="aws_batch_async"):
        jobs = [await outcome(s) for s in subscriptions]

    assert [getattr(job, "status", job) for job in jobs] == [JobStatus.SUCCEEDED] * 250
    assert failed == [
        (FIRST, ids[100:200]),
        (pytest.approx(FIRST + 2), ids[100:200]),
        (pytest.approx(FIRST + 6), ids[100:200]),
    ]
    # backed off 2, 4, 8 (rand 1)
    assert describe.poll_times("job-100") == pytest.approx([FIRST + 14])
    assert describe.poll_times("job-0") == describe.poll_times("job-200") == [FIRST]
    assert poller.pace == 1.0
    assert "DescribeJobs failed, will retry" in caplog.text
