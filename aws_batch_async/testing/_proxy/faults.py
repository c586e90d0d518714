"""The proxy's faults: injected errors, dropped answers, delays, and token-bucket throttling."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Fault", "TokenBucket"]


@dataclass
class Fault:
    """A fault rule. The first matching rule whose dice roll hits applies to a request.

    Attributes:
        operation: The operation it applies to, or ``"*"`` for every operation.
        kind: ``"error"`` answers an AWS error; ``"answer"`` answers ``status`` with ``body``
            as it is (``content_type``; not AWS's error shape: an HTML page, damaged JSON);
            ``"drop"`` closes the connection without an answer; ``"delay"`` waits ``delay``
            seconds, then proceeds.
        status: HTTP status of an ``"error"``.
        code: AWS error code of an ``"error"``.
        message: AWS error message of an ``"error"``.
        probability: Chance that the rule fires on a matching request.
        times: How many times it may fire (``None``: unlimited).
        after_forward: For errors and drops: forward to moto first (the server acts), then
            fail the answer. Drops always forward first.
        delay: Seconds, for ``"delay"``.
        body: The bytes of an ``"answer"``.
        content_type: The content type of an ``"answer"``.
    """

    operation: str
    kind: Literal["error", "answer", "drop", "delay"]
    status: int = 500
    code: str = "ServerException"
    message: str = "Injected fault"
    probability: float = 1.0
    times: int | None = None
    after_forward: bool = False
    delay: float = 0.0
    body: bytes = b""
    content_type: str = "text/html"
    fired: int = field(default=0, init=False)


class TokenBucket:
    """``rate`` calls a second, ``burst`` at once."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
