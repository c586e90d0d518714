"""An AWS-faithful, fault-injecting reverse proxy in front of a moto server.

moto is a fine Batch stand-in for most calls, but not for the behaviours that clients get
wrong against real AWS (see ../shared/BATCH_API.md). :class:`BatchProxy` forwards every request to
moto and, when ``aws_faithful`` is on (the default):

* pages ListJobs with ``maxResults``/``nextToken`` and enforces AWS's page-size ranges;
* returns only RUNNING jobs from ListJobs when neither ``jobStatus`` nor a filter is given;
* applies the filters JOB_NAME, JOB_DEFINITION, BEFORE/AFTER_CREATED_AT and SHARE_IDENTIFIER,
  returning jobs of every status, newest first;
* does not list array children when listing a queue;
* rejects DescribeJobs calls of more than 100 ids (and answers ``jobs=[]`` with no job);
* gives array children their ``arrayProperties.index`` in ListJobs summaries;
* takes CreateJobQueue without ``state`` (AWS's default is ENABLED; moto refuses it);
* answers GetJobQueueSnapshot, which moto lacks, from the queue's RUNNABLE jobs;
* answers CancelJobs / TerminateJobs, which moto lacks, with one CancelJob / TerminateJob per
  job, unknown ids counted as stopped as AWS documents (``set_bulk_stop(False)`` passes them to
  moto instead, which answers 404 or 500);
* with ``emulate_kinds``, runs EKS and ECS-properties jobs, and each node of multi-node jobs,
  as moto's container jobs and shows them as AWS does (:mod:`._proxy_kinds`,
  :mod:`._proxy_nodes`);
* answers the SageMaker service-job operations, which moto lacks (:mod:`._proxy_service_jobs`);
* lays job overrides (:meth:`BatchProxy.override_job`) over moto's jobs, to show what moto's
  simple mode never does: a job stuck RUNNABLE with AWS's status reason, say.

It also records calls in a bounded log (environment and parameter values masked) with exact
counts per operation and the peak of each operation's calls in flight at once, remembers the
client connections it saw, and injects faults: AWS errors
(429 ``TooManyRequestsException``, 500 ``ServerException``...), dropped responses (the
upstream acted, the client hears a closed connection), delays, and a token-bucket rate limit
per operation.

The proxy runs its own event loop in a daemon thread, so it serves sync and async tests alike::

    with BatchProxy(moto_url) as proxy:
        config = BatchConfig(endpoint_url=proxy.url, ...)
        proxy.inject_error("SubmitJob", status=429, code="TooManyRequestsException", times=2)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from .call_log import CallLog, RecordedCall, access_key_id, mask_secrets, operation_of
from .faults import Fault, TokenBucket
from .http import STRICT_CLIENT
from .http import request as lenient_request
from .kinds import KindEmulator
from .nodes import NodeEmulator
from .operations import (
    Forward,
    JobOverrides,
    array_index,
    aws_error,
    bulk_stop,
    fault_answer,
    job_queue_snapshot,
    list_jobs,
)
from .service_jobs import SERVICE_JOB_OPERATIONS, ServiceJobEmulator

__all__ = ["BatchProxy", "Fault", "RecordedCall"]

_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


class BatchProxy:
    """A reverse proxy to a moto server that behaves like AWS Batch and injects faults.

    Args:
        upstream: The moto server's base URL, e.g. ``http://127.0.0.1:5000``.
        aws_faithful: Enforce real AWS behaviour moto lacks (paging, RUNNING default, 100 ids).
        seed: Seed of the random source behind probabilistic faults.
        host: Address to listen on (loopback only).
        describe_hook: Called with each raw DescribeJobs job dict (from the proxy's thread)
            to amend it, e.g. to add ``container.exitCode``, which moto omits.
        bulk_stop: Answer CancelJobs / TerminateJobs here (``False``: pass them to moto,
            which answers 404, as an endpoint without them would).
        max_calls: How many recorded calls to keep (:attr:`calls`); :meth:`count` and
            :meth:`counts` stay exact beyond it.
        emulate_kinds: Run EKS and ECS-properties jobs, and the nodes of multi-node jobs, as
            container jobs (:attr:`kinds`, :attr:`nodes`); their state is not reset by
            :meth:`reset`, so moto must not be reset either.
    """

    def __init__(
        self,
        upstream: str,
        *,
        aws_faithful: bool = True,
        seed: int | None = None,
        host: str = "127.0.0.1",
        describe_hook: Callable[[dict[str, Any]], None] | None = None,
        bulk_stop: bool = True,
        max_calls: int = 10_000,
        emulate_kinds: bool = False,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.aws_faithful = aws_faithful
        self.describe_hook = describe_hook
        self._host = host
        self._port = 0
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._faults: list[Fault] = []
        self._buckets: dict[str, TokenBucket] = {}
        self._log = CallLog(max_calls)
        self._overrides = JobOverrides()
        self._bulk_stop_default = bulk_stop
        self._bulk_stop = bulk_stop
        #: The EKS / ECS-properties emulation (``emulate_kinds``), else ``None``.
        self.kinds = KindEmulator() if emulate_kinds else None
        #: The multi-node emulation (``emulate_kinds``), else ``None``.
        self.nodes = NodeEmulator(self._hook) if emulate_kinds else None
        #: SageMaker service jobs, which moto lacks (:mod:`._proxy_service_jobs`).
        self.service_jobs = ServiceJobEmulator()
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
            if self.nodes is not None:
                await self.nodes.aclose()
            await runner.cleanup()
            await self._session.close()

    async def _shutdown(self) -> None:
        if not self._stop_future.done():
            self._stop_future.set_result(None)

    # -----------------------------------------------------------------------------------------
    # Controls (thread-safe)

    def reset(self) -> None:
        """Forget recorded calls and counts, faults, rate limits, job overrides and service jobs.

        The bulk-stop switch returns to the constructor's ``bulk_stop``.
        """
        self._log.clear()
        self._overrides.clear()
        self.service_jobs.reset()
        with self._lock:
            self._faults.clear()
            self._buckets.clear()
            self._bulk_stop = self._bulk_stop_default

    def clear_calls(self) -> None:
        """Forget recorded calls and their counts only."""
        self._log.clear()

    def override_job(self, job_id: str, **fields: Any) -> None:
        """Lay ``fields`` over the job in DescribeJobs, ListJobs and GetJobQueueSnapshot answers.

        Fields are AWS's (camelCase) and merge into earlier overrides of the job; ``None``
        removes a field. A status that has not finished drops ``stoppedAt`` (and, before
        STARTING, ``startedAt``) unless given. A CancelJob / TerminateJob (or the bulk ones)
        through the proxy then moves the job to FAILED as AWS would::

            proxy.override_job(
                job_id,
                status="RUNNABLE",
                statusReason="CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - no capacity",
            )

        Raises:
            ValueError: An unknown ``status``.
        """
        self._overrides.set(job_id, fields)

    def clear_overrides(self, *job_ids: str) -> None:
        """Remove the overrides of ``job_ids`` (of every job if none is given)."""
        self._overrides.clear(job_ids)

    def set_bulk_stop(self, enabled: bool) -> None:
        """Answer CancelJobs / TerminateJobs here (``True``) or pass them to moto (404)."""
        with self._lock:
            self._bulk_stop = enabled

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

    def inject_answer(
        self, operation: str, body: bytes | str, *, status: int = 200, **rule: Any
    ) -> Fault:
        """Answer matching calls with ``status`` and ``body`` as they are: an HTML error page,
        garbled JSON... ``rule``: ``content_type`` (``"text/html"``), ``times``,
        ``probability``, ``after_forward`` (moto acts first: SubmitJob creates its job)."""
        data = body.encode() if isinstance(body, str) else body
        return self.add_fault(Fault(operation, "answer", status=status, body=data, **rule))

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
            self._buckets[operation] = TokenBucket(rate, burst if burst is not None else rate)

    @property
    def calls(self) -> list[RecordedCall]:
        """A copy of the latest recorded calls (at most ``max_calls``), oldest first.

        Their bodies have environment and parameter values masked (``"***"``).
        """
        return self._log.calls()

    def count(self, operation: str | None = None, *, outcome: str | None = None) -> int:
        """How many calls (of ``operation``, with ``outcome``) were received (exact)."""
        return self._log.count(operation, outcome=outcome)

    def counts(self) -> Counter[str]:
        """Calls received, per operation (exact)."""
        return self._log.counts()

    @property
    def peers(self) -> set[tuple[str, int]]:
        """The distinct client connections (host, port) seen."""
        return self._log.peers()

    def in_flight(self, operation: str) -> int:
        """Calls of ``operation`` being served now (arrived, not yet answered or dropped)."""
        return self._log.in_flight(operation)

    def peak_in_flight(self, operation: str) -> int:
        """The most calls of ``operation`` served at once since the last reset (a delay
        added with :meth:`add_delay` counts: the call is in flight while it waits)."""
        return self._log.peak(operation)

    # -----------------------------------------------------------------------------------------
    # Serving

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        operation = operation_of(request)
        self._log.enter(operation)
        try:
            return await self._handle_call(request, operation)
        finally:
            self._log.leave(operation)

    async def _handle_call(self, request: web.Request, operation: str) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        peername = request.transport.get_extra_info("peername") if request.transport else None
        peer = (str(peername[0]), int(peername[1])) if peername else None
        access_key = access_key_id(request.headers.get("Authorization", ""))

        arrived = time.monotonic()

        def record(status: int, outcome: str) -> None:
            self._log.record(
                RecordedCall(
                    operation, mask_secrets(body), status, peer, outcome, arrived, access_key
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
            return aws_error(429, "TooManyRequestsException", "Too Many Requests")
        fail = next((f for f in faults if f.kind in ("error", "answer", "drop")), None)
        if fail is not None and fail.kind != "drop" and not fail.after_forward:
            record(fail.status, "injected")
            return fault_answer(fail)

        response = await self._respond(request, operation, body, raw)

        if fail is not None and fail.kind == "drop":
            record(0, "dropped")
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError  # aiohttp then drops the handler quietly
        if fail is not None:
            record(fail.status, "injected")
            return fault_answer(fail)
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
        async def forward(path: str, data: bytes) -> tuple[int, dict[str, str], bytes]:
            return await self._forward(request, data, path)

        if operation in SERVICE_JOB_OPERATIONS:  # moto has no service jobs
            return self.service_jobs.respond(operation, body)
        upstream: Forward = forward
        if self.nodes is not None:
            answer = await self.nodes.respond(operation, body, upstream)
            if answer is not None:
                return answer
            upstream = self.nodes.wrap(upstream)
        answer = await self._emulate(operation, body, upstream)
        if answer is not None:
            return answer
        if self.aws_faithful and operation == "CreateJobQueue" and body.get("state") is None:
            body = {**body, "state": "ENABLED"}  # optional on AWS, required by moto
            raw = json.dumps(body).encode()
        status, headers, payload = await upstream(request.path_qs, raw)
        if status == 200 and operation in ("CancelJob", "TerminateJob"):
            self._overrides.stopped(
                str(body.get("jobId")),
                str(body.get("reason")),
                terminate=operation == "TerminateJob",
            )
        if status == 200 and operation in ("DescribeJobs", "ListJobs"):
            payload = self._present(operation, payload)
        return web.Response(status=status, headers=headers, body=payload)

    async def _emulate(
        self, operation: str, body: dict[str, Any], upstream: Forward
    ) -> web.Response | None:
        """The answer of an operation the proxy answers itself (``None``: moto answers)."""
        kinds, overrides = self.kinds, self._overrides
        if kinds is not None and operation == "RegisterJobDefinition":
            return await kinds.register_job_definition(body, upstream)
        if kinds is not None and operation == "DescribeJobDefinitions":
            return await kinds.describe_job_definitions(body, upstream)
        if kinds is not None and operation == "SubmitJob":
            return await kinds.submit_job(body, upstream)  # None: a job moto runs as it is
        if operation in ("CancelJobs", "TerminateJobs") and self._bulk_stop:
            return await bulk_stop(operation, body, upstream, overrides)
        if not self.aws_faithful:
            return None
        if operation == "GetJobQueueSnapshot":
            return await job_queue_snapshot(body, upstream, overrides)
        if operation == "ListJobs":
            return await list_jobs(body, upstream, overrides)
        if operation == "DescribeJobs":
            ids = body.get("jobs")
            if isinstance(ids, list) and len(ids) > 100:
                return aws_error(
                    400, "ClientException", "jobs: a maximum of 100 job ids may be given"
                )
            if isinstance(ids, list) and not ids:
                return web.json_response({"jobs": []})
        return None

    def _present(self, operation: str, payload: bytes) -> bytes:
        """moto's DescribeJobs or ListJobs answer as AWS gives it."""
        data = json.loads(payload)
        nodes, kinds = self.nodes, self.kinds
        for job in data.get("jobs" if operation == "DescribeJobs" else "jobSummaryList", []):
            if operation == "DescribeJobs":
                if not (nodes is not None and nodes.owns(job)):
                    self._hook(job)  # the nodes' emulation hooks moto's jobs of its own
                if kinds is not None:
                    kinds.present(job)
                if self.aws_faithful:
                    array_index(job)
            self._overrides.apply(job)
        return json.dumps(data).encode()

    def _hook(self, job: dict[str, Any]) -> None:
        if self.describe_hook is not None:
            self.describe_hook(job)

    async def _forward(
        self, request: web.Request, raw: bytes, path: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        url, method = self.upstream + (path or request.path_qs), request.method
        if STRICT_CLIENT:  # aiohttp would refuse the two Server headers of moto's own servers
            status, got, payload = await lenient_request(method, url, headers, raw)
        else:
            async with self._session.request(method, url, headers=headers, data=raw) as upstream:
                status, got, payload = (
                    upstream.status,
                    dict(upstream.headers),
                    await upstream.read(),
                )
        drop = _HOP_HEADERS | {"content-encoding", "date", "server"}
        return status, {k: v for k, v in got.items() if k.lower() not in drop}, payload
