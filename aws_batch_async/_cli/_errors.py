"""Failures of the command line: one line on stderr and an exit code, never a traceback.

Exit codes: 0 success, 1 an error (AWS refused, unknown job, no credentials...), 2 bad usage
(unknown flag, invalid value), 3 a job waited for FAILED, 4 a wait timed out, 130 interrupted.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Mapping

from pydantic import ValidationError

from .._errors import BatchError, ConfigurationError

__all__ = [
    "EXIT_ERROR",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "FLAG_NAMES",
    "PROG",
    "CLIError",
    "error_message",
    "print_error",
    "report",
]

PROG = "aws-batch-async"
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_TIMEOUT = 4
EXIT_INTERRUPTED = 130

#: Model fields to the flags that set them, so validation errors name the flag.
FLAG_NAMES = {
    "job_name": "--name",
    "command": "COMMAND",
    "env_vars": "--env",
    "parameters": "--parameter",
    "array_size": "--array-size",
    "depends_on": "--depends-on",
    "timeout_seconds": "--timeout",
    "retry_attempts": "--retries",
    "tags": "--tag",
    "vcpus": "--vcpus",
    "memory_mib": "--memory",
    "gpus": "--gpus",
    "region": "--region",
    "profile": "--profile",
    "endpoint_url": "--endpoint-url",
    "job_queue": "--job-queue",
    "job_definition": "--job-definition",
}


class CLIError(Exception):
    """A failure to report as one line on stderr, with an exit code.

    Args:
        message: What went wrong (and what to do about it).
        exit_code: The process exit code.
    """

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def report(exc: Exception, *, debug: bool) -> int:
    """Print ``exc`` as one line on stderr (after its traceback with ``debug``).

    Args:
        exc: What a command raised.
        debug: ``--debug`` was given: print the traceback too.

    Returns:
        The exit code.
    """
    if isinstance(exc, BrokenPipeError):  # e.g. `aws-batch-async ls | head -1`
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    # typer's click (vendored by recent typer) raises ClickException subclasses for bad usage;
    # they are told apart by name so that both vendored and plain click work.
    kinds = {cls.__name__ for cls in type(exc).__mro__}
    if "NoArgsIsHelpError" in kinds:  # the help was printed already
        return EXIT_USAGE
    if "ClickException" in kinds:
        code: int = getattr(exc, "exit_code", EXIT_USAGE)
        message = getattr(exc, "format_message", exc.__str__)()
        if "UsageError" in kinds:
            where = getattr(getattr(exc, "ctx", None), "command_path", None) or PROG
            message = f"{message} (see `{where} --help`)"
        print_error(message)
        return code
    if debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__)
    if isinstance(exc, CLIError):
        print_error(str(exc))
        return exc.exit_code
    if isinstance(exc, ValidationError):
        title = "job" if exc.title == "JobRequest" else exc.title
        print_error(f"invalid {title}: {error_message(exc, FLAG_NAMES)}")
        return EXIT_USAGE
    message = error_message(exc)
    if isinstance(exc, ConfigurationError):
        lowered = message.lower()
        if "region" in lowered:
            message += " (use --region or set AWS_REGION)"
        elif "credential" in lowered:
            message += " (configure AWS credentials, or use --profile)"
    elif not isinstance(exc, (BatchError, ValueError, OSError)):
        message = f"unexpected {type(exc).__name__}: {message} (--debug shows the traceback)"
    print_error(message)
    return EXIT_ERROR


def print_error(message: str) -> None:
    """Write ``aws-batch-async: error: MESSAGE`` to stderr, on one line."""
    sys.stdout.flush()
    sys.stderr.write(f"{PROG}: error: {' '.join(message.split())}\n")
    sys.stderr.flush()


def error_message(exc: BaseException, flag_names: Mapping[str, str] | None = None) -> str:
    """One line describing ``exc`` for people, naming command-line flags where it can.

    Args:
        exc: The error.
        flag_names: Model field name to flag (``{"timeout_seconds": "--timeout"}``), used for
            pydantic validation errors.

    Returns:
        The message on a single line.
    """
    if isinstance(exc, ValidationError):
        names = flag_names or {}
        parts = []
        for error in exc.errors():
            field = next((str(p) for p in error["loc"] if isinstance(p, str)), "")
            message = str(error["msg"]).removeprefix("Value error, ")
            parts.append(f"{names.get(field, field)}: {message}" if field else message)
        text = "; ".join(parts) or str(exc)
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())
