"""The token bucket that keeps the bridge under each network's flood limits."""

from __future__ import annotations

from bridge.pacing import TokenBucket


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
