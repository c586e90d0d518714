"""The rough edges a new user hit first: CLI wording and ordering, and misuse of the Python API.

Each test is one thing a person tried (``aws-batch-async explain``, ``ls --status FAILED
--limit 3``, ``with BatchService(...)``, ``await batch.list_jobs()``, the quick start without
credentials) and pins the answer they should get: the command works, or the error names the
mistake in their words and says what to do. CLI commands run as subprocesses, as in
test_cli.py, against the moto server behind the AWS-faithful proxy.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from botocore.exceptions import NoCredentialsError

from aws_batch_async import (
    BatchConfig,
    BatchService,
    ConfigurationError,
    JobRequest,
    JobStatus,
)
from aws_batch_async.testing import BatchProxy

from ..cli.test_cli import assert_one_line_error, cli_env, parse_json, run_cli, run_cli_many
from ..conftest import REGION


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


@pytest.fixture
def connection(config: BatchConfig) -> list[str]:
    assert config.endpoint_url is not None
    assert config.job_queue is not None
    assert config.job_definition is not None
    return [
        "--endpoint-url",
        config.endpoint_url,
        "--region",
        REGION,
        "--job-queue",
        config.job_queue,
        "--job-definition",
        config.job_definition,
    ]


# ---------------------------------------------------------------------------------------------
# The command line


async def test_explain_is_a_command_and_why_its_alias(
    batch: BatchService, connection: list[str], env: dict[str, str]
) -> None:
    job = await batch.submit_job(JobRequest(command=["echo", "hi"]))
    explained, why, top = run_cli_many(
        ["explain", "--json", job.job_id, *connection],
        ["why", "--json", job.job_id, *connection],
        ["--help"],
        env=env,
    )
    assert parse_json(explained)["job_id"] == job.job_id
    assert parse_json(explained)["verdict"] == parse_json(why)["verdict"]
    assert top.returncode == 0
    assert re.search(r"^\W*explain\s", top.stdout, re.MULTILINE), top.stdout
    assert "Ask: aws-batch-async explain JOB_ID" in top.stdout


async def test_ls_status_limit_shows_the_newest(
    batch: BatchService, proxy: BatchProxy, connection: list[str], env: dict[str, str]
) -> None:
    jobs = [await batch.submit_job(JobRequest(job_name=f"job-{i}")) for i in range(5)]
    base = 1_700_000_000_000
    for index, job in enumerate(jobs):  # submitted in order, a minute apart
        proxy.override_job(job.job_id, status="FAILED", createdAt=base + index * 60_000)
    limited, every = run_cli_many(
        ["ls", "--status", "failed", "--limit", "3", "--json", *connection],
        ["ls", "-s", "FAILED", "--json", *connection],
        env=env,
    )
    newest = [job.job_id for job in reversed(jobs)]
    assert [j["job_id"] for j in parse_json(limited)] == newest[:3]
    assert [j["job_id"] for j in parse_json(every)] == newest


def test_ls_unknown_status_lists_the_valid_ones_in_aws_case(
    connection: list[str], env: dict[str, str]
) -> None:
    result = run_cli("ls", "--status", "DONE", *connection, env=env)
    assert_one_line_error(
        result,
        "'DONE' is not a job status; use one of SUBMITTED, PENDING, RUNNABLE, STARTING, "
        "RUNNING, SUCCEEDED, FAILED",
    )
    assert result.returncode == 2
    assert "Value error" not in result.stderr


def test_invalid_job_name_is_told_in_words(connection: list[str], env: dict[str, str]) -> None:
    result = run_cli("submit", *connection, "--name", "-bad", "--", "echo", env=env)
    assert_one_line_error(
        result,
        "--name: a job name is 1–128 letters, digits, hyphens and underscores, "  # noqa: RUF001
        "starting with a letter or digit",
    )
    assert "pattern" not in result.stderr
    assert result.returncode == 2


def test_help_shows_no_type_placeholders(env: dict[str, str]) -> None:
    commands = ["submit", "run", "ls", "status", "explain", "logs", "wait", "demo", "local"]
    results = run_cli_many(["--help"], *([c, "--help"] for c in commands), env=env)
    for name, result in zip(["", *commands], results, strict=True):
        assert result.returncode == 0, (name, result.stderr)
        assert "<bool>" not in result.stdout, name
        assert "<list[" not in result.stdout, name
    submit_help = results[1].stdout
    assert "-- COMMAND" in submit_help
    assert re.search(r"--wait\s+-w\s+Wait for the job", submit_help), submit_help


async def test_piped_tables_have_no_trailing_spaces(
    batch: BatchService, connection: list[str], env: dict[str, str]
) -> None:
    short = await batch.submit_job(JobRequest(job_name="a"))
    long = await batch.submit_job(JobRequest(job_name="a-much-longer-job-name"))
    listed, shown, both = run_cli_many(
        ["ls", *connection],
        ["status", short.job_id, *connection],  # a field table: rich pads its value column
        ["status", short.job_id, long.job_id, *connection],
        env=env,
    )
    for result in (listed, shown, both):
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) >= 3, result.stdout
        assert [line for line in lines if line != line.rstrip()] == []
    assert short.job_id in listed.stdout
    assert long.job_id in listed.stdout


# ---------------------------------------------------------------------------------------------
# The Python API


def test_with_instead_of_async_with_says_so() -> None:
    service = BatchService(BatchConfig(region=REGION))
    with (
        pytest.raises(TypeError, match=r"use `async with BatchService\(\.\.\.\) as batch:`"),
        service,
    ):
        pass  # pragma: no cover


async def test_awaiting_a_listing_says_to_iterate_it(batch: BatchService) -> None:
    with pytest.raises(TypeError, match=r"`async for job in batch\.list_jobs\(\.\.\.\):`"):
        await batch.list_jobs()  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"`async for event in batch\.get_logs\(\.\.\.\):`"):
        await batch.get_logs("some-job")  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"async iterator, which is not a plain iterable"):
        for _ in batch.list_jobs():  # type: ignore[attr-defined]
            pass  # pragma: no cover
    job = await batch.submit_job(JobRequest(command=["echo", "hi"]))
    listing = batch.list_jobs(job_status=JobStatus.SUCCEEDED)
    assert [summary.job_id async for summary in listing] == [job.job_id]
    await listing.aclose()


async def test_quick_start_without_credentials_names_them_in_the_first_call(
    config: BatchConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    async with BatchService(config) as batch:
        with pytest.raises(ConfigurationError) as caught:
            await batch.submit_job(JobRequest(command=["echo", "hi"]))
    message = str(caught.value)
    assert message.startswith("SubmitJob: no AWS credentials found"), message
    assert "AWS_ACCESS_KEY_ID" in message
    assert "AWS_PROFILE" in message
    assert "DescribeJobDefinitions" not in message
    assert isinstance(caught.value.__cause__, NoCredentialsError)


def test_cli_without_credentials_says_what_to_set(connection: list[str], tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    result = run_cli("submit", *connection, "--", "echo", env=env)
    assert_one_line_error(result, "SubmitJob: no AWS credentials found")
    assert "AWS_ACCESS_KEY_ID" in result.stderr
