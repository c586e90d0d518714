"""stop_job does the right thing for each status, against LocalBatch's real lifecycles."""

from __future__ import annotations

import logging

import pytest

from aws_batch_async import BatchService, JobRequest, JobStatus, PollPolicy
from aws_batch_async.testing import LocalBatch

FAST = PollPolicy(initial_interval=0.1, max_interval=0.5)


async def test_stop_job_terminates_a_running_job(caplog: pytest.LogCaptureFixture) -> None:
    async with LocalBatch(mode="run") as local:
        config = local.config.model_copy(update={"poll": FAST})
        async with BatchService(config) as batch:
            job_id = (await batch.submit_job(JobRequest(command=["sleep", "60"]))).job_id
            async for job in batch.watch(job_id, timeout=60):
                if job.status is JobStatus.RUNNING:
                    break
            with caplog.at_level(logging.INFO, logger="aws_batch_async"):
                seen = await batch.stop_job(job_id, "no longer needed")
            assert seen.status is JobStatus.RUNNING
            assert any("terminate requested" in r.getMessage() for r in caplog.records)
            assert not any("cancel requested" in r.getMessage() for r in caplog.records)
            final = await batch.wait_for(job_id, timeout=30, raise_on_failure=False)
            assert final.status is JobStatus.FAILED  # a CancelJob would have left it running
            assert final.status_reason is not None


async def test_stop_job_terminates_a_job_that_has_not_started(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """TerminateJob, not CancelJob, even before the job starts.

    A job seen RUNNABLE can reach STARTING before a CancelJob arrives, and AWS answers that
    CancelJob with success while doing nothing; TerminateJob cancels a job that has not started
    and stops one that has, so stop_job sends it for every job that is not finished.
    """
    async with LocalBatch(mode="lifecycle", step_seconds=1) as local:
        config = local.config.model_copy(update={"poll": FAST})
        async with BatchService(config) as batch:
            job_id = (await batch.submit_job(JobRequest())).job_id
            with caplog.at_level(logging.INFO, logger="aws_batch_async"):
                seen = await batch.stop_job(job_id, "changed my mind")
            assert not seen.status.has_started
            assert any("terminate requested" in r.getMessage() for r in caplog.records)
            assert not any("cancel requested" in r.getMessage() for r in caplog.records)
            final = await batch.wait_for(job_id, timeout=30, raise_on_failure=False)
            assert final.status is JobStatus.FAILED
            assert final.status_reason == "changed my mind"
