"""``aws-batch-async status`` and ``ls``: show jobs by id, and list a queue's jobs."""

from __future__ import annotations

from typing import Annotated

import typer

from aws_batch_async import BatchService, JobStatus, JobSummary

from ._errors import run_async
from ._jobs import aclose, describe_all
from ._options import CommonOptions, JobIds, shared_options
from ._output import job_table, jobs_table

__all__ = ["list_jobs", "status"]


@shared_options()
def status(job_ids: JobIds, *, options: CommonOptions) -> None:
    """Show jobs: details of one, a table of several.

    Example: aws-batch-async status 0c7e... 4f1a...
    """
    run_async(_status(options, job_ids))


async def _status(options: CommonOptions, job_ids: list[str]) -> int:
    out = options.out
    async with BatchService(options.config()) as batch:
        jobs = await describe_all(batch, job_ids)
    if out.json_mode:
        out.json(jobs[0] if len(jobs) == 1 else jobs)
    elif len(jobs) == 1:
        out.out.print(job_table(jobs[0]))
    else:
        out.out.print(jobs_table(jobs, width=out.out.width))
    return 0


@shared_options()
def list_jobs(
    status: Annotated[
        JobStatus | None,
        typer.Option("--status", "-s", case_sensitive=False, help="Only jobs in this status."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", "-n", metavar="PREFIX", help="Only jobs named so.")
    ] = None,
    array_job_id: Annotated[
        str | None,
        typer.Option("--array-job-id", metavar="JOB_ID", help="List this array job's children."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", metavar="N", min=1, help="Show at most N jobs.")
    ] = None,
    *,
    options: CommonOptions,
) -> None:
    """List a queue's jobs (every status unless --status), newest first.

    Example: aws-batch-async ls --status FAILED --name nightly-
    """
    run_async(_ls(options, status=status, name=name, array_job_id=array_job_id, limit=limit))


async def _ls(
    options: CommonOptions,
    *,
    status: JobStatus | None,
    name: str | None,
    array_job_id: str | None,
    limit: int | None,
) -> int:
    out = options.out
    config = options.config(queue=array_job_id is None)
    pattern = None if name is None else (name if name.endswith("*") else f"{name}*")
    jobs: list[JobSummary] = []
    async with BatchService(config) as batch:
        listing = batch.list_jobs(
            None if array_job_id else config.job_queue,
            status,
            job_name=pattern,
            array_job_id=array_job_id,
        )
        try:
            async for summary in listing:
                jobs.append(summary)
                if limit is not None and len(jobs) >= limit:
                    break
        finally:
            await aclose(listing)
    if out.json_mode:
        out.json(jobs)
    elif not jobs:
        out.err.print("No jobs.")
    else:
        out.out.print(jobs_table(jobs, width=out.out.width))
    return 0
