"""The poller's own work before a sweep is cut into slices, the loop free between them: taking
the due jobs off its heaps, and pydantic's deferred build of the model it delivers.

Schedule tests use the injected clock of ``test_poller_schedule.py``; no test here depends on
how fast the machine is (slices of 0 s yield at every step).
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from aws_batch_async import PollPolicy
from aws_batch_async._models.base import unbuilt_models
from aws_batch_async._waiting import poller as poller_module
from aws_batch_async._waiting.poller import JobPoller

from .test_poller_schedule import FIRST, FakeDescribeJobs, FakeTime, make_poller, until


class LoopTurns:
    """A task that counts the loop's turns while it runs."""

    def __init__(self) -> None:
        self.count = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopTurns:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.wait({self._task})

    async def _tick(self) -> None:
        while True:
            self.count += 1
            await asyncio.sleep(0)


# ---------------------------------------------------------------------------------------------
# Due jobs taken in slices


async def test_due_jobs_are_taken_in_slices_and_all_polled_in_one_sweep(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(poller_module, "SLICE_SECONDS", 0.0)  # yield at every look at the time
    ids = [f"job-{i:04d}" for i in range(1_050)]
    poller, describe, fake_time = make_poller({i: ["SUCCEEDED"] for i in ids})
    turns_at_clock: list[int] = []
    async with LoopTurns() as turns:

        def clock() -> float:
            turns_at_clock.append(turns.count)
            return fake_time.now

        poller._clock = clock
        subscriptions = [poller.subscribe([i]) for i in ids]
        first_call: list[int] = []
        calls = describe.__call__

        async def counted(call_ids: Any) -> list[dict[str, Any]]:
            if not first_call:
                first_call.append(turns.count)
            return await calls(call_ids)

        poller._describe = counted
        jobs = await asyncio.gather(*(s.get() for s in subscriptions))

    assert [job.job_id for job in jobs] == ids
    # ceil(1050 / 100) calls, every one in the same sweep, first waited for first described
    assert [len(c) for _, c in describe.calls] == [100] * 10 + [50]
    assert {at for at, _ in describe.calls} == {FIRST}
    assert [i for _, c in describe.calls for i in c] == ids
    # the sweep read the clock, then took its 1,050 jobs; the loop ran between its slices
    swept_at = max(n for n in turns_at_clock if n <= first_call[0])
    assert first_call[0] - swept_at >= math.ceil(1_050 / 64) // 2


# ---------------------------------------------------------------------------------------------
# The delivered model's schema, built a model at a time before the first answer


def fresh_models() -> tuple[type[BaseModel], type[BaseModel], type[BaseModel]]:
    """Three new models with deferred schemas: Outer holds Middle holds Leaf."""
    deferred = ConfigDict(defer_build=True, extra="ignore")

    class Leaf(BaseModel):
        model_config = deferred
        name: str | None = None

    class Middle(BaseModel):
        model_config = deferred
        leaves: list[Leaf] | None = None

    class Outer(BaseModel):
        model_config = deferred
        job_id: str
        status: str
        middle: Middle | None = None
        by_name: dict[str, Leaf] | None = None

    return Leaf, Middle, Outer


def test_unbuilt_models_lists_leaves_first_and_nothing_once_built() -> None:
    leaf, middle, outer = fresh_models()
    assert unbuilt_models(outer) == [leaf, middle, outer]
    for model in unbuilt_models(outer):
        model.model_rebuild()
    assert unbuilt_models(outer) == []
    assert outer.model_validate({"job_id": "j", "status": "S", "middle": {"leaves": [{}]}})


async def test_the_delivered_model_is_built_a_model_at_a_time_before_the_first_answer() -> None:
    leaf, middle, outer = fresh_models()
    fake_time = FakeTime()
    describe = FakeDescribeJobs(fake_time, {"j": [{"status": "SUCCEEDED", "jobId": "j"}]})
    seen: list[tuple[bool, bool, bool]] = []  # (leaf, middle, outer) built, at each turn

    def built() -> tuple[bool, bool, bool]:
        return leaf.__pydantic_complete__, middle.__pydantic_complete__, outer.__pydantic_complete__

    async def recording(ids: Any) -> list[dict[str, Any]]:
        seen.append(built())
        answer: list[dict[str, Any]] = await describe(ids)
        return [{**raw, "job_id": raw["jobId"]} for raw in answer]

    poller = JobPoller(
        recording,
        PollPolicy(initial_interval=1.0),
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        parse=outer.model_validate,  # type: ignore[arg-type]
    )
    subscription = poller.subscribe(["j"])
    turns: list[tuple[bool, bool, bool]] = []
    while not subscription.ready:
        turns.append(built())
        await asyncio.sleep(0)
    detail: Any = await subscription.get()

    assert detail.status == "SUCCEEDED"
    assert seen == [(True, True, True)]  # built before the first DescribeJobs call
    # one model per turn of the loop, leaves first
    assert (True, False, False) in turns
    assert (True, True, False) in turns


# ---------------------------------------------------------------------------------------------
# The records of finished jobs freed in slices


async def test_the_last_jobs_records_are_freed_in_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(poller_module, "SLICE_SECONDS", 0.0)
    ids = [f"job-{i:04d}" for i in range(1_000)]
    poller, _, _ = make_poller({i: ["RUNNING", "SUCCEEDED"] for i in ids})
    subscriptions = [poller.subscribe([i]) for i in ids]
    async with LoopTurns() as turns:
        await until(lambda: poller.tracked == 0)
        last_gone = turns.count
        await until(lambda: not poller.running)
        # a due and an early entry per job: freed 64 at a time, the loop free between
        assert turns.count - last_gone >= math.ceil(2_000 / 64) // 2
    assert all(s.ready for s in subscriptions)


async def test_a_wait_that_arrives_while_records_are_freed_is_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(poller_module, "SLICE_SECONDS", 0.0)
    ids = [f"job-{i:04d}" for i in range(1_000)]
    poller, describe, _ = make_poller({i: ["SUCCEEDED"] for i in [*ids, "late"]})
    first = [poller.subscribe([i]) for i in ids]
    await until(lambda: poller.tracked == 0)
    assert poller.running  # still freeing the finished jobs' records
    late = poller.subscribe(["late"])
    assert (await late.get()).job_id == "late"
    assert describe.calls[-1][1] == ["late"]
    assert all(s.ready for s in first)
