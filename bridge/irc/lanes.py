"""The one line budget the server allows the bot, shared by what it writes in priority order.

A server counts every line a client writes against one allowance (InspIRCd fake-lags a
client beyond it, most networks disconnect it for "Excess Flood"), so relayed lines, the
bot's own commands, WHOIS lookups and private answers all spend the same tokens: a second
bucket for lookups would only let the bot exceed the server's pace. What people in the
channel wait for goes first. A lookup or a private answer takes tokens only when no relayed
line is waiting and the bucket holds more than the relay's reserve (all but one token), so
thirty strangers asking at once cost the channel at most one lookup's tokens of its burst,
not its pace. Only a long backlog (RELAY_RUN lines in a row while an answer waits) lets one
lower line through, so that answers are slowed by a busy channel but never starved.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import time
from collections.abc import Callable

from bridge.pacing import TokenBucket

RELAY_RUN = 10
"""Lines a higher lane may take in a row while a lower one waits; then the lower one's head
takes the next token (without the reserve), and the count starts again."""


class Lane(enum.IntEnum):
    """Who is served first when several wait for the line budget (lowest value first)."""

    RELAY = 0
    """Relayed lines in the bridged channels and the bot's own commands (JOIN, MODE)."""
    LOOKUP = 1
    """WHOIS: who holds a nick now, before a command or a private answer."""
    PRIVATE = 2
    """Answers to one person (private messages): what a crowd of clones would ask for."""


class LineBudget(TokenBucket):
    """A token bucket whose waiters are served by lane, in arrival order within a lane.

    Each waiter sleeps on its own event and only the one whose turn it is is woken, so a
    hundred queued lines cost one wake-up per line, not a hundred."""

    def __init__(
        self, burst: int, rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(burst, rate, clock)
        self.reserve = max(0, burst - 1)
        """Tokens only the relay lane may spend: its burst survives a crowd of lookups."""
        self._waiting: dict[Lane, collections.deque[asyncio.Event]] = {
            lane: collections.deque() for lane in Lane
        }
        self._run = 0  # takes in a row by _run_lane while another lane waited
        self._run_lane: Lane | None = None

    async def take(self) -> None:
        """A relayed line or one of the bot's commands: first in line."""
        await self.take_for(Lane.RELAY)

    async def take_for(self, lane: Lane, cost: int = 1) -> None:
        """Wait for this lane's turn and spend cost tokens (a WHOIS costs InspIRCd two)."""
        ticket = asyncio.Event()
        self._waiting[lane].append(ticket)
        self._wake_turn()  # whose turn it is, and when, may have changed
        try:
            while (wait := self._wait(lane, ticket, cost)) != 0.0:
                ticket.clear()
                try:
                    async with asyncio.timeout(wait):  # None: until it is this one's turn
                        await ticket.wait()
                except TimeoutError:
                    pass
            self._tokens -= cost
            self._count_run(lane)
        finally:
            self._waiting[lane].remove(ticket)
            self._wake_turn()

    def _wake_turn(self) -> None:
        head, _ = self._whose_turn()
        if head is not None:
            head.set()

    def _count_run(self, lane: Lane) -> None:
        """Count a take by lane (called before its ticket leaves) towards a lower turn."""
        _, lower_turn = self._whose_turn()
        others_wait = sum(1 for queue in self._waiting.values() if queue) > 1
        if lower_turn or not others_wait:
            self._run = 0
        else:
            self._run = self._run + 1 if lane is self._run_lane else 1
        self._run_lane = lane

    def _whose_turn(self) -> tuple[asyncio.Event | None, bool]:
        """The ticket to serve next, and whether it is a lower lane's turn after a long run."""
        lanes = [lane for lane, queue in self._waiting.items() if queue]
        if len(lanes) > 1 and lanes[0] is self._run_lane and self._run >= RELAY_RUN:
            return self._waiting[lanes[1]][0], True
        return (self._waiting[lanes[0]][0] if lanes else None), False

    def _wait(self, lane: Lane, ticket: asyncio.Event, cost: int) -> float | None:
        """0 when ticket may spend now, else seconds until it may (None: not its turn)."""
        head, lower_turn = self._whose_turn()
        if head is not ticket:
            return None
        self._refill()
        keep = 0 if lane is Lane.RELAY or lower_turn else self.reserve
        need = min(float(cost + keep), self.burst)
        return 0.0 if self._tokens >= need else (need - self._tokens) / self.rate
