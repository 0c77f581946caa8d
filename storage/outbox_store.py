"""OutboxStore: the durable queue of rendered messages waiting for their destination.

The store does not know what a payload is: it is given the two functions that turn one into
the JSON text of its row and back (the bridge's typed payloads, or plain dicts in tests).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bridge.model import Posted
from storage.db import Database
from storage.message_map import RECORD_SQL, posted_row

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class NewItem(Generic[P]):
    """A message to deliver: rendered output for the destination."""

    network: str
    chat: str
    dedup_key: str
    kind: str
    payload: P
    replace_key: str | None = None
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class OutboxItem(Generic[P]):
    id: int
    network: str
    chat: str
    dedup_key: str
    kind: str
    payload: P
    created_at: float
    not_before: float
    progress: int
    replace_key: str | None = None


@dataclass(frozen=True, slots=True)
class QueueStats:
    network: str
    chat: str
    depth: int
    oldest_created_at: float


_INSERT_NEW = (
    "INSERT INTO outbox (network, chat, dedup_key, replace_key, kind, payload, created_at,"
    " not_before) SELECT ?, ?, ?, ?, ?, ?, ?, ?"
    " WHERE NOT EXISTS (SELECT 1 FROM delivered WHERE dedup_key = ?)"
    " ON CONFLICT (dedup_key) DO NOTHING RETURNING id, created_at"
)
# A newer edit takes the place of an older one that has not started going out yet.
_REPLACE_WAITING = (
    "UPDATE outbox SET payload = ?, dedup_key = ?, not_before = ? "
    "WHERE replace_key = ? AND progress = 0 "
    "AND NOT EXISTS (SELECT 1 FROM delivered WHERE dedup_key = ?) "
    "AND NOT EXISTS (SELECT 1 FROM outbox WHERE dedup_key = ?) "
    "RETURNING id, created_at"
)


class OutboxStore(Generic[P]):
    """Rows are written before the source is acknowledged and deleted once delivered."""

    def __init__(
        self,
        db: Database,
        encode: Callable[[P], str],
        decode: Callable[[str], P],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.encode = encode
        self.decode = decode
        self.clock = clock

    async def enqueue(self, items: list[NewItem[P]]) -> list[OutboxItem[P]]:
        """Store items; return the stored rows of those that were new (a key seen before,
        queued or delivered, is ignored). Each item is one atomic statement and all run in
        one writers' turn, so the rows come back in id order; one item costs one round trip."""
        now = self.clock()
        added: list[OutboxItem[P]] = []
        async with self.db.autocommit() as conn:
            for item in items:
                payload = self.encode(item.payload)
                not_before = now + item.delay
                rows: list[Any] = []
                if item.replace_key is not None:
                    rows = list(
                        await conn.execute_fetchall(
                            _REPLACE_WAITING,
                            (
                                payload,
                                item.dedup_key,
                                not_before,
                                item.replace_key,
                                item.dedup_key,
                                item.dedup_key,
                            ),
                        )
                    )
                if not rows:
                    rows = list(
                        await conn.execute_fetchall(
                            _INSERT_NEW,
                            (
                                item.network,
                                item.chat,
                                item.dedup_key,
                                item.replace_key,
                                item.kind,
                                payload,
                                now,
                                not_before,
                                item.dedup_key,
                            ),
                        )
                    )
                added.extend(
                    OutboxItem(
                        id=row[0],
                        network=item.network,
                        chat=item.chat,
                        dedup_key=item.dedup_key,
                        kind=item.kind,
                        payload=item.payload,
                        created_at=row[1],
                        not_before=not_before,
                        progress=0,
                        replace_key=item.replace_key,
                    )
                    for row in rows
                )
        return added

    async def due(self, network: str, chat: str, limit: int) -> list[OutboxItem[P]]:
        """The oldest items for one destination whose delay has passed, in order."""
        rows = await self.db.fetchall(
            "SELECT * FROM outbox WHERE network = ? AND chat = ? AND not_before <= ? "
            "ORDER BY id LIMIT ?",
            (network, chat, self.clock(), limit),
        )
        return [self._item(row) for row in rows]

    async def next_wakeup(self, network: str, chat: str) -> float | None:
        """When the earliest item for this destination becomes due; None if it has none.
        Read in the writers' turn: no enqueue() is half-way (stored, not yet returned)."""
        async with self.db.autocommit() as conn:
            rows = await conn.execute_fetchall(
                "SELECT MIN(not_before) FROM outbox WHERE network = ? AND chat = ?",
                (network, chat),
            )
        value = next(iter(rows))[0]
        return None if value is None else float(value)

    async def destinations(self) -> list[tuple[str, str]]:
        async with self.db.conn.execute("SELECT DISTINCT network, chat FROM outbox") as cur:
            return [(row[0], row[1]) for row in await cur.fetchall()]

    async def set_progress(self, item_id: int, progress: int) -> None:
        await self.db.write("UPDATE outbox SET progress = ? WHERE id = ?", (progress, item_id))

    async def complete(self, items: list[OutboxItem[P]], posted: Posted | None = None) -> None:
        """Delivered: forget the rows, remember their keys so a re-delivery is ignored, and
        what was posted — all or nothing (one transaction, one round trip), so a restart
        never finds one without the other."""
        now = self.clock()
        record = None if posted is None else posted_row(posted, now)
        keys = [(i.dedup_key, now) for i in items]
        ids = [(i.id,) for i in items]

        def work(conn: sqlite3.Connection) -> None:
            if record is not None:
                conn.execute(RECORD_SQL, record)
            conn.executemany(
                "INSERT OR IGNORE INTO delivered (dedup_key, delivered_at) VALUES (?, ?)", keys
            )
            conn.executemany("DELETE FROM outbox WHERE id = ?", ids)

        await self.db.in_one_trip(work)

    async def drop(self, items: list[OutboxItem[P]]) -> None:
        """Given up for good (refused by the destination): no retry, no record of delivery."""
        async with self.db.transaction() as conn:
            await conn.executemany("DELETE FROM outbox WHERE id = ?", [(i.id,) for i in items])

    async def drop_destination(self, network: str, chat: str) -> list[str]:
        """Remove everything queued to one destination; returns the dropped items' keys."""
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "DELETE FROM outbox WHERE network = ? AND chat = ? RETURNING dedup_key",
                (network, chat),
            )
        return [row[0] for row in rows]

    async def drop_older_than(self, network: str, chat: str, cutoff: float) -> int:
        """Remove items created before cutoff; returns how many were dropped."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM outbox WHERE network = ? AND chat = ? AND created_at < ?",
                (network, chat, cutoff),
            )
            return cur.rowcount

    async def prune_delivered(self, cutoff: float) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM delivered WHERE delivered_at < ?", (cutoff,))

    async def stats(self) -> list[QueueStats]:
        async with self.db.conn.execute(
            "SELECT network, chat, COUNT(*), MIN(created_at) FROM outbox "
            "GROUP BY network, chat ORDER BY network, chat"
        ) as cur:
            rows = await cur.fetchall()
        return [QueueStats(r[0], r[1], int(r[2]), float(r[3])) for r in rows]

    async def get_state(self, key: str) -> str | None:
        async with self.db.conn.execute("SELECT value FROM state WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return None if row is None else str(row[0])

    async def set_state(self, key: str, value: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def _item(self, row: Any) -> OutboxItem[P]:
        return OutboxItem(
            id=row["id"],
            network=row["network"],
            chat=row["chat"],
            dedup_key=row["dedup_key"],
            kind=row["kind"],
            payload=self.decode(row["payload"]),
            created_at=row["created_at"],
            not_before=row["not_before"],
            progress=row["progress"],
            replace_key=row["replace_key"],
        )
