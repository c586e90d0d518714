"""Array jobs on LocalBatch in run mode: failed indices, a rerun of them only, array_index().

The jobs are real processes: each child runs Python, asks ``array_index()`` which index it
stands for, prints it, and fails for the indices 3 and 7 unless ``FIXED`` is set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aws_batch_async import (
    BatchConfig,
    BatchError,
    BatchService,
    JobRequest,
    JobStatus,
    PollPolicy,
    array_index,
)
from aws_batch_async._cli._app import run as cli_run
from aws_batch_async._lifecycle.array_index import INDEX_MAP_ENV, decode_indices, encode_indices
from aws_batch_async._lifecycle.arrays import (
    _OVERRIDES_MARGIN,
    CONTAINER_OVERRIDES_MAX,
    _overrides_size,
    split_indices,
)
from aws_batch_async.testing import LocalBatch

FAST_POLL = PollPolicy(initial_interval=0.1, max_interval=0.5, not_found_grace=10)
ROOT = str(Path(__file__).resolve().parents[2])
#: The job: print the index it stands for; fail for 3 and 7 until FIXED is set.
SCRIPT = (
    "import os, aws_batch_async as a; i = a.array_index(); print('index', i, flush=True); "
    "raise SystemExit(1 if i in (3, 7) and not os.environ.get('FIXED') else 0)"
)


@pytest.fixture(scope="module")
def local() -> Iterator[LocalBatch]:
    with LocalBatch(mode="run") as batch:
        yield batch


def fast(local: LocalBatch) -> BatchConfig:
    return local.config.model_copy(update={"poll": FAST_POLL})


def job_request(array_size: int, env_vars: dict[str, str] | None = None) -> JobRequest:
    env = {"PYTHONPATH": ROOT, **(env_vars or {})}
    return JobRequest(command=[sys.executable, "-c", SCRIPT], env_vars=env, array_size=array_size)


def fixed(request: JobRequest) -> JobRequest:
    """The ``change`` of a rerun: the bug is fixed."""
    return request.model_copy(update={"env_vars": {**(request.env_vars or {}), "FIXED": "1"}})


async def finish_array(batch: BatchService, parent_id: str, size: int) -> None:
    children = [f"{parent_id}:{i}" for i in range(size)]
    async for _ in batch.as_completed(children, timeout=120):
        pass


async def printed_index(batch: BatchService, job_id: str) -> str:
    return "".join([e.message async for e in batch.get_logs(job_id)])


# ---------------------------------------------------------------------------------------------
# The acceptance scenario


async def test_rerun_failed_reruns_indices_3_and_7_only(local: LocalBatch) -> None:
    async with BatchService(fast(local)) as batch:
        parent = await batch.submit_job(job_request(array_size=10))
        await finish_array(batch, parent.job_id, 10)
        assert await batch.failed_indices(parent.job_id) == [3, 7]

        rerun = await batch.rerun_failed(parent.job_id, change=fixed)
        assert rerun.indices == [3, 7]
        assert [p.job_id for p in rerun.parts] == [rerun.job_id]  # one array of 2 children
        detail = await batch.get_job_status(rerun.job_id)
        assert detail.array_properties is not None
        assert detail.array_properties.size == 2
        children = [f"{rerun.job_id}:0", f"{rerun.job_id}:1"]
        done = [job async for job in batch.as_completed(children, timeout=120)]
        assert {job.status for job in done} == {JobStatus.SUCCEEDED}
        # Each child saw the index it stands for, through get_logs("<array id>:<index>").
        assert await printed_index(batch, children[0]) == "index 3"
        assert await printed_index(batch, children[1]) == "index 7"
        assert await batch.failed_indices(rerun.job_id) == []


async def test_a_rerun_of_a_rerun_maps_back_to_the_original_indices(local: LocalBatch) -> None:
    async with BatchService(fast(local)) as batch:
        parent = await batch.submit_job(job_request(array_size=10))
        await finish_array(batch, parent.job_id, 10)
        first = await batch.rerun_failed(parent.job_id)  # not fixed: 3 and 7 fail again
        await finish_array(batch, first.job_id, 2)
        assert await batch.failed_indices(first.job_id) == [0, 1]
        second = await batch.rerun_failed(first.job_id, change=fixed)
        assert second.indices == [3, 7]
        await finish_array(batch, second.job_id, 2)
        assert await printed_index(batch, f"{second.job_id}:1") == "index 7"


async def test_one_failed_index_is_rerun_as_a_single_job(local: LocalBatch) -> None:
    async with BatchService(fast(local)) as batch:
        parent = await batch.submit_job(job_request(array_size=5))  # only index 3 fails
        await finish_array(batch, parent.job_id, 5)
        rerun = await batch.rerun_failed(parent.job_id, change=fixed)
        detail = await batch.wait_for(rerun.job_id, timeout=120)
        assert detail.array_properties is None or not detail.array_properties.size
        assert await printed_index(batch, rerun.job_id) == "index 3"


async def test_an_index_map_too_large_for_the_overrides_is_split(local: LocalBatch) -> None:
    # A large environment leaves room for "3" but not "3,7" in the overrides' 8,192 characters.
    base = _overrides_size(fixed(job_request(10, env_vars={"PAD": ""})))
    padding = "x" * (CONTAINER_OVERRIDES_MAX - _OVERRIDES_MARGIN - base - 2)
    async with BatchService(fast(local)) as batch:
        parent = await batch.submit_job(job_request(array_size=10, env_vars={"PAD": padding}))
        await finish_array(batch, parent.job_id, 10)
        rerun = await batch.rerun_failed(parent.job_id, change=fixed)
        assert rerun.indices == [3, 7]
        assert len(rerun.parts) == 2
        assert rerun.parts[0].job_id == rerun.job_id
        for part, index in zip(rerun.parts, (3, 7), strict=True):
            assert (await batch.wait_for(part.job_id, timeout=120)).status is JobStatus.SUCCEEDED
            assert await printed_index(batch, part.job_id) == f"index {index}"


async def test_rerun_refuses_a_job_that_is_no_array_or_has_no_failure(local: LocalBatch) -> None:
    async with BatchService(fast(local)) as batch:
        single = await batch.submit_job(JobRequest(command=["true"]))
        await batch.wait_for(single.job_id, timeout=60)
        with pytest.raises(BatchError, match="not an array"):
            await batch.rerun_failed(single.job_id)
        array = await batch.submit_job(JobRequest(command=["true"], array_size=2))
        await finish_array(batch, array.job_id, 2)
        with pytest.raises(BatchError, match="no FAILED child"):
            await batch.rerun_failed(array.job_id)
        with pytest.raises(ValueError, match="parent"):
            await batch.failed_indices(f"{array.job_id}:1")


def test_cli_rerun_failed_and_logs_of_a_child(
    local: LocalBatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    async def make() -> str:
        async with BatchService(fast(local)) as batch:
            parent = await batch.submit_job(job_request(array_size=5))
            await finish_array(batch, parent.job_id, 5)
            return parent.job_id

    parent_id = asyncio.run(make())
    env = local.config
    common = ["--region", env.region or "us-east-1", "--endpoint-url", str(env.endpoint_url)]
    common += ["--job-queue", str(env.job_queue)]
    assert cli_run(["logs", f"{parent_id}:3", *common]) == 0
    assert "index 3" in capsys.readouterr().out
    assert cli_run(["rerun-failed", parent_id, "--json", *common]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["array_job_id"] == parent_id
    assert answer["indices"] == [3]
    assert len(answer["jobs"]) == 1
    assert cli_run(["rerun-failed", answer["jobs"][0]["job_id"], *common]) != 0  # not an array


# ---------------------------------------------------------------------------------------------
# array_index() and the index map (no AWS)


def test_array_index_reads_aws_index_and_the_rerun_map() -> None:
    assert array_index({}) is None
    assert array_index({"AWS_BATCH_JOB_ARRAY_INDEX": "4"}) == 4
    assert array_index({"AWS_BATCH_JOB_ARRAY_INDEX": "1", INDEX_MAP_ENV: "3,7"}) == 7
    assert array_index({INDEX_MAP_ENV: "3"}) == 3  # a single job reruns one index
    assert array_index({"AWS_BATCH_JOB_ARRAY_INDEX": "3", INDEX_MAP_ENV: "0-1,9-10"}) == 10
    with pytest.raises(ValueError, match="outside"):
        array_index({"AWS_BATCH_JOB_ARRAY_INDEX": "2", INDEX_MAP_ENV: "3,7"})
    with pytest.raises(ValueError, match="non-negative"):
        array_index({INDEX_MAP_ENV: "3,x"})


def test_index_map_is_range_encoded_and_round_trips() -> None:
    indices = [0, 1, 2, 5, 7, 8, 9, 100]
    assert encode_indices(indices) == "0-2,5,7-9,100"
    assert decode_indices(encode_indices(indices)) == indices
    every_other = list(range(0, 10_000, 2))
    assert decode_indices(encode_indices(every_other)) == every_other
    assert len(encode_indices(range(10_000))) == len("0-9999")


def test_indices_are_split_so_each_part_fits_the_budget() -> None:
    every_other = list(range(0, 10_000, 2))
    parts = split_indices(every_other, 8000)
    assert [i for part in parts for i in part] == every_other
    assert len(parts) == 4
    assert all(len(encode_indices(p)) <= 8000 for p in parts)
    assert split_indices([3, 7], 1) == [[3], [7]]
    with pytest.raises(BatchError, match="no room"):
        split_indices([10, 11], 1)


def test_importing_array_index_loads_neither_aiobotocore_nor_pydantic() -> None:
    code = (
        "import sys; from aws_batch_async import array_index; "
        "heavy = [m for m in ('aiobotocore', 'botocore', 'pydantic') if m in sys.modules]; "
        "print(heavy, array_index({'AWS_BATCH_JOB_ARRAY_INDEX': '2'}))"
    )
    env = {**os.environ, "PYTHONPATH": ROOT}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[] 2"
