"""``aws-batch-async service-jobs ls|status|stop``: SageMaker service jobs.

``ls`` lists a queue's service jobs (every status unless ``--status``), ``status`` shows jobs by
id, ``stop`` terminates them: one job by TerminateServiceJob (its error is the command's),
several by TerminateServiceJobs (each refusal on its own line, exit 1). Finished jobs are left
alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.table import Table

from aws_batch_async import BatchError, BatchService, ServiceJobDetail, ServiceJobSummary

from .._errors import EXIT_ERROR, PROG, error_message, print_error, run_async
from .._jobs import aclose
from .._options import CommonOptions, JobIds, shared_options
from .._output import format_time, status_text

__all__ = ["service_jobs_app"]

service_jobs_app = typer.Typer(
    name="service-jobs",
    help="SageMaker service jobs (AWS Batch for SageMaker Training): ls, status, stop.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@service_jobs_app.command("ls")
@shared_options()
def list_service_jobs(
    status: Annotated[
        str | None,
        typer.Option("--status", "-s", metavar="STATUS", help="Only jobs in this status."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", "-n", metavar="PREFIX", help="Only jobs named so.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", metavar="N", min=1, help="Show at most N jobs.")
    ] = None,
    *,
    options: CommonOptions,
) -> None:
    """List a queue's service jobs (every status unless --status, SCHEDULED included).

    Example: aws-batch-async service-jobs ls --status SCHEDULED
    """
    run_async(_ls(options, status=status, name=name, limit=limit))


async def _ls(
    options: CommonOptions, *, status: str | None, name: str | None, limit: int | None
) -> int:
    out = options.out
    config = options.config(queue=True)
    pattern = None if name is None else (name if name.endswith("*") else f"{name}*")
    jobs: list[ServiceJobSummary] = []
    async with BatchService(config) as batch:
        listing = batch.list_service_jobs(
            config.job_queue, status.upper() if status else None, job_name=pattern
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
        out.err.print("No service jobs.")
    else:
        out.out.print(_jobs_table(jobs))
    return 0


@service_jobs_app.command("status")
@shared_options()
def service_job_status(job_ids: JobIds, *, options: CommonOptions) -> None:
    """Show service jobs: details of one, a table of several.

    Example: aws-batch-async service-jobs status 0c7e...
    """
    run_async(_status(options, job_ids))


async def _status(options: CommonOptions, job_ids: list[str]) -> int:
    out = options.out
    async with BatchService(options.config()) as batch:
        jobs = [await batch.describe_service_job(i) for i in dict.fromkeys(job_ids)]
    if out.json_mode:
        shown = [_detail_json(job) for job in jobs]
        out.json(shown[0] if len(shown) == 1 else shown)
    elif len(jobs) == 1:
        out.out.print(_job_table(jobs[0]))
    else:
        out.out.print(_jobs_table(jobs))
    return 0


@service_jobs_app.command("stop")
@shared_options()
def stop_service_jobs(
    job_ids: JobIds,
    reason: Annotated[
        str | None,
        typer.Option("--reason", "-r", metavar="TEXT", help="Why; shown as the status reason."),
    ] = None,
    *,
    options: CommonOptions,
) -> None:
    """Terminate service jobs (several: TerminateServiceJobs of up to 50 ids).

    Example: aws-batch-async service-jobs stop 0c7e... --reason "wrong data set"
    """
    run_async(_stop(options, job_ids, reason=reason))


async def _stop(options: CommonOptions, job_ids: list[str], *, reason: str | None) -> int:
    out = options.out
    why = reason or f"stop requested with {PROG}"
    failed: dict[str, BatchError] = {}
    async with BatchService(options.config()) as batch:
        jobs = [await batch.describe_service_job(i) for i in dict.fromkeys(job_ids)]
        results: list[dict[str, Any]] = [
            {
                "job_id": job.job_id,
                "job_name": job.job_name,
                "previous_status": job.status,
                "action": "none" if job.is_terminal else "terminate",
                "note": f"already {job.status}" if job.is_terminal else None,
            }
            for job in jobs
        ]
        todo = [item["job_id"] for item in results if item["action"] == "terminate"]
        if len(jobs) == 1 and todo:
            await batch.terminate_service_job(todo[0], why)
        elif todo:
            failed = (await batch.terminate_service_jobs(todo, why)).failed
    for item in results:
        if item["job_id"] in failed:
            item["action"], item["note"] = "failed", error_message(failed[item["job_id"]])
    if out.json_mode:
        out.json(results[0] if len(results) == 1 else results)
    else:
        for item in results:
            what = f"[bold]{item['job_name']}[/] {item['job_id']}"
            if item["action"] == "none":
                out.out.print(f"Nothing done for {what}: {item['note']}")
            elif item["action"] == "terminate":
                out.out.print(f"Termination requested for {what} (was {item['previous_status']})")
    for item in results:
        if item["action"] == "failed":
            print_error(
                f"stop of service job {item['job_id']} ({item['job_name']}): {item['note']}"
            )
    return EXIT_ERROR if failed else 0


def _jobs_table(jobs: Sequence[ServiceJobSummary | ServiceJobDetail]) -> Table:
    table = Table(box=None, pad_edge=False)
    for column in ("JOB ID", "NAME", "STATUS", "CREATED", "REASON"):
        table.add_column(column, overflow="fold")
    for job in jobs:
        table.add_row(
            job.job_id,
            job.job_name,
            status_text(job.status),
            format_time(job.created_at, short=True),
            job.status_reason or "",
        )
    return table


def _job_table(job: ServiceJobDetail) -> Table:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    rows: list[tuple[str, Any]] = [
        ("Job", f"{job.job_name} ({job.job_id})"),
        ("Status", status_text(job.status)),
        ("Reason", job.status_reason or "-"),
        ("Type", job.service_job_type or "-"),
        ("Queue", job.job_queue or "-"),
        ("Priority", "-" if job.scheduling_priority is None else str(job.scheduling_priority)),
        ("Created", format_time(job.created_at)),
        ("Scheduled", format_time(job.scheduled_at)),
        ("Started", format_time(job.started_at)),
        ("Stopped", format_time(job.stopped_at)),
        ("Training job", job.training_job_arn or "-"),
        ("Attempts", str(len(job.attempts))),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def _detail_json(job: ServiceJobDetail) -> dict[str, Any]:
    """The detail without its request payload (it may hold secrets: hyperparameters...)."""
    data: dict[str, Any] = job.model_dump(mode="json", exclude={"service_request_payload"})
    data["training_job_arn"] = job.training_job_arn
    return data
