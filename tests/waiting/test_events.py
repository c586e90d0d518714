"""Event-driven waiting: EventBridge -> SQS feeds every wait; DescribeJobs only reconciles.

Three layers:

1. the poller fed by events (``EventFedPoller``) with the fake clock and scripted DescribeJobs
   of ``test_watcher_schedule.py``: ordering, duplicates, terminal states, reconciliation,
   the fall back to polling;
2. the consumer (``EventConsumer``) over an in-memory SQS (:class:`FakeSqs`): delete after apply,
   unwaited events, errors, closing, several receives, the stealing warning;
3. the whole service against moto's SQS and EventBridge (events published with PutEvents, as
   moto's Batch emits none) and a DescribeJobs stub that counts calls: ``ensure_event_queue``,
   1,000 waits with dropped, duplicated and shuffled events, latency, LocalBatch(events=True).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiobotocore.session import AioSession
from aiohttp import web

from aws_batch_async import (
    BatchAPIError,
    BatchConfig,
    BatchService,
    ConfigurationError,
    EventsConfig,
    JobStatus,
    PollPolicy,
    ServiceClosedError,
)
from aws_batch_async._waiting.event_feed import (
    DETAIL_TYPE,
    STEAL_THRESHOLD,
    EventConsumer,
    EventFedPoller,
    parse_event,
)
from aws_batch_async._waiting.event_setup import event_pattern, queue_policy, rule_name
from aws_batch_async._waiting.subscription import STATUS_RANK, progress
from aws_batch_async.testing import MotoServer

from .test_poller_schedule import FIRST, POLICY, FakeDescribeJobs, FakeTime, until

REGION = "us-east-1"
QUEUE_ARN = f"arn:aws:batch:{REGION}:123456789012:job-queue/events-queue"
HANG = 10.0  # real seconds after which a wait counts as hung


def job(job_id: str, status: str, *, attempts: int = 0, **extra: Any) -> dict[str, Any]:
    """A DescribeJobs-shaped job (an event's detail has the same shape)."""
    raw: dict[str, Any] = {
        "jobId": job_id,
        "jobName": f"name-{job_id}",
        "jobArn": f"arn:aws:batch:{REGION}:123456789012:job/{job_id}",
        "jobQueue": QUEUE_ARN,
        "status": status,
        "attempts": [{"container": {"exitCode": 1}} for _ in range(attempts)],
        "createdAt": 1_764_000_000_000,
        "jobDefinition": f"arn:aws:batch:{REGION}:123456789012:job-definition/d:1",
        "container": {"environment": [{"name": "SECRET", "value": "s3cr3t"}]},
    }
    raw.update(extra)
    return raw


def envelope(detail: dict[str, Any], detail_type: str = DETAIL_TYPE) -> str:
    """An SQS message body as EventBridge writes it."""
    return json.dumps(
        {
            "version": "0",
            "id": "e1",
            "source": "aws.batch",
            "detail-type": detail_type,
            "time": "2026-01-01T00:00:00Z",
            "region": REGION,
            "resources": [detail.get("jobArn", "")],
            "detail": detail,
            "newFieldFromTheFuture": {"x": 1},
        }
    )


# ---------------------------------------------------------------------------------------------
# 1. The poller fed by events (fake clock, scripted DescribeJobs)

RECONCILE = 50.0
OUTCOMES = ("applied", "stale", "late", "unwaited", "malformed", "ignored")


def make_fed_poller(
    scripts: dict[str, list[Any]], reconcile: float = RECONCILE
) -> tuple[EventFedPoller, FakeDescribeJobs, FakeTime]:
    fake_time = FakeTime()
    describe = FakeDescribeJobs(fake_time, scripts)
    poller = EventFedPoller(
        describe,
        POLICY,
        reconcile_interval=reconcile,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        rand=lambda: 0.999,
    )
    return poller, describe, fake_time


def test_parse_event_takes_job_state_changes_only() -> None:
    detail = job("a", "RUNNING")
    assert parse_event(envelope(detail)) == detail
    assert parse_event(envelope({"jobQueue": QUEUE_ARN}, "Batch Job Queue Blocked")) is None
    assert parse_event(envelope({"status": "RUNNING"})) is None  # no jobId
    assert parse_event(json.dumps({"source": "aws.ec2", "detail-type": DETAIL_TYPE})) is None
    assert parse_event("not json") is None
    assert parse_event(None) is None
    assert parse_event(json.dumps([1, 2])) is None


def test_progress_orders_attempts_then_status_then_children() -> None:
    assert progress(job("a", "RUNNING")) > progress(job("a", "RUNNABLE"))
    assert progress(job("a", "RUNNABLE", attempts=1)) > progress(job("a", "RUNNING"))  # a retry
    assert progress(job("a", "SUCCEEDED")) == progress(job("a", "FAILED"))
    summary = dict.fromkeys(STATUS_RANK, 0)
    before = job("p", "PENDING", arrayProperties={"statusSummary": {**summary, "RUNNING": 2}})
    after = job(
        "p", "PENDING", arrayProperties={"statusSummary": {**summary, "RUNNING": 1, "FAILED": 1}}
    )
    assert progress(after) > progress(before)


async def test_events_reach_watchers_in_order_whatever_their_order_of_arrival() -> None:
    poller, describe, _ = make_fed_poller({"a": ["RUNNABLE"]})
    watch = poller.subscribe(["a"], every_change=True)
    wait = poller.subscribe(["a"])
    assert poller.apply(job("a", "STARTING")) == "applied"
    assert poller.apply(job("a", "STARTING")) == "stale"  # a duplicate
    assert poller.apply(job("a", "PENDING")) == "stale"  # late: behind STARTING
    assert poller.apply(job("a", "RUNNABLE", attempts=1)) == "applied"  # a retry goes back
    assert poller.apply(job("a", "RUNNING")) == "stale"  # attempt 0's, delivered late
    assert poller.apply(job("a", "SUCCEEDED", attempts=1)) == "applied"
    assert poller.apply(job("a", "SUCCEEDED", attempts=1)) == "late"  # after the end
    assert poller.apply(job("a", "FAILED")) == "late"  # terminal is final
    seen = [(d.status, len(d.attempts)) async for d in watch]
    assert seen == [("STARTING", 0), ("RUNNABLE", 1), ("SUCCEEDED", 1)]
    assert (await wait.get()).status is JobStatus.SUCCEEDED
    assert describe.calls == []  # everything came from events, before the first sweep
    await poller.aclose()


async def test_environment_values_never_enter_the_poller_from_events() -> None:
    poller, _, _ = make_fed_poller({})
    watch = poller.subscribe(["a"], every_change=True)
    poller.apply(job("a", "RUNNING"))
    detail = await watch.get()
    assert "s3cr3t" not in repr(detail)
    assert "s3cr3t" not in repr(poller.last_seen("a"))
    await poller.aclose()


async def test_an_event_of_nobody_and_a_malformed_one_change_nothing() -> None:
    poller, _, _ = make_fed_poller({})
    wait = poller.subscribe(["a"])
    assert poller.apply(job("zzz", "SUCCEEDED")) == "unwaited"
    assert poller.apply({"jobId": "a", "status": "SUCCEEDED"}) == "malformed"  # no jobName
    assert wait.pending == {"a"}
    assert poller.apply(job("a", "FAILED")) == "applied"
    assert (await wait.get()).status is JobStatus.FAILED
    await poller.aclose()


async def test_reconciliation_sweeps_once_at_start_then_every_interval() -> None:
    poller, describe, _ = make_fed_poller({"a": ["RUNNING"], "b": ["SUCCEEDED"]})
    first = poller.subscribe(["a"])
    done = poller.subscribe(["b"])  # finished before anyone listened: the first sweep sees it
    assert (await done.get()).status is JobStatus.SUCCEEDED
    await until(lambda: len(describe.calls) >= 3)
    times = [t for t, _ in describe.calls[:3]]
    assert times[0] == pytest.approx(FIRST)  # the first look of a new wait
    assert times[1] - times[0] == pytest.approx(RECONCILE)  # not the 2 s backoff
    assert times[2] - times[1] == pytest.approx(RECONCILE)
    assert all(ids == ["a"] for _, ids in describe.calls[1:3])  # never a job nobody waits on
    first.close()
    await poller.aclose()


async def test_a_describe_answer_behind_an_event_is_not_delivered() -> None:
    poller, describe, _ = make_fed_poller({"a": ["RUNNABLE", "RUNNING", "SUCCEEDED"]})
    watch = poller.subscribe(["a"], every_change=True)
    poller.apply(job("a", "STARTING"))  # the event came before the (eventually consistent) sweep
    assert (await watch.get()).status is JobStatus.STARTING
    await until(lambda: len(describe.calls) >= 1)  # answered RUNNABLE: old news
    await until(lambda: len(describe.calls) >= 2)
    rest = [d.status async for d in watch]
    assert rest == [JobStatus.RUNNING, JobStatus.SUCCEEDED]
    await poller.aclose()


async def test_without_events_the_poller_polls_on_its_backoff_and_returns_to_reconciling() -> None:
    poller, describe, _ = make_fed_poller({"a": ["RUNNING"]})
    wait = poller.subscribe(["a"])
    await until(lambda: len(describe.calls) >= 1)  # t=1; next due at 1 + RECONCILE
    poller.use_polling()
    assert not poller.event_fed
    await until(lambda: len(describe.calls) >= 4)
    gaps = [b[0] - a[0] for a, b in zip(describe.calls, describe.calls[1:], strict=False)]
    assert all(gap < 10 for gap in gaps[:3])  # the backoff schedule (max 8 s), not 50 s
    poller.use_events()
    count = len(describe.calls)
    await until(lambda: len(describe.calls) >= count + 2)
    last = describe.calls[-2:]
    assert last[1][0] - last[0][0] == pytest.approx(RECONCILE)
    wait.close()
    await poller.aclose()


# ---------------------------------------------------------------------------------------------
# 2. The consumer over an in-memory SQS


class FakeSqs:
    """SQS in memory: long polls that return when messages arrive; calls recorded.

    A receive hands out up to 10 visible messages and hides them (no visibility timeout: a
    message not deleted stays hidden unless :meth:`redeliver` is called).
    """

    def __init__(self, long_poll: float = 0.2) -> None:
        self.long_poll = long_poll  # real seconds a receive waits when empty
        self.visible: deque[tuple[str, str]] = deque()
        self.hidden: dict[str, str] = {}
        self.deleted: list[str] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.errors: deque[Exception] = deque()
        self.in_flight = 0
        self.most_in_flight = 0
        self.on_delete: Any = None
        self._arrived = asyncio.Event()
        self._handles = iter(range(10**9))

    def send(self, body: str) -> None:
        self.visible.append((f"h{next(self._handles)}", body))
        self._arrived.set()

    def redeliver(self) -> None:
        for handle, body in self.hidden.items():
            self.visible.append((handle, body))
        self.hidden.clear()
        self._arrived.set()

    async def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        self.calls.append((operation, params))
        if self.errors:
            await asyncio.sleep(0)
            raise self.errors.popleft()
        if operation == "DeleteMessageBatch":
            if self.on_delete is not None:
                self.on_delete(params["Entries"])
            for entry in params["Entries"]:
                self.hidden.pop(entry["ReceiptHandle"], None)
                self.deleted.append(entry["ReceiptHandle"])
            return {"Successful": [{"Id": e["Id"]} for e in params["Entries"]], "Failed": []}
        assert operation == "ReceiveMessage"
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if not self.visible:
                self._arrived.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), self.long_poll)
            messages: list[dict[str, str]] = []
            while self.visible and len(messages) < params["MaxNumberOfMessages"]:
                handle, body = self.visible.popleft()
                self.hidden[handle] = body
                messages.append({"ReceiptHandle": handle, "Body": body, "MessageId": handle})
            await asyncio.sleep(0)
            return {"Messages": messages} if messages else {}
        finally:
            self.in_flight -= 1


