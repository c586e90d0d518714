"""The framework examples of ``docs/examples``, exercised against a real LocalBatch.

* FastAPI (``fastapi_app.py``) through httpx's ``ASGITransport`` with the lifespan run by
  ``asgi-lifespan``; aiohttp (``aiohttp_app.py``) through aiohttp's test server and client.
* ONE client served every request: the session passed to the app counts the clients created
  from it (one Batch client, one Logs client, whatever the number of requests), and each was
  closed at shutdown.
* The error mapping (404, 422, 429, 503, 504, 400/502...), the streams (NDJSON listing,
  server-sent log events), the background fan-out that outlives its request, and what
  shutdown does to a fan-out still being followed (the wait ends, the AWS job does not).
* The domain wrapper (``video_service.py``) on LocalBatch, with no fake in between.

One LocalBatch in "run" mode (commands really run, so logs and exit codes are real) serves the
module. The examples are imported by file (``docs/examples`` is not a package).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pydantic
import pytest
from aiobotocore.session import AioSession
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from aws_batch_async import (
    BatchAPIError,
    BatchConfig,
    BatchConnectionError,
    BatchService,
    ConfigurationError,
    JobNotFoundError,
    JobRequest,
    JobResponse,
    PollPolicy,
    ServiceClosedError,
    SubmitJobsError,
    ThrottlingError,
    WaitTimeoutError,
)
from aws_batch_async.testing import LocalBatch

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
TRANSCODE = 'echo "$VIDEO_URL -> $OUTPUT_FORMAT ($VIDEO_CODEC)"'
THUMBNAIL = "echo thumb $AWS_BATCH_JOB_ARRAY_INDEX/$THUMBNAIL_COUNT"
FAST_POLL = PollPolicy(initial_interval=0.2, max_interval=1.0, not_found_grace=10)


def load_example(name: str) -> ModuleType:
    """Import ``docs/examples/<name>.py`` (the examples import each other by plain name)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


fastapi_app = load_example("fastapi_app")
aiohttp_app = load_example("aiohttp_app")
http_errors = load_example("http_errors")
fanouts = load_example("fanouts")
video_service = load_example("video_service")


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture(scope="module")
def local() -> Iterator[LocalBatch]:
    with LocalBatch(mode="run") as local:
        yield local


@pytest.fixture
def local_config(local: LocalBatch) -> BatchConfig:
    return local.config.model_copy(update={"poll": FAST_POLL})


class CountingSession:
    """An aiobotocore session that counts the clients created from it, and those closed."""

    def __init__(self) -> None:
        self._session = AioSession()
        self.created: Counter[str] = Counter()
        self.closed: Counter[str] = Counter()

    def create_client(self, service_name: str, **kwargs: Any) -> _TrackedClient:
        self.created[service_name] += 1
        inner = self._session.create_client(service_name, **kwargs)  # type: ignore[call-overload]
        return _TrackedClient(inner, service_name, self.closed)


class _TrackedClient:
    def __init__(self, inner: Any, name: str, closed: Counter[str]) -> None:
        self._inner = inner
        self._name = name
        self._closed = closed

    async def __aenter__(self) -> Any:
        return await self._inner.__aenter__()

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self._inner.__aexit__(*exc_info)
        finally:
            self._closed[self._name] += 1


