"""The early send: a message for an idle queue goes out while its row is being written.

The guarantee is the durable outbox's, unchanged:

- The source is acknowledged only once the message is stored. Mirrors.enqueue() (through
  Outbox.enqueue(), which the router awaits before the poller moves Telegram's offset or
  the IRC inbox takes its next line) returns only after the row is written.
- The delivery is recorded only once both the send and the write are done.
- So a crash sends at most one message twice: before the write, the source is not
  acknowledged and gives the message again; after it, the row is sent again.
- A message that may have been delivered before is never sent early: it meets the store's
  de-duplication first. That is one marked NewItem.replay_possible where it was decoded
  (Telegram's first poll after a start, an IRC line of a batch or stamped well in the past:
  Message.replay_possible), or one whose key was offered already in this process (the last
  SEEN_KEPT: an update polled again after its handling failed half-way).

Why: at the rate a real group talks every queue is empty when a message arrives, and
waiting for the durable write before sending costs a round trip to the database thread
(most of it that thread waking up), about 0.5 ms at idle (bench/PROFILE.md, issue 12). The
write waits (briefly, EARLY_SEND_WAIT) for the worker's attempt at a message that heads its
queue: once woken, the database thread competes for the GIL and a CPU with the event loop
that is writing the message.

Only an idle queue is kept here: nothing is kept for a destination until its worker found
the store empty for it (start()), and besides what its worker is writing at most one message
waits, whose turn is next whoever sent it. A second one waiting means the order is the
store's to give (senders take turns, OutboxStore.due()), so the queue is read from the store
until it drains again; any doubt (a retry, an edit, the horizon, a /remove) drops the copy
too. A backlog is therefore always read from the store.

Outbox (bridge/outbox.py) uses this module only through Mirrors: enqueue() for new
messages; take(), start() and done() around its worker's turn, written() before reading the
store; attempted(), stored() and progressed() while sending; rows() before recording;
known(), drop() and forget() when discarding, in doubt or retiring a worker.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bridge.payloads import Payload
from storage.outbox_store import NewItem, OutboxItem

Queued = OutboxItem[Payload]
Dest = tuple[str, str]

SEEN_KEPT = 10_000
"""Keys remembered as offered in this process: one offered again is not sent early."""
EARLY_SEND_WAIT = 0.01
"""Seconds the write of a message sent early waits for its worker's attempt: an IRC line is
written at once and a Bot API request is on the wire well within it."""

_provisional_ids = itertools.count(-1, -1)


def is_plain(item: NewItem[Payload] | Queued) -> bool:
    """No edit that may replace a queued row, no delay: it can join a mirrored queue."""
    if isinstance(item, NewItem):
        return item.replace_key is None and item.delay <= 0
    return item.replace_key is None and item.not_before <= item.created_at


@dataclass(frozen=True, slots=True)
class Provisional(OutboxItem[Payload]):
    """A message handed to its worker before its row exists; row resolves to the stored
    row, or to None when the store knew its key already (or could not write it)."""

    row: asyncio.Future[Queued | None] | None = None
    attempted: asyncio.Future[None] | None = None
    """Done once the worker tried to send it (only for an item that headed its queue)."""


class Mirrors:
    """Per idle destination, its queue in memory in send order (what its worker is writing,
    then at most one waiting message), or nothing (read the store).

    Provisional items (negative ids) are in the queue before their row exists; stored()
    resolves one to its row, or to None when the store found its key already known."""

    def __init__(self) -> None:
        self._queues: dict[Dest, list[Queued]] = {}
        self._taken: dict[Dest, int] = {}  # the first items, handed to the worker
        self._writing: dict[Dest, set[asyncio.Future[Queued | None]]] = {}
        self._seen: set[str] = set()
        self._seen_order: collections.deque[str] = collections.deque()

    def get(self, dest: Dest) -> list[Queued] | None:
        return self._queues.get(dest)

    def drop(self, dest: Dest) -> None:
        """Any doubt about a queue (a retry, an edit, the horizon): read the store instead."""
        self._queues.pop(dest, None)
        self._taken.pop(dest, None)

    def forget(self, dest: Dest) -> bool:
        """Drop everything kept for an idle dest (its worker stops); False, keeping it all,
        while a message sent early to it is still being written."""
        if self._writing.get(dest) or self._queues.get(dest):
            return False
        self.drop(dest)
        self._writing.pop(dest, None)
        return True

    def take(self, dest: Dest, limit: int) -> list[Queued] | None:
        """The first items of a mirrored queue, for its worker to write (None: read the
        store)."""
        queue = self._queues.get(dest)
        if queue is None:
            return None
        self._taken[dest] = len(items := queue[:limit])
        return items

    def done(self, dest: Dest, count: int) -> None:
        """The worker is through with what it took; the first count items went out."""
        taken = self._taken.pop(dest, 0)
        queue = self._queues.get(dest)
        if queue is not None:
            del queue[: min(count, taken)]

    def _waiting(self, queue: list[Queued], dest: Dest) -> bool:
        """Whether a message waits in queue besides what its worker took."""
        return len(queue) > self._taken.get(dest, 0)

    def start(self, dest: Dest) -> None:
        """The store holds nothing for dest: from now on its queue is kept here."""
        self._queues.setdefault(dest, [])

    def known(self) -> set[Dest]:
        return set(self._queues)

    async def enqueue(
        self,
        items: list[NewItem[Payload]],
        write: Callable[[list[NewItem[Payload]]], Awaitable[list[Queued]]],
        poke: Callable[[Dest], None],
        now: float,
        early: bool = True,
    ) -> list[Queued]:
        """Store items with write() and return the rows it added (a known key adds none);
        the messages for idle queues are handed to their workers (poke) first, unless early
        is False. Returns, or raises, only once write() did: the source is acknowledged
        after this, never before the message is stored."""
        sent = self.send_early(items, now) if early else []
        for item in sent:
            poke((item.network, item.chat))
        try:
            if sent:  # the worker writes to the socket before the database thread wakes
                await self.sent_first(sent)
            added = await write(items)
        except BaseException:
            self.failed(sent)
            raise
        for row in self.settle(sent, added):
            self.add(row)
            poke((row.network, row.chat))
        return added

    def send_early(self, items: list[NewItem[Payload]], now: float) -> list[Provisional]:
        """Provisional items for the new messages whose queue is mirrored with nothing waiting,
        already queued there; the caller writes the rows and calls settle()."""
        early: list[Provisional] = []
        loop = asyncio.get_running_loop()
        for new in items:
            if self._offered_before(new.dedup_key) or new.replay_possible:
                continue
            dest = (new.network, new.chat)
            queue = self._queues.get(dest)
            if queue is None or self._waiting(queue, dest) or not is_plain(new):
                continue
            head = not queue
            row: asyncio.Future[Queued | None] = loop.create_future()
            writing = self._writing.setdefault((new.network, new.chat), set())
            writing.add(row)
            row.add_done_callback(writing.discard)
            item = Provisional(
                id=next(_provisional_ids),
                network=new.network,
                chat=new.chat,
                dedup_key=new.dedup_key,
                kind=new.kind,
                payload=new.payload,
                created_at=now,
                not_before=now,
                progress=0,
                sender=new.sender,
                row=row,
                attempted=loop.create_future() if head else None,
            )
            queue.append(item)
            early.append(item)
        return early

    @staticmethod
    async def sent_first(early: list[Provisional]) -> None:
        """Give the worker the first turn: until it tried to send the early items that head
        their queue (at most EARLY_SEND_WAIT), or one loop turn when none does."""
        waits = [item.attempted for item in early if item.attempted is not None]
        if waits:
            await asyncio.wait(waits, timeout=EARLY_SEND_WAIT)
        else:
            await asyncio.sleep(0)

    @staticmethod
    def attempted(items: list[Queued]) -> None:
        """The worker tried to send these (or began to: a line of a long one went out)."""
        for item in items:
            attempted = item.attempted if isinstance(item, Provisional) else None
            if attempted is not None and not attempted.done():
                attempted.set_result(None)

    def _offered_before(self, key: str) -> bool:
        if key in self._seen:
            return True
        self._seen.add(key)
        self._seen_order.append(key)
        if len(self._seen_order) > SEEN_KEPT:
            self._seen.discard(self._seen_order.popleft())
        return False

    def settle(self, early: list[Provisional], added: list[Queued]) -> list[Queued]:
        """The rows are written: each provisional item gets its row (None if its key was
        known already: if not yet sent it leaves its queue). Returns the rows of added
        that were not sent early."""
        by_key = {row.dedup_key: row for row in added}
        for item in early:
            row = by_key.pop(item.dedup_key, None)
            queue = self._queues.get((item.network, item.chat))
            if queue is not None:
                for index in range(len(queue) - 1, -1, -1):
                    if queue[index] is item:
                        if row is None:
                            del queue[index]
                            dest = (item.network, item.chat)
                            if index < self._taken.get(dest, 0):
                                self._taken[dest] -= 1
                        else:
                            queue[index] = row
                        break
            _resolve(item, row)
        return [row for row in added if row.dedup_key in by_key]

    def failed(self, early: list[Provisional]) -> None:
        """The rows could not be written: the source is not acknowledged and will give the
        messages again; those already sent are not recorded, the others leave the queue."""
        for item in early:
            self.drop((item.network, item.chat))
            _resolve(item, None)

    def add(self, row: Queued) -> None:
        """A stored row that was not sent early: the one message waiting in its mirrored
        queue, or (behind another, or an edit) the queue is read from the store from now on."""
        dest = (row.network, row.chat)
        queue = self._queues.get(dest)
        if queue is None:
            return
        if is_plain(row) and not self._waiting(queue, dest):
            queue.append(row)
        else:
            self.drop(dest)

    def progressed(self, item: Queued, row: Queued | None, lines_done: int) -> None:
        """Lines of the head item went out: its queued copy says so too."""
        queue = self._queues.get((item.network, item.chat))
        if queue and queue[0].id in (item.id, row and row.id):
            queue[0] = dataclasses.replace(queue[0], progress=lines_done)

    async def stored(self, item: Queued) -> Queued | None:
        """The row of item once it is written (item itself when it already is one)."""
        if not isinstance(item, Provisional) or item.row is None:
            return item
        row = await asyncio.shield(item.row)
        return None if row is None else replace_progress(row, item.progress)

    async def rows(self, items: list[Queued]) -> list[Queued]:
        """The written rows of items, leaving out those the store refused as known."""
        out = []
        for item in items:
            row = await self.stored(item)
            if row is not None:
                out.append(row)
        return out

    async def written(self, dest: Dest) -> None:
        """Wait until no provisional item of dest is still being written (before the store
        is read for it)."""
        for future in list(self._writing.get(dest, ())):
            await asyncio.shield(future)


def replace_progress(row: Queued, progress: int) -> Queued:
    return row if row.progress == progress else dataclasses.replace(row, progress=progress)


def _resolve(item: Provisional, row: Queued | None) -> None:
    if item.row is not None and not item.row.done():
        item.row.set_result(row)
