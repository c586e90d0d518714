"""Rendering: rich tables for people, JSON on stdout for programs, one-line errors on stderr.

With ``--json`` a command writes JSON and nothing else to stdout: snake_case keys as in the
models (``job_id``, ``status``, ``kind``, ``platform``...), one object for one job, an array
for several. ``status --json`` adds ``container_exit_codes`` (ECS and EKS containers by name),
``log_stream_names`` and, for a multi-node parent, ``nodes`` (each node's id, index, status and
exit code). Everything meant for people only (warnings, hints, live progress) goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TextIO, cast

from pydantic import BaseModel
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from aws_batch_async import JobDetail, JobStatus, JobSummary

__all__ = [
    "STATUS_STYLES",
    "Output",
    "format_duration",
    "format_time",
    "job_duration",
    "job_json",
    "job_table",
    "jobs_table",
    "plural",
    "status_text",
    "to_json",
]

#: Width of output that does not go to a terminal (a pipe, a file, CI logs).
PLAIN_WIDTH = 160

#: How each status is coloured (colour is dropped when the output is not a terminal).
STATUS_STYLES: dict[JobStatus, str] = {
    JobStatus.SUBMITTED: "dim",
    JobStatus.PENDING: "dim",
    JobStatus.RUNNABLE: "yellow",
    JobStatus.STARTING: "cyan",
    JobStatus.RUNNING: "blue",
    JobStatus.SUCCEEDED: "green",
    JobStatus.FAILED: "bold red",
}


class Output:
    """Where a command writes: results to stdout, everything else to stderr.

    Args:
        json_mode: ``--json`` was given: results are JSON and stdout gets nothing else.
    """

    def __init__(self, *, json_mode: bool = False) -> None:
        self.json_mode = json_mode
        self.out = _console(stderr=False)
        self.err = _console(stderr=True)

    @property
    def progress_console(self) -> Console | None:
        """Where live progress goes: stderr, unless in JSON mode and stderr is no terminal."""
        if self.json_mode and not self.err.is_terminal:
            return None
        return self.err

    def json(self, data: Any) -> None:
        """Write ``data`` as indented JSON, and a newline, to stdout."""
        sys.stdout.write(json.dumps(to_json(data), indent=2) + "\n")
        sys.stdout.flush()

    def json_line(self, data: Any) -> None:
        """Write ``data`` as one line of JSON (JSON Lines, for streams) to stdout."""
        sys.stdout.write(json.dumps(to_json(data), separators=(",", ":")) + "\n")
        sys.stdout.flush()

    def warn(self, message: str) -> None:
        """Write a one-line warning to stderr."""
        self.err.print(Text(f"aws-batch-async: warning: {message}", style="yellow"), soft_wrap=True)

    def hint(self, message: str) -> None:
        """Write a hint for people to stderr (nothing in JSON mode)."""
        if not self.json_mode:
            self.err.print(Text(message, style="dim"), soft_wrap=True)


def _console(*, stderr: bool) -> Console:
    """A console; when it is not a terminal, lines are not cut at 80 columns (unless COLUMNS).

    Nor do they end in the spaces that pad a table's cells: a pipe or a file gets each line
    without trailing whitespace (what ``grep``, ``diff`` and ``cut`` expect).
    """
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal:
        if "COLUMNS" not in os.environ:
            console.width = PLAIN_WIDTH
        console.file = cast("TextIO", _TrimmedLines(stderr=stderr))
    return console


class _TrimmedLines:
    """A text stream over stdout (or stderr) that drops each line's trailing whitespace.

    The stream is looked up at each write, so a redirection made later (pytest's capture, a
    ``contextlib.redirect_stdout``) is followed, as rich's own default does. It has what rich
    uses of a file: ``write``, ``flush``, ``isatty`` and ``encoding``.
    """

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._pending = ""

    @property
    def _target(self) -> TextIO:
        return sys.stderr if self._stderr else sys.stdout

    @property
    def encoding(self) -> str:
        return getattr(self._target, "encoding", None) or "utf-8"

    def isatty(self) -> bool:
        return self._target.isatty()

    def write(self, text: str) -> int:
        *lines, self._pending = (self._pending + text).split("\n")
        if lines:
            self._target.write("".join(f"{line.rstrip()}\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._target.write(self._pending)
            self._pending = ""
        self._target.flush()


def to_json(data: Any) -> Any:
    """Turn models (and lists and dicts of them) into JSON-ready values with snake_case keys."""
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, Mapping):
        return {str(k): to_json(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [to_json(v) for v in data]
    return data


def status_text(status: JobStatus | str | None) -> Text:
    """The status as coloured text (``-`` when unknown)."""
    if status is None:
        return Text("-", style="dim")
    try:
        parsed = JobStatus(status)
    except ValueError:
        return Text(str(status))
    return Text(parsed.value, style=STATUS_STYLES.get(parsed, ""))


def format_duration(seconds: float | None) -> str:
    """``0.4s``, ``12.3s``, ``4m05s``, ``2h03m``; ``-`` for None."""
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_time(value: datetime | None, *, short: bool = False) -> str:
    """A timestamp in local time, to the second; ``-`` for None.

    Args:
        value: The time.
        short: Leave out the year (and the date, for today).
    """
    value = _known(value)
    if value is None:
        return "-"
    local = value.astimezone()
    if not short:
        return local.strftime("%Y-%m-%d %H:%M:%S")
    if local.date() == datetime.now().astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%m-%d %H:%M:%S")


def job_duration(job: JobDetail | JobSummary, now: datetime | None = None) -> float | None:
    """Seconds the job ran: start to stop, or start to now while it runs; None if not started."""
    started = _known(job.started_at)
    if started is None:
        return None
    end = _known(job.stopped_at)
    if end is None:
        if job.is_terminal:
            return None
        end = now or datetime.now(timezone.utc)
    return (end - started).total_seconds()


def _known(value: datetime | None) -> datetime | None:
    """``value``, or None when it is missing or the epoch (some endpoints send 0 for unset)."""
    if value is None or value.timestamp() <= 0:
        return None
    return value


def _exit_code(job: JobDetail | JobSummary) -> str:
    return "-" if job.exit_code is None else str(job.exit_code)


def _array_text(job: JobDetail | JobSummary) -> str:
    props = job.array_properties
    if props is None:
        return ""
    if props.size is not None:
        summary = props.status_summary
        done = summary.get("SUCCEEDED", 0) + summary.get("FAILED", 0)
        return f"array of {props.size}: {done} done" if summary else f"array of {props.size}"
    if props.index is not None:
        return f"child {props.index}"
    return ""


def jobs_table(
    jobs: Iterable[JobDetail | JobSummary], *, title: str | None = None, width: int = PLAIN_WIDTH
) -> Table:
    """A table of jobs, one row each: id, name, status, kind, created, duration, exit, reason.

    The kind column appears only when some job is not a plain container job, the exit code and
    reason columns only when some job has one, and the creation time only when ``width``
    leaves room for it.
    """
    jobs = list(jobs)
    with_created = width >= 100
    reasons = [_reason(job) for job in jobs]
    with_exit = any(job.exit_code is not None for job in jobs)
    kinds = [_kind_text(job) for job in jobs]
    with_kind = any(kind != "CONTAINER" for kind in kinds)
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    table.add_column("JOB ID", no_wrap=True)
    table.add_column("NAME", overflow="fold", min_width=8)
    table.add_column("STATUS", no_wrap=True, min_width=9)
    if with_kind:
        table.add_column("KIND", no_wrap=True)
    if with_created:
        table.add_column("CREATED", no_wrap=True)
    table.add_column("DURATION", justify="right", no_wrap=True)
    if with_exit:
        table.add_column("EXIT", justify="right", no_wrap=True)
    if any(reasons):
        table.add_column("REASON", overflow="fold", min_width=10)
    for job, reason, kind in zip(jobs, reasons, kinds, strict=True):
        cells: list[str | Text] = [
            job.job_id,
            job.job_name,
            status_text(job.status),
        ]
        if with_kind:
            cells.append(kind)
        if with_created:
            cells.append(format_time(job.created_at, short=True))
        cells.append(format_duration(job_duration(job)))
        if with_exit:
            cells.append(_exit_code(job))
        if any(reasons):
            cells.append(reason)
        table.add_row(*cells)
    return table


def _reason(job: JobDetail | JobSummary) -> str:
    reason = job.status_reason or ""
    array = _array_text(job)
    if array:
        reason = f"{array}; {reason}" if reason else array
    return reason


def job_table(job: JobDetail, nodes: Sequence[JobDetail] = ()) -> Table:
    """One job's details as a two-column table of field and value.

    Args:
        job: The job.
        nodes: For a multi-node parent, its nodes (``<id>#<index>`` jobs), shown a row each.
    """
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    rows: list[tuple[str, str | Text]] = [
        ("Job ID", job.job_id),
        ("Name", job.job_name),
        ("Status", status_text(job.status)),
        ("Kind", _kind_detail(job)),
    ]
    other_streams = [name for name in job.log_stream_names if name != job.log_stream_name]
    optional: list[tuple[str, str | None]] = [
        ("Platform", job.platform),
        ("Status reason", job.status_reason),
        ("Failure", _failure_text(job)),
        ("Resubmitted from", ", ".join(job.resubmitted_from) or None),
        ("Queue", job.job_queue),
        ("Definition", job.job_definition),
        ("Created", format_time(job.created_at) if _known(job.created_at) else None),
        ("Started", format_time(job.started_at) if _known(job.started_at) else None),
        ("Stopped", format_time(job.stopped_at) if _known(job.stopped_at) else None),
        ("Duration", None if (ran := job_duration(job)) is None else format_duration(ran)),
        ("Exit code", None if job.exit_code is None else str(job.exit_code)),
        ("Container reason", job.reason),
        *(
            (f"Container {name}", _exit_text(code))
            for name, code in job.container_exit_codes.items()
        ),
        ("Log stream", job.log_stream_name),
        ("Other streams", ", ".join(other_streams) or None),
        ("Attempts", str(len(job.attempts)) if job.attempts else None),
        ("Array", _array_detail(job)),
        ("Pod", _pod_detail(job)),
        *((_node_label(node), _node_text(node)) for node in nodes),
        ("Depends on", ", ".join(d.job_id for d in job.depends_on if d.job_id) or None),
        ("Tags", ", ".join(f"{k}={v}" for k, v in sorted(job.tags.items())) or None),
    ]
    rows.extend((name, value) for name, value in optional if value)
    for name, value in rows:
        table.add_row(name, value)
    return table


def job_json(job: JobDetail, nodes: Sequence[JobDetail] | None = None) -> dict[str, Any]:
    """One job as ``status --json`` shows it: the model, with per-container (and node) results.

    Args:
        job: The job.
        nodes: For a multi-node parent, its nodes; ``None`` for other jobs.
    """
    data: dict[str, Any] = to_json(job)
    data["container_exit_codes"] = job.container_exit_codes
    data["log_stream_names"] = job.log_stream_names
    failure = job.failure
    data["failure"] = None if failure is None else to_json(failure)
    if nodes is not None:
        data["nodes"] = [
            {
                "job_id": node.job_id,
                "node_index": node.node_details.node_index if node.node_details else None,
                "is_main_node": node.node_details.is_main_node if node.node_details else None,
                "status": node.status.value,
                "exit_code": node.exit_code,
                "status_reason": node.status_reason,
                "log_stream_name": node.log_stream_name,
            }
            for node in nodes
        ]
    return data


def _failure_text(job: JobDetail) -> str | None:
    """``OUT_OF_MEMORY (retryable)``: why a FAILED job failed (``JobDetail.failure``)."""
    failure = job.failure
    if failure is None:
        return None
    return f"{failure.kind.value}{' (retryable)' if failure.retryable else ''}"


def _kind_text(job: JobDetail | JobSummary) -> str:
    kind = getattr(job, "kind", None)
    return "CONTAINER" if kind is None else str(kind)


def _kind_detail(job: JobDetail) -> str:
    """The kind, with what says most about it: nodes of a multi-node job, this node's index."""
    kind = str(job.kind)
    props, details = job.node_properties, job.node_details
    if details is not None:
        main = " (the main node)" if details.is_main_node else ""
        return f"{kind}: node {details.node_index}{main} of {job.job_id.partition('#')[0]}"
    if props is not None:
        count = "?" if props.num_nodes is None else str(props.num_nodes)
        main = "" if props.main_node is None else f", main node {props.main_node}"
        return f"{kind}: {count} nodes{main}"
    return kind


def _pod_detail(job: JobDetail) -> str | None:
    pod = job.eks_properties.pod_properties if job.eks_properties else None
    last = job.eks_attempts[-1] if job.eks_attempts else None
    name = (pod.pod_name if pod else None) or (last.pod_name if last else None)
    if name is None:
        return None
    namespace = (last.pod_namespace if last else None) or (
        pod.metadata.namespace if pod is not None and pod.metadata is not None else None
    )
    node = (pod.node_name if pod else None) or (last.node_name if last else None)
    return (
        name + (f" (namespace {namespace})" if namespace else "") + (f" on {node}" if node else "")
    )


def _node_label(node: JobDetail) -> str:
    details = node.node_details
    index = node.job_id.rpartition("#")[2] if details is None else str(details.node_index)
    main = " (main)" if details is not None and details.is_main_node else ""
    return f"Node {index}{main}"


def _node_text(node: JobDetail) -> str:
    code = "" if node.exit_code is None else f", exit code {node.exit_code}"
    why = f": {node.status_reason}" if node.status_reason else ""
    return f"{node.status.value}{code}{why}"


def _exit_text(code: int | None) -> str:
    return "no exit code yet" if code is None else f"exit code {code}"


def _array_detail(job: JobDetail) -> str | None:
    props = job.array_properties
    if props is None:
        return None
    if props.size is not None:
        counts = ", ".join(
            f"{status.value} {props.status_summary[status.value]}"
            for status in JobStatus
            if props.status_summary.get(status.value)
        )
        return f"{props.size} children" + (f" ({counts})" if counts else "")
    if props.index is not None:
        return f"child {props.index}"
    return None


def plural(count: int, noun: str) -> str:
    """``1 job``, ``3 jobs``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
