"""/ask's rows: who may ask and be asked today, who takes questions on a tag, the questions
waiting for an IRC member who was away, and the totals /metrics and `status` show.

Migration 0016. Every limit is counted over the last 24 hours of the injected clock; the
questions kept for later go with their recipient's identity and with the asking member
(ON DELETE CASCADE), so /leave and /remove take them along.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiosqlite

from bridge.model import Network
from storage.db import Database
from storage.freshness import FRESH
from storage.roster_model import Identity

DAY = 86_400.0
Clock = Callable[[], float]

# The recipients of an /ask: members who list the tag and said /askme yes, not the asker,
# not stale (storage.freshness), not past their own daily cap; most recently active first
# (their latest identity activity, or what the directory counts as activity).
CANDIDATES = (
    "SELECT m.id FROM interests i JOIN members m ON m.id = i.member_id "  # noqa: S608 (constant)
    f"WHERE i.tag = ? AND m.askme = 1 AND m.id != ? AND {FRESH} "
    "AND (SELECT COUNT(*) FROM asks_received r "
    "     WHERE r.member_id = m.id AND r.received_at > ?) < ? "
    "ORDER BY max(coalesce(m.active_at, 0), coalesce((SELECT max(a.seen_at) "
    "     FROM identity_activity a JOIN identities d ON d.id = a.identity_id "
    "     WHERE d.member_id = m.id), 0)) DESC, m.id DESC "
    "LIMIT ?"
)
# A member's identities, the one they were last active on first.
LATEST_IDENTITY = (
    "SELECT d.network, d.key, d.display_name, d.handle, d.verified "
    "FROM identities d LEFT JOIN identity_activity a ON a.identity_id = d.id "
    "WHERE d.member_id = ? ORDER BY coalesce(a.seen_at, 0) DESC, d.updated_at DESC, d.id"
)


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asks, as the limits and /leave know them: "member:<id>" for a member (every
    linked identity is one person), else the network's per-person key."""

    key: str
    member_id: int | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    member_id: int
    identity: Identity
    """The identity they were last active on: the question goes there only."""


@dataclass(frozen=True, slots=True)
class AskCounts:
    """Totals since the database was made."""

    asks: int = 0
    notified_now: int = 0
    queued: int = 0
    """Questions kept for an IRC member who was away."""
    notified_later: int = 0
    expired: int = 0
    waiting: int = 0
    """Questions kept now (not a total: the rows of pending_asks)."""


@dataclass(frozen=True, slots=True)
class Waiting:
    """A question kept for later, as it will be sent."""

    id: int
    body: str


