"""LocalBatch at scale: thousands of ``"run"`` mode jobs, and what the child holds meanwhile.

Starts ``LocalBatch(mode="run")`` and runs ``--jobs`` short jobs (``sh -c "echo job N"``)
through the library: each job is submitted, then waited for with ``wait_for``; at most
``--in-flight`` jobs are unfinished at once (``0``: no cap, every job submitted at once, as the
2,000-job measurement of docs/local-batch.md did). Every half second it samples LocalBatch's
child process from ``/proc``: open file descriptors, threads, resident memory, the size of
``child.log`` (with ``child.log.1``) and the job work directories left on disk. It prints them
when 0, 20 %, 50 % and 100 % of the jobs have finished (0 / 2,000 / 5,000 / 10,000 for 10,000
jobs), then the peaks, the time and SubmitJob's latency (median, p95).

Goals (exit status 1 when one is missed): every job SUCCEEDED; the child's descriptors at the
end within 24 of those at the start (flat: moto's shared Docker pool keeps at most 8 idle
connections, two descriptors each); ``child.log`` with ``child.log.1`` under 16 MiB; no job
work directory and no recorded process group left once every job finished.

Needs Linux (``/proc``). ``--quick`` runs 200 jobs (``nox -s bench -- --quick``); the default is
2,000; ``--jobs 10000`` is the full run of issue 20 (about 10 minutes on a loaded 2-core machine).

Usage: ``python benchmarks/bench_local.py [--jobs 2000] [--in-flight 200] [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aws_batch_async import BatchService, JobRequest, PollPolicy
from aws_batch_async.testing import LocalBatch

QUICK_JOBS = 200
DEFAULT_JOBS = 2_000
#: Descriptors the child may hold at the end beyond those at the start.
FD_SLACK = 24
#: child.log and child.log.1 together (the rotation's bound is twice 8 MiB).
LOG_BOUND = 16 * 2**20
SAMPLE_SECONDS = 0.5


@dataclass
class Sample:
    """The child at one moment."""

    finished: int
    seconds: float
    fds: int
    threads: int
    rss_mib: float
    log_bytes: int
    workdirs: int


@dataclass
class Run:
    """What one run measured."""

    jobs: int
    statuses: Counter[str] = field(default_factory=Counter)
    submitted: int = 0
    finished: int = 0
    submit_seconds: float = 0.0
    seconds: float = 0.0
    milestones: dict[int, Sample] = field(default_factory=dict)
    peak_fds: int = 0
    peak_threads: int = 0
    peak_rss_mib: float = 0.0
    peak_log_bytes: int = 0
    leftover_workdirs: int = 0
    leftover_groups: int = 0
    log_head: str = ""
    submit_latencies: list[float] = field(default_factory=list)


def sample(pid: int, private_dir: Path, finished: int, started: float) -> Sample:
    """Read the child's descriptors, threads, memory, log size and work directories."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    log = 0
    for name in ("child.log", "child.log.1"):
        with contextlib.suppress(OSError):
            log += (private_dir / name).stat().st_size
    return Sample(
        finished=finished,
        seconds=time.perf_counter() - started,
        fds=len(os.listdir(f"/proc/{pid}/fd")),
        threads=int(fields["Threads"].strip()),
        rss_mib=int(fields["VmRSS"].split()[0]) / 1024,
        log_bytes=log,
        workdirs=count(private_dir / "jobs"),
    )


def count(directory: Path) -> int:
    try:
        return len(os.listdir(directory))
    except OSError:
        return 0


