"""What the outbox and the connectors' senders agree on: the queued item's types, what a
sender confirms and the two failures it may raise.

The connectors import only this, not the outbox engine (bridge/outbox.py) that drives them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bridge.model import Posted
from bridge.payloads import Payload, decode_payload, encode_payload
from storage.db import Database
from storage.outbox_store import NewItem, OutboxItem, OutboxStore

Outgoing = NewItem[Payload]
"""A rendered message to queue for one destination (an annotation: build it with NewItem,
since a frozen, slotted dataclass cannot be built through its generic alias)."""
Queued = OutboxItem[Payload]
"""A stored message waiting for (or being written to) its destination."""
PayloadStore = OutboxStore[Payload]
Progress = Callable[[Queued, int], Awaitable[None]]
SummaryRenderer = Callable[[str, str, int, float], Payload]
"""(network, chat, dropped count, horizon hours) → payload telling the destination what was
lost (bridge/notices.py: in the language of the pair that sees it)."""


def payload_store(db: Database, clock: Callable[[], float] = time.time) -> PayloadStore:
    """The outbox table holding the bridge's typed payloads."""
    return OutboxStore(db, encode_payload, decode_payload, clock)


@dataclass(frozen=True, slots=True)
class Sent:
    """What a destination confirmed: how many queued items went out (>= 1), and the
    message it posted, to be remembered in the same transaction as the delivery."""

    count: int
    posted: Posted | None = None


class TransientError(Exception):
    """The destination is unavailable for now: keep the item and retry later."""

    reported = False
    """The sender logs this outage itself, once: the retries are logged at DEBUG only."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentError(Exception):
    """The destination refused the item for good (e.g. chat not found): drop it."""


class Sender(Protocol):
    """A connector's delivery side."""

    async def wait_ready(self, chat: str) -> None:
        """Return once chat can be written to (connected, registered, joined)."""

    async def deliver(self, chat: str, items: list[Queued], progress: Progress) -> Sent:
        """Deliver a prefix of items, paced; say how many are fully delivered (>= 1)."""
