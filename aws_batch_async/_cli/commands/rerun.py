"""``aws-batch-async rerun-failed``: resubmit only the FAILED children of an array job.

The new array's children learn the index they stand for from ``aws_batch_async.array_index()``
(see ``docs/arrays-and-definitions.md``). With ``--json``: ``{"array_job_id", "indices",
"jobs": [{"job_id", "job_name"}...]}``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from aws_batch_async import BatchService

from .._errors import run_async
from .._options import CommonOptions, shared_options
from .._output import plural

__all__ = ["rerun_failed"]


@shared_options()
def rerun_failed(
    array_job_id: Annotated[str, typer.Argument(metavar="ARRAY_ID", show_default=False)],
    *,
    options: CommonOptions,
) -> None:
    """Resubmit the FAILED children of an array job, as a new array job.

    Example: aws-batch-async rerun-failed 0c7e...
    """
    run_async(_rerun(options, array_job_id))


async def _rerun(options: CommonOptions, array_job_id: str) -> int:
    out = options.out
    async with BatchService(options.config()) as batch:
        rerun = await batch.rerun_failed(array_job_id)
    jobs = [{"job_id": p.job_id, "job_name": p.job_name} for p in rerun.parts]
    if out.json_mode:
        out.json({"array_job_id": array_job_id, "indices": rerun.indices, "jobs": jobs})
        return 0
    indices = ", ".join(str(i) for i in rerun.indices)
    count = len(rerun.indices)
    noun = "failed index" if count == 1 else "failed indices"
    out.out.print(f"Rerunning {count} {noun} ({indices}) as {plural(len(jobs), 'job')}:")
    for job in jobs:
        out.out.print(f"  [bold]{job['job_name']}[/] {job['job_id']}")
    return 0
