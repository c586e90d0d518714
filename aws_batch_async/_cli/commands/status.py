"""``aws-batch-async status`` and ``ls``: show jobs by id, and list a queue's jobs."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

import typer

from aws_batch_async import BatchService, JobDetail, JobStatus, JobSummary

from .._errors import run_async
from .._jobs import aclose, describe_all
from .._options import CommonOptions, JobIds, shared_options
from .._output import job_json, job_table, jobs_table

__all__ = ["list_jobs", "newest_first_of", "parse_status", "status"]

_EPOCH = datetime.min.replace(tzinfo=timezone.utc)


@shared_options()
def status(job_ids: JobIds, *, options: CommonOptions) -> None:
    """Show jobs: details of one, a table of several.

    Shows each job's kind (container, multi-node, EKS, ECS) and platform, and the exit code of
    each container (ECS, EKS) or node (multi-node jobs).

    Example: aws-batch-async status 0c7e... 4f1a...
    """
    run_async(_status(options, job_ids))


async def _status(options: CommonOptions, job_ids: list[str]) -> int:
    out = options.out
    async with BatchService(options.config()) as batch:
        jobs = await describe_all(batch, job_ids)
        wanted = jobs if out.json_mode or len(jobs) == 1 else []
        nodes = await _nodes_of(batch, wanted)
    if out.json_mode:
        shown = [job_json(job, nodes.get(job.job_id)) for job in jobs]
        out.json(shown[0] if len(shown) == 1 else shown)
    elif len(jobs) == 1:
        out.out.print(job_table(jobs[0], nodes.get(jobs[0].job_id, ())))
    else:
        out.out.print(jobs_table(jobs, width=out.out.width))
    return 0


async def _nodes_of(batch: BatchService, jobs: list[JobDetail]) -> dict[str, list[JobDetail]]:
    """The nodes (``<id>#<index>`` jobs) of each multi-node parent, in node order.

    Nodes that do not exist yet (the parent has not started) are left out.
    """
    wanted = {job.job_id: job.node_job_ids for job in jobs if job.is_multinode_parent}
    ids = [node_id for node_ids in wanted.values() for node_id in node_ids]
    found = {node.job_id: node for node in await batch.describe_jobs(ids)} if ids else {}
    return {
        parent: [found[node_id] for node_id in node_ids if node_id in found]
        for parent, node_ids in wanted.items()
    }


@shared_options()
def list_jobs(
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            "-s",
            metavar="STATUS",
            help=f"Only jobs in this status: {', '.join(s.value for s in JobStatus)}.",
            show_default=False,
        ),
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

    With --limit, the N newest.

    Example: aws-batch-async ls --status FAILED --name nightly-
    """
    wanted = None if status is None else parse_status(status)
    run_async(_ls(options, status=wanted, name=name, array_job_id=array_job_id, limit=limit))


def parse_status(value: str) -> JobStatus:
    """``--status``'s value, in any case, as a :class:`JobStatus`.

    Raises:
        typer.BadParameter: Not a job status; the message lists the valid ones.
    """
    try:
        return JobStatus.known(value.strip().upper())  # an open enum: a typo must not pass
    except ValueError:
        valid = ", ".join(s.value for s in JobStatus)
        raise typer.BadParameter(
            f"{value!r} is not a job status; use one of {valid}", param_hint="'--status'"
        ) from None


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
    # ListJobs gives a queue's jobs newest first only with a filter (the library's listing of
    # every status, or --name); by status, or an array's children, they come in AWS's order,
    # so every page is read and sorted before --limit keeps the newest.
    newest_first = array_job_id is None and (status is None or pattern is not None)
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
                if newest_first and limit is not None and len(jobs) >= limit:
                    break
        finally:
            await aclose(listing)
    jobs = newest_first_of(jobs)[:limit]
    if out.json_mode:
        out.json(jobs)
    elif not jobs:
        out.err.print("No jobs.")
    else:
        out.out.print(jobs_table(jobs, width=out.out.width))
    return 0


def newest_first_of(jobs: list[JobSummary]) -> list[JobSummary]:
    """The jobs, newest first by creation time (jobs without one last, in their order)."""
    return sorted(jobs, key=lambda job: job.created_at or _EPOCH, reverse=True)
