"""Background fan-outs that outlive the request that started them, owned by the app.

A request submits its jobs (so the caller learns their ids, and submission errors become HTTP
errors) and hands them to :class:`Fanouts`, which follows them with ``as_completed`` in a task
of its own. The task belongs to the app's lifespan, not to the request: the request answers at
once (202) and the follow-up goes on after it. At shutdown the lifespan calls
:meth:`Fanouts.aclose` **before** it closes the ``BatchService``: every follow-up still running
is cancelled and awaited. Cancelling a wait never touches the AWS jobs: they keep running, and
a restarted app can look them up again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_batch_async import (
    BatchError,
    BatchService,
    JobResponse,
    JobStatus,
    ServiceClosedError,
)

__all__ = ["Fanout", "Fanouts"]

logger = logging.getLogger("batch_web")


@dataclass
class Fanout:
    """One fan-out being followed: its jobs and, as they finish, their final statuses.

    Attributes:
        fanout_id: The id the app hands out.
        job_ids: The jobs, in submission order.
        finished: Job id -> SUCCEEDED or FAILED, in completion order.
        error: Why following stopped early (a timeout, an AWS error, the app shutting down).
        done: True once the follow-up task ended, for whatever reason.
    """

    fanout_id: str
    job_ids: list[str]
    finished: dict[str, JobStatus] = field(default_factory=dict)
    error: str | None = None
    done: bool = False

    def view(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        statuses = list(self.finished.values())
        return {
            "fanout_id": self.fanout_id,
            "total": len(self.job_ids),
            "finished": len(statuses),
            "succeeded": statuses.count(JobStatus.SUCCEEDED),
            "failed": statuses.count(JobStatus.FAILED),
            "done": self.done,
            "error": self.error,
            "jobs": {job_id: status.value for job_id, status in self.finished.items()},
        }


class Fanouts:
    """The app's background follow-ups of submitted jobs (one task per fan-out).

    Args:
        batch: The app's one service.
        timeout: Seconds a fan-out is followed at most (``None``: until every job ends).
        keep: How many fan-outs are remembered; the oldest finished ones are forgotten.
    """

    def __init__(self, batch: BatchService, *, timeout: float | None = 3600, keep: int = 1000):
        self._batch = batch
        self._timeout = timeout
        self._keep = keep
        self._fanouts: OrderedDict[str, Fanout] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._closed = False

    def follow(self, jobs: Sequence[JobResponse]) -> Fanout:
        """Start following ``jobs`` in the background; returns at once.

        Raises:
            ServiceClosedError: The app is shutting down.
        """
        if self._closed:
            raise ServiceClosedError("the app is shutting down")
        fanout = Fanout(f"fanout-{next(self._ids)}", [job.job_id for job in jobs])
        self._fanouts[fanout.fanout_id] = fanout
        self._forget_old()
        task = asyncio.get_running_loop().create_task(
            self._follow(fanout), name=f"follow {fanout.fanout_id}"
        )
        self._tasks.add(task)  # a strong reference: the loop keeps only weak ones
        task.add_done_callback(self._tasks.discard)
        return fanout

    def get(self, fanout_id: str) -> Fanout | None:
        """The fan-out of that id, if it is remembered."""
        return self._fanouts.get(fanout_id)

    @property
    def running(self) -> int:
        """How many follow-up tasks are running."""
        return len(self._tasks)

    async def aclose(self) -> None:
        """Cancel every follow-up still running and wait for it (the AWS jobs keep running)."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _follow(self, fanout: Fanout) -> None:
        completed = self._batch.as_completed(fanout.job_ids, timeout=self._timeout)
        try:
            async with contextlib.aclosing(completed):
                async for job in completed:
                    fanout.finished[job.job_id] = job.status
        except asyncio.CancelledError:
            fanout.error = "the app shut down before every job finished"
            raise
        except BatchError as exc:  # WaitTimeoutError, AWS errors, the service closing
            fanout.error = f"{type(exc).__name__}: {exc}"
            logger.warning("%s stopped: %s", fanout.fanout_id, fanout.error)
        finally:
            fanout.done = True
        logger.info("%s done: %d jobs finished", fanout.fanout_id, len(fanout.finished))

    def _forget_old(self) -> None:
        while len(self._fanouts) > self._keep:
            oldest = next((k for k, f in self._fanouts.items() if f.done), None)
            if oldest is None:
                return
            del self._fanouts[oldest]
