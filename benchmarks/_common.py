"""What the benchmark scripts share: the stub process, measuring, profiling and the results file.

Every scenario script measures its clients in interleaved rounds (fair under load drift on a
shared machine) and reports medians. With ``--json PATH`` a script also writes its figures and
goals for ``benchmarks/run_all.py``, which writes ``docs/performance.md``; with ``--profile`` it
profiles aws-batch-async's part under pyinstrument (or cProfile) and prints where time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REGION = "us-east-1"
KEY_ID = SECRET = "bench"
STUB = Path(__file__).with_name("_stub.py")


class StubProcess:
    """The stub (``benchmarks/_stub.py``) in a child process, so its CPU is not ours."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.url = ""
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> StubProcess:
        self._process = subprocess.Popen(
            [sys.executable, str(STUB), *self.args], stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.startswith("PORT "):
            self._process.kill()
            raise RuntimeError("the Batch stub did not start")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/stats") as answer:
            data: dict[str, Any] = json.load(answer)
            return data

    def reset(self) -> None:
        request = urllib.request.Request(self.url + "/reset", data=b"", method="POST")
        with urllib.request.urlopen(request):
            pass


@dataclass
class Measured:
    """One run of one client: wall and CPU seconds of the measured part only."""

    wall: float
    cpu: float
    extra: dict[str, Any] = field(default_factory=dict)


async def timed(awaitable: Awaitable[Any]) -> tuple[Any, float, float]:
    """Await; return the result with the wall and CPU seconds it took."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = await awaitable
    return result, time.perf_counter() - wall, time.process_time() - cpu


def raw_client(url: str, config: Any = None) -> Any:
    """A raw aiobotocore Batch client on ``url`` (the baselines), as ``async with`` it.

    Args:
        url: The endpoint (a stub or moto).
        config: An ``AioConfig``, or ``None`` for botocore's defaults.
    """
    from aiobotocore.session import AioSession

    return AioSession().create_client(
        "batch",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        config=config,
    )


def median(values: Any) -> float:
    return float(statistics.median(list(values)))


def rounds(
    clients: dict[str, Callable[[], Measured]], runs: int, skip: dict[str, int] | None = None
) -> dict[str, list[Measured]]:
    """Run every client once per round, ``runs`` rounds (a client in ``skip`` stops early).

    Each run starts from a collected heap (``gc.collect()``), so that no client pays for the
    garbage the one before it left: a full collection of a process holding botocore's models
    costs tens of milliseconds, and would otherwise land in whichever run triggers it.
    """
    results: dict[str, list[Measured]] = {name: [] for name in clients}
    for round_ in range(runs):
        for name, run in clients.items():
            if skip and name in skip and round_ >= skip[name]:
                continue
            gc.collect()
            results[name].append(run())
        print(f"  round {round_ + 1}/{runs} done", file=sys.stderr)
    return results


@dataclass
class Goal:
    """One goal of a scenario: ``value`` compared with ``bound`` (``<=`` or ``>=``)."""

    name: str
    value: float
    bound: float
    op: str  # "<=" or ">="
    unit: str = "x"

    @property
    def met(self) -> bool:
        return self.value <= self.bound if self.op == "<=" else self.value >= self.bound

    def line(self) -> str:
        verdict = "goal met" if self.met else "GOAL MISSED"
        bound = f"{self.op} {self.bound}{self.unit}"
        return f"{verdict}: {self.name} {self.value:.2f}{self.unit} ({bound})"


@dataclass
class Report:
    """What a scenario script hands to ``run_all.py``."""

    scenario: str
    description: str
    columns: list[str]
    rows: list[list[str]]
    goals: list[Goal]
    notes: list[str] = field(default_factory=list)

    def ok(self) -> bool:
        return all(goal.met for goal in self.goals)

    def print(self) -> None:
        print(f"\n{self.scenario}: {self.description}\n")
        widths = [
            max(len(str(c)), *(len(str(r[i])) for r in self.rows))
            for i, c in enumerate(self.columns)
        ]
        print("  ".join(str(c).ljust(w) for c, w in zip(self.columns, widths, strict=True)))
        for row in self.rows:
            print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))
        for note in self.notes:
            print(note)
        for goal in self.goals:
            print(goal.line())

    def write(self, path: str | None) -> None:
        write_reports(path, [self])


def write_reports(path: str | None, reports: list[Report]) -> None:
    """Write ``reports`` for ``run_all.py`` (nothing without a path)."""
    if path:
        Path(path).write_text(json.dumps([asdict(r) for r in reports], indent=1))


def parser(doc: str | None) -> argparse.ArgumentParser:
    """The arguments every scenario script takes."""
    first = (doc or "").split("\n\n")[0]
    result = argparse.ArgumentParser(description=first)
    result.add_argument("--json", help="write the figures and goals to this file")
    result.add_argument(
        "--profile", action="store_true", help="profile aws-batch-async's part and print it"
    )
    result.add_argument("--quick", action="store_true", help="fewer rounds and jobs")
    return result


@contextlib.contextmanager
def profiling(enabled: bool) -> Iterator[None]:
    """Profile the block with pyinstrument (cProfile if it is not installed) and print it."""
    if not enabled:
        yield
        return
    try:
        from pyinstrument import Profiler
    except ImportError:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        try:
            yield
        finally:
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        return
    profiler = Profiler(interval=0.0002, async_mode="disabled")
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))


def run(coroutine: Awaitable[Any]) -> Any:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


def versions() -> dict[str, str]:
    """The versions of what the figures depend on."""
    from importlib import metadata

    found = {}
    for name in ("aws-batch-async", "aiobotocore", "botocore", "aiohttp", "boto3", "capo-batch"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found
