"""Live progress of many jobs, fed by ``BatchService.watch`` (one coalescing poller).

:func:`watch_jobs` follows every job until it is terminal (or the timeout passes) and shows a
:class:`StatusBoard` meanwhile. On a terminal the board is a live rich display, redrawn in place;
elsewhere (CI logs, a file, a pipe) it prints a short line when the picture changes, at most
once a second, so captured output stays readable.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from aws_batch_async import BatchService, JobDetail, JobStatus, WaitTimeoutError

from ._output import STATUS_STYLES, format_duration, job_duration, status_text

__all__ = ["StatusBoard", "WatchResult", "watch_jobs"]

#: Boards with at most this many jobs show one row (or line) per job.
MAX_JOB_ROWS = 10


@dataclass
class WatchResult:
    """What :func:`watch_jobs` saw.

    Attributes:
        jobs: The last :class:`JobDetail` of each job seen, by id (terminal unless timed out).
        timed_out: Ids of the jobs still unfinished when the timeout passed.
        elapsed: Seconds the watch took.
    """

    jobs: dict[str, JobDetail] = field(default_factory=dict)
    timed_out: set[str] = field(default_factory=set)
    elapsed: float = 0.0


async def watch_jobs(
    batch: BatchService,
    job_ids: Sequence[str],
    console: Console | None,
    *,
    timeout: float | None = None,
    title: str = "Waiting for",
    refresh_interval: float = 1.0,
    per_job: bool | None = None,
    known: Sequence[JobDetail] = (),
    transient: bool = False,
) -> WatchResult:
    """Follow jobs until each is terminal, showing a :class:`StatusBoard` on ``console``.

    Cancelling this (Ctrl-C) stops the watching only; the AWS jobs keep running.

    Args:
        batch: An open service; its poller serves every job with coalesced DescribeJobs calls.
        job_ids: The jobs to follow.
        console: Where to show progress; ``None`` shows nothing.
        timeout: Seconds after which unfinished jobs are given up on (``None``: no limit).
        title: The board's heading, followed by the number of jobs.
        refresh_interval: Seconds between progress lines when the console is not a terminal.
        per_job: Show each job (``None``: when there are at most ``MAX_JOB_ROWS``).
        known: Jobs already described; those already terminal are not polled again.
        transient: On a terminal, erase the live display when done (the caller prints a result).

    Returns:
        The last state of each job, and which ones timed out.

    Raises:
        JobNotFoundError: A job id stayed unknown to AWS Batch.
        BatchError: AWS Batch answered with an error.
    """
    ids = list(dict.fromkeys(job_ids))
    board = StatusBoard(
        console,
        ids,
        title=title,
        refresh_interval=refresh_interval,
        per_job=per_job,
        transient=transient,
    )
    async with board:
        for job in known:
            board.update(job)
        tasks = [
            asyncio.create_task(_follow(batch, job_id, board, timeout))
            for job_id in ids
            if job_id not in board.jobs or not board.jobs[job_id].is_terminal
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return WatchResult(dict(board.jobs), set(board.timed_out), board.elapsed)


async def _follow(
    batch: BatchService, job_id: str, board: StatusBoard, timeout: float | None
) -> None:
    """Feed one job's changes to the board; a timeout marks it timed out.

    ``BatchService.watch`` yields a FAILED job like any other, so failure needs no handling.
    """
    try:
        async for job in batch.watch(job_id, timeout=timeout):
            board.update(job)
    except WaitTimeoutError as exc:
        board.mark_timed_out(job_id, exc.job)


class StatusBoard:
    """A live view of many jobs' statuses: counts by status, a bar, and array-job progress.

    Use it as an async context manager around the updates; it redraws (or prints) on its own
    schedule, and shows the final picture on exit.

    Args:
        console: Where to draw; ``None`` draws nothing (the board still records jobs).
        job_ids: The jobs followed, in display order.
        title: The heading, followed by the number of jobs.
        refresh_interval: Seconds between progress lines when ``console`` is not a terminal.
        per_job: Show each job (``None``: when there are at most ``MAX_JOB_ROWS``).
        transient: On a terminal, erase the live display when it stops.
    """

    def __init__(
        self,
        console: Console | None,
        job_ids: Sequence[str],
        *,
        title: str = "Waiting for",
        refresh_interval: float = 1.0,
        per_job: bool | None = None,
        transient: bool = False,
    ) -> None:
        self.console = console
        self.job_ids = list(job_ids)
        self.title = title
        self.refresh_interval = refresh_interval
        self.jobs: dict[str, JobDetail] = {}
        self.timed_out: set[str] = set()
        self._started = time.monotonic()
        self._stopped: float | None = None
        self._live: Live | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._last_line = ""
        self._per_job = len(self.job_ids) <= MAX_JOB_ROWS if per_job is None else per_job
        self._transient = transient

    @property
    def elapsed(self) -> float:
        """Seconds since the board started (frozen once it stops)."""
        end = self._stopped if self._stopped is not None else time.monotonic()
        return end - self._started

    @property
    def interactive(self) -> bool:
        """True when drawing a live display on a terminal."""
        return self.console is not None and self.console.is_terminal

    @property
    def done(self) -> int:
        """How many jobs are terminal."""
        return sum(1 for job in self.jobs.values() if job.is_terminal)

    def counts(self) -> dict[JobStatus, int]:
        """Jobs by status, in lifecycle order, without zeros."""
        statuses = [job.status for job in self.jobs.values()]
        return {s: n for s in JobStatus if (n := statuses.count(s))}

    def update(self, job: JobDetail) -> None:
        """Record a job's latest state."""
        previous = self.jobs.get(job.job_id)
        self.jobs[job.job_id] = job
        if (
            self.console is not None
            and not self.interactive
            and self._per_job
            and (previous is None or previous.status is not job.status)
        ):
            self._print_line(f"{job.job_name} {job.job_id} {job.status.value}{_exit_note(job)}")

    def mark_timed_out(self, job_id: str, job: JobDetail | None) -> None:
        """Record that waiting for ``job_id`` timed out (``job``: its last state, if seen)."""
        self.timed_out.add(job_id)
        if job is not None:
            self.jobs[job_id] = job

    async def __aenter__(self) -> StatusBoard:
        self._started = time.monotonic()
        if self.console is None:
            return self
        if self.interactive:
            self._live = Live(
                self.render(),
                console=self.console,
                auto_refresh=False,
                transient=self._transient,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        self._ticker = asyncio.create_task(self._tick())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopped = time.monotonic()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._live is not None:
            self._live.update(self.render(), refresh=True)
            self._live.stop()
        elif self.console is not None and not self._per_job:
            self._print_summary()

    async def _tick(self) -> None:
        while True:
            if self._live is not None:
                await asyncio.sleep(0.1)
                self._live.update(self.render(), refresh=True)
            else:
                await asyncio.sleep(self.refresh_interval)
                if not self._per_job:
                    self._print_summary()

    # -- drawing -------------------------------------------------------------------------------

    def summary_text(self) -> Text:
        """``12/21 done  RUNNING 4 · SUCCEEDED 10 · FAILED 2`` (array progress appended)."""
        text = Text(f"{self.done}/{len(self.job_ids)} done")
        parts: list[Text] = []
        unseen = len(self.job_ids) - len(self.jobs)
        if unseen:
            parts.append(Text(f"not seen yet {unseen}", style="dim"))
        for status, count in self.counts().items():
            parts.append(Text(f"{status.value} {count}", style=STATUS_STYLES[status]))
        for job in self.jobs.values():
            props = job.array_properties
            if job.is_array_parent and props is not None and props.size:
                done = props.status_summary.get("SUCCEEDED", 0) + props.status_summary.get(
                    "FAILED", 0
                )
                if job.is_terminal:
                    done = props.size
                parts.append(Text(f"array {job.job_name} {done}/{props.size}"))
        if self.timed_out:
            parts.append(Text(f"TIMED OUT {len(self.timed_out)}", style="yellow"))
        if parts:
            text.append("  ")
            text.append(Text(" · ").join(parts))
        return text

    def render(self) -> RenderableType:
        """The live display: heading, bar with counts, and one row per job for small boards."""
        total = len(self.job_ids)
        bar = Table.grid(padding=(0, 1))
        bar.add_column(no_wrap=True)
        bar.add_column(no_wrap=True)
        bar.add_column(no_wrap=True)
        bar.add_row(
            Text(f"{self.title} {total} job{'s' if total != 1 else ''}", style="bold"),
            ProgressBar(
                total=max(total, 1),
                completed=self.done,
                width=30,
                complete_style="green",
                finished_style="green",
            ),
            Text(format_duration(self.elapsed), style="dim"),
        )
        parts: list[RenderableType] = [bar, self.summary_text()]
        if self._per_job and self.jobs:
            rows = Table.grid(padding=(0, 2))
            for _ in range(4):
                rows.add_column(no_wrap=True)
            for job_id in self.job_ids:
                job = self.jobs.get(job_id)
                if job is None:
                    rows.add_row(Text("?", style="dim"), job_id, status_text(None), "")
                else:
                    rows.add_row(
                        job.job_name,
                        Text(job_id, style="dim"),
                        status_text(job.status),
                        "" if (ran := job_duration(job)) is None else format_duration(ran),
                    )
            parts.append(rows)
        return Group(*parts)

    def _print_summary(self) -> None:
        text = self.summary_text()
        if text.plain != self._last_line:
            self._last_line = text.plain
            self._print_line(text.plain, text=text)

    def _print_line(self, line: str, *, text: Text | None = None) -> None:
        assert self.console is not None
        stamp = Text(f"[{self.elapsed:6.1f}s] ", style="dim")
        self.console.print(stamp + (text if text is not None else Text(line)), soft_wrap=True)


def _exit_note(job: JobDetail) -> str:
    if job.is_terminal and job.exit_code is not None:
        return f" (exit code {job.exit_code})"
    return ""
