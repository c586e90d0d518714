"""LocalBatch's child as a process: started, kept within bounds, and cleaned up after.

Parent side (:class:`~aws_batch_async.testing.LocalBatch`): the private directory, the child's
environment, reading its ready line, and the clean-up after a child that died
(:func:`clean_up`, :func:`kill_jobs_of`). Child side: :class:`LogRotation` keeps its log
bounded, :func:`raise_open_files_limit` lifts its soft limit of open files, and the Docker
engine records each running job's process group (:func:`record_group`) so that the parent can
kill them (:func:`kill_recorded_groups`) if the child dies. The child also starts a
:class:`Watchdog`, a tiny process of its own session that kills those groups (and removes the
private directory) when the child dies, even if the parent died with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = [
    "GROUPS_DIR",
    "LOG_MAX_BYTES",
    "LOG_NAME",
    "SOCKET_NAME",
    "LogRotation",
    "Watchdog",
    "child_environment",
    "clean_up",
    "forget_group",
    "kill_jobs_of",
    "kill_recorded_groups",
    "make_private_dir",
    "raise_open_files_limit",
    "read_line",
    "record_group",
]

SOCKET_NAME = "docker.sock"
LOG_NAME = "child.log"
GROUPS_DIR = "groups"
#: The child's log is rotated to ``child.log.1`` beyond this size (so at most twice it).
LOG_MAX_BYTES = 8 * 1024 * 1024
#: AF_UNIX paths are limited to about 107 bytes.
_MAX_SOCKET_PATH = 100
#: The watchdog's program (``python -I -S -c``: no site, no package, starts in ~10 ms). It reads
#: its stdin, a pipe whose only writer is LocalBatch's child, until EOF (the child exited or was
#: killed), then SIGKILLs every process group recorded in argv[1] and, unless the child said
#: goodbye first (wrote to the pipe: an orderly stop, whose log the parent may still read),
#: removes argv[2].
_WATCHDOG_PROGRAM = """
import os, shutil, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
orderly = False
try:
    while os.read(0, 4096):
        orderly = True
except OSError:
    pass
try:
    names = os.listdir(sys.argv[1])
except OSError:
    names = []
for name in names:
    if name.isdigit() and int(name) > 1:
        try:
            os.killpg(int(name), signal.SIGKILL)
        except OSError:
            pass
if len(sys.argv) > 2 and not orderly:
    shutil.rmtree(sys.argv[2], ignore_errors=True)
