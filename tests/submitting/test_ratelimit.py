"""The SubmitJob rate limiter and the submit backoff, with an injected clock (no real waiting)."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest
from pydantic import ValidationError

from aws_batch_async import SubmitRetry
from aws_batch_async._ratelimit import AdaptiveRateLimiter, Slot


class FakeClock:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def limiter(rate: float | None, clock: FakeClock, **kwargs: float) -> AdaptiveRateLimiter:
    return AdaptiveRateLimiter(rate, clock=clock, sleep=clock.sleep, **kwargs)


async def test_slots_are_spaced_at_the_rate_in_call_order() -> None:
    clock = FakeClock()
    lim = limiter(10, clock)
    order: list[int] = []

    async def take(i: int) -> float:
        slot = await lim.acquire()
        order.append(i)
        return slot.at

    times = await asyncio.gather(*(take(i) for i in range(20)))
    assert order == list(range(20))
    assert times == pytest.approx([1000.0 + i / 10 for i in range(20)])


async def test_no_credit_is_saved_while_idle() -> None:
    clock = FakeClock()
    lim = limiter(10, clock)
    await lim.acquire()
    clock.now += 60  # idle for a minute
    first = await lim.acquire()
    second = await lim.acquire()
    assert first.at == pytest.approx(1060.0)
    assert second.at - first.at == pytest.approx(0.1)  # no burst of 600 saved slots


async def test_late_wake_ups_do_not_pile_up() -> None:
    clock = FakeClock()

    async def oversleep(seconds: float) -> None:  # a busy event loop wakes us 5 ms late
        await clock.sleep(seconds + 0.005)

    lim = AdaptiveRateLimiter(10, clock=clock, sleep=oversleep)
    slots = await asyncio.gather(*(lim.acquire() for _ in range(100)))
    assert slots[-1].at - slots[0].at == pytest.approx(9.9 + 0.005)  # not 9.9 + 99 x 5 ms
    gaps = [b.at - a.at for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= 0.1 - 1e-9  # and no burst to catch up


async def test_urgent_callers_go_before_queued_ones() -> None:
    clock = FakeClock()
    lim = limiter(10, clock)
    order: list[str] = []

    async def take(name: str, urgent: bool = False) -> None:
        await lim.acquire(urgent=urgent)
        order.append(name)

    await lim.acquire()  # the next slot is 0.1 s away
    tasks = [asyncio.create_task(take(f"n{i}")) for i in range(4)]
    tasks.append(asyncio.create_task(take("retry", urgent=True)))
    await asyncio.gather(*tasks)  # n0 waits for the slot while the others queue
    assert order == ["n0", "retry", "n1", "n2", "n3"]


async def test_a_cancelled_waiter_gives_its_place_up_without_using_a_slot() -> None:
    clock = FakeClock()
    lim = limiter(10, clock)
    first = await lim.acquire()
    waiting = [asyncio.create_task(lim.acquire()) for _ in range(3)]
    await asyncio.sleep(0)
    waiting[1].cancel()  # queued, not yet its turn
    waiting[0].cancel()  # holds the turn, sleeping for its slot
    with pytest.raises(asyncio.CancelledError):
        await waiting[0]
    with pytest.raises(asyncio.CancelledError):
        await waiting[1]
    last = await waiting[2]
    assert last.at - first.at == pytest.approx(0.1)  # the next slot, as if alone


async def test_throttling_lowers_the_rate_once_per_window() -> None:
    clock = FakeClock()
    lim = limiter(50, clock, decrease_factor=0.5)
    in_flight = [await lim.acquire() for _ in range(5)]
    for slot in in_flight:  # five 429s for calls sent at the old rate: one decrease
        lim.on_throttle(slot)
    assert lim.rate == pytest.approx(25)
    assert (lim.throttles, lim.decreases) == (5, 1)

    newer = await lim.acquire()  # sent after the decrease: news about the new rate
    lim.on_throttle(newer)
    assert lim.rate == pytest.approx(12.5)
    assert lim.decreases == 2


async def test_the_rate_never_falls_below_the_floor() -> None:
    clock = FakeClock()
    lim = limiter(50, clock, decrease_factor=0.5, min_rate=5)
    for _ in range(10):
        lim.on_throttle(await lim.acquire())
    assert lim.rate == pytest.approx(5)


async def test_successes_recover_the_rate_additively_up_to_the_ceiling() -> None:
    clock = FakeClock()
    lim = limiter(50, clock, decrease_factor=0.5, increase_per_second=2.5)
    lim.on_throttle(await lim.acquire())
    assert lim.rate == pytest.approx(25)
    clock.now += 4
    lim.on_success(Slot(clock.now))
    assert lim.rate == pytest.approx(35)  # +2.5/s for 4 s
    clock.now += 100
    lim.on_success(Slot(clock.now))
    assert lim.rate == lim.ceiling == 50


async def test_after_a_decrease_slots_are_spaced_at_the_new_rate() -> None:
    clock = FakeClock()
    lim = limiter(10, clock, decrease_factor=0.5)
    lim.on_throttle(await lim.acquire())
    a = await lim.acquire()
    b = await lim.acquire()
    assert b.at - a.at == pytest.approx(0.2)


async def test_no_limit_means_no_waiting_and_no_adaptation() -> None:
    clock = FakeClock()
    lim = limiter(None, clock)
    slots = await asyncio.gather(*(lim.acquire() for _ in range(100)))
    assert {s.at for s in slots} == {1000.0}
    assert clock.sleeps == []
    lim.on_throttle(slots[0])
    assert lim.rate is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate": 0},
        {"rate": -1},
        {"rate": 10, "decrease_factor": 1.0},
        {"rate": 10, "decrease_factor": 0},
        {"rate": 10, "min_rate": 20},
        {"rate": 10, "min_rate": 0},
        {"rate": 10, "increase_per_second": 0},
    ],
)
def test_bad_limiter_parameters_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"rate|factor|increase"):
        AdaptiveRateLimiter(**kwargs)  # type: ignore[arg-type]


def test_backoff_is_full_jitter_exponential_and_capped() -> None:
    retry = SubmitRetry(initial_backoff=0.5, max_backoff=4.0)
    rng = random.Random(7)
    for failures, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (10, 4.0)]:
        draws = [retry.backoff(failures, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in draws)
        assert max(draws) > 0.8 * ceiling  # the whole range is used, not a fixed delay


def test_submit_retry_defaults_and_validation() -> None:
    retry = SubmitRetry()
    assert retry.max_attempts == 10
    assert sum(retry.lookup_delays) == pytest.approx(7.5)
    with pytest.raises(ValidationError, match="max_backoff"):
        SubmitRetry(initial_backoff=5, max_backoff=1)
    with pytest.raises(ValidationError, match="lookup_delays"):
        SubmitRetry(lookup_delays=(1.0, -1.0))
    with pytest.raises(ValidationError, match="lookup_delays"):
        SubmitRetry(lookup_delays=())


async def test_closing_refuses_waiting_and_later_callers() -> None:
    clock = FakeClock()
    lim = limiter(10, clock)
    await lim.acquire()
    waiting = [asyncio.ensure_future(lim.acquire()) for _ in range(5)]
    await asyncio.sleep(0)
    lim.close(lambda: RuntimeError("closed"))
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)  # the sleeper too, once awake
    with pytest.raises(RuntimeError, match="closed"):
        await lim.acquire()
