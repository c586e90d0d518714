"""LocalBatch in every mode: real exit codes, environments, terminate, timeouts, cleanup.

One LocalBatch per mode is shared by the tests of this module (starting one takes a second or
two); the tests that check start-up and clean-up start their own.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pydantic
import pytest
from aiobotocore.session import AioSession

from aws_batch_async import (
    BatchAPIError,
    BatchConfig,
    BatchService,
    JobDetail,
    JobRequest,
    JobStatus,
    PollPolicy,
)
from aws_batch_async.testing import LocalBatch, LocalBatchError

FAST_POLL = PollPolicy(initial_interval=0.1, max_interval=0.5, not_found_grace=10)
SECRET_NAME = "LOCAL_BATCH_TEST_SECRET"
LIFECYCLE_ORDER = list(JobStatus)


def fast(local: LocalBatch) -> BatchConfig:
    """The LocalBatch's config, polling often (tests wait for seconds, not minutes)."""
    return local.config.model_copy(update={"poll": FAST_POLL})


async def run_job(local: LocalBatch, request: JobRequest, timeout: float = 60) -> JobDetail:
    async with BatchService(fast(local)) as batch:
        submitted = await batch.submit_job(request)
        return await batch.wait_for(submitted.job_id, timeout=timeout, raise_on_failure=False)


async def job_lines(local: LocalBatch, job_id: str) -> list[str]:
    async with BatchService(fast(local)) as batch:
        return [event.message async for event in batch.get_logs(job_id)]


