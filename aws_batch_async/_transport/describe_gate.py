"""The one gate of a service's DescribeJobs calls: ``PollPolicy.max_concurrent_calls`` in flight.

Many parts of a service describe jobs: the poller's sweeps, ``describe_jobs`` and
``get_job_status``, the submit path's lookups after a lost answer, ``explain``, the idempotency
key lookups, ``run_job`` and array reruns, log following, the CLI, ``batch.call("DescribeJobs")``.
Each of them reaches the endpoint through ``Clients.call`` (``_transport/clients.py``), which
sends every DescribeJobs through the service's one :class:`DescribeGate`, so that the cap
holds for all of them together: 2,000 waits, 20 ``explain`` calls and 50 submit lookups at once
never have more than ``max_concurrent_calls`` DescribeJobs calls in flight (``docs/waiting.md``).

The gate is a FIFO semaphore created on the loop of its first call (the service's loop). Time
spent waiting for a slot is not part of a call's ``BatchConfig.call_timeout``: the deadline
starts once the call is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from .._models.limits import DESCRIBE_JOBS_MAX_IDS
from .._types import CallFn

__all__ = ["DESCRIBE_JOBS", "DescribeGate"]

#: The operation the gate caps.
DESCRIBE_JOBS = "DescribeJobs"


class DescribeGate:
    """At most ``limit`` DescribeJobs calls of one service in flight at once.

    Args:
        send: The service's Batch call, without the gate (``send("DescribeJobs", jobs=[...])``).
        limit: The most DescribeJobs calls in flight (``PollPolicy.max_concurrent_calls``).
        check: Called before a call queues for a slot; raises if the service cannot call now
            (not open, or another event loop): ``Clients.batch``.

    Raises:
        ValueError: ``limit`` is below 1.
    """

    def __init__(self, send: CallFn, limit: int, check: Callable[[], object] = object) -> None:
        if limit < 1:
            raise ValueError("the DescribeJobs gate needs a limit of at least 1")
        self.limit = limit
        self._send = send
        self._check = check
        self._slots: asyncio.Semaphore | None = None  # created on the service's loop
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """DescribeJobs calls sent through the gate and not answered yet."""
        return self._in_flight

    async def describe(self, job_ids: Sequence[str]) -> dict[str, Any]:
        """Send one DescribeJobs call of at most 100 ids, once a slot is free.

        Args:
            job_ids: The ids (at most 100).

        Returns:
            AWS's answer (``{"jobs": [...]}``).

        Raises:
            ValueError: More than 100 ids.
            BatchError: What the call raises (see ``Clients.call``).
        """
        if len(job_ids) > DESCRIBE_JOBS_MAX_IDS:
            raise ValueError(f"DescribeJobs takes at most {DESCRIBE_JOBS_MAX_IDS} ids")
        return await self.call(jobs=list(job_ids))

    async def call(self, **params: Any) -> dict[str, Any]:
        """Send one DescribeJobs call with these parameters, once a slot is free.

        Args:
            **params: DescribeJobs's parameters, as AWS names them (``jobs``).

        Returns:
            AWS's answer.

        Raises:
            BatchError: What the call raises (see ``Clients.call``).
        """
        self._check()
        slots = self._slots
        if slots is None:
            slots = self._slots = asyncio.Semaphore(self.limit)
        async with slots:
            self._in_flight += 1
            try:
                return await self._send(DESCRIBE_JOBS, **params)
            finally:
                self._in_flight -= 1
