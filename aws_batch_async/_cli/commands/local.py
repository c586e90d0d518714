"""``aws-batch-async local``: a LocalBatch in the foreground, until Ctrl-C.

It prints the endpoint, queue and definition (and the exports or flags that reach them) for
other terminals, then blocks; Ctrl-C or SIGTERM stops LocalBatch and every job it runs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import signal
import threading
from enum import Enum
from types import FrameType
from typing import Annotated, Any, Literal, NoReturn

import typer
from rich.text import Text

from .._errors import PROG, CLIError
from .._options import CommonOptions, shared_options
from .._output import Output

__all__ = ["LocalMode", "local", "require_local_extra", "serve_local"]


class LocalMode(str, Enum):
    """The modes of ``aws-batch-async local`` (see :class:`~aws_batch_async.testing.LocalBatch`)."""

    run = "run"
    lifecycle = "lifecycle"
    instant = "instant"


_MODES: dict[LocalMode, Literal["run", "lifecycle", "instant"]] = {
    LocalMode.run: "run",
    LocalMode.lifecycle: "lifecycle",
    LocalMode.instant: "instant",
}


@shared_options(connection=False)
def local(
    mode: Annotated[
        LocalMode,
        typer.Option(
            "--mode",
            help="run: commands run as local processes; lifecycle: statuses step over time; "
            "instant: jobs finish at submit.",
        ),
    ] = LocalMode.run,
    *,
    options: CommonOptions,
) -> None:
    """Run a local AWS Batch (LocalBatch) until Ctrl-C; print how to use it.

    Example: aws-batch-async local   (then, in another terminal, the printed exports)
    """
    with contextlib.suppress(KeyboardInterrupt):
        serve_local(mode, options.out)
    options.out.err.print("LocalBatch stopped.")


def serve_local(mode: LocalMode, out: Output) -> None:
    """Run a LocalBatch until Ctrl-C or SIGTERM, which raise ``KeyboardInterrupt`` here.

    Both signals stop it cleanly, even when SIGINT was ignored by whoever started this process
    (as shells do for background jobs).

    Args:
        mode: The LocalBatch mode.
        out: Where to print how to reach it (with ``--json``: one JSON line).

    Raises:
        CLIError: The ``local`` extra (moto) is missing.
        KeyboardInterrupt: Ctrl-C or SIGTERM; LocalBatch has stopped by then.
    """
    require_local_extra()
    from aws_batch_async.testing import LocalBatch

    previous_term = signal.signal(signal.SIGTERM, _interrupt)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with LocalBatch(mode=_MODES[mode]) as local_batch:
            info = {
                "endpoint_url": local_batch.endpoint_url,
                "job_queue": local_batch.job_queue,
                "job_definition": local_batch.job_definition,
                "region": local_batch.config.region,
                "mode": mode.value,
            }
            if out.json_mode:
                out.json_line(info)
            else:
                _print_usage(out, info)
            threading.Event().wait()
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)


def require_local_extra() -> None:
    """Fail clearly if LocalBatch's moto server cannot run here (the ``local`` extra).

    Raises:
        CLIError: moto or flask is not installed.
    """
    missing = [name for name in ("moto", "flask") if not _importable(name)]
    if missing:
        raise CLIError(
            f"LocalBatch needs {' and '.join(missing)}, not installed here: "
            'pip install "aws-batch-async[cli,local]"'
        )


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: sys.modules[name] is None
        return False


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


def _print_usage(out: Output, info: dict[str, Any]) -> None:
    console = out.out
    console.print(f"[bold green]LocalBatch is running[/] (mode: {info['mode']}). Ctrl-C stops it.")
    console.print()
    console.print(f"  endpoint-url    {info['endpoint_url']}")
    console.print(f"  job queue       {info['job_queue']}")
    console.print(f"  job definition  {info['job_definition']}")
    console.print(f"  region          {info['region']}")
    console.print()
    console.print("In another terminal (any credentials do; these reach no AWS account):")
    console.print()
    lines = [
        f"export AWS_BATCH_ENDPOINT_URL={info['endpoint_url']}",
        f"export AWS_BATCH_JOB_QUEUE={info['job_queue']}",
        f"export AWS_BATCH_JOB_DEFINITION={info['job_definition']}",
        f"export AWS_REGION={info['region']} AWS_ACCESS_KEY_ID=testing "
        "AWS_SECRET_ACCESS_KEY=testing",
        f"{PROG} submit --wait -- sh -c 'echo hello from LocalBatch'",
    ]
    for line in lines:
        console.print(Text(f"  {line}"), soft_wrap=True)
    console.print()
    console.print("or pass the flags instead:")
    console.print(
        Text(
            f"  {PROG} ls --endpoint-url {info['endpoint_url']} --region {info['region']} "
            f"--job-queue {info['job_queue']}"
        ),
        soft_wrap=True,
    )
    console.file.flush()
