"""The client at its edges: botocore's errors typed, credentials, outages, closing, reprs.

Every botocore error becomes one of ours; credentials that cannot be had fail at once, as a
configuration error (never an unknown outcome); a total SubmitJob outage fails each submit
within its budget; a Logs client opened while the service closes is closed too; reprs show no
secrets; a submission refused before sending is left unsent; ``list_jobs`` checks its
arguments when called.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import stat
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import botocore.exceptions as bx
import pytest
from aiobotocore.credentials import AioRefreshableCredentials
from aiobotocore.session import AioSession

from aws_batch_async import (
    BatchAPIError,
    BatchConfig,
    BatchConnectionError,
    BatchService,
    ConfigurationError,
    JobRequest,
    ServiceClosedError,
    SubmitRetry,
)
from aws_batch_async._errors import error_from_botocore
from aws_batch_async._submitting.submitter import State, Submitter
from aws_batch_async.testing import BatchInfrastructure, BatchProxy, MotoServer

from ..submitting.test_submit import server_jobs

REGION = "us-east-1"


# ---------------------------------------------------------------------------------------------
# The error tree: botocore's classes, one table


CONNECTION_ERRORS: list[bx.BotoCoreError] = [
    bx.SSLError(endpoint_url="https://x", error=OSError("bad certificate")),
    bx.ProxyConnectionError(proxy_url="http://proxy", error="refused"),
    bx.HTTPClientError(error="broken pipe"),
    bx.ResponseStreamingError(error="incomplete read"),
    bx.ConnectionClosedError(endpoint_url="https://x"),
    bx.ReadTimeoutError(endpoint_url="https://x"),
    bx.ConnectTimeoutError(endpoint_url="https://x"),
    bx.EndpointConnectionError(endpoint_url="https://x"),
]
CONFIG_ERRORS: list[bx.BotoCoreError] = [
    bx.ConfigParseError(path="~/.aws/config"),
    bx.SSOTokenLoadError(error_msg="no token"),
    bx.UnauthorizedSSOTokenError(),
    bx.CredentialRetrievalError(provider="process", error_msg="exit 1"),
    bx.ProfileNotFound(profile="nope"),
    bx.NoCredentialsError(),
    bx.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
    bx.NoRegionError(),
    bx.TokenRetrievalError(provider="sso", error_msg="expired"),
    bx.RefreshWithMFAUnsupportedError(),
]


@pytest.mark.parametrize("error", CONNECTION_ERRORS, ids=lambda e: type(e).__name__)
def test_connection_class_errors_are_batch_connection_errors(error: bx.BotoCoreError) -> None:
    mapped = error_from_botocore(error, "DescribeJobs")
    assert type(mapped) is BatchConnectionError
    assert mapped.operation == "DescribeJobs"


@pytest.mark.parametrize("error", CONFIG_ERRORS, ids=lambda e: type(e).__name__)
def test_credential_and_config_errors_are_configuration_errors(error: bx.BotoCoreError) -> None:
    assert type(error_from_botocore(error, "SubmitJob")) is ConfigurationError


def write_config(path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path.write_text(text)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")


@pytest.mark.parametrize(
    ("profile", "text", "cause"),
    [
        (None, "[default\nregion = us-east-1\n", bx.ConfigParseError),
        ("missing", "[default]\nregion = us-east-1\n", bx.ProfileNotFound),
        ("proc", "[profile proc]\ncredential_process = false\n", bx.CredentialRetrievalError),
    ],
    ids=["malformed config", "unknown profile", "failing credential process"],
)
async def test_open_maps_botocore_config_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    profile: str | None,
    text: str,
    cause: type[Exception],
) -> None:
    write_config(tmp_path / "config", text, monkeypatch)
    service = BatchService(BatchConfig(region=REGION, profile=profile))
    with pytest.raises(ConfigurationError) as caught:
        await service.open()
    assert isinstance(caught.value.__cause__, cause)
    assert service.is_closed


async def test_sso_without_a_token_fails_at_once_with_nothing_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proxy: BatchProxy, config: BatchConfig
) -> None:
    write_config(
        tmp_path / "config",
        "[profile sso]\nsso_start_url = https://example.awsapps.com/start\n"
        "sso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = r\n",
        monkeypatch,
    )
    monkeypatch.setenv("AWS_SSO_CACHE_DIR", str(tmp_path / "sso-cache"))
    started = time.monotonic()
    async with BatchService(config.model_copy(update={"profile": "sso"})) as batch:
        with pytest.raises(ConfigurationError) as caught:
            await batch.submit_job(JobRequest())
    assert isinstance(caught.value.__cause__, bx.SSOError)
    assert time.monotonic() - started < 5
    assert proxy.count() == 0


async def test_a_failed_credential_refresh_is_a_configuration_error_not_an_unknown_outcome(
    proxy: BatchProxy, config: BatchConfig
) -> None:
    """Nothing was sent, so no lookup: it used to spend its lookup budget on a lost cause."""

    async def refresh() -> dict[str, str]:
        raise bx.CredentialRetrievalError(provider="test", error_msg="the role is gone")

    session = AioSession()
    session._credentials = AioRefreshableCredentials.create_from_metadata(  # type: ignore[attr-defined]
        metadata={
            "access_key": "testing",
            "secret_key": "testing",
            "token": "t",
            "expiry_time": "2000-01-01T00:00:00Z",
        },
        refresh_using=refresh,
        method="test",
    )
    started = time.monotonic()
    async with BatchService(config, session=session) as batch:
        with pytest.raises(ConfigurationError) as caught:
            await batch.submit_job(JobRequest())
    assert isinstance(caught.value.__cause__, bx.CredentialRetrievalError)
    assert time.monotonic() - started < 5
    assert proxy.count("SubmitJob") == 0
    assert proxy.count("ListJobs") == 0


# ---------------------------------------------------------------------------------------------
# A total SubmitJob outage surfaces within 45 s; random faults still lose nothing


class VirtualTime:
    """A clock and a sleep that advance instantly (the HTTP calls stay real)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += max(0.0, delay)
        await asyncio.sleep(0)


