"""LocalBatch's child process: moto, the AWS-faithful proxy and (in "run" mode) the job runner.

The parent (:class:`~aws_batch_async.testing.LocalBatch`) starts
``python -c '<import and call main>' '<options as JSON>'`` with its stdin and stdout as
pipes and stderr going to a log file in a private directory. This process:

1. in "run" and "lifecycle" modes, serves :class:`LocalDockerEngine` on a unix socket in that
   private directory and points moto's docker-py at it (``DOCKER_HOST``);
2. starts moto's server on 127.0.0.1 (a free port); "instant" mode uses moto's simple Batch
   backend, the others its docker backend (with status transitions every ``step_seconds``);
3. creates the IAM role, the UNMANAGED compute environment, the queue and the job definition;
4. starts :class:`BatchProxy` in front of moto, with :meth:`_MotoBridge.amend` as its
   DescribeJobs hook and its emulation of EKS and ECS-properties jobs
   (:mod:`._proxy_kinds`: each runs as a container job of moto's) and of multi-node jobs
   (:mod:`._proxy_nodes`: each node runs as a container job of moto's);
5. with ``events``, sets up the SQS queue and EventBridge rule and starts the
   :class:`~aws_batch_async.testing._events_local.EventEmitter` (a job state-change event for
   each status a job takes);
6. writes one JSON line to stdout (the endpoint and the resource names), then serves until its
   stdin reaches EOF (the parent closed it, or died) or it gets SIGTERM, and stops everything.

For runs of thousands of jobs it applies :mod:`._moto_patches` (one docker client shared by
every job, instead of one leaked per job), keeps its log (stderr, ``child.log``) under
``log_max_bytes`` by rotating it to ``child.log.1``, and records the process group of each
running job in ``<private_dir>/groups`` so the parent can kill them if this process dies. In
"run" mode it also starts a :class:`~._child_process.Watchdog` that kills them (and removes the
private directory) when this process dies, even if the parent is dead too.

It is synchronous where it talks to moto (this process is ours; no caller's loop is blocked).

:class:`_MotoBridge` ties the runner to moto's job objects (moto 5.2 internals, guarded: if they
change, logs fall back to moto's own collection at the end of each job). It streams each output
line into CloudWatch Logs as it is written (moto only collects logs when a container ends),
writes to the job definition's ``awslogs-group`` (moto always writes ``/aws/batch/job``), shows
``logStreamName`` while the job runs, and completes DescribeJobs the way AWS does:
``container.exitCode`` (moto omits it), ``container.logConfiguration``, and the status reasons
AWS gives ("Essential container in task exited", "Job attempt duration exceeded timeout",
"CannotStartContainerError: ...").
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import sys
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from ._child_process import (
    GROUPS_DIR,
    LOG_MAX_BYTES,
    LOG_NAME,
    SOCKET_NAME,
    LogRotation,
    Watchdog,
    raise_open_files_limit,
)
from ._proxy.nodes_view import NODE_JOB_ID_VARIABLE

if TYPE_CHECKING:
    from ._docker.api import Container, LocalDockerEngine
    from ._events_local import EventEmitter
    from ._moto import MotoServer
    from ._proxy.proxy import BatchProxy

__all__ = ["SOCKET_NAME", "ChildOptions", "main"]

DEFAULT_LOG_GROUP = "/aws/batch/job"
RESOURCE_NAME = "local-batch"
_LOG_CHECK_SECONDS = 1.0
Mode = Literal["instant", "lifecycle", "run"]

_log = logging.getLogger("aws_batch_async.testing.local")
_TERMINAL = ("SUCCEEDED", "FAILED")
_MOTO_ONLY_ENV = ("MOTO_HOST", "MOTO_PORT", "MOTO_HTTP_ENDPOINT")
#: The attribute of moto's job object that holds how its container ended (a ``_Run``).
_RUN_ATTRIBUTE = "_aws_batch_async_run"


@dataclass(frozen=True)
class ChildOptions:
    """What the parent asks of the child. Serialised as JSON on the command line.

    Attributes:
        mode: ``"instant"``, ``"lifecycle"`` or ``"run"``.
        private_dir: A 0700 directory owned by the parent (socket, job work dirs).
        region: The region of every resource.
        fail: Jobs fail ("instant" and "lifecycle").
        step_seconds: Seconds per status step (0: immediate).
        run_seconds: How long a "lifecycle" job stays RUNNING.
        log_group: The job definition's awslogs group (``None``: AWS's default).
        path: ``PATH`` for job processes.
        events: Emit ``Batch Job State Change`` events to an SQS queue through EventBridge.
        log_max_bytes: Rotate ``child.log`` (this process's stderr) beyond this size.
    """

    mode: Mode
    private_dir: str
    region: str
    fail: bool = False
    step_seconds: float = 0.0
    run_seconds: float = 1.0
    log_group: str | None = None
    path: str = os.defpath
    events: bool = False
    log_max_bytes: int = LOG_MAX_BYTES

    def to_json(self) -> str:
        """The options as one JSON string."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ChildOptions:
        """Parse :meth:`to_json`'s output."""
        return cls(**json.loads(text))


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the child until its stdin closes or it gets SIGTERM, then exit the process.

    Args:
        argv: ``[options as JSON]``; ``sys.argv[1:]`` if omitted.

    Raises:
        Exception: Whatever stopped the start-up (the interpreter prints it to the log and
            exits with 1; the parent reports the end of the log).
    """
    args = sys.argv[1:] if argv is None else argv
    options = ChildOptions.from_json(args[0])
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the log
    # The shared docker client opens extra connections under load and says so at each.
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when this process ends
    raise_open_files_limit()
    asyncio.run(_serve(options))
    # Everything that matters is stopped (job processes killed and reaped, sockets closed);
    # skip the interpreter's teardown of moto's thousands of objects, which takes a second.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


async def _serve(options: ChildOptions) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    transport, _ = await loop.connect_read_pipe(lambda: _EndOfInput(stop), sys.stdin)
    private = Path(options.private_dir)
    services = _Services(options)
    rotation = LogRotation(private / LOG_NAME, options.log_max_bytes)
    rotating: asyncio.Task[None] | None = None
    try:
        ready = await services.start()
        if not _announce(ready):  # the parent is gone already
            stop.set()
        rotating = asyncio.create_task(rotation.run(_LOG_CHECK_SECONDS))
        await stop.wait()
    finally:
        if rotating is not None:
            rotating.cancel()
        transport.close()
        await services.stop()
    # The parent removes the directory too; this covers a parent that was killed.
    shutil.rmtree(private, ignore_errors=True)


def _announce(ready: dict[str, Any]) -> bool:
    """Write the ready line to the parent; from then on stdout goes to the log.

    Returns:
        False if the parent is gone.
    """
    try:
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        return False
    finally:
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nothing else goes to the parent
    return True


class _Services:
    """What the child serves: the Docker engine (and its watchdog), moto, the proxy, events."""

    def __init__(self, options: ChildOptions) -> None:
        from ._moto_patches import SharedDockerClient

        self.options = options
        self.private = Path(options.private_dir)
        self.bridge = _MotoBridge(options.mode, options.region)
        self.docker_client = SharedDockerClient()
        self.engine: LocalDockerEngine | None = None
        self.watchdog: Watchdog | None = None
        self.moto: MotoServer | None = None
        self.proxy: BatchProxy | None = None
        self.emitter: EventEmitter | None = None

    async def start(self) -> dict[str, Any]:
        """Start everything; return the ready line's content."""
        from ._moto import MotoServer, create_batch_infrastructure, set_job_transition
        from ._moto_patches import apply
        from ._proxy.proxy import BatchProxy

        options = self.options
        os.environ.pop("MOTO_SIMPLE_BATCH_FAIL_AFTER", None)
        apply(self.docker_client)
        if options.mode == "instant":
            if options.fail:
                os.environ["MOTO_SIMPLE_BATCH_FAIL_AFTER"] = "0"
        else:
            await self._start_engine()
        self.moto = moto = MotoServer(simple_batch=options.mode == "instant").start()
        if options.mode != "instant" and options.step_seconds > 0:
            set_job_transition(moto.url, options.step_seconds)
        infra = create_batch_infrastructure(
            moto.url, region=options.region, name=RESOURCE_NAME, log_group=options.log_group
        )
        self.proxy = proxy = BatchProxy(
            moto.url, describe_hook=self.bridge.amend, emulate_kinds=True
        ).start()
        proxy.service_jobs.outcome = "FAILED" if options.fail else "SUCCEEDED"  # service jobs
        if options.step_seconds > 0:
            proxy.service_jobs.step = options.step_seconds
        queue_url = self._start_events(infra.job_queue) if options.events else None
        return {
            "endpoint_url": proxy.url,
            "job_queue": infra.job_queue,
            "job_definition": infra.job_definition,
            "compute_environment": infra.compute_environment,
            "log_group": options.log_group or DEFAULT_LOG_GROUP,
            "docker_host": self.engine.docker_host if self.engine is not None else None,
            "moto_url": moto.url,
            "events_queue_url": queue_url,
        }

    async def _start_engine(self) -> None:
        from ._docker.api import LocalDockerEngine

        options, private = self.options, self.private
        execute = options.mode == "run"
        self.engine = LocalDockerEngine(
            private / SOCKET_NAME,
            private / "jobs",
            execute=execute,
            run_seconds=options.run_seconds,
            fail=options.fail,
            path=options.path,
            listener=self.bridge,
            group_dir=private / GROUPS_DIR,
        )
        await self.engine.start()
        os.environ["DOCKER_HOST"] = self.engine.docker_host
        if execute:  # job processes die with this process, whoever kills it
            self.watchdog = Watchdog(private / GROUPS_DIR, remove_dir=private)
            await self.watchdog.start()

    def _start_events(self, job_queue: str) -> str:
        from ._events_local import EventEmitter, create_event_queue

        assert self.moto is not None
        assert self.proxy is not None
        queue_url = create_event_queue(self.moto.url, self.options.region, job_queue)
        kinds, nodes, bridge = self.proxy.kinds, self.proxy.nodes, self.bridge
        assert kinds is not None
        assert nodes is not None

        def amend(job: dict[str, Any]) -> None:
            bridge.amend(job)
            kinds.present(job)
            nodes.present(job)  # a node's events name the node, P#i

        self.emitter = EventEmitter(self.moto.url, self.options.region, amend).start()
        return queue_url

    async def stop(self) -> None:
        """Stop what was started, jobs first."""
        if self.emitter is not None:
            self.emitter.stop()
        if self.engine is not None:
            await self.engine.stop()
        if self.watchdog is not None:
            await self.watchdog.stop()
        if self.proxy is not None:
            self.proxy.stop()
        self.docker_client.close()
        # moto's server thread is a daemon: it ends with this process, which ends now (its
        # graceful shutdown would only add half a second of polling).


class _EndOfInput(asyncio.Protocol):
    """Sets ``stop`` when the parent closes our stdin (or dies)."""

    def __init__(self, stop: asyncio.Event) -> None:
        self._stop = stop

    def data_received(self, data: bytes) -> None:
        """Input is ignored; only its end matters."""

    def eof_received(self) -> bool | None:
        self._stop.set()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop.set()


class _MotoBridge:
    """Connects the runner to moto's job objects, and amends DescribeJobs like AWS.

    The runner's callbacks run on this process's event loop; :meth:`amend` runs on the proxy's
    thread and only reads.
    """

    def __init__(self, mode: Mode, region: str) -> None:
        self._mode = mode
        self._region = region
        # job id -> what its (latest) container did, while it runs; then on moto's job object
        # (_RUN_ATTRIBUTE), so that this bridge holds nothing per finished job.
        self._runs: dict[str, _Run] = {}
        self._targets: dict[str, tuple[Any, str, str]] = {}  # container id -> logs target
        self._job_ids: dict[str, str] = {}  # container id -> moto's job id

    def _job(self, job_id: str, arn: str | None = None) -> Any:
        try:
            from moto.batch.models import batch_backends
            from moto.core.models import DEFAULT_ACCOUNT_ID

            account, region = DEFAULT_ACCOUNT_ID, self._region
            parts = (arn or "").split(":")
            if len(parts) >= 6 and parts[3] and parts[4]:
                region, account = parts[3], parts[4]
            return batch_backends[account][region]._jobs.get(job_id)
        except Exception:  # moto internals moved: amend less, never break DescribeJobs
            _log.exception("cannot look up moto's job %s", job_id)
            return None

    # -----------------------------------------------------------------------------------------
    # ContainerListener

    def starting(self, container: Container) -> bool:
        """Give the job AWS's environment and open its log stream before it starts.

        Returns False for a job cancelled before it started (moto would still start it).
        """
        for name in _MOTO_ONLY_ENV:
            container.env.pop(name, None)
        job_id = container.env.get("AWS_BATCH_JOB_ID")
        if not job_id:
            return True
        node_id = container.env.pop(NODE_JOB_ID_VARIABLE, None)
        if node_id:  # a node of a multi-node job: its process sees AWS's id, P#i
            container.env["AWS_BATCH_JOB_ID"] = node_id
        self._runs[job_id] = _Run(container.id)
        self._job_ids[container.id] = job_id
        job = self._job(job_id)
        if job is None:
            return True
        if getattr(job, "stop", False):
            return False
        try:
            env = container.env
            env.setdefault("AWS_BATCH_JOB_ATTEMPT", str(max(1, len(job.attempts))))
            env.setdefault("AWS_BATCH_JQ_NAME", job.job_queue.name)
            environments = job.job_queue.environments
            if environments:
                env.setdefault("AWS_BATCH_CE_NAME", environments[0].name)
            if ":" in job_id:
                env.setdefault("AWS_BATCH_JOB_ARRAY_INDEX", job_id.rsplit(":", 1)[1])
            group = log_group_of(job.job_definition.container_properties)
            stream = job._stream_name
            backend = job._log_backend
            backend.ensure_log_group(group)
            backend.ensure_log_stream(group, stream)
            job._log_group = group
            job.log_stream_name = stream
            if job.latest_attempt:
                job.latest_attempt["container"]["logStreamName"] = stream
            self._targets[container.id] = (backend, group, stream)
        except Exception:
            _log.exception(
                "live logs unavailable for job %s; moto collects them at its end", job_id
            )
        return True

    def output(self, container: Container, timestamp_ns: int, line: str) -> bool:
        """Put one line into the job's CloudWatch stream as it is written."""
        target = self._targets.get(container.id)
        if target is None:
            return False
        if not line:
            return True  # CloudWatch Logs takes no empty events; the awslogs driver skips them
        backend, group, stream = target
        try:
            backend.put_log_events(
                group, stream, [{"timestamp": timestamp_ns // 1_000_000, "message": line}]
            )
        except Exception:
            _log.exception("cannot put a log event into %s %s", group, stream)
            return False
        return True

    def exited(self, container: Container) -> None:
        """Remember how the container ended (not its output); forget its log target."""
        self._targets.pop(container.id, None)
        job_id = self._job_ids.pop(container.id, None)
        run = self._runs.get(job_id) if job_id else None
        if job_id is None or run is None or run.container_id != container.id:
            return
        run.exit_code = container.exit_code
        run.start_error = container.start_error
        run.skipped = container.skipped
        job = self._job(job_id)
        if job is not None:  # kept as long as moto keeps the job, and no longer
            setattr(job, _RUN_ATTRIBUTE, run)
            del self._runs[job_id]

    # -----------------------------------------------------------------------------------------
    # DescribeJobs hook

    def amend(self, raw: dict[str, Any]) -> None:
        """Complete a DescribeJobs job the way AWS reports it (moto omits these)."""
        job_id = raw.get("jobId")
        if not isinstance(job_id, str):
            return
        job = self._job(job_id, raw.get("jobArn"))
        if job is None:
            return
        try:
            self._amend(raw, job)
        except Exception:
            _log.exception("cannot amend job %s", job_id)

    def _amend(self, raw: dict[str, Any], job: Any) -> None:
        container = raw.get("container")
        if isinstance(container, dict):
            _amend_container(container, job)
        self._ecs_identity(raw, job)
        status = raw.get("status")
        if status not in _TERMINAL or (raw.get("arrayProperties") or {}).get("size"):
            return
        run: _Run | None = self._runs.get(raw["jobId"]) or getattr(job, _RUN_ATTRIBUTE, None)
        exit_code = self._exit_code(status, job, run)
        reason, status_reason = _failure_reasons(raw, job, run, exit_code)
        if status_reason:
            raw["statusReason"] = status_reason
        details: list[dict[str, Any]] = []
        if isinstance(container, dict):
            details.append(container)
        attempts = raw.get("attempts")
        if isinstance(attempts, list) and attempts and isinstance(attempts[-1], dict):
            last = attempts[-1]
            if status_reason:
                last.setdefault("statusReason", status_reason)
            if isinstance(last.get("container"), dict):
                details.append(last["container"])
        for detail in details:
            if exit_code is not None:
                detail.setdefault("exitCode", exit_code)
            if reason:
                detail.setdefault("reason", reason)

    def _exit_code(self, status: str, job: Any, run: _Run | None) -> int | None:
        """The exit code AWS reports for a finished job."""
        if run is not None and run.skipped:  # cancelled before it started: it never ran
            return None
        if self._mode == "instant":
            return 0 if status == "SUCCEEDED" else 1
        exit_code: int | None = job.exit_code
        if exit_code is None and run is not None:
            exit_code = run.exit_code
        return exit_code

    def _ecs_identity(self, raw: dict[str, Any], job: Any) -> None:
        """Name the ECS task and container instance of each attempt as AWS does.

        moto says ``containerInstanceArn: "TBD"`` and gives the job definition's ARN as the
        ``taskArn``. The names made here are stable (derived from the job id and the attempt),
        in the compute environment's cluster; Fargate jobs have no container instance.
        """
        attempts = raw.get("attempts")
        if not isinstance(attempts, list) or not attempts:
            return
        parts = str(raw.get("jobArn", "")).split(":")
        region, account = (parts[3], parts[4]) if len(parts) >= 6 else (self._region, "")
        environments = getattr(job.job_queue, "environments", None) or []
        cluster = f"AWSBatch-{environments[0].name if environments else RESOURCE_NAME}"
        prefix = f"arn:aws:ecs:{region}:{account}:"
        instance = (
            f"{prefix}container-instance/{cluster}/{uuid.uuid5(uuid.NAMESPACE_URL, cluster).hex}"
        )
        fargate = "FARGATE" in (raw.get("platformCapabilities") or [])
        latest: dict[str, Any] = {}
        for number, attempt in enumerate(attempts):
            container = attempt.get("container") if isinstance(attempt, dict) else None
            if not isinstance(container, dict):
                continue
            task_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{raw.get('jobId')}#{number}").hex
            task = f"{prefix}task/{cluster}/{task_id}"
            if not str(container.get("taskArn", "")).startswith(prefix + "task/"):
                container["taskArn"] = task
            if fargate:
                container.pop("containerInstanceArn", None)
            elif container.get("containerInstanceArn") in (None, "TBD"):
                container["containerInstanceArn"] = instance
            latest = container
        top = raw.get("container")
        if isinstance(top, dict) and latest:
            for key in ("taskArn", "containerInstanceArn"):
                if key in latest:
                    top.setdefault(key, latest[key])


@dataclass
class _Run:
    """How a job's container ended, as the DescribeJobs hook needs it."""

    container_id: str
    exit_code: int | None = None
    start_error: str | None = None
    skipped: bool = False


def log_group_of(container_properties: dict[str, Any] | None) -> str:
    """The CloudWatch group a job definition's container logs to."""
    conf = (container_properties or {}).get("logConfiguration") or {}
    options = conf.get("options") or {}
    return str(options.get("awslogs-group") or DEFAULT_LOG_GROUP)


def _amend_container(container: dict[str, Any], job: Any) -> None:
    """Deduplicate the environment and add the job definition's log configuration."""
    environment = container.get("environment")
    if isinstance(environment, list):  # moto appends AWS_BATCH_JOB_ID at each describe
        container["environment"] = _unique_by_name(environment)
    props = job.job_definition.container_properties or {}
    if props.get("logConfiguration"):
        container.setdefault("logConfiguration", props["logConfiguration"])


def _failure_reasons(
    raw: dict[str, Any], job: Any, run: _Run | None, exit_code: int | None
) -> tuple[str | None, str | None]:
    """The container's ``reason`` and the job's ``statusReason`` AWS gives a failed job."""
    status_reason: str | None = raw.get("statusReason")
    if raw.get("status") != "FAILED" or status_reason:
        return None, status_reason
    if run is not None and run.start_error:
        reason = f"CannotStartContainerError: {run.start_error}"
        return reason, reason
    if _timed_out(job):
        return None, "Job attempt duration exceeded timeout"
    if exit_code:
        return None, "Essential container in task exited"
    return None, None


def _unique_by_name(items: list[Any]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    unique = []
    for item in items:
        if isinstance(item, dict) and str(item.get("name")) not in seen:
            seen.add(str(item.get("name")))
            unique.append(item)
    return unique


def _timed_out(job: Any) -> bool:
    duration = job._get_attempt_duration()
    if not duration or job.stop:  # no timeout, or terminated/cancelled
        return False
    elapsed = (job.job_stopped_at - job.job_started_at).total_seconds()
    return bool(elapsed >= duration)


if __name__ == "__main__":
    main()
