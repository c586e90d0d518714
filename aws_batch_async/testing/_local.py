"""``LocalBatch``: a local AWS Batch for tests and demos, with no AWS account and no Docker.

Everything runs in a child process (moto keeps global state, and the caller's own tests may use
moto's in-process mocks at the same time); this process only talks HTTP to it. See
``_child.py`` for what the child does and ``_docker_api.py`` for how "run" mode executes jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from .._config import BatchConfig, EventsConfig
from ._child import ChildOptions, Mode
from ._child_process import (
    LOG_NAME,
    SOCKET_NAME,
    child_environment,
    clean_up,
    kill_jobs_of,
    make_private_dir,
    read_line,
)

__all__ = ["LocalBatch", "LocalBatchError"]

#: Credentials and region of every LocalBatch; they reach no AWS account.
LOCAL_ACCESS_KEY_ID = "testing"
LOCAL_SECRET_ACCESS_KEY = "testing"
DEFAULT_REGION = "us-east-1"
_MODES = ("instant", "lifecycle", "run")
_STOP_TIMEOUT = 20.0
_LOG_TAIL = 4000
#: Not ``-m aws_batch_async.testing._child``: importing the package imports ``_child`` first,
#: and runpy then warns in the child's log that it "may result in unpredictable behaviour".
_CHILD_PROGRAM = "from aws_batch_async.testing._child import main; main()"


class LocalBatchError(RuntimeError):
    """LocalBatch could not start, or was used in a way it does not support."""


class LocalBatch:
    """A local AWS Batch: moto behind an AWS-faithful proxy, in a child process.

    Use it as an async or a sync context manager::

        async with LocalBatch(mode="run") as local:
            async with BatchService(local.config) as batch:
                r = await batch.submit_job(JobRequest(command=["sh", "-c", "echo hi; exit 3"]))

    On entry it starts the child process, which serves moto on 127.0.0.1 (a free port) behind
    the proxy and creates an IAM role, an UNMANAGED compute environment, a job queue and a job
    definition. On exit it stops the child and every job process, and removes its private
    temporary directory. Entering does not block the event loop. Each job process leads its
    own process group; if the child dies (killed, crashed), this object kills what is left of
    those groups as soon as it notices, and :attr:`is_running` turns false.

    Modes:

    * ``"instant"``: moto's simple backend. A job is SUCCEEDED (exit code 0) when SubmitJob
      returns, or FAILED (exit code 1) with ``fail=True``. Commands are not run.
    * ``"lifecycle"``: jobs step through SUBMITTED, PENDING, RUNNABLE, STARTING and RUNNING,
      one status every ``step_seconds``, stay RUNNING for ``run_seconds`` and then succeed (or
      fail with exit code 1 with ``fail=True``). Commands are not run.
    * ``"run"``: each job's command runs for real as a local subprocess (the image is
      ignored): real RUNNING durations, exit codes, environment variables, TerminateJob, attempt
      timeouts, and stdout/stderr streamed into CloudWatch Logs line by line. A job process
      gets the job's environment (plus the ``AWS_BATCH_*`` variables AWS sets), ``PATH``,
      ``HOME`` (a private working directory) and ``HOSTNAME``; nothing else of this process's
      environment. The runner that starts them listens on a unix socket in a private (0700)
      directory, never on a TCP port, and exists only in this mode.

    With ``events=True`` every status a job takes (none for SUBMITTED, as on AWS) is also sent
    as a ``Batch Job State Change`` event to moto's EventBridge, whose rule delivers it to an
    SQS queue in the same moto server; :attr:`config` then carries the
    :class:`~aws_batch_async.EventsConfig`, so waits are fed by the events.

    Every mode reports ``container.exitCode`` in DescribeJobs, pages ListJobs and lists only
    RUNNING jobs by default, and refuses DescribeJobs calls of more than 100 ids, as AWS does.

    Args:
        mode: ``"instant"``, ``"lifecycle"`` or ``"run"``.
        fail: Make jobs fail ("instant" and "lifecycle" only; in "run" mode the exit code of
            the command decides).
        step_seconds: Seconds between status changes. Defaults to 1 in "lifecycle" mode and 0
            (no delay) in "run" mode; not used in "instant" mode.
        run_seconds: How long a "lifecycle" job stays RUNNING.
        region: The region of the resources (and of :attr:`config`).
        log_group: The job definition's CloudWatch log group (``awslogs-group``); ``None``
            keeps AWS's default, ``/aws/batch/job``.
        startup_timeout: Seconds to wait for the child process to be ready.
        events: Emit job state-change events to an SQS queue (EventBridge -> SQS).

    Raises:
        ValueError: An argument is invalid or does not apply to the mode.
    """

    def __init__(
        self,
        mode: Mode = "instant",
        *,
        fail: bool = False,
        step_seconds: float | None = None,
        run_seconds: float = 1.0,
        region: str = DEFAULT_REGION,
        log_group: str | None = None,
        startup_timeout: float = 60.0,
        events: bool = False,
    ) -> None:
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {', '.join(_MODES)}, not {mode!r}")
        if fail and mode == "run":
            raise ValueError(
                "fail applies to 'instant' and 'lifecycle' modes; in 'run' mode "
                "the command's exit code decides"
            )
        if step_seconds is not None and mode == "instant":
            raise ValueError("step_seconds does not apply to 'instant' mode")
        if step_seconds is not None and not 0 <= step_seconds <= 3600:
            raise ValueError("step_seconds must be between 0 and 3600")
        if not 0 <= run_seconds <= 86_400:
            raise ValueError("run_seconds must be between 0 and 86400")
        if startup_timeout <= 0:
            raise ValueError("startup_timeout must be positive")
        if log_group is not None and not log_group.strip():
            raise ValueError("log_group must not be empty")
        if step_seconds is None:
            step_seconds = 1.0 if mode == "lifecycle" else 0.0
        self.mode: Mode = mode
        self.fail = fail
        self.step_seconds = step_seconds
        self.run_seconds = run_seconds
        self.region = region
        self.startup_timeout = startup_timeout
        self.events = events
        self._log_group = log_group
        self._private_dir: Path | None = None
        self._info: dict[str, Any] | None = None
        self._async_process: asyncio.subprocess.Process | None = None
        self._sync_process: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None
        self._closed = False
        self._exit_code: int | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._sync_watcher: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self._info["endpoint_url"] if self._info else "not running"
        return f"LocalBatch(mode={self.mode!r}, {where})"

    # -----------------------------------------------------------------------------------------
    # What it exposes

    @property
    def config(self) -> BatchConfig:
        """A :class:`BatchConfig` for this LocalBatch: endpoint, queue, definition, fake keys.

        Adjust it with ``local.config.model_copy(update={...})``. With ``events=True`` it
        carries the :class:`~aws_batch_async.EventsConfig` of the local queue.

        Raises:
            LocalBatchError: LocalBatch is not running.
        """
        info = self._require_info()
        queue_url = info.get("events_queue_url")
        return BatchConfig(
            region=self.region,
            endpoint_url=info["endpoint_url"],
            job_queue=info["job_queue"],
            job_definition=info["job_definition"],
            access_key_id=LOCAL_ACCESS_KEY_ID,
            secret_access_key=LOCAL_SECRET_ACCESS_KEY,
            events=(
                EventsConfig(queue_url=queue_url, endpoint_url=info["moto_url"])
                if queue_url
                else None
            ),
        )

    @property
    def endpoint_url(self) -> str:
        """The Batch (and CloudWatch Logs, IAM...) endpoint, ``http://127.0.0.1:<port>``."""
        return str(self._require_info()["endpoint_url"])

    @property
    def job_queue(self) -> str:
        """The job queue's name."""
        return str(self._require_info()["job_queue"])

    @property
    def job_definition(self) -> str:
        """The job definition's name."""
        return str(self._require_info()["job_definition"])

    @property
    def compute_environment(self) -> str:
        """The UNMANAGED compute environment's name."""
        return str(self._require_info()["compute_environment"])

    @property
    def log_group(self) -> str:
        """The CloudWatch log group jobs of the job definition write to."""
        return str(self._require_info()["log_group"])

    @property
    def runner_socket(self) -> Path | None:
        """The job runner's unix socket ("run" and "lifecycle" modes), else ``None``."""
        info = self._require_info()
        if info.get("docker_host") is None or self._private_dir is None:
            return None
        return self._private_dir / SOCKET_NAME

    @property
    def private_dir(self) -> Path | None:
        """The private (0700) temporary directory, while running; removed on exit."""
        return self._private_dir

    @property
    def pid(self) -> int | None:
        """The child process's id, once started."""
        return self._pid

    @property
    def is_running(self) -> bool:
        """True between a successful entry and the exit, while the child process lives."""
        if self._info is None:
            return False
        if self._async_process is not None and self._async_process.returncode is not None:
            return False
        return not (self._sync_process is not None and self._sync_process.poll() is not None)

    def _require_info(self) -> dict[str, Any]:
        if self._info is None:
            if self._exit_code is not None and not self._closed:
                raise LocalBatchError(
                    f"LocalBatch's child process exited unexpectedly (exit code "
                    f"{self._exit_code}); its jobs were killed"
                )
            raise LocalBatchError(
                "LocalBatch is not running: use `async with LocalBatch() as local`"
            )
        return self._info

    # -----------------------------------------------------------------------------------------
    # Async life

    async def __aenter__(self) -> LocalBatch:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Start the child process and wait, without blocking the loop, until it is ready.

        Raises:
            LocalBatchError: Already started, or the child failed or timed out starting (the
                message carries the end of its log).
        """
        self._check_startable()
        command, env, log = self._prepare()
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                env=env,
            )
        except BaseException:
            log.close()
            self._remove_private_dir()
            raise
        log.close()
        self._async_process = process
        self._pid = process.pid
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), self.startup_timeout)
            self._accept_line(line)
            self._watcher = asyncio.create_task(self._watch(process))
        except asyncio.TimeoutError:
            message = self._failure("did not become ready in time")
            await self.aclose()
            raise LocalBatchError(message) from None
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Stop the child process and every job; remove the private directory. Idempotent.

        Raises:
            LocalBatchError: The LocalBatch was started with ``with`` (use its exit instead).
        """
        if self._sync_process is not None:
            raise LocalBatchError("this LocalBatch was started with `with`; exit it with `with`")
        process, self._async_process = self._async_process, None
        watcher, self._watcher = self._watcher, None
        self._info = None
        self._closed = True
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()
                with contextlib.suppress(ConnectionError):
                    await process.stdin.wait_closed()
            try:
                await asyncio.wait_for(process.wait(), _STOP_TIMEOUT)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
            if process.stdout is not None:
                await process.stdout.read()
        private_dir, self._private_dir = self._private_dir, None
        if private_dir is not None:  # what a child that was killed left behind
            await asyncio.get_running_loop().run_in_executor(None, clean_up, private_dir)

    async def _watch(self, process: asyncio.subprocess.Process) -> None:
        """Notice the child's death before :meth:`aclose`: kill its jobs, stop being running."""
        code = await process.wait()
        self._child_died(code)
        private_dir = self._private_dir
        if private_dir is not None:
            await asyncio.get_running_loop().run_in_executor(None, kill_jobs_of, private_dir)

    # -----------------------------------------------------------------------------------------
    # Sync life

    def __enter__(self) -> LocalBatch:
        self.start_sync()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start_sync(self) -> None:
        """Start the child process and wait (blocking) until it is ready.

        For synchronous code and fixtures; from a coroutine use ``async with`` instead.

        Raises:
            LocalBatchError: Already started, or the child failed or timed out starting.
        """
        self._check_startable()
        command, env, log = self._prepare()
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env
            )
        except BaseException:
            log.close()
            self._remove_private_dir()
            raise
        log.close()
        self._sync_process = process
        self._pid = process.pid
        try:
            line = read_line(process, self.startup_timeout)
            if line is None:
                raise LocalBatchError(self._failure("did not become ready in time"))
            self._accept_line(line)
        except BaseException:
            self.close()
            raise
        self._sync_watcher = threading.Thread(
            target=self._watch_sync, args=(process,), name="LocalBatch-watch", daemon=True
        )
        self._sync_watcher.start()

    def _watch_sync(self, process: subprocess.Popen[bytes]) -> None:
        code = process.wait()
        if self._sync_process is process:  # not closing: the child died on its own
            self._child_died(code)
            private_dir = self._private_dir
            if private_dir is not None:
                kill_jobs_of(private_dir)

    def close(self) -> None:
        """Stop the child process (blocking) and remove the private directory. Idempotent.

        Raises:
            LocalBatchError: The LocalBatch was started with ``async with``.
        """
        if self._async_process is not None:
            raise LocalBatchError(
                "this LocalBatch was started with `async with`; exit it with `async with`"
            )
        process, self._sync_process = self._sync_process, None
        watcher, self._sync_watcher = self._sync_watcher, None
        self._info = None
        self._closed = True
        if process is not None:
            if process.stdin is not None:
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.close()
            try:
                process.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if watcher is not None:
            watcher.join(timeout=_STOP_TIMEOUT)
        private_dir, self._private_dir = self._private_dir, None
        if private_dir is not None:
            clean_up(private_dir)

    # -----------------------------------------------------------------------------------------
    # Helpers

    def _child_died(self, code: int) -> None:
        if self._info is not None:
            self._exit_code = code
            self._info = None

    def _check_startable(self) -> None:
        if self._closed or self._pid is not None:
            raise LocalBatchError("a LocalBatch can be started once; create a new one")

    def _prepare(self) -> tuple[list[str], dict[str, str], IO[bytes]]:
        """Create the private directory and the child's log; return its command and env."""
        self._private_dir = make_private_dir()
        options = ChildOptions(
            mode=self.mode,
            private_dir=str(self._private_dir),
            region=self.region,
            fail=self.fail,
            step_seconds=self.step_seconds,
            run_seconds=self.run_seconds,
            log_group=self._log_group,
            path=os.environ.get("PATH", os.defpath),
            events=self.events,
        )
        command = [sys.executable, "-c", _CHILD_PROGRAM, options.to_json()]
        log = open(self._private_dir / LOG_NAME, "wb")  # noqa: SIM115 - closed by the caller
        return command, child_environment(), log

    def _accept_line(self, line: bytes) -> None:
        if not line.strip():
            raise LocalBatchError(self._failure("exited while starting"))
        try:
            info = json.loads(line)
        except ValueError:
            raise LocalBatchError(self._failure(f"answered {line[:200]!r}")) from None
        self._info = info

    def _failure(self, what: str) -> str:
        log = ""
        if self._private_dir is not None:
            with contextlib.suppress(OSError):
                log = (self._private_dir / LOG_NAME).read_text(errors="replace")[-_LOG_TAIL:]
        return f"LocalBatch's child process {what}" + (
            f"; its log ends with:\n{log}" if log else ""
        )

    def _remove_private_dir(self) -> None:
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)
            self._private_dir = None
