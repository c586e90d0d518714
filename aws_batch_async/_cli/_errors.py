"""Failures of the command line: one line on stderr and an exit code, never a traceback.

Exit codes: 0 success, 1 an error (AWS refused, unknown job, no credentials...), 2 bad usage
(unknown flag, invalid value), 3 a job waited for FAILED, 4 a wait timed out, 5 a job waited
for never started (``wait --stuck-after``), 130 interrupted.

No message quotes the values of ``--env`` (or ``--parameter``): validation errors are told by
their fields and messages, never their input, even in ``--debug`` tracebacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import traceback
from collections.abc import Coroutine, Mapping
from typing import Any

import typer
from pydantic import ValidationError

from aws_batch_async import BatchError, ConfigurationError

__all__ = [
    "EXIT_ERROR",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_STUCK",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "FIELD_RULES",
    "FLAG_NAMES",
    "PROG",
    "CLIError",
    "error_message",
    "print_error",
    "print_traceback",
    "report",
    "run_async",
]

PROG = "aws-batch-async"
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_TIMEOUT = 4
EXIT_STUCK = 5
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


#: What a value must look like, in people's words, for the fields whose pydantic message would
#: be a raw regular expression or a bare length.
FIELD_RULES = {
    "job_name": (
        "a job name is 1–128 letters, digits, hyphens and underscores, "  # noqa: RUF001
        "starting with a letter or digit"
    ),
}
_RULE_ERRORS = frozenset({"string_pattern_mismatch", "string_too_long", "string_too_short"})


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
        print_traceback(exc)
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
        elif "credential" in lowered and "no aws credentials found" not in lowered:
            message += " (configure AWS credentials, or use --profile)"
    elif not isinstance(exc, (BatchError, ValueError, OSError)):
        message = f"unexpected {type(exc).__name__}: {message} (--debug shows the traceback)"
    print_error(message)
    return EXIT_ERROR


def run_async(coro: Coroutine[Any, Any, int], *, waiting: bool = False) -> None:
    """Run a command's coroutine; turn its result, or Ctrl-C, into the exit code.

    Args:
        coro: The command's work; it returns the exit code.
        waiting: The command waits for jobs: an interruption says they keep running.

    Raises:
        typer.Exit: With the exit code, unless it is 0 (130 when interrupted).
    """
    try:
        code = asyncio.run(coro)
    except KeyboardInterrupt:
        note = ": stopped waiting; the jobs keep running in AWS Batch" if waiting else ""
        print_error(f"interrupted{note}")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if code:
        raise typer.Exit(code)


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
            if error["type"] in _RULE_ERRORS and field in FIELD_RULES:
                message = FIELD_RULES[field]
            parts.append(f"{names.get(field, field)}: {message}" if field else message)
        text = "; ".join(parts) or str(exc)
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"


def print_traceback(exc: BaseException) -> None:
    """Print ``exc``'s traceback (and its causes') to stderr, as Python does, but safely.

    A pydantic validation error is shown by :func:`error_message`, not by its own text, which
    quotes the input: for a :class:`~aws_batch_async.JobRequest`, every ``--env`` value.

    Args:
        exc: The error.
    """
    chain: list[tuple[BaseException, str | None]] = []
    current: BaseException | None = exc
    note: str | None = None
    while current is not None and all(current is not seen for seen, _ in chain):
        chain.append((current, note))
        if current.__cause__ is not None:
            current, note = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, note = current.__context__, _CONTEXT
        else:
            current = None
    lines: list[str] = []
    for error, relation in reversed(chain):
        if error.__traceback__ is not None:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_tb(error.__traceback__))
        if isinstance(error, ValidationError):
            name = f"{type(error).__module__}.{type(error).__qualname__}"
            lines.append(f"{name}: {error_message(error, FLAG_NAMES)}\n")
        else:
            lines.extend(traceback.format_exception_only(type(error), error))
        if relation is not None:
            lines.append(f"\n{relation}\n\n")
    sys.stderr.writelines(lines)
