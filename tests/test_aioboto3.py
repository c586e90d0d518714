"""Interop: a caller's aioboto3 Session drives the service (run by `nox -s tests_aioboto3`).

aioboto3 pins aiobotocore exactly, so it is an optional extra with its own nox session; in the
main test session (no aioboto3 installed) this module is skipped with that reason.
"""

from __future__ import annotations

import pytest

from aws_batch_async import BatchConfig, BatchService, JobRequest, JobStatus
from aws_batch_async.testing import BatchProxy

aioboto3 = pytest.importorskip(
    "aioboto3", reason="aioboto3 is optional; `nox -s tests_aioboto3` installs and tests it"
)


async def test_aioboto3_session_is_used_and_left_open(
    config: BatchConfig, proxy: BatchProxy
) -> None:
    session = aioboto3.Session(
        aws_access_key_id="aioboto3-key", aws_secret_access_key="x", region_name="us-east-1"
    )
    async with BatchService(config, session=session) as batch:
        result = await batch.submit_job(JobRequest(command=["echo", "hi"]))
        job = await batch.get_job_status(result.job_id)
        assert job.status is JobStatus.SUCCEEDED
        listed = [s.job_id async for s in batch.list_jobs()]
        assert listed == [result.job_id]
    assert {c.access_key_id for c in proxy.calls} == {"aioboto3-key"}
    # the caller's session still works after the service closed
    async with session.client("batch", endpoint_url=proxy.url) as client:
        described = await client.describe_jobs(jobs=[result.job_id])
        assert described["jobs"][0]["jobId"] == result.job_id
