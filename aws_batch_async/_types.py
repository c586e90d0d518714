"""The shapes every part shares: how an AWS operation is called (the one call seam).

Each part of the service gets these callables from ``BatchService`` instead of a client, so a
part never holds a client, and a test can hand it a scripted one (as httpx's and openai's
``_types.py`` name what their parts pass around).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

__all__ = ["CallFn", "DescribeFn"]

#: Calls one AWS operation by its name with its parameters and returns the answer, raising the
#: library's errors (``Clients.call``, ``Clients.call_logs``, an SQS call of the same shape).
CallFn = Callable[..., Awaitable[dict[str, Any]]]
#: One DescribeJobs of at most 100 ids, through the service's gate: the raw jobs AWS knows.
DescribeFn = Callable[[Sequence[str]], Awaitable[list[dict[str, Any]]]]
