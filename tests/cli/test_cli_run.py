"""``aws-batch-async run``: a job's lines live on stdout, its exit code ours, Ctrl-C stops it.

Against a LocalBatch in "run" mode (real processes and exit codes), the CLI in a subprocess.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aws_batch_async import BatchService, JobStatus
from aws_batch_async._lifecycle.failure import RUN_JOB_REASON_PREFIX
from aws_batch_async.testing import LocalBatch

from .test_cli import RUN_TIMEOUT, cli_env, run_cli


@pytest.fixture(scope="module")
def local() -> Iterator[LocalBatch]:
    with LocalBatch(mode="run") as local:
        yield local


@pytest.fixture
def flags(local: LocalBatch) -> list[str]:
    return [
        "--endpoint-url",
        local.endpoint_url,
        "--region",
        local.region,
        "--job-queue",
        local.job_queue,
        "--job-definition",
        local.job_definition,
    ]


def test_run_prints_the_jobs_lines_and_exits_with_its_code(
    flags: list[str], tmp_path: Path
) -> None:
    env = cli_env(tmp_path)
    failed = run_cli("run", *flags, "--", "sh", "-c", "echo hello; echo oops >&2; exit 3", env=env)
    assert failed.returncode == 3, failed.stderr
    assert failed.stdout == "hello\noops\n"
    assert "Submitted job" in failed.stderr
    assert "FAILED (exit code 3)" in failed.stderr
    assert "Failure: APPLICATION_ERROR" in failed.stderr

    done = run_cli(
        "run", "--json", *flags, "-e", "WHO=world", "--", "sh", "-c", "echo $WHO", env=env
    )
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert job["status"] == "SUCCEEDED"
    assert job["failure"] is None


def test_run_wait_timeout_terminates_the_job(
    flags: list[str], tmp_path: Path, local: LocalBatch
) -> None:
    result = run_cli(
        "run", "--json", "--wait-timeout", "2", *flags, "--", "sleep", "60", env=cli_env(tmp_path)
    )
    assert result.returncode == 4, result.stderr
    job_id = json.loads(result.stdout)["job_id"]
    final = _final(local, job_id)
    assert final["status"] == "FAILED"
    assert final["status_reason"].startswith(RUN_JOB_REASON_PREFIX)


def test_ctrl_c_terminates_the_job_unless_detached(
    flags: list[str], tmp_path: Path, local: LocalBatch
) -> None:
    for detach in (False, True):
        started = tmp_path / f"started-{detach}"
        script = f"touch {started}; exec sleep 60"
        extra = ["--detach"] if detach else []
        command = [sys.executable, "-m", "aws_batch_async", "run", *flags, *extra]
        with subprocess.Popen(
            [*command, "--", "sh", "-c", script],
            env=cli_env(tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            try:
                deadline = time.monotonic() + RUN_TIMEOUT
                while not started.exists():
                    assert process.poll() is None, process.stderr.read()  # type: ignore[union-attr]
                    assert time.monotonic() < deadline, "the job never started"
                    time.sleep(0.1)
                process.send_signal(signal.SIGINT)
                _, stderr = process.communicate(timeout=RUN_TIMEOUT)
            finally:
                if process.poll() is None:
                    process.kill()
        assert process.returncode == 130, stderr
        submitted = next(line for line in stderr.splitlines() if line.startswith("Submitted job"))
        job_id = submitted.split()[-1]
        if detach:
            assert stderr.strip().endswith(f"job {job_id} keeps running in AWS Batch (--detach)")
            assert _final(local, job_id, wait=False)["status"] == "RUNNING"
            _stop(local, job_id)
        else:
            assert stderr.strip().endswith(f"interrupted: job {job_id} terminated")
            final = _final(local, job_id)
            assert final["status"] == "FAILED"
            assert final["status_reason"] == f"{RUN_JOB_REASON_PREFIX}: the caller cancelled it"


def _final(local: LocalBatch, job_id: str, *, wait: bool = True) -> dict[str, str]:
    import asyncio

    async def read() -> dict[str, str]:
        async with BatchService(local.config) as batch:
            if wait:
                job = await batch.wait_for(job_id, timeout=30, raise_on_failure=False)
            else:
                job = await batch.get_job_status(job_id)
            return {"status": job.status.value, "status_reason": job.status_reason or ""}

    return asyncio.run(read())


def _stop(local: LocalBatch, job_id: str) -> None:
    import asyncio

    async def stop() -> None:
        async with BatchService(local.config) as batch:
            await batch.stop_job(job_id, "the test is over")
            job = await batch.wait_for(job_id, timeout=30, raise_on_failure=False)
            assert job.status is JobStatus.FAILED

    asyncio.run(stop())