def peak_rss_mib(pid: int) -> float:
    """The child's peak resident memory (``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(jobs: int, in_flight: int) -> Run:
    """Run ``jobs`` jobs on a fresh LocalBatch; sample its child meanwhile."""
    run = Run(jobs=jobs)
    marks = sorted({0, jobs // 5, jobs // 2, jobs})
    async with LocalBatch(mode="run") as local:
        assert local.pid is not None
        assert local.private_dir is not None
        pid, private_dir = local.pid, local.private_dir
        config = local.config.model_copy(
            update={
                "poll": PollPolicy(initial_interval=0.5, max_interval=2.0),
                "submit_rate_limit": None,
            }
        )
        started = time.perf_counter()

        def observe() -> None:
            now = sample(pid, private_dir, run.finished, started)
            run.peak_fds = max(run.peak_fds, now.fds)
            run.peak_threads = max(run.peak_threads, now.threads)
            run.peak_log_bytes = max(run.peak_log_bytes, now.log_bytes)
            for mark in marks:
                if run.finished >= mark and mark not in run.milestones:
                    run.milestones[mark] = now
                    print(f"  {row(mark, now)}", file=sys.stderr, flush=True)

        async def sampler() -> None:
            while True:
                observe()
                await asyncio.sleep(SAMPLE_SECONDS)

        sampling = asyncio.create_task(sampler())
        try:
            async with BatchService(config) as batch:
                await run_jobs(batch, run, in_flight, started)
        finally:
            sampling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampling
        run.seconds = time.perf_counter() - started
        await asyncio.sleep(1.0)  # moto's job threads remove their containers after the end
        observe()
        run.milestones[jobs] = sample(pid, private_dir, run.finished, started)
        run.peak_rss_mib = peak_rss_mib(pid)
        run.leftover_workdirs = count(private_dir / "jobs")
        run.leftover_groups = count(private_dir / "groups")
        with contextlib.suppress(OSError):
            run.log_head = (private_dir / "child.log").read_text(errors="replace")[:2000]
    return run


async def run_jobs(batch: BatchService, run: Run, in_flight: int, started: float) -> None:
    """Submit every job, at most ``in_flight`` unfinished at once; wait for each."""
    slots = asyncio.Semaphore(in_flight or run.jobs)

    async def one(number: int) -> None:
        try:
            sent = time.perf_counter()
            job = await batch.submit_job(
                JobRequest(command=["sh", "-c", f"echo job {number}"], job_name=f"job-{number}")
            )
            run.submit_latencies.append(time.perf_counter() - sent)
            run.submitted += 1
            if run.submitted == run.jobs:
                run.submit_seconds = time.perf_counter() - started
            done = await batch.wait_for(job.job_id, timeout=3600, raise_on_failure=False)
            run.statuses[str(done.status)] += 1
        except Exception as exc:  # counted as a miss, not raised: the run goes on
            run.statuses[f"error {type(exc).__name__}"] += 1
        finally:
            run.finished += 1
            slots.release()

    tasks: set[asyncio.Task[None]] = set()
    for number in range(run.jobs):
        await slots.acquire()
        task = asyncio.create_task(one(number))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)


def row(mark: int, at: Sample) -> str:
    return (
        f"{mark:>6} finished  {at.seconds:6.0f} s  fds {at.fds:3d}  threads {at.threads:4d}  "
        f"RSS {at.rss_mib:6.0f} MiB  log {at.log_bytes / 1024:7.1f} KiB  "
        f"work dirs {at.workdirs}"
    )


def report(run: Run) -> list[str]:
    """Print the figures; return the goals missed."""
    print(f"\nLocalBatch run mode: {run.jobs} jobs (sh -c 'echo job N')")
    for mark, at in sorted(run.milestones.items()):
        print("  " + row(mark, at))
    print(f"  statuses: {dict(run.statuses)}")
    print(f"  time {run.seconds:.0f} s, the last job submitted at {run.submit_seconds:.0f} s")
    if run.submit_latencies:
        ordered = sorted(run.submit_latencies)
        p95 = ordered[int(0.95 * (len(ordered) - 1))]
        median = statistics.median(ordered)
        print(f"  SubmitJob: median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    print(
        f"  child peaks: fds {run.peak_fds}, threads {run.peak_threads}, "
        f"RSS {run.peak_rss_mib:.0f} MiB, log {run.peak_log_bytes / 1024:.1f} KiB"
    )
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  this process's peak RSS {parent:.0f} MiB")
    if run.log_head:
        print("  child.log begins with:\n    " + "\n    ".join(run.log_head.splitlines()[:12]))
    missed = []
    if run.statuses.get("SUCCEEDED", 0) != run.jobs:
        missed.append(f"not every job SUCCEEDED: {dict(run.statuses)}")
    first, last = run.milestones[0], run.milestones[run.jobs]
    if last.fds - first.fds > FD_SLACK:
        missed.append(f"descriptors grew from {first.fds} to {last.fds}")
    if run.peak_log_bytes > LOG_BOUND:
        missed.append(f"child.log reached {run.peak_log_bytes} bytes")
    if run.leftover_workdirs or run.leftover_groups:
        missed.append(
            f"{run.leftover_workdirs} work directories and {run.leftover_groups} process "
            "groups left"
        )
    for line in missed:
        print(f"GOAL MISSED: {line}")
    if not missed:
        print("goals met: all SUCCEEDED, descriptors flat, log bounded, nothing left")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, help=f"how many jobs (default {DEFAULT_JOBS})")
    parser.add_argument(
        "--in-flight", type=int, default=200, help="at most this many unfinished (0: no cap)"
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_JOBS} jobs")
    parser.add_argument("--json", help="accepted for run_all.py; no figures are written")
    args = parser.parse_args()
    if not Path("/proc/self/status").is_file():
        print("bench_local.py needs /proc (Linux); skipped")
        return 0
    jobs = args.jobs or (QUICK_JOBS if args.quick else DEFAULT_JOBS)
    run = asyncio.run(measure(jobs, args.in_flight))
    return 1 if report(run) else 0


if __name__ == "__main__":
    sys.exit(main())
