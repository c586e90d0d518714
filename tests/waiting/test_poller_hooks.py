"""The poller's hooks: what a component that feeds it (the event feed) decides of its schedule.

``EventFedPoller`` holds a ``JobPoller`` and is its ``PollerHooks``; nothing in ``_waiting/``
reads another class's private attributes.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from aws_batch_async import JobStatus
from aws_batch_async._waiting.event_feed import EventFedPoller
from aws_batch_async._waiting.poller import JobPoller, Poller, PollerHooks
from aws_batch_async._waiting.subscription import TrackedJob

from .test_poller_schedule import (
    FIRST,
    POLICY,
    FakeDescribeJobs,
    FakeTime,
    intervals,
)

WAITING = Path(__file__).parents[2] / "aws_batch_async" / "_waiting"


class Recorder:
    """Hooks that hold every job on a fixed delay and set aside RUNNABLE after RUNNING."""

    def __init__(self, delay: float | None) -> None:
        self.delay = delay
        self.seen: list[tuple[str, str]] = []
        self.finished_ids: list[str] = []
        self.running: set[str] = set()

    def accept(self, job: TrackedJob, raw: dict[str, Any]) -> bool:
        status = str(raw.get("status"))
        self.seen.append((job.job_id, status))
        if status == "RUNNING":
            self.running.add(job.job_id)
        return not (status == "RUNNABLE" and job.job_id in self.running)

    def next_delay(self, job: TrackedJob) -> float | None:
        return self.delay

    def finished(self, job_id: str) -> None:
        self.finished_ids.append(job_id)


def hooked(scripts: dict[str, list[Any]], hooks: PollerHooks) -> tuple[JobPoller, FakeDescribeJobs]:
    fake_time = FakeTime()
    describe = FakeDescribeJobs(fake_time, scripts)
    poller = JobPoller(
        describe,
        POLICY,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        rand=lambda: 1.0,
        hooks=hooks,
    )
    return poller, describe


async def test_the_hooks_set_the_delay_after_each_answer_and_hear_each_finish() -> None:
    hooks = Recorder(delay=3.0)
    poller, describe = hooked({"j": ["RUNNABLE", "RUNNING", "RUNNING", "SUCCEEDED"]}, hooks)
    subscription = poller.subscribe(["j"])
    job = await subscription.get()
    subscription.close()
    assert job.status is JobStatus.SUCCEEDED
    assert intervals(describe.poll_times("j")) == [FIRST, 3, 3, 3]  # not the backoff 1, 2, 4
    assert [status for _, status in hooks.seen] == ["RUNNABLE", "RUNNING", "RUNNING", "SUCCEEDED"]
    assert hooks.finished_ids == ["j"]


async def test_a_hook_that_returns_none_leaves_the_backoff() -> None:
    poller, describe = hooked({"j": ["RUNNING"] * 4 + ["SUCCEEDED"]}, Recorder(delay=None))
    subscription = poller.subscribe(["j"])
    await subscription.get()
    subscription.close()
    assert intervals(describe.poll_times("j")) == [FIRST, 1, 2, 4, 8]


async def test_an_answer_the_hooks_set_aside_reaches_no_wait() -> None:
    hooks = Recorder(delay=1.0)
    script = ["RUNNING", "RUNNABLE", "RUNNING", "SUCCEEDED"]
    poller, _ = hooked({"j": script}, hooks)
    subscription = poller.subscribe(["j"], every_change=True)
    statuses = [job.status async for job in subscription]
    subscription.close()
    # the RUNNABLE answer after RUNNING was stale: the wait saw RUNNING once, then the end
    assert statuses == [JobStatus.RUNNING, JobStatus.SUCCEEDED]
    assert ("j", "RUNNABLE") in hooks.seen


def test_the_event_fed_poller_holds_a_poller_and_is_its_hooks() -> None:
    fed = EventFedPoller(FakeDescribeJobs(FakeTime(), {}), POLICY, reconcile_interval=30.0)
    assert not isinstance(fed, JobPoller)
    assert isinstance(fed.poller, JobPoller)
    hooks: PollerHooks = fed  # what the poller calls back
    served: Poller = fed  # what the service holds
    assert (hooks, served) == (fed, fed)
    job = TrackedJob("j", 0.0, 0)
    assert fed.next_delay(job) == 30.0
    fed.use_polling()
    assert fed.next_delay(job) is None  # the poller's own backoff


def test_no_module_of_waiting_reads_another_objects_private_attributes() -> None:
    found = []
    for name in ("poller.py", "event_feed.py", "subscription.py"):
        tree = ast.parse((WAITING / name).read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                found.append(f"{name}:{node.lineno}: .{node.attr}")
    assert found == []
