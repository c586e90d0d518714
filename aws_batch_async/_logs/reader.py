"""Job logs: a job's CloudWatch Logs streams, every attempt in order, optionally followed.

AWS Batch writes each attempt of a container job to its own CloudWatch Logs stream
(``attempts[].container.logStreamName``; the running attempt's is ``container.logStreamName``),
each container of an ECS-properties task to its own stream, and each node of a multi-node job
(the job ``<id>#<index>``) to its node's streams, in the group of the ``awslogs`` log
configuration, ``/aws/batch/job`` by default (``_logs/streams.py`` finds them for each kind; EKS
jobs have none: their logs stay in the cluster). :class:`LogReader` reads them through a
CloudWatch Logs client that the :class:`~aws_batch_async.BatchService` opens on first use
(pooled, closed with the service).

GetLogEvents is paged with ``startFromHead=True`` and ``nextToken``; the end of a stream is the
page whose ``nextForwardToken`` is the token that was sent. Following a job resumes each stream
from its last forward token, so no line is read twice.

Following looks at the job between reads. Without events each look is a DescribeJobs call; with
``BatchConfig.events`` the job's state comes from the service's event-fed poller (a
subscription that every change reaches), so following costs no DescribeJobs after the first
look beyond the poller's reconciliation, and a change (a new attempt, the end) wakes the reader
at once. A multi-node parent's node is still looked at with DescribeJobs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from .._config import PollPolicy
from .._errors import BatchAPIError, JobNotFoundError
from .._models.job_parts import JobKind
from .._models.jobs import JobDetail, LogEvent
from .._telemetry.hooks import NOOP, Telemetry, traced_log_read
from .._transport.answers import validate_answer
from .._transport.pagination import pages
from .._types import CallFn, DescribeFn
from .._waiting.subscription import Subscription
from .streams import (
    LogStream,
    array_parent_error,
    eks_logs_error,
    job_streams,
    node_to_read,
    not_a_parent_error,
)

__all__ = ["LogReader"]
#: Following never waits longer than this between two looks at the job and its streams.
FOLLOW_MAX_INTERVAL = 5.0
#: After the job is terminal, this many reads in a row must find nothing before following ends.
QUIET_READS = 2

#: Starts an every-change subscription to jobs on the service's event-fed poller.
Subscribe = Callable[[Sequence[str]], Subscription]


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
        subscribe: With events configured: subscribes to a job's changes on the service's
            event-fed poller, which then replaces the DescribeJobs look of each follow step.
        telemetry: The service's OpenTelemetry hooks (a span per read).
    """

    def __init__(
        self,
        describe: DescribeFn,
        call_logs: CallFn,
        policy: PollPolicy,
        logger: logging.Logger,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        subscribe: Subscribe | None = None,
        telemetry: Telemetry = NOOP,
    ) -> None:
        self.telemetry = telemetry
        self._describe_jobs = describe
        self._call_logs = call_logs
        self._policy = policy
        self._logger = logger
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._subscribe = subscribe

    @traced_log_read
    async def events(
        self,
        job_id: str,
        *,
        attempt: int | None = None,
        follow: bool = False,
        container: str | None = None,
        node: int | None = None,
    ) -> AsyncGenerator[LogEvent, None]:
        """Yield a job's log events; see :meth:`BatchService.get_logs`.

        A multi-node parent's logs are its node's (``node``, else the main node): the job
        ``<id>#<node>`` is described alongside the parent (one DescribeJobs call a look) and
        its streams read. When following, the job read from (the node, once it exists) is
        read on after it is terminal until :data:`QUIET_READS` reads in a row return nothing
        and at least ``initial_interval`` seconds have passed since its ``stoppedAt``:
        CloudWatch makes lines visible with a lag, and a FAILED job's last lines (its
        traceback) are the ones that matter. With ``subscribe`` (events configured), every
        look after the first at a job that is not a multi-node parent is the newest detail
        the event-fed poller delivered, and a delivery ends the pause between reads.

        Raises:
            JobNotFoundError: AWS does not know the job.
            BatchError: The job is an array parent or an EKS job (the message says where its
                logs are), logs with a driver other than awslogs, has no such container or
                node, or ``node`` is given for a job that is not a multi-node parent.
            BatchAPIError: DescribeJobs or GetLogEvents failed.
            BatchConnectionError: An endpoint could not be reached.
            ConfigurationError: The CloudWatch Logs client cannot be created.
        """
        state = _Following(interval=self._policy.initial_interval, first_look=self._clock())
        try:
            while True:
                looked = await self._look_at(job_id, state, follow, container, node)
                if looked is None:  # not visible yet (follow only): eventual consistency
                    await self._sleep(state.interval)
                    continue
                job = looked[0]
                target = await self._read_from(job_id, *looked, state, follow, container, node)
                streams = [] if target is None else job_streams(target, container=container)
                if attempt is not None:
                    streams = [stream for stream in streams if stream.attempt == attempt]
                shown = target or job
                terminal = shown.is_terminal  # seen before draining: nothing is written after
                fresh = shown.status != state.last_status
                state.last_status = shown.status
                read_any = False
                for stream in streams:
                    async for event in self._drain(stream, state.cursors):
                        read_any = fresh = True
                        yield event
                if not follow or await self._follow_ends(state, shown, terminal, read_any, fresh):
                    return
        finally:
            if state.fed is not None:
                state.fed.close()

    async def _look_at(
        self, job_id: str, state: _Following, follow: bool, container: str | None, node: int | None
    ) -> tuple[JobDetail, dict[str, Any] | None] | None:
        """The job (and its node's raw detail, if looked at); None: not visible yet.

        With events, the newest detail the event-fed poller delivered, without a call.
        """
        if state.latest is not None:
            return state.latest, None
        found = await self._look(job_id, state.node_id, follow=follow, since=state.first_look)
        if found is None:
            return None
        job = validate_answer(JobDetail, found[0], "DescribeJobs")
        _check_readable(job, container, node)
        return job, found[1]

    async def _read_from(
        self,
        job_id: str,
        job: JobDetail,
        node_raw: dict[str, Any] | None,
        state: _Following,
        follow: bool,
        container: str | None,
        node: int | None,
    ) -> JobDetail | None:
        """The job whose streams are read: ``job``, or a multi-node parent's node (None until
        it exists). Following a job that is not a parent subscribes to its changes, if it can.
        """
        if not job.is_multinode_parent:
            if follow and state.fed is None and self._subscribe is not None and not job.is_terminal:
                state.fed = self._subscribe([job_id])
                state.latest = job
            return job
        if state.node_id is None:
            state.node_id = f"{job_id}#{node_to_read(job, node)}"
            node_raw = await self._find(state.node_id)
        if node_raw is None:
            return None
        target = validate_answer(JobDetail, node_raw, "DescribeJobs")
        _check_readable(target, container, None)
        return target

    async def _follow_ends(
        self, state: _Following, shown: JobDetail, terminal: bool, read_any: bool, fresh: bool
    ) -> bool:
        """Pause before the next read; True (without a pause) when following is over."""
        policy = self._policy
        if terminal:
            state.quiet = 0 if read_any else state.quiet + 1
            if state.quiet >= QUIET_READS and self._settled(shown):
                return True
            await self._sleep(policy.initial_interval)
            return False
        cap = min(policy.max_interval, FOLLOW_MAX_INTERVAL)
        state.interval = (
            policy.initial_interval if fresh else min(state.interval * policy.multiplier, cap)
        )
        if state.fed is None:
            await self._sleep(state.interval)
        else:
            state.latest = await self._next_change(state.fed, state.latest, state.interval)
        return False

    async def _next_change(
        self, fed: Subscription, latest: JobDetail | None, seconds: float
    ) -> JobDetail | None:
        """The newest detail ``fed`` delivers within ``seconds`` (wakes on the first), else
        ``latest``."""
        if fed.exhausted:  # the terminal detail was delivered: nothing more comes
            await self._sleep(seconds)
            return latest
        change = asyncio.ensure_future(fed.get())
        pause = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait((change, pause), return_when=asyncio.FIRST_COMPLETED)
        finally:
            pause.cancel()
            if not change.done():
                change.cancel()
        if change.cancelled() or not change.done():
            return latest
        newest = change.result()  # raises what the wait would (not found, closed, ...)
        while fed.ready:
            newest = await fed.get()
        return newest

    def _settled(self, job: JobDetail) -> bool:
        """True once ``initial_interval`` seconds have passed since the job stopped."""
        if job.stopped_at is None:
            return True
        elapsed = self._wall_clock() - job.stopped_at.timestamp()
        return elapsed >= self._policy.initial_interval

    async def _look(
        self, job_id: str, node_id: str | None, *, follow: bool, since: float
    ) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        """The job (and its node, once known) in one DescribeJobs call; None: not yet visible."""
        jobs = await self._describe_jobs([job_id] if node_id is None else [job_id, node_id])
        by_id = {raw.get("jobId"): raw for raw in jobs}
        raw = by_id.get(job_id)
        if raw is not None:
            return raw, None if node_id is None else by_id.get(node_id)
        if follow and self._clock() - since < self._policy.not_found_grace:
            return None
        raise JobNotFoundError(job_id)

    async def _find(self, job_id: str) -> dict[str, Any] | None:
        """A node job, or None while it does not exist (its parent has not started)."""
        jobs = await self._describe_jobs([job_id])
        return next((raw for raw in jobs if raw.get("jobId") == job_id), None)

    async def _drain(
        self, source: LogStream, cursors: dict[str, str | None]
    ) -> AsyncIterator[LogEvent]:
        """Yield a stream's events from its cursor to its current end, moving the cursor."""
        group, stream = source.group, source.name
        key = f"{group}\0{stream}"
        params = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        self._logger.debug("GetLogEvents %s %s", group, stream)
        reads = pages(
            self._call_logs,
            "GetLogEvents",
            params,
            logger=self._logger,
            output_token="nextForwardToken",
            start_token=cursors.get(key),
            end_on_repeat=True,  # the end of a stream: its forward token is the one sent
        )
        try:
            async with aclosing(reads) as responses:
                async for response in responses:
                    for event in response.get("events", []):
                        yield LogEvent.model_validate(
                            {
                                "timestamp": event.get("timestamp", 0),
                                "message": _strip_newline(event.get("message", "")),
                                "attempt": source.attempt,
                                "logStreamName": stream,
                                "container": source.container,
                            }
                        )
                    token = response.get("nextForwardToken")
                    if token:
                        cursors[key] = token
        except BatchAPIError as exc:
            if exc.code == "ResourceNotFoundException":
                return  # the stream (or group) does not exist yet: no logs so far
            raise


def _check_readable(job: JobDetail, container: str | None, node: int | None) -> None:
    """Raise when the job's logs cannot be read from CloudWatch Logs as asked."""
    if job.is_array_parent:
        raise array_parent_error(job)
    if job.kind is JobKind.EKS:
        raise eks_logs_error(job, container)
    if node is not None and not job.is_multinode_parent:
        raise not_a_parent_error(job)


def _strip_newline(message: str) -> str:
    if message.endswith("\r\n"):
        return message[:-2]
    if message.endswith("\n"):
        return message[:-1]
    return message


@dataclass
class _Following:
    """What one :meth:`LogReader.events` call knows between its reads."""

    #: The pause before the next look, while the job is not terminal.
    interval: float
    #: When the job was first looked at (the not-found grace counts from it).
    first_look: float
    #: Each stream's next forward token.
    cursors: dict[str, str | None] = field(default_factory=dict)
    last_status: object = None
    #: Reads in a row that found nothing, once the job is terminal.
    quiet: int = 0
    #: The node read from, once the job is a multi-node parent.
    node_id: str | None = None
    #: With events: the job's changes, instead of looks.
    fed: Subscription | None = None
    #: The newest detail ``fed`` delivered.
    latest: JobDetail | None = None
