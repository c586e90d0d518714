"""The fast path sends what botocore sends, retries as botocore retries, fails as botocore fails.

Each request test calls the same operation with the same parameters, credentials and clock on
two clients of one session: one through botocore (its request is kept at ``before-send`` and
answered there), one through the fast path (its HTTP session replaced by a script). The two
requests must be the same: method, URL, every header (the signature included) and body.
Behaviour tests run both paths against scripted answers: retries and attempts, SubmitJob's
single attempt, errors and their response dicts, timeouts over real HTTP, credential refresh,
user agents, and the handlers a user registers on a passed-in session (which send the
operation through botocore). Fallbacks are forced by removing what the fast path relies on.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import types
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import botocore.auth
import botocore.credentials
import botocore.endpoint
import botocore.exceptions as bx
import botocore.handlers
import pytest
from aiobotocore.awsrequest import AioAWSResponse
from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioRefreshableCredentials
from aiobotocore.session import AioSession
from aiohttp import web

from aws_batch_async import (
    BatchAPIError,
    BatchConfig,
    BatchConnectionError,
    BatchError,
    BatchService,
    MalformedResponseError,
    ThrottlingError,
)
from aws_batch_async._errors import api_error_from_client_error
from aws_batch_async._transport import fast_path as fastpath_module
from aws_batch_async._transport import wire
from aws_batch_async._transport.answers import AnswerChecks
from aws_batch_async._transport.fast_path import FastPath
from aws_batch_async._transport.wire import decode_json

REGION = "us-east-1"
FIXED = datetime.datetime(2026, 3, 14, 15, 9, 26)
FIXED_EPOCH = FIXED.replace(tzinfo=datetime.timezone.utc).timestamp()
INVOCATION = "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
LOGGER = logging.getLogger("test_fastpath")

FULL_SUBMIT: dict[str, Any] = {
    "jobName": "full-job_1",
    "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
    "jobDefinition": "def:3",
    "shareIdentifier": "share",
    "schedulingPriorityOverride": 7,
    "arrayProperties": {"size": 10},
    "dependsOn": [{"jobId": "a1", "type": "N_TO_N"}, {"type": "SEQUENTIAL"}],
    "parameters": {"p": "v", "ünï": "cödé ✓"},
    "containerOverrides": {
        "command": ["python", "-c", "print('hi  there')"],
        "environment": [{"name": "STAGE", "value": "x y"}],
        "resourceRequirements": [{"type": "VCPU", "value": "2"}],
    },
    "retryStrategy": {
        "attempts": 3,
        "evaluateOnExit": [{"onExitCode": "1*", "action": "RETRY"}],
    },
    "propagateTags": True,
    "timeout": {"attemptDurationSeconds": 120},
    "tags": {"team": "data", "aws-batch-async:submit-token": "0" * 32},
}
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("SubmitJob", {"jobName": "j", "jobQueue": "q", "jobDefinition": "d"}),
    ("SubmitJob", FULL_SUBMIT),
    ("DescribeJobs", {"jobs": [f"id-{i}" for i in range(100)]}),
    ("ListJobs", {"jobQueue": "q", "jobStatus": "RUNNING", "maxResults": 1000, "nextToken": "t"}),
    (
        "ListJobs",
        {"jobQueue": "q", "filters": [{"name": "JOB_NAME", "values": ["a*"]}], "maxResults": 100},
    ),
    ("CancelJob", {"jobId": "id-1", "reason": "because"}),
    ("TerminateJob", {"jobId": "id-1", "reason": "done"}),
    ("DescribeJobDefinitions", {"jobDefinitionName": "def", "status": "ACTIVE"}),
]
#: The least answer of each operation that the library accepts (the others: ``{}``).
VALID: dict[str, dict[str, Any]] = {
    "SubmitJob": {"jobId": "id-1", "jobName": "j", "jobArn": "arn:j"},
    "DescribeJobs": {"jobs": []},
    "ListJobs": {"jobSummaryList": []},
}
SETTINGS: dict[str, dict[str, Any]] = {
    "custom endpoint, session token": {
        "endpoint_url": "http://127.0.0.1:9/",
        "aws_session_token": "token/with+chars=",
    },
    "regional endpoint": {},
    "FIPS": {"config": AioConfig(use_fips_endpoint=True)},
    "dual-stack": {"config": AioConfig(use_dualstack_endpoint=True), "region_name": "eu-west-3"},
    "user agent extra, legacy retries": {
        "config": AioConfig(user_agent_extra="custom/1.0", retries={"mode": "legacy"}),
    },
}


# ---------------------------------------------------------------------------------------------
# Scripted answers for both paths


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    async def read(self) -> bytes:
        return self._body


def answer(status: int = 200, body: Any = None, **headers: str) -> AioAWSResponse:
    data = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
    head: Any = {"x-amzn-requestid": "req-1", "content-type": "application/json", **headers}
    return AioAWSResponse("http://x", status, head, _Raw(data))


Answer = AioAWSResponse | Exception


class Script:
    """Answers requests in order, and keeps what was sent (method, URL, headers, body)."""

    def __init__(self, answers: list[Answer] | Callable[[], Answer]) -> None:
        self.answers = answers
        self.sent: list[tuple[str, str, dict[str, str], bytes]] = []

    def next(self, request: Any) -> AioAWSResponse:
        headers = {k.lower(): _text(v) for k, v in request.headers.items()}
        self.sent.append((request.method, request.url, headers, request.body))
        given = self.answers() if callable(self.answers) else self.answers.pop(0)
        if isinstance(given, Exception):
            raise given
        return given

    async def send(self, request: Any) -> AioAWSResponse:  # the fast path's HTTP session
        return self.next(request)

    def before_send(self, request: Any = None, **_: Any) -> AioAWSResponse:  # botocore's
        return self.next(request)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore and the fast path sign at FIXED with invocation id INVOCATION.

    Only botocore's endpoint gets the fixed uuid: patching ``uuid.uuid4`` itself would give
    every moto ``BackendDict`` created meanwhile the same id, and moto's reset (which skips a
    dict "equal" to one it knows) would then never wipe Batch again in this process.
    """
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: FIXED)
    fixed_uuid = types.SimpleNamespace(uuid4=lambda: uuid.UUID(INVOCATION))
    monkeypatch.setattr(botocore.endpoint, "uuid", fixed_uuid)  # the invocation id
    monkeypatch.setattr(botocore.handlers, "uuid", fixed_uuid)  # idempotency tokens
    monkeypatch.setattr(fastpath_module, "invocation_id", lambda: INVOCATION)


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float, *args: Any) -> None:
        slept.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return slept