class AskStore:
    """Typed access to /ask's tables through the process's one Database."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock: Clock = clock or time.time
        """Public so a test may move time on (roster.ask_ttl_days, the daily limits)."""

    def now(self) -> float:
        return self.clock()

    # ------------------------------------------------------------------ limits

    async def next_ask_at(self, asker: Asker, per_day: int) -> float | None:
        """None when asker may ask now; else when their oldest ask of the day turns a day old."""
        async with self.db.conn.execute(
            "SELECT asked_at FROM asks_made WHERE asker = ? AND asked_at > ? "
            "ORDER BY asked_at DESC LIMIT ?",
            (asker.key, self.clock() - DAY, per_day),
        ) as cur:
            rows = [float(r[0]) for r in await cur.fetchall()]
        return None if len(rows) < per_day else rows[-1] + DAY

    async def record_ask(self, asker: Asker) -> None:
        """One ask made (the day's older rows pruned on the way)."""
        now = self.clock()
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM asks_made WHERE asked_at <= ?", (now - DAY,))
            await conn.execute(
                "INSERT INTO asks_made (asker, asked_at) VALUES (?, ?)", (asker.key, now)
            )
            await _bump(conn, "asks")

    async def recipients(
        self, tag: str, asker: Asker, limit: int, received_per_day: int
    ) -> list[Recipient]:
        """Who takes questions on tag now, best first, each on their latest network."""
        since = self.clock() - DAY
        conn = self.db.conn
        async with conn.execute(
            CANDIDATES, (tag, asker.member_id or -1, since, received_per_day, limit)
        ) as cur:
            ids = [int(r[0]) for r in await cur.fetchall()]
        found: list[Recipient] = []
        for member_id in ids:
            async with conn.execute(LATEST_IDENTITY, (member_id,)) as cur:
                row = await cur.fetchone()
            if row is not None:
                identity = Identity(Network(row[0]), str(row[1]), str(row[2]), row[3], bool(row[4]))
                found.append(Recipient(member_id, identity))
        return found

    async def claim(
        self, tag: str, asker: Asker, limit: int, received_per_day: int
    ) -> tuple[list[Recipient], float]:
        """recipients(), each counted against their daily cap at once, in one write
        transaction, and the time it was counted at: asks made at the same moment (other
        people's command lanes, the other network) cannot each find a member one short of
        roster.asks_received_per_day. settle() gives back the count of those not reached."""
        async with self.db.transaction() as conn:
            found = await self.recipients(tag, asker, limit, received_per_day)
            stamp = self.clock()
            await conn.execute("DELETE FROM asks_received WHERE received_at <= ?", (stamp - DAY,))
            await conn.executemany(
                "INSERT INTO asks_received (member_id, received_at) VALUES (?, ?)",
                [(r.member_id, stamp) for r in found],
            )
        return found, stamp

    async def settle(self, unreached: Sequence[int], stamp: float, *, now: int, later: int) -> None:
        """After claim(): the members the question did not reach do not count against their
        cap; the totals count those it reached now and those it will reach later."""
        async with self.db.transaction() as conn:
            await conn.executemany(
                "DELETE FROM asks_received WHERE rowid IN (SELECT rowid FROM asks_received "
                "WHERE member_id = ? AND received_at = ? LIMIT 1)",
                [(m, stamp) for m in unreached],
            )
            await _bump(conn, "notified_now", now)
            await _bump(conn, "queued", later)

    # ---------------------------------------------------------------- activity

    async def note_activity(self, network: Network, key: str) -> None:
        """The identity was seen active now. A stranger costs one read and no write
        transaction: most speakers are not members."""
        async with self.db.conn.execute(
            "SELECT id FROM identities WHERE network = ? AND key = ?", (network.value, key)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO identity_activity (identity_id, seen_at) "
                "SELECT id, ? FROM identities WHERE id = ? "
                "ON CONFLICT (identity_id) DO UPDATE SET seen_at = excluded.seen_at",
                (self.clock(), int(row[0])),
            )

    # ----------------------------------------------------------------- pending

    async def keep(self, identity: Identity, asker: Asker, body: str) -> bool:
        """Keep a question for an IRC member who is away; False if they are no member now."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO pending_asks (identity_id, asker, asker_member, body, asked_at) "
                "SELECT id, ?, ?, ?, ? FROM identities WHERE network = ? AND key = ?",
                (
                    asker.key,
                    asker.member_id,
                    body,
                    self.clock(),
                    identity.network.value,
                    identity.key,
                ),
            )
            return cur.rowcount > 0

    async def waiting_keys(self, network: Network) -> set[str]:
        """The identity keys that have questions waiting (read at start)."""
        async with self.db.conn.execute(
            "SELECT DISTINCT d.key FROM pending_asks p JOIN identities d ON d.id = p.identity_id "
            "WHERE d.network = ?",
            (network.value,),
        ) as cur:
            return {str(r[0]) for r in await cur.fetchall()}

    async def take(self, network: Network, key: str, ttl: float) -> list[Waiting]:
        """The questions waiting for this identity and younger than ttl, oldest first; all of
        them are deleted (the old ones count as expired, the others as delivered later)."""
        cutoff = self.clock() - ttl
        async with self.db.transaction() as conn:
            async with conn.execute(
                "DELETE FROM pending_asks WHERE identity_id = "
                "(SELECT id FROM identities WHERE network = ? AND key = ?) "
                "RETURNING id, body, asked_at",
                (network.value, key),
            ) as cur:
                rows = list(await cur.fetchall())
            fresh = sorted((int(r[0]), str(r[1])) for r in rows if float(r[2]) > cutoff)
            await _bump(conn, "expired", len(rows) - len(fresh))
            await _bump(conn, "notified_later", len(fresh))
        return [Waiting(i, body) for i, body in fresh]

    async def expire(self, ttl: float) -> int:
        """Drop the questions older than ttl; how many."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM pending_asks WHERE asked_at <= ?", (self.clock() - ttl,)
            )
            await _bump(conn, "expired", cur.rowcount)
            return cur.rowcount

    async def forget_asker(self, asker_key: str) -> int:
        """/leave: the questions this person asked that still wait (a member's also go by
        ON DELETE CASCADE)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM pending_asks WHERE asker = ?", (asker_key,))
            return cur.rowcount

    async def counts(self) -> AskCounts:
        async with self.db.conn.execute(
            "SELECT name, value FROM ask_counts "
            "UNION ALL SELECT 'waiting', COUNT(*) FROM pending_asks"
        ) as cur:
            values = {str(r[0]): int(r[1]) for r in await cur.fetchall()}
        return AskCounts(**{k: v for k, v in values.items() if k in AskCounts.__slots__})


async def _bump(conn: aiosqlite.Connection, name: str, by: int = 1) -> None:
    if by:
        await conn.execute("UPDATE ask_counts SET value = value + ? WHERE name = ?", (by, name))
