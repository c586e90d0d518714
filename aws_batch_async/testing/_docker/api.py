"""A tiny Docker Engine API server that runs "containers" as local processes.

moto's Batch backend runs each job through docker-py (``docker.from_env()``, which honours
``DOCKER_HOST``). :class:`LocalDockerEngine` answers the calls docker-py makes for moto, on a
**unix socket** only (never TCP: it executes commands, so only its owner may reach it; put the
socket in a private 0700 directory):

* ``GET /_ping``, ``GET /version``, ``GET /info``: engine identity (docker-py negotiates the
  API version with ``/version``);
* ``POST /containers/create``: a container record (the image is ignored, never pulled);
* ``POST /containers/{id}/start``: runs ``Entrypoint + Cmd`` as a subprocess (or simulates it);
* ``GET /containers/{id}/json``: inspect (``State.Status``, ``State.ExitCode``...);
* ``POST /containers/{id}/wait``: waits for the exit, answers ``{"StatusCode": n}``;
* ``GET /containers/{id}/logs``: the output in Docker's multiplexed stream format (8-byte frame
  headers), honouring ``stdout``, ``stderr``, ``timestamps``, ``since``, ``until``, ``tail``;
* ``POST /containers/{id}/kill`` (and ``stop``): signals the process group, SIGKILL by default;
* ``DELETE /containers/{id}``: forgets the container and removes its work directory;
* ``GET /containers/json``; ``POST /images/create`` and ``GET /images/{name}/json`` are accepted
  (there are no images).

Every path is also served under a ``/v1.NN`` version prefix, as Docker does.

A container's process gets exactly the container's ``Env``, plus ``PATH`` (the engine's, unless
``Env`` sets one), ``HOME`` (the container's private work directory, which is also its working
directory) and ``HOSTNAME``, as Docker sets them. Nothing else of the engine's environment
leaks into it. When the main process exits, what is left of its process group is killed, as a
container's processes die with it. stdout and stderr share one pipe, so their lines keep the
order in which they were written (Docker's awslogs driver merges them into one stream too); the
logs endpoint therefore reports every line as stdout.

With ``execute=False`` nothing is executed: a container "runs" for ``run_seconds`` and exits
with 0 (or 1 with ``fail=True``). LocalBatch uses that for its "lifecycle" mode.

Deliberate differences from Docker, to keep moto's job thread robust: killing a container that
is not running answers 204 (Docker: 409), and a command that cannot be executed makes a
container that exits at once with 127 (or 126) instead of a failed start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import struct
import time
from pathlib import Path
from typing import Protocol

from aiohttp import web

from .._child_process import forget_group, record_group
from .state import (
    Container,
    OutputLine,
    _as_list,
    _DockerError,
    _engine_headers,
    _flag,
    _inspect,
    _json,
    _killpg,
    _parse_signal,
    _remove_dir,
    _rfc3339,
    _summary,
    _version,
)

__all__ = ["Container", "ContainerListener", "LocalDockerEngine"]

_VERSION_PREFIX = "/v"
#: CloudWatch Logs takes events of up to 256 KiB; longer lines are split.
MAX_LINE_BYTES = 256 * 1024
_READ_CHUNK = 64 * 1024
#: How long leftover output is read once a container's main process has exited.
_DRAIN_SECONDS = 2.0


class ContainerListener(Protocol):
    """Callbacks of :class:`LocalDockerEngine`, called on the engine's event loop."""

    def starting(self, container: Container) -> bool:
        """Called before the container starts; may amend ``container.env``.

        Returns False to not run it at all (its job was cancelled before it started): the
        container then exits at once with 137, as if killed, and ``skipped`` is set.
        """

    def output(self, container: Container, timestamp_ns: int, line: str) -> bool:
        """Called for each output line (without its newline); True if it took care of it."""

    def exited(self, container: Container) -> None:
        """Called once the container exited and its output was read."""


