"""``aws-batch-async wait``: follow jobs with a live display; the exit code tells the outcome.

:func:`report_outcome` prints the end of any wait, for ``wait`` and ``submit --wait`` alike.
With ``--stuck-after``, a job still SUBMITTED, PENDING or RUNNABLE after that long ends the wait
with exit code 5 and ``explain``'s diagnosis of it (the job itself is left alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.text import Text

from aws_batch_async import BatchService, JobDetail, JobStatus, JobStuckError

from .._errors import EXIT_FAILED, EXIT_STUCK, EXIT_TIMEOUT, PROG, run_async
from .._jobs import describe_all
from .._options import CommonOptions, JobIds, shared_options
from .._output import Output, job_table, jobs_table, plural
from .._progress import watch_jobs
from .ops import diagnosis_json, diagnosis_view

__all__ = ["report_outcome", "wait"]

#: BatchConfig's limit on ``stuck_after``: 30 days.
_MAX_STUCK_AFTER = 30 * 86_400


@shared_options()
def wait(
    job_ids: JobIds,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", metavar="SECONDS", help="Give up after this long (exit 4)."),
    ] = None,
    stuck_after: Annotated[
        float | None,
        typer.Option(
            "--stuck-after",
            metavar="SECONDS",
            min=1,
            max=_MAX_STUCK_AFTER,
            help="Give up on a job not started after this long; say why (exit 5).",
        ),
    ] = None,
    *,
    options: CommonOptions,
) -> None:
    """Wait for jobs with a live display; exit 0 only if all succeeded (3: failed, 4: timeout).

    With --stuck-after, a job still SUBMITTED, PENDING or RUNNABLE after that long ends the wait
    with the reasons it has not started (exit 5). Ctrl-C stops the waiting, never the jobs.

    Example: aws-batch-async wait 0c7e... 4f1a... --timeout 600 --stuck-after 300
    """
    run_async(_wait(options, job_ids, timeout=timeout, stuck_after=stuck_after), waiting=True)


async def _wait(
    options: CommonOptions, job_ids: list[str], *, timeout: float | None, stuck_after: float | None
) -> int:
    out = options.out
    ids = list(dict.fromkeys(job_ids))
    config = options.config()
    if stuck_after is not None:  # every wait of the service (BatchService.watch) takes it
        config = config.model_copy(update={"stuck_after": stuck_after})
    async with BatchService(config) as batch:
        known = await describe_all(batch, ids)
        try:
            result = await watch_jobs(
                batch, ids, out.progress_console, timeout=timeout, known=known, transient=True
            )
        except JobStuckError as exc:
            return report_stuck(out, exc)
    return report_outcome(out, result.jobs, result.timed_out, ids=ids)


def report_stuck(out: Output, exc: JobStuckError) -> int:
    """Print why a job has not started: ``explain``'s diagnosis, and what became of the job.

    Args:
        out: Where to print.
        exc: The error of the stuck wait; its ``diagnosis`` is ``None`` if none could be made.

    Returns:
        ``EXIT_STUCK``.
    """
    diagnosis = exc.diagnosis
    if out.json_mode:
        data: dict[str, Any] = {"job_id": exc.job_id, "stuck_after": exc.stuck_after}
        if diagnosis is not None:
            data |= diagnosis_json(diagnosis)
        out.json(data)
    elif diagnosis is not None:
        out.out.print(diagnosis_view(diagnosis))
    if not out.json_mode:
        hint = f" (no diagnosis: try `{PROG} explain {exc.job_id}`)"
        note = "" if diagnosis is not None else hint
        out.err.print(
            Text(
                f"Job {exc.job_id} has not started after {exc.stuck_after:g}s{note}; it stays "
                f"queued. Stop it with: {PROG} cancel {exc.job_id}",
                style="yellow",
            ),
            soft_wrap=True,
        )
    return EXIT_STUCK


def report_outcome(
    out: Output, jobs: dict[str, JobDetail], timed_out: set[str], *, ids: Sequence[str]
) -> int:
    """Print the outcome of a wait: the job's details, or a table of several.

    Args:
        out: Where to print.
        jobs: The last state seen of each job, by id.
        timed_out: The jobs still unfinished when the wait gave up.
        ids: The jobs waited for, in the order to show them.

    Returns:
        The exit code: 0, ``EXIT_FAILED`` if a job FAILED, else ``EXIT_TIMEOUT`` on timeout.
    """
    seen = [jobs[i] for i in ids if i in jobs]
    if out.json_mode:
        data: list[Any] = [jobs.get(i, {"job_id": i, "status": None}) for i in ids]
        out.json(data[0] if len(data) == 1 else data)
    elif len(seen) == 1 and len(ids) == 1:
        out.out.print(job_table(seen[0]))
    elif seen:
        out.out.print(jobs_table(seen, width=out.out.width))
    failed = [j for j in seen if j.status is JobStatus.FAILED]
    if failed:
        out.hint(f"Logs of a failed job: {PROG} logs {failed[0].job_id}")
        return EXIT_FAILED
    if timed_out:
        if not out.json_mode:
            out.err.print(
                Text(
                    f"Timed out waiting for {plural(len(timed_out), 'job')}; they keep running.",
                    style="yellow",
                )
            )
        return EXIT_TIMEOUT
    return 0
