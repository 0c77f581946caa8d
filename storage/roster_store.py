"""The members roster: who joined, how they are known on each network, what they work on.

RosterStore is what handlers and the bridge hold; the SQL lives in storage.member_rows (rows
shared with /link), storage.link_codes and storage.search. Callers pass tags already
normalised by storage.tags.normalise_tag; every multi-statement write runs in one
Database.transaction(), and user text only ever reaches SQL as a bound parameter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import aiosqlite

from bridge.display_names import clean_name
from bridge.identity import irc_key, parse_irc_key
from bridge.model import Author, Network
from storage import cleaning, freshness, link_codes, member_rows, search
from storage.db import Database
from storage.link_codes import LinkCode, Linked
from storage.roster_model import (
    MAX_INTERESTS,
    Identity,
    InterestHit,
    InterestSearch,
    InterestUpdate,
    Member,
    MemberMatch,
    RosterStats,
)

MAX_NAME_LENGTH = 128
STALE_SLACK = 2
"""/whois ranks confirmed members before stale ones (storage.freshness) among this many
times the hits it shows: a stale member gives way to a confirmed one ranked after it."""
Clock = Callable[[], float]


def identity_from_author(author: Author) -> Identity:
    """Telegram by numeric id; IRC by services account when known, else by mask (unverified)."""
    name = _clean_name(author.display_name or author.nick or str(author.user_id))
    if author.network is Network.TELEGRAM:
        return Identity(Network.TELEGRAM, str(author.user_id), name, author.nick, True)
    key = irc_key(author.account, author.mask or str(author.user_id))
    return Identity(Network.IRC, key, name, author.nick, parse_irc_key(key).verified)


def _clean_name(text: str) -> str:
    """Network names may carry controls or be huge; store the form the relay shows, bounded."""
    cut = clean_name(text).strip()[:MAX_NAME_LENGTH]
    return clean_name(cut).strip() or "?"  # a cut through a flag's tags leaves stray tags


class RosterStore:
    """Typed access to the roster tables through the process's one Database."""

    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        *,
        unverified_per_host_per_hour: int | None = None,
    ) -> None:
        """unverified_per_host_per_hour: the bridge's limit on clones (the config's
        roster.unverified_per_host_per_hour); None for the operator's tools, which add no one."""
        self.db = db
        self._clock = clock or time.time
        self._per_host = unverified_per_host_per_hour

    # ------------------------------------------------------------------ members

    async def join(self, identity: Identity) -> tuple[Member, bool]:
        """Register the identity (idempotent); refresh its display name; True when new."""
        async with self.db.transaction() as conn:
            member_id, created = await member_rows.join_member(
                conn, identity, self._clock(), per_host=self._per_host
            )
            member = await member_rows.load_member(conn, member_id)
        return member, created

    async def refresh_identity(self, identity: Identity) -> Member | None:
        """The caller's member (None if not joined), storing a changed display name or handle.

        A stranger costs one read and no write transaction: bridge.presence asks this for
        everyone it has not seen speak yet, and most speakers are not members.
        """
        if await member_rows.identity_id(self.db.conn, identity) is None:
            return None
        async with self.db.transaction() as conn:
            member_id = await member_rows.update_names(conn, identity, self._clock())
            return None if member_id is None else await member_rows.load_member(conn, member_id)

    async def get_member_by_identity(self, network: Network, key: str) -> Member | None:
        async with self.db.conn.execute(
            "SELECT member_id FROM identities WHERE network = ? AND key = ?", (network.value, key)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else await member_rows.load_member(self.db.conn, int(row[0]))

    async def confirm(self, member_id: int) -> bool:
        """/interests alone: the member saw their profile and keeps it (storage.freshness);
        True when a nudge was waiting for this, or they had dropped out of the lists."""
        async with self.db.transaction() as conn:
            before = (await freshness.freshness(conn, [member_id])).get(member_id)
            await member_rows.confirm(conn, member_id, self._clock())
        return before is not None and (before.nudged or before.stale)

    async def forget(self, member_id: int) -> bool:
        """Delete the member; identities, interests and link codes go by ON DELETE CASCADE."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM members WHERE id = ?", (member_id,))
            return cur.rowcount > 0

    # ---------------------------------------------------------------- interests

    async def join_with_interests(
        self,
        identity: Identity,
        add: Sequence[str],
        remove: Sequence[str] = (),
        *,
        edit: bool,
    ) -> tuple[InterestUpdate, bool]:
        """/interests: join if needed, then set (edit=False: the list is add, the first 25
        kept) or edit the tags (remove, then append new ones while there is room), in one
        transaction, so a failure never leaves a member without the change they asked for;
        True when the member is new."""
        async with self.db.transaction() as conn:
            member_id, created = await member_rows.join_member(
                conn, identity, self._clock(), per_host=self._per_host
            )
            if edit:
                update = await _edit_tags(conn, member_id, add, remove)
            else:
                update = await _set_tags(conn, member_id, add)
            await member_rows.touch(conn, member_id, self._clock())
        return update, created

    # ------------------------------------------------------------------- search

    async def find_members(
        self, query: str, limit: int = 10, *, exact_only: bool = False
    ) -> list[MemberMatch]:
        """Members by name or handle, case-insensitive: exact, then prefix, then substring.

        exact_only skips the prefix and substring passes (the substring one scans every name).
        """
        want = limit * STALE_SLACK
        ranked = await search.rank_names(self.db.conn, query, want, exact_only=exact_only)
        found = await member_rows.load_members(self.db.conn, [i for i, _ in ranked])
        members = {m.id: m for m in found}
        matches = [MemberMatch(members[i], rank) for i, rank in ranked if i in members]
        return sorted(matches, key=lambda m: m.member.stale)[:limit]  # confirmed first

    async def find_by_interest(self, prefix: str, limit: int = 10) -> InterestSearch:
        """Members with tag == prefix or starting with it, best first (see storage.search)."""
        total, ranked = await search.rank_interest(self.db.conn, prefix, limit * STALE_SLACK)
        found = await member_rows.load_members(self.db.conn, [i for i, _ in ranked])
        members = {m.id: m for m in found}
        hits = tuple(
            InterestHit(
                members[mid],
                tuple(t for t in members[mid].interests if t.startswith(prefix)),
                exact,
            )
            for mid, exact in ranked
            if mid in members
        )
        best = sorted(hits, key=lambda h: h.member.stale)[:limit]  # confirmed first, stably
        return InterestSearch(prefix, total, tuple(best))

    async def suggest_interests(self, query: str, limit: int = 3) -> list[str]:
        """Closest existing tags, for a /whois that found nothing."""
        return await search.suggest_tags(self.db.conn, query, limit)

    async def stats(self, top: int = 10) -> RosterStats:
        conn = self.db.conn
        async with conn.execute(
            "SELECT (SELECT COUNT(*) FROM members), "
            "(SELECT COUNT(*) FROM identities WHERE network = 'telegram'), "
            "(SELECT COUNT(*) FROM identities WHERE network = 'irc')"
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        async with conn.execute(
            "SELECT tag, members FROM tag_counts ORDER BY members DESC, tag LIMIT ?", (top,)
        ) as cur:
            tops = tuple((str(r[0]), int(r[1])) for r in await cur.fetchall())
        return RosterStats(int(row[0]), int(row[1]), int(row[2]), tops)

    # --------------------------------------------------------------------- link

    async def create_link_code(self, identity: Identity, *, join: bool = False) -> LinkCode:
        """A fresh one-time code for identity (see storage.link_codes)."""
        return await link_codes.create_link_code(
            self.db, identity, self._clock(), join=join, per_host=self._per_host
        )

    async def discard_link_code(self, code: str) -> bool:
        return await link_codes.discard_link_code(self.db, code)

    async def redeem_link_code(self, code: str, identity: Identity) -> Linked:
        """The merged member (unlisted); LinkError with the reason shown to the user otherwise."""
        return await link_codes.redeem_link_code(self.db, code, identity, self._clock())

    # ----------------------------------------------------------------- cleaning

    async def find_for_removal(self, query: str) -> list[Member]:
        """The members a moderator may mean by query (see storage.cleaning.find_members)."""
        ids = await cleaning.find_members(self.db.conn, query)
        return await member_rows.load_members(self.db.conn, ids)

    async def remove_member(self, member_id: int, actor: str) -> Member | None:
        """A moderator removes a member with everything of theirs; recorded."""
        return await cleaning.remove_member(self.db, member_id, actor, self._clock())

    async def remove_tag(self, tag: str, actor: str) -> int:
        """A moderator takes a tag from everyone; recorded; how many listed it."""
        return await cleaning.remove_tag(self.db, tag, actor, self._clock())

    # ------------------------------------------------------------------- export

    async def record_export(self, actor: str, rows: int) -> None:
        """Every export leaves a row naming who took the roster and how big it was."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO exports (actor, exported_at, row_count) VALUES (?, ?, ?)",
                (actor, self._clock(), rows),
            )


async def _set_tags(
    conn: aiosqlite.Connection, member_id: int, tags: Sequence[str]
) -> InterestUpdate:
    wanted = list(dict.fromkeys(tags))
    keep, over = wanted[:MAX_INTERESTS], wanted[MAX_INTERESTS:]
    await member_rows.replace_tags(conn, member_id, keep)
    return InterestUpdate(tuple(keep), tuple(over))


async def _edit_tags(
    conn: aiosqlite.Connection, member_id: int, add: Sequence[str], remove: Sequence[str]
) -> InterestUpdate:
    gone = set(remove)
    result = [t for t in await member_rows.member_tags(conn, member_id) if t not in gone]
    over: list[str] = []
    for tag in dict.fromkeys(add):
        if tag in result:
            continue
        if len(result) >= MAX_INTERESTS:
            over.append(tag)
        else:
            result.append(tag)
    await member_rows.replace_tags(conn, member_id, result)
    return InterestUpdate(tuple(result), tuple(over))
