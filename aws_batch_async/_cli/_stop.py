"""``aws-batch-async cancel`` and ``terminate``: stop jobs, saying what was done to each.

AWS's CancelJob silently does nothing to a job that has started; ``cancel`` says so and points
to ``terminate``. Finished jobs are left alone.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer

from aws_batch_async import BatchService

from ._errors import PROG, run_async
from ._jobs import describe_all
from ._options import CommonOptions, JobIds, shared_options

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

    Example: aws-batch-async cancel 0c7e... --reason "wrong input"
    """
    run_async(_stop(options, job_ids, action="cancel", reason=reason))


@shared_options()
def terminate(job_ids: JobIds, reason: Reason = None, *, options: CommonOptions) -> None:
    """Terminate jobs: running ones are stopped, waiting ones cancelled.

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
    async with BatchService(options.config()) as batch:
        jobs = await describe_all(batch, job_ids)
        for job in jobs:
            note: str | None = None
            done: str = action
            if job.is_terminal:
                done, note = "none", f"already {job.status.value}"
            elif action == "cancel" and job.status.has_started:
                done, note = "none", f"{job.status.value}: cancel does not stop a started job"
                out.warn(
                    f"job {job.job_id} is {job.status.value}: AWS Batch ignores CancelJob once a "
                    f"job has started; use `{PROG} terminate {job.job_id}`"
                )
            elif action == "cancel":
                await batch.cancel_job(job.job_id, why)
            else:
                await batch.terminate_job(job.job_id, why)
            results.append(
                {
                    "job_id": job.job_id,
                    "job_name": job.job_name,
                    "previous_status": job.status.value,
                    "action": done,
                    "note": note,
                }
            )
    if out.json_mode:
        out.json(results[0] if len(results) == 1 else results)
    else:
        verb = "Cancel" if action == "cancel" else "Termination"
        for item in results:
            what = f"[bold]{item['job_name']}[/] {item['job_id']}"
            if item["action"] == "none":
                out.out.print(f"Nothing done for {what}: {item['note']}")
            else:
                out.out.print(f"{verb} requested for {what} (was {item['previous_status']})")
    return 0
