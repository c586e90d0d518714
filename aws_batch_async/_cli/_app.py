"""The typer application: one function per command, and the error handling around them.

Every command that talks to AWS Batch takes the connection flags (``--region``, ``--profile``,
``--endpoint-url``, ``--job-queue``, ``--job-definition``), ``--json`` and ``--debug``; the
flags win over the environment (``AWS_BATCH_JOB_QUEUE``, ``AWS_BATCH_JOB_DEFINITION``,
``AWS_BATCH_ENDPOINT_URL``, ``AWS_REGION``), and botocore resolves whatever neither sets.

:func:`run` turns every failure into one line on stderr and an exit code (see ``_errors.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.text import Text

from .. import __version__
from .._config import BatchConfig, PollPolicy
from .._errors import JobNotFoundError
from .._models import JobDependency, JobDetail, JobRequest, JobStatus, JobSummary
from .._service import BatchService
from ._errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    PROG,
    CLIError,
    print_error,
    report,
)
from ._local import LocalMode, require_local_extra, serve_local
from ._output import Output, job_table, jobs_table, plural
from ._progress import watch_jobs

__all__ = ["app", "run"]

#: How the command line polls while waiting: quicker than the library's 30 s ceiling, since a
#: person is watching; still coalesced into DescribeJobs calls of up to 100 ids.
CLI_POLL = PollPolicy(initial_interval=1.0, max_interval=10.0)

app = typer.Typer(
    name=PROG,
    help=(
        "Submit, watch and inspect AWS Batch jobs. Waiting is coalesced into DescribeJobs "
        "calls of up to 100 ids.\n\nNo AWS account? Try: aws-batch-async demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# ---------------------------------------------------------------------------------------------
# Shared options

_CONNECTION = "Connection"
_OUTPUT = "Output"

Region = Annotated[
    str | None,
    typer.Option(
        "--region",
        metavar="REGION",
        help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's).",
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
Profile = Annotated[
    str | None,
    typer.Option(
        "--profile",
        metavar="NAME",
        help="Named profile of the AWS config files (default: AWS_PROFILE, else default).",
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
EndpointUrl = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        envvar="AWS_BATCH_ENDPOINT_URL",
        metavar="URL",
        help="Batch endpoint, e.g. a LocalBatch's (see `aws-batch-async local`).",
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
JobQueue = Annotated[
    str | None,
    typer.Option(
        "--job-queue",
        envvar="AWS_BATCH_JOB_QUEUE",
        metavar="QUEUE",
        help="Job queue name or ARN.",
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
JobDefinition = Annotated[
    str | None,
    typer.Option(
        "--job-definition",
        envvar="AWS_BATCH_JOB_DEFINITION",
        metavar="DEFINITION",
        help="Job definition: name, name:revision or ARN.",
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
Json = Annotated[
    bool,
    typer.Option("--json", help="Print JSON on stdout and nothing else.", rich_help_panel=_OUTPUT),
]
Debug = Annotated[
    bool,
    typer.Option(
        "--debug", help="Log API calls; show tracebacks on errors.", rich_help_panel=_OUTPUT
    ),
]
JobIds = Annotated[list[str], typer.Argument(metavar="JOB_ID...", show_default=False)]


@dataclass(frozen=True)
class Connection:
    """The connection flags of one command.

    Attributes:
        region: ``--region``.
        profile: ``--profile``.
        endpoint_url: ``--endpoint-url``.
        job_queue: ``--job-queue``.
        job_definition: ``--job-definition``.
    """

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    job_queue: str | None = None
    job_definition: str | None = None

    def config(self, **overrides: Any) -> BatchConfig:
        """The :class:`BatchConfig`: these flags over the environment, then ``overrides``.

        Raises:
            pydantic.ValidationError: A flag's value is invalid.
        """
        flags = {k: v for k, v in self.__dict__.items() if v is not None}
        return BatchConfig.from_env(**{"poll": CLI_POLL, **flags, **overrides})


def _version(value: bool) -> None:
    if value:
        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Submit, watch and inspect AWS Batch jobs."""


# ---------------------------------------------------------------------------------------------
# submit


