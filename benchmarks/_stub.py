"""A fast local stand-in for AWS Batch, run in its own process by the benchmarks.

It speaks just enough HTTP/1.1 (keep-alive, ``Content-Length`` bodies) on a raw asyncio
protocol to answer as fast as one core allows, so that the client's CPU, measured in the
benchmark's own process, is what the figures compare. Operations (all ``POST /v1/<op>``):

* ``submitjob``: a new job id each call; with ``--submit-rate R`` a token bucket (rate R,
  burst R) answers HTTP 429 ``TooManyRequestsException`` beyond it, as AWS does. Every
  created job's name and token tag is recorded, so lost and duplicated jobs can be counted.
* ``describejobs``: each id is RUNNING for its first ``--polls - 1`` descriptions, then
  SUCCEEDED (a job about as large as a real container job's, ~1.5 KB; with ``--detail-kb N``
  about N KB: retried attempts and parameters, the fields that make real details large).
* ``describejobdefinitions``: one container job definition, ``bench-def:1``;
* ``listjobs``: ``--list-jobs N`` summaries of one queue, paged by ``maxResults`` and a
  ``nextToken`` (the offset).

``GET /stats`` answers the counters as JSON; ``POST /reset`` zeroes them (and the bucket).
The process prints ``PORT <n>`` once it listens, and runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
_NOW_MS = 1_764_000_000_000


class Stub:
    """The state behind the protocol: counters, the bucket and the prepared answers."""

    def __init__(
        self, polls: int, submit_rate: float | None, list_jobs: int, detail_kb: int = 0
    ) -> None:
        self.polls = polls
        self.detail_kb = detail_kb
        self._templates: dict[str, bytes] = {}
        self.submit_rate = submit_rate
        self.list_jobs = list_jobs
        self.summaries = [_summary(i) for i in range(list_jobs)]
        self.reset()

    def reset(self) -> None:
        self.calls: Counter[str] = Counter()
        self.ids = 0
        self.throttled = 0
        self.described: Counter[str] = Counter()
        self.names: Counter[str] = Counter()
        self.tokens: Counter[str] = Counter()
        self.next_id = 0
        self.tokens_left = float(self.submit_rate or 0)
        self.refilled = time.monotonic()
        self.first_submit: float | None = None
        self.last_submit: float | None = None

    def stats(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "ids": self.ids,
            "throttled": self.throttled,
            "jobs": sum(self.names.values()),
            "duplicate_names": sum(n - 1 for n in self.names.values() if n > 1),
            "duplicate_tokens": sum(n - 1 for n in self.tokens.values() if n > 1),
            "submit_span": (
                0.0
                if self.first_submit is None or self.last_submit is None
                else self.last_submit - self.first_submit
            ),
        }

    def handle(self, op: str, body: bytes) -> tuple[int, bytes]:
        self.calls[op] += 1
        if op == "submitjob":
            return self._submit(body)
        if op == "describejobs":
            return self._describe(body)
        if op == "listjobs":
            return self._list(body)
        if op == "describejobdefinitions":
            return 200, _DEFINITIONS
        return 404, b'{"__type": "ClientException", "message": "unknown operation"}'

    def _submit(self, body: bytes) -> tuple[int, bytes]:
        now = time.monotonic()
        if self.submit_rate is not None:
            rate = self.submit_rate
            self.tokens_left = min(rate, self.tokens_left + (now - self.refilled) * rate)
            self.refilled = now
            if self.tokens_left < 1.0:
                self.throttled += 1
                return (
                    429,
                    b'{"__type": "TooManyRequestsException", "message": "Too Many Requests"}',
                )
            self.tokens_left -= 1.0
        params = json.loads(body)
        name = params.get("jobName", "")
        self.names[name] += 1
        token = (params.get("tags") or {}).get("aws-batch-async:submit-token")
        if token:
            self.tokens[token] += 1
        if self.first_submit is None:
            self.first_submit = now
        self.last_submit = now
        self.next_id += 1
        job_id = f"{self.next_id:08d}-0000-4000-8000-000000000000"
        arn = f"arn:aws:batch:{REGION}:{ACCOUNT}:job/{job_id}"
        return 200, (
            b'{"jobArn": "'
            + arn.encode()
            + b'", "jobName": '
            + json.dumps(name).encode()
            + b', "jobId": "'
            + job_id.encode()
            + b'"}'
        )

    def _describe(self, body: bytes) -> tuple[int, bytes]:
        ids = json.loads(body).get("jobs", [])
        self.ids += len(ids)
        parts = []
        described = self.described
        for job_id in ids:
            described[job_id] += 1
            done = described[job_id] >= self.polls
            status = "SUCCEEDED" if done else "RUNNING"
            if self.detail_kb:
                parts.append(self._large(job_id, status))
            else:
                parts.append(_job(job_id, status))
        return 200, b'{"jobs": [' + b", ".join(parts) + b"]}"

    def _large(self, job_id: str, status: str) -> bytes:
        """A job of about ``detail_kb`` KB, from a template per status (ids are 36 bytes)."""
        template = self._templates.get(status)
        if template is None:
            job = json.loads(_job(_PLACEHOLDER, status))
            job["attempts"] = []
            job["parameters"] = {}
            while len(json.dumps(job)) < self.detail_kb * 1024:
                n = len(job["attempts"])
                job["attempts"].append(_attempt(n))
                job["parameters"][f"param{n:03d}"] = f"value-{n:03d}-" + "v" * 40
            template = self._templates[status] = json.dumps(job).encode()
        return template.replace(_PLACEHOLDER.encode(), job_id.encode())

    def _list(self, body: bytes) -> tuple[int, bytes]:
        params = json.loads(body)
        size = int(params.get("maxResults") or 100)
        start = int(params.get("nextToken") or 0)
        page = self.summaries[start : start + size]
        self.ids += len(page)
        end = start + len(page)
        answer = b'{"jobSummaryList": [' + b", ".join(page) + b"]"
        if end < len(self.summaries):
            answer += b', "nextToken": "' + str(end).encode() + b'"'
        return 200, answer + b"}"


def _job(job_id: str, status: str) -> bytes:
    """A DescribeJobs job about as large as a real container job's (as bench_wait's)."""
    job: dict[str, Any] = {
        "jobArn": f"arn:aws:batch:{REGION}:{ACCOUNT}:job/{job_id}",
        "jobName": f"bench-{job_id}",
        "jobId": job_id,
        "jobQueue": f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/bench-queue",
        "status": status,
        "attempts": [],
        "createdAt": _NOW_MS,
        "startedAt": _NOW_MS + 5000,
        "dependsOn": [],
        "jobDefinition": f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/bench:1",
        "parameters": {},
        "container": {
            "image": "public.ecr.aws/docker/library/busybox:latest",
            "command": ["sh", "-c", "echo hello"],
            "jobRoleArn": f"arn:aws:iam::{ACCOUNT}:role/bench-job-role",
            "volumes": [],
            "environment": [{"name": "STAGE", "value": "bench"}],
            "mountPoints": [],
            "ulimits": [],
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
    if status == "SUCCEEDED":
        job["stoppedAt"] = _NOW_MS + 9000
        job["container"]["exitCode"] = 0
    return json.dumps(job).encode()


_PLACEHOLDER = "@@job-id-placeholder-0000-000000000000"


def _attempt(n: int) -> dict[str, Any]:
    """One failed attempt of a retried job, as DescribeJobs lists them."""
    return {
        "container": {
            "containerInstanceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/c{n}",
            "taskArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/bench/{n:032d}",
            "exitCode": 1,
            "reason": "Essential container in task exited",
            "logStreamName": f"bench/default/{n:032d}",
            "networkInterfaces": [
                {"attachmentId": f"eni-{n:08d}", "privateIpv4Address": "10.0.0.1"}
            ],
        },
        "startedAt": _NOW_MS + n * 1000,
        "stoppedAt": _NOW_MS + n * 1000 + 500,
        "statusReason": "Essential container in task exited",
    }


def _summary(index: int) -> bytes:
    job_id = f"{index:08d}-1111-4000-8000-000000000000"
    return json.dumps(
        {
            "jobArn": f"arn:aws:batch:{REGION}:{ACCOUNT}:job/{job_id}",
            "jobId": job_id,
            "jobName": f"listed-{index}",
            "createdAt": _NOW_MS - index,
            "status": "SUCCEEDED",
            "startedAt": _NOW_MS - index + 1000,
            "stoppedAt": _NOW_MS - index + 2000,
            "container": {"exitCode": 0},
            "jobDefinition": f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/bench:1",
        }
    ).encode()


_DEFINITIONS = json.dumps(
    {
        "jobDefinitions": [
            {
                "jobDefinitionName": "bench-def",
                "jobDefinitionArn": f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/bench-def:1",
                "revision": 1,
                "status": "ACTIVE",
                "type": "container",
                "containerProperties": {
                    "image": "busybox",
                    "resourceRequirements": [
                        {"type": "VCPU", "value": "1"},
                        {"type": "MEMORY", "value": "2048"},
                    ],
                },
                "platformCapabilities": ["EC2"],
            }
        ]
    }
).encode()

_REASONS = {200: b"OK", 404: b"Not Found", 429: b"Too Many Requests"}


class _Http(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and Content-Length bodies; one request at a time."""

    def __init__(self, stub: Stub) -> None:
        self.stub = stub
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            lines = head.split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self.respond(method, path, body)

    def respond(self, method: str, path: str, body: bytes) -> None:
        stub = self.stub
        extra = b""
        if method == "GET" and path == "/stats":
            status, answer = 200, json.dumps(stub.stats()).encode()
        elif method == "POST" and path == "/reset":
            stub.reset()
            status, answer = 200, b"{}"
        else:
            status, answer = stub.handle(path.rpartition("/")[2].lower(), body)
            if status == 429:
                extra = b"x-amzn-ErrorType: TooManyRequestsException\r\n"
        assert self.transport is not None
        self.transport.write(
            b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            b"x-amzn-RequestId: 00000000-0000-4000-8000-000000000000\r\n%s\r\n"
            % (status, _REASONS.get(status, b"Error"), len(answer), extra)
            + answer
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=1)
    parser.add_argument("--submit-rate", type=float, default=None)
    parser.add_argument("--list-jobs", type=int, default=0)
    parser.add_argument("--detail-kb", type=int, default=0)
    args = parser.parse_args()
    stub = Stub(args.polls, args.submit_rate, args.list_jobs, args.detail_kb)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Http(stub), "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
