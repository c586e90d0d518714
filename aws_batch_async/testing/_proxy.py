"""An AWS-faithful, fault-injecting reverse proxy in front of a moto server.

moto is a fine Batch stand-in for most calls, but not for the behaviours that clients get
wrong against real AWS (see ../shared/BATCH_API.md). :class:`BatchProxy` forwards every request to
moto and, when ``aws_faithful`` is on (the default):

* pages ListJobs with ``maxResults``/``nextToken`` and enforces AWS's page-size ranges;
* returns only RUNNING jobs from ListJobs when neither ``jobStatus`` nor a filter is given;
* applies the filters JOB_NAME, JOB_DEFINITION, BEFORE/AFTER_CREATED_AT and SHARE_IDENTIFIER,
  returning jobs of every status, newest first;
* does not list array children when listing a queue;
* rejects DescribeJobs calls of more than 100 ids (and answers ``jobs=[]`` with no job).

It also counts calls per operation, remembers the client connections it saw, and injects
faults: AWS errors (429 ``TooManyRequestsException``, 500 ``ServerException``...), dropped
responses (the upstream acted, the client hears a closed connection), delays, and a token-bucket
rate limit per operation.

The proxy runs its own event loop in a daemon thread, so it serves sync and async tests alike::

    with BatchProxy(moto_url) as proxy:
        config = BatchConfig(endpoint_url=proxy.url, ...)
        proxy.inject_error("SubmitJob", status=429, code="TooManyRequestsException", times=2)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fnmatch
import hashlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import aiohttp
from aiohttp import web

__all__ = ["BatchProxy", "Fault", "RecordedCall"]

_BATCH_OPERATIONS = {
    "/v1/submitjob": "SubmitJob",
    "/v1/describejobs": "DescribeJobs",
    "/v1/listjobs": "ListJobs",
    "/v1/canceljob": "CancelJob",
    "/v1/terminatejob": "TerminateJob",
    "/v1/tagresource": "TagResource",
    "/v1/createcomputeenvironment": "CreateComputeEnvironment",
    "/v1/createjobqueue": "CreateJobQueue",
    "/v1/registerjobdefinition": "RegisterJobDefinition",
    "/v1/describejobqueues": "DescribeJobQueues",
    "/v1/describejobdefinitions": "DescribeJobDefinitions",
    "/v1/describecomputeenvironments": "DescribeComputeEnvironments",
}
_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}
_STATUS_ORDER = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")


@dataclass
class RecordedCall:
    """A request the proxy received.

    Attributes:
        operation: The AWS operation (``"SubmitJob"``), or the path if unknown.
        body: The parsed JSON body (``{}`` if none).
        status: The HTTP status answered (0 if the response was dropped).
        peer: The client's ``(host, port)``: one per TCP connection.
        outcome: ``"forwarded"``, ``"injected"``, ``"throttled"``, ``"dropped"`` or ``"rejected"``.
        at: ``time.monotonic()`` when it arrived.
        access_key_id: The access key id the request was signed with (from its
            ``Authorization`` header), to tell which credentials a client used.
    """

    operation: str
    body: dict[str, Any]
    status: int
    peer: tuple[str, int] | None
    outcome: str
    at: float
    access_key_id: str | None = None


@dataclass
class Fault:
    """A fault rule. The first matching rule whose dice roll hits applies to a request.

    Attributes:
        operation: The operation it applies to, or ``"*"`` for every operation.
        kind: ``"error"`` answers an AWS error; ``"drop"`` closes the connection without an
            answer; ``"delay"`` waits ``delay`` seconds, then proceeds.
        status: HTTP status of an ``"error"``.
        code: AWS error code of an ``"error"``.
        message: AWS error message of an ``"error"``.
        probability: Chance that the rule fires on a matching request.
        times: How many times it may fire (``None``: unlimited).
        after_forward: For errors and drops: forward to moto first (the server acts), then
            fail the answer. Drops always forward first.
        delay: Seconds, for ``"delay"``.
    """

    operation: str
    kind: Literal["error", "drop", "delay"]
    status: int = 500
    code: str = "ServerException"
    message: str = "Injected fault"
    probability: float = 1.0
    times: int | None = None
    after_forward: bool = False
    delay: float = 0.0
    fired: int = field(default=0, init=False)


class _TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class BatchProxy:
    """A reverse proxy to a moto server that behaves like AWS Batch and injects faults.

    Args:
        upstream: The moto server's base URL, e.g. ``http://127.0.0.1:5000``.
        aws_faithful: Enforce real AWS behaviour moto lacks (paging, RUNNING default, 100 ids).
        seed: Seed of the random source behind probabilistic faults.
        host: Address to listen on (loopback only).
        describe_hook: Called with each raw DescribeJobs job dict (from the proxy's thread)
            to amend it, e.g. to add ``container.exitCode``, which moto omits.
    """

    def __init__(
        self,
        upstream: str,
        *,
        aws_faithful: bool = True,
        seed: int | None = None,
        host: str = "127.0.0.1",
        describe_hook: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.aws_faithful = aws_faithful
        self.describe_hook = describe_hook
        self._host = host
        self._port = 0
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._faults: list[Fault] = []
        self._buckets: dict[str, _TokenBucket] = {}
        self._calls: list[RecordedCall] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._started = threading.Event()
        self._startup_error: BaseException | None = None

    # -----------------------------------------------------------------------------------------
    # Life

    @property
    def url(self) -> str:
        """The proxy's base URL, for ``BatchConfig(endpoint_url=...)``."""
        if not self._port:
            raise RuntimeError("the proxy is not started")
        return f"http://{self._host}:{self._port}"

    def start(self) -> BatchProxy:
        """Start serving in a daemon thread; returns once the port is bound."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="BatchProxy", daemon=True)
        self._thread.start()
        self._started.wait(timeout=30)
        if self._startup_error is not None:
            raise RuntimeError("BatchProxy failed to start") from self._startup_error
        return self

    def stop(self) -> None:
        """Stop serving and join the thread. Idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # loop already closed
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=30)
        thread.join(timeout=30)
        self._thread = None
        self._loop = None

    def __enter__(self) -> BatchProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        stop = loop.create_future()
        self._stop_future = stop
        try:
            loop.run_until_complete(self._serve(stop))
        except BaseException as exc:  # reported to start()
            self._startup_error = exc
            self._started.set()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self, stop: asyncio.Future[None]) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=128),
            auto_decompress=False,
        )
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port, reuse_address=True)
        await site.start()
        self._runner = runner
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self._port = sockets[0].getsockname()[1]
        self._started.set()
        try:
            await stop
        finally:
            await runner.cleanup()
            await self._session.close()

    async def _shutdown(self) -> None:
        if not self._stop_future.done():
            self._stop_future.set_result(None)

    # -----------------------------------------------------------------------------------------
    # Controls (thread-safe)

    def reset(self) -> None:
        """Forget recorded calls, faults and rate limits."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()
            self._buckets.clear()

    def clear_calls(self) -> None:
        """Forget recorded calls only."""
        with self._lock:
            self._calls.clear()

    def add_fault(self, fault: Fault) -> Fault:
        """Add a fault rule; returns it (its ``fired`` count tells how often it fired)."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def inject_error(
        self,
        operation: str,
        *,
        status: int = 500,
        code: str | None = None,
        message: str = "Injected fault",
        times: int | None = None,
        probability: float = 1.0,
        after_forward: bool = False,
    ) -> Fault:
        """Answer matching calls with an AWS error.

        ``code`` defaults to ``TooManyRequestsException`` for 429, ``ServerException`` for 5xx
        and ``ClientException`` otherwise.
        """
        if code is None:
            code = {429: "TooManyRequestsException"}.get(
                status, "ServerException" if status >= 500 else "ClientException"
            )
        return self.add_fault(
            Fault(
                operation,
                "error",
                status=status,
                code=code,
                message=message,
                times=times,
                probability=probability,
                after_forward=after_forward,
            )
        )

    def drop_responses(
        self, operation: str, *, probability: float = 1.0, times: int | None = None
    ) -> Fault:
        """Forward matching calls to moto (it acts), then close the connection unanswered."""
        return self.add_fault(
            Fault(operation, "drop", probability=probability, times=times, after_forward=True)
        )

    def add_delay(
        self, operation: str, seconds: float, *, probability: float = 1.0, times: int | None = None
    ) -> Fault:
        """Delay matching calls by ``seconds`` before handling them."""
        return self.add_fault(
            Fault(operation, "delay", delay=seconds, probability=probability, times=times)
        )

    def set_rate_limit(self, operation: str, rate: float, burst: float | None = None) -> None:
        """Throttle ``operation`` with a token bucket: ``rate`` calls/s, ``burst`` at once.

        Calls past the limit get HTTP 429 ``TooManyRequestsException`` and never reach moto.
        """
        with self._lock:
            self._buckets[operation] = _TokenBucket(rate, burst if burst is not None else rate)

    @property
    def calls(self) -> list[RecordedCall]:
        """A copy of the calls recorded so far."""
        with self._lock:
            return list(self._calls)

    def count(self, operation: str | None = None, *, outcome: str | None = None) -> int:
        """How many calls (of ``operation``, with ``outcome``) were received."""
        with self._lock:
            return sum(
                1
                for c in self._calls
                if (operation is None or c.operation == operation)
                and (outcome is None or c.outcome == outcome)
            )

    def counts(self) -> Counter[str]:
        """Calls received, per operation."""
        with self._lock:
            return Counter(c.operation for c in self._calls)

    @property
    def peers(self) -> set[tuple[str, int]]:
        """The distinct client connections (host, port) seen."""
        with self._lock:
            return {c.peer for c in self._calls if c.peer is not None}

    # -----------------------------------------------------------------------------------------
    # Serving

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        operation = _operation(request)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        peername = request.transport.get_extra_info("peername") if request.transport else None
        peer = (str(peername[0]), int(peername[1])) if peername else None
        access_key_id = _access_key_id(request.headers.get("Authorization", ""))

        def record(status: int, outcome: str) -> None:
            with self._lock:
                self._calls.append(
                    RecordedCall(
                        operation, body, status, peer, outcome, time.monotonic(), access_key_id
                    )
                )

        with self._lock:
            bucket = self._buckets.get(operation)
            allowed = bucket.take() if bucket is not None else True
            faults = self._pick_faults(operation)
        for fault in faults:
            if fault.kind == "delay":
                await asyncio.sleep(fault.delay)
        if not allowed:
            record(429, "throttled")
            return _aws_error(429, "TooManyRequestsException", "Too Many Requests")
        fail = next((f for f in faults if f.kind in ("error", "drop")), None)
        if fail is not None and fail.kind == "error" and not fail.after_forward:
            record(fail.status, "injected")
            return _aws_error(fail.status, fail.code, fail.message)

        response = await self._respond(request, operation, body, raw)

        if fail is not None and fail.kind == "drop":
            record(0, "dropped")
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError  # aiohttp then drops the handler quietly
        if fail is not None and fail.kind == "error":
            record(fail.status, "injected")
            return _aws_error(fail.status, fail.code, fail.message)
        record(response.status, "forwarded" if response.status < 400 else "rejected")
        return response

    def _pick_faults(self, operation: str) -> list[Fault]:
        chosen = []
        for fault in self._faults:
            if fault.operation not in ("*", operation):
                continue
            if fault.times is not None and fault.fired >= fault.times:
                continue
            if fault.probability < 1.0 and self._random.random() >= fault.probability:
                continue
            fault.fired += 1
            chosen.append(fault)
        return chosen

    async def _respond(
        self, request: web.Request, operation: str, body: dict[str, Any], raw: bytes
    ) -> web.Response:
        if self.aws_faithful and operation == "ListJobs":
            return await self._list_jobs(request, body)
        if self.aws_faithful and operation == "DescribeJobs":
            ids = body.get("jobs")
            if isinstance(ids, list) and len(ids) > 100:
                return _aws_error(
                    400, "ClientException", "jobs: a maximum of 100 job ids may be given"
                )
            if isinstance(ids, list) and not ids:
                return web.json_response({"jobs": []})
        status, headers, payload = await self._forward(request, raw)
        if operation == "DescribeJobs" and status == 200 and self.describe_hook is not None:
            data = json.loads(payload)
            for job in data.get("jobs", []):
                self.describe_hook(job)
            payload = json.dumps(data).encode()
        return web.Response(status=status, headers=headers, body=payload)

    async def _forward(
        self, request: web.Request, raw: bytes, path: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        async with self._session.request(
            request.method, self.upstream + (path or request.path_qs), headers=headers, data=raw
        ) as upstream:
            payload = await upstream.read()
            out = {
                k: v
                for k, v in upstream.headers.items()
                if k.lower() not in _HOP_HEADERS | {"content-encoding", "date", "server"}
            }
            return upstream.status, out, payload

    async def _list_jobs(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        targets = [k for k in ("jobQueue", "arrayJobId", "multiNodeJobId") if body.get(k)]
        if len(targets) != 1:
            return _aws_error(
                400,
                "ClientException",
                "exactly one of jobQueue, arrayJobId or multiNodeJobId must be given",
            )
        filters = body.get("filters") or []
        status = body.get("jobStatus")
        if len(filters) > 1:
            return _aws_error(400, "ClientException", "at most one filter may be given")
        if status is not None and status not in _STATUS_ORDER:
            return _aws_error(400, "ClientException", f"unknown jobStatus {status}")
        limit = 100 if filters else 1000
        max_results = body.get("maxResults", limit)
        if not isinstance(max_results, int) or not 1 <= max_results <= limit:
            return _aws_error(400, "ClientException", f"maxResults must be between 1 and {limit}")
        key = hashlib.sha256(
            json.dumps({k: body.get(k) for k in (*targets, "jobStatus", "filters")}).encode()
        ).hexdigest()[:16]
        offset = 0
        if body.get("nextToken"):
            try:
                token = json.loads(base64.urlsafe_b64decode(body["nextToken"]))
                if token["k"] != key:
                    raise ValueError("token of another query")
                offset = int(token["o"])
            except (ValueError, KeyError, TypeError):
                return _aws_error(400, "ClientException", "invalid nextToken")

        target = targets[0]
        upstream_body = json.dumps({target: body[target]}).encode()
        status_code, headers, payload = await self._forward(request, upstream_body)
        if status_code != 200:
            return web.Response(status=status_code, headers=headers, body=payload)
        jobs: list[dict[str, Any]] = json.loads(payload).get("jobSummaryList", [])
        if target == "jobQueue":  # AWS lists array parents by queue, not their children
            parent_ids = {j["jobId"].split(":", 1)[0] for j in jobs if ":" in j.get("jobId", "")}
            jobs = [j for j in jobs if ":" not in j.get("jobId", "")]
            await self._refresh_array_parents(
                request, [j for j in jobs if j["jobId"] in parent_ids]
            )
        if filters and target == "jobQueue":
            flt = filters[0]
            jobs = [j for j in jobs if _matches(j, flt.get("name"), flt.get("values") or [])]
            jobs.sort(key=lambda j: j.get("createdAt", 0), reverse=True)
        else:
            wanted = status or "RUNNING"
            jobs = [j for j in jobs if j.get("status") == wanted]
        page = jobs[offset : offset + max_results]
        result: dict[str, Any] = {"jobSummaryList": page}
        if offset + max_results < len(jobs):
            result["nextToken"] = base64.urlsafe_b64encode(
                json.dumps({"k": key, "o": offset + max_results}).encode()
            ).decode()
        return web.json_response(result)

    async def _refresh_array_parents(
        self, request: web.Request, jobs: list[dict[str, Any]]
    ) -> None:
        """Give array parents their current status and size, as AWS's ListJobs does.

        moto settles a parent's status from its children only when the parent is described,
        and its summaries omit ``arrayProperties``.
        """
        parents = {j["jobId"]: j for j in jobs}
        ids = list(parents)
        for start in range(0, len(ids), 100):
            body = json.dumps({"jobs": ids[start : start + 100]}).encode()
            status, _, payload = await self._forward(request, body, "/v1/describejobs")
            if status != 200:
                return
            for job in json.loads(payload).get("jobs", []):
                summary = parents.get(job.get("jobId"))
                if summary is not None:
                    summary["status"] = job.get("status")
                    size = (job.get("arrayProperties") or {}).get("size")
                    if size:
                        summary["arrayProperties"] = {"size": size}


def _operation(request: web.Request) -> str:
    target = request.headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    path = request.path.rstrip("/").lower()
    if path in _BATCH_OPERATIONS:
        return _BATCH_OPERATIONS[path]
    if path.startswith("/v1/tags/"):
        return "TagResource" if request.method == "POST" else "ListTagsForResource"
    return request.path


def _access_key_id(authorization: str) -> str | None:
    marker = "Credential="
    if marker not in authorization:
        return None
    return authorization.split(marker, 1)[1].split("/", 1)[0] or None


def _aws_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"__type": code, "message": message},
        status=status,
        headers={"x-amzn-ErrorType": code, "x-amzn-RequestId": f"proxy-{random.getrandbits(48):x}"},
    )


def _matches(job: dict[str, Any], name: str | None, values: list[str]) -> bool:
    if not values:
        return False
    value = str(values[0])
    if name == "JOB_NAME":
        job_name = str(job.get("jobName", "")).lower()
        pattern = value.lower()
        if pattern.endswith("*"):
            return job_name.startswith(pattern[:-1])
        return job_name == pattern
    if name == "JOB_DEFINITION":
        definition = str(job.get("jobDefinition", ""))
        short = definition.rsplit("/", 1)[-1]
        return value in (definition, short, short.split(":", 1)[0]) or fnmatch.fnmatchcase(
            short, value
        )
    if name in ("BEFORE_CREATED_AT", "AFTER_CREATED_AT"):
        try:
            bound = int(value)
        except ValueError:
            return False
        created = int(job.get("createdAt", 0))
        return created < bound if name == "BEFORE_CREATED_AT" else created > bound
    if name == "SHARE_IDENTIFIER":
        return job.get("shareIdentifier") == value
    return False
