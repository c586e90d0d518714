"""``aws-batch-async logs``: print a job's CloudWatch log, every attempt in order.

Plain lines go straight to stdout (no markup, no wrapping), so the output is the job's own.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from aws_batch_async import BatchService

from .._errors import PROG, CLIError, run_async
from .._jobs import aclose
from .._options import CommonOptions, shared_options

__all__ = ["logs"]


@shared_options()
def logs(
    job_id: Annotated[str, typer.Argument(metavar="JOB_ID", show_default=False)],
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the job finishes.")
    ] = False,
    attempt: Annotated[
        int | None, typer.Option("--attempt", metavar="N", min=0, help="Only attempt N (0-based).")
    ] = None,
    timestamps: Annotated[
        bool, typer.Option("--timestamps", "-t", help="Prefix each line with its time.")
    ] = False,
    container: Annotated[
        str | None,
        typer.Option(
            "--container",
            metavar="NAME",
            help="Only this container of an ECS-properties job (default: every container).",
        ),
    ] = None,
    node: Annotated[
        int | None,
        typer.Option(
            "--node",
            metavar="N",
            min=0,
            help="This node of a multi-node job (default: the main node).",
        ),
    ] = None,
    *,
    options: CommonOptions,
) -> None:
    """Print a job's log (CloudWatch Logs), every attempt in order.

    With --json: an array of events; with --json --follow: one event per line (JSON Lines).

    Example: aws-batch-async logs 0c7e... -f
    """
    run_async(
        _logs(
            options,
            job_id,
            follow=follow,
            attempt=attempt,
            timestamps=timestamps,
            container=container,
            node=node,
        )
    )


async def _logs(
    options: CommonOptions,
    job_id: str,
    *,
    follow: bool,
    attempt: int | None,
    timestamps: bool,
    container: str | None = None,
    node: int | None = None,
) -> int:
    out = options.out
    collected: list[Any] = []
    count = 0
    async with BatchService(options.config()) as batch:
        job = await batch.get_job_status(job_id)
        props = job.array_properties
        if job.is_array_parent and props is not None and props.size:
            raise CLIError(
                f"job {job_id} is an array job: its children hold the logs, e.g. "
                f"`{PROG} logs {job_id}:0` (children 0..{props.size - 1})"
            )
        events = batch.get_logs(
            job_id, attempt=attempt, follow=follow, container=container, node=node
        )
        try:
            async for event in events:
                count += 1
                if out.json_mode and follow:
                    out.json_line(event)
                elif out.json_mode:
                    collected.append(event)
                else:
                    stamp = ""
                    if timestamps:
                        stamp = event.timestamp.astimezone().isoformat(timespec="milliseconds")
                        stamp += " "
                    prefix = f"[{event.container}] " if event.container and not container else ""
                    sys.stdout.write(f"{stamp}{prefix}{event.message}\n")
                    if follow:
                        sys.stdout.flush()
        finally:
            await aclose(events)
    if out.json_mode and not follow:
        out.json(collected)
    if count == 0 and not out.json_mode:
        why = "" if job.status.has_started else f" (it is {job.status.value}: not started yet)"
        out.err.print(f"No log events for job {job_id}{why}.")
    return 0