class Pair:
    """Two clients of one session: ``botocore`` (scripted at before-send) and ``fast``."""

    def __init__(self, botocore_client: Any, fast_client: Any, fast: FastPath) -> None:
        self.botocore_client = botocore_client
        self.fast_client = fast_client
        self.fast = fast

    async def both(
        self, operation: str, params: dict[str, Any], answers: Callable[[], list[Answer]]
    ) -> tuple[Script, Any, Script, Any]:
        """Call on both paths; return each script and result (or exception)."""
        theirs = Script(answers())
        self.botocore_client.meta.events.register("before-send.batch", theirs.before_send)
        try:
            expected: Any = await getattr(self.botocore_client, _snake(operation))(**params)
        except Exception as exc:
            expected = exc
        finally:
            self.botocore_client.meta.events.unregister("before-send.batch", theirs.before_send)
        ours = Script(answers())
        self.fast._http = ours
        try:
            got: Any = await self.fast.call(operation, dict(params))
        except Exception as exc:
            got = exc
        return theirs, expected, ours, got


@pytest.fixture
async def make_pair() -> AsyncIterator[Callable[..., Any]]:
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:

        async def make(**settings: Any) -> Pair:
            session = AioSession()
            kwargs = {
                "region_name": REGION,
                "aws_access_key_id": "AKIDEXAMPLE",
                "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                **settings,
            }
            theirs = await stack.enter_async_context(session.create_client("batch", **kwargs))
            mine = await stack.enter_async_context(session.create_client("batch", **kwargs))
            fast = FastPath(mine, LOGGER, clock=lambda: FIXED_EPOCH)
            assert fast.disabled is None
            return Pair(theirs, mine, fast)

        yield make


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _without_metadata(result: Any) -> Any:
    return {k: v for k, v in result.items() if k != "ResponseMetadata"}


# ---------------------------------------------------------------------------------------------
# The same request


@pytest.mark.usefixtures("frozen_clock")
@pytest.mark.parametrize("setting", SETTINGS)
async def test_every_operation_sends_botocores_request(
    make_pair: Callable[..., Any], setting: str
) -> None:
    pair = await make_pair(**SETTINGS[setting])
    for operation, params in CALLS:
        for _ in range(2):  # the first call plans, the second is sent by the plan
            theirs, expected, ours, got = await pair.both(
                operation, params, lambda op=operation: [answer(body=VALID.get(op, {}))]
            )
            assert not isinstance(expected, Exception), expected
            assert ours.sent == theirs.sent, (operation, setting)
            assert _without_metadata(got) == _without_metadata(expected)
        assert operation in pair.fast.planned(), pair.fast.refused()
    assert not pair.fast.refused()


@pytest.mark.usefixtures("frozen_clock")
async def test_the_signature_is_botocores_for_other_credentials_and_days(
    make_pair: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = await make_pair(aws_session_token="first-token")
    await pair.both("DescribeJobs", {"jobs": ["a"]}, lambda: [answer()])
    for day in (1, 2, 30):
        moment = FIXED + datetime.timedelta(days=day, seconds=day)
        monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, m=moment, **k: m)
        epoch = moment.replace(tzinfo=datetime.timezone.utc).timestamp()
        pair.fast._plans["DescribeJobs"].signer.clock = lambda e=epoch: e
        theirs, _, ours, _ = await pair.both(
            "DescribeJobs", {"jobs": ["a", "b"]}, lambda: [answer()]
        )
        assert ours.sent == theirs.sent
        assert f"/{moment:%Y%m%d}/us-east-1/batch/aws4_request" in ours.sent[0][2]["authorization"]


