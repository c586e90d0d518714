"""``aws-batch-async demo``: a fan-out on a LocalBatch, watched live. No AWS account needed.

It starts a :class:`~aws_batch_async.testing.LocalBatch` in "run" mode (each job's command runs
as a local process), submits N jobs that run real shell commands (every fifth fails on purpose)
and an array job, follows them all with one coalescing poller, then prints a summary table and
the log of a failed job. The output reads well in a terminal and in a captured log alike.

Each planned job is paired with its submitted id and what was seen of it (a
:class:`DemoOutcome`), so the summary can never show one job's result on another's row.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from aiobotocore.session import AioSession
from rich import box
from rich.table import Table
from rich.text import Text

from aws_batch_async import BatchService, JobDetail, JobRequest, JobStatus, PollPolicy

from .._errors import run_async
from .._options import CommonOptions, shared_options
from .._output import Output, format_duration, job_duration, plural, status_text
from .._progress import watch_jobs
from .local import require_local_extra

__all__ = ["DemoJob", "DemoOutcome", "demo", "plan_jobs", "run_demo", "summary_table"]

#: LocalBatch answers at once and costs nothing: poll it briskly.
DEMO_POLL = PollPolicy(initial_interval=0.25, max_interval=1.0, not_found_grace=10.0)
#: Children of the demo's array job.
ARRAY_SIZE = 5
#: Every job whose number is a multiple of this fails on purpose.
FAIL_EVERY = 5
#: The demo gives up (exit 1) if the jobs have not finished by then.
WAIT_TIMEOUT = 120.0
#: Summary tables longer than this show the failed jobs and a count of the rest.
MAX_SUMMARY_ROWS = 25

_WORDS = ("logs", "orders", "images", "events", "invoices", "sensors", "clicks", "emails")


@shared_options(json=False, connection=False)
def demo(
    jobs: Annotated[
        int,
        typer.Option("--jobs", "-j", metavar="N", min=1, max=200, help="How many jobs to fan out."),
    ] = 20,
    *,
    options: CommonOptions,
) -> None:
    """Fan out jobs on a LocalBatch and watch them finish: no AWS account needed.

    Starts a local AWS Batch whose jobs run real commands (some fail on purpose), plus an
    array job; shows live progress, a summary and the logs of a failed job.
    """
    require_local_extra()
    run_async(run_demo(options.out, jobs))


@dataclass(frozen=True)
class DemoJob:
    """One job of the demo.

    Attributes:
        request: What is submitted.
        task: What the job does, for the summary table.
        should_fail: The job fails on purpose.
    """

    request: JobRequest
    task: str
    should_fail: bool = False

    @property
    def name(self) -> str:
        """The job's name."""
        assert self.request.job_name is not None
        return self.request.job_name


@dataclass(frozen=True)
class DemoOutcome:
    """A planned job, the id it was submitted as, and its last state seen.

    Attributes:
        job: The planned job.
        job_id: Its AWS Batch job id.
        detail: Its last state seen, or ``None`` if the watch never saw it.
    """

    job: DemoJob
    job_id: str
    detail: JobDetail | None

    @property
    def expected(self) -> JobStatus:
        """The status the job should end in."""
        return JobStatus.FAILED if self.job.should_fail else JobStatus.SUCCEEDED

    @property
    def as_planned(self) -> bool:
        """The job was seen, ending in the status it should."""
        return self.detail is not None and self.detail.status is self.expected


