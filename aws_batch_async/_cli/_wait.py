"""``aws-batch-async wait``: follow jobs with a live display; the exit code tells the outcome.

:func:`report_outcome` prints the end of any wait, for ``wait`` and ``submit --wait`` alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.text import Text

from aws_batch_async import BatchService, JobDetail, JobStatus

from ._errors import EXIT_FAILED, EXIT_TIMEOUT, PROG, run_async
from ._jobs import describe_all
from ._options import CommonOptions, JobIds, shared_options
from ._output import Output, job_table, jobs_table, plural
from ._progress import watch_jobs

__all__ = ["report_outcome", "wait"]


@shared_options()
def wait(
    job_ids: JobIds,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", metavar="SECONDS", help="Give up after this long (exit 4)."),
    ] = None,
    *,
    options: CommonOptions,
) -> None:
    """Wait for jobs with a live display; exit 0 only if all succeeded (3: failed, 4: timeout).

    Ctrl-C stops the waiting, never the jobs.

    Example: aws-batch-async wait 0c7e... 4f1a... --timeout 600
    """
    run_async(_wait(options, job_ids, timeout=timeout), waiting=True)


async def _wait(options: CommonOptions, job_ids: list[str], *, timeout: float | None) -> int:
    out = options.out
    ids = list(dict.fromkeys(job_ids))
    async with BatchService(options.config()) as batch:
        known = await describe_all(batch, ids)
        result = await watch_jobs(
            batch, ids, out.progress_console, timeout=timeout, known=known, transient=True
        )
    return report_outcome(out, result.jobs, result.timed_out, ids=ids)


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