@contextlib.asynccontextmanager
async def fastapi_client(
    config: BatchConfig, session: Any = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The FastAPI example app, its lifespan run, behind an httpx client."""
    app: FastAPI = fastapi_app.create_app(config, session=session)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://app", timeout=60
        ) as client,
    ):
        yield client


@contextlib.asynccontextmanager
async def aiohttp_client(
    config: BatchConfig, session: Any = None
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The aiohttp example app, started (cleanup_ctx entered), behind aiohttp's test client."""
    app: web.Application = aiohttp_app.create_app(config, session=session)
    async with TestClient(TestServer(app)) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def sse_events(text: str) -> list[tuple[str, Any]]:
    """``(event, data)`` of each server-sent event of a stream."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


async def poll_until_done(get: Any, url: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view: dict[str, Any] = await get(url)
        if view["done"] or time.monotonic() > deadline:
            return view
        await asyncio.sleep(0.2)


# ---------------------------------------------------------------------------------------------
# FastAPI


async def test_fastapi_one_client_serves_every_endpoint(local_config: BatchConfig) -> None:
    session = CountingSession()
    name = unique("fastapi")
    async with fastapi_client(local_config, session) as client:
        one = await client.post(
            "/jobs",
            json={"command": ["sh", "-c", "echo hello $WHO"], "env_vars": {"WHO": "world"}},
        )
        assert one.status_code == 201, one.text
        job_id = one.json()["job_id"]
        many = await client.post(
            "/jobs/batch",
            json={"jobs": [{"command": ["true"], "job_name": f"{name}-{i}"} for i in range(3)]},
        )
        assert many.status_code == 201, many.text
        assert [j["job_name"] for j in many.json()] == [f"{name}-{i}" for i in range(3)]

        waited = await client.get(f"/jobs/{job_id}/wait", params={"timeout": 30})
        assert waited.status_code == 200, waited.text
        assert waited.json()["status"] == "SUCCEEDED"
        assert waited.json()["exit_code"] == 0
        status = await client.get(f"/jobs/{job_id}")
        assert status.json()["status"] == "SUCCEEDED"

        logs = await client.get(f"/jobs/{job_id}/logs")
        assert logs.headers["content-type"].startswith("text/event-stream")
        events = sse_events(logs.text)
        assert [data["message"] for kind, data in events if kind == "log"] == ["hello world"]
        assert events[-1] == ("end", {})

        explained = await client.get(f"/jobs/{job_id}/explain")
        assert explained.json()["verdict"] == "FINISHED"
        assert explained.json()["reasons"]

        listed = await client.get("/jobs", params={"name": f"{name}-*"})
        assert listed.headers["content-type"].startswith("application/x-ndjson")
        rows = [json.loads(line) for line in listed.text.splitlines()]
        assert sorted(r["job_name"] for r in rows) == [f"{name}-{i}" for i in range(3)]

        cancelled = await client.post(f"/jobs/{job_id}/cancel")
        assert cancelled.status_code == 202
        assert cancelled.json()["status_before"] == "SUCCEEDED"  # finished: nothing sent
        assert session.created == {"batch": 1, "logs": 1}  # one client per AWS service
        assert session.closed == {}
    assert session.closed == session.created  # every client closed at shutdown


async def test_fastapi_maps_errors_to_statuses(local_config: BatchConfig) -> None:
    async with fastapi_client(local_config) as client:
        for path in ("/jobs/no-such-job", "/jobs/no-such-job/explain", "/jobs/no-such-job/logs"):
            missing = await client.get(path)
            assert missing.status_code == 404, path
            assert missing.json()["error"] == "JobNotFoundError"
            assert missing.json()["job_id"] == "no-such-job"

        sleeper = (await client.post("/jobs", json={"command": ["sleep", "30"]})).json()
        late = await client.get(f"/jobs/{sleeper['job_id']}/wait", params={"timeout": 0.5})
        assert late.status_code == 504
        assert late.json()["error"] == "WaitTimeoutError"
        stopped = await client.post(f"/jobs/{sleeper['job_id']}/cancel", params={"reason": "t"})
        assert stopped.status_code == 202
        assert stopped.json()["status_before"] != "SUCCEEDED"
        final = await client.get(f"/jobs/{sleeper['job_id']}/wait", params={"timeout": 30})
        assert final.json()["status"] == "FAILED"  # stop_job terminated the running job

        bad_bodies = [
            {},  # no command: FastAPI's RequestValidationError
            {"command": []},
            {"command": ["x"], "job_name": "not a valid name!"},  # JobRequest's ValidationError
            {"command": ["x"], "env_vars": {"AWS_BATCH_X": "secret-value-123"}},
        ]
        for body in bad_bodies:
            bad = await client.post("/jobs", json=body)
            assert bad.status_code == 422, body
            assert bad.json()["error"] == "ValidationError"
            assert bad.json()["details"]
            assert "secret-value-123" not in bad.text  # input values are never echoed
        for params in ({"status": "BOGUS"}, {"name": ""}):
            assert (await client.get("/jobs", params=params)).status_code == 422
        zero = await client.get(f"/jobs/{sleeper['job_id']}/wait", params={"timeout": 0})
        assert zero.status_code == 422

    unreachable = local_config.model_copy(
        update={"endpoint_url": "http://127.0.0.1:9", "api_max_attempts": 1}
    )
    async with fastapi_client(unreachable) as client:
        down = await client.get("/jobs/some-job")
        assert down.status_code == 503
        assert down.json()["error"] == "BatchConnectionError"


async def test_fastapi_background_fanout_outlives_its_request(
    local_config: BatchConfig,
) -> None:
    async with fastapi_client(local_config) as client:
        started = time.monotonic()
        answer = await client.post(
            "/fanouts",
            json={"jobs": [{"command": ["sh", "-c", f"sleep 1; exit {i % 2}"]} for i in range(4)]},
        )
        assert answer.status_code == 202
        assert time.monotonic() - started < 5  # answered before the jobs could finish
        fanout_id = answer.json()["fanout_id"]
        first = (await client.get(f"/fanouts/{fanout_id}")).json()
        assert first["done"] is False  # the request is over; the follow-up goes on

        async def get(url: str) -> dict[str, Any]:
            result: dict[str, Any] = (await client.get(url)).json()
            return result

        view = await poll_until_done(get, f"/fanouts/{fanout_id}")
        assert view["done"] is True
        assert view["error"] is None
        assert (view["total"], view["succeeded"], view["failed"]) == (4, 2, 2)
        assert set(view["jobs"]) == set(answer.json()["job_ids"])
        assert (await client.get("/fanouts/fanout-unknown")).status_code == 404


async def test_shutdown_cancels_follow_ups_not_the_jobs(local_config: BatchConfig) -> None:
    async with BatchService(local_config) as batch:
        job = await batch.submit_job(JobRequest(command=["sleep", "30"]))
        background = fanouts.Fanouts(batch)
        fanout = background.follow([job])
        await asyncio.sleep(0.3)
        assert background.running == 1
        await background.aclose()  # what the lifespan does before closing the service
        assert background.running == 0
        assert fanout.done
        assert fanout.error == "the app shut down before every job finished"
        with pytest.raises(ServiceClosedError):
            background.follow([job])
        still = await batch.get_job_status(job.job_id)
        assert not still.is_terminal  # cancelling the wait did not touch the AWS job
        await batch.stop_job(job.job_id, "test over")
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("follow ")]


# ---------------------------------------------------------------------------------------------
# aiohttp


async def test_aiohttp_one_client_and_every_endpoint(local_config: BatchConfig) -> None:
    session = CountingSession()
    name = unique("aiohttp")
    async with aiohttp_client(local_config, session) as client:
        one = await client.post("/jobs", json={"command": ["sh", "-c", "echo a; echo b >&2"]})
        assert one.status == 201, await one.text()
        job_id = (await one.json())["job_id"]
        many = await client.post(
            "/jobs/batch", json={"jobs": [{"command": ["true"], "job_name": name}] * 2}
        )
        assert many.status == 201

        waited = await client.get(f"/jobs/{job_id}/wait", params={"timeout": "30"})
        assert (await waited.json())["status"] == "SUCCEEDED"
        assert (await (await client.get(f"/jobs/{job_id}")).json())["exit_code"] == 0
        logs = sse_events(await (await client.get(f"/jobs/{job_id}/logs")).text())
        assert [d["message"] for kind, d in logs if kind == "log"] == ["a", "b"]
        assert logs[-1] == ("end", {})
        explained = await (await client.get(f"/jobs/{job_id}/explain")).json()
        assert explained["verdict"] == "FINISHED"

        listed = await client.get("/jobs", params={"name": name})
        rows = [json.loads(line) for line in (await listed.text()).splitlines()]
        assert [r["job_name"] for r in rows] == [name, name]

        answer = await client.post("/fanouts", json={"jobs": [{"command": ["true"]}] * 3})
        assert answer.status == 202
        fanout_id = (await answer.json())["fanout_id"]

        async def get(url: str) -> dict[str, Any]:
            result: dict[str, Any] = await (await client.get(url)).json()
            return result

        view = await poll_until_done(get, f"/fanouts/{fanout_id}")
        assert (view["done"], view["succeeded"]) == (True, 3)
        assert session.created == {"batch": 1, "logs": 1}
    assert session.closed == session.created


async def test_aiohttp_maps_errors_to_statuses(local_config: BatchConfig) -> None:
    async with aiohttp_client(local_config) as client:
        missing = await client.get("/jobs/no-such-job")
        assert missing.status == 404
        assert (await missing.json())["error"] == "JobNotFoundError"
        assert (await client.get("/jobs/no-such-job/logs")).status == 404

        sleeper = await (await client.post("/jobs", json={"command": ["sleep", "30"]})).json()
        late = await client.get(f"/jobs/{sleeper['job_id']}/wait", params={"timeout": "0.5"})
        assert late.status == 504
        stopped = await client.post(f"/jobs/{sleeper['job_id']}/cancel")
        assert stopped.status == 202

        for body in ({}, {"command": ["x"], "env_vars": {"AWS_BATCH_X": "secret-value-123"}}):
            bad = await client.post("/jobs", json=body)
            assert bad.status == 422
            assert "secret-value-123" not in await bad.text()
        assert (await client.post("/jobs", data=b"not json")).status == 422
        assert (await client.get("/jobs", params={"status": "BOGUS"})).status == 422
        for timeout in ("0", "abc", "301"):
            wait = await client.get("/jobs/x/wait", params={"timeout": timeout})
            assert wait.status == 422, timeout
        assert (await client.get("/fanouts/none")).status == 404


# ---------------------------------------------------------------------------------------------
# The error table itself


def _client_error(code: str, status: int) -> BatchAPIError:
    cls = ThrottlingError if status == 429 else BatchAPIError
    return cls("m", operation="SubmitJob", code=code, status_code=status, request_id="r-1")


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (JobNotFoundError("j"), 404),
        (WaitTimeoutError("j", None, 1.0), 504),
        (_client_error("TooManyRequestsException", 429), 429),
        (BatchConnectionError("down", operation="DescribeJobs"), 503),
        (ServiceClosedError("closed"), 503),
        (ConfigurationError("no region"), 500),
        (_client_error("ClientException", 400), 400),
        (_client_error("ServerException", 500), 502),
        (_client_error("AccessDeniedException", 403), 502),
        (SubmitJobsError([JobResponse(job_id="a", job_name="n"), ValueError("x"), None]), 502),
        (ValueError("bad"), 422),
    ],
)
def test_http_error_table(exc: Exception, status: int) -> None:
    error = http_errors.http_error(exc)
    assert error.status == status
    assert error.body["error"] == type(exc).__name__
    if status == 429:
        assert error.headers["Retry-After"]
    if isinstance(exc, BatchAPIError):
        assert error.body["request_id"] == "r-1"
    if isinstance(exc, SubmitJobsError):
        assert error.body["submitted"] == {"0": "a"}
        assert error.body["not_submitted"] == [2]


def test_http_error_hides_validation_input() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        JobRequest(env_vars={"AWS_BATCH_X": "secret-value-123"})
    error = http_errors.http_error(caught.value)
    assert error.status == 422
    assert error.body["details"][0]["loc"] == ["env_vars"]
    assert "secret-value-123" not in json.dumps(error.body)


# ---------------------------------------------------------------------------------------------
# The domain wrapper, on LocalBatch


async def test_video_service_builds_and_follows_its_jobs(local_config: BatchConfig) -> None:
    async with BatchService(local_config) as batch:
        videos = video_service.VideoProcessingService(
            batch,
            output_prefix="s3://bucket/videos/",
            transcode_command=["sh", "-c", TRANSCODE],
            thumbnail_command=["sh", "-c", THUMBNAIL],
        )
        url = "s3://bucket/in/cat.mov"
        jobs = await videos.transcode(url, ["mp4", "webm"])
        assert [j.job_name.split("-")[:2] for j in jobs] == [
            ["transcode", "mp4"],
            ["transcode", "webm"],
        ]
        thumbs = await videos.thumbnails(url, count=3, after=jobs[0])
        finished = await videos.wait([*jobs, thumbs], timeout=60)
        assert {j.job_id for j in finished} == {jobs[0].job_id, jobs[1].job_id, thumbs.job_id}
        assert finished[-1].job_id == thumbs.job_id  # it waited for the mp4 transcode
        assert {j.state for j in finished} == {"succeeded"}

        lines = [e.message async for e in batch.get_logs(jobs[1].job_id)]
        assert lines == [f"{url} -> webm (vp9)"]
        detail = await batch.get_job_status(thumbs.job_id)
        assert detail.array_properties is not None
        assert detail.array_properties.size == 3
        assert [d.job_id for d in detail.depends_on] == [jobs[0].job_id]
        child = [e.message async for e in batch.get_logs(f"{thumbs.job_id}:2")]
        assert child == ["thumb 2/3"]
        status = await videos.status(thumbs.job_id)
        assert (status.state, status.done, status.total) == ("succeeded", 3, 3)

        with pytest.raises(ValueError, match="s3:// or https://"):
            await videos.transcode("ftp://x", ["mp4"])
        with pytest.raises(ValueError, match="unknown"):
            await videos.transcode(url, ["avi"])
        with pytest.raises(ValueError, match="each once"):
            await videos.transcode(url, ["mp4", "mp4"])
        with pytest.raises(ValueError, match="count"):
            await videos.thumbnails(url, count=0)
        with pytest.raises(JobNotFoundError):
            await videos.status("no-such-job")


# ---------------------------------------------------------------------------------------------
# The two apps agree


async def test_both_apps_answer_the_same_job_body_and_404_body(local_config: BatchConfig) -> None:
    async with fastapi_client(local_config) as fast, aiohttp_client(local_config) as aio:
        job_id = (await fast.post("/jobs", json={"command": ["true"]})).json()["job_id"]
        waited = await fast.get(f"/jobs/{job_id}/wait", params={"timeout": 30})
        assert waited.status_code == 200, waited.text
        from_fastapi = (await fast.get(f"/jobs/{job_id}")).json()
        from_aiohttp = await (await aio.get(f"/jobs/{job_id}")).json()
        assert from_aiohttp == from_fastapi
        assert from_fastapi["created_at"] is not None
        assert from_fastapi["started_at"] is not None

        unknown_fastapi = await fast.get("/fanouts/fanout-unknown")
        unknown_aiohttp = await aio.get("/fanouts/fanout-unknown")
        expected = {"error": "NotFoundError", "message": "no fan-out 'fanout-unknown'"}
        assert (unknown_fastapi.status_code, unknown_aiohttp.status) == (404, 404)
        assert unknown_fastapi.json() == expected
        assert await unknown_aiohttp.json() == expected


# ---------------------------------------------------------------------------------------------
# The FastAPI page's own snippet

FASTAPI_PAGE = Path(__file__).resolve().parents[2] / "docs" / "fastapi.md"


async def test_fastapi_page_snippet_takes_the_body_its_curl_sends(
    local_config: BatchConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first block of docs/fastapi.md, run with the exports of `aws-batch-async local`."""
    page = FASTAPI_PAGE.read_text()
    snippet = re.search(r"^```python\n(.*?)^```$", page, re.MULTILINE | re.DOTALL)
    curl = re.search(r"curl -X POST localhost:8000/jobs .* -d '(?P<body>[^']+)'", page)
    assert snippet is not None
    assert curl is not None
    assert local_config.endpoint_url is not None
    exports = {
        "AWS_BATCH_ENDPOINT_URL": local_config.endpoint_url,
        "AWS_BATCH_JOB_QUEUE": local_config.job_queue,
        "AWS_BATCH_JOB_DEFINITION": local_config.job_definition,
        "AWS_REGION": local_config.region,
    }
    for name, value in exports.items():
        assert value is not None, name
        assert f"export {name}=" in page, name  # the page says to set it
        monkeypatch.setenv(name, value)
    namespace: dict[str, Any] = {"__name__": "fastapi_page_snippet"}
    exec(compile(snippet.group(1), "docs/fastapi.md", "exec"), namespace)
    async with (
        LifespanManager(namespace["app"]) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://app", timeout=60
        ) as client,
    ):
        answer = await client.post("/jobs", json=json.loads(curl.group("body")))
    assert answer.status_code == 200, answer.text
    assert answer.json()["job_id"]