def raw_client(local: LocalBatch) -> Any:
    """A plain aiobotocore Batch client of the LocalBatch (to call what the library refuses)."""
    return AioSession().create_client(
        "batch",
        region_name=local.region,
        endpoint_url=local.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def is_alive(pid: int) -> bool:
    """True if ``pid`` is a live (not zombie) process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return status.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@pytest.fixture(scope="module")
def run_batch() -> Iterator[LocalBatch]:
    """A LocalBatch in "run" mode, started while this process holds a secret and AWS keys."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_NAME, "do-not-leak")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "real-looking-secret")
        local = LocalBatch(mode="run")
        local.start_sync()
    try:
        yield local
    finally:
        local.close()


@pytest.fixture(scope="module")
def instant_batch() -> Iterator[LocalBatch]:
    with LocalBatch(mode="instant") as local:
        yield local


# ---------------------------------------------------------------------------------------------
# "run" mode


async def test_exit_codes_are_reported(run_batch: LocalBatch) -> None:
    ok, failed = await asyncio.gather(
        run_job(run_batch, JobRequest(command=["sh", "-c", "exit 0"])),
        run_job(run_batch, JobRequest(command=["sh", "-c", "echo bye; exit 3"])),
    )
    assert ok.status is JobStatus.SUCCEEDED
    assert ok.exit_code == 0
    assert failed.status is JobStatus.FAILED
    assert failed.exit_code == 3
    assert failed.status_reason == "Essential container in task exited"
    assert failed.attempts[-1].exit_code == 3
    assert await job_lines(run_batch, failed.job_id) == ["bye"]


async def test_job_gets_its_environment_and_nothing_of_ours(run_batch: LocalBatch) -> None:
    job = await run_job(
        run_batch, JobRequest(command=["env"], env_vars={"GREETING": "hello world", "N": "1"})
    )
    assert job.status is JobStatus.SUCCEEDED
    env = dict(line.split("=", 1) for line in await job_lines(run_batch, job.job_id))
    assert env["GREETING"] == "hello world"
    assert env["N"] == "1"
    assert env["AWS_BATCH_JOB_ID"] == job.job_id
    assert env["AWS_BATCH_JOB_ATTEMPT"] == "1"
    assert env["AWS_BATCH_JQ_NAME"] == run_batch.job_queue
    assert env["AWS_BATCH_CE_NAME"] == run_batch.compute_environment
    assert env["PATH"] == os.environ["PATH"]
    assert set(env) == {
        "GREETING",
        "N",
        "AWS_BATCH_JOB_ID",
        "AWS_BATCH_JOB_ATTEMPT",
        "AWS_BATCH_JQ_NAME",
        "AWS_BATCH_CE_NAME",
        "PATH",
        "HOME",
        "HOSTNAME",
    }
    assert "do-not-leak" not in env.values()


async def test_stdout_and_stderr_keep_their_order(run_batch: LocalBatch) -> None:
    script = (
        "echo one; echo two >&2; echo three; echo four >&2; "
        "printf '  indented  \\n\\n'; printf 'no newline at the end'"
    )
    job = await run_job(run_batch, JobRequest(command=["sh", "-c", script]))
    assert job.status is JobStatus.SUCCEEDED
    assert await job_lines(run_batch, job.job_id) == [
        "one",
        "two",
        "three",
        "four",
        "  indented  ",
        "no newline at the end",
    ]


async def test_running_takes_real_time(run_batch: LocalBatch) -> None:
    async with BatchService(fast(run_batch)) as batch:
        submitted = await batch.submit_job(JobRequest(command=["sleep", "1.5"]))
        seen = [job.status async for job in batch.watch(submitted.job_id, timeout=60)]
        job = await batch.get_job_status(submitted.job_id)
    assert JobStatus.RUNNING in seen
    assert job.status is JobStatus.SUCCEEDED
    assert job.started_at is not None
    assert job.stopped_at is not None
    assert (job.stopped_at - job.started_at).total_seconds() >= 1.4


async def test_terminate_stops_a_sleeping_job_within_seconds(run_batch: LocalBatch) -> None:
    async with BatchService(fast(run_batch)) as batch:
        submitted = await batch.submit_job(JobRequest(command=["sleep", "120"]))
        async for job in batch.watch(submitted.job_id, timeout=60):
            if job.status is JobStatus.RUNNING:
                break
        started = time.monotonic()
        await batch.terminate_job(submitted.job_id, "no longer needed")
        job = await batch.wait_for(submitted.job_id, timeout=30, raise_on_failure=False)
    assert time.monotonic() - started < 10
    assert job.status is JobStatus.FAILED
    assert job.status_reason == "no longer needed"
    assert job.exit_code == 137  # SIGKILL, as Docker reports it


async def test_attempt_timeout_fails_the_job(run_batch: LocalBatch) -> None:
    # AWS's minimum attempt timeout is 60 s, and JobRequest enforces it...
    with pytest.raises(pydantic.ValidationError):
        JobRequest(command=["true"], timeout_seconds=2)
    # ...but LocalBatch (like moto) accepts a job definition registered with a shorter one.
    async with raw_client(run_batch) as client:
        await client.register_job_definition(
            jobDefinitionName="two-second-timeout",
            type="container",
            containerProperties={
                "image": "busybox",
                "command": ["true"],
                "resourceRequirements": [
                    {"type": "VCPU", "value": "1"},
                    {"type": "MEMORY", "value": "128"},
                ],
            },
            timeout={"attemptDurationSeconds": 2},
        )
    started = time.monotonic()
    job = await run_job(
        run_batch,
        JobRequest(
            job_definition="two-second-timeout",
            command=["sh", "-c", "echo started; sleep 60; echo never"],
        ),
    )
    assert 2 <= time.monotonic() - started < 30
    assert job.status is JobStatus.FAILED
    assert job.status_reason == "Job attempt duration exceeded timeout"
    assert await job_lines(run_batch, job.job_id) == ["started"]


async def test_a_command_that_cannot_start(run_batch: LocalBatch) -> None:
    job = await run_job(run_batch, JobRequest(command=["no-such-command-anywhere"]))
    assert job.status is JobStatus.FAILED
    assert job.exit_code == 127
    assert job.status_reason is not None
    assert job.status_reason.startswith("CannotStartContainerError:")
    assert "no-such-command-anywhere" in job.status_reason


async def test_local_batch_behaves_like_aws_not_like_moto(run_batch: LocalBatch) -> None:
    async with BatchService(fast(run_batch)) as batch:
        sleeper = await batch.submit_job(JobRequest(command=["sleep", "60"]))
        quick = await batch.submit_job(JobRequest(command=["true"]))
        await batch.wait_for(quick.job_id, timeout=60)
        async for job in batch.watch(sleeper.job_id, timeout=60):
            if job.status is JobStatus.RUNNING:
                break
        async with raw_client(run_batch) as client:
            # ListJobs without a status lists RUNNING jobs only.
            listed = await client.list_jobs(jobQueue=run_batch.job_queue)
            ids = {j["jobId"] for j in listed["jobSummaryList"]}
            assert sleeper.job_id in ids
            assert quick.job_id not in ids
            # DescribeJobs takes at most 100 ids.
            with pytest.raises(client.exceptions.ClientException):
                await client.describe_jobs(jobs=[quick.job_id] * 101)
            # DescribeJobs reports the exit code (moto alone does not).
            described = await client.describe_jobs(jobs=[quick.job_id])
            assert described["jobs"][0]["container"]["exitCode"] == 0
        await batch.terminate_job(sleeper.job_id, "done")


async def test_runner_is_private(run_batch: LocalBatch) -> None:
    socket_path = run_batch.runner_socket
    assert socket_path is not None
    assert run_batch.private_dir == socket_path.parent
    assert stat.S_ISSOCK(socket_path.stat().st_mode)
    assert stat.S_IMODE(socket_path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(socket_path.stat().st_mode) & 0o077 == 0
    # It speaks the Docker Engine API, on that socket only.
    connector = aiohttp.UnixConnector(path=str(socket_path))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get("http://docker/version") as response,
    ):
        version = json.loads(await response.read())
    assert version["ApiVersion"]


# ---------------------------------------------------------------------------------------------
# "instant" and "lifecycle" modes


async def test_instant_jobs_succeed_at_submit_without_logs(instant_batch: LocalBatch) -> None:
    assert instant_batch.runner_socket is None  # nothing runs commands in this mode
    async with BatchService(fast(instant_batch)) as batch:
        submitted = await batch.submit_job(JobRequest(command=["sh", "-c", "exit 5"]))
        job = await batch.get_job_status(submitted.job_id)
        assert job.status is JobStatus.SUCCEEDED
        assert job.exit_code == 0
        assert [e async for e in batch.get_logs(submitted.job_id)] == []
        assert [e async for e in batch.get_logs(submitted.job_id, follow=True)] == []


async def test_lifecycle_walks_the_statuses() -> None:
    async with LocalBatch(mode="lifecycle", step_seconds=0.2, run_seconds=1.0) as local:
        assert local.runner_socket is not None
        async with BatchService(fast(local)) as batch:
            submitted = await batch.submit_job(JobRequest(command=["sh", "-c", "exit 9"]))
            seen = [job.status async for job in batch.watch(submitted.job_id, timeout=60)]
            job = await batch.get_job_status(submitted.job_id)
            logs = [e async for e in batch.get_logs(submitted.job_id)]
    assert seen[-1] is JobStatus.SUCCEEDED
    assert JobStatus.RUNNING in seen
    assert len(seen) >= 3
    assert seen == sorted(seen, key=LIFECYCLE_ORDER.index)
    assert job.exit_code == 0  # the command is not run in this mode
    assert logs == []


async def test_run_mode_steps_and_cancel_before_start() -> None:
    local = LocalBatch(mode="run", step_seconds=0.5)
    async with local, BatchService(fast(local)) as batch:
        ran = await batch.submit_job(JobRequest(command=["echo", "ran"]))
        cancelled = await batch.submit_job(JobRequest(command=["echo", "must not run"]))
        await batch.cancel_job(cancelled.job_id, "changed my mind")
        seen = [job.status async for job in batch.watch(ran.job_id, timeout=60)]
        job = await batch.wait_for(cancelled.job_id, timeout=60, raise_on_failure=False)
        ran_lines = [e.message async for e in batch.get_logs(ran.job_id)]
        cancelled_lines = [e.message async for e in batch.get_logs(cancelled.job_id)]
    waiting = {JobStatus.SUBMITTED, JobStatus.PENDING, JobStatus.RUNNABLE, JobStatus.STARTING}
    assert waiting & set(seen)  # the job stepped through statuses before it ran
    assert seen == sorted(seen, key=LIFECYCLE_ORDER.index)
    assert seen[-1] is JobStatus.SUCCEEDED
    assert ran_lines == ["ran"]
    assert job.status is JobStatus.FAILED
    assert job.status_reason == "changed my mind"
    assert job.exit_code is None
    assert cancelled_lines == []


# ---------------------------------------------------------------------------------------------
# Life of LocalBatch itself


async def test_async_use_does_not_block_and_leaves_nothing_behind() -> None:
    threads_before = set(threading.enumerate())
    gaps: list[float] = []
    measuring = False

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            if measuring:
                gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    local = LocalBatch(mode="run")
    try:
        measuring = True
        await local.start()  # about two seconds: the loop must keep running meanwhile
        measuring = False
        private_dir = local.private_dir
        child = local.pid
        assert private_dir is not None
        assert child is not None
        assert private_dir.is_dir()
        assert is_alive(child)
        async with BatchService(fast(local)) as batch:
            submitted = await batch.submit_job(
                JobRequest(command=["sh", "-c", "echo $$; exec sleep 120"])
            )
            job_pid = None
            for _ in range(300):
                lines = [e.message async for e in batch.get_logs(submitted.job_id)]
                if lines:
                    job_pid = int(lines[0])
                    break
                await asyncio.sleep(0.1)
        assert job_pid is not None
        assert is_alive(job_pid)
        measuring = True
        await local.aclose()
        measuring = False
    finally:
        ticker.cancel()
        await local.aclose()
    assert len(gaps) > 10
    assert max(gaps) < 1.0
    assert not private_dir.exists()
    assert not is_alive(child)
    assert not is_alive(job_pid)

    def leftover_threads() -> set[str]:
        # The loop's default executor ("asyncio_N", used by aiobotocore) lives with the loop.
        new = set(threading.enumerate()) - threads_before
        return {t.name for t in new if not t.name.startswith("asyncio_")}

    for _ in range(50):  # asyncio's child watcher thread ends just after the child
        if not leftover_threads():
            break
        await asyncio.sleep(0.1)
    assert not leftover_threads()


def test_sync_use_leaves_nothing_behind() -> None:
    with LocalBatch(mode="instant") as local:
        private_dir = local.private_dir
        child = local.pid
        assert private_dir is not None
        assert child is not None
        assert local.is_running
        assert local.config.endpoint_url == local.endpoint_url
    assert not private_dir.exists()
    assert not is_alive(child)
    with pytest.raises(LocalBatchError, match="not running"):
        _ = local.config
    with pytest.raises(LocalBatchError, match="started once"):
        local.start_sync()


def test_a_killed_parent_leaves_nothing_behind() -> None:
    script = (
        "import time\n"
        "from aws_batch_async.testing import LocalBatch\n"
        "local = LocalBatch()\n"
        "local.start_sync()\n"
        "print(local.private_dir, local.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        private_dir, child = parent.stdout.readline().split()
        assert Path(private_dir).is_dir()
    finally:
        parent.kill()  # no chance to clean up: the child notices its stdin close
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (is_alive(int(child)) or Path(private_dir).exists()):
        time.sleep(0.1)
    assert not is_alive(int(child))
    assert not Path(private_dir).exists()


def test_invalid_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="mode"):
        LocalBatch(mode="docker")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fail"):
        LocalBatch(mode="run", fail=True)
    with pytest.raises(ValueError, match="step_seconds"):
        LocalBatch(mode="instant", step_seconds=1)


async def test_a_child_that_cannot_start_is_reported() -> None:
    local = LocalBatch(mode="instant", region="not a region!")
    with pytest.raises(LocalBatchError, match="child process"):
        await local.start()
    assert local.private_dir is None
    assert local.pid is not None
    assert not is_alive(local.pid)


async def test_moto_error_surfaces_as_api_error(instant_batch: LocalBatch) -> None:
    async with BatchService(fast(instant_batch)) as batch:
        with pytest.raises(BatchAPIError):
            await batch.submit_job(JobRequest(command=["true"], job_queue="no-such-queue"))


async def test_listing_shows_a_finished_array_parent_as_finished(run_batch: LocalBatch) -> None:
    async with BatchService(fast(run_batch)) as batch:
        parent = await batch.submit_job(JobRequest(command=["true"], array_size=2))
        children = [f"{parent.job_id}:{i}" for i in range(2)]
        done = [job async for job in batch.as_completed(children, timeout=60)]
        assert {job.status for job in done} == {JobStatus.SUCCEEDED}
        # Nothing described the parent: its listed status must still follow its children.
        listed = {s.job_id: s.status async for s in batch.list_jobs(job_status="SUCCEEDED")}
        assert listed.get(parent.job_id) is JobStatus.SUCCEEDED
