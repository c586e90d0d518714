"""Test helpers for waiting: a moto server in a child process that walks jobs through statuses.

moto's config and state manager are process-wide, so the in-process simple-mode server of
``conftest.py`` cannot also run time transitions. :class:`LifecycleMotoServer` runs a second moto
in a child process, left in docker mode: with ``set_job_transition(url, seconds)`` jobs step
SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING one status every ``seconds``, then end FAILED
because no Docker engine is reachable (``DOCKER_HOST`` points nowhere, even on a machine with
Docker).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from types import TracebackType
from typing import Any

from aiobotocore.session import AioSession

from aws_batch_async.testing import BatchInfrastructure
from aws_batch_async.testing._moto import moto_api

REGION = "us-east-1"
_STARTUP_TIMEOUT = 60.0


class LifecycleMotoServer:
    """``python -m moto.server`` on 127.0.0.1 and a free port, killed on :meth:`stop`."""

    def __init__(self) -> None:
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def start(self) -> LifecycleMotoServer:
        """Start the child process; return once it answers HTTP.

        Raises:
            RuntimeError: The server exited or did not answer in time.
        """
        port = _free_port()
        env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/aws-batch-async-test.sock"}
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self.stop()
                raise RuntimeError("the lifecycle moto server exited at start-up")
            try:
                with urllib.request.urlopen(self.url + "/moto-api/", timeout=2):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the lifecycle moto server did not answer in {_STARTUP_TIMEOUT:g}s")

    def stop(self) -> None:
        """Kill the child process and wait for it. Idempotent."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait(timeout=30)
        if self._log is not None:
            self._log.close()
            self._log = None

    def reset(self) -> None:
        """Wipe moto's state (its config and transitions stay)."""
        moto_api(self.url, "/moto-api/reset")

    def __enter__(self) -> LifecycleMotoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


async def submit_jobs(
    endpoint_url: str,
    infra: BatchInfrastructure,
    count: int = 1,
    *,
    array_size: int | None = None,
) -> list[str]:
    """Submit ``count`` jobs straight to moto with a raw aiobotocore client; return their ids.

    Test set-up only: it keeps the waiting tests independent of ``submit_job``'s own features
    (rate limiting, idempotency tags) and fast.
    """
    extra: dict[str, Any] = {}
    if array_size is not None:
        extra["arrayProperties"] = {"size": array_size}
    async with AioSession().create_client(
        "batch",
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        responses = await asyncio.gather(
            *(
                client.submit_job(
                    jobName=f"wait-test-{i}",
                    jobQueue=infra.job_queue,
                    jobDefinition=infra.job_definition,
                    **extra,
                )
                for i in range(count)
            )
        )
    return [response["jobId"] for response in responses]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