@pytest.fixture
async def virtual_submitter(
    batch: BatchService, config: BatchConfig
) -> tuple[Submitter, VirtualTime]:
    vt = VirtualTime()
    no_limit = config.model_copy(update={"submit_rate_limit": None})
    return (
        Submitter(
            batch._clients.call,
            no_limit,
            logging.getLogger("test"),
            clock=vt.clock,
            sleep=vt.sleep,
        ),
        vt,
    )


async def test_a_total_outage_fails_each_submit_within_45_seconds(
    virtual_submitter: tuple[Submitter, VirtualTime],
    proxy: BatchProxy,
    moto_server: MotoServer,
    infra: BatchInfrastructure,
) -> None:
    submitter, vt = virtual_submitter
    proxy.inject_error("SubmitJob", status=500)
    retry = SubmitRetry()  # the defaults

    async def one() -> float:
        start = vt.now
        with pytest.raises(BatchAPIError) as caught:
            await submitter.submit(submitter.prepare(JobRequest()), retry)
        assert caught.value.status_code == 500
        return vt.now - start

    alone = await one()
    print(f"lone submit in a total outage: {alone:.1f} s, {proxy.count('SubmitJob')} sends")
    assert alone <= 45, f"a lone submit took {alone:.1f} s of virtual time"
    together = await asyncio.gather(*(one() for _ in range(5)))
    assert max(together) <= 45
    assert proxy.count("ListJobs") > 0  # each looked up what it sent before giving up
    assert await server_jobs(moto_server, infra.job_queue) == []


async def test_random_faults_with_the_default_budget_still_create_exactly_one_job_each(
    virtual_submitter: tuple[Submitter, VirtualTime],
    proxy: BatchProxy,
    moto_server: MotoServer,
    infra: BatchInfrastructure,
) -> None:
    submitter, _ = virtual_submitter
    proxy.inject_error("SubmitJob", status=500, probability=0.25, after_forward=True)
    results = await asyncio.gather(
        *(submitter.submit(submitter.prepare(JobRequest()), SubmitRetry()) for _ in range(120))
    )
    assert proxy.count("SubmitJob", outcome="injected") >= 15
    jobs = await server_jobs(moto_server, infra.job_queue)
    assert len(jobs) == 120
    assert {j["jobId"] for j in jobs} == {r.job_id for r in results}


async def test_a_submission_refused_before_sending_is_not_sent(
    config: BatchConfig, proxy: BatchProxy
) -> None:
    service = BatchService(config)
    await service.open()
    submitter = Submitter(service._clients.call, config, logging.getLogger("test"))
    submission = submitter.prepare(JobRequest())
    await service.aclose()
    with pytest.raises(ServiceClosedError):
        await submitter.submit(submission, SubmitRetry())
    assert submission.state is State.NOT_SENT
    assert proxy.count("SubmitJob") == 0


