"""LocalBatch for long runs: no descriptor leak per job, a bounded log, no orphaned jobs,
and its tools usable when asyncio's debug mode makes aiohttp parse strictly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from aws_batch_async import BatchService, JobRequest, JobStatus, PollPolicy
from aws_batch_async.testing import LocalBatch, LocalBatchError
from aws_batch_async.testing._child_process import LogRotation
from aws_batch_async.testing._moto_patches import DOCKER_POOL_SIZE, SharedDockerClient, apply

FAST_POLL = PollPolicy(initial_interval=0.1, max_interval=0.5, not_found_grace=10)


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def running(local: LocalBatch) -> bool:
    """``running(local)``, read anew (mypy would keep an asserted property narrowed)."""
    return local.is_running


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


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
async def test_finished_jobs_leave_no_descriptors_open() -> None:
    async with LocalBatch(mode="run") as local:
        assert local.pid is not None
        config = local.config.model_copy(update={"poll": FAST_POLL})
        async with BatchService(config) as batch:
            first = await batch.submit_job(JobRequest(command=["true"]))
            await batch.wait_for(first.job_id, timeout=60)
            before = open_fds(local.pid)
            submitted = [await batch.submit_job(JobRequest(command=["true"])) for _ in range(30)]
            done = [
                job async for job in batch.as_completed([s.job_id for s in submitted], timeout=60)
            ]
            after = open_fds(local.pid)
    assert {job.status for job in done} == {JobStatus.SUCCEEDED}
    # moto opened a docker client per job and never closed it: 16 descriptors per job (480
    # here). Now the jobs share one client whose pool keeps at most DOCKER_POOL_SIZE idle
    # connections (two descriptors each, both ends live in the child).
    assert after - before <= 2 * DOCKER_POOL_SIZE + 4


def test_every_moto_patch_applies_to_the_installed_moto() -> None:
    """Fails loudly when moto moves the internals LocalBatch's child relies on."""
    script = textwrap.dedent(
        """
        from aws_batch_async.testing._moto_patches import SharedDockerClient, apply
        print(",".join(apply(SharedDockerClient())))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == [
        "shared_docker_client,terminate_keeps_finished_jobs,no_docker_host_probe,describe_jobs_by_id"
    ]
    assert callable(apply)
    SharedDockerClient().close()  # closing a client never created is a no-op


def test_the_log_is_rotated_beyond_its_cap(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        rotation = LogRotation(log, max_bytes=1000, fds=(fd,))
        os.write(fd, b"x" * 900)
        assert not rotation.check()
        os.write(fd, b"y" * 200)
        assert rotation.check()
        os.write(fd, b"after\n")
        assert not rotation.check()
    finally:
        os.close(fd)
    assert (tmp_path / "child.log.1").read_bytes() == b"x" * 900 + b"y" * 200
    assert log.read_bytes() == b"after\n"
    assert rotation.rotations == 1


async def test_a_dead_child_takes_its_jobs_with_it() -> None:
    local = LocalBatch(mode="run")
    async with local:
        assert local.pid is not None
        config = local.config.model_copy(update={"poll": FAST_POLL})
        async with BatchService(config) as batch:
            # The job's shell and a grandchild it leaves in the background (same group).
            job = await batch.submit_job(
                JobRequest(command=["sh", "-c", "sleep 300 & echo $$ $!; wait"])
            )
            pids: list[int] = []
            for _ in range(300):
                lines = [e.message async for e in batch.get_logs(job.job_id)]
                if lines:
                    pids = [int(p) for p in lines[0].split()]
                    break
                await asyncio.sleep(0.1)
        assert len(pids) == 2
        assert all(is_alive(pid) for pid in pids)
        assert running(local)
        os.kill(local.pid, signal.SIGKILL)
        for _ in range(200):
            if not running(local) and not any(is_alive(pid) for pid in pids):
                break
            await asyncio.sleep(0.05)
        assert not running(local)
        assert not any(is_alive(pid) for pid in pids)
        with pytest.raises(LocalBatchError, match="exited unexpectedly"):
            _ = local.config
        private_dir = local.private_dir
    assert private_dir is not None
    assert not private_dir.exists()


def test_is_running_turns_false_when_the_child_dies_sync() -> None:
    with LocalBatch(mode="instant") as local:
        assert local.pid is not None
        assert running(local)
        os.kill(local.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and running(local):
            time.sleep(0.05)
        assert not running(local)
        with pytest.raises(LocalBatchError, match="exited unexpectedly"):
            _ = local.endpoint_url


_DEBUG_MODE_SCRIPT = textwrap.dedent(
    """
    import asyncio
    import sys

    from aiobotocore.session import AioSession
    from moto.server import ThreadedMotoServer

    from aws_batch_async import BatchService, JobRequest
    from aws_batch_async.testing import (
        BatchProxy, LocalBatch, MotoServer, create_batch_infrastructure,
    )

    assert sys.flags.dev_mode


    async def main() -> None:
        async with LocalBatch(mode="instant") as local:
            async with BatchService(local.config) as batch:
                job = await batch.submit_job(JobRequest(command=["true"]))
                done = await batch.wait_for(job.job_id, timeout=30)
                print("local", done.status.value)
        with MotoServer() as moto, BatchProxy(moto.url) as proxy:
            create_batch_infrastructure(moto.url)
            for url in (moto.url, proxy.url):
                print("queues", len(await job_queues(url, "aws-batch-async-queue")))
        # moto's own server still sends two Server headers: the proxy must cope with them.
        foreign = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        foreign.start()
        host, port = foreign.get_host_and_port()
        create_batch_infrastructure(f"http://{host}:{port}", name="foreign")
        with BatchProxy(f"http://{host}:{port}") as proxy:
            print("foreign queues", len(await job_queues(proxy.url, "foreign-queue")))
        foreign.stop()


    async def job_queues(url: str, name: str) -> list[object]:
        async with AioSession().create_client(
            "batch", region_name="us-east-1", endpoint_url=url,
            aws_access_key_id="testing", aws_secret_access_key="testing",
        ) as client:
            return list((await client.describe_job_queues(jobQueues=[name]))["jobQueues"])


    asyncio.run(main())
    """
)


def test_tools_work_in_asyncio_debug_mode(tmp_path: Path) -> None:
    # aiohttp parses strictly under -X dev / PYTHONASYNCIODEBUG=1 and refused moto's answers
    # (two Server headers): every call through BatchProxy or LocalBatch answered 500.
    script = tmp_path / "debug_mode.py"
    script.write_text(_DEBUG_MODE_SCRIPT)
    env = {**os.environ, "PYTHONASYNCIODEBUG": "1"}
    out = subprocess.run(
        [sys.executable, "-X", "dev", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split("\n")[:4] == [
        "local SUCCEEDED",
        "queues 1",
        "queues 1",
        "foreign queues 1",
    ]


_KILLED_TOGETHER_SCRIPT = textwrap.dedent(
    """
    import asyncio
    import os

    from aws_batch_async import BatchService, JobRequest, PollPolicy
    from aws_batch_async.testing import LocalBatch


    async def main() -> None:
        async with LocalBatch(mode="run") as local:
            config = local.config.model_copy(
                update={"poll": PollPolicy(initial_interval=0.1, max_interval=0.2)}
            )
            async with BatchService(config) as batch:
                job = await batch.submit_job(  # and a background process in its group
                    JobRequest(command=["sh", "-c", "sleep 300 & exec sleep 300"])
                )
                while (await batch.get_job_status(job.job_id)).status != "RUNNING":
                    await asyncio.sleep(0.1)
            assert local.private_dir is not None
            groups = local.private_dir / "groups"
            while not os.listdir(groups):
                await asyncio.sleep(0.05)
            print(local.pid, os.listdir(groups)[0], local.private_dir, flush=True)
            await asyncio.sleep(300)


    asyncio.run(main())
    """
)


def group_alive(pgid: int) -> bool:
    """True if a live (not zombie) process is in the process group ``pgid``.

    A killed job is reparented to PID 1, which in a container may never reap it: its zombie
    keeps ``os.killpg(pgid, 0)`` succeeding, so /proc tells whether anything still runs.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs /proc")
def test_jobs_die_when_the_parent_and_the_child_are_killed(tmp_path: Path) -> None:
    script = tmp_path / "killed_together.py"
    script.write_text(_KILLED_TOGETHER_SCRIPT)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    pgid = 0
    try:
        assert parent.stdout is not None
        child, pgid_text, private_dir = parent.stdout.readline().split()
        pgid = int(pgid_text)
        assert group_alive(pgid)
        # Neither gets a chance to clean up: before, the job's `sleep 300` kept running.
        os.kill(parent.pid, signal.SIGKILL)
        os.kill(int(child), signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (group_alive(pgid) or Path(private_dir).exists()):
            time.sleep(0.05)
        assert not group_alive(pgid)
        assert not Path(private_dir).exists()
    finally:
        if pgid > 1:  # whatever the outcome, leave no sleep behind
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


async def test_a_run_mode_child_that_cannot_start_reports_its_log() -> None:
    # The watchdog removes the private directory only when the child dies without stopping
    # it; a child that stops after a failed start leaves its log for the parent to report.
    local = LocalBatch(mode="run", region="not a region!")
    with pytest.raises(LocalBatchError, match=r"(?s)log ends with.*InvalidRegionError") as raised:
        await local.start()
    assert local.private_dir is None
    assert "RuntimeWarning" not in str(raised.value)  # runpy's, when run with -m
