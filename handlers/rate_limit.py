"""A sliding one-minute window per key: every per-person command limit of the bot.

The registry counts commands by the identified invoker; the command gateway counts IRC
commands before it spends a WHOIS on who is asking, and private answers per person. One
mechanism serves all of them, bounded in memory.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

WINDOW = 60.0
KEYS_REMEMBERED = 10_000
"""Per-key counters kept; the least recently active are forgotten first."""


class PerMinute:
    """At most `limit` events a minute per key (a sliding window)."""

    def __init__(self, limit: int, clock: Callable[[], float]) -> None:
        self.limit = max(1, limit)
        self._clock = clock
        self._events: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def allow(self, key: Hashable) -> bool:
        """Count one event for key, unless key already had `limit` in the last minute."""
        now = self._clock()
        events = self._events.pop(key, None) or deque(maxlen=self.limit)
        self._events[key] = events  # most recently active last
        if len(self._events) > KEYS_REMEMBERED:
            self._events.popitem(last=False)
        if len(events) == self.limit and events[0] > now - WINDOW:
            return False
        events.append(now)
        return True