# ---------------------------------------------------------------------------------------------
# Secrets stay out of reprs


def test_a_submission_repr_shows_no_env_or_parameter_values(config: BatchConfig) -> None:
    submitter = Submitter(lambda *a, **k: None, config, logging.getLogger("test"))  # type: ignore[arg-type]
    submission = submitter.prepare(
        JobRequest(env_vars={"TOKEN": "s3cret-env"}, parameters={"p": "s3cret-param"})
    )
    for text in (repr(submission), repr(submitter), str(vars(submitter))):
        assert "s3cret" not in text
    assert submission.job_name in repr(submission)


# ---------------------------------------------------------------------------------------------
# The Logs client: one session for both clients, no leak on close


def credential_process(tmp_path: Path) -> Path:
    """A credential_process that counts its runs in ``runs.txt``."""
    script = tmp_path / "creds.py"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, pathlib\n"
        f"p = pathlib.Path({str(tmp_path / 'runs.txt')!r})\n"
        "p.write_text(p.read_text() + 'x' if p.exists() else 'x')\n"
        'creds = {"Version": 1, "AccessKeyId": "testing", "SecretAccessKey": "testing"}\n'
        "print(json.dumps(creds))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return tmp_path / "runs.txt"


async def test_both_clients_share_one_session_so_credentials_resolve_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: BatchConfig
) -> None:
    runs = credential_process(tmp_path)
    write_config(
        tmp_path / "config",
        f"[profile counted]\ncredential_process = {tmp_path / 'creds.py'}\n",
        monkeypatch,
    )
    async with BatchService(config.model_copy(update={"profile": "counted"})) as batch:
        job = await batch.submit_job(JobRequest())
        assert [e async for e in batch.get_logs(job.job_id)] == []  # opens the Logs client
        assert "logs" in batch._clients._others
    assert runs.read_text() == "x"


class SlowLogsSession(AioSession):
    """An aiobotocore session whose Logs client takes a while to open, and says so."""

    def __init__(self) -> None:
        super().__init__()
        self.entering = asyncio.Event()
        self.opened = 0
        self.closed = 0

    def create_client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
        real = super().create_client(service_name, *args, **kwargs)  # type: ignore[call-overload]
        if service_name != "logs":
            return real
        session = self

        @contextlib.asynccontextmanager
        async def slow() -> AsyncIterator[Any]:
            session.entering.set()
            await asyncio.sleep(0.3)
            async with real as client:
                session.opened += 1
                try:
                    yield client
                finally:
                    session.closed += 1

        return slow()


async def test_closing_while_the_logs_client_opens_does_not_leak_it(config: BatchConfig) -> None:
    session = SlowLogsSession()
    service = BatchService(config, session=session)
    await service.open()
    job = await service.submit_job(JobRequest())
    reading = asyncio.ensure_future(_collect(service.get_logs(job.job_id)))
    await session.entering.wait()
    await service.aclose()
    with pytest.raises(ServiceClosedError):
        await reading
    assert session.opened == session.closed == 1


async def _collect(events: AsyncIterator[Any]) -> list[Any]:
    return [event async for event in events]


async def test_get_logs_after_close_refuses(config: BatchConfig) -> None:
    async with BatchService(config) as batch:
        job = await batch.submit_job(JobRequest())
        events = batch.get_logs(job.job_id)
    with pytest.raises(ServiceClosedError):
        await _collect(events)


# ---------------------------------------------------------------------------------------------
# list_jobs checks its arguments when called


@pytest.mark.parametrize(
    "kwargs",
    [
        {"page_size": 0},
        {"page_size": "10"},
        {"job_status": "DONE"},
        {"job_name": 5},
        {"job_name": "a", "job_definition": "d"},
        {"created_after": "yesterday"},
        {"array_job_id": "a", "multi_node_job_id": "b"},
        {"multi_node_job_id": "m", "share_identifier": "s"},
    ],
)
async def test_list_jobs_checks_arguments_when_called_with_zero_calls(
    batch: BatchService, proxy: BatchProxy, kwargs: dict[str, Any]
) -> None:
    with pytest.raises((TypeError, ValueError)):
        batch.list_jobs(**kwargs)  # not even iterated
    assert proxy.count() == 0
