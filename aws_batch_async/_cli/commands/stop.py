"""``aws-batch-async cancel`` and ``terminate``: stop jobs, saying what was done to each.

AWS's CancelJob silently does nothing to a job that has started; ``cancel`` says so and points
to ``terminate``. Finished jobs are left alone. One job gets one CancelJob / TerminateJob call,
whose error is the command's; several go through ``cancel_jobs`` / ``terminate_jobs`` (calls of
up to 50 ids, one call per job where the endpoint lacks them), and each job refused is reported
on its own line (``action`` ``failed`` with ``--json``), exit code 1.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer

from aws_batch_async import BatchError, BatchService, JobDetail

from .._errors import EXIT_ERROR, PROG, error_message, print_error, run_async
from .._jobs import describe_all
from .._options import CommonOptions, JobIds, shared_options
from .._output import Output

__all__ = ["cancel", "terminate"]

Reason = Annotated[
    str | None,
    typer.Option(
        "--reason",
        "-r",
        metavar="TEXT",
        help="Why; shown as the job's status reason.",
        show_default=False,
    ),
]


@shared_options()
def cancel(job_ids: JobIds, reason: Reason = None, *, options: CommonOptions) -> None:
    """Cancel jobs that have not started yet (AWS ignores CancelJob once a job runs).

    Several ids go in CancelJobs calls of up to 50 ids; each refusal is reported (exit 1).

    Example: aws-batch-async cancel 0c7e... --reason "wrong input"
    """
    run_async(_stop(options, job_ids, action="cancel", reason=reason))


@shared_options()
def terminate(job_ids: JobIds, reason: Reason = None, *, options: CommonOptions) -> None:
    """Terminate jobs: running ones are stopped, waiting ones cancelled.

    Several ids go in TerminateJobs calls of up to 50 ids; each refusal is reported (exit 1).

    Example: aws-batch-async terminate 0c7e... --reason "taking too long"
    """
    run_async(_stop(options, job_ids, action="terminate", reason=reason))


async def _stop(
    options: CommonOptions,
    job_ids: list[str],
    *,
    action: Literal["cancel", "terminate"],
    reason: str | None,
) -> int:
    out = options.out
    why = reason or f"{action} requested with {PROG}"
    results: list[dict[str, Any]] = []
    failed: dict[str, BatchError] = {}
    async with BatchService(options.config()) as batch:
        jobs = await describe_all(batch, job_ids)
        results = [_plan(out, job, action) for job in jobs]
        todo = [item["job_id"] for item in results if item["action"] == action]
        if len(jobs) == 1 and todo:  # one job: one call, its error is the command's
            stop_one = batch.cancel_job if action == "cancel" else batch.terminate_job
            await stop_one(todo[0], why)
        elif todo:  # CancelJobs / TerminateJobs of up to 50 ids, one call per job as fallback
            stop_many = batch.cancel_jobs if action == "cancel" else batch.terminate_jobs
            failed = (await stop_many(todo, why)).failed
    for item in results:
        if item["job_id"] in failed:
            item["action"], item["note"] = "failed", error_message(failed[item["job_id"]])
    if out.json_mode:
        out.json(results[0] if len(results) == 1 else results)
    else:
        verb = "Cancel" if action == "cancel" else "Termination"
        for item in results:
            what = f"[bold]{item['job_name']}[/] {item['job_id']}"
            if item["action"] == "none":
                out.out.print(f"Nothing done for {what}: {item['note']}")
            elif item["action"] != "failed":
                out.out.print(f"{verb} requested for {what} (was {item['previous_status']})")
    for item in results:
        if item["action"] == "failed":
            print_error(f"{action} of job {item['job_id']} ({item['job_name']}): {item['note']}")
    return EXIT_ERROR if failed else 0


def _plan(out: Output, job: JobDetail, action: Literal["cancel", "terminate"]) -> dict[str, Any]:
    """What to do to ``job``: ``action``, or ``none`` with a note saying why not.

    Nothing is done to a finished job, nor, for ``cancel``, to a started one: AWS ignores
    CancelJob once a job runs, and a warning says so.
    """
    done: str = action
    note: str | None = None
    if job.is_terminal:
        done, note = "none", f"already {job.status.value}"
    elif action == "cancel" and job.status.has_started:
        done, note = "none", f"{job.status.value}: cancel does not stop a started job"
        out.warn(
            f"job {job.job_id} is {job.status.value}: AWS Batch ignores CancelJob once a "
            f"job has started; use `{PROG} terminate {job.job_id}`"
        )
    return {
        "job_id": job.job_id,
        "job_name": job.job_name,
        "previous_status": job.status.value,
        "action": done,
        "note": note,
    }
