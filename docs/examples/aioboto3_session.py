"""Sharing an app's ``aioboto3.Session`` with ``BatchService``.

An app that already uses aioboto3 (for S3, SQS, DynamoDB...) has one ``aioboto3.Session``
holding its credentials (a profile, an assumed role, SSO) and region. Pass it to
``BatchService(config, session=session)``: the service creates its Batch (and CloudWatch
Logs) clients from it, so credentials are resolved by the same session and every client of
the app shares them. The service never closes a session it was given; the app's other clients
keep working after the service closes.

``BatchConfig.profile`` and a session are exclusive (the session already decided the profile):
give one or the other. Needs the extra ``pip install "aws-batch-async[aioboto3]"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aioboto3

from aws_batch_async import BatchConfig, BatchService, JobDetail, JobRequest

__all__ = ["make_session", "run_jobs"]


def make_session(*, profile: str | None = None, region: str | None = None) -> Any:
    """The app's one session (created once, at startup; cheap to keep, costly to recreate).

    Args:
        profile: A profile of the shared AWS config files (``None``: botocore's chain).
        region: The region (``None``: the profile's or ``AWS_REGION``).
    """
    return aioboto3.Session(profile_name=profile, region_name=region)


async def run_jobs(
    session: Any, config: BatchConfig, requests: Sequence[JobRequest], *, timeout: float = 600
) -> list[JobDetail]:
    """Submit ``requests`` with the app's session and wait for all of them.

    Args:
        session: The app's ``aioboto3.Session``.
        config: Batch settings without ``profile`` (the session has the credentials).
        requests: The jobs.
        timeout: Seconds to wait for every job.

    Returns:
        The finished jobs, in completion order (FAILED ones included).
    """
    async with BatchService(config, session=session) as batch:
        jobs = await batch.submit_jobs(requests)
        ids = [job.job_id for job in jobs]
        return [job async for job in batch.as_completed(ids, timeout=timeout)]
