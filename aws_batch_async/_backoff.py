"""One backoff rule for the whole library: exponential, capped, full jitter, within a deadline.

The poller, the submit path and log following all wait with :func:`backoff_delay` (the shape
of google api-core's ``exponential_sleep_generator``) and stop at a monotonic deadline with
:func:`sleep_within`. The random source, clock and sleep are injected by the callers, so tests
need not wait.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

__all__ = ["MAX_LEVEL", "backoff_delay", "sleep_within"]

#: Levels beyond this add nothing (and would overflow the exponent).
MAX_LEVEL = 64


def backoff_delay(
    level: int,
    *,
    initial: float,
    maximum: float,
    multiplier: float = 2.0,
    floor: float = 0.0,
    rand: float,
) -> float:
    """The delay after ``level`` consecutive unsuccessful tries, with full jitter.

    The ceiling is ``min(maximum, initial * multiplier ** level)``; the delay is drawn
    uniformly between ``floor`` and the ceiling (``floor=0`` is AWS's "full jitter";
    ``floor=initial`` never polls sooner than ``initial``).

    Args:
        level: Tries since the last success or change (0 for the first wait).
        initial: The ceiling at level 0.
        maximum: The largest ceiling.
        multiplier: Growth of the ceiling per level.
        floor: The smallest delay.
        rand: A uniform random number in [0, 1).

    Returns:
        Seconds to wait, between ``floor`` and the ceiling.
    """
    ceiling = min(maximum, initial * multiplier ** min(max(level, 0), MAX_LEVEL))
    low = min(floor, ceiling)
    return low + (ceiling - low) * rand


async def sleep_within(
    delay: float,
    deadline: float | None,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[object]],
) -> bool:
    """Sleep ``delay`` seconds unless that would reach ``deadline``.

    Args:
        delay: Seconds to sleep.
        deadline: A time on ``clock``; ``None`` for none.
        clock: The monotonic clock of the deadline.
        sleep: The async sleep.

    Returns:
        True after sleeping; False, at once, when the sleep would end at or past the deadline.
    """
    if deadline is not None and clock() + delay >= deadline:
        return False
    await sleep(delay)
    return True