class LocalDockerEngine:
    """A Docker-Engine-API-compatible server on a unix socket that runs containers locally.

    Use it from a running event loop: ``await engine.start()`` ... ``await engine.stop()``.

    Args:
        socket_path: Where to listen. Its directory should be private (0700).
        work_root: Where each container's working directory is created.
        execute: Run each container's command (True), or only simulate it (False).
        run_seconds: How long a simulated container runs.
        fail: Simulated containers exit with 1 instead of 0.
        path: ``PATH`` given to processes whose ``Env`` sets none.
        listener: Told of starts, output lines and exits.
        group_dir: Where to keep one empty file per running container, named after its
            process group (each container's process leads its own group), so that another
            process can kill what is left if this one dies (``kill_recorded_groups``).
    """

    def __init__(
        self,
        socket_path: Path,
        work_root: Path,
        *,
        execute: bool = True,
        run_seconds: float = 1.0,
        fail: bool = False,
        path: str | None = None,
        listener: ContainerListener | None = None,
        group_dir: Path | None = None,
    ) -> None:
        self.socket_path = socket_path
        self.work_root = work_root
        self.execute = execute
        self.run_seconds = run_seconds
        self.fail = fail
        self.path = path if path is not None else os.defpath
        self.listener = listener
        self.group_dir = group_dir
        self.containers: dict[str, Container] = {}
        self._runner: web.AppRunner | None = None

    @property
    def docker_host(self) -> str:
        """The ``DOCKER_HOST`` value that reaches this engine."""
        return f"unix://{self.socket_path}"

    async def start(self) -> None:
        """Listen on the unix socket (mode 0600).

        Raises:
            OSError: The socket cannot be created (e.g. its path is too long).
        """
        if self.group_dir is not None:
            self.group_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.UnixSite(self._runner, str(self.socket_path))
        await site.start()
        os.chmod(self.socket_path, 0o600)

    async def stop(self) -> None:
        """Kill every running container, stop serving, remove work directories. Idempotent."""
        for container in list(self.containers.values()):
            if container.status == "running":
                self._kill(container, signal.SIGKILL)
        tasks = [c._task for c in self.containers.values() if c._task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=_DRAIN_SECONDS + 3)
        for container in self.containers.values():
            if container._task is not None and not container._task.done():
                container._task.cancel()
            _remove_dir(container.workdir)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    # -----------------------------------------------------------------------------------------
    # Routing

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith(_VERSION_PREFIX) and "/" in path[2:]:
            head, rest = path[2:].split("/", 1)
            if head.replace(".", "").isdigit():
                path = "/" + rest
        parts = [p for p in path.split("/") if p]
        method = request.method
        try:
            if parts == ["_ping"] and method in ("GET", "HEAD"):
                return web.Response(text="OK", headers=_engine_headers())
            if parts == ["version"] and method == "GET":
                return _json(_version())
            if parts == ["info"] and method == "GET":
                return _json({"ID": "aws-batch-async", "Containers": len(self.containers)})
            if parts and parts[0] == "images":
                return await self._images(request, parts, method)
            if parts == ["containers", "create"] and method == "POST":
                return await self._create(request)
            if parts == ["containers", "json"] and method == "GET":
                everything = request.query.get("all", "0").lower() in ("1", "true")
                listed = [
                    _summary(c)
                    for c in self.containers.values()
                    if everything or c.status == "running"
                ]
                return _json(listed)
            if len(parts) >= 2 and parts[0] == "containers":
                container = self._find(parts[1])
                action = parts[2] if len(parts) > 2 else ""
                return await self._container_action(request, container, action, method)
        except _DockerError as exc:
            return _json({"message": exc.message}, status=exc.status)
        return _json({"message": "page not found"}, status=404)

    async def _images(self, request: web.Request, parts: list[str], method: str) -> web.Response:
        if parts == ["images", "create"] and method == "POST":
            name = request.query.get("fromImage", "")
            tag = request.query.get("tag", "latest")
            line = {"status": f"Status: image {name}:{tag} is not used by the local runner"}
            return web.Response(body=json.dumps(line).encode() + b"\n", headers=_engine_headers())
        if len(parts) >= 3 and parts[-1] == "json" and method == "GET":
            name = "/".join(parts[1:-1])
            return _json({"Id": "sha256:" + "0" * 64, "RepoTags": [name], "Config": {}})
        return _json({"message": "page not found"}, status=404)

    async def _container_action(
        self, request: web.Request, container: Container, action: str, method: str
    ) -> web.StreamResponse:
        if action == "json" and method == "GET":
            return _json(_inspect(container))
        if action == "start" and method == "POST":
            if container.status != "created":
                return web.Response(status=304)
            await self._start(container)
            return web.Response(status=204)
        if action == "wait" and method == "POST":
            if container.status != "created":
                await container._done.wait()
            return _json({"StatusCode": container.exit_code or 0, "Error": None})
        if action == "logs" and method == "GET":
            return self._logs(request, container)
        if action == "kill" and method == "POST":
            self._kill(container, _parse_signal(request.query.get("signal", "SIGKILL")))
            return web.Response(status=204)
        if action == "stop" and method == "POST":
            self._kill(container, signal.SIGTERM)
            return web.Response(status=204)
        if action == "" and method == "DELETE":
            force = request.query.get("force", "0").lower() in ("1", "true")
            if container.status == "running":
                if not force:
                    raise _DockerError(
                        409, f"cannot remove container {container.id}: it is running"
                    )
                self._kill(container, signal.SIGKILL)
                await container._done.wait()
            self.containers.pop(container.id, None)
            _remove_dir(container.workdir)
            return web.Response(status=204)
        return _json({"message": "page not found"}, status=404)

    def _find(self, ref: str) -> Container:
        if ref in self.containers:
            return self.containers[ref]
        by_name = [c for c in self.containers.values() if c.name == ref.lstrip("/")]
        if by_name:
            return by_name[0]
        by_prefix = [c for c in self.containers.values() if c.id.startswith(ref)]
        if len(by_prefix) == 1:
            return by_prefix[0]
        raise _DockerError(404, f"No such container: {ref}")

    # -----------------------------------------------------------------------------------------
    # Containers

    async def _create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError as exc:
            raise _DockerError(400, f"invalid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise _DockerError(400, "the body must be a JSON object")
        name = request.query.get("name", "").lstrip("/")
        if name and any(c.name == name for c in self.containers.values()):
            raise _DockerError(409, f'Conflict. The container name "/{name}" is already in use')
        command = [*_as_list(body.get("Entrypoint")), *_as_list(body.get("Cmd"))]
        env: dict[str, str] = {}
        for item in body.get("Env") or []:
            key, _, value = str(item).partition("=")
            if key:
                env[key] = value
        container = Container(
            id=secrets.token_hex(32),
            name=name,
            image=str(body.get("Image") or ""),
            command=command,
            env=env,
        )
        self.containers[container.id] = container
        return _json({"Id": container.id, "Warnings": []}, status=201)

    async def _start(self, container: Container) -> None:
        container.workdir = self.work_root / container.id[:12]
        container.workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
        container.started_at = time.time()
        container.status = "running"
        if self.listener is not None and not self.listener.starting(container):
            container.skipped = True
            self._finish(container, 128 + signal.SIGKILL)
            return
        if not self.execute:
            container._task = asyncio.create_task(self._simulate(container))
            return
        if not container.command:
            self._cannot_start(container, 127, "no command specified")
            return
        env = {
            "PATH": self.path,
            "HOSTNAME": container.id[:12],
            "HOME": str(container.workdir),
            **container.env,
        }
        try:
            process = await asyncio.create_subprocess_exec(
                *container.command,
                env=env,
                cwd=container.workdir,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except FileNotFoundError:
            self._cannot_start(
                container,
                127,
                f'exec: "{container.command[0]}": executable file not found in $PATH',
            )
            return
        except PermissionError:
            self._cannot_start(container, 126, f'exec: "{container.command[0]}": permission denied')
            return
        container.pid = process.pid
        if self.group_dir is not None:
            record_group(self.group_dir, process.pid)
        container._task = asyncio.create_task(self._supervise(container, process))

    def _cannot_start(self, container: Container, code: int, message: str) -> None:
        container.start_error = message
        self._finish(container, code)

    async def _simulate(self, container: Container) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(self.run_seconds)
        killed = container._killed_by
        self._finish(container, 128 + killed if killed else (1 if self.fail else 0))

    async def _supervise(self, container: Container, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        reader = asyncio.create_task(self._read(container, process.stdout))
        returncode = await process.wait()
        # A container's processes die with its main process.
        _killpg(process.pid, signal.SIGKILL)
        if self.group_dir is not None:
            forget_group(self.group_dir, process.pid)
        try:
            await asyncio.wait_for(asyncio.shield(reader), _DRAIN_SECONDS)
        except asyncio.TimeoutError:  # a process of another session holds the pipe
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        self._finish(container, returncode if returncode >= 0 else 128 - returncode)

    async def _read(self, container: Container, stream: asyncio.StreamReader) -> None:
        pending = b""
        while True:
            chunk = await stream.read(_READ_CHUNK)
            now = time.time_ns()
            if not chunk:
                if pending:
                    self._line(container, now, pending)
                return
            pending += chunk
            while True:
                cut = pending.find(b"\n")
                if cut < 0:
                    if len(pending) >= MAX_LINE_BYTES:
                        self._line(container, now, pending[:MAX_LINE_BYTES])
                        pending = pending[MAX_LINE_BYTES:]
                        continue
                    break
                if cut + 1 > MAX_LINE_BYTES:
                    self._line(container, now, pending[:MAX_LINE_BYTES])
                    pending = pending[MAX_LINE_BYTES:]
                    continue
                self._line(container, now, pending[: cut + 1])
                pending = pending[cut + 1 :]

    def _line(self, container: Container, timestamp_ns: int, data: bytes) -> None:
        line = OutputLine(timestamp_ns, 1, data)
        container.output.append(line)
        text = data.decode("utf-8", errors="replace").rstrip("\n")
        if self.listener is not None:
            line.delivered = self.listener.output(container, timestamp_ns, text)

    def _finish(self, container: Container, exit_code: int) -> None:
        container.exit_code = exit_code
        container.finished_at = time.time()
        container.pid = None
        container.status = "exited"
        container._done.set()
        if self.listener is not None:
            self.listener.exited(container)

    def _kill(self, container: Container, signum: int) -> None:
        if container.status != "running":
            return  # Docker answers 409; moto's job thread is better served by a no-op
        container._killed_by = signum
        if container.pid is not None:
            _killpg(container.pid, signum)
        elif container._task is not None:  # simulated
            container._task.cancel()

    def _logs(self, request: web.Request, container: Container) -> web.Response:
        query = request.query
        want = {1} if _flag(query, "stdout") else set()
        if _flag(query, "stderr"):
            want.add(2)
        stamps = _flag(query, "timestamps")
        since = float(query.get("since") or 0)
        until = float(query.get("until") or 0)
        lines = [
            line
            for line in container.output
            if line.stream in want
            and not line.delivered
            and line.timestamp_ns / 1e9 >= since
            and (not until or line.timestamp_ns / 1e9 <= until)
        ]
        tail = query.get("tail", "all")
        if tail.isdigit():
            lines = lines[-int(tail) :] if int(tail) else []
        frames = bytearray()
        for line in lines:
            payload = line.data
            if stamps:
                payload = _rfc3339(line.timestamp_ns).encode() + b" " + payload
            frames += struct.pack(">BxxxL", line.stream, len(payload)) + payload
        return web.Response(
            body=bytes(frames),
            content_type="application/vnd.docker.multiplexed-stream",
            headers=_engine_headers(),
        )
