"""Job logs: a job's CloudWatch Logs streams, every attempt in order, optionally followed.

AWS Batch writes each attempt of a container job to its own CloudWatch Logs stream
(``attempts[].container.logStreamName``; the running attempt's is ``container.logStreamName``),
in the group of the job definition's ``awslogs`` log configuration, ``/aws/batch/job`` by
default. :class:`LogReader` reads them through a CloudWatch Logs client that the
:class:`~aws_batch_async.BatchService` opens on first use (pooled, closed with the service).

GetLogEvents is paged with ``startFromHead=True`` and ``nextToken``; the end of a stream is the
page whose ``nextForwardToken`` is the token that was sent. Following a job resumes each stream
from its last forward token, so no line is read twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from ._errors import (
    BOTOCORE_CONFIG_ERRORS,
    BatchError,
    ConfigurationError,
    JobNotFoundError,
    error_from_botocore,
)
from ._models import JobDetail, LogEvent

if TYPE_CHECKING:
    from types_aiobotocore_logs import CloudWatchLogsClient

    from ._service import BatchService

__all__ = ["DEFAULT_LOG_GROUP", "LogReader"]

#: The CloudWatch Logs group of a job whose job definition names none.
DEFAULT_LOG_GROUP = "/aws/batch/job"
#: Following never waits longer than this between two looks at the job and its streams.
FOLLOW_MAX_INTERVAL = 5.0


class LogReader:
    """Reads the logs of a service's jobs. Created by the service on the first ``get_logs``.

    Args:
        service: The open service whose config, client stack and DescribeJobs are used.
    """

    def __init__(self, service: BatchService) -> None:
        self._service = service
        self._client: CloudWatchLogsClient | None = None
        self._lock = asyncio.Lock()

    async def events(
        self, job_id: str, *, attempt: int | None = None, follow: bool = False
    ) -> AsyncIterator[LogEvent]:
        """Yield a job's log events; see :meth:`BatchService.get_logs`.

        Args:
            job_id: The job's id (an array child's ``<parent>:<index>`` works).
            attempt: Only this attempt (0-based); ``None`` reads every attempt in order.
            follow: Keep reading until the job is terminal and its streams are drained.

        Yields:
            :class:`LogEvent` objects, attempt by attempt, oldest first.

        Raises:
            JobNotFoundError: AWS does not know the job.
            BatchError: The job is an array parent, or logs with a driver other than awslogs.
            BatchAPIError: DescribeJobs or GetLogEvents failed.
            BatchConnectionError: An endpoint could not be reached.
            ConfigurationError: The CloudWatch Logs client cannot be created.
        """
        policy = self._service.config.poll
        cap = min(policy.max_interval, FOLLOW_MAX_INTERVAL)
        interval = policy.initial_interval
        cursors: dict[str, str | None] = {}
        first_look = time.monotonic()
        last_status = None
        while True:
            raw = await self._describe(job_id, follow=follow, since=first_look)
            if raw is None:  # not visible yet (follow only): AWS is eventually consistent
                await asyncio.sleep(interval)
                continue
            job = JobDetail.model_validate(raw)
            self._service._remember(job.job_id, job.status)
            if job.is_array_parent:
                size = job.array_properties.size if job.array_properties else None
                last = f"{job_id}:{size - 1}" if size else f"{job_id}:<index>"
                raise BatchError(
                    f"job {job_id} is an array job: its children ({job_id}:0 .. {last}) hold "
                    "the logs; call get_logs with a child's id"
                )
            group = log_group_of(raw)
            streams = attempt_streams(raw)
            if attempt is not None:
                streams = [(index, name) for index, name in streams if index == attempt]
            terminal = job.is_terminal  # seen before draining: nothing is written after
            fresh = job.status != last_status
            last_status = job.status
            for index, stream in streams:
                async for event in self._drain(group, stream, index, cursors):
                    fresh = True
                    yield event
            if not follow or terminal:
                return
            interval = policy.initial_interval if fresh else min(interval * policy.multiplier, cap)
            await asyncio.sleep(interval)

    async def _describe(self, job_id: str, *, follow: bool, since: float) -> dict[str, Any] | None:
        jobs = await self._service._describe_raw([job_id])
        found = [raw for raw in jobs if raw.get("jobId") == job_id]
        if found:
            return found[0]
        grace = self._service.config.poll.not_found_grace
        if follow and time.monotonic() - since < grace:
            return None
        raise JobNotFoundError(job_id)

    async def _drain(
        self, group: str, stream: str, attempt: int, cursors: dict[str, str | None]
    ) -> AsyncIterator[LogEvent]:
        """Yield a stream's events from its cursor to its current end, moving the cursor."""
        client = await self._logs_client()
        token = cursors.get(stream)
        while True:
            params: dict[str, Any] = {
                "logGroupName": group,
                "logStreamName": stream,
                "startFromHead": True,
            }
            if token is not None:
                params["nextToken"] = token
            self._service.logger.debug("GetLogEvents %s %s", group, stream)
            try:
                response = await client.get_log_events(**params)
            except ClientError as exc:
                code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
                if code == "ResourceNotFoundException":
                    return  # the stream (or group) does not exist yet: no logs so far
                raise error_from_botocore(exc, "GetLogEvents") from exc
            except BotoCoreError as exc:
                raise error_from_botocore(exc, "GetLogEvents") from exc
            for event in response.get("events", []):
                yield LogEvent.model_validate(
                    {
                        "timestamp": event.get("timestamp", 0),
                        "message": _strip_newline(event.get("message", "")),
                        "attempt": attempt,
                        "logStreamName": stream,
                    }
                )
            new_token = response.get("nextForwardToken")
            if not new_token or new_token == token:
                return
            token = new_token
            cursors[stream] = token

    async def _logs_client(self) -> CloudWatchLogsClient:
        """The service's CloudWatch Logs client, created once (under a lock) on first use."""
        service = self._service
        service._require_client()
        async with self._lock:
            if self._client is not None:
                return self._client
            config = service.config
            endpoint = config.logs_endpoint_url or config.endpoint_url
            try:
                client: CloudWatchLogsClient = await service._stack.enter_async_context(
                    service._create_client("logs", endpoint_url=endpoint)
                )
            except BOTOCORE_CONFIG_ERRORS as exc:
                raise ConfigurationError(
                    f"cannot create the CloudWatch Logs client: {exc}"
                ) from exc
            service.logger.debug("opened CloudWatch Logs client (endpoint=%s)", endpoint)
            self._client = client
            return client


