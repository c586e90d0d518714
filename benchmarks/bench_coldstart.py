"""Benchmark: cold start, import + open + first call, aws-batch-async vs raw aiobotocore.

Each run is a fresh interpreter (``sys.executable -c ...``, with the bytecode caches a warm-up
run wrote, as an installed package has them) that measures, from its first statement, the
``import`` of the client, opening it (``async with BatchService(...)`` / aiobotocore's
``create_client``) and one DescribeJobs call against the local stub (``benchmarks/_stub.py``,
its own process). The clients alternate, ``--runs`` times each; a third row is raw aiobotocore
plus importing pydantic and validating one small model: the floor of any client whose requests
and results are pydantic models.

Goal: aws-batch-async's median at most 1.1x raw aiobotocore's, in CPU seconds (the figure a
shared machine measures least noisily); wall seconds are shown beside it. The script exits
with status 1 when the goal is missed.

Usage: ``python benchmarks/bench_coldstart.py [--runs 9] [--profile]`` (``--profile``: one cold
start of aws-batch-async under cProfile, import included).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from _common import KEY_ID, REGION, SECRET, Goal, Measured, Report, StubProcess, median, parser

GOAL = 1.1
OURS = "aws-batch-async"
RAW = "raw aiobotocore"
FLOOR = "raw aiobotocore + pydantic"

_PROLOGUE = """
import time
_wall, _cpu = time.perf_counter(), time.process_time()
"""
_EPILOGUE = """
print(__import__("json").dumps(
    {"wall": time.perf_counter() - _wall, "cpu": time.process_time() - _cpu}
))
"""
SCRIPTS = {
    OURS: """
import asyncio
from aws_batch_async import BatchConfig, BatchService

async def main():
    config = BatchConfig(region=REGION, endpoint_url=URL, access_key_id=KEY,
                         secret_access_key=SECRET)
    async with BatchService(config) as batch:
        await batch.describe_jobs(["job-1"])

asyncio.run(main())
""",
    RAW: """
import asyncio
from aiobotocore.session import AioSession

async def main():
    async with AioSession().create_client(
        "batch", region_name=REGION, endpoint_url=URL, aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
    ) as client:
        await client.describe_jobs(jobs=["job-1"])

asyncio.run(main())
""",
}
#: What any pydantic-based client pays on top of raw aiobotocore: importing pydantic and
#: validating one small model (the floor below which no such client can start).
SCRIPTS[FLOOR] = SCRIPTS[RAW].replace(
    "import asyncio\n",
    "import asyncio\nimport pydantic\n\nclass Job(pydantic.BaseModel):\n"
    "    job_id: str = pydantic.Field(alias='jobId', min_length=1)\n\n"
    "Job.model_validate({'jobId': 'job-1'})\n",
    1,
)


def child_environment(cache: str) -> dict[str, str]:
    """The environment of a measured interpreter: bytecode cached, as an installed package runs.

    Without bytecode caches (``PYTHONDONTWRITEBYTECODE``, or a source tree never imported)
    every module is compiled at each start, which measures the compiler, not the start-up:
    the caches of both clients' modules go to ``cache`` (``PYTHONPYCACHEPREFIX``), written by
    the warm-up runs.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def run_once(name: str, url: str, env: dict[str, str] | None = None) -> Measured:
    settings = f"REGION, URL, KEY, SECRET = {REGION!r}, {url!r}, {KEY_ID!r}, {SECRET!r}\n"
    code = _PROLOGUE + settings + SCRIPTS[name] + _EPILOGUE
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return Measured(figures["wall"], figures["cpu"])


def profile_once(url: str) -> None:
    """aws-batch-async's cold start under cProfile in a fresh interpreter (top 40, cumulative)."""
    from pathlib import Path

    settings = f"REGION, URL, KEY, SECRET = {REGION!r}, {url!r}, {KEY_ID!r}, {SECRET!r}\n"
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "cold_start.py"
        script.write_text(settings + SCRIPTS[OURS])
        subprocess.run(
            [sys.executable, "-m", "cProfile", "-s", "cumulative", str(script)], check=True
        )


def main() -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--runs", type=int, default=9)
    args = args_parser.parse_args()
    runs = 3 if args.quick else args.runs
    if args.profile:
        with StubProcess() as stub:
            profile_once(stub.url)
        return 0
    with StubProcess() as stub, tempfile.TemporaryDirectory() as cache:
        env = child_environment(cache)
        for name in SCRIPTS:  # bytecode caches written, files in the page cache
            run_once(name, stub.url, env)
        results: dict[str, list[Measured]] = {name: [] for name in SCRIPTS}
        for _ in range(runs):
            for name in SCRIPTS:
                results[name].append(run_once(name, stub.url, env))
    cpu = {name: median(r.cpu for r in measured) for name, measured in results.items()}
    wall = {name: median(r.wall for r in measured) for name, measured in results.items()}
    rows = [
        [name, f"{cpu[name] * 1e3:.0f}", f"{wall[name] * 1e3:.0f}", f"{cpu[name] / cpu[RAW]:.2f}x"]
        for name in SCRIPTS
    ]
    report = Report(
        scenario="Cold start",
        description=(
            f"a fresh interpreter: import, open the client, one DescribeJobs; medians of {runs} "
            "runs each"
        ),
        columns=["client", "CPU ms", "wall ms", "CPU vs raw aiobotocore"],
        rows=rows,
        goals=[Goal("CPU vs raw aiobotocore", cpu[OURS] / cpu[RAW], GOAL, "<=")],
        notes=[
            f"wall: {wall[OURS] / wall[RAW]:.2f}x raw aiobotocore",
            f"{FLOOR}: importing pydantic and validating one small model, the floor of any "
            f"client built on pydantic models: {cpu[FLOOR] / cpu[RAW]:.2f}x raw aiobotocore; "
            f"aws-batch-async is {cpu[OURS] / cpu[FLOOR]:.2f}x that floor",
        ],
    )
    report.print()
    report.write(args.json)
    return 0 if report.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
