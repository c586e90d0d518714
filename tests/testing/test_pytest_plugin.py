"""The pytest plugin: its fixtures in our suite and in a user's project, and its cheap import."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from aws_batch_async import BatchService, JobRequest, JobStatus
from aws_batch_async.testing import LocalBatch


async def test_local_batch_fixture(local_batch: LocalBatch) -> None:
    assert local_batch.mode == "instant"
    assert local_batch.is_running
    async with BatchService(local_batch.config) as batch:
        submitted = await batch.submit_job(JobRequest(command=["echo", "hi"]))
        job = await batch.get_job_status(submitted.job_id)
    assert job.status is JobStatus.SUCCEEDED
    assert job.exit_code == 0


async def test_factory_starts_other_modes(local_batch_factory: Callable[..., LocalBatch]) -> None:
    local = local_batch_factory("instant", fail=True)
    assert local.is_running
    async with BatchService(local.config) as batch:
        submitted = await batch.submit_job(JobRequest(command=["echo", "hi"]))
        job = await batch.get_job_status(submitted.job_id)
    assert job.status is JobStatus.FAILED
    assert job.exit_code == 1
    assert job.status_reason == "Essential container in task exited"
    with pytest.raises(ValueError, match="mode"):
        local_batch_factory("nope")


USER_TEST = """
import asyncio

from aws_batch_async import BatchService, JobRequest


def test_uses_the_fixture(local_batch):
    async def submit():
        async with BatchService(local_batch.config) as batch:
            job = await batch.submit_job(JobRequest(command=["true"]))
            return await batch.get_job_status(job.job_id)

    assert asyncio.run(submit()).status == "SUCCEEDED"


def test_the_factory_is_there(local_batch_factory):
    assert callable(local_batch_factory)
"""


async def test_plugin_works_in_a_users_project(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TEST))
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "test_user.py",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text
    assert "2 passed" in text


def test_plugin_import_is_cheap() -> None:
    code = (
        "import sys, aws_batch_async.testing.pytest_plugin; "
        "heavy = [m for m in ('moto', 'docker', 'flask') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
