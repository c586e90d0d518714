"""``aws-batch-async submit``: submit one job, and wait for it with ``--wait``.

The flags become a :class:`~aws_batch_async.JobRequest`, so every value is checked against
AWS Batch's limits before anything is sent. No error message quotes an ``--env`` value (nor a
``--parameter`` value): they may be secrets.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from pydantic import ValidationError

from aws_batch_async import BatchService, JobDependency, JobRequest

from .._errors import EXIT_USAGE, PROG, CLIError, run_async
from .._options import (
    AttemptTimeout,
    Command,
    CommonOptions,
    EnvVars,
    JobName,
    MemoryMib,
    Tags,
    Vcpus,
    shared_options,
)
from .._progress import watch_jobs
from .wait import report_outcome

__all__ = ["submit"]


@shared_options()
def submit(
    command: Command = None,
    name: JobName = None,
    env: EnvVars = None,
    parameter: Annotated[
        list[str] | None,
        typer.Option(
            "--parameter", "-p", metavar="KEY=VALUE", help="Ref:: parameter (repeatable)."
        ),
    ] = None,
    array_size: Annotated[
        int | None,
        typer.Option(
            "--array-size", metavar="N", help="Make an array job of N (2..10000) children."
        ),
    ] = None,
    depends_on: Annotated[
        list[str] | None,
        typer.Option(
            "--depends-on",
            metavar="JOB_ID[=TYPE]",
            help="Run after this job (repeatable); TYPE N_TO_N or SEQUENTIAL for array jobs.",
        ),
    ] = None,
    timeout: AttemptTimeout = None,
    retries: Annotated[
        int | None, typer.Option("--retries", metavar="N", help="Job attempts, 1..10.")
    ] = None,
    tag: Tags = None,
    vcpus: Vcpus = None,
    memory: MemoryMib = None,
    gpus: Annotated[int | None, typer.Option("--gpus", metavar="N", help="GPUs.")] = None,
    nodes: Annotated[
        int | None,
        typer.Option(
            "--nodes",
            metavar="N",
            min=1,
            help="Nodes of a multi-node parallel job (the job definition must be multinode).",
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", "-w", help="Wait for the job; exit 0 only if it succeeds.")
    ] = False,
    wait_timeout: Annotated[
        float | None,
        typer.Option("--wait-timeout", metavar="SECONDS", help="Give up waiting after this long."),
    ] = None,
    *,
    options: CommonOptions,
) -> None:
    """Submit a job; put its command after `--`.

    Example: aws-batch-async submit --name hello -e WHO=world --wait -- sh -c 'echo hello $WHO'
    """
    request = JobRequest(
        job_name=name,
        command=command or None,
        env_vars=_env_vars(env) or None,
        parameters=_pairs(parameter, "--parameter", secret=True) or None,
        array_size=array_size,
        depends_on=[_dependency(d) for d in depends_on] if depends_on else None,
        timeout_seconds=timeout,
        retry_attempts=retries,
        tags=_pairs(tag, "--tag") or None,
        vcpus=vcpus,
        memory_mib=memory,
        gpus=gpus,
        num_nodes=nodes,
    )
    run_async(_submit(options, request, wait=wait, wait_timeout=wait_timeout), waiting=wait)


async def _submit(
    options: CommonOptions, request: JobRequest, *, wait: bool, wait_timeout: float | None
) -> int:
    out = options.out
    async with BatchService(options.config(queue=True, definition=True)) as batch:
        try:
            response = await batch.submit_job(request)
        except ValueError as exc:
            error = _nodes_error(exc)
            if error is None:
                raise
            raise error from exc
        if not wait:
            if out.json_mode:
                out.json(response)
            else:
                out.out.print(f"Submitted job [bold]{response.job_name}[/] {response.job_id}")
                out.hint(f"Follow it with: {PROG} wait {response.job_id}")
            return 0
        if not out.json_mode:
            out.out.print(f"Submitted job [bold]{response.job_name}[/] {response.job_id}")
        result = await watch_jobs(
            batch, [response.job_id], out.progress_console, timeout=wait_timeout, transient=True
        )
        return report_outcome(out, result.jobs, result.timed_out, ids=[response.job_id])


def _nodes_error(exc: ValueError) -> CLIError | None:
    """``--nodes`` for a job definition that is not multi-node: a usage error naming the flag."""
    message = str(exc)
    if isinstance(exc, ValidationError) or "num_nodes applies to" not in message:
        return None
    return CLIError("--nodes" + message.partition("num_nodes")[2], EXIT_USAGE)


def _pairs(values: list[str] | None, flag: str, *, secret: bool = False) -> dict[str, str]:
    """``KEY=VALUE`` flags as a dict; with ``secret``, errors never quote what was given."""
    result: dict[str, str] = {}
    for value in values or ():
        key, sep, val = value.partition("=")
        if not sep or not key:
            given = "" if secret else f", not {value!r}"
            raise CLIError(f"{flag} takes KEY=VALUE{given}", EXIT_USAGE)
        result[key] = val
    return result


def _env_vars(values: list[str] | None) -> dict[str, str]:
    """``--env`` flags as a dict: ``KEY=VALUE``, or ``KEY`` for this shell's value of KEY."""
    result: dict[str, str] = {}
    for value in values or ():
        key, sep, val = value.partition("=")
        if not key:
            raise CLIError(
                "--env takes KEY=VALUE or KEY: the variable's name is missing", EXIT_USAGE
            )
        if not sep:
            if key not in os.environ:
                raise CLIError(f"--env {key}: no such variable in this environment", EXIT_USAGE)
            val = os.environ[key]
        result[key] = val
    return result


def _dependency(value: str) -> JobDependency:
    job_id, sep, kind = value.partition("=")
    if sep and kind.upper() not in ("N_TO_N", "SEQUENTIAL"):
        raise CLIError(f"--depends-on type must be N_TO_N or SEQUENTIAL, not {kind!r}", EXIT_USAGE)
    return JobDependency(job_id=job_id, type=kind.upper() if sep else None)
