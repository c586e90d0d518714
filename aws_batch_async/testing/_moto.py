"""A moto server with the minimum AWS Batch infrastructure, for tests and demos.

These helpers are synchronous (they run at fixture set-up or in LocalBatch's child process,
never on a caller's event loop). They use botocore directly, never boto3.
"""

from __future__ import annotations

import functools
import json
import threading
import urllib.request
from dataclasses import dataclass
from types import TracebackType
from typing import Any

__all__ = ["BatchInfrastructure", "MotoServer", "create_batch_infrastructure"]

#: Credentials moto accepts; they reach no real AWS account.
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class BatchInfrastructure:
    """What :func:`create_batch_infrastructure` created.

    Attributes:
        job_queue: The job queue's name.
        job_definition: The job definition's name (revision 1).
        compute_environment: The UNMANAGED compute environment's name.
        service_role_arn: The IAM role moto requires.
    """

    job_queue: str
    job_definition: str
    compute_environment: str
    service_role_arn: str


class MotoServer:
    """moto's server on 127.0.0.1 with a free port, in a thread of this process.

    It is moto's own server (``ThreadedMotoServer``'s werkzeug app and request handler), but
    its answers carry one ``Server`` header, not two: werkzeug adds its own to moto's
    ``Server: amazon.com``, and aiohttp's strict parser (``python -X dev`` or
    ``PYTHONASYNCIODEBUG=1``) refuses a response with two.

    Args:
        simple_batch: Switch Batch to moto's simple backend (no Docker: jobs are SUCCEEDED when
            SubmitJob returns, or FAILED with ``MOTO_SIMPLE_BATCH_FAIL_AFTER=0``).
    """

    def __init__(self, *, simple_batch: bool = True) -> None:
        self.simple_batch = simple_batch
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> MotoServer:
        """Start the server; returns once it answers."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class OneServerHeader(MotoRequestHandler):
            def send_header(self, keyword: str, value: str) -> None:
                if keyword.lower() == "server" and value == self.version_string():
                    return  # werkzeug's own; moto's app sends "amazon.com"
                super().send_header(keyword, value)

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", 0, app, True, request_handler=OneServerHeader)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="MotoServer", daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        if self.simple_batch:
            self.post("/moto-api/config", {"batch": {"use_docker": False}})
        return self

    def stop(self) -> None:
        """Stop the server. Idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def post(self, path: str, payload: dict[str, Any] | None = None) -> bytes:
        """POST JSON to one of moto's ``/moto-api`` endpoints."""
        return moto_api(self.url, path, payload)

    def reset(self) -> None:
        """Wipe every resource (config and transitions stay)."""
        self.post("/moto-api/reset")

    def set_job_transition(self, seconds: float | None) -> None:
        """Walk jobs through the statuses one step every ``seconds`` (``None``: undo)."""
        set_job_transition(self.url, seconds)


def moto_api(url: str, path: str, payload: dict[str, Any] | None = None) -> bytes:
    """POST ``payload`` as JSON to ``url + path`` on a moto server (loopback only)."""
    data = json.dumps(payload or {}).encode()
    request = urllib.request.Request(url + path, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        body: bytes = response.read()
        return body


def set_job_transition(url: str, seconds: float | None) -> None:
    """Make moto's Batch jobs change status every ``seconds`` (docker mode); ``None`` undoes it."""
    if seconds is None:
        moto_api(url, "/moto-api/state-manager/unset-transition", {"model_name": "batch::job"})
    else:
        moto_api(
            url,
            "/moto-api/state-manager/set-transition",
            {
                "model_name": "batch::job",
                "transition": {"progression": "time", "seconds": seconds},
            },
        )


def create_batch_infrastructure(
    endpoint_url: str,
    *,
    region: str = DEFAULT_REGION,
    name: str = "aws-batch-async",
    image: str = "busybox:latest",
    command: list[str] | None = None,
    vcpus: int = 1,
    memory_mib: int = 128,
    log_group: str | None = None,
) -> BatchInfrastructure:
    """Create an IAM role, an UNMANAGED compute environment, a queue and a job definition.

    Args:
        endpoint_url: The moto server (or a proxy in front of it).
        region: The region to create them in.
        name: Prefix of every resource name.
        image: The job definition's container image.
        command: The job definition's default command.
        vcpus: The job definition's vCPUs.
        memory_mib: The job definition's memory.
        log_group: A CloudWatch log group for the job definition (awslogs driver); ``None``
            leaves AWS's default, ``/aws/batch/job``.

    Returns:
        The names of what was created.
    """
    kwargs: dict[str, Any] = {"region_name": region, "endpoint_url": endpoint_url}
    kwargs.update(FAKE_CREDENTIALS)
    session = _botocore_session()
    iam: Any = session.create_client("iam", **kwargs)
    batch: Any = session.create_client("batch", **kwargs)
    try:
        role = iam.create_role(
            RoleName=f"{name}-service-role", AssumeRolePolicyDocument=_BATCH_TRUST_POLICY
        )["Role"]["Arn"]
        env_name = f"{name}-compute"
        env_arn = batch.create_compute_environment(
            computeEnvironmentName=env_name, type="UNMANAGED", state="ENABLED", serviceRole=role
        )["computeEnvironmentArn"]
        queue = f"{name}-queue"
        batch.create_job_queue(
            jobQueueName=queue,
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env_arn}],
        )
        definition = f"{name}-definition"
        batch.register_job_definition(
            jobDefinitionName=definition,
            type="container",
            containerProperties=_container(image, command, vcpus, memory_mib, log_group),
        )
    finally:
        iam.close()
        batch.close()
    return BatchInfrastructure(queue, definition, env_name, role)


#: The trust policy of the service role moto requires for a compute environment.
_BATCH_TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "batch.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@functools.cache
def _botocore_session() -> Any:
    """One botocore session for every call (it caches the service models it loads)."""
    import botocore.session

    return botocore.session.get_session()


def _container(
    image: str, command: list[str] | None, vcpus: int, memory_mib: int, log_group: str | None
) -> dict[str, Any]:
    """The job definition's ``containerProperties``."""
    container: dict[str, Any] = {
        "image": image,
        "command": command or ["echo", "hello"],
        "resourceRequirements": [
            {"type": "VCPU", "value": str(vcpus)},
            {"type": "MEMORY", "value": str(memory_mib)},
        ],
    }
    if log_group is not None:
        container["logConfiguration"] = {
            "logDriver": "awslogs",
            "options": {"awslogs-group": log_group},
        }
    return container
