"""Token buckets: the one place that decides how fast the bridge may write to a network."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


def backoff_delay(attempt: int, rand: float, low: float = 1.0, high: float = 60.0) -> float:
    """Seconds to wait before retry ``attempt`` (0 = first retry), for every retry loop.

    Exponential (the ceiling doubles from ``low`` up to ``high``) so a long outage does not
    hammer the other side, with jitter in the upper half of the ceiling (``rand`` in [0, 1))
    so many clients do not retry in step; always within [low, high].
    """
    ceiling = min(high, low * 2.0 ** min(max(attempt, 0), 32))
    return min(high, max(low, ceiling * (0.5 + 0.5 * rand)))


class TokenBucket:
    """Allows `burst` sends at once, then `rate` per second; waiters are served in order."""

    def __init__(
        self, burst: int, rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst = float(burst)
        self.rate = rate
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def delay(self) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

    def available(self) -> bool:
        return self.delay() == 0.0

    async def wait_available(self) -> None:
        """Return once a token could be taken, without taking it (the caller may gather
        more work meanwhile, then take())."""
        wait = self.delay()
        if wait > 0:
            await asyncio.sleep(wait)

    async def take(self) -> None:
        """Wait for a token and spend it; concurrent callers queue behind each other."""
        async with self._lock:
            wait = self.delay()
            if wait > 0:
                await asyncio.sleep(wait)  # exactly until the next token: computed, not polled
                self._refill()
            self._tokens -= 1

    def reset(self) -> None:
        """A fresh connection starts with a full bucket (the server's penalty is gone)."""
        self._tokens = self.burst
        self._stamp = self._clock()
