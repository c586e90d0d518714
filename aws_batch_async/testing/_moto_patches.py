"""Guarded changes to moto 5.2's Batch internals, applied in LocalBatch's child process only.

* **One docker client for every job.** moto's ``Job`` (a thread per job) opens its own
  ``docker.from_env()`` client and never closes it; docker-py keeps a connection pool per URL
  it called, so each finished job left about 8 connections to the local Docker engine open
  (16 descriptors in the child: both ends live there). A child that ran 63 jobs under
  ``ulimit -n 1024`` could no longer accept a connection. Every job now shares one client
  whose unix-socket adapter keeps a single bounded pool.
* **TerminateJob leaves finished jobs alone.** moto rewrites a finished job's
  ``statusReason`` (AWS does nothing to a SUCCEEDED or FAILED job).
* **No Docker-host probe per job.** When it runs inside a container (``/.dockerenv``), moto
  runs ``curl`` through a shell to find the address jobs should call it back at
  (``MOTO_HOST``), once per job of the first burst (its cache is not thread-safe), and logs
  two lines each time it fails. LocalBatch's jobs never get that variable (the bridge drops
  it), so the probe is skipped.
* **DescribeJobs looks jobs up by id.** moto walks every job it ever had for each call (its
  cost grew with the store: 10,000 jobs made each poll walk 10,000), and does so while other
  threads submit: "dictionary changed size during iteration", a 500 and a retry, 186 times in
  the first 5,000 jobs of a 10,000-job run. Jobs are now looked up by id (or ARN); a call
  without ids still lists them all, from a copy.

Each patch checks the internals it relies on and, if they moved, logs a warning and leaves
moto as it is (:func:`apply` reports which ones took); ``tests/testing/test_local_scale.py`` fails
loudly when one of them no longer applies to the installed moto.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import threading
from typing import Any

__all__ = ["DOCKER_POOL_SIZE", "SharedDockerClient", "apply"]

_log = logging.getLogger("aws_batch_async.testing.local")

#: Connections the shared docker client keeps to the engine (and has at most).
DOCKER_POOL_SIZE = 8
_POOL_URL = "http+docker://localhost"


class SharedDockerClient:
    """One lazily created ``docker.DockerClient`` for every job of the child, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: Any = None

    def get(self) -> Any:
        """The client (created at first use, from ``DOCKER_HOST``)."""
        with self._lock:
            if self._client is None:
                docker: Any = importlib.import_module("docker")
                client = docker.from_env(max_pool_size=DOCKER_POOL_SIZE)
                _one_pool(client)
                self._client = client
            return self._client

    def close(self) -> None:
        """Close the client's connections. Idempotent."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def apply(shared: SharedDockerClient) -> list[str]:
    """Apply every patch whose internals are where moto 5.2 keeps them.

    Args:
        shared: The docker client the jobs are to share.

    Returns:
        The names of the patches applied (``"shared_docker_client"``,
        ``"terminate_keeps_finished_jobs"``, ``"no_docker_host_probe"``,
        ``"describe_jobs_by_id"``).
    """
    applied: list[str] = []
    try:
        from moto.batch.models import Job
        from moto.utilities.docker_utilities import DockerModel
    except ImportError:  # pragma: no cover - moto is a dependency of the local extra
        _log.warning("moto's Batch models moved: LocalBatch runs moto unpatched")
        return applied
    if isinstance(inspect.getattr_static(DockerModel, "docker_client", None), property):
        Job.docker_client = property(lambda _job: shared.get())  # type: ignore[assignment,method-assign]
        applied.append("shared_docker_client")
    else:
        _log.warning("moto's DockerModel.docker_client moved: each job opens its own client")
    terminate = getattr(Job, "terminate", None)
    if callable(terminate) and {"job_stopped", "stop"} <= _attributes_set_by(Job):

        def terminate_unless_finished(job: Any, reason: str) -> None:
            if job.job_stopped:  # SUCCEEDED or FAILED: AWS leaves it as it is
                return
            terminate(job, reason)

        Job.terminate = terminate_unless_finished  # type: ignore[assignment,method-assign]
        applied.append("terminate_keeps_finished_jobs")
    else:
        _log.warning("moto's Job.terminate moved: TerminateJob may rewrite finished jobs")
    from moto import settings as moto_settings

    settings: Any = moto_settings
    if callable(getattr(settings, "moto_server_host", None)):
        settings.moto_server_host = lambda: "http://host.docker.internal"
        applied.append("no_docker_host_probe")
    else:
        _log.warning("moto's settings.moto_server_host moved: moto may probe Docker per job")
    if _describe_jobs_by_id():
        applied.append("describe_jobs_by_id")
    else:
        _log.warning("moto's BatchBackend.describe_jobs moved: it walks every job per call")
    return applied


def _describe_jobs_by_id() -> bool:
    """Make moto's DescribeJobs look each id up instead of walking every job (see above)."""
    from moto.batch.models import BatchBackend

    describe = getattr(BatchBackend, "describe_jobs", None)
    if not callable(describe) or "_jobs" not in _attributes_set_by(BatchBackend):
        return False
    if list(inspect.signature(describe).parameters) != ["self", "jobs"]:
        return False

    def describe_jobs(backend: Any, jobs: list[str] | None) -> list[dict[str, Any]]:
        known: dict[str, Any] = backend._jobs
        if not jobs:
            return [job.describe() for job in list(known.values())]
        found: dict[str, Any] = {}
        for ref in jobs:
            job = known.get(ref)
            if job is None and ref.startswith("arn:") and "job/" in ref:
                job = known.get(ref.rsplit("job/", 1)[1])
                if job is not None and job.arn != ref:
                    job = None
            if job is not None:
                found.setdefault(job.job_id, job)
        return [job.describe() for job in found.values()]

    BatchBackend.describe_jobs = describe_jobs  # type: ignore[assignment,method-assign]
    return True


def _one_pool(client: Any) -> None:
    """Make the client's unix-socket adapter use one blocking pool instead of one per URL.

    Blocking: a job thread waits for one of the pool's connections rather than opening one
    more, so hundreds of jobs polling at once hold at most ``DOCKER_POOL_SIZE`` connections.
    No call of moto's holds a connection while it waits for another (it asks a container to
    ``wait`` only once it has exited), so waiting cannot deadlock.
    """
    adapter = client.api.get_adapter(_POOL_URL + "/")
    original = adapter.get_connection

    def get_connection(url: str, proxies: Any = None) -> Any:
        pool = original(_POOL_URL, proxies)
        pool.block = True
        return pool

    adapter.get_connection = get_connection


def _attributes_set_by(cls: type) -> set[str]:
    """Names assigned as ``self.<name> = ...`` in ``cls.__init__`` (empty if unreadable)."""
    try:
        source = inspect.getsource(cls.__init__)  # type: ignore[misc]
    except (OSError, TypeError):
        return set()
    return {
        line.split("self.", 1)[1].split("=", 1)[0].strip().split(":")[0]
        for line in source.splitlines()
        if line.strip().startswith("self.") and "=" in line
    }
