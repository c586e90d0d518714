"""Benchmark: the CPU of feeding 10,000 waits from events vs polling them with DescribeJobs.

A stub of SQS (ReceiveMessage, DeleteMessageBatch; JSON protocol) and of AWS Batch's
DescribeJobs runs in a child process, so ``time.process_time()`` counts the client's CPU only.
Two runs of the library wait for the same ``--jobs`` jobs with ``wait_for``:

* ``events``: ``BatchConfig.events`` set. Once every wait has started, the stub hands out each
  job's ``--events`` state changes (the last one terminal) in EventBridge's envelope, 10 per
  ReceiveMessage, shuffled, with 10% of them duplicated. The reconciliation sweeps are pushed
  beyond the run (``initial_interval`` 60 s), so the CPU is the consumer's (receiving, parsing,
  applying, deleting, and the waits returning) plus each wait's first look (``PollPolicy.
  first_poll_window``: the waits' ceil(jobs/100) coalesced DescribeJobs, counted in).
* ``polling``: no events; the stub answers RUNNING for a job's first ``--polls - 1``
  descriptions and SUCCEEDED from then on (as ``bench_wait.py``), 100 ids a call;
* ``one job``: the same, one job at a time (``--single`` waits in a row), so each poll is a
  DescribeJobs call of its own: what polling one job once costs.

Figures: CPU per event (events run), CPU per poll of one job on its own (one-job run: CPU /
DescribeJobs calls) and, for comparison, a job's share of a coalesced 100-id sweep (polling
run: CPU / ids described). Goal: an event costs at most what polling one job once costs. The
coalesced share is lower (an SQS call carries at most 10 messages and each event needs a
receive and a delete, against 100 ids per DescribeJobs call): printed, not a goal. The script
exits with status 1 when the goal is missed, or when the events run sent any DescribeJobs call
but the first looks, or left an event undeleted.

Usage: ``python benchmarks/bench_events.py [--jobs 10000] [--events 4] [--polls 4] [--runs 3]
[--single 25]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import statistics
import subprocess
import sys
import time
from collections import Counter, deque
from typing import Any

from aiohttp import web

from aws_batch_async import BatchConfig, BatchService, EventsConfig, PollPolicy

REGION = "us-east-1"
QUEUE_PATH = "/123456789012/bench-events"
STATUSES = ("PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED")
POOL = 64


# ---------------------------------------------------------------------------------------------
# The stub (child process)


def serve_stub(polls: int) -> None:
    """Serve SQS and DescribeJobs on 127.0.0.1:<free port>; print the port; run until killed."""
    queue: deque[tuple[str, str]] = deque()
    handed: dict[str, str] = {}
    arrived = asyncio.Event()
    described: Counter[str] = Counter()
    totals: Counter[str] = Counter()

    async def sqs(request: web.Request) -> web.Response:
        target = request.headers.get("X-Amz-Target", "")
        body = await request.json()
        totals[target] += 1
        if target == "AmazonSQS.ReceiveMessage":
            if not queue:
                arrived.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(arrived.wait(), min(body["WaitTimeSeconds"], 0.5))
            messages: list[dict[str, str]] = []
            while queue and len(messages) < body["MaxNumberOfMessages"]:
                handle, text = queue.popleft()
                handed[handle] = text
                md5 = hashlib.md5(text.encode()).hexdigest()
                messages.append(
                    {"MessageId": handle, "ReceiptHandle": handle, "MD5OfBody": md5, "Body": text}
                )
            answer: dict[str, Any] = {"Messages": messages} if messages else {}
        elif target == "AmazonSQS.DeleteMessageBatch":
            ok = []
            for entry in body["Entries"]:
                handed.pop(entry["ReceiptHandle"], None)
                ok.append({"Id": entry["Id"]})
            totals["deleted"] += len(ok)
            answer = {"Successful": ok, "Failed": []}
        else:
            return web.json_response({"__type": "InvalidAction"}, status=400)
        return web.json_response(answer, content_type="application/x-amz-json-1.0")

    async def describe_jobs(request: web.Request) -> web.Response:
        ids = (await request.json()).get("jobs", [])
        totals["describe_calls"] += 1
        totals["describe_ids"] += len(ids)
        jobs = []
        for job_id in ids:
            described[job_id] += 1
            jobs.append(_job(job_id, "SUCCEEDED" if described[job_id] >= polls else "RUNNING"))
        return web.json_response({"jobs": jobs})

    async def load(request: web.Request) -> web.Response:
        spec = await request.json()
        rng = random.Random(spec["seed"])
        bodies = []
        for job_id in spec["ids"]:
            for status in STATUSES[-spec["events"] :]:
                bodies.append(_envelope(_job(job_id, status)))
                if rng.random() < 0.1:
                    bodies.append(bodies[-1])  # at least once: some twice
        rng.shuffle(bodies)
        for index, text in enumerate(bodies):
            queue.append((f"{spec['seed']}-{index}", text))
        arrived.set()
        return web.json_response({"events": len(bodies)})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({**totals, "queued": len(queue), "in_flight": len(handed)})

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/", sqs)
        app.router.add_post("/v1/describejobs", describe_jobs)
        app.router.add_post("/load", load)
        app.router.add_get("/stats", stats)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        print(f"PORT {runner.addresses[0][1]}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def _envelope(detail: dict[str, Any]) -> str:
    return json.dumps(
        {
            "version": "0",
            "id": hashlib.sha1(json.dumps(detail).encode()).hexdigest(),
            "detail-type": "Batch Job State Change",
            "source": "aws.batch",
            "account": "123456789012",
            "time": "2026-01-01T00:00:00Z",
            "region": REGION,
            "resources": [detail["jobArn"]],
            "detail": detail,
        }
    )


def _job(job_id: str, status: str) -> dict[str, Any]:
    """A DescribeJobs job (and event detail) about as large as a real container job's."""
    now = 1_764_000_000_000
    return {
        "jobArn": f"arn:aws:batch:{REGION}:123456789012:job/{job_id}",
        "jobName": f"bench-{job_id}",
        "jobId": job_id,
        "jobQueue": f"arn:aws:batch:{REGION}:123456789012:job-queue/bench-queue",
        "status": status,
        "attempts": [],
        "createdAt": now,
        "startedAt": now + 5000,
        "stoppedAt": now + 9000 if status == "SUCCEEDED" else None,
        "dependsOn": [],
        "jobDefinition": f"arn:aws:batch:{REGION}:123456789012:job-definition/bench:1",
        "parameters": {},
        "container": {
            "image": "public.ecr.aws/docker/library/busybox:latest",
            "command": ["sh", "-c", "echo hello"],
            "jobRoleArn": "arn:aws:iam::123456789012:role/bench-job-role",
            "volumes": [],
            "environment": [{"name": "STAGE", "value": "bench"}],
            "mountPoints": [],
            "ulimits": [],
            "exitCode": 0 if status == "SUCCEEDED" else None,
            "logStreamName": f"bench/default/{job_id}",
            "networkInterfaces": [],
            "resourceRequirements": [
                {"value": "1", "type": "VCPU"},
                {"value": "2048", "type": "MEMORY"},
            ],
            "secrets": [],
        },
        "tags": {"project": "bench"},
        "propagateTags": False,
        "platformCapabilities": ["EC2"],
    }