@pytest.mark.usefixtures("frozen_clock")
@pytest.mark.parametrize(
    "params",
    [
        {"jobName": 12, "jobQueue": "q", "jobDefinition": "d"},  # a wrong type
        {"jobQueue": "q", "jobDefinition": "d"},  # a required member missing
        {"jobName": "j", "jobQueue": "q", "jobDefinition": "d", "tags": {"": "v"}},  # min 1
        {"jobName": "j", "jobQueue": "q", "jobDefinition": "d", "nope": 1},  # unknown
        {"jobName": "j", "jobQueue": "q", "jobDefinition": "d", "timeout": None},
    ],
)
async def test_parameters_botocore_refuses_are_refused_by_botocore(
    make_pair: Callable[..., Any], params: dict[str, Any]
) -> None:
    pair = await make_pair()
    await pair.both("SubmitJob", CALLS[0][1], lambda: [answer()])  # planned
    theirs, expected, ours, got = await pair.both("SubmitJob", params, lambda: [answer()])
    assert isinstance(expected, bx.ParamValidationError)
    assert type(got) is type(expected)
    assert str(got) == str(expected)
    assert ours.sent == theirs.sent == []


# ---------------------------------------------------------------------------------------------
# Answers and errors


@pytest.mark.usefixtures("frozen_clock")
async def test_answers_decode_as_botocore_parses_them(make_pair: Callable[..., Any]) -> None:
    pair = await make_pair()
    job = {
        "jobArn": "arn",
        "jobName": "n",
        "jobId": "i",
        "jobQueue": "q",
        "status": "RUNNING",
        "startedAt": 1,
        "stoppedAt": None,
        "jobDefinition": "d",
        "container": {"exitCode": None, "environment": [{"name": "A", "value": "ü"}]},
        "tags": {"k": "v"},
    }
    for _ in range(2):
        _, expected, _, got = await pair.both(
            "DescribeJobs", {"jobs": ["i"]}, lambda: [answer(body={"jobs": [job]})]
        )
        assert got == expected
        assert got["ResponseMetadata"]["RequestId"] == "req-1"
    assert decode_json(b'{"jobs": [], "newField": {"a": null}}') == {"jobs": [], "newField": {}}


@pytest.mark.usefixtures("frozen_clock")
@pytest.mark.parametrize(
    ("status", "code", "mapped"),
    [
        (429, "TooManyRequestsException", ThrottlingError),
        (400, "ClientException", BatchAPIError),
        (500, "ServerException", BatchAPIError),
    ],
)
async def test_errors_are_botocores(
    make_pair: Callable[..., Any], status: int, code: str, mapped: type[BatchAPIError]
) -> None:
    pair = await make_pair(config=AioConfig(retries={"total_max_attempts": 1}))
    await pair.both("DescribeJobs", {"jobs": ["a"]}, lambda: [answer()])

    def error() -> list[Answer]:
        body = {"__type": code, "message": "it went wrong"}
        return [answer(status, body, **{"x-amzn-ErrorType": f"{code}:http://internal"})]

    _, expected, _, got = await pair.both("DescribeJobs", {"jobs": ["a"]}, error)
    assert isinstance(expected, bx.ClientError)
    assert type(got) is type(expected)
    assert got.response == expected.response
    assert str(got) == str(expected)
    ours, theirs = api_error_from_client_error(got, "X"), api_error_from_client_error(expected, "X")
    assert type(ours) is type(theirs) is mapped
    assert (ours.code, ours.status_code, ours.request_id) == (code, status, "req-1")


@pytest.mark.usefixtures("frozen_clock")
@pytest.mark.parametrize("mode", ["standard", "legacy"])
async def test_retries_are_botocores(
    make_pair: Callable[..., Any], no_sleep: list[float], mode: str
) -> None:
    pair = await make_pair(config=AioConfig(retries={"mode": mode, "total_max_attempts": 4}))
    await pair.both("DescribeJobs", {"jobs": ["a"]}, lambda: [answer()])

    def flaky() -> list[Answer]:
        return [
            answer(500, {"__type": "ServerException", "message": "x"}),
            bx.ReadTimeoutError(endpoint_url="http://x"),
            answer(429, {"__type": "TooManyRequestsException", "message": "slow down"}),
            answer(body={"jobs": []}),
        ]

    theirs, expected, ours, got = await pair.both("DescribeJobs", {"jobs": ["a"]}, flaky)
    assert [s[2]["amz-sdk-request"] for s in ours.sent] == [
        s[2]["amz-sdk-request"] for s in theirs.sent
    ]
    assert len(ours.sent) == 4
    assert (
        got["ResponseMetadata"]["RetryAttempts"]
        == expected["ResponseMetadata"]["RetryAttempts"]
        == 3
    )
    assert len(no_sleep) >= 3


@pytest.mark.usefixtures("frozen_clock")
async def test_botocore_gives_up_as_botocore_does(
    make_pair: Callable[..., Any], no_sleep: list[float]
) -> None:
    pair = await make_pair(config=AioConfig(retries={"mode": "standard", "total_max_attempts": 2}))
    await pair.both("DescribeJobs", {"jobs": ["a"]}, lambda: [answer()])
    timeout = bx.ReadTimeoutError(endpoint_url="http://x")
    theirs, expected, ours, got = await pair.both(
        "DescribeJobs", {"jobs": ["a"]}, lambda: [timeout, timeout]
    )
    assert type(got) is type(expected) is bx.ReadTimeoutError
    assert len(ours.sent) == len(theirs.sent) == 2


