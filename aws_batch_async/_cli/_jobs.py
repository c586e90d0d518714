"""Job lookups the commands share: describing jobs by id, and closing listings stopped early."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aws_batch_async import BatchService, JobDetail, JobNotFoundError

__all__ = ["aclose", "describe_all"]


async def describe_all(batch: BatchService, job_ids: list[str]) -> list[JobDetail]:
    """Describe jobs, in the order given (duplicates once); a clear error if any is unknown.

    Args:
        batch: An open service.
        job_ids: The jobs.

    Returns:
        Each job's detail.

    Raises:
        JobNotFoundError: A job id is unknown; the message names every unknown one.
    """
    ids = list(dict.fromkeys(job_ids))
    jobs = await batch.describe_jobs(ids)
    found = {job.job_id for job in jobs}
    missing = [i for i in ids if i not in found]
    if len(missing) == 1:
        raise JobNotFoundError(missing[0])
    if missing:
        raise JobNotFoundError(missing[0], f"jobs not found: {', '.join(missing)}")
    return jobs


async def aclose(iterator: AsyncIterator[Any]) -> None:
    """Close an async generator we stopped iterating early (its ``finally`` blocks run now).

    Args:
        iterator: A listing such as ``BatchService.list_jobs(...)``; one without ``aclose``
            is left alone.
    """
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()