# ---------------------------------------------------------------------------------------------
# The client (this process)


def _config(url: str, *, events: bool, single: bool = False) -> BatchConfig:
    return BatchConfig(
        region=REGION,
        endpoint_url=url,
        access_key_id="bench",
        secret_access_key="bench",
        max_pool_connections=POOL,
        poll=(
            PollPolicy(initial_interval=60.0, max_interval=120.0)  # no sweep during the run
            if events
            else PollPolicy(initial_interval=0.01, max_interval=0.02)
            if single
            else PollPolicy(initial_interval=0.05, max_interval=0.2)
        ),
        events=EventsConfig(queue_url=url + QUEUE_PATH, endpoint_url=url) if events else None,
    )


async def run_events(url: str, jobs: int, events: int, tag: str) -> dict[str, float]:
    ids = [f"{tag}-{i}" for i in range(jobs)]
    async with BatchService(_config(url, events=True)) as batch:
        tasks = [asyncio.ensure_future(batch.wait_for(i)) for i in ids]
        await asyncio.sleep(0)  # every wait subscribed
        before = await _get(url, "/stats")
        cpu, wall = time.process_time(), time.perf_counter()
        loaded = await _post(url, "/load", {"ids": ids, "events": events, "seed": hash(tag)})
        done = await asyncio.gather(*tasks)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        for _ in range(200):  # the last deletes may still be on their way
            after = await _get(url, "/stats")
            if after.get("deleted", 0) - before.get("deleted", 0) >= loaded["events"]:
                break
            await asyncio.sleep(0.01)
    assert all(job.status == "SUCCEEDED" for job in done)
    return {
        "cpu": cpu,
        "wall": wall,
        "events": loaded["events"],
        "describe_calls": after.get("describe_calls", 0) - before.get("describe_calls", 0),
        "undeleted": loaded["events"] - (after.get("deleted", 0) - before.get("deleted", 0)),
        "receives": after.get("AmazonSQS.ReceiveMessage", 0)
        - before.get("AmazonSQS.ReceiveMessage", 0),
    }


async def run_polling(url: str, jobs: int, tag: str) -> dict[str, float]:
    ids = [f"{tag}-{i}" for i in range(jobs)]
    async with BatchService(_config(url, events=False)) as batch:
        before = await _get(url, "/stats")
        cpu, wall = time.process_time(), time.perf_counter()
        done = await asyncio.gather(*(batch.wait_for(i) for i in ids))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        after = await _get(url, "/stats")
    assert all(job.status == "SUCCEEDED" for job in done)
    return {
        "cpu": cpu,
        "wall": wall,
        "describe_calls": after["describe_calls"] - before.get("describe_calls", 0),
        "describe_ids": after["describe_ids"] - before.get("describe_ids", 0),
    }