# ---------------------------------------------------------------------------------------------
# Through the service: SubmitJob's single attempt, retries logged, timeouts, credentials


class ScriptedServer:
    """A local HTTP endpoint answering each operation from a list of (status, body, delay)."""

    def __init__(self) -> None:
        self.answers: dict[str, list[tuple[int, dict[str, Any], float]]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        operation = request.path.rsplit("/", 1)[-1]
        self.requests.append((operation, dict(request.headers)))
        queue = self.answers.get(operation)
        status, body, delay = queue.pop(0) if queue else (200, _ok(operation), 0.0)
        if delay:
            await asyncio.sleep(delay)
        headers = {"x-amzn-RequestId": "req-9"}
        if status >= 300:
            headers["x-amzn-ErrorType"] = str(body.get("__type"))
        return web.json_response(body, status=status, headers=headers)

    def count(self, operation: str) -> int:
        return sum(1 for op, _ in self.requests if op == operation.lower())


def _ok(operation: str) -> dict[str, Any]:
    if operation == "submitjob":
        return {"jobArn": "arn:aws:batch:us-east-1:1:job/j1", "jobName": "n", "jobId": "j1"}
    return {"jobs": []}


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    scripted = ScriptedServer()
    app = web.Application()
    app.router.add_post("/v1/{operation}", scripted.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    scripted.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield scripted
    await runner.cleanup()


def _config(url: str, **settings: Any) -> BatchConfig:
    return BatchConfig(
        region=REGION,
        endpoint_url=url,
        access_key_id="AKID",
        secret_access_key="SECRET",
        job_queue="q",
        job_definition="d",
        job_definition_kind="CONTAINER",
        submit_rate_limit=None,
        **settings,
    )


async def test_the_service_plans_its_hot_operations(server: ScriptedServer) -> None:
    async with BatchService(_config(server.url)) as batch:
        await batch._clients.call("SubmitJob", jobName="a", jobQueue="q", jobDefinition="d")
        await batch._clients.call("DescribeJobs", jobs=["j1"])
        fast = batch._clients.fast_path
        assert fast is not None
        assert fast.planned() == ["DescribeJobs", "SubmitJob"], fast.refused()
        await batch._clients.call("SubmitJob", jobName="b", jobQueue="q", jobDefinition="d")
    user_agent = server.requests[-1][1]["User-Agent"]
    assert user_agent.endswith(" aws-batch-async")  # user_agent_extra, as botocore sent it
    assert server.count("SubmitJob") == 2  # the probe sends nothing


async def test_submit_job_is_never_retried_by_botocore(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    error = {"__type": "ServerException", "message": "boom"}
    async with BatchService(_config(server.url, api_max_attempts=3)) as batch:
        call = batch._clients.call
        await call("SubmitJob", jobName="a", jobQueue="q", jobDefinition="d")
        await call("DescribeJobs", jobs=["j1"])
        server.requests.clear()
        server.answers = {"submitjob": [(500, error, 0)], "describejobs": [(500, error, 0)] * 2}
        with pytest.raises(BatchAPIError) as submit_error:
            await call("SubmitJob", jobName="b", jobQueue="q", jobDefinition="d")
        with caplog.at_level(logging.WARNING, logger="aws_batch_async"):
            await call("DescribeJobs", jobs=["j1"])
        assert batch._clients.fast_path is not None
        assert batch._clients.fast_path.planned() == ["DescribeJobs", "SubmitJob"]
    assert server.count("SubmitJob") == 1
    assert server.count("DescribeJobs") == 3
    assert isinstance(submit_error.value.__cause__, bx.ClientError)
    assert submit_error.value.status_code == 500
    assert "retrying DescribeJobs (attempt 2)" in caplog.text


async def test_read_timeouts_are_botocores(server: ScriptedServer) -> None:
    config = _config(server.url, read_timeout=0.3, api_max_attempts=2)
    async with BatchService(config) as batch:
        await batch._clients.call("DescribeJobs", jobs=["j1"])
        server.requests.clear()
        server.answers = {"describejobs": [(200, {"jobs": []}, 2.0)] * 2}
        with pytest.raises(BatchConnectionError) as raised:
            await batch._clients.call("DescribeJobs", jobs=["j1"])
        assert batch._clients.fast_path is not None
        assert "DescribeJobs" in batch._clients.fast_path.planned()
    assert isinstance(raised.value.__cause__, bx.ReadTimeoutError)
    assert server.count("DescribeJobs") == 2


class _Rotating(botocore.credentials.CredentialProvider):
    """Refreshable credentials that hand out the next key at each refresh."""

    METHOD = "rotating-test"
    CANONICAL_NAME = "rotating-test"

    def __init__(self) -> None:
        self.issued = 0
        self.credentials: AioRefreshableCredentials | None = None

    async def _fetch(self) -> dict[str, str]:
        self.issued += 1
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        return {
            "access_key": f"AKID{self.issued}",
            "secret_key": "secret",
            "token": f"token{self.issued}",
            "expiry_time": expiry.isoformat(),
        }

    async def load(self) -> AioRefreshableCredentials:
        self.credentials = AioRefreshableCredentials.create_from_metadata(
            await self._fetch(), refresh_using=self._fetch, method=self.METHOD
        )
        return self.credentials


async def test_refreshed_credentials_sign_fast_calls(server: ScriptedServer) -> None:
    session = AioSession()
    rotating = _Rotating()
    session.get_component("credential_provider").insert_before("env", rotating)
    config = BatchConfig(region=REGION, endpoint_url=server.url, submit_rate_limit=None)
    async with BatchService(config, session=session) as batch:
        await batch._clients.call("DescribeJobs", jobs=["j1"])
        await batch._clients.call("DescribeJobs", jobs=["j2"])
        assert rotating.credentials is not None
        expired: Any = rotating.credentials
        expired._expiry_time = datetime.datetime.now(datetime.timezone.utc)
        await batch._clients.call("DescribeJobs", jobs=["j3"])
        assert batch._clients.fast_path is not None
        assert batch._clients.fast_path.planned() == ["DescribeJobs"]
    keys = [h["Authorization"].split("Credential=")[1].split("/")[0] for _, h in server.requests]
    tokens = [h["X-Amz-Security-Token"] for _, h in server.requests]
    assert keys == ["AKID1", "AKID1", "AKID2"]  # refreshed by botocore, signed by the fast path
    assert tokens == ["token1", "token1", "token2"]


# ---------------------------------------------------------------------------------------------
# Handlers a user registers, and the fallbacks


@pytest.mark.parametrize(
    "event",
    [
        "provide-client-params.batch.DescribeJobs",
        "before-parameter-build.batch",
        "before-call.batch.DescribeJobs",
        "request-created",
        "before-sign.batch",
        "before-send.batch.DescribeJobs",
        "needs-retry.batch",
        "after-call.batch.DescribeJobs",
        "before-parse",
    ],
)
async def test_handlers_on_a_passed_in_session_keep_working(
    server: ScriptedServer, event: str
) -> None:
    session = AioSession()
    seen: list[str] = []

    def spy(event_name: str = "", **_: Any) -> None:
        seen.append(event_name)

    session.register(event, spy)
    async with BatchService(_config(server.url), session=session) as batch:
        for _ in range(3):
            await batch._clients.call("DescribeJobs", jobs=["j1"])
        fast = batch._clients.fast_path
        assert fast is not None
        assert "DescribeJobs" in fast.refused()
        assert not fast.planned()
    assert len([e for e in seen if e.endswith("DescribeJobs") or "." not in e]) >= 3


@pytest.mark.usefixtures("frozen_clock")
async def test_a_handler_registered_after_planning_sends_through_botocore(
    make_pair: Callable[..., Any],
) -> None:
    pair = await make_pair()
    await pair.both("DescribeJobs", {"jobs": ["a"]}, lambda: [answer()])
    assert pair.fast.planned() == ["DescribeJobs"]
    seen: list[Any] = []

    def stub(**kwargs: Any) -> AioAWSResponse:  # as botocore's Stubber answers a call
        seen.append(kwargs)
        return answer()

    pair.fast_client.meta.events.register("before-send.batch", stub)
    _, _, ours, _ = await pair.both("DescribeJobs", {"jobs": ["a"]}, lambda: [answer()])
    assert not pair.fast.planned()
    assert "DescribeJobs" in pair.fast.refused()
    assert len(seen) == 1
    assert ours.sent == []


async def test_adaptive_retries_switch_the_fast_path_off(server: ScriptedServer) -> None:
    async with BatchService(_config(server.url, retry_mode="adaptive")) as batch:
        assert batch._clients.fast_path is None
        await batch._clients.call("DescribeJobs", jobs=["j1"])
    assert server.count("DescribeJobs") == 1


async def test_missing_internals_switch_the_fast_path_off(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_init = FastPath.__init__

    def without_endpoint(self: FastPath, client: Any, *args: Any, **kwargs: Any) -> None:
        class Hidden:
            def __getattr__(self, name: str) -> Any:
                if name in ("_endpoint", "_request_signer"):
                    raise AttributeError(name)
                return getattr(client, name)

        real_init(self, Hidden(), *args, **kwargs)

    monkeypatch.setattr(FastPath, "__init__", without_endpoint)
    async with BatchService(_config(server.url)) as batch:
        assert batch._clients.fast_path is None
        answer_ = await batch._clients.call("DescribeJobs", jobs=["j1"])
    assert answer_["jobs"] == []


async def test_an_emitter_without_a_handler_table_switches_off(server: ScriptedServer) -> None:
    session = AioSession()
    async with session.create_client(
        "batch",
        region_name=REGION,
        endpoint_url=server.url,
        aws_access_key_id="a",
        aws_secret_access_key="b",
    ) as client:
        events: Any = client.meta.events
        emitter = events._emitter
        events._emitter = object()
        try:
            assert FastPath(client, LOGGER).disabled is not None
        finally:
            events._emitter = emitter


async def test_botocores_history_recorder_gets_every_call(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded: list[str] = []

    class Handler:
        def emit(self, event_type: str, payload: Any, source: str) -> None:
            recorded.append(event_type)

    history = fastpath_module._HISTORY
    monkeypatch.setattr(history, "_handlers", [Handler()])
    async with BatchService(_config(server.url)) as batch:
        await batch._clients.call("DescribeJobs", jobs=["j1"])
        monkeypatch.setattr(history, "_enabled", True)
        await batch._clients.call("DescribeJobs", jobs=["j1"])
    assert "API_CALL" in recorded
    assert "HTTP_REQUEST" in recorded


async def test_invalid_parameters_raise_what_they_raised_before(server: ScriptedServer) -> None:
    async with BatchService(_config(server.url)) as batch:
        await batch._clients.call("DescribeJobs", jobs=["j1"])
        with pytest.raises(BatchError) as raised:
            await batch._clients.call("DescribeJobs", jobs="not-a-list")
    assert isinstance(raised.value.__cause__, bx.ParamValidationError)


# ---------------------------------------------------------------------------------------------
# The pieces: signing, the quick check, the output walk


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json", "X-Amz-Target": "  a   b  ", "x-custom": "1"},
        {"content-type": "a", "Content-Type": "b", "User-Agent": "ua", "X-Amzn-Trace-Id": "t"},
    ],
)
@pytest.mark.parametrize("token", [None, "session-token"])
@pytest.mark.parametrize(
    "url", ["https://batch.us-east-1.amazonaws.com/v1/submitjob", "http://[::1]:8443/a/./b/../c"]
)
def test_the_signer_signs_as_botocores_sigv4(
    headers: dict[str, str], token: str | None, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import ReadOnlyCredentials

    from aws_batch_async._transport.sigv4 import SigV4Signer, request_scope

    credentials = ReadOnlyCredentials("AKID", "secret/key+", token)
    body = json.dumps({"jobName": "ünï"}).encode()
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: FIXED)
    request = AWSRequest(method="POST", url=url, headers=dict(headers), data=body)
    botocore.auth.SigV4Auth(credentials, "batch", "eu-west-1").add_auth(request)
    ours = dict(headers)
    signer = SigV4Signer("eu-west-1", "batch", clock=lambda: FIXED_EPOCH)
    signer.sign("POST", request_scope("POST", url), ours, body, credentials)
    theirs = {k: _text(v) for k, v in request.headers.items()}
    assert {k.lower(): v for k, v in ours.items()} == {k.lower(): v for k, v in theirs.items()}


def test_the_quick_check_is_never_looser_than_botocores_validation() -> None:
    from botocore.session import get_session
    from botocore.validate import ParamValidator

    from aws_batch_async._transport.wire import compile_check

    model = get_session().get_service_model("batch")
    shape = model.operation_model("SubmitJob").input_shape
    assert shape is not None
    check = compile_check(shape)
    base = {"jobName": "j", "jobQueue": "q", "jobDefinition": "d"}

    class Name(str):
        pass

    samples: list[Any] = [
        base,
        FULL_SUBMIT,
        {**base, "jobName": Name("sub")},
        {**base, "propagateTags": 1},
        {**base, "schedulingPriorityOverride": True},
        {**base, "schedulingPriorityOverride": 2.0},
        {**base, "dependsOn": ({"jobId": "a"},)},
        {**base, "dependsOn": [{"jobId": None}]},
        {**base, "tags": {"k": 1}},
        {**base, "tags": {}},
        {**base, "arrayProperties": {"size": "2"}},
        {**base, "containerOverrides": {"command": "echo"}},
        {**base, "containerOverrides": {"environment": [{"name": "A"}]}},
        {**base, "timeout": {}},
        {**base, "retryStrategy": {"attempts": 3, "evaluateOnExit": [{"action": "RETRY"}]}},
        {"jobName": "j", "jobQueue": "q"},
        [],
    ]
    for params in samples:
        report = ParamValidator().validate(params, shape)
        if check(params):
            assert not report.has_errors(), (params, report.generate_report())


def test_both_output_walks_agree_on_every_batch_operation() -> None:
    from botocore.session import get_session

    from aws_batch_async._transport import wire as _fastwire

    model = get_session().get_service_model("batch")
    for name in model.operation_names:
        operation = model.operation_model(name)
        by_objects = operation.output_shape is None or (
            _fastwire._native(operation.output_shape, top=True, seen=set(), output=True) is None
        )
        assert _fastwire.json_native_output(operation) == by_objects, name


async def test_concurrent_first_calls_probe_once_and_all_arrive(server: ScriptedServer) -> None:
    async with BatchService(_config(server.url)) as batch:
        answers = await asyncio.gather(
            *(batch._clients.call("DescribeJobs", jobs=[f"j{i}"]) for i in range(50))
        )
        assert batch._clients.fast_path is not None
        assert batch._clients.fast_path.planned() == ["DescribeJobs"]
    assert len(answers) == 50
    assert server.count("DescribeJobs") == 50


def test_submit_tokens_are_fresh_version_4_uuids() -> None:
    from aws_batch_async._submitting.submitter import new_token

    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    for token in list(tokens)[:200]:
        parsed = uuid.UUID(token)
        assert parsed.hex == token
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


@pytest.fixture(scope="module")
def moto_stubber_class() -> Any:
    """moto's BotocoreStubber class, imported before any test of this module freezes uuid4.

    Module-scoped, so it runs before ``frozen_clock``: moto gives each of its backends a uuid4
    id at import, and ``/moto-api/reset`` finds the backends to wipe by that id. Imported
    under a frozen uuid4, every backend gets the same id and a reset wipes only one (the
    in-process moto server then keeps every test's infrastructure). ``moto.core.models`` is
    not imported: it would register moto's own stubber on every botocore session.
    """
    from moto.core.botocore_stubber import BotocoreStubber

    return BotocoreStubber


@pytest.mark.usefixtures("frozen_clock")
async def test_a_moto_mock_gets_the_calls_while_it_is_on(
    moto_stubber_class: Any, make_pair: Callable[..., Any]
) -> None:
    pair = await make_pair()
    # A stubber of this test's own, on this client only: what mock_aws() switches on in
    # moto's global one is its `enabled` flag. A real mock_aws() would also reset moto's
    # backends, which the session's in-process moto server serves.
    stubber = moto_stubber_class()
    events = pair.fast_client.meta.events
    events.register("before-send", stubber)
    try:
        no_jobs = VALID["DescribeJobs"]

        def answers() -> list[Answer]:
            return [answer(body=no_jobs)]

        _, _, ours, _ = await pair.both("DescribeJobs", {"jobs": ["a"]}, answers)
        _, _, ours, _ = await pair.both("DescribeJobs", {"jobs": ["a"]}, answers)
        assert pair.fast.planned() == ["DescribeJobs"]
        assert len(ours.sent) == 1  # the stubber is off: the fast path sends
        to_botocore: list[str] = []

        async def botocore_path(operation: str, params: dict[str, Any]) -> dict[str, Any]:
            to_botocore.append(operation)  # where the stubber answers (aiobotocore permitting)
            return {"jobs": []}

        pair.fast._botocore = botocore_path
        stubber.enabled = True
        script = Script([answer(body=no_jobs), answer(body=no_jobs)])
        pair.fast._http = script
        await pair.fast.call("DescribeJobs", {"jobs": ["a"]})
        assert script.sent == []
        assert to_botocore == ["DescribeJobs"]
        stubber.enabled = False
        await pair.fast.call("DescribeJobs", {"jobs": ["a"]})  # the mock is off again
        assert len(script.sent) == 1
    finally:
        events.unregister("before-send", stubber)


def test_decoding_a_large_answer_leaves_the_collector_as_it_was() -> None:
    import gc

    large = json.dumps({"jobs": [{"jobId": str(i), "status": "RUNNING"} for i in range(2000)]})
    assert gc.isenabled()
    assert len(decode_json(large.encode())["jobs"]) == 2000
    assert gc.isenabled()
    with pytest.raises(json.JSONDecodeError):
        decode_json(b"{" + large.encode())
    assert gc.isenabled()
    gc.disable()
    try:
        decode_json(large.encode())
        assert not gc.isenabled()  # switched off by the caller: left off
    finally:
        gc.enable()


async def test_a_history_recorder_of_another_shape_switches_off(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastpath_module, "_HISTORY", object())
    async with BatchService(_config(server.url)) as batch:
        assert batch._clients.fast_path is None
        assert (await batch._clients.call("DescribeJobs", jobs=["j1"]))["jobs"] == []


@pytest.mark.usefixtures("frozen_clock")
async def test_errors_parse_without_the_endpoints_parser_factory(
    make_pair: Callable[..., Any],
) -> None:
    pair = await make_pair(config=AioConfig(retries={"total_max_attempts": 1}))
    await pair.both("DescribeJobs", {"jobs": ["a"]}, lambda: [answer()])
    pair.fast._parser_factory = None  # an aiobotocore whose endpoint keeps it elsewhere

    def error() -> list[Answer]:
        return [answer(400, {"__type": "ClientException", "message": "no"})]

    _, expected, _, got = await pair.both("DescribeJobs", {"jobs": ["a"]}, error)
    assert type(got) is type(expected)
    assert got.response == expected.response


@pytest.mark.parametrize(
    "url",
    [
        "https://batch.us-east-1.amazonaws.com/v1/describejobs",
        "http://127.0.0.1:9000/prefix//v1/./a/../describejobs?x=1&a=b",
        "https://[::1]/v1/x%20y",
    ],
)
def test_the_canonical_uri_without_botocores_private_helper(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_batch_async._transport.sigv4 import request_scope

    with_helper = request_scope("POST", url)
    monkeypatch.delattr(botocore.auth.SigV4Auth, "_normalize_url_path")
    without = request_scope("POST", url)
    assert (without.canonical_uri, without.canonical_query, without.host) == (
        with_helper.canonical_uri,
        with_helper.canonical_query,
        with_helper.host,
    )


# ---------------------------------------------------------------------------------------------
# Large answers: decoded in steps, the loop getting turns (bench_looplag.py has the figures)


def _large_page(jobs: int = 150) -> dict[str, Any]:
    """A DescribeJobs answer of ``jobs`` jobs of ~2.5 KB: past STEPWISE_FROM."""
    page = {
        "jobs": [
            {
                "jobArn": f"arn:aws:batch:us-east-1:1:job/{n}",
                "jobName": f"job-{n}",
                "jobId": f"id-{n}",
                "status": "RUNNING",
                "stoppedAt": None,
                "parameters": {f"p{k}": "v" * 40 for k in range(40)},
            }
            for n in range(jobs)
        ]
    }
    assert len(json.dumps(page)) >= fastpath_module.STEPWISE_FROM
    return page


async def _counting_turns(*calls: Any) -> list[tuple[Any, int]]:
    """Await ``calls`` together; each one's result (or exception) and how many turns the loop
    had given a ticking task when it ended."""
    turns = 0
    finished: list[tuple[Any, int]] = []

    async def tick() -> None:
        nonlocal turns
        while len(finished) < len(calls):
            await asyncio.sleep(0)
            turns += 1

    async def run(call: Any) -> tuple[Any, int]:
        try:
            result = await call
        except Exception as exc:
            result = exc
        finished.append((result, turns))
        return result, turns

    ticker = asyncio.ensure_future(tick())
    ended = await asyncio.gather(*(run(call) for call in calls))
    await ticker
    return list(ended)


@pytest.fixture
def zero_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps of no time: each item (or group of items) of a large answer is a step."""
    monkeypatch.setattr(wire, "STEP_SECONDS", 0.0)


@pytest.mark.usefixtures("frozen_clock", "zero_steps")
async def test_a_large_answer_is_decoded_in_steps_as_botocore_parses_it(
    make_pair: Callable[..., Any],
) -> None:
    pair = await make_pair()
    page = _large_page()
    for _ in range(2):  # the first call plans, the second is sent by the plan
        _, expected, _, got = await pair.both(
            "DescribeJobs", {"jobs": ["id-1"]}, lambda: [answer(body=page)]
        )
        assert got == expected
    pair.fast._http = Script(lambda: answer(body=page))
    [(got, large_turns)] = await _counting_turns(pair.fast.call("DescribeJobs", {"jobs": ["a"]}))
    assert _without_metadata(got) == _without_metadata(expected)
    assert large_turns >= 20  # the loop ran between the steps
    pair.fast._http = Script(lambda: answer(body={"jobs": page["jobs"][:3]}))
    [(_, small_turns)] = await _counting_turns(pair.fast.call("DescribeJobs", {"jobs": ["a"]}))
    assert small_turns < large_turns // 10  # a small answer is decoded whole, as before


@pytest.mark.usefixtures("frozen_clock", "zero_steps")
async def test_large_answers_arriving_together_are_decoded_one_at_a_time(
    make_pair: Callable[..., Any],
) -> None:
    """Several steps in one turn of the loop would hold it as long as one whole decoding."""
    pair = await make_pair()
    page = _large_page()
    await pair.both("DescribeJobs", {"jobs": ["a"]}, lambda: [answer(body=page)])  # planned
    pair.fast._http = Script(lambda: answer(body=page))
    ended = await _counting_turns(
        *(pair.fast.call("DescribeJobs", {"jobs": [f"id-{n}"]}) for n in range(3))
    )
    assert [len(result["jobs"]) for result, _ in ended] == [150] * 3
    first, second, third = sorted(turns for _, turns in ended)
    assert first >= 20
    assert second - first >= first // 2  # the next one starts when the first is done
    assert third - second >= first // 2


@pytest.mark.usefixtures("frozen_clock", "zero_steps")
@pytest.mark.parametrize(
    ("damage", "steps"),
    [
        (lambda b: b[:-3], 20),  # cut short at the end: shows at the last step
        (lambda b: b.replace(b'"jobId": "id-149", ', b""), 20),  # the last job has no id
        (lambda b: b"<html>" + b" " * len(b) + b"</html>", 0),  # not JSON: shows at once
    ],
    ids=["truncated", "item without id", "html"],
)
async def test_a_damaged_large_answer_raises_the_error_of_a_small_one(
    make_pair: Callable[..., Any], damage: Callable[[bytes], bytes], steps: int
) -> None:
    pair = await make_pair()
    await pair.both("DescribeJobs", {"jobs": ["a"]}, lambda: [answer(body=VALID["DescribeJobs"])])
    body = damage(json.dumps(_large_page()).encode())
    assert len(body) >= fastpath_module.STEPWISE_FROM
    pair.fast._http = Script(lambda: answer(body=body))
    [(got, turns)] = await _counting_turns(pair.fast.call("DescribeJobs", {"jobs": ["a"]}))
    assert turns >= steps  # decoded in steps until the damage showed
    model = pair.fast_client.meta.service_model.operation_model("DescribeJobs")
    with pytest.raises(MalformedResponseError) as whole:  # what decoding it whole raises
        AnswerChecks().decode(model, body, {"x-amzn-requestid": "req-1"})
    assert isinstance(got, MalformedResponseError)
    assert str(got) == str(whole.value)
    assert got.body_head == whole.value.body_head
    assert got.request_id == whole.value.request_id == "req-1"
    assert got.__cause__ is None
    assert whole.value.__cause__ is None
