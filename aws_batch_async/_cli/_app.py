"""The typer application: the commands, gathered from their modules, and :func:`run`.

Each command lives in its own module and takes the shared flags through
:func:`~._options.shared_options`; here they are only registered. :func:`run` turns every
failure into one line on stderr and an exit code (see ``_errors.py``).
"""

from __future__ import annotations

import logging
import sys
from types import SimpleNamespace
from typing import Annotated, Any

import typer

from aws_batch_async import __version__

from ._errors import EXIT_INTERRUPTED, PROG, print_error, report
from .commands.demo import demo
from .commands.local import local
from .commands.logs import logs
from .commands.ops import definitions, explain, queues
from .commands.rerun import rerun_failed
from .commands.run import run as run_command
from .commands.service_jobs import service_jobs_app
from .commands.status import list_jobs, status
from .commands.stop import cancel, terminate
from .commands.submit import submit
from .commands.wait import wait

__all__ = ["app", "run"]

app = typer.Typer(
    name=PROG,
    help=(
        "Submit, watch and inspect AWS Batch jobs. Waiting is coalesced into DescribeJobs "
        "calls of up to 100 ids.\n\nNo AWS account? Try: aws-batch-async demo\n\n"
        "A job stuck in RUNNABLE? Ask: aws-batch-async explain JOB_ID"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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


# `submit` stops parsing options at its command's first word: `submit -- sh -c ...`.
app.command(context_settings={"allow_interspersed_args": False})(submit)
app.command()(status)
# `run` too: `run -- sh -c ...` (a job's whole life: submit, logs, exit code, Ctrl-C stops it).
app.command("run", context_settings={"allow_interspersed_args": False})(run_command)
app.command("ls")(list_jobs)
app.command()(wait)
app.command()(cancel)
app.command()(terminate)
app.command()(explain)
# `why` is what people type too (and what older docs said): the same command, under its name.
app.command("why")(explain)
app.command()(queues)
app.command()(definitions)
app.command()(logs)
app.command("rerun-failed")(rerun_failed)
app.command()(local)
app.command()(demo)
app.add_typer(service_jobs_app, name="service-jobs")


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
    _tidy_help(command)
    try:
        result = command.main(args=argv, prog_name=PROG, standalone_mode=False)
    except typer.Abort:
        print_error("aborted")
        return EXIT_INTERRUPTED
    except Exception as exc:
        return report(exc, debug=debug)
    return result if isinstance(result, int) else 0


def _tidy_help(command: Any) -> None:
    """Drop the type column where it says nothing: ``<bool>`` on flags, ``<list[str]>`` on args.

    typer shows a type beside every parameter; a flag takes no value, and an argument's
    metavar (``-- COMMAND``, ``JOB_ID...``) already says what it takes.
    """
    commands = [command, *getattr(command, "commands", {}).values()]
    names = SimpleNamespace(help_option_names=["-h", "--help"])
    for each in commands:
        help_option = each.get_help_option(names)
        for param in [*each.params, *([help_option] if help_option is not None else [])]:
            if getattr(param, "is_flag", False) and not getattr(param, "count", False):
                param.metavar = ""
            elif param.param_type_name == "argument" and param.metavar:
                param.display_type_rich = _no_type


def _no_type(ctx: Any) -> None:
    return None


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