async def run_one_job(url: str, jobs: int, tag: str) -> dict[str, float]:
    """Jobs waited for one after another: each DescribeJobs call polls one job once."""
    async with BatchService(_config(url, events=False, single=True)) as batch:
        before = await _get(url, "/stats")
        cpu, wall = time.process_time(), time.perf_counter()
        for index in range(jobs):
            assert (await batch.wait_for(f"{tag}-{index}")).status == "SUCCEEDED"
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        after = await _get(url, "/stats")
    return {
        "cpu": cpu,
        "wall": wall,
        "describe_calls": after["describe_calls"] - before.get("describe_calls", 0),
        "describe_ids": after["describe_ids"] - before.get("describe_ids", 0),
    }


async def _get(url: str, path: str) -> dict[str, Any]:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(url + path) as response:
        data: dict[str, Any] = await response.json()
        return data


async def _post(url: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.post(url + path, json=payload) as r:
        data: dict[str, Any] = await r.json()
        return data


Runs = list[dict[str, float]]


async def bench(url: str, jobs: int, events: int, runs: int, single: int) -> tuple[Runs, ...]:
    await run_events(url, min(jobs, 200), events, "warm-e")
    await run_polling(url, min(jobs, 200), "warm-p")
    await run_one_job(url, 3, "warm-s")
    fed, polled, alone = [], [], []
    for round_ in range(runs):  # interleaved: fair under load drift
        fed.append(await run_events(url, jobs, events, f"e{round_}"))
        polled.append(await run_polling(url, jobs, f"p{round_}"))
        alone.append(await run_one_job(url, single, f"s{round_}"))
        print(f"  round {round_ + 1}/{runs} done", file=sys.stderr)
    return fed, polled, alone


def report(fed: Runs, polled: Runs, alone: Runs, jobs: int, polls: int) -> bool:
    """Print the table and the goal; return whether it is met."""
    per_event = statistics.median(r["cpu"] / r["events"] for r in fed)
    per_poll = statistics.median(r["cpu"] / r["describe_calls"] for r in alone)
    per_share = statistics.median(r["cpu"] / r["describe_ids"] for r in polled)
    per_wait_events = statistics.median(r["cpu"] / jobs for r in fed)
    per_wait_polling = statistics.median(r["cpu"] / jobs for r in polled)
    print(f"\n{jobs} waits (each run; medians below)\n")
    print(f"{'run':<10}{'CPU s':>9}{'wall s':>9}{'events':>9}{'receives':>10}{'DescribeJobs':>14}")
    for r in fed:
        print(
            f"{'events':<10}{r['cpu']:>9.3f}{r['wall']:>9.2f}{r['events']:>9.0f}"
            f"{r['receives']:>10.0f}{r['describe_calls']:>14.0f}"
        )
    for name, group in (("polling", polled), ("one job", alone)):
        for r in group:
            print(
                f"{name:<10}{r['cpu']:>9.3f}{r['wall']:>9.2f}{'':>9}{'':>10}"
                f"{r['describe_calls']:>14.0f}"
            )
    print(f"\nCPU per event (events run):                        {per_event * 1e6:8.1f} us")
    print(f"CPU per poll of one job on its own (one-job run):  {per_poll * 1e6:8.1f} us")
    print(f"CPU per job in a 100-id sweep (polling run):       {per_share * 1e6:8.1f} us")
    print(
        f"CPU per wait: events {per_wait_events * 1e6:.0f} us, polling "
        f"{per_wait_polling * 1e6:.0f} us (each job polled {polls} times, coalesced)"
    )
    print(f"an event costs {per_event / per_share:.2f}x a job's share of a 100-id sweep")
    ok = True
    first_look = -(-jobs // 100)  # each new wait's first look, coalesced: ceil(jobs / 100)
    if any(r["describe_calls"] != first_look for r in fed):
        print(f"GOAL MISSED: the events run sent DescribeJobs beyond the {first_look} first looks")
        ok = False
    if any(r["undeleted"] for r in fed):
        print("GOAL MISSED: events were left undeleted")
        ok = False
    if per_event > per_poll:
        print(f"GOAL MISSED: an event costs {per_event / per_poll:.2f}x polling one job once")
        ok = False
    else:
        print(f"goal met: an event costs {per_event / per_poll:.2f}x polling one job once (<= 1)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=4, choices=range(1, len(STATUSES) + 1))
    parser.add_argument("--polls", type=int, default=4, help="descriptions until SUCCEEDED")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--single", type=int, default=25, help="jobs of the one-job run")
    parser.add_argument("--stub", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stub:
        serve_stub(args.polls)
        return 0
    stub = subprocess.Popen(
        [sys.executable, __file__, "--stub", "--polls", str(args.polls)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert stub.stdout is not None
        line = stub.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError("the stub did not start")
        url = f"http://127.0.0.1:{int(line.split()[1])}"
        fed, polled, alone = asyncio.run(bench(url, args.jobs, args.events, args.runs, args.single))
    finally:
        stub.kill()
        stub.wait()
    return 0 if report(fed, polled, alone, args.jobs, args.polls) else 1


if __name__ == "__main__":
    sys.exit(main())