@app.command(context_settings={"allow_interspersed_args": False})
def submit(
    command: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="-- COMMAND",
            help="The command to run (default: the job definition's). Put it after `--`.",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", "-n", metavar="NAME", help="Job name (default: job-<unique suffix>)."
        ),
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env",
            "-e",
            metavar="KEY=VALUE",
            help="Environment variable (repeatable); KEY alone copies it from this shell.",
        ),
    ] = None,
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
    timeout: Annotated[
        int | None,
        typer.Option("--timeout", metavar="SECONDS", help="Attempt duration limit (>= 60)."),
    ] = None,
    retries: Annotated[
        int | None, typer.Option("--retries", metavar="N", help="Job attempts, 1..10.")
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", metavar="KEY=VALUE", help="Tag (repeatable)."),
    ] = None,
    vcpus: Annotated[float | None, typer.Option("--vcpus", metavar="N", help="vCPUs.")] = None,
    memory: Annotated[
        int | None, typer.Option("--memory", metavar="MIB", help="Memory in MiB.")
    ] = None,
    gpus: Annotated[int | None, typer.Option("--gpus", metavar="N", help="GPUs.")] = None,
    wait: Annotated[
        bool, typer.Option("--wait", "-w", help="Wait for the job; exit 0 only if it succeeds.")
    ] = False,
    wait_timeout: Annotated[
        float | None,
        typer.Option("--wait-timeout", metavar="SECONDS", help="Give up waiting after this long."),
    ] = None,
    json_: Json = False,
    debug: Debug = False,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    job_queue: JobQueue = None,
    job_definition: JobDefinition = None,
) -> None:
    """Submit a job; put its command after `--`.

    Example: aws-batch-async submit --name hello -e WHO=world --wait -- sh -c 'echo hello $WHO'
    """
    conn = Connection(region, profile, endpoint_url, job_queue, job_definition)
    request = JobRequest(
        job_name=name,
        command=command or None,
        env_vars=_env_vars(env) or None,
        parameters=_pairs(parameter, "--parameter") or None,
        array_size=array_size,
        depends_on=[_dependency(d) for d in depends_on] if depends_on else None,
        timeout_seconds=timeout,
        retry_attempts=retries,
        tags=_pairs(tag, "--tag") or None,
        vcpus=vcpus,
        memory_mib=memory,
        gpus=gpus,
    )
    out = Output(json_mode=json_)
    _run(_submit(conn, request, out, wait=wait, wait_timeout=wait_timeout), out, waiting=wait)


async def _submit(
    conn: Connection, request: JobRequest, out: Output, *, wait: bool, wait_timeout: float | None
) -> int:
    config = _require(conn.config(), queue=True, definition=True)
    async with BatchService(config) as batch:
        response = await batch.submit_job(request)
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
        return _report(out, result.jobs, result.timed_out, ids=[response.job_id])


# ---------------------------------------------------------------------------------------------
# status, ls


@app.command()
def status(
    job_ids: JobIds,
    json_: Json = False,
    debug: Debug = False,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    job_queue: JobQueue = None,
    job_definition: JobDefinition = None,
) -> None:
    """Show jobs: details of one, a table of several.

    Example: aws-batch-async status 0c7e... 4f1a...
    """
    conn = Connection(region, profile, endpoint_url, job_queue, job_definition)
    out = Output(json_mode=json_)
    _run(_status(conn, job_ids, out), out)


async def _status(conn: Connection, job_ids: list[str], out: Output) -> int:
    async with BatchService(conn.config()) as batch:
        jobs = await _describe_all(batch, job_ids)
    if out.json_mode:
        out.json(jobs[0] if len(jobs) == 1 else jobs)
    elif len(jobs) == 1:
        out.out.print(job_table(jobs[0]))
    else:
        out.out.print(jobs_table(jobs, width=out.out.width))
    return 0


@app.command("ls")
def list_(
    status: Annotated[
        JobStatus | None,
        typer.Option("--status", "-s", case_sensitive=False, help="Only jobs in this status."),
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
    json_: Json = False,
    debug: Debug = False,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    job_queue: JobQueue = None,
    job_definition: JobDefinition = None,
) -> None:
    """List a queue's jobs (every status unless --status), newest first.

    Example: aws-batch-async ls --status FAILED --name nightly-
    """
    conn = Connection(region, profile, endpoint_url, job_queue, job_definition)
    out = Output(json_mode=json_)
    _run(_ls(conn, out, status=status, name=name, array_job_id=array_job_id, limit=limit), out)


async def _ls(
    conn: Connection,
    out: Output,
    *,
    status: JobStatus | None,
    name: str | None,
    array_job_id: str | None,
    limit: int | None,
) -> int:
    config = _require(conn.config(), queue=array_job_id is None)
    pattern = None if name is None else (name if name.endswith("*") else f"{name}*")
    jobs: list[JobSummary] = []
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
                if limit is not None and len(jobs) >= limit:
                    break
        finally:
            await _aclose(listing)
    if out.json_mode:
        out.json(jobs)
    elif not jobs:
        out.err.print("No jobs.")
    else:
        out.out.print(jobs_table(jobs, width=out.out.width))
    return 0


# ---------------------------------------------------------------------------------------------
# wait


@app.command()
def wait(
    job_ids: JobIds,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", metavar="SECONDS", help="Give up after this long (exit 4)."),
    ] = None,
    json_: Json = False,
    debug: Debug = False,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    job_queue: JobQueue = None,
    job_definition: JobDefinition = None,
) -> None:
    """Wait for jobs with a live display; exit 0 only if all succeeded (3: failed, 4: timeout).

    Ctrl-C stops the waiting, never the jobs.

    Example: aws-batch-async wait 0c7e... 4f1a... --timeout 600
    """
    conn = Connection(region, profile, endpoint_url, job_queue, job_definition)
    out = Output(json_mode=json_)
    _run(_wait(conn, job_ids, out, timeout=timeout), out, waiting=True)