def log_group_of(raw_job: dict[str, Any]) -> str:
    """The CloudWatch Logs group of a DescribeJobs job.

    Args:
        raw_job: A job as DescribeJobs returns it.

    Returns:
        The ``awslogs-group`` of its container's log configuration, or ``/aws/batch/job``.

    Raises:
        BatchError: The container logs with a driver other than ``awslogs``.
    """
    container = raw_job.get("container")
    conf = container.get("logConfiguration") if isinstance(container, dict) else None
    if not isinstance(conf, dict):
        return DEFAULT_LOG_GROUP
    driver = conf.get("logDriver")
    if driver and driver != "awslogs":
        raise BatchError(
            f"job {raw_job.get('jobId')} logs through the {driver!r} log driver; only the "
            "awslogs driver writes to CloudWatch Logs"
        )
    options = conf.get("options")
    group = options.get("awslogs-group") if isinstance(options, dict) else None
    return str(group) if group else DEFAULT_LOG_GROUP


def attempt_streams(raw_job: dict[str, Any]) -> list[tuple[int, str]]:
    """The ``(attempt index, log stream)`` pairs of a DescribeJobs job, oldest first.

    ``attempts`` lists the finished attempts; the running one's stream is only in
    ``container.logStreamName``. A stream named twice is listed once.

    Args:
        raw_job: A job as DescribeJobs returns it.

    Returns:
        One pair per attempt that has a stream.
    """
    names: list[str | None] = []
    for item in raw_job.get("attempts") or []:
        container = item.get("container") if isinstance(item, dict) else None
        name = container.get("logStreamName") if isinstance(container, dict) else None
        names.append(name if isinstance(name, str) and name else None)
    current = raw_job.get("container")
    name = current.get("logStreamName") if isinstance(current, dict) else None
    if isinstance(name, str) and name and name not in names:
        names.append(name)
    return [(index, name) for index, name in enumerate(names) if name is not None]


def _strip_newline(message: str) -> str:
    if message.endswith("\r\n"):
        return message[:-2]
    if message.endswith("\n"):
        return message[:-1]
    return message