"""


def kill_jobs_of(private_dir: Path) -> None:
    """Kill the job process groups a dead child left running (blocking; runs off the loop)."""
    kill_recorded_groups(private_dir / GROUPS_DIR)


def clean_up(private_dir: Path) -> None:
    """Kill what the child left running and remove its directory (blocking)."""
    kill_jobs_of(private_dir)
    shutil.rmtree(private_dir, ignore_errors=True)


def make_private_dir() -> Path:
    """A 0700 directory short enough for a unix socket path inside it."""
    path = Path(tempfile.mkdtemp(prefix="local-batch-"))
    if len(str(path / SOCKET_NAME)) > _MAX_SOCKET_PATH and Path("/tmp").is_dir():
        shutil.rmtree(path, ignore_errors=True)
        path = Path(tempfile.mkdtemp(prefix="local-batch-", dir="/tmp"))
    os.chmod(path, 0o700)
    return path


def child_environment() -> dict[str, str]:
    """This process's environment without AWS, moto and Docker settings; the package importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_", "DOCKER_"))}
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def read_line(process: subprocess.Popen[bytes], timeout: float) -> bytes | None:
    """Read the child's first line within ``timeout`` (b"" if it exited, None on timeout)."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not selector.select(remaining):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return buffer
            buffer += chunk
    return buffer


def raise_open_files_limit() -> None:
    """Lift this process's soft limit of open files to its hard limit (as Go programs do).

    Each running job holds a pipe and each request in flight a socket (both ends of the
    proxy's connections to moto live here), so a burst of jobs needs more than 1024.
    """
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = max(soft, 65536) if hard == resource.RLIM_INFINITY else hard
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ImportError, ValueError, OSError):  # not POSIX, or not allowed: keep the limit
        pass


class LogRotation:
    """Keeps a log written through file descriptors (stderr, stdout) under ``max_bytes``.

    When the file at ``path`` (open on ``fds``) has grown beyond ``max_bytes``, it becomes
    ``path.1`` (replacing the previous one) and ``fds`` are pointed at a new, empty ``path``.

    Args:
        path: The log file the descriptors write to.
        max_bytes: The size beyond which it is rotated.
        fds: The descriptors that write to it (stdout and stderr of this process).
    """

    def __init__(self, path: Path, max_bytes: int, fds: tuple[int, ...] = (1, 2)) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.fds = fds
        self.rotations = 0

    def check(self) -> bool:
        """Rotate the log if it is too big; True if it did."""
        try:
            if os.fstat(self.fds[-1]).st_size <= self.max_bytes:
                return False
            os.replace(self.path, self.path.with_name(self.path.name + ".1"))
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        except OSError:  # the directory went away, say: keep writing where we were
            return False
        try:
            for target in self.fds:
                os.dup2(fd, target)
        finally:
            os.close(fd)
        self.rotations += 1
        return True

    async def run(self, interval: float) -> None:
        """Check every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            self.check()


def record_group(group_dir: Path, pgid: int) -> None:
    """Record a running job's process group (an empty file named after it)."""
    with contextlib.suppress(OSError):
        (group_dir / str(pgid)).touch(mode=0o600)


def forget_group(group_dir: Path, pgid: int) -> None:
    """Forget a job's process group once it is killed."""
    with contextlib.suppress(OSError):
        (group_dir / str(pgid)).unlink()


def kill_recorded_groups(group_dir: Path) -> int:
    """SIGKILL every process group recorded in ``group_dir`` (see ``LocalDockerEngine``).

    Synchronous: for a process whose engine died (LocalBatch's parent, after its child).

    Args:
        group_dir: The engine's ``group_dir``.

    Returns:
        How many recorded groups still had processes.
    """
    try:
        names = [entry.name for entry in os.scandir(group_dir)]
    except OSError:
        return 0
    killed = 0
    for name in names:
        if name.isdigit() and int(name) > 1:
            try:
                os.killpg(int(name), signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(group_dir, name))
    return killed


class Watchdog:
    """A process that kills the recorded job groups when this process dies, however it dies.

    It runs in a session of its own (a signal to this process's group does not reach it) and
    reads a pipe whose only writer is this process: when this process exits or is killed, the
    kernel closes the pipe, and the watchdog SIGKILLs every group recorded in ``group_dir`` and
    removes ``remove_dir`` (after :meth:`stop`, an orderly end, it leaves the directory alone).
    It needs nothing but POSIX pipes, so it works where Linux's ``PR_SET_PDEATHSIG`` does not
    exist; it covers background processes of a job too (they are in the job's group). If the
    watchdog itself is SIGKILLed, it can do nothing.

    Args:
        group_dir: Where the running jobs' process groups are recorded (:func:`record_group`).
        remove_dir: A directory to remove after killing them (the private directory).
    """

    def __init__(self, group_dir: Path, remove_dir: Path | None = None) -> None:
        self.group_dir = group_dir
        self.remove_dir = remove_dir
        self._process: asyncio.subprocess.Process | None = None
        self._pipe: int | None = None

    @property
    def pid(self) -> int | None:
        """The watchdog's process id while it runs."""
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        """Start the watchdog process."""
        command = [sys.executable, "-I", "-S", "-c", _WATCHDOG_PROGRAM, str(self.group_dir)]
        if self.remove_dir is not None:
            command.append(str(self.remove_dir))
        read_end, write_end = os.pipe()  # not inheritable: no job process holds the pipe
        try:
            self._process = await asyncio.create_subprocess_exec(
                *command,
                stdin=read_end,
                stdout=asyncio.subprocess.DEVNULL,
                start_new_session=True,
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        self._pipe = write_end

    async def stop(self) -> None:
        """Close the pipe after a goodbye, and reap the watchdog.

        The watchdog then kills what is still recorded but leaves ``remove_dir`` to its owners.
        """
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            with contextlib.suppress(OSError):
                os.write(pipe, b"stop\n")
            os.close(pipe)
        process, self._process = self._process, None
        if process is not None:
            await process.wait()