async def _wait(conn: Connection, job_ids: list[str], out: Output, *, timeout: float | None) -> int:
    ids = list(dict.fromkeys(job_ids))
    async with BatchService(conn.config()) as batch:
        known = await _describe_all(batch, ids)
        result = await watch_jobs(
            batch, ids, out.progress_console, timeout=timeout, known=known, transient=True
        )
    return _report(out, result.jobs, result.timed_out, ids=ids)


def _report(
    out: Output, jobs: dict[str, JobDetail], timed_out: set[str], *, ids: Sequence[str]
) -> int:
    """Print the outcome of a wait; return the exit code (0, EXIT_FAILED or EXIT_TIMEOUT)."""
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


# ---------------------------------------------------------------------------------------------
# cancel, terminate

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


@app.command()
def cancel(
    job_ids: JobIds,
    reason: Reason = None,
    json_: Json = False,
    debug: Debug = False,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    job_queue: JobQueue = None,
    job_definition: JobDefinition = None,
) -> None:
    """Cancel jobs that have not started yet (AWS ignores CancelJob once a job runs).

    Example: aws-batch-async cancel 0c7e... --reason "wrong input"
    """
    conn = Connection(region, profile, endpoint_url, job_queue, job_definition)
    out = Output(json_mode=json_)
    _run(_stop(conn, job_ids, out, action="cancel", reason=reason), out)


@app.command()
def terminate(
    job_ids: JobIds,
    reason: Reason = None,
    json_: Json = False,
    debug: Debug = False,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    job_queue: JobQueue = None,
    job_definition: JobDefinition = None,
) -> None:
    """Terminate jobs: running ones are stopped, waiting ones cancelled.

    Example: aws-batch-async terminate 0c7e... --reason "taking too long"
    """
    conn = Connection(region, profile, endpoint_url, job_queue, job_definition)
    out = Output(json_mode=json_)
    _run(_stop(conn, job_ids, out, action="terminate", reason=reason), out)


async def _stop(
    conn: Connection, job_ids: list[str], out: Output, *, action: str, reason: str | None
) -> int:
    why = reason or f"{action} requested with {PROG}"
    results: list[dict[str, Any]] = []
    async with BatchService(conn.config()) as batch:
        jobs = await _describe_all(batch, list(dict.fromkeys(job_ids)))
        for job in jobs:
            note: str | None = None
            done = action
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


# ---------------------------------------------------------------------------------------------
# logs


@app.command()
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
    json_: Json = False,
    debug: Debug = False,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    job_queue: JobQueue = None,
    job_definition: JobDefinition = None,
) -> None:
    """Print a job's log (CloudWatch Logs), every attempt in order.

    With --json: an array of events; with --json --follow: one event per line (JSON Lines).

    Example: aws-batch-async logs 0c7e... -f
    """
    conn = Connection(region, profile, endpoint_url, job_queue, job_definition)
    out = Output(json_mode=json_)
    _run(_logs(conn, job_id, out, follow=follow, attempt=attempt, timestamps=timestamps), out)


async def _logs(
    conn: Connection,
    job_id: str,
    out: Output,
    *,
    follow: bool,
    attempt: int | None,
    timestamps: bool,
) -> int:
    collected: list[Any] = []
    count = 0
    async with BatchService(conn.config()) as batch:
        job = await batch.get_job_status(job_id)
        props = job.array_properties
        if job.is_array_parent and props is not None and props.size:
            raise CLIError(
                f"job {job_id} is an array job: its children hold the logs, e.g. "
                f"`{PROG} logs {job_id}:0` (children 0..{props.size - 1})"
            )
        events = batch.get_logs(job_id, attempt=attempt, follow=follow)
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
                    sys.stdout.write(f"{stamp}{event.message}\n")
                    if follow:
                        sys.stdout.flush()
        finally:
            await _aclose(events)
    if out.json_mode and not follow:
        out.json(collected)
    if count == 0 and not out.json_mode:
        why = "" if job.status.has_started else f" (it is {job.status.value}: not started yet)"
        out.err.print(f"No log events for job {job_id}{why}.")
    return 0


