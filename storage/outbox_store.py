"""OutboxStore: the durable queue of rendered messages waiting for their destination.

The store does not know what a payload is: it is given the two functions that turn one into
the JSON text of its row and back (the bridge's typed payloads, or plain dicts in tests).

Within one destination senders take turns (issue 19): each sender's messages go in the order
they came, and the senders whose next message is waiting go round in the order they joined
the line. A sender joins it at the back when a message of theirs is stored while nothing of
theirs waits, and goes to the back again each time one of theirs went out. So, once a
message is the next of its sender, every other sender gets at most one turn before it: one
member's backlog delays another member by one message at most. The place in line is the
row's turn, a number that only grows within the destination (see due()).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import aiosqlite

from bridge.identity import IrcKeyKind, parse_irc_key
from bridge.model import Author, Network, Posted, UserId
from storage.db import Database
from storage.message_map import RECORD_SQL, posted_row

P = TypeVar("P")

BRIDGE_SENDER = "bridge"
"""The sender of the bridge's own output (command answers, notices): one more sender taking
its turns, so a burst of answers cannot crowd out what people say either."""


def sender_of(author: Author) -> tuple[str, str | None]:
    """(sender key, sender name) of a relayed message: the key the turns and the drops go by
    ("telegram:<user id>", "irc:account:<name>", "irc:mask:<nick!user@host>": the network
    and the author's user id, as the roster keys identities), and what the ignore rules also
    match (the IRC nick!user@host, the Telegram username)."""
    name = author.mask if author.network is Network.IRC else author.nick
    return f"{author.network.value}:{author.user_id}", name or None


def identity_sender(network: str, key: str) -> str:
    """The sender key of a roster identity (its network and key)."""
    return f"{network}:{key}"


def author_of_sender(sender: str, name: str | None) -> Author | None:
    """The Author a stored sender stands for, as far as the ignore rules look at one; None for
    the bridge's own output and rows older than the sender column."""
    network, _, user_id = sender.partition(":")
    if network == Network.TELEGRAM and user_id:
        return Author(Network.TELEGRAM, UserId(user_id), name or user_id, nick=name)
    if network == Network.IRC and user_id:
        key = parse_irc_key(user_id)
        mask = name or (key.value if key.kind is IrcKeyKind.MASK else None)
        nick = mask.partition("!")[0] if mask else None
        account = key.value if key.kind is IrcKeyKind.ACCOUNT else None
        return Author(
            Network.IRC, UserId(user_id), nick or user_id, nick=nick, account=account, mask=mask
        )
    return None


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
    sender: str = BRIDGE_SENDER
    """Who it is from (sender_of()): senders take turns within the destination."""
    sender_name: str | None = None
    replay_possible: bool = False
    """Its source may be giving it again (Message.replay_possible): it is not sent before
    the store has checked its dedup_key (bridge/outbox_mirror.py)."""


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
    sender: str = BRIDGE_SENDER
    turn: int = 0
    """The sender's place in line when this row is their next (module docstring)."""


@dataclass(frozen=True, slots=True)
class QueueStats:
    network: str
    chat: str
    depth: int
    oldest_created_at: float


_INSERT_NEW = (
    "INSERT INTO outbox (network, chat, dedup_key, replace_key, kind, payload, created_at,"
    " not_before, sender, sender_name, turn) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
    " (SELECT COALESCE(MAX(turn), 0) + 1 FROM outbox WHERE network = ?1 AND chat = ?2)"
    " WHERE NOT EXISTS (SELECT 1 FROM delivered WHERE dedup_key = ?3)"
    " ON CONFLICT (dedup_key) DO NOTHING RETURNING id, created_at, turn"
)
# A newer edit takes the place of an older one that has not started going out yet.
_REPLACE_WAITING = (
    "UPDATE outbox SET payload = ?, dedup_key = ?, not_before = ? "
    "WHERE replace_key = ? AND progress = 0 "
    "AND NOT EXISTS (SELECT 1 FROM delivered WHERE dedup_key = ?) "
    "AND NOT EXISTS (SELECT 1 FROM outbox WHERE dedup_key = ?) "
    "RETURNING id, created_at, turn"
)
# Senders in line: a sender's first waiting row carries their place (its turn); the others
# wait behind it. The rows come out round by round: every sender's next, in the order of
# their places, then every sender's second, and so on. A row partly written (IRC lines
# already out) comes first: its remaining lines are never split by another message. Only the
# small columns are ranked; the payloads are read for the rows picked.
_DUE = (
    "SELECT outbox.* FROM ("
    " SELECT id, progress = 0 AS fresh, lap, place FROM ("
    "  SELECT id, progress, ROW_NUMBER() OVER (PARTITION BY sender ORDER BY id) AS lap,"
    "   place FROM ("
    "    SELECT id, progress, sender, not_before,"
    "     FIRST_VALUE(turn) OVER (PARTITION BY sender ORDER BY id) AS place"
    "    FROM outbox WHERE network = ? AND chat = ?"
    "   ) WHERE not_before <= ?"
    "  ) ORDER BY fresh, lap, place, id LIMIT ?"
    ") AS picked JOIN outbox USING (id) ORDER BY fresh, lap, place, id"
)
# One of the sender's went out (or was given up): their next row goes to the back of the line.
_BACK_OF_THE_LINE = (
    "UPDATE outbox SET turn = (SELECT MAX(turn) + 1 FROM outbox WHERE network = ?1 AND chat = ?2)"
    " WHERE id = (SELECT MIN(id) FROM outbox WHERE network = ?1 AND chat = ?2 AND sender = ?3)"
)
_DROP_UNSENT = "DELETE FROM outbox WHERE sender = ? AND progress = 0 RETURNING dedup_key"


async def drop_unsent(conn: aiosqlite.Connection, senders: Iterable[str]) -> list[str]:
    """In the caller's transaction: forget what is queued from these senders and has not
    begun to go out (a message partly written to IRC finishes); the dropped rows' keys."""
    keys: list[str] = []
    for sender in senders:
        keys += [str(row[0]) for row in await conn.execute_fetchall(_DROP_UNSENT, (sender,))]
    return keys


def _to_the_back(conn: sqlite3.Connection, items: Iterable[OutboxItem[Any]]) -> None:
    """After items left the queue: each of their senders goes to the back of the line."""
    for dest_sender in dict.fromkeys((i.network, i.chat, i.sender) for i in items):
        conn.execute(_BACK_OF_THE_LINE, dest_sender)


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
                                item.sender,
                                item.sender_name,
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
                        sender=item.sender,
                        turn=row[2],
                    )
                    for row in rows
                )
        return added

    async def due(self, network: str, chat: str, limit: int) -> list[OutboxItem[P]]:
        """The first items for one destination whose delay has passed, in the order they go:
        senders in turn, each sender's in the order they came (module docstring)."""
        rows = await self.db.fetchall(_DUE, (network, chat, self.clock(), limit))
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
            _to_the_back(conn, items)

        await self.db.in_one_trip(work)

    async def drop(self, items: list[OutboxItem[P]]) -> None:
        """Given up for good (refused by the destination): no retry, no record of delivery.
        That was the sender's turn all the same."""
        ids = [(i.id,) for i in items]

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM outbox WHERE id = ?", ids)
            _to_the_back(conn, items)

        await self.db.in_one_trip(work)

    async def senders(self) -> list[tuple[str, str | None]]:
        """Every (sender, sender name) with something queued."""
        rows = await self.db.fetchall("SELECT DISTINCT sender, sender_name FROM outbox")
        return [(str(row[0]), row[1]) for row in rows]

    async def drop_senders(self, senders: Iterable[tuple[str, str | None]]) -> list[str]:
        """Forget what is queued from these (sender, sender name) and has not begun to go
        out; returns the dropped rows' keys."""
        keys: list[str] = []
        async with self.db.transaction() as conn:
            for sender, name in senders:
                rows = await conn.execute_fetchall(
                    "DELETE FROM outbox WHERE sender = ? AND sender_name IS ? AND progress = 0 "
                    "RETURNING dedup_key",
                    (sender, name),
                )
                keys += [str(row[0]) for row in rows]
        return keys

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
            sender=row["sender"],
            turn=row["turn"],
        )
