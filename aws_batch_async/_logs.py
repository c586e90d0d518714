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
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from ._config import PollPolicy
from ._errors import BatchAPIError, BatchError, JobNotFoundError
from ._models import JobDetail, LogEvent

__all__ = ["DEFAULT_LOG_GROUP", "LogReader", "attempt_streams", "log_group_of"]

#: The CloudWatch Logs group of a job whose job definition names none.
DEFAULT_LOG_GROUP = "/aws/batch/job"
#: Following never waits longer than this between two looks at the job and its streams.
FOLLOW_MAX_INTERVAL = 5.0
#: After the job is terminal, this many reads in a row must find nothing before following ends.
QUIET_READS = 2

Describe = Callable[[Sequence[str]], Awaitable[list[dict[str, Any]]]]
CallLogs = Callable[..., Awaitable[dict[str, Any]]]


class LogReader:
    """Reads the logs of a service's jobs. Created by the service on the first ``get_logs``.

    Args:
        describe: One DescribeJobs call (the service's, so statuses are remembered).
        call_logs: A CloudWatch Logs call (``call_logs("GetLogEvents", **params)``).
        policy: The service's poll policy (follow intervals, not-found grace).
        logger: Where to log.
        clock: Monotonic clock (injectable for tests).
        wall_clock: Epoch seconds, compared with the job's ``stoppedAt``.
        sleep: Async sleep (injectable for tests).
    """

    def __init__(
        self,
        describe: Describe,
        call_logs: CallLogs,
        policy: PollPolicy,
        logger: logging.Logger,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._describe_jobs = describe
        self._call_logs = call_logs
        self._policy = policy
        self._logger = logger
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep

    async def events(
        self, job_id: str, *, attempt: int | None = None, follow: bool = False
    ) -> AsyncIterator[LogEvent]:
        """Yield a job's log events; see :meth:`BatchService.get_logs`.

        When following, a terminal job is read on until :data:`QUIET_READS` reads in a row
        return nothing and at least ``initial_interval`` seconds have passed since the job's
        ``stoppedAt``: CloudWatch makes lines visible with a lag, and a FAILED job's last
        lines (its traceback) are the ones that matter.

        Raises:
            JobNotFoundError: AWS does not know the job.
            BatchError: The job is an array parent, or logs with a driver other than awslogs.
            BatchAPIError: DescribeJobs or GetLogEvents failed.
            BatchConnectionError: An endpoint could not be reached.
            ConfigurationError: The CloudWatch Logs client cannot be created.
        """
        policy = self._policy
        cap = min(policy.max_interval, FOLLOW_MAX_INTERVAL)
        interval = policy.initial_interval
        cursors: dict[str, str | None] = {}
        first_look = self._clock()
        last_status = None
        quiet = 0
        while True:
            raw = await self._describe(job_id, follow=follow, since=first_look)
            if raw is None:  # not visible yet (follow only): AWS is eventually consistent
                await self._sleep(interval)
                continue
            job = JobDetail.model_validate(raw)
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
            read_any = False
            for index, stream in streams:
                async for event in self._drain(group, stream, index, cursors):
                    read_any = fresh = True
                    yield event
            if not follow:
                return
            if terminal:
                quiet = 0 if read_any else quiet + 1
                if quiet >= QUIET_READS and self._settled(job):
                    return
                await self._sleep(policy.initial_interval)
                continue
            interval = policy.initial_interval if fresh else min(interval * policy.multiplier, cap)
            await self._sleep(interval)

    def _settled(self, job: JobDetail) -> bool:
        """True once ``initial_interval`` seconds have passed since the job stopped."""
        if job.stopped_at is None:
            return True
        elapsed = self._wall_clock() - job.stopped_at.timestamp()
        return elapsed >= self._policy.initial_interval

    async def _describe(self, job_id: str, *, follow: bool, since: float) -> dict[str, Any] | None:
        jobs = await self._describe_jobs([job_id])
        found = [raw for raw in jobs if raw.get("jobId") == job_id]
        if found:
            return found[0]
        if follow and self._clock() - since < self._policy.not_found_grace:
            return None
        raise JobNotFoundError(job_id)

    async def _drain(
        self, group: str, stream: str, attempt: int, cursors: dict[str, str | None]
    ) -> AsyncIterator[LogEvent]:
        """Yield a stream's events from its cursor to its current end, moving the cursor."""
        token = cursors.get(stream)
        while True:
            params: dict[str, Any] = {
                "logGroupName": group,
                "logStreamName": stream,
                "startFromHead": True,
            }
            if token is not None:
                params["nextToken"] = token
            self._logger.debug("GetLogEvents %s %s", group, stream)
            try:
                response = await self._call_logs("GetLogEvents", **params)
            except BatchAPIError as exc:
                if exc.code == "ResourceNotFoundException":
                    return  # the stream (or group) does not exist yet: no logs so far
                raise
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
