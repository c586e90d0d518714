"""Run every benchmark and write ``docs/performance.md`` (``nox -s bench`` runs this).

The scenario scripts (fan-out, waiting, listing, cold start, throttled fan-out, loop lag and
first look) each write their figures and goals as JSON (``--json``); the other ``bench_*.py``
scripts (fault injection, the poller, events, LocalBatch at scale) are run for their own goals
and their exit status. Every figure is a ratio to a baseline measured in the same run, on this
machine. The script exits with status 1 when any goal is missed (the page is written either way).

Usage: ``python benchmarks/run_all.py [--quick] [--only bench_wait.py] [--output PATH]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import versions

HERE = Path(__file__).parent
#: The scenarios of docs/performance.md, in its order.
SCENARIOS = [
    "bench_throughput.py",
    "bench_wait.py",
    "bench_listing.py",
    "bench_coldstart.py",
    "bench_throttled.py",
    "bench_looplag.py",
]
OUTPUT = HERE.parent / "docs" / "performance.md"


def run(script: str, quick: bool, json_path: str | None) -> tuple[int, float, str]:
    """Run one script; return its exit status, seconds and output."""
    command = [sys.executable, str(HERE / script)]
    if quick:
        command.append("--quick")
    if json_path:
        command += ["--json", json_path]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=HERE, check=False)
    output = done.stdout + (done.stderr if done.returncode else "")
    return done.returncode, time.perf_counter() - start, output


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def page(reports: list[dict[str, Any]], others: list[tuple[str, int, float]], quick: bool) -> str:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    found = versions()
    lines = [
        "# Performance",
        "",
        "Written by `nox -s bench` (`benchmarks/run_all.py`); do not edit by hand. Every figure",
        "is measured in the same run as its baseline, on the machine below, against local stubs",
        "that run in their own process (`benchmarks/_stub.py`), so the CPU figures are the",
        "client's alone. Medians of the rounds each script states.",
        "",
        "| | |",
        "|---|---|",
        f"| date | {when}{' (quick run)' if quick else ''} |",
        f"| machine | {machine()} |",
        f"| Python | {platform.python_implementation()} {platform.python_version()} |",
    ]
    lines += [f"| {name} | {version} |" for name, version in found.items()]
    lines += [
        "",
        "## Goals",
        "",
        "| scenario | goal | measured | bound | |",
        "|---|---|---:|---:|---|",
    ]
    for report in reports:
        for goal in report["goals"]:
            met = _met(goal)
            unit = goal["unit"]
            lines.append(
                f"| {report['scenario']} | {goal['name']} | {goal['value']:.2f}{unit} "
                f"| {goal['op']} {goal['bound']}{unit} | {'met' if met else '**missed**'} |"
            )
    for report in reports:
        lines += ["", f"## {report['scenario']}", "", report["description"] + ".", ""]
        lines.append("| " + " | ".join(report["columns"]) + " |")
        lines.append("|" + "|".join("---" for _ in report["columns"]) + "|")
        lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in report["rows"]]
        if report["notes"]:
            lines.append("")
            lines += [f"- {note}" for note in report["notes"]]
    if others:
        lines += [
            "",
            "## Other benchmarks",
            "",
            "Run for their own goals (see each script's docstring).",
            "",
            "| script | result | seconds |",
            "|---|---|---:|",
        ]
        lines += [
            f"| `benchmarks/{name}` | {'goals met' if rc == 0 else f'**exit status {rc}**'} "
            f"| {seconds:.0f} |"
            for name, rc, seconds in others
        ]
    lines += [
        "",
        "## Where the time goes",
        "",
        "An aiobotocore call spends most of its CPU outside the network: the user agent is",
        "rebuilt twice, the endpoint resolved by the rules engine, the SigV4 key derived, the",
        "parameters validated and serialised and the answer parsed by walking botocore's shapes,",
        "a dozen events dispatched. aws-batch-async's fast path",
        "(`aws_batch_async/_transport/fast_path.py`) lets botocore build each operation's first",
        "request, checks that it rebuilds that request byte for byte (signature included), and",
        "then sends the operation itself: a quick check",
        "of botocore's validation rules, `json.dumps`, the SigV4 key cached per day, the client's",
        "own HTTP session, JSON decoding of the answers the library validates itself (SubmitJob,",
        "DescribeJobs, ListJobs), botocore's own retry handlers and errors. Unknown event",
        "handlers (a passed-in session's), adaptive retries or an active moto mock send the",
        "operation through botocore. `--profile` shows the rest: the HTTP client (aiohttp) and",
        "asyncio, then the library's own layer (models, limiter, token).",
    ]
    lines += [
        "",
        "## Reproducing",
        "",
        "`nox -s bench` runs everything and rewrites this page; each script also runs alone",
        "(`python benchmarks/bench_throughput.py --help`), and `--profile` prints where",
        "aws-batch-async's part of a scenario spends its time (pyinstrument, else cProfile).",
        "The machine is shared while measuring: ratios are steadier than absolute figures.",
        "",
    ]
    return "\n".join(lines)


def _met(goal: dict[str, Any]) -> bool:
    if goal["op"] == "<=":
        return bool(goal["value"] <= goal["bound"])
    return bool(goal["value"] >= goal["bound"])


def main() -> int:
    args_parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args_parser.add_argument("--quick", action="store_true", help="fewer rounds and jobs")
    args_parser.add_argument("--only", action="append", help="run only this script (repeat)")
    args_parser.add_argument("--output", default=str(OUTPUT), help="the page to write")
    args, _ = args_parser.parse_known_args()
    others = sorted(p.name for p in HERE.glob("bench_*.py") if p.name not in SCENARIOS)
    chosen = args.only or SCENARIOS + others
    reports: list[dict[str, Any]] = []
    other_results: list[tuple[str, int, float]] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for script in chosen:
            print(f"== {script}", flush=True)
            path = str(Path(tmp) / f"{script}.json") if script in SCENARIOS else None
            rc, seconds, output = run(script, args.quick, path)
            print(output, flush=True)
            print(f"== {script}: exit status {rc} in {seconds:.0f} s\n", flush=True)
            if rc:
                failed.append(script)
            if path is not None and Path(path).exists():
                reports += json.loads(Path(path).read_text())
            elif script not in SCENARIOS:
                other_results.append((script, rc, seconds))
            else:
                failed.append(f"{script} (no figures)")
    Path(args.output).write_text(page(reports, other_results, args.quick))
    print(f"wrote {args.output}")
    if failed:
        print("goals missed in: " + ", ".join(failed))
        return 1
    print("every goal met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