def plan_jobs(count: int) -> list[DemoJob]:
    """The demo's jobs: ``count`` shell jobs (every fifth fails; at least one), then an array job.

    Args:
        count: How many plain jobs.

    Returns:
        The jobs, in submission order; the array job last.
    """
    failing = {i for i in range(1, count + 1) if i % FAIL_EVERY == 0} or {count}
    plan = []
    for i in range(1, count + 1):
        words = _WORDS[i % len(_WORDS)]
        seconds = 1 + (i * 7 % 5) * 0.5
        shard = f"part-{i:03d}.csv"
        if i in failing:
            code = 1 + (i // FAIL_EVERY) % 3
            script = (
                f'echo "reading {words} from {shard}"; sleep {seconds}; '
                f'echo "error: {shard} is corrupt (checksum mismatch at line $((SEED * 37)))" >&2; '
                f"exit {code}"
            )
            task = f"count {words} in {shard} (fails on purpose)"
        else:
            script = (
                f'echo "reading {words} from {shard}"; sleep {seconds}; '
                f'echo "{shard}: $((SEED * 1237 % 9000 + 1000)) {words} counted"'
            )
            task = f"count {words} in {shard} ({seconds:g}s)"
        plan.append(
            DemoJob(
                JobRequest(
                    job_name=f"demo-{i:03d}",
                    command=["sh", "-c", script],
                    env_vars={"SEED": str(i)},
                    tags={"demo": "aws-batch-async"},
                ),
                task,
                should_fail=i in failing,
            )
        )
    array_script = (
        'echo "child $AWS_BATCH_JOB_ARRAY_INDEX: resizing images"; sleep 1; '
        'echo "child $AWS_BATCH_JOB_ARRAY_INDEX: done"'
    )
    plan.append(
        DemoJob(
            JobRequest(
                job_name="demo-array",
                command=["sh", "-c", array_script],
                array_size=ARRAY_SIZE,
                tags={"demo": "aws-batch-async"},
            ),
            f"array job: {ARRAY_SIZE} children resize images",
        )
    )
    return plan


async def run_demo(out: Output, jobs: int) -> int:
    """Run the demo, printing to ``out``; return the exit code (0 when all went as planned).

    Args:
        out: Where to print (stdout, for people).
        jobs: How many plain jobs to fan out (plus one array job).

    Returns:
        0 if every job ended as planned, 1 otherwise.
    """
    from aws_batch_async.testing import LocalBatch

    console = out.out
    started = time.monotonic()
    plan = plan_jobs(jobs)
    console.print(
        Text.assemble(
            ("aws-batch-async demo", "bold"),
            ": AWS Batch on this machine, no AWS account and no Docker needed",
        )
    )
    console.print("Starting LocalBatch (run mode: each job's command runs as a local process) ...")
    async with LocalBatch(mode="run") as local:
        console.print(
            f"LocalBatch ready at {local.endpoint_url} in {time.monotonic() - started:.1f}s"
        )
        describe_calls = _CallCounter()
        session = AioSession()
        session.register("before-call.batch.DescribeJobs", describe_calls)
        config = local.config.model_copy(update={"poll": DEMO_POLL})
        async with BatchService(config, session=session) as batch:
            submit_started = time.monotonic()
            responses = await asyncio.gather(*(batch.submit_job(job.request) for job in plan))
            failing = sum(job.should_fail for job in plan)
            console.print(
                f"Submitted {plural(jobs, 'job')} ({failing} will fail on purpose) and an array "
                f"job of {ARRAY_SIZE} children in {time.monotonic() - submit_started:.1f}s"
            )
            console.print()
            ids = [r.job_id for r in responses]
            before = describe_calls.count
            result = await watch_jobs(
                batch, ids, console, timeout=WAIT_TIMEOUT, title="Running", per_job=False
            )
            polls = describe_calls.count - before
            outcomes = [
                DemoOutcome(job, response.job_id, result.jobs.get(response.job_id))
                for job, response in zip(plan, responses, strict=True)
            ]
            console.print()
            console.print(Text("Summary", style="bold"))
            console.print(summary_table(outcomes))
            console.print()
            console.print(_totals(outcomes, polls, result.elapsed))
            failed = next((o.detail for o in outcomes if o.job.should_fail and o.as_planned), None)
            if failed is not None:
                await _print_logs(out, batch, failed)
    surprises = [
        f"{o.job.name} should be {o.expected.value} but is "
        f"{'never seen' if o.detail is None else o.detail.status.value}"
        for o in outcomes
        if not o.as_planned
    ]
    console.print()
    console.print(f"Demo done in {time.monotonic() - started:.1f}s; LocalBatch stopped.")
    console.print(
        Text.assemble(
            "Next: ",
            ("aws-batch-async local", "bold"),
            " keeps a LocalBatch running for the other commands (submit, wait, logs...).",
        )
    )
    if surprises:
        out.err.print(f"aws-batch-async: error: the demo went wrong: {'; '.join(surprises)}")
        return 1
    return 0


class _CallCounter:
    """A botocore event handler counting the calls it sees."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, **_: Any) -> None:
        self.count += 1


def summary_table(outcomes: Sequence[DemoOutcome]) -> Table:
    """The summary: one row per planned job, from that job's own outcome.

    Beyond ``MAX_SUMMARY_ROWS`` rows, the plain jobs that SUCCEEDED are counted in one row.

    Args:
        outcomes: The jobs, in plan order.

    Returns:
        The table: job name, task, status (``-`` if never seen), exit code, run time.
    """
    table = Table(
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    table.add_column("JOB", no_wrap=True)
    table.add_column("TASK")
    table.add_column("STATUS", no_wrap=True)
    table.add_column("EXIT", justify="right", no_wrap=True)
    table.add_column("RAN", justify="right", no_wrap=True)
    rows = list(outcomes)
    if len(rows) > MAX_SUMMARY_ROWS:
        rows = [o for o in rows if not _plain_success(o)]
    hidden = len(outcomes) - len(rows)
    for outcome in rows:
        job, detail = outcome.job, outcome.detail
        if detail is None:
            table.add_row(job.name, f"{job.task} (never seen)", status_text(None), "-", "-")
            continue
        ran = format_duration(job_duration(detail))
        exit_code = "-" if detail.exit_code is None else str(detail.exit_code)
        task = job.task
        props = detail.array_properties
        if detail.is_array_parent and props is not None:
            counts = ", ".join(
                f"{n} {s.value}" for s in JobStatus if (n := props.status_summary.get(s.value, 0))
            )
            task = f"{task} ({counts})" if counts else task
        table.add_row(job.name, task, status_text(detail.status), exit_code, ran)
    if hidden:
        table.add_row(f"... {hidden} more", "", status_text(JobStatus.SUCCEEDED), "", "")
    return table


def _plain_success(outcome: DemoOutcome) -> bool:
    detail = outcome.detail
    return (
        detail is not None and detail.status is JobStatus.SUCCEEDED and not detail.is_array_parent
    )


def _totals(outcomes: Sequence[DemoOutcome], polls: int, waited: float) -> Text:
    finished = [o.detail for o in outcomes if o.detail is not None and o.detail.is_terminal]
    succeeded = sum(1 for j in finished if j.status is JobStatus.SUCCEEDED)
    failed = sum(1 for j in finished if j.status is JobStatus.FAILED)
    text = Text(f"{plural(len(finished), 'job')} finished {waited:.1f}s after submission: ")
    text.append(f"{succeeded} SUCCEEDED", style="green")
    text.append(", ")
    text.append(f"{failed} FAILED", style="red")
    text.append(" (on purpose).\n")
    text.append(
        f"Waiting for all {len(outcomes)} took {plural(polls, 'DescribeJobs call')}: "
        "one poller, up to 100 job ids per call."
    )
    return text


async def _print_logs(out: Output, batch: BatchService, job: JobDetail) -> None:
    console = out.out
    console.print()
    code = "" if job.exit_code is None else f", exit code {job.exit_code}"
    console.print(Text(f"Logs of failed job {job.job_name} ({job.job_id}{code}):", style="bold"))
    lines = 0
    async for event in batch.get_logs(job.job_id):
        console.print(Text(f"  | {event.message}"), soft_wrap=True)
        lines += 1
    if not lines:
        console.print(Text("  (no log lines)", style="dim"))
