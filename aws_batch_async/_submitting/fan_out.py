"""Fan-out: ``submit_jobs``, many submissions in request order through one :class:`Submitter`.

Once a submission fails (without ``return_exceptions``) no further job is sent; submissions
whose send or lookup is under way are finished, so every created job is reported.

Cancelling the fan-out works the same way, however often it is cancelled (a second
``task.cancel()``, or an anyio cancel scope, which cancels again at every await): no further
job is sent, the sends and lookups under way are finished (each within
``BatchConfig.call_timeout``, the lookups within the submission's budget), and one WARNING
names every job created, with its id, and every submission still in doubt. Then the
cancellation goes on. While it waits for them under an anyio cancel scope, it shields itself
(if anyio is loaded), so that waiting is not a busy loop of re-delivered cancellations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from typing import Any

from .._config import SubmitRetry
from .._errors import ServiceClosedError, SubmitJobsError
from .._models.jobs import JobResponse
from .submitter import OnSubmitted, State, Submission, Submitter

__all__ = ["in_order", "report_submitted", "submit_many"]


class _Aborted(Exception):
    """The fan-out stopped before this submission was sent (again)."""


async def submit_many(
    submitter: Submitter,
    subs: Sequence[Submission],
    retry: SubmitRetry,
    *,
    concurrency: int | None,
    return_exceptions: bool,
    on_submitted: OnSubmitted | None,
) -> list[JobResponse | BaseException]:
    """Submit every submission; results in order. See ``BatchService.submit_jobs``.

    Raises:
        SubmitJobsError: A submission failed and ``return_exceptions`` is False.
    """
    fan_out = _FanOut(submitter, subs, retry, return_exceptions, on_submitted)
    return await fan_out.run(min(len(subs), concurrency or len(subs)))


def report_submitted(
    on_submitted: OnSubmitted | None, index: int, job: JobResponse, logger: logging.Logger
) -> None:
    """Call ``on_submitted(index, job)``; what it raises is logged, never propagated."""
    if on_submitted is None:
        return
    try:
        on_submitted(index, job)
    except Exception:
        logger.exception("on_submitted raised for job %s", job.job_id)


def in_order(
    results: Sequence[JobResponse | BaseException | None],
) -> list[JobResponse | BaseException]:
    """The results of a fan-out; a submission never sent gets a ServiceClosedError."""
    return [
        r if r is not None else ServiceClosedError("BatchService closed before this submit")
        for r in results
    ]


class _FanOut:
    """One ``submit_many`` call: workers take the submissions in order until one fails."""

    def __init__(
        self,
        submitter: Submitter,
        subs: Sequence[Submission],
        retry: SubmitRetry,
        return_exceptions: bool,
        on_submitted: OnSubmitted | None,
    ) -> None:
        self.submitter = submitter
        self.subs = subs
        self.retry = retry
        self.return_exceptions = return_exceptions
        self.on_submitted = on_submitted
        self.results: list[JobResponse | BaseException | None] = [None] * len(subs)
        self.pending = iter(range(len(subs)))
        self.current: dict[asyncio.Task[None], int] = {}
        self.first_error: BaseException | None = None
        self.aborted = False

    async def run(self, count: int) -> list[JobResponse | BaseException]:
        """Submit with ``count`` workers; see :func:`submit_many`."""
        workers = [asyncio.ensure_future(self.worker()) for _ in range(count)]
        try:
            await asyncio.wait(workers)
        except BaseException:  # the caller cancelled us (or KeyboardInterrupt & co)
            self.abort()  # no new send; the sends and lookups under way are finished
            try:
                await _finish(workers)
            finally:
                _log_interrupted(self.submitter.logger, self.subs, self.results)
            raise
        for task in workers:  # a worker ends by an exception only for KeyboardInterrupt & co
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error
        if self.first_error is not None and not self.return_exceptions:
            raise SubmitJobsError(self.results) from self.first_error
        return in_order(self.results)

    def before_send(self) -> None:
        """Stop a submission before it is sent (again) once the fan-out is aborted."""
        if self.aborted:
            raise _Aborted

    def abort(self) -> None:
        """No new send: stop every submission that is not under way.

        One whose send or lookup is under way is finished, so that no created job goes
        unreported.
        """
        self.aborted = True
        me = asyncio.current_task()
        for task, index in self.current.items():
            if task is not me and self.subs[index].state is not State.IN_FLIGHT:
                task.cancel()

    async def worker(self) -> None:
        """Submit the next submission not taken yet, until none is left or the fan-out aborts."""
        me = asyncio.current_task()
        assert me is not None
        for index in self.pending:
            if self.aborted:
                return
            self.current[me] = index
            try:
                job = await self.submitter.submit(
                    self.subs[index], self.retry, before_send=self.before_send, warn_on_cancel=False
                )
            except _Aborted:
                return
            except Exception as exc:  # kept in its slot, as asyncio.gather does
                self.results[index] = exc
                self.first_error = self.first_error or exc
                if not self.return_exceptions or isinstance(exc, ServiceClosedError):
                    self.abort()
                continue
            finally:
                del self.current[me]
            self.results[index] = job
            report_submitted(self.on_submitted, index, job, self.submitter.logger)


async def _finish(workers: list[asyncio.Task[None]]) -> None:
    """Wait for ``workers`` to end, however often this task is cancelled meanwhile.

    Under an anyio cancel scope (anyio loaded), the wait is shielded from the scope.
    """
    with _shielded():
        while True:
            try:
                await asyncio.wait(workers)
                return
            except asyncio.CancelledError:
                continue  # cancelled again: what is under way still has to be accounted for


def _shielded() -> Any:
    anyio: Any = sys.modules.get("anyio")
    scope = getattr(anyio, "CancelScope", None)
    if scope is None:
        return contextlib.nullcontext()
    try:
        return scope(shield=True)
    except Exception:  # an anyio whose CancelScope differs: wait unshielded
        return contextlib.nullcontext()


def _log_interrupted(
    logger: logging.Logger,
    subs: Sequence[Submission],
    results: list[JobResponse | BaseException | None],
) -> None:
    created = [r for r in results if isinstance(r, JobResponse)]
    in_doubt = [s.job_name for s in subs if s.state is State.IN_FLIGHT]
    logger.warning(
        "submit_jobs interrupted: %d of %d jobs created (%s); %d in doubt, created or not "
        "(look them up with list_jobs(job_name=...)): %s",
        len(created),
        len(subs),
        ", ".join(f"{j.job_id} ({j.job_name})" for j in created) or "none",
        len(in_doubt),
        ", ".join(in_doubt) or "none",
    )
