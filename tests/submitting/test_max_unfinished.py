"""``submit_jobs(..., max_unfinished=N)``: never more than N submitted jobs unfinished.

On LocalBatch in run mode (real processes that take a moment), the cap is checked against
AWS's own record: at every job's ``createdAt``, fewer than N other jobs had been created and
not yet stopped. On moto (instant jobs), the requests are read lazily from a generator.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aws_batch_async import (
    BatchService,
    JobDetail,
    JobRequest,
    JobResponse,
    JobStatus,
    PollPolicy,
    SubmitJobsError,
)
from aws_batch_async.testing import BatchProxy, LocalBatch

FAST_POLL = PollPolicy(initial_interval=0.1, max_interval=0.2, not_found_grace=10)


def peak_unfinished(jobs: list[JobDetail]) -> int:
    """The most jobs created and not yet stopped at any job's creation (AWS's timestamps)."""
    peak = 0
    for job in jobs:
        assert job.created_at is not None
        at = job.created_at
        unfinished = [
            j
            for j in jobs
            if j.created_at is not None
            and j.created_at <= at
            and (j.stopped_at is None or j.stopped_at > at)
        ]
        peak = max(peak, len(unfinished))
    return peak


@pytest.fixture(scope="module")
def local() -> Iterator[LocalBatch]:
    with LocalBatch(mode="run") as batch:
        yield batch


async def test_forty_jobs_never_more_than_five_unfinished(local: LocalBatch) -> None:
    config = local.config.model_copy(update={"poll": FAST_POLL})
    requests = (
        JobRequest(command=["sh", "-c", f"sleep 0.3; exit {i % 7 == 3:d}"]) for i in range(40)
    )
    async with BatchService(config) as batch:
        jobs = await batch.submit_jobs(requests, max_unfinished=5)
        assert len(jobs) == 40
        done = [job async for job in batch.as_completed([j.job_id for j in jobs], timeout=120)]
        details = await batch.describe_jobs([j.job_id for j in jobs])
    assert len(done) == 40
    assert all(job.is_terminal for job in done)
    assert sum(job.status is JobStatus.FAILED for job in done) == 6  # failures free slots too
    peak = peak_unfinished(details)
    assert 2 <= peak <= 5, peak


async def test_a_generator_is_read_as_room_frees_up(batch: BatchService, proxy: BatchProxy) -> None:
    submitted: list[int] = []
    ahead: list[int] = []

    def requests() -> Iterator[JobRequest]:
        for i in range(60):
            ahead.append(i - len(submitted))  # requests read but not yet submitted
            yield JobRequest(command=["true"], job_name=f"gen-{i}")

    def on_submitted(index: int, job: JobResponse) -> None:
        submitted.append(index)

    jobs = await batch.submit_jobs(requests(), max_unfinished=4, on_submitted=on_submitted)
    assert [j.job_name for j in jobs] == [f"gen-{i}" for i in range(60)]  # request order
    assert max(ahead) <= 4  # never read more than the cap ahead of the submissions
    assert proxy.count("SubmitJob") == 60
    # Waits are served by the shared poller: far fewer DescribeJobs than jobs.
    assert proxy.count("DescribeJobs") < 60


async def test_a_failed_submission_stops_the_rest(batch: BatchService, proxy: BatchProxy) -> None:
    proxy.inject_error("SubmitJob", status=400, times=1)
    requests = (JobRequest(command=["true"]) for _ in range(20))
    with pytest.raises(SubmitJobsError) as caught:
        await batch.submit_jobs(requests, max_unfinished=2)
    assert proxy.count("SubmitJob") <= 3
    results = caught.value.results
    assert any(isinstance(r, Exception) for r in results)


async def test_return_exceptions_keeps_going(batch: BatchService, proxy: BatchProxy) -> None:
    proxy.inject_error("SubmitJob", status=400, times=1)
    results = await batch.submit_jobs(
        (JobRequest(command=["true"]) for _ in range(6)), max_unfinished=2, return_exceptions=True
    )
    assert len(results) == 6
    assert sum(isinstance(r, Exception) for r in results) == 1


async def test_max_unfinished_is_checked(batch: BatchService) -> None:
    with pytest.raises(ValueError, match="max_unfinished"):
        await batch.submit_jobs([JobRequest(command=["true"])], max_unfinished=0)
    assert await batch.submit_jobs([], max_unfinished=3) == []
