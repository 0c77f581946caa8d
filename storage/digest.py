"""What the mailing-list digest tells, and when it last told it (migration 0015).

The members shown are chosen by the members directory's own listed-only read
(DirectoryStore.members_page, most recently active first), so whatever hides a member from
the directory hides them from the list too; this module adds no query that picks a member to
show. Members who joined but are not shown are only counted. A listed member is new to the
list when digest_told has no row for them, updated when their interests differ from that row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiosqlite

from storage.db import Database
from storage.directory import DirectoryStore
from storage.roster_model import Member

TOP_INTERESTS = 10

STATE_COLUMNS = "started_at, last_at, sent, failures, failing_since, last_error, next_try_at"


@dataclass(frozen=True, slots=True)
class DigestState:
    started_at: float
    """When [digest] was first configured (the first digest is due a period later)."""
    last_at: float
    """The end of the period the last digest covered (started_at before the first)."""
    sent: int = 0
    failures: int = 0
    """Failed attempts since the last success (0: not failing)."""
    failing_since: float | None = None
    last_error: str = ""
    next_try_at: float | None = None
    """After a failure: when to try again (a retry, or the next period after a 5xx)."""


@dataclass(frozen=True, slots=True)
class DigestContent:
    """Everything one digest says, read from the roster for the period since..until."""

    since: float
    until: float
    new: tuple[Member, ...]
    """Listed members the list has not heard of, most recently active first."""
    updated: tuple[Member, ...]
    """Listed members whose interests changed since the list last heard of them."""
    unlisted: int
    """Members who joined in the period and are not shown: a number, never a name."""
    top_interests: tuple[tuple[str, int], ...]
    """The most common interests of listed members, with their counts."""
    channels: Mapping[int, frozenset[str]] = field(default_factory=dict)
    """The IRC channels each shown member was seen in, by member id."""

    @property
    def empty(self) -> bool:
        return not (self.new or self.updated or self.unlisted)


class DigestStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def state(self) -> DigestState | None:
        """None until the digest was first configured (or first sent by hand)."""
        async with self.db.conn.execute(
            f"SELECT {STATE_COLUMNS} FROM digest_state WHERE id = 1"  # noqa: S608 (constant)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return DigestState(
            float(row[0]),
            float(row[1]),
            int(row[2]),
            int(row[3]),
            None if row[4] is None else float(row[4]),
            str(row[5]),
            None if row[6] is None else float(row[6]),
        )

    async def start(self, now: float) -> DigestState:
        """The state, first written now when there is none: members listed already are
        taken as known to the list, so the first digest tells only what is new since."""
        async with self.db.transaction() as conn:
            await _start(conn, now)
        state = await self.state()
        assert state is not None
        return state

    async def collect(self, since: float, until: float) -> DigestContent:
        """What a digest covering since..until says. The directory's pages come most
        recently active first: the walk stops at the first member not active since."""
        directory = DirectoryStore(self.db)
        shown: list[Member] = []
        channels: dict[int, frozenset[str]] = {}
        number = 1
        while True:
            page = await directory.members_page(number)
            active = await self._active_at([m.id for m in page.members])
            recent = [m for m in page.members if active.get(m.id, 0.0) >= since]
            shown += recent
            channels.update({m.id: page.channels.get(m.id, frozenset()) for m in recent})
            if len(recent) < len(page.members) or number >= page.pages or not page.members:
                break
            number += 1
        told = await self._told([m.id for m in shown])
        new = tuple(m for m in shown if m.id not in told)
        updated = tuple(m for m in shown if m.id in told and set(told[m.id]) != set(m.interests))
        unlisted = await self._joined_unshown(since, until, [m.id for m in new + updated])
        tags = await directory.tags()
        return DigestContent(
            since,
            until,
            new,
            updated,
            unlisted,
            tags.tags[:TOP_INTERESTS],
            {m.id: channels[m.id] for m in new + updated},
        )

    async def record_sent(self, content: DigestContent, *, sent: bool) -> None:
        """The period is told (sent, or skipped for having nothing new): its members'
        interests as told, and the next period starts at its end; failures are cleared."""
        told = [(m.id, json.dumps(list(m.interests))) for m in content.new + content.updated]
        async with self.db.transaction() as conn:
            await _start(conn, content.until)
            await conn.executemany(
                "INSERT INTO digest_told (member_id, interests) VALUES (?, ?) "
                "ON CONFLICT (member_id) DO UPDATE SET interests = excluded.interests",
                told,
            )
            await conn.execute(
                "UPDATE digest_state SET last_at = ?, sent = sent + ?, failures = 0, "
                "failing_since = NULL, last_error = '', next_try_at = NULL WHERE id = 1",
                (content.until, int(sent)),
            )

    async def record_failure(self, error: str, now: float, next_try_at: float) -> DigestState:
        """A send failed with error (the server's reply, never a secret); try at next_try_at."""
        async with self.db.transaction() as conn:
            await _start(conn, now)
            await conn.execute(
                "UPDATE digest_state SET failures = failures + 1, "
                "failing_since = coalesce(failing_since, ?), last_error = ?, next_try_at = ? "
                "WHERE id = 1",
                (now, error, next_try_at),
            )
        state = await self.state()
        assert state is not None
        return state

    async def _active_at(self, ids: list[int]) -> dict[int, float]:
        if not ids:
            return {}
        rows = await self.db.conn.execute_fetchall(
            "SELECT id, coalesce(active_at, joined_at) FROM members "
            "WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        )
        return {int(r[0]): float(r[1]) for r in rows}

    async def _told(self, ids: list[int]) -> dict[int, list[str]]:
        if not ids:
            return {}
        rows = await self.db.conn.execute_fetchall(
            "SELECT member_id, interests FROM digest_told "
            "WHERE member_id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        )
        return {int(r[0]): list(json.loads(r[1])) for r in rows}

    async def _joined_unshown(self, since: float, until: float, shown: list[int]) -> int:
        """Members who joined in the period, less those shown and those the list was told
        of already: counted, never named."""
        async with self.db.conn.execute(
            "SELECT COUNT(*) FROM members WHERE joined_at >= ? AND joined_at < ? "
            "AND id NOT IN (SELECT value FROM json_each(?)) "
            "AND id NOT IN (SELECT member_id FROM digest_told)",
            (since, until, json.dumps(shown)),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0


async def _start(conn: aiosqlite.Connection, now: float) -> None:
    """Write the state row if missing, with the members listed now as already told."""
    cur = await conn.execute(
        "INSERT INTO digest_state (id, started_at, last_at) VALUES (1, ?, ?) "
        "ON CONFLICT (id) DO NOTHING",
        (now, now),
    )
    if cur.rowcount:
        await conn.execute(
            "INSERT OR IGNORE INTO digest_told (member_id, interests) "
            "SELECT id, (SELECT json_group_array(tag) FROM "
            "(SELECT tag FROM interests WHERE member_id = members.id ORDER BY position)) "
            "FROM members WHERE listed = 1"
        )
