"""A roster that stays fresh: who is due a nudge, who lapsed, and a member's confirmation.

A member's profile is fresh while it was confirmed or changed within roster.confirm_after_days
(members.confirmed_at, else joined_at; migration 0017). Past that they get one nudge
(nudged_at); past roster.confirm_grace_days after it without a confirmation they are stale:
the web directory, the digest and /ask leave them out (FRESH below) until they confirm, while
/whois still finds them, marked. A confirmation (member_rows.confirm: /interests alone, an
interest change, /listed) clears both marks. Every write here is a
member update, so the directory's triggers move the counts and the page version.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from storage import member_rows
from storage.db import Database
from storage.roster_model import Member

DAY = 86_400.0

FRESH = "m.stale = 0"
"""The SQL condition on a members row aliased m: confirmed in time (not stale). Lists that
only fresh members may reach (the directory, the digest, /ask) state it, for example
EXISTS (SELECT 1 FROM members m WHERE m.id = member_id AND m.stale = 0)."""

IS_FRESH = "SELECT 1 FROM members m WHERE m.id = ? AND m.stale = 0"
DUE = (
    "SELECT id, coalesce(confirmed_at, joined_at) FROM members WHERE nudged_at IS NULL "
    "AND coalesce(confirmed_at, joined_at) <= ? "
    "ORDER BY coalesce(confirmed_at, joined_at), id LIMIT ?"
)
LAPSE = "UPDATE members SET stale = 1 WHERE nudged_at IS NOT NULL AND stale = 0 AND nudged_at <= ?"


@dataclass(frozen=True, slots=True)
class NudgeCounts:
    """The freshness task's totals since the database was made (freshness_counts)."""

    nudged_telegram: int = 0
    nudged_irc: int = 0
    lapsed: int = 0
    unreachable: int = 0
    """Nudges due that found no way to the member (tried again later, or given up on)."""


@dataclass(frozen=True, slots=True)
class Freshness:
    """Where a member stands: when they last confirmed (or joined), whether a nudge is
    waiting for an answer, and whether they are out of the public lists."""

    confirmed_at: float
    nudged: bool
    stale: bool


async def is_fresh(conn: aiosqlite.Connection, member_id: int) -> bool:
    """Whether the member may appear in the public lists and receive questions."""
    async with conn.execute(IS_FRESH, (member_id,)) as cur:
        return await cur.fetchone() is not None


async def freshness(conn: aiosqlite.Connection, ids: Sequence[int]) -> dict[int, Freshness]:
    """Each member's standing, by id (for /whois: the fresh first, the stale marked)."""
    if not ids:
        return {}
    rows = await conn.execute_fetchall(
        "SELECT id, coalesce(confirmed_at, joined_at), nudged_at IS NOT NULL, stale "
        "FROM members WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(ids)),),
    )
    return {int(r[0]): Freshness(float(r[1]), bool(r[2]), bool(r[3])) for r in rows}


class FreshnessStore:
    """The freshness task's reads and writes (bridge/freshness.py), with its own clock."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def lapse(self, now: float, grace_days: float) -> int:
        """Members nudged grace_days ago or more and still silent become stale; how many."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(LAPSE, (now - grace_days * DAY,))
            await _bump(conn, "lapsed", cur.rowcount)
            return cur.rowcount

    async def due(self, now: float, after_days: float, limit: int) -> list[tuple[int, float]]:
        """(member id, confirmed or joined at) of the members not confirmed for after_days
        and not nudged yet, longest silent first."""
        rows = await self.db.conn.execute_fetchall(DUE, (now - after_days * DAY, limit))
        return [(int(r[0]), float(r[1])) for r in rows]

    async def member(self, member_id: int) -> Member | None:
        """The member to nudge, with identities and interests; None when they left."""
        found = await member_rows.load_members(self.db.conn, [member_id])
        return found[0] if found else None

    async def nudged_since(self, since: float, now: float) -> list[float]:
        """When the nudges recorded after `since` (and not after now: a clock set back does
        not hold the pace) went out, oldest first: the freshness task's pace for the hour,
        read once at start so a restart does not renew it."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT nudged_at FROM members WHERE nudged_at > ? AND nudged_at <= ? "
            "ORDER BY nudged_at",
            (since, now),
        )
        return [float(r[0]) for r in rows]

    async def mark_nudged(self, member_id: int, now: float) -> bool:
        """Record the nudge before it is sent (so a crash never sends a second one); False
        when the member confirmed or left meanwhile."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE members SET nudged_at = ? WHERE id = ? AND nudged_at IS NULL",
                (now, member_id),
            )
            return cur.rowcount > 0

    async def unmark_nudged(self, member_id: int, at: float) -> None:
        """The nudge recorded at `at` could not be delivered: it is due again later."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE members SET nudged_at = NULL WHERE id = ? AND nudged_at = ?",
                (member_id, at),
            )

    async def count(self, name: str) -> None:
        """One more of a total (a NudgeCounts field): kept in the database, so /metrics and
        `tgirc-bridge status` read the same after a restart."""
        async with self.db.transaction() as conn:
            await _bump(conn, name)

    async def counts(self) -> NudgeCounts:
        """The totals, for /metrics (read per scrape) and `tgirc-bridge status`."""
        rows = await self.db.conn.execute_fetchall("SELECT name, value FROM freshness_counts")
        values = {str(r[0]): int(r[1]) for r in rows}
        return NudgeCounts(**{k: v for k, v in values.items() if k in NudgeCounts.__slots__})


async def _bump(conn: aiosqlite.Connection, name: str, by: int = 1) -> None:
    if by:
        await conn.execute(
            "UPDATE freshness_counts SET value = value + ? WHERE name = ?", (by, name)
        )