#: Real time for the consumer's tests, with a poller too slow to sweep during them.
# The jobs of these tests were submitted elsewhere: DescribeJobs may not know them yet.
SLOW = PollPolicy(
    initial_interval=30.0, max_interval=60.0, not_found_grace=60.0, not_found_grace_all_ids=True
)


def make_consumer(
    sqs: FakeSqs,
    scripts: dict[str, list[Any]] | None = None,
    *,
    delete_unwaited: bool = True,
    policy: PollPolicy = SLOW,
    reconcile: float = 60.0,
) -> tuple[EventFedPoller, EventConsumer, FakeDescribeJobs]:
    describe = FakeDescribeJobs(FakeTime(), scripts or {})
    poller = EventFedPoller(describe, policy, reconcile_interval=reconcile)
    config = EventsConfig(queue_url="http://127.0.0.1:1/q", delete_unwaited=delete_unwaited)
    consumer = EventConsumer(poller, sqs, config, policy, sleep=lambda s: asyncio.sleep(0.01))
    poller.feed = consumer
    return poller, consumer, describe


async def soon(condition: Any, timeout: float = HANG) -> None:
    """Wait, in real time, until ``condition()`` holds."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


async def test_the_consumer_long_polls_applies_then_deletes_in_batches() -> None:
    sqs = FakeSqs()
    poller, _, _ = make_consumer(sqs)
    applied_before_delete: list[bool] = []
    sqs.on_delete = lambda entries: applied_before_delete.append(not poller.tracked)
    waits = [poller.subscribe([f"j{i}"]) for i in range(25)]
    for i in range(25):
        sqs.send(envelope(job(f"j{i}", "SUCCEEDED")))
    done = await asyncio.wait_for(asyncio.gather(*(w.get() for w in waits)), HANG)
    assert {d.status for d in done} == {JobStatus.SUCCEEDED}
    await soon(lambda: len(sqs.deleted) == 25)
    receives = [p for op, p in sqs.calls if op == "ReceiveMessage"]
    assert all(p["WaitTimeSeconds"] == 20 and p["MaxNumberOfMessages"] == 10 for p in receives)
    deletes = [p for op, p in sqs.calls if op == "DeleteMessageBatch"]
    assert all(len(p["Entries"]) <= 10 for p in deletes)
    assert len(deletes) <= 5
    assert applied_before_delete[-1]  # the last batch was deleted once every wait had it
    await poller.aclose()


@pytest.mark.parametrize("delete_unwaited", [True, False])
async def test_unwaited_events_are_deleted_or_left_as_configured(delete_unwaited: bool) -> None:
    sqs = FakeSqs()
    poller, consumer, _ = make_consumer(sqs, delete_unwaited=delete_unwaited)
    wait = poller.subscribe(["mine"])
    sqs.send(envelope(job("other", "RUNNING")))
    sqs.send(envelope({"jobQueue": QUEUE_ARN}, "Batch Job Queue Blocked"))
    sqs.send(envelope(job("mine", "SUCCEEDED")))
    await asyncio.wait_for(wait.get(), HANG)
    await soon(lambda: consumer.counts["applied"] == 1 and len(sqs.deleted) >= 1)
    assert consumer.counts["unwaited"] == 1
    assert consumer.counts["ignored"] == 1
    assert len(sqs.deleted) == (3 if delete_unwaited else 1)
    await poller.aclose()


async def test_sqs_errors_fall_back_to_polling_and_back_logging_each_switch_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sqs = FakeSqs(long_poll=0.01)
    poller, consumer, _ = make_consumer(sqs, {"a": ["RUNNING"]})
    sqs.errors.extend(
        BatchAPIError("slow down", operation="ReceiveMessage", code="Throttling") for _ in range(5)
    )
    with caplog.at_level(logging.INFO, logger="aws_batch_async"):
        wait = poller.subscribe(["a"])
        await soon(lambda: not poller.event_fed)
        await soon(lambda: consumer.counts["receives"] >= 1 and poller.event_fed)
        sqs.send(envelope(job("a", "SUCCEEDED")))
        assert (await asyncio.wait_for(wait.get(), HANG)).status is JobStatus.SUCCEEDED
    down = [r for r in caplog.records if "fall back to polling" in r.getMessage()]
    up = [r for r in caplog.records if "receiving events from SQS again" in r.getMessage()]
    assert len(down) == 1
    assert len(up) == 1
    assert consumer.counts["receive_errors"] == 5
    await poller.aclose()


async def test_a_lost_event_never_hangs_a_wait() -> None:
    fast = PollPolicy(initial_interval=0.05, max_interval=0.1)
    poller, _, describe = make_consumer(
        FakeSqs(), {"a": ["RUNNING", "SUCCEEDED"]}, policy=fast, reconcile=0.1
    )
    wait = poller.subscribe(["a"])  # no event ever comes: reconciliation finds the end
    assert (await asyncio.wait_for(wait.get(), HANG)).status is JobStatus.SUCCEEDED
    assert len(describe.calls) == 2
    await poller.aclose()


async def test_closing_ends_the_consumer_at_once_during_a_long_poll() -> None:
    sqs = FakeSqs(long_poll=30.0)
    poller, consumer, _ = make_consumer(sqs)
    wait = poller.subscribe(["a"])
    await soon(lambda: sqs.in_flight == 1)
    started = time.perf_counter()
    await poller.aclose()
    assert time.perf_counter() - started < 1.0
    assert consumer.receivers == 0
    with pytest.raises(ServiceClosedError):
        await wait.get()


async def test_the_consumer_finishes_its_receive_then_stops_once_nobody_waits() -> None:
    sqs = FakeSqs(long_poll=0.3)
    poller, consumer, _ = make_consumer(sqs)
    wait = poller.subscribe(["a"])
    await soon(lambda: sqs.in_flight == 1)
    wait.close()  # nobody waits now; the receive in flight is not abandoned
    await asyncio.sleep(0.05)
    assert sqs.in_flight == 1
    assert consumer.receivers == 1
    await soon(lambda: consumer.receivers == 0)
    receives = sum(op == "ReceiveMessage" for op, _ in sqs.calls)
    await asyncio.sleep(0.4)
    assert sum(op == "ReceiveMessage" for op, _ in sqs.calls) == receives  # stopped
    again = poller.subscribe(["b"])  # a new wait starts it again
    sqs.send(envelope(job("b", "SUCCEEDED")))
    assert (await asyncio.wait_for(again.get(), HANG)).job_id == "b"
    await poller.aclose()


async def test_a_busy_queue_gets_several_receives_in_flight_a_quiet_one_one() -> None:
    sqs = FakeSqs(long_poll=0.05)
    poller, consumer, _ = make_consumer(sqs)
    waits = [poller.subscribe([f"j{i}"]) for i in range(300)]
    for i in range(300):
        sqs.send(envelope(job(f"j{i}", "SUCCEEDED")))
    await asyncio.wait_for(asyncio.gather(*(w.get() for w in waits)), HANG)
    assert sqs.most_in_flight >= 2
    keep = poller.subscribe(["idle"])
    await soon(lambda: consumer.receivers == 1)
    keep.close()
    await poller.aclose()


async def test_many_events_of_unwaited_jobs_warn_once_of_stealing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sqs = FakeSqs()
    poller, consumer, _ = make_consumer(sqs)
    wait = poller.subscribe(["mine"])
    for i in range(2 * STEAL_THRESHOLD):
        sqs.send(envelope(job(f"someone-else-{i}", "RUNNING")))
    await soon(lambda: consumer.counts["unwaited"] == 2 * STEAL_THRESHOLD)
    warnings = [r for r in caplog.records if "take each other's events" in r.getMessage()]
    assert len(warnings) == 1
    assert "job_name_prefix" in warnings[0].getMessage()
    wait.close()
    await poller.aclose()


async def test_a_redelivered_batch_is_applied_again_harmlessly() -> None:
    sqs = FakeSqs()
    poller, consumer, _ = make_consumer(sqs)
    watch = poller.subscribe(["a"], every_change=True)
    sqs.errors.clear()
    sqs.send(envelope(job("a", "RUNNING")))
    assert (await asyncio.wait_for(watch.get(), HANG)).status is JobStatus.RUNNING
    sqs.hidden["again"] = envelope(job("a", "RUNNING"))  # SQS hands a message twice
    sqs.redeliver()
    await soon(lambda: consumer.counts["stale"] == 1)
    sqs.send(envelope(job("a", "SUCCEEDED")))
    assert [d.status async for d in watch] == [JobStatus.SUCCEEDED]
    await poller.aclose()


# ---------------------------------------------------------------------------------------------
# 3. The service against moto's SQS and EventBridge, and a DescribeJobs stub


class DescribeStub:
    """DescribeJobs (and DescribeJobQueues) on 127.0.0.1, answering from ``states``."""

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}
        self.calls: list[list[str]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/describejobs", self._describe_jobs)
        app.router.add_post("/v1/describejobqueues", self._describe_job_queues)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _describe_jobs(self, request: web.Request) -> web.Response:
        ids = (await request.json())["jobs"]
        assert len(ids) <= 100
        self.calls.append(ids)
        return web.json_response({"jobs": [self.states[i] for i in ids if i in self.states]})

    async def _describe_job_queues(self, request: web.Request) -> web.Response:
        names = (await request.json())["jobQueues"]
        found = [{"jobQueueName": "events-queue", "jobQueueArn": QUEUE_ARN}]
        return web.json_response(
            {"jobQueues": found if names[0] in ("events-queue", QUEUE_ARN) else []}
        )


@pytest.fixture
def moto(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", moto_server.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_server.url)
    return moto_server


@pytest.fixture
async def stub() -> AsyncIterator[DescribeStub]:
    server = DescribeStub()
    await server.start()
    yield server
    await server.stop()


def stub_config(stub: DescribeStub, **events: Any) -> BatchConfig:
    return BatchConfig(
        region=REGION,
        endpoint_url=stub.url,
        job_queue="events-queue",
        poll=PollPolicy(initial_interval=0.2, max_interval=1.0),
        events=EventsConfig(**events) if events else None,
    )


class Publisher:
    """Publishes job state changes to moto's EventBridge, 10 entries a call.

    :meth:`send` writes them to the SQS queue directly, in the envelope EventBridge writes:
    moto's PutEvents takes about 5 ms per event, too slow for the 1,000-job tests.
    """

    def __init__(self, client: Any, sqs: Any) -> None:
        self.client = client
        self.sqs = sqs

    async def send(self, queue_url: str, details: list[dict[str, Any]]) -> list[float]:
        """Send; returns when each detail was in the queue (``perf_counter``)."""
        times = []
        for start in range(0, len(details), 10):
            batch = details[start : start + 10]
            entries = [{"Id": str(i), "MessageBody": envelope(d)} for i, d in enumerate(batch)]
            sent = time.perf_counter()
            answer = await self.sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            assert not answer.get("Failed")
            times += [sent] * len(batch)  # in SQS no later than the answer, no sooner than this
        return times

    async def publish(self, details: list[dict[str, Any]]) -> None:
        for start in range(0, len(details), 10):
            entries = [
                {
                    "Source": "aws.batch",
                    "DetailType": DETAIL_TYPE,
                    "Detail": json.dumps(d),
                    "Resources": [d["jobArn"]],
                }
                for d in details[start : start + 10]
            ]
            answer = await self.client.put_events(Entries=entries)
            assert answer["FailedEntryCount"] == 0


@pytest.fixture
async def publisher(moto: MotoServer) -> AsyncIterator[Publisher]:
    session = AioSession()
    async with (
        session.create_client("events", region_name=REGION, endpoint_url=moto.url) as client,
        session.create_client("sqs", region_name=REGION, endpoint_url=moto.url) as sqs,
    ):
        yield Publisher(client, sqs)


async def test_ensure_event_queue_is_idempotent_and_filters_exactly(
    moto: MotoServer, stub: DescribeStub, publisher: Publisher
) -> None:
    async with BatchService(stub_config(stub)) as batch:
        url = await batch.ensure_event_queue("waits")
        assert await batch.ensure_event_queue("waits") == url
        attributes = await batch._clients.call_service(
            "sqs", "GetQueueAttributes", QueueUrl=url, AttributeNames=["Policy"]
        )
        policy = json.loads(attributes["Attributes"]["Policy"])
        assert len(policy["Statement"]) == 1
        statement = policy["Statement"][0]
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Condition"]["ArnEquals"]["aws:SourceArn"].endswith(
            rule_name("waits", QUEUE_ARN, None)
        )
        rules = await batch._clients.call_service("events", "ListRules")
        assert [r["Name"] for r in rules["Rules"]] == [rule_name("waits", QUEUE_ARN, None)]
        targets = await batch._clients.call_service(
            "events", "ListTargetsByRule", Rule=rules["Rules"][0]["Name"]
        )
        assert len(targets["Targets"]) == 1
        prefixed = await batch.ensure_event_queue("mine", job_name_prefix="mine-")
        await publisher.publish(
            [
                job("1", "RUNNING", jobName="mine-1"),
                job("2", "RUNNING", jobName="theirs-2"),
                job("3", "RUNNING", jobQueue=QUEUE_ARN + "-other"),
            ]
        )
        await publisher.client.put_events(
            Entries=[
                {
                    "Source": "aws.batch",
                    "DetailType": "Batch Job Queue Blocked",
                    "Detail": json.dumps({"jobQueue": QUEUE_ARN, "jobName": "mine-x"}),
                }
            ]
        )

        async def bodies(queue_url: str) -> list[str]:
            answer = await batch._clients.call_service(
                "sqs", "ReceiveMessage", QueueUrl=queue_url, MaxNumberOfMessages=10
            )
            return [json.loads(m["Body"])["detail"]["jobName"] for m in answer.get("Messages", [])]

        assert sorted(await bodies(url)) == ["mine-1", "theirs-2"]
        assert await bodies(prefixed) == ["mine-1"]


async def test_ensure_event_queue_checks_its_arguments(stub: DescribeStub) -> None:
    async with BatchService(stub_config(stub)) as batch:
        with pytest.raises(ValueError, match="FIFO"):
            await batch.ensure_event_queue("q.fifo")
        with pytest.raises(TypeError):
            await batch.ensure_event_queue("q", job_name_prefix=3)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="not found"):
            await batch.ensure_event_queue("q", job_queue="nope")


def test_the_pattern_and_the_policy_are_what_eventbridge_expects() -> None:
    assert event_pattern(QUEUE_ARN, "p-") == {
        "source": ["aws.batch"],
        "detail-type": ["Batch Job State Change"],
        "detail": {"jobQueue": [QUEUE_ARN], "jobName": [{"prefix": "p-"}]},
    }
    first = queue_policy(None, "arn:sqs", "r1", "arn:rule/r1")
    assert first is not None
    assert queue_policy(first, "arn:sqs", "r1", "arn:rule/r1") is None  # already there
    both = queue_policy(first, "arn:sqs", "r2", "arn:rule/r2")
    assert both is not None
    assert len(json.loads(both)["Statement"]) == 2
    assert len(rule_name("q" * 80, QUEUE_ARN, "x")) <= 64


async def run_waits(
    batch: BatchService,
    stub: DescribeStub,
    publisher: Publisher,
    n: int,
    queue_url: str,
    *,
    drop: float = 0.0,
    duplicate: float = 0.0,
    seed: int = 7,
) -> tuple[dict[str, float], list[Any]]:
    """n waits; each job is set SUCCEEDED/FAILED in the stub and its event published.

    Returns each job's latency (terminal event in SQS -> wait returned) and the results.
    """
    rng = random.Random(seed)
    ids = [f"job-{i}" for i in range(n)]
    for job_id in ids:
        stub.states[job_id] = job(job_id, "RUNNING")
    published: dict[str, float] = {}
    returned: dict[str, float] = {}

    async def wait(job_id: str) -> Any:
        detail = await batch.wait_for(job_id, raise_on_failure=False)
        returned[job_id] = time.perf_counter()
        return detail

    tasks = [asyncio.ensure_future(wait(i)) for i in ids]
    await asyncio.sleep(0.3)  # the waits have started (and had their first sweep)
    # (detail, sent?): a dropped terminal event still ends its job in DescribeJobs at its turn
    events: list[tuple[dict[str, Any], bool]] = []
    for i, job_id in enumerate(ids):
        final = job(job_id, "FAILED" if i % 7 == 0 else "SUCCEEDED")
        if rng.random() < 0.2:
            events.append((job(job_id, "RUNNING"), True))  # news that may come too late
        events.append((final, rng.random() >= drop))
        if rng.random() < duplicate:
            events.append((final, True))
    rng.shuffle(events)
    poller = batch._waiting.created_poller
    consumer = poller.feed if isinstance(poller, EventFedPoller) else None
    assert consumer is not None
    done = 0  # events sent so far
    for start in range(0, len(events), 50):
        chunk = events[start : start + 50]
        first: set[int] = set()  # the job's first terminal item: its end in DescribeJobs too
        for index, (detail, _) in enumerate(chunk):
            key = f"final:{detail['jobId']}"
            if detail["status"] != "RUNNING" and key not in stub.states:
                stub.states[key] = stub.states[detail["jobId"]] = detail
                first.add(index)
        sent = [(index, detail) for index, (detail, kept) in enumerate(chunk) if kept]
        times = await publisher.send(queue_url, [detail for _, detail in sent])
        for (index, detail), at in zip(sent, times, strict=True):
            if index in first:
                published[detail["jobId"]] = at
        done += len(sent)
        # moto's SQS slows down with its depth (every call scans the queue): keep it shallow
        await soon(
            functools.partial(
                lambda target: (
                    sum(consumer.counts[k] for k in OUTCOMES) >= target
                    or not consumer.receivers  # every wait is over: the consumer stopped
                ),
                done,
            )
        )
    results = await asyncio.wait_for(asyncio.gather(*tasks), 60)
    latency = {i: returned[i] - published[i] for i in published}
    return latency, results


async def test_1000_waits_fed_by_events_describe_only_for_reconciliation(
    moto: MotoServer, stub: DescribeStub, publisher: Publisher
) -> None:
    async with BatchService(stub_config(stub)) as setup:
        url = await setup.ensure_event_queue("waits")
    reconcile = 2.0
    config = stub_config(stub, queue_url=url, reconcile_interval=reconcile)
    async with BatchService(config) as batch:
        started = time.perf_counter()
        latency, results = await run_waits(
            batch, stub, publisher, 1000, url, drop=0.1, duplicate=0.1
        )
        elapsed = time.perf_counter() - started
    assert len(results) == 1000
    for detail in results:
        assert detail.status == stub.states[f"final:{detail.job_id}"]["status"]  # not stale
    sweeps = 1 + int(elapsed / reconcile) + 1
    assert len(stub.calls) <= 10 * sweeps, (len(stub.calls), elapsed)
    assert {i for ids in stub.calls for i in ids} <= {f"job-{i}" for i in range(1000)}
    assert max(latency.values()) < 1.0, sorted(latency.values())[-5:]


async def test_1000_waits_by_polling_describe_every_interval(stub: DescribeStub) -> None:
    config = stub_config(stub)
    window = 3.0
    ids = [f"poll-{i}" for i in range(1000)]
    for job_id in ids:
        stub.states[job_id] = job(job_id, "RUNNING")
    async with BatchService(config) as batch:
        tasks = [asyncio.ensure_future(batch.wait_for(i)) for i in ids]
        await asyncio.sleep(window)
        calls, described = len(stub.calls), sum(map(len, stub.calls))
        for job_id in ids:
            stub.states[job_id] = job(job_id, "SUCCEEDED")
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
    intervals = int(window / config.poll.max_interval)  # every job is polled once in each
    assert calls >= 10 * intervals
    assert described >= 1000 * intervals


async def test_watch_fed_by_shuffled_duplicated_events_never_goes_backwards(
    moto: MotoServer, stub: DescribeStub, publisher: Publisher
) -> None:
    async with BatchService(stub_config(stub)) as setup:
        url = await setup.ensure_event_queue("watches")
    config = stub_config(stub, queue_url=url, reconcile_interval=0.5)
    rng = random.Random(3)
    ids = [f"w-{i}" for i in range(50)]
    for job_id in ids:
        stub.states[job_id] = job(job_id, "PENDING")
    async with BatchService(config) as batch:

        async def follow(job_id: str) -> list[str]:
            return [d.status.value async for d in batch.watch(job_id)]

        tasks = [asyncio.ensure_future(follow(i)) for i in ids]
        await asyncio.sleep(0.1)
        events = []
        for job_id in ids:
            for status in ("RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"):
                if rng.random() < 0.1 and status != "SUCCEEDED":
                    continue  # dropped
                events += [job(job_id, status)] * (2 if rng.random() < 0.1 else 1)
            stub.states[job_id] = job(job_id, "SUCCEEDED")
        rng.shuffle(events)
        await publisher.publish(events)
        seen = await asyncio.wait_for(asyncio.gather(*tasks), 30)
    for statuses in seen:
        ranks = [STATUS_RANK[s] for s in statuses]
        assert ranks == sorted(set(ranks)), statuses  # forward only, no repeats
        assert statuses[-1] == "SUCCEEDED"


async def test_a_missing_queue_degrades_to_polling_never_fails_the_wait(
    moto: MotoServer, stub: DescribeStub, caplog: pytest.LogCaptureFixture
) -> None:
    config = stub_config(stub, queue_url=f"{moto.url}/123456789012/no-such-queue")
    stub.states["a"] = job("a", "RUNNING")
    async with BatchService(config) as batch:
        task = asyncio.ensure_future(batch.wait_for("a"))
        await asyncio.sleep(0.5)
        stub.states["a"] = job("a", "SUCCEEDED")
        assert (await asyncio.wait_for(task, HANG)).status is JobStatus.SUCCEEDED
    assert any("fall back to polling" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------------------------------
# 4. LocalBatch(events=True)


async def test_local_batch_emits_job_state_changes_that_feed_the_waits() -> None:
    from aws_batch_async import JobRequest
    from aws_batch_async.testing import LocalBatch

    async with LocalBatch(
        mode="lifecycle", step_seconds=0.2, run_seconds=0.2, events=True
    ) as local:
        events = local.config.events
        assert events is not None
        config = local.config.model_copy(
            update={  # after the first look (one DescribeJobs), only events can end the waits
                "poll": PollPolicy(initial_interval=60.0, max_interval=120.0),
                "events": events.model_copy(update={"reconcile_interval": 600.0}),
            }
        )
        async with BatchService(config) as batch:
            submitted = await batch.submit_jobs([JobRequest(command=["true"]) for _ in range(3)])
            follow = batch.watch(submitted[0].job_id)
            statuses, *waited = await asyncio.wait_for(
                asyncio.gather(
                    _statuses(follow), *(_status(batch, j.job_id) for j in submitted[1:])
                ),
                30,
            )
    assert statuses[-1] == "SUCCEEDED"
    # AWS sends no event for SUBMITTED: only the first look (PollPolicy.first_poll_window) sees it
    assert "SUBMITTED" not in statuses[1:]
    assert len(statuses) >= 3
    assert [STATUS_RANK[s] for s in statuses] == sorted({STATUS_RANK[s] for s in statuses})
    assert waited == [["SUCCEEDED"], ["SUCCEEDED"]]


async def _statuses(watch: AsyncIterator[Any]) -> list[str]:
    return [detail.status.value async for detail in watch]


async def _status(batch: BatchService, job_id: str) -> list[str]:
    return [(await batch.wait_for(job_id)).status.value]


async def test_closing_the_service_ends_a_long_poll_at_once(
    moto: MotoServer, stub: DescribeStub
) -> None:
    async with BatchService(stub_config(stub)) as setup:
        url = await setup.ensure_event_queue("closing")
    stub.states["a"] = job("a", "RUNNING")
    batch = BatchService(stub_config(stub, queue_url=url))
    await batch.open()
    task = asyncio.ensure_future(batch.wait_for("a"))
    await asyncio.sleep(0.3)  # the consumer sits in a 20 s long poll
    started = time.perf_counter()
    await batch.aclose()
    assert time.perf_counter() - started < 1.0
    with pytest.raises(ServiceClosedError):
        await task


async def test_a_consumer_that_crashed_is_restarted_and_events_resume() -> None:
    sqs = FakeSqs()
    poller, consumer, _ = make_consumer(sqs)
    original = poller.apply
    poller.apply = lambda raw: 1 / 0  # type: ignore[assignment,method-assign,return-value]
    first = poller.subscribe(["a"])
    sqs.send(envelope(job("a", "RUNNING")))
    await soon(lambda: not poller.event_fed)  # a bug in the consumer: the waits are polled
    await soon(lambda: consumer.receivers == 0)
    poller.apply = original  # type: ignore[method-assign]
    second = poller.subscribe(["b"])  # the next wait starts it again
    sqs.send(envelope(job("b", "SUCCEEDED")))
    assert (await asyncio.wait_for(second.get(), HANG)).job_id == "b"
    assert poller.event_fed
    first.close()
    await poller.aclose()
