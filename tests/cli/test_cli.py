"""The ``aws-batch-async`` command line, run for real in subprocesses.

Almost every test runs the console script (``python -m aws_batch_async``, or the installed
script) in a child process with fake credentials only, against the moto server of conftest.py
behind the AWS-faithful proxy, or against a LocalBatch started with ``aws-batch-async local``.
A few check the ``_cli`` package itself: its shape (modules, imports) and the demo's summary.
"""

from __future__ import annotations

import ast
import io
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import aws_batch_async
from aws_batch_async import ArrayProperties, BatchConfig, JobDetail, JobStatus
from aws_batch_async.testing import BatchProxy

from ..conftest import REGION

COMMANDS = ("submit", "run", "status", "ls", "wait", "cancel", "terminate", "logs", "local", "demo")
#: Generous: a loaded 2-core machine can take seconds just to start Python and import botocore.
RUN_TIMEOUT = 120.0


def cli_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any AWS setting, plus fake credentials only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": str(home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_COLOR": "1",
            "TERM": "dumb",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("COLUMNS", None)
    env.update(extra or {})
    return env


def run_cli(
    *args: str, env: Mapping[str, str], timeout: float = RUN_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m aws_batch_async ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "aws_batch_async", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_cli_many(
    *commands: list[str], env: Mapping[str, str], timeout: float = RUN_TIMEOUT
) -> list[subprocess.CompletedProcess[str]]:
    """Run several ``python -m aws_batch_async`` commands at once (they are independent)."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "aws_batch_async", *args],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    results = []
    try:
        for args, process in zip(commands, processes, strict=True):
            stdout, stderr = process.communicate(timeout=timeout)
            results.append(subprocess.CompletedProcess(args, process.returncode, stdout, stderr))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    return results


def parse_json(result: subprocess.CompletedProcess[str]) -> Any:
    """The JSON on stdout (which must hold nothing else)."""
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    """A clean failure: non-zero exit, one line on stderr naming the problem, no traceback."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("aws-batch-async: error: "), lines[0]
    assert expected in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture
def moto_cli(config: BatchConfig, tmp_path: Path) -> list[str]:
    """Connection flags for the conftest moto server behind the AWS-faithful proxy."""
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


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


# ---------------------------------------------------------------------------------------------
# The script itself


def test_help_lists_every_command(env: dict[str, str]) -> None:
    script = shutil.which("aws-batch-async", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the console script is not installed (pip install -e '.[cli]')")
    result = subprocess.run(
        [script, "--help"], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    assert result.returncode == 0, result.stderr
    for command in COMMANDS:
        assert f" {command} " in result.stdout, command
    assert result.stderr == ""


def test_module_runs_and_submit_help_lists_its_flags(env: dict[str, str]) -> None:
    result = run_cli("submit", "--help", env=env)
    assert result.returncode == 0, result.stderr
    for flag in (
        "--name",
        "--env",
        "--array-size",
        "--depends-on",
        "--timeout",
        "--retries",
        "--tag",
        "--vcpus",
        "--memory",
        "--gpus",
        "--wait",
        "--json",
        "--region",
        "--profile",
        "--endpoint-url",
        "--job-queue",
        "--job-definition",
        "AWS_BATCH_JOB_QUEUE",
        "AWS_BATCH_JOB_DEFINITION",
    ):
        assert flag in result.stdout, flag


def test_version(env: dict[str, str]) -> None:
    from aws_batch_async import __version__

    result = run_cli("--version", env=env)
    assert result.returncode == 0
    assert result.stdout.strip() == f"aws-batch-async {__version__}"


def test_importing_the_library_does_not_import_typer_or_rich(env: dict[str, str]) -> None:
    # aiobotocore itself imports httpx when it is installed, and httpx pulls in click and rich
    # for its own command line: count only what importing aws_batch_async adds to that.
    code = (
        "import sys, aiobotocore.session, aiobotocore.config; before = set(sys.modules); "
        "import aws_batch_async; "
        "print(sorted({'typer', 'rich', 'click'} & (set(sys.modules) - before)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_the_cli_extra_it_says_what_to_install(env: dict[str, str]) -> None:
    # sys.modules[name] = None makes `import name` fail, as if typer were not installed.
    code = (
        "import sys; sys.modules['typer'] = None; "
        "from aws_batch_async.cli import main; sys.exit(main(['--help']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    assert_one_line_error(result, 'pip install "aws-batch-async[cli]"')
    assert result.returncode == 1
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["demo", "local"])
def test_without_the_local_extra_demo_and_local_say_what_to_install(
    command: str, env: dict[str, str]
) -> None:
    code = (
        "import sys; sys.modules['moto'] = None; "
        f"from aws_batch_async.cli import main; sys.exit(main([{command!r}]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    assert_one_line_error(result, 'LocalBatch needs moto, not installed here: pip install "aws-')
    assert "aws-batch-async[cli,local]" in result.stderr
    assert result.returncode == 1


# ---------------------------------------------------------------------------------------------
# Against moto (simple mode: jobs are SUCCEEDED when SubmitJob returns)


def test_submit_sends_every_option(
    moto_cli: list[str], env: dict[str, str], proxy: BatchProxy
) -> None:
    first = parse_json(run_cli("submit", "--json", *moto_cli, "--", "true", env=env))
    result = run_cli(
        "submit",
        "--json",
        *moto_cli,
        "--name",
        "nightly-report",
        "-e",
        "STAGE=prod",
        "--env",
        "EMPTY=",
        "--parameter",
        "day=monday",
        "--array-size",
        "3",
        "--depends-on",
        first["job_id"],
        "--timeout",
        "120",
        "--retries",
        "2",
        "--tag",
        "team=data",
        "--vcpus",
        "0.5",
        "--memory",
        "256",
        "--gpus",
        "1",
        "--",
        "sh",
        "-c",
        "echo $STAGE --not-a-flag",
        env=env,
    )
    submitted = parse_json(result)
    assert set(submitted) == {"job_id", "job_name", "job_arn"}
    assert submitted["job_name"] == "nightly-report"
    sent = [c.body for c in proxy.calls if c.operation == "SubmitJob"][-1]
    assert sent["jobName"] == "nightly-report"
    assert sent["containerOverrides"] == {
        "command": ["sh", "-c", "echo $STAGE --not-a-flag"],
        "environment": [{"name": "STAGE", "value": "***"}, {"name": "EMPTY", "value": "***"}],
        "resourceRequirements": [
            {"type": "VCPU", "value": "0.5"},
            {"type": "MEMORY", "value": "256"},
            {"type": "GPU", "value": "1"},
        ],
    }
    assert sent["parameters"] == {"day": "***"}  # the proxy masks values in its log
    assert sent["arrayProperties"] == {"size": 3}
    assert sent["dependsOn"] == [{"jobId": first["job_id"]}]
    assert sent["timeout"] == {"attemptDurationSeconds": 120}
    assert sent["retryStrategy"] == {"attempts": 2}
    assert sent["tags"]["team"] == "data"


def test_submit_status_ls_json_round_trip(moto_cli: list[str], env: dict[str, str]) -> None:
    one, two = map(
        parse_json,
        run_cli_many(
            ["submit", "--json", *moto_cli, "-n", "alpha-1", "--", "true"],
            ["submit", "--json", *moto_cli, "-n", "beta-1"],
            env=env,
        ),
    )
    status, both, listed, by_name, failed, limited = map(
        parse_json,
        run_cli_many(
            ["status", "--json", *moto_cli, one["job_id"]],
            ["status", "--json", one["job_id"], two["job_id"], *moto_cli],
            ["ls", "--json", *moto_cli],
            ["ls", "--json", "--name", "alpha", *moto_cli],
            ["ls", "--json", "--status", "failed", *moto_cli],
            ["ls", "--json", "--limit", "1", *moto_cli],
            env=env,
        ),
    )
    assert isinstance(status, dict)
    assert status["job_id"] == one["job_id"]
    assert status["job_name"] == "alpha-1"
    assert status["status"] == "SUCCEEDED"
    assert [j["job_id"] for j in both] == [one["job_id"], two["job_id"]]
    assert {j["job_id"] for j in listed} == {one["job_id"], two["job_id"]}
    assert all(j["status"] == "SUCCEEDED" for j in listed)
    assert [j["job_id"] for j in by_name] == [one["job_id"]]
    assert failed == []
    assert len(limited) == 1


def test_human_output(moto_cli: list[str], env: dict[str, str]) -> None:
    result = run_cli("submit", *moto_cli, "-n", "hello-table", "--", "true", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Submitted job hello-table ")
    job_id = result.stdout.split()[-1]
    assert f"aws-batch-async wait {job_id}" in result.stderr

    shown = run_cli("status", job_id, *moto_cli, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "hello-table" in shown.stdout
    assert "SUCCEEDED" in shown.stdout

    listed = run_cli("ls", *moto_cli, env=env)
    assert listed.returncode == 0, listed.stderr
    header = listed.stdout.strip().splitlines()[0].split()
    assert header[:3] == ["JOB", "ID", "NAME"]
    assert job_id in listed.stdout


def test_queue_and_definition_from_the_environment(
    config: BatchConfig, tmp_path: Path, proxy: BatchProxy
) -> None:
    assert config.endpoint_url is not None
    assert config.job_queue is not None
    assert config.job_definition is not None
    env = cli_env(
        tmp_path,
        {
            "AWS_BATCH_ENDPOINT_URL": config.endpoint_url,
            "AWS_REGION": REGION,
            "AWS_BATCH_JOB_QUEUE": config.job_queue,
            "AWS_BATCH_JOB_DEFINITION": config.job_definition,
        },
    )
    submitted = parse_json(run_cli("submit", "--json", env=env))
    sent = next(c.body for c in proxy.calls if c.operation == "SubmitJob")
    assert sent["jobQueue"] == config.job_queue
    assert sent["jobDefinition"] == config.job_definition
    listed = parse_json(run_cli("ls", "--json", env=env))
    assert [j["job_id"] for j in listed] == [submitted["job_id"]]


def test_cancel_and_terminate_finished_jobs_do_nothing(
    moto_cli: list[str], env: dict[str, str], proxy: BatchProxy
) -> None:
    job = parse_json(run_cli("submit", "--json", *moto_cli, env=env))
    cancelled = parse_json(run_cli("cancel", "--json", job["job_id"], *moto_cli, env=env))
    assert cancelled == {
        "job_id": job["job_id"],
        "job_name": job["job_name"],
        "previous_status": "SUCCEEDED",
        "action": "none",
        "note": "already SUCCEEDED",
    }
    result = run_cli("terminate", job["job_id"], "--reason", "test", *moto_cli, env=env)
    assert result.returncode == 0, result.stderr
    assert "already SUCCEEDED" in result.stdout
    assert proxy.count("CancelJob") == 0
    assert proxy.count("TerminateJob") == 0


# ---------------------------------------------------------------------------------------------
# Errors: one line on stderr, a non-zero exit code, no traceback


def test_unknown_job_id(moto_cli: list[str], env: dict[str, str]) -> None:
    result = run_cli("status", "no-such-job", *moto_cli, env=env)
    assert_one_line_error(result, "job 'no-such-job' was not found")
    assert result.returncode == 1
    assert result.stdout == ""
    several = run_cli("cancel", "--json", "nope-1", "nope-2", *moto_cli, env=env)
    assert_one_line_error(several, "jobs not found: nope-1, nope-2")
    assert several.stdout == ""


BAD_USAGE = [
    (["status", "--bogus", "x"], "No such option: --bogus"),
    (["ls", "--status", "DONE"], "--status"),
    (["submit", "--vcpus", "many"], "--vcpus"),
    (["submit", "--tag", "novalue"], "--tag takes KEY=VALUE"),
    (["submit", "--depends-on", "abc=LATER"], "--depends-on type must be N_TO_N or SEQUENTIAL"),
    (["wait"], "Missing argument"),
    (["nosuchcommand"], "No such command"),
]


def test_bad_flags(env: dict[str, str]) -> None:
    results = run_cli_many(*(args for args, _ in BAD_USAGE), env=env)
    for (args, expected), result in zip(BAD_USAGE, results, strict=True):
        assert_one_line_error(result, expected)
        assert result.returncode == 2, args
        assert result.stdout == "", args


def test_invalid_values_name_the_flag(moto_cli: list[str], env: dict[str, str]) -> None:
    result = run_cli("submit", *moto_cli, "--timeout", "5", "--name", "-bad", env=env)
    assert_one_line_error(result, "--timeout: Input should be greater than or equal to 60")
    assert "--name: " in result.stderr
    assert result.returncode == 2


def test_missing_queue_and_region(env: dict[str, str]) -> None:
    no_queue = run_cli("ls", "--region", REGION, env=env)
    assert_one_line_error(no_queue, "no job queue: use --job-queue or set AWS_BATCH_JOB_QUEUE")
    no_region = run_cli("status", "some-id", env=env)
    assert_one_line_error(no_region, "--region")


SECRET = "s3cr3t-Value-42"
#: Submissions refused before anything is sent, each with an --env value that must not show.
SECRET_LEAKS = [
    (["-e", f"AWS_BATCH_X={SECRET}"], "--env: environment variable name 'AWS_BATCH_X' is reserved"),
    (["-e", "AWS_BATCH_FROM_SHELL"], "'AWS_BATCH_FROM_SHELL' is reserved"),
    (["--env", f"={SECRET}"], "--env takes KEY=VALUE or KEY"),
    (["-p", f"={SECRET}"], "--parameter takes KEY=VALUE"),
    # A model-level error: pydantic's own text would quote every field's input.
    (["-e", f"TOKEN={SECRET}", "--depends-on", "abc=N_TO_N"], "only valid for array jobs"),
    (["-e", f"TOKEN={SECRET}", "--timeout", "5"], "--timeout: Input should be greater"),
]


def test_env_values_never_appear_in_errors(tmp_path: Path) -> None:
    env = cli_env(tmp_path, {"AWS_BATCH_FROM_SHELL": SECRET})
    commands = [
        ["submit", *flags, *debug, "--", "echo", "hi"]
        for flags, _ in SECRET_LEAKS
        for debug in ([], ["--debug"])
    ]
    results = run_cli_many(*commands, env=env)
    for args, result in zip(commands, results, strict=True):
        expected = SECRET_LEAKS[commands.index(args) // 2][1]
        assert result.returncode == 2, (args, result.stderr)
        assert SECRET not in result.stdout + result.stderr, (args, result.stderr)
        if "--debug" in args:
            assert "Traceback" in result.stderr, args
            last = result.stderr.strip().splitlines()[-1]
            assert last.startswith("aws-batch-async: error: "), args
            assert expected in last, (args, last)
        else:
            assert_one_line_error(result, expected)


def test_unreachable_endpoint_and_debug_traceback(env: dict[str, str]) -> None:
    args = ["status", "some-id", "--region", REGION, "--endpoint-url", "http://127.0.0.1:9"]
    plain, debug = run_cli_many(args, [*args, "--debug"], env=env)
    assert_one_line_error(plain, "DescribeJobs: Could not connect to the endpoint URL")
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1].startswith("aws-batch-async: error: ")


# ---------------------------------------------------------------------------------------------
# Against a LocalBatch in "run" mode, started with `aws-batch-async local`


@pytest.fixture(scope="module")
def local_cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCLI]:
    """`aws-batch-async local --json` in the background; stopped with Ctrl-C (SIGINT) after."""
    home = tmp_path_factory.mktemp("local-cli")
    env = cli_env(home)
    process = subprocess.Popen(
        [sys.executable, "-m", "aws_batch_async", "local", "--mode", "run", "--json"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = read_line(process, timeout=RUN_TIMEOUT)
        info = json.loads(line)
        flags = [
            "--endpoint-url",
            info["endpoint_url"],
            "--region",
            info["region"],
            "--job-queue",
            info["job_queue"],
            "--job-definition",
            info["job_definition"],
        ]
        yield LocalCLI(info, flags, env, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
    # Ctrl-C stops it cleanly: exit code 0, no traceback.
    assert process.returncode == 0, stderr
    assert stderr.strip() == "LocalBatch stopped."


@dataclass
class LocalCLI:
    """A running `aws-batch-async local`: what it printed, and flags and env to reach it."""

    info: dict[str, Any]
    flags: list[str]
    env: dict[str, str]
    process: subprocess.Popen[str]

    def run(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``aws-batch-async COMMAND --endpoint-url ... ARGS`` (flags before any ``--``)."""
        return run_cli(command, *self.flags, *args, env=self.env)


def read_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The first line the process writes to stdout, within ``timeout`` seconds."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "`aws-batch-async local` printed nothing in time"
    line = process.stdout.readline()
    assert line, (
        f"`aws-batch-async local` exited: {process.stderr.read() if process.stderr else ''}"
    )
    return line


def test_local_prints_how_to_reach_it(local_cli: LocalCLI) -> None:
    assert local_cli.info["mode"] == "run"
    assert local_cli.info["endpoint_url"].startswith("http://127.0.0.1:")
    assert set(local_cli.info) == {"endpoint_url", "job_queue", "job_definition", "region", "mode"}


def test_submit_status_ls_wait_logs_round_trip(local_cli: LocalCLI) -> None:
    script = 'echo "$GREETING from $AWS_BATCH_JOB_ID"; echo "to stderr" >&2; exit 0'
    submitted = parse_json(
        local_cli.run(
            "submit", "--json", "-n", "round-trip", "-e", "GREETING=hello", "--", "sh", "-c", script
        )
    )
    job_id = submitted["job_id"]
    assert submitted["job_name"] == "round-trip"

    status = parse_json(local_cli.run("status", "--json", job_id))
    assert status["job_id"] == job_id
    assert status["status"] in {s.value for s in JobStatus}

    listed = parse_json(local_cli.run("ls", "--json", "--name", "round-trip"))
    assert [j["job_id"] for j in listed] == [job_id]

    waited = parse_json(local_cli.run("wait", "--json", job_id))
    assert waited["job_id"] == job_id
    assert waited["status"] == "SUCCEEDED"
    assert waited["exit_code"] == 0

    events = parse_json(local_cli.run("logs", "--json", job_id))
    assert [e["message"] for e in events] == [f"hello from {job_id}", "to stderr"]
    assert all(e["attempt"] == 0 and e["log_stream_name"] for e in events)

    plain = local_cli.run("logs", job_id)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == f"hello from {job_id}\nto stderr\n"

    listed_all = parse_json(local_cli.run("ls", "--json", "--status", "SUCCEEDED"))
    assert job_id in {j["job_id"] for j in listed_all}


def test_submit_wait_exits_with_the_jobs_outcome(local_cli: LocalCLI) -> None:
    failed = local_cli.run("submit", "--wait", "--json", "--", "sh", "-c", "echo bye; exit 7")
    assert failed.returncode == 3, failed.stderr
    job = json.loads(failed.stdout)
    assert job["status"] == "FAILED"
    assert job["exit_code"] == 7

    succeeded = local_cli.run("submit", "--wait", "-n", "waited-ok", "--", "true")
    assert succeeded.returncode == 0, succeeded.stderr
    assert "waited-ok" in succeeded.stdout
    assert "SUCCEEDED" in succeeded.stdout


def test_wait_timeout_cancel_and_terminate_a_running_job(
    local_cli: LocalCLI, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    script = f"touch {started}; exec sleep 300"
    job_id = parse_json(
        local_cli.run("submit", "--json", "-n", "sleeper", "--", "sh", "-c", script)
    )["job_id"]
    timed_out = local_cli.run("wait", "--json", "--timeout", "1", job_id)
    assert timed_out.returncode == 4, timed_out.stderr
    assert json.loads(timed_out.stdout)["job_id"] == job_id

    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.1)
    while parse_json(local_cli.run("status", "--json", job_id))["status"] != "RUNNING":
        assert time.monotonic() < deadline, "the job never became RUNNING"
        time.sleep(0.2)

    cancelled = local_cli.run("cancel", "--json", job_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["action"] == "none"
    assert "AWS Batch ignores CancelJob once a job has started" in cancelled.stderr
    assert f"aws-batch-async terminate {job_id}" in cancelled.stderr

    terminated = parse_json(local_cli.run("terminate", "--json", "-r", "enough", job_id))
    assert terminated["action"] == "terminate"
    assert terminated["previous_status"] == "RUNNING"

    waited = local_cli.run("wait", job_id)
    assert waited.returncode == 3, waited.stderr
    assert "FAILED" in waited.stdout
    assert f"aws-batch-async logs {job_id}" in waited.stderr


def test_logs_follow_a_running_job(local_cli: LocalCLI) -> None:
    script = "echo first; sleep 2; echo second"
    job_id = parse_json(local_cli.run("submit", "--json", "--", "sh", "-c", script))["job_id"]
    followed = local_cli.run("logs", "-f", job_id)
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout == "first\nsecond\n"
    lines = local_cli.run("logs", "-f", "--json", job_id)
    assert [json.loads(line)["message"] for line in lines.stdout.splitlines()] == [
        "first",
        "second",
    ]


def test_wait_shows_progress_then_a_table(local_cli: LocalCLI, tmp_path: Path) -> None:
    go = tmp_path / "go"
    hold = f"while [ ! -e {go} ]; do sleep 0.1; done"  # runs until the test says go
    ok = parse_json(local_cli.run("submit", "--json", "-n", "several-ok", "--", "sh", "-c", hold))
    bad = parse_json(
        local_cli.run("submit", "--json", "-n", "several-bad", "--", "sh", "-c", "exit 2")
    )
    command = [sys.executable, "-m", "aws_batch_async", "wait", *local_cli.flags]
    with subprocess.Popen(
        [*command, ok["job_id"], bad["job_id"]],
        env=local_cli.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            # stderr is not a terminal: progress is a line per status change, starting with
            # each job's status when the wait begins.
            seen = [process.stderr.readline()]
            assert f"several-ok {ok['job_id']} " in seen[0]
            go.touch()
            process.wait(timeout=RUN_TIMEOUT)  # the outputs are small: no pipe fills up
            # Read through the file objects: the readline above may have buffered more lines.
            stdout, stderr = process.stdout.read(), process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 3, stderr
    progress = "".join(seen) + stderr
    assert f"several-ok {ok['job_id']} SUCCEEDED (exit code 0)" in progress
    assert f"several-bad {bad['job_id']} FAILED (exit code 2)" in progress
    rows = {line.split()[0]: line.split() for line in stdout.splitlines() if "several-" in line}
    assert rows[ok["job_id"]][1:3] == ["several-ok", "SUCCEEDED"]
    assert rows[bad["job_id"]][1:3] == ["several-bad", "FAILED"]
    assert f"aws-batch-async logs {bad['job_id']}" in stderr


def test_ctrl_c_stops_the_wait_not_the_job(local_cli: LocalCLI, tmp_path: Path) -> None:
    go = tmp_path / "go"
    hold = f"while [ ! -e {go} ]; do sleep 0.1; done"
    job_id = parse_json(local_cli.run("submit", "--json", "--", "sh", "-c", hold))["job_id"]
    command = [sys.executable, "-m", "aws_batch_async", "wait", *local_cli.flags, job_id]
    with subprocess.Popen(
        command,
        env=local_cli.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            first = process.stderr.readline()  # the job's status as the wait begins
            assert job_id in first
            process.send_signal(signal.SIGINT)
            process.wait(timeout=RUN_TIMEOUT)
            stdout, stderr = process.stdout.read(), process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 130
    assert stdout == ""
    assert stderr.strip().splitlines() == [
        "aws-batch-async: error: interrupted: stopped waiting; the jobs keep running in AWS Batch"
    ]
    still = parse_json(local_cli.run("status", "--json", job_id))
    assert still["status"] not in {"SUCCEEDED", "FAILED"}
    go.touch()
    assert parse_json(local_cli.run("wait", "--json", job_id))["status"] == "SUCCEEDED"


def test_demo(env: dict[str, str]) -> None:
    started = time.monotonic()
    result = run_cli("demo", "--jobs", "5", env=env)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Submitted 5 jobs (1 will fail on purpose) and an array job of 5 children" in out
    assert "Summary" in out
    for name in ("demo-001", "demo-004", "demo-005", "demo-array"):
        assert name in out
    assert "6 jobs finished" in out
    assert "5 SUCCEEDED, 1 FAILED (on purpose)" in out
    assert "Waiting for all 6 took " in out
    assert "Logs of failed job demo-005" in out
    assert "error: part-005.csv is corrupt" in out
    assert "\x1b[" not in out  # not a terminal: no colour codes, no cursor movement
    print(f"demo --jobs 5 took {elapsed:.1f}s")


# ---------------------------------------------------------------------------------------------
# The _cli package itself

CLI_PACKAGE = Path(aws_batch_async.__file__).parent / "_cli"


def test_cli_modules_use_only_public_library_names() -> None:
    """The CLI is a user of the library: it imports public names only (cycles: test_layout)."""
    modules = sorted(CLI_PACKAGE.rglob("*.py"))
    assert {"_app.py", "_options.py", "submit.py", "status.py", "wait.py"} <= {
        p.name for p in modules
    }
    for path in modules:
        package = ["aws_batch_async", *path.parent.relative_to(CLI_PACKAGE.parent).parts]
        # ast.walk: imports inside functions and under TYPE_CHECKING count too.
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                targets = [".".join([*base, node.module] if node.module else base)]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                parts = target.split(".")
                if parts[0] != "aws_batch_async" or parts[1:2] == ["_cli"]:
                    continue
                assert not any(p.startswith("_") for p in parts[1:]), (
                    f"{path.relative_to(CLI_PACKAGE)} imports the private {target}"
                )


def test_cli_modules_export_nothing_unused() -> None:
    """Each name in a module's __all__ is used somewhere in the command line (no dead code)."""
    sources = [*CLI_PACKAGE.rglob("*.py"), CLI_PACKAGE.parent / "cli.py"]
    trees = {path: ast.parse(path.read_text()) for path in sources}
    used: set[str] = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.ImportFrom):
                used.update(alias.name for alias in node.names)
    for path, tree in trees.items():
        exported: list[str] = next(
            (
                ast.literal_eval(node.value)
                for node in tree.body
                if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            ),
            [],
        )
        unused = sorted(set(exported) - used - {"main", "app", "run"})
        assert not unused, f"{path.name} exports unused {unused}"


def _detail(job_id: str, name: str, status: JobStatus, **fields: Any) -> JobDetail:
    return JobDetail.model_validate(
        {"job_id": job_id, "job_name": name, "status": status, **fields}
    )


def _summary_rows(outcomes: list[Any]) -> dict[str, str]:
    from rich.console import Console

    from aws_batch_async._cli.commands.demo import summary_table

    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(summary_table(outcomes))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return {line.split()[0]: line for line in text.splitlines() if line.startswith(("demo", "..."))}


def test_demo_summary_rows_follow_their_own_jobs() -> None:
    """A job the watch never saw gets its own row; the others keep theirs, not a neighbour's."""
    from aws_batch_async._cli.commands.demo import DemoOutcome, plan_jobs

    plan = plan_jobs(5)  # demo-001..005 (005 fails on purpose), then demo-array
    seen = {
        "demo-001": _detail("id-1", "demo-001", JobStatus.SUCCEEDED, exit_code=0),
        "demo-003": _detail("id-3", "demo-003", JobStatus.SUCCEEDED, exit_code=0),
        "demo-004": _detail("id-4", "demo-004", JobStatus.RUNNING),
        "demo-005": _detail("id-5", "demo-005", JobStatus.FAILED, exit_code=2),
        "demo-array": _detail(
            "id-a",
            "demo-array",
            JobStatus.SUCCEEDED,
            array_properties=ArrayProperties(size=5, status_summary={"SUCCEEDED": 5}),
        ),
    }  # demo-002: never seen
    outcomes = [DemoOutcome(job, f"id-{job.name}", seen.get(job.name)) for job in plan]
    assert [o.as_planned for o in outcomes] == [True, False, True, False, True, True]
    rows = _summary_rows(outcomes)
    assert list(rows) == [job.name for job in plan]
    assert rows["demo-001"].split()[-3:-1] == ["SUCCEEDED", "0"]
    assert "part-002.csv" in rows["demo-002"]
    assert "never seen" in rows["demo-002"]
    assert "SUCCEEDED" not in rows["demo-002"]
    assert "part-003.csv" in rows["demo-003"]
    assert "SUCCEEDED" in rows["demo-003"]
    assert "RUNNING" in rows["demo-004"]
    assert "part-005.csv" in rows["demo-005"]
    assert rows["demo-005"].split()[-3:-1] == ["FAILED", "2"]
    assert "5 SUCCEEDED" in rows["demo-array"]


def test_demo_long_summary_keeps_the_unseen_and_failed_rows() -> None:
    from aws_batch_async._cli.commands.demo import MAX_SUMMARY_ROWS, DemoOutcome, plan_jobs

    plan = plan_jobs(MAX_SUMMARY_ROWS + 5)
    outcomes = []
    for i, job in enumerate(plan):
        status = JobStatus.FAILED if job.should_fail else JobStatus.SUCCEEDED
        array = {"array_properties": {"size": 5}} if job.request.array_size else {}
        detail = None if job.name == "demo-007" else _detail(f"id-{i}", job.name, status, **array)
        outcomes.append(DemoOutcome(job, f"id-{i}", detail))
    rows = _summary_rows(outcomes)
    failing = [job.name for job in plan if job.should_fail]
    kept = [job.name for job in plan if job.should_fail or job.name in ("demo-007", "demo-array")]
    assert list(rows) == [*kept, "..."]
    assert "never seen" in rows["demo-007"]
    assert all("FAILED" in rows[name] for name in failing)
    hidden = len(plan) - len(failing) - 2
    assert rows["..."].split()[:2] == ["...", str(hidden)]


# ---------------------------------------------------------------------------------------------
# status: every kind of job

ECS_FIELDS: dict[str, Any] = {
    "platformCapabilities": ["FARGATE"],
    "attempts": [],
    "ecsProperties": {
        "taskProperties": [
            {
                "containers": [
                    {"name": "app", "essential": True, "exitCode": 3, "logStreamName": "m/app/t"},
                    {"name": "sidecar", "exitCode": 0, "logStreamName": "m/sidecar/t"},
                ]
            }
        ]
    },
}


def test_status_shows_kind_platform_and_each_containers_exit_code(
    moto_cli: list[str], env: dict[str, str], proxy: BatchProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    submitted = parse_json(run_cli("submit", "--json", *moto_cli, "-n", "ecs-1", env=env))
    job_id = submitted["job_id"]

    def hook(job: dict[str, Any]) -> None:
        if job["jobId"] == job_id:
            job.pop("container", None)
            job.update(ECS_FIELDS)

    monkeypatch.setattr(proxy, "describe_hook", hook)
    shown, as_json = run_cli_many(
        ["status", *moto_cli, job_id], ["status", "--json", *moto_cli, job_id], env=env
    )
    assert shown.returncode == 0, shown.stderr
    lines = {line.split(maxsplit=1)[0]: line for line in shown.stdout.splitlines() if line}
    assert lines["Kind"].split()[1:] == ["ECS"]
    assert lines["Platform"].split()[1:] == ["FARGATE"]
    assert "Container app" in shown.stdout
    assert "exit code 3" in shown.stdout
    assert "m/sidecar/t" in shown.stdout
    data = parse_json(as_json)
    assert (data["kind"], data["platform"], data["exit_code"]) == ("ECS", "FARGATE", 3)
    assert data["container_exit_codes"] == {"app": 3, "sidecar": 0}
    assert data["log_stream_names"] == ["m/app/t", "m/sidecar/t"]
    assert "nodes" not in data
    assert "raw" not in data


def _rendered(table: Any) -> str:
    from rich.console import Console

    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(table)
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


def test_status_of_a_multi_node_job_shows_each_node() -> None:
    from aws_batch_async._cli._output import job_json, job_table

    parent = JobDetail.model_validate(
        {
            "jobId": "p1",
            "jobName": "mpi",
            "status": "FAILED",
            "platformCapabilities": ["EC2"],
            "nodeProperties": {"numNodes": 2, "mainNode": 0, "nodeRangeProperties": []},
        }
    )
    nodes = [
        JobDetail.model_validate(
            {
                "jobId": f"p1#{i}",
                "jobName": "mpi",
                "status": status,
                "nodeDetails": {"nodeIndex": i, "isMainNode": i == 0},
                "container": {"exitCode": code, "logStreamName": f"mpi/default/n{i}"},
            }
        )
        for i, (status, code) in enumerate([("SUCCEEDED", 0), ("FAILED", 1)])
    ]
    text = _rendered(job_table(parent, nodes))
    assert "MULTINODE: 2 nodes, main node 0" in text
    assert "Node 0 (main)  SUCCEEDED, exit code 0" in text
    assert "Node 1         FAILED, exit code 1" in text
    data = job_json(parent, nodes)
    assert data["kind"] == "MULTINODE"
    assert [
        (n["job_id"], n["node_index"], n["is_main_node"], n["exit_code"]) for n in data["nodes"]
    ] == [
        ("p1#0", 0, True, 0),
        ("p1#1", 1, False, 1),
    ]
    assert "MULTINODE: node 1 of p1" in _rendered(job_table(nodes[1]))
    json.dumps(data)


def test_status_of_an_eks_job_shows_its_pod_and_containers() -> None:
    from aws_batch_async._cli._output import job_json, job_table, jobs_table

    job = JobDetail.model_validate(
        {
            "jobId": "e1",
            "jobName": "eks",
            "status": "SUCCEEDED",
            "eksProperties": {
                "podProperties": {
                    "podName": "aws-batch.pod-1",
                    "nodeName": "ip-10-0-0-1",
                    "containers": [
                        {
                            "name": "main",
                            "exitCode": 0,
                            "env": [{"name": "TOKEN", "value": "s3cr3t-token"}],
                        },
                        {"name": "helper", "exitCode": 2},
                    ],
                }
            },
            "eksAttempts": [{"podName": "aws-batch.pod-1", "podNamespace": "jobs"}],
        }
    )
    text = _rendered(job_table(job))
    assert "Kind" in text
    assert "EKS" in text
    assert "aws-batch.pod-1 (namespace jobs) on ip-10-0-0-1" in text
    assert "Container helper  exit code 2" in text
    data = job_json(job)
    assert data["container_exit_codes"] == {"main": 0, "helper": 2}
    assert "s3cr3t" not in json.dumps(data) + text
    several = _rendered(jobs_table([job, _detail("c1", "plain", JobStatus.RUNNING)]))
    assert "KIND" in several
    assert "CONTAINER" in several
