"""``aws-batch-async run``: run a job to the end, its log lines live, its exit code as ours.

``BatchService.run_job`` does the work: Ctrl-C (or ``--wait-timeout``) terminates the job
unless ``--detach``. The job's lines go to stdout as they are written; what the command says
itself goes to stderr, so ``run ... > out.txt`` captures the job's output only.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from aws_batch_async import (
    BatchService,
    JobFailedError,
    JobRequest,
    JobResponse,
    JobStatus,
    LogEvent,
    WaitTimeoutError,
)

from .._errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TIMEOUT, print_error
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
from .._output import job_json
from .submit import _env_vars, _pairs

__all__ = ["run"]

#: The exit codes a process can have; others (and a job without one) exit with EXIT_FAILED.
_MAX_EXIT = 255


@shared_options()
def run(
    command: Command = None,
    name: JobName = None,
    env: EnvVars = None,
    tag: Tags = None,
    vcpus: Vcpus = None,
    memory: MemoryMib = None,
    timeout: AttemptTimeout = None,
    wait_timeout: Annotated[
        float | None,
        typer.Option(
            "--wait-timeout",
            metavar="SECONDS",
            help="Terminate the job if it has not finished after this long (exit 4).",
        ),
    ] = None,
    detach: Annotated[
        bool,
        typer.Option("--detach", help="On Ctrl-C or --wait-timeout, leave the job running."),
    ] = False,
    *,
    options: CommonOptions,
) -> None:
    """Run a job to the end: submit, print its log live, exit with its exit code.

    Ctrl-C terminates the job (unless --detach). The job's lines go to stdout; the
    command's own messages to stderr.

    Example: aws-batch-async run -e WHO=world -- sh -c 'echo hello $WHO; exit 3'
    """
    request = JobRequest(
        job_name=name,
        command=command or None,
        env_vars=_env_vars(env) or None,
        tags=_pairs(tag, "--tag") or None,
        vcpus=vcpus,
        memory_mib=memory,
        timeout_seconds=timeout,
    )
    submitted: list[JobResponse] = []
    try:
        code = asyncio.run(_run(options, request, detach, wait_timeout, submitted))
    except KeyboardInterrupt:
        job = f"job {submitted[-1].job_id}" if submitted else "no job was submitted"
        if not submitted:
            print_error(f"interrupted: {job}")
        elif detach:
            print_error(f"interrupted: {job} keeps running in AWS Batch (--detach)")
        else:
            print_error(f"interrupted: {job} terminated")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if code:
        raise typer.Exit(code)


async def _run(
    options: CommonOptions,
    request: JobRequest,
    detach: bool,
    wait_timeout: float | None,
    submitted: list[JobResponse],
) -> int:
    out = options.out

    def on_submitted(response: JobResponse) -> None:
        submitted.append(response)
        if not out.json_mode:
            out.err.print(f"Submitted job [bold]{response.job_name}[/] {response.job_id}")

    def on_line(event: LogEvent) -> None:
        if out.json_mode:
            return
        sys.stdout.write(f"{event.message}\n")
        sys.stdout.flush()

    async with BatchService(options.config(queue=True, definition=True)) as batch:
        try:
            job = await batch.run_job(
                request,
                timeout=wait_timeout,
                on_cancel="detach" if detach else "terminate",
                on_submitted=on_submitted,
                logs=on_line,
            )
        except JobFailedError as exc:
            job = exc.job
        except WaitTimeoutError as exc:
            left = "left running" if detach else "terminated"
            if out.json_mode:
                out.json(job_json(exc.job) if exc.job is not None else {"job_id": exc.job_id})
            else:
                out.err.print(f"Timed out after {wait_timeout:g}s: job {exc.job_id} {left}.")
            return EXIT_TIMEOUT
    if out.json_mode:
        out.json(job_json(job))
    else:
        code = "" if job.exit_code is None else f" (exit code {job.exit_code})"
        out.err.print(f"Job {job.job_name} {job.job_id} {job.status.value}{code}")
        if job.failure is not None:
            out.err.print(f"Failure: {job.failure}", soft_wrap=True)
    if job.status is JobStatus.SUCCEEDED:
        return 0
    if job.exit_code is not None and 0 < job.exit_code <= _MAX_EXIT:
        return job.exit_code
    return EXIT_FAILED
