"""Per-destination ordered delivery from the durable outbox, retried until confirmed.

The outbox engine knows nothing about either network: a Sender (one per network, in the
connectors) writes rendered payloads and says whether the failure is worth retrying. Within
a destination senders take turns, in the order the store gives (OutboxStore.due()).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping

from bridge.model import Author
from bridge.outbox_mirror import Mirrors
from bridge.pacing import backoff_delay
from bridge.sending import (
    Outgoing,
    PayloadStore,
    PermanentError,
    Queued,
    Sender,
    SummaryRenderer,
    TransientError,
)
from storage.db import StorageError
from storage.outbox_store import NewItem as NewItem
from storage.outbox_store import author_of_sender
from storage.outbox_store import sender_of as sender_of

log = logging.getLogger(__name__)

IDLE_WORKER_SECONDS = 3600.0
"""A destination's worker that had nothing to do for this long stops, and what was kept for
it goes: one per person who ever got a private answer would otherwise stay for good. The next
message for it starts a new worker (that one message is not sent early)."""


class Idle(enum.Enum):
    """What a worker's turn says when its queue stayed empty for idle_worker seconds."""

    IDLE = "idle"


IDLE = Idle.IDLE


class Outbox:
    """Runs one worker per destination; each delivers its queue in order."""

    def __init__(
        self,
        store: PayloadStore,
        senders: Mapping[str, Sender],
        *,
        horizon_hours: float,
        summary: SummaryRenderer,
        max_backoff: float = 60.0,
        idle_worker: float = IDLE_WORKER_SECONDS,
    ) -> None:
        self.store = store
        self.idle_worker = idle_worker
        self.senders = senders
        self.horizon = horizon_hours * 3600.0
        self.horizon_hours = horizon_hours
        self.summary = summary
        self.max_backoff = max_backoff
        self._wake: dict[tuple[str, str], asyncio.Event] = {}
        self._idle: dict[tuple[str, str], asyncio.Event] = {}
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        # Idle queues kept in memory (sent from there while the row is written); any doubt
        # drops one, and its worker reads the store again (bridge/outbox_mirror.py).
        self._mirror = Mirrors()
        self._group: asyncio.TaskGroup | None = None
        self._started = asyncio.Event()
        self._sending: set[tuple[str, str]] = set()  # between deliver() and complete()
        self._stopping = False
        self._outcomes: dict[str, asyncio.Future[bool]] = {}  # dedup key → delivered?
        # Read by /metrics (bridge/web/metrics.py) at scrape time.
        self.delivered: Counter[tuple[str, str]] = Counter()  # (network, item kind)
        self.retries: Counter[str] = Counter()  # by network
        self.rate_limited: Counter[str] = Counter()  # failures carrying retry_after (429)
        self.horizon_dropped: Counter[str] = Counter()

    async def enqueue(self, items: list[Outgoing]) -> int:
        """Persist items (duplicates ignored), wake their workers, return how many were new
        once stored; an idle destination's worker sends while the row is written
        (bridge/outbox_mirror.py)."""
        added = await self._mirror.enqueue(
            items, self.store.enqueue, self._poke, self.store.clock(), early=not self._stopping
        )
        return len(added)

    async def enqueue_and_wait(self, items: list[Outgoing], timeout: float) -> bool:
        """Queue items like enqueue() and wait (bounded) for their fate: False as soon as the
        destination refuses one for good (a Telegram user who never started the bot), else
        True — delivered, or still queued when timeout ran out (it goes out later)."""
        loop = asyncio.get_running_loop()
        waiting = {
            i.dedup_key: self._outcomes.setdefault(i.dedup_key, loop.create_future()) for i in items
        }
        try:
            await self.enqueue(items)
            async with asyncio.timeout(timeout):
                for future in waiting.values():
                    if not await future:
                        return False
        except TimeoutError:
            pass
        finally:
            for key in waiting:
                self._outcomes.pop(key, None)
        return True

    async def discard(self, network: str, matches: Callable[[str], bool]) -> int:
        """Forget everything still queued to the destinations of network whose chat matches,
        stopping a delivery in progress between two lines: what was meant for an IRC nick
        must not reach whoever holds that nick next. Returns how many items were dropped."""
        known: set[tuple[str, str]] = {*self._tasks, *self._mirror.known()}
        if self._group is None:  # once running, every destination with rows has a worker
            known.update(await self.store.destinations())
        dests = {d for d in known if d[0] == network and matches(d[1])}
        dropped = 0
        for dest in dests:
            task = self._tasks.pop(dest, None)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._sending.discard(dest)
            self._mirror.drop(dest)
            keys = await self.store.drop_destination(*dest)
            for key in keys:
                future = self._outcomes.get(key)
                if future is not None and not future.done():
                    future.set_result(False)
            dropped += len(keys)
            self._idle.setdefault(dest, asyncio.Event()).set()
        return dropped

    async def drop_senders(self, unwanted: Callable[[Author], bool]) -> int:
        """Forget what is queued from the senders unwanted names (the ignore list, asked at
        start about what an earlier run stored) and has not begun to go out; returns how
        many items were dropped. A message already handed to its worker still goes."""
        doomed = []
        for sender, name in await self.store.senders():
            author = author_of_sender(sender, name)
            if author is not None and unwanted(author):
                doomed.append((sender, name))
        if not doomed:
            return 0
        keys = await self.store.drop_senders(doomed)
        for key in keys:
            future = self._outcomes.get(key)
            if future is not None and not future.done():
                future.set_result(False)
        if keys:
            log.info("outbox: %d queued messages from ignored senders dropped", len(keys))
        return len(keys)

    def _settle(self, items: list[Queued], delivered: bool) -> None:
        for item in items:
            future = self._outcomes.get(item.dedup_key)
            if future is not None and not future.done():
                future.set_result(delivered)

    def _poke(self, dest: tuple[str, str]) -> None:
        self._wake.setdefault(dest, asyncio.Event()).set()
        self._idle.setdefault(dest, asyncio.Event()).clear()
        if self._group is not None and dest not in self._tasks and not self._stopping:
            self._tasks[dest] = self._group.create_task(self._worker(dest), name=f"outbox {dest}")

    async def run(self) -> None:
        """Deliver until cancelled; resumes whatever a previous run left in the store."""
        # Read before any worker starts: a destination discard()ed while this read was in
        # flight would otherwise get a second worker, reading rows not yet dropped.
        stored = await self.store.destinations()
        async with asyncio.TaskGroup() as group:
            self._group = group
            for dest in {*self._wake, *stored}:
                self._poke(dest)
            self._started.set()
            await asyncio.Event().wait()

    async def stop(self, timeout: float) -> None:
        """Stop between messages: idle or waiting workers stop at once, one that is sending
        finishes that message and records it (bounded by timeout), so a restart neither
        repeats nor loses what was on the wire."""
        self._stopping = True
        busy = []
        for dest, task in self._tasks.items():
            if dest in self._sending:
                busy.append(task)
            else:
                task.cancel()
        if busy:
            _, late = await asyncio.wait(busy, timeout=timeout)
            for task in late:
                task.cancel()

    async def wait_idle(self, timeout: float) -> bool:
        """Wait (bounded) until every destination's queue is empty; True if it happened."""
        deadline = time.monotonic() + timeout
        for event in list(self._idle.values()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return False
        return True

    async def _worker(self, dest: tuple[str, str]) -> None:
        network, chat = dest
        sender = self.senders[network]
        wake = self._wake.setdefault(dest, asyncio.Event())
        idle = self._idle.setdefault(dest, asyncio.Event())
        failures = 0
        while not self._stopping:
            wake.clear()
            await sender.wait_ready(chat)
            try:
                failure = await self._turn(dest, sender, wake, idle)
            except StorageError as exc:  # the database stayed locked beyond its own retries
                self._mirror.drop(dest)
                failure = TransientError(str(exc))
            if failure is IDLE:
                if self._retire(dest, wake):
                    return
                continue
            if failure is None:
                if failures:
                    log.info("%s %s: delivery recovered after %d failures", network, chat, failures)
                    failures = 0
                continue
            failures += 1
            self.retries[network] += 1
            self.rate_limited[network] += failure.retry_after is not None
            delay = failure.retry_after
            if delay is None:
                delay = backoff_delay(failures - 1, random.random(), high=self.max_backoff)
            log.log(
                logging.DEBUG if failure.reported else logging.WARNING,
                "%s %s: delivery failed (%s); retrying in %.1fs",
                network,
                chat,
                failure,
                delay,
            )
            if self._stopping:
                return
            await asyncio.sleep(delay)

    async def _turn(
        self, dest: tuple[str, str], sender: Sender, wake: asyncio.Event, idle: asyncio.Event
    ) -> TransientError | Idle | None:
        """One look at the queue: deliver its head, or wait for work; a transient failure
        is returned for the caller to back off."""
        network, chat = dest
        mirror = self._mirror.take(dest, 64)
        if mirror is not None:
            items = mirror
        else:
            await self._mirror.written(dest)  # a row sent early is read back once written
            items = await self.store.due(network, chat, limit=64)
        # Senders take turns, so the oldest waiting item need not be the first.
        if items and min(i.created_at for i in items) < self.store.clock() - self.horizon:
            self._mirror.drop(dest)
            await self._drop_expired(network, chat)  # rare: only after a long outage
            return None
        if not items:
            nxt = None if mirror is not None else await self.store.next_wakeup(network, chat)
            if nxt is None:
                # Nothing stored: from here on enqueue() keeps this queue in memory.
                # next_wakeup ran in the writers' turn, so no row was stored that
                # enqueue() has not yet offered to the mirror.
                idle.set()
                self._mirror.start(dest)
            timeout = self.idle_worker if nxt is None else max(0.0, nxt - self.store.clock())
            try:
                async with asyncio.timeout(timeout):  # no extra task, unlike wait_for
                    await wake.wait()
            except TimeoutError:
                return IDLE if nxt is None else None
            return None
        idle.clear()
        self._sending.add(dest)
        try:
            return await self._send_and_record(dest, sender, items)
        finally:
            self._sending.discard(dest)

    def workers(self) -> dict[tuple[str, str], asyncio.Task[None]]:
        """The destinations with a worker now, and their tasks (a copy)."""
        return dict(self._tasks)

    def _retire(self, dest: tuple[str, str], wake: asyncio.Event) -> bool:
        """Stop dest's idle worker and forget it (no await: nothing can be queued for it
        meanwhile); False when something came after all."""
        if wake.is_set() or dest in self._sending or not self._mirror.forget(dest):
            return False
        self._tasks.pop(dest, None)
        self._wake.pop(dest, None)
        self._idle.pop(dest, None)
        log.debug("%s %s: idle for %.0fs, its worker stops", *dest, self.idle_worker)
        return True

    async def _send_and_record(
        self, dest: tuple[str, str], sender: Sender, items: list[Queued]
    ) -> TransientError | None:
        """One attempt at the head of a queue, and its record. A transient failure is
        returned for the caller to back off; any other failure drops the head item only."""
        network, chat = dest
        try:
            try:
                sent = await sender.deliver(chat, items, self._progress)
            finally:
                self._mirror.attempted(items)
        except TransientError as exc:
            self._mirror.drop(dest)  # lines may have gone out: re-read the progress
            return exc
        except Exception as exc:
            if isinstance(exc, PermanentError):
                log.warning("%s %s: destination refused a message for good: %s", network, chat, exc)
            else:  # a bug must not stop this queue for ever: drop the one item, keep the rest
                log.exception("%s %s: error delivering item %d", network, chat, items[0].id)
            self._mirror.drop(dest)
            await self.store.drop(await self._mirror.rows(items[:1]))
            self._settle(items[:1], delivered=False)
            return None
        delivered = items[: max(1, sent.count)]
        # The record follows both the send and the write of a row sent early.
        await self.store.complete(await self._mirror.rows(delivered), sent.posted)
        self.delivered.update((network, item.kind) for item in delivered)
        self._settle(delivered, delivered=True)
        self._mirror.done(dest, len(delivered))
        return None

    async def _progress(self, item: Queued, lines_done: int) -> None:
        self._mirror.attempted([item])  # its row is awaited next: let enqueue() write it
        row = await self._mirror.stored(item)
        if row is not None:
            await self.store.set_progress(row.id, lines_done)
        self._mirror.progressed(item, row, lines_done)

    async def _drop_expired(self, network: str, chat: str) -> None:
        now = self.store.clock()
        dropped = await self.store.drop_older_than(network, chat, now - self.horizon)
        if not dropped:
            return
        self.horizon_dropped[network] += dropped
        log.warning(
            "%s %s: %d messages older than the horizon were not delivered", network, chat, dropped
        )
        await self.store.enqueue(
            [
                NewItem(
                    network=network,
                    chat=chat,
                    dedup_key=f"horizon:{network}:{chat}:{now}",
                    kind="notice",
                    payload=self.summary(network, chat, dropped, self.horizon_hours),
                )
            ]
        )
