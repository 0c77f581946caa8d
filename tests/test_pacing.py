"""The token bucket that keeps the bridge under each network's flood limits."""

from __future__ import annotations

import random

import pytest

from bridge.pacing import TokenBucket, backoff_delay


def test_burst_then_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(burst=4, rate=2.0, clock=lambda: now[0])
    for _ in range(4):
        assert bucket.delay() == 0.0
        bucket._tokens -= 1
    assert bucket.delay() == 0.5
    now[0] += 0.5
    assert bucket.delay() == 0.0


def test_refill_never_exceeds_burst() -> None:
    now = [0.0]
    bucket = TokenBucket(burst=2, rate=1.0, clock=lambda: now[0])
    now[0] += 100
    bucket._refill()
    assert bucket._tokens == 2


async def test_take_waits_for_a_token() -> None:
    bucket = TokenBucket(burst=1, rate=20.0)
    await bucket.take()
    assert not bucket.available()
    await bucket.take()


async def test_wait_available_waits_without_spending() -> None:
    bucket = TokenBucket(burst=1, rate=20.0)
    await bucket.take()
    assert not bucket.available()
    await bucket.wait_available()
    assert bucket.available()  # the token is still there for take()
    await bucket.take()
    assert not bucket.available()


@pytest.mark.parametrize("low, high", [(1.0, 60.0), (0.2, 1.0), (5.0, 5.0)])
def test_backoff_delay_stays_within_bounds(low: float, high: float) -> None:
    rng = random.Random(7)
    for attempt in [*range(40), 1000, 10**9]:
        for rand in (0.0, 0.999999, rng.random(), rng.random()):
            assert low <= backoff_delay(attempt, rand, low, high) <= high


def test_backoff_delay_grows_exponentially_with_jitter() -> None:
    highest = [backoff_delay(n, 0.999999) for n in range(8)]
    assert [round(d) for d in highest] == [1, 2, 4, 8, 16, 32, 60, 60]
    lowest = [backoff_delay(n, 0.0) for n in range(8)]
    assert lowest == [1.0, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff_delay(10, 0.25) != backoff_delay(10, 0.75)  # jitter even at the ceiling
