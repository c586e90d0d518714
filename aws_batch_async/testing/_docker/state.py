"""The Docker engine's records and answers: containers, their output, and the JSON shapes.

Split from ``_docker_api.py`` (the server) so each file stays readable.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import shutil
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from aiohttp import web

API_VERSION = "1.45"
MIN_API_VERSION = "1.24"


@dataclass
class OutputLine:
    """One line of a container's output.

    Attributes:
        timestamp_ns: When it was read, in nanoseconds since the epoch.
        stream: 1 for stdout, 2 for stderr (Docker's stream ids).
        data: The raw bytes, with the trailing newline if there was one.
        delivered: A listener delivered it elsewhere (e.g. to CloudWatch Logs as it came), so
            the logs endpoint leaves it out.
    """

    timestamp_ns: int
    stream: int
    data: bytes
    delivered: bool = False


@dataclass
class Container:
    """A container record.

    Attributes:
        id: 64 hex characters.
        name: The name given at create (``""`` if none).
        image: The image named at create; never pulled, never used.
        command: ``Entrypoint + Cmd``.
        env: The environment the process gets (``Env`` of the create call).
        status: ``"created"``, ``"running"`` or ``"exited"``.
        exit_code: The exit code once exited (128 + signal number when killed by a signal).
        start_error: Why the command could not be executed, if it could not.
        skipped: The listener said not to run it.
        output: Every output line.
        created_at: ``time.time()`` at create.
        started_at: ``time.time()`` at start.
        finished_at: ``time.time()`` at exit.
        pid: The process id while running.
        workdir: The container's private working directory.
    """

    id: str
    name: str
    image: str
    command: list[str]
    env: dict[str, str]
    status: Literal["created", "running", "exited"] = "created"
    exit_code: int | None = None
    start_error: str | None = None
    skipped: bool = False
    output: list[OutputLine] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    pid: int | None = None
    workdir: Path | None = None
    _done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _killed_by: int | None = field(default=None, repr=False)


class _DockerError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _engine_headers() -> dict[str, str]:
    return {"Api-Version": API_VERSION, "Server": "aws-batch-async-local-runner"}


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, headers=_engine_headers())


def _version() -> dict[str, Any]:
    return {
        "Version": "26.0.0-aws-batch-async",
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "Os": "linux" if os.name == "posix" else os.name,
        "Arch": platform.machine(),
        "KernelVersion": platform.release(),
        "Components": [],
    }


def _inspect(container: Container) -> dict[str, Any]:
    state = {
        "Status": container.status,
        "Running": container.status == "running",
        "Paused": False,
        "Restarting": False,
        "OOMKilled": False,
        "Dead": False,
        "Pid": container.pid or 0,
        "ExitCode": container.exit_code or 0,
        "Error": container.start_error or "",
        "StartedAt": _iso(container.started_at),
        "FinishedAt": _iso(container.finished_at),
    }
    network = {"IPAddress": "127.0.0.1", "Gateway": "127.0.0.1"}
    return {
        "Id": container.id,
        "Name": "/" + container.name,
        "Created": _iso(container.created_at),
        "Path": container.command[0] if container.command else "",
        "Args": container.command[1:],
        "State": state,
        "Image": container.image,
        "Config": {
            "Hostname": container.id[:12],
            "Image": container.image,
            "Cmd": container.command,
            "Tty": False,
            "OpenStdin": False,
            "Env": sorted(container.env),  # names only: values stay with the process
        },
        "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {}}},
        "NetworkSettings": {**network, "Networks": {"bridge": dict(network)}},
        "Mounts": [],
    }


def _summary(container: Container) -> dict[str, Any]:
    return {
        "Id": container.id,
        "Names": ["/" + container.name],
        "Image": container.image,
        "Command": " ".join(container.command),
        "Created": int(container.created_at),
        "State": container.status,
        "Status": container.status,
    }


def _iso(stamp: float | None) -> str:
    if stamp is None:
        return "0001-01-01T00:00:00Z"
    return datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _rfc3339(timestamp_ns: int) -> str:
    seconds, nanos = divmod(timestamp_ns, 1_000_000_000)
    whole = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{nanos // 1000:06d}Z"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _flag(query: Mapping[str, str], name: str) -> bool:
    return query.get(name, "0").lower() in ("1", "true")


def _parse_signal(value: str) -> int:
    text = value.strip().upper()
    if text.isdigit():
        return int(text)
    if not text.startswith("SIG"):
        text = "SIG" + text
    try:
        return int(signal.Signals[text])
    except KeyError:
        raise _DockerError(400, f"invalid signal: {value}") from None


def _killpg(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _remove_dir(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
