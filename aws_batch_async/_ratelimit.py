"""Pacing SubmitJob: one adaptive rate limiter per service, shared by every submit.

AWS Batch allows about 50 SubmitJob calls a second per account and region, and answers the
excess with HTTP 429 ``TooManyRequestsException``. Without pacing, ``asyncio.gather`` over a
few hundred ``submit_job`` calls sends them all at once and most are throttled.
:class:`AdaptiveRateLimiter` hands out send slots first come, first served, spaced ``1 / rate``
seconds apart, so a fan-out flows at the limit instead of stampeding.

The rate adapts the way TCP's congestion window does (AIMD): a throttled call multiplies the
rate by ``decrease_factor`` (other clients share the account's limit, so ours is smaller than
configured), and every success adds back ``increase_per_second`` for each second since the last
adjustment, up to the configured ceiling. Throttles of calls sent *before* the last decrease
carry no news about the new rate, so they do not lower it again: one burst of stale 429s costs
one decrease, not one per call.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["AdaptiveRateLimiter", "Slot"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Slot:
    """A send slot handed out by :meth:`AdaptiveRateLimiter.acquire`.

    Attributes:
        at: The limiter clock's time when the slot was granted (just before the call is sent).
    """

    at: float


class AdaptiveRateLimiter:
    """Spaces calls ``1 / rate`` seconds apart, lowering the rate on throttling (AIMD).

    Slots are granted in the order :meth:`acquire` was called (retries first). No credit is
    saved while idle, so calls never burst above the current rate; a caller woken late by a
    busy event loop is not held against the next one (up to one interval of lateness).

    Args:
        rate: The ceiling in calls per second; ``None`` disables pacing (every call proceeds at
            once and :meth:`on_throttle` / :meth:`on_success` change nothing).
        min_rate: The floor that throttling cannot push the rate below; defaults to the
            smaller of 1 call/s and ``rate``.
        decrease_factor: Multiplier applied to the rate on a throttle, in (0, 1).
        increase_per_second: Calls/s regained per second of successful calls; defaults to 5%
            of ``rate`` (a halved rate is back at the ceiling in 10 seconds).
        clock: Monotonic clock in seconds (injectable for tests).
        sleep: Async sleep (injectable for tests).

    Raises:
        ValueError: A parameter is out of range.
    """

    def __init__(
        self,
        rate: float | None,
        *,
        min_rate: float | None = None,
        decrease_factor: float = 0.7,
        increase_per_second: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate is not None and not rate > 0:
            raise ValueError("rate must be > 0 (or None for no limit)")
        if not 0 < decrease_factor < 1:
            raise ValueError("decrease_factor must be between 0 and 1")
        ceiling = rate if rate is not None else float("inf")
        floor = min(1.0, ceiling) if min_rate is None else min_rate
        if not 0 < floor <= ceiling:
            raise ValueError("min_rate must be > 0 and <= rate")
        increase = 0.05 * ceiling if increase_per_second is None else increase_per_second
        if rate is not None and not increase > 0:
            raise ValueError("increase_per_second must be > 0")
        self._ceiling = rate
        self._floor = floor
        self._factor = decrease_factor
        self._increase = increase
        self._clock = clock
        self._sleep = sleep
        self._rate = ceiling
        self._busy = False  # a caller holds the turn (is waiting for the next slot)
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()
        self._next_at = float("-inf")
        self._last_decrease_at = float("-inf")
        self._last_adjust_at = clock()
        self._closed: Callable[[], BaseException] | None = None
        self.throttles = 0
        self.decreases = 0

    @property
    def rate(self) -> float | None:
        """The current rate in calls per second (``None`` when pacing is off)."""
        return None if self._ceiling is None else self._rate

    @property
    def ceiling(self) -> float | None:
        """The configured rate: the most the limiter ever allows."""
        return self._ceiling

    async def acquire(self, *, urgent: bool = False) -> Slot:
        """Wait for the next send slot.

        Slots go first come, first served, except that ``urgent`` callers (retries of calls that
        were already sent once) go ahead of every non-urgent one, so a retry does not queue
        behind a whole fan-out. Cancelling the waiting task gives its place up; no slot is used.

        Args:
            urgent: Jump the queue of non-urgent callers.

        Returns:
            The slot, to pass to :meth:`on_throttle` or :meth:`on_success` once the call ends.

        Raises:
            BaseException: The limiter was closed (the error :meth:`close` was given).
        """
        if self._closed is not None:
            raise self._closed()
        if self._ceiling is None:
            return Slot(self._clock())
        if self._busy or self._urgent or self._normal:
            queue = self._urgent if urgent else self._normal
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            queue.append(turn)
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._pass_turn()  # our turn came with the cancellation: hand it on
                elif turn in queue:  # _pass_turn drops cancelled turns it meets
                    queue.remove(turn)
                raise
        else:
            self._busy = True
        # Our turn: wait for the slot, then hand the turn to the next caller.
        try:
            now = self._clock()
            while now < self._next_at:
                await self._sleep(self._next_at - now)
                if self._closed is not None:
                    raise self._closed()
                now = self._clock()
            interval = 1.0 / self._rate
            # A waiter that wakes a little late (a busy event loop) keeps the ideal timeline, so
            # lateness does not pile up over a fan-out; after idle time the timeline restarts.
            base = self._next_at if now - self._next_at <= interval else now
            self._next_at = base + interval
            return Slot(now)
        finally:
            self._pass_turn()

    def close(self, error: Callable[[], BaseException]) -> None:
        """Refuse every waiting and future :meth:`acquire` with ``error()``. Idempotent.

        The caller whose slot is due next gets the error once its (short) wait ends.

        Args:
            error: Builds the exception each refused caller raises.
        """
        if self._closed is not None:
            return
        self._closed = error
        for queue in (self._urgent, self._normal):
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_exception(error())

    def _pass_turn(self) -> None:
        for queue in (self._urgent, self._normal):
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._busy = False

    def on_throttle(self, slot: Slot) -> None:
        """Report that the call sent in ``slot`` was throttled: lower the rate (once per window).

        Args:
            slot: The throttled call's slot.
        """
        self.throttles += 1
        if self._ceiling is None or slot.at <= self._last_decrease_at:
            return
        now = self._clock()
        self._rate = max(self._floor, self._rate * self._factor)
        self._last_decrease_at = now
        self._last_adjust_at = now
        self.decreases += 1
        # Calls granted from here on are spaced at the new rate.
        self._next_at = max(self._next_at, now + 1.0 / self._rate)

    def on_success(self, slot: Slot) -> None:
        """Report that the call sent in ``slot`` got through: recover the rate additively.

        Args:
            slot: The successful call's slot.
        """
        if self._ceiling is None or self._rate >= self._ceiling:
            return
        now = self._clock()
        elapsed = max(0.0, now - self._last_adjust_at)
        self._rate = min(self._ceiling, self._rate + self._increase * elapsed)
        self._last_adjust_at = now