# ---------------------------------------------------------------------------------------------
# local, demo


@app.command()
def local(
    mode: Annotated[
        LocalMode,
        typer.Option(
            "--mode",
            help="run: commands run as local processes; lifecycle: statuses step over time; "
            "instant: jobs finish at submit.",
        ),
    ] = LocalMode.run,
    json_: Json = False,
    debug: Debug = False,
) -> None:
    """Run a local AWS Batch (LocalBatch) until Ctrl-C; print how to use it.

    Example: aws-batch-async local   (then, in another terminal, the printed exports)
    """
    out = Output(json_mode=json_)
    with contextlib.suppress(KeyboardInterrupt):
        serve_local(mode, out)
    out.err.print("LocalBatch stopped.")


@app.command()
def demo(
    jobs: Annotated[
        int,
        typer.Option("--jobs", "-j", metavar="N", min=1, max=200, help="How many jobs to fan out."),
    ] = 20,
    debug: Debug = False,
) -> None:
    """Fan out jobs on a LocalBatch and watch them finish: no AWS account needed.

    Starts a local AWS Batch whose jobs run real commands (some fail on purpose), plus an
    array job; shows live progress, a summary and the logs of a failed job.
    """
    from ._demo import run_demo

    require_local_extra()
    out = Output()
    _run(run_demo(out, jobs), out)


# ---------------------------------------------------------------------------------------------
# Running a command


def run(argv: list[str]) -> int:
    """Run the command line on ``argv``; return the exit code. Never lets a traceback out.

    Args:
        argv: The arguments, without the program name.

    Returns:
        The exit code.
    """
    options = argv[: argv.index("--")] if "--" in argv else argv
    debug = "--debug" in options
    _configure_logging(debug)
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name=PROG, standalone_mode=False)
    except typer.Abort:
        print_error("aborted")
        return EXIT_INTERRUPTED
    except Exception as exc:
        return report(exc, debug=debug)
    return result if isinstance(result, int) else 0


def _configure_logging(debug: bool) -> None:
    """Send the library's log to stderr: everything with --debug, else errors only.

    Without --debug the library's warnings (such as "retrying DescribeJobs") stay quiet, so a
    failure is the one line that :func:`run` prints.
    """
    logger = logging.getLogger("aws_batch_async")
    if not any(getattr(h, "_aws_batch_async_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_LowercaseLevelFormatter(f"{PROG}: %(levelname)s: %(message)s"))
        handler._aws_batch_async_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.ERROR)
    logger.propagate = False


class _LowercaseLevelFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return (
            super()
            .format(record)
            .replace(f": {record.levelname}: ", f": {record.levelname.lower()}: ", 1)
        )


def _run(coro: Coroutine[Any, Any, int], out: Output, *, waiting: bool = False) -> None:
    """Run a command's coroutine; turn its result into the exit code."""
    try:
        code = asyncio.run(coro)
    except KeyboardInterrupt:
        note = ": stopped waiting; the jobs keep running in AWS Batch" if waiting else ""
        print_error(f"interrupted{note}")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if code:
        raise typer.Exit(code)


def _require(config: BatchConfig, *, queue: bool = False, definition: bool = False) -> BatchConfig:
    if queue and not config.job_queue:
        raise CLIError("no job queue: use --job-queue or set AWS_BATCH_JOB_QUEUE")
    if definition and not config.job_definition:
        raise CLIError("no job definition: use --job-definition or set AWS_BATCH_JOB_DEFINITION")
    return config


async def _describe_all(batch: BatchService, job_ids: list[str]) -> list[JobDetail]:
    """Describe ``job_ids`` (in their order); a clear error if any is unknown."""
    ids = list(dict.fromkeys(job_ids))
    jobs = await batch.describe_jobs(ids)
    found = {job.job_id for job in jobs}
    missing = [i for i in ids if i not in found]
    if len(missing) == 1:
        raise JobNotFoundError(missing[0])
    if missing:
        raise JobNotFoundError(missing[0], f"jobs not found: {', '.join(missing)}")
    return jobs


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    """Close an async generator we stopped iterating early (its ``finally`` blocks run now)."""
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


def _pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for value in values or ():
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise CLIError(f"{flag} takes KEY=VALUE, not {value!r}", EXIT_USAGE)
        result[key] = val
    return result


def _env_vars(values: list[str] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for value in values or ():
        key, sep, val = value.partition("=")
        if not key:
            raise CLIError(f"--env takes KEY=VALUE or KEY, not {value!r}", EXIT_USAGE)
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
