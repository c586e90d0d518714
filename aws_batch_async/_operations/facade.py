"""Stopping jobs and operations: the parts of :class:`~aws_batch_async.BatchService` behind
``cancel_job``/``terminate_job``/``stop_job`` (:class:`Stopping`) and behind bulk stop,
infrastructure reads, ``explain`` and any operation by name (:class:`Operating`).

The work of the operations is in ``_operations/operations.py`` and
``_operations/any_operation.py``; they load on first use.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .._config import BatchConfig
from .._models.arguments import check_job_id, check_reason
from .._models.jobs import JobDetail, JobStatus
from .._transport.clients import Clients

if TYPE_CHECKING:  # the operations load on first use: most services never call them
    from .operations import Operations

__all__ = ["Operating", "Stopping"]


class Stopping:
    """Cancels, terminates and stops single jobs for the service.

    Args:
        clients: The service's clients (CancelJob and TerminateJob go through them).
        logger: Where to log.
        last_seen: The status the service last saw a job in, if any (``cancel_job``'s
            warning).
        describe: The service's ``get_job_status``.
    """

    def __init__(
        self,
        clients: Clients,
        logger: logging.Logger,
        *,
        last_seen: Callable[[str], JobStatus | None],
        describe: Callable[[str], Awaitable[JobDetail]],
    ) -> None:
        self._clients = clients
        self._logger = logger
        self._last_seen = last_seen
        self._describe = describe

    async def cancel_job(self, job_id: str, reason: str) -> None:
        """``BatchService.cancel_job``: CancelJob, with a warning for a job seen started."""
        check_job_id(job_id)
        check_reason(reason)
        seen = self._last_seen(job_id)
        if seen is not None and seen.has_started:
            self._logger.warning(
                "CancelJob on job %s, last seen %s: AWS ignores CancelJob once a job has "
                "started; use stop_job() or terminate_job()",
                job_id,
                seen.value,
            )
        await self._clients.call("CancelJob", jobId=job_id, reason=reason)
        self._logger.info("cancel requested for job %s", job_id)

    async def terminate_job(self, job_id: str, reason: str) -> None:
        """``BatchService.terminate_job``: one TerminateJob."""
        check_job_id(job_id)
        check_reason(reason)
        await self._clients.call("TerminateJob", jobId=job_id, reason=reason)
        self._logger.info("terminate requested for job %s", job_id)

    async def stop_job(self, job_id: str, reason: str) -> JobDetail:
        """``BatchService.stop_job``: TerminateJob unless the job is already terminal."""
        check_job_id(job_id)
        check_reason(reason)
        job = await self._describe(job_id)
        if job.is_terminal:
            self._logger.debug("job %s already %s; nothing to stop", job_id, job.status.value)
        else:
            await self.terminate_job(job_id, reason)
        return job


class Operating:
    """Infrastructure reads, ``explain``, bulk stop and any operation by name, for the service.

    ``call`` and ``paginate`` are here (``_operations/any_operation.py`` resolves and checks the
    operation); the typed reads, ``explain`` and bulk stop are :meth:`operations`' methods
    (``_operations/operations.py``).

    Args:
        clients: The service's clients.
        config: The service's configuration (its ``job_queue``, its ``submit_rate_limit`` for
            the bulk calls' pacing).
        logger: Where to log.
    """

    def __init__(self, clients: Clients, config: BatchConfig, logger: logging.Logger) -> None:
        self._clients = clients
        self._config = config
        self._logger = logger

    async def call(self, operation: str, /, **params: Any) -> dict[str, Any]:
        """``BatchService.call``: the operation resolved and its parameters checked first."""
        name = self._operation(operation, params)
        return await self._clients.call(name, **params)

    def paginate(self, operation: str, /, **params: Any) -> AsyncGenerator[dict[str, Any], None]:
        """``BatchService.paginate``: the one paginator over a paged operation."""
        from .._transport.pagination import pages
        from .any_operation import TOKEN, is_paginated

        name = self._operation(operation, params)
        if not is_paginated(self._clients.batch(), name):
            raise ValueError(f"{name} is not a paged operation: use call()")
        start = params.pop(TOKEN, None)
        return pages(self._clients.call, name, params, logger=self._logger, start_token=start)

    def operations(self) -> Operations:
        """The operations' implementation (created on first use), once the service is open.

        Raises:
            ServiceClosedError: The service is not open.
        """
        self._clients.batch()
        return self._ops

    def _operation(self, operation: str, params: dict[str, Any]) -> str:
        """The AWS name of ``operation``, its parameters checked (and their names logged)."""
        from .any_operation import check_params, resolve_operation

        client = self._clients.batch()
        name = resolve_operation(client, operation)
        check_params(client, name, params)
        self._logger.debug("%s with %s", name, ", ".join(sorted(params)) or "no parameters")
        return name

    @functools.cached_property
    def _ops(self) -> Operations:
        """The operations' implementation (created on first use)."""
        from .._ratelimit import AdaptiveRateLimiter
        from .operations import Operations

        return Operations(
            self._clients.call,
            logger=self._logger,
            limiter=AdaptiveRateLimiter(self._config.submit_rate_limit),
            default_queue=self._config.job_queue,
            telemetry=self._clients.telemetry,
        )
