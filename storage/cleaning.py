"""Moderators cleaning the roster: a member removed with all that is theirs, a tag taken from
everyone, and the one a moderator means found by number, name, @username or nick.

Each change and its line in roster_cleaning (who, what, how much) commit together, so no
cleaning goes unrecorded and nothing is recorded that did not happen. Like the export log,
the record keeps no member's data: the member number (the export's member_id) or the tag.
A removed member's messages still waiting in the outbox go with them, in the same commit.
"""

from __future__ import annotations

import logging

import aiosqlite

from storage import member_rows, search
from storage.db import Database
from storage.outbox_store import drop_unsent, identity_sender
from storage.roster_model import Member

log = logging.getLogger(__name__)

MAX_CANDIDATES = 10


async def find_members(conn: aiosqlite.Connection, query: str) -> list[int]:
    """Member ids a moderator may mean, best first: "#12" is member 12; digits are a member
    number or a Telegram user id; anything else an exact name, @username or nick."""
    text = query.strip()
    number = text.removeprefix("#")
    if number.isdecimal() and number.isascii():
        found: list[int] = []
        async with conn.execute("SELECT id FROM members WHERE id = ?", (int(number),)) as cur:
            found += [int(r[0]) for r in await cur.fetchall()]
        if not text.startswith("#"):
            async with conn.execute(
                "SELECT member_id FROM identities WHERE network = 'telegram' AND key = ?",
                (number,),
            ) as cur:
                found += [int(r[0]) for r in await cur.fetchall()]
        return list(dict.fromkeys(found))
    ranked = await search.rank_names(conn, text, MAX_CANDIDATES, exact_only=True)
    return [member_id for member_id, _ in ranked]


async def remove_member(db: Database, member_id: int, actor: str, now: float) -> Member | None:
    """Delete the member (identities, interests and link codes go by ON DELETE CASCADE) and
    what they said that waits in the outbox unsent (a message partly written to IRC
    finishes), and record it; the member as it was, or None when there was no such member."""
    async with db.transaction() as conn:
        try:
            member = await member_rows.load_member(conn, member_id)
        except LookupError:
            return None
        await conn.execute("DELETE FROM members WHERE id = ?", (member_id,))
        await _record(conn, actor, "remove", f"member {member_id}", len(member.identities), now)
        senders = [identity_sender(i.network.value, i.key) for i in member.identities]
        dropped = await drop_unsent(conn, senders)
    if dropped:
        log.info("member %d: %d queued messages dropped with them", member_id, len(dropped))
    return member


async def remove_tag(db: Database, tag: str, actor: str, now: float) -> int:
    """Take tag (already normalised) from every member who lists it and record it; how many
    members listed it. Each member's list is stored whole (storage.member_rows.replace_tags
    keeps the shared prefixes that /whois ranks by)."""
    async with db.transaction() as conn:
        async with conn.execute("SELECT member_id FROM interests WHERE tag = ?", (tag,)) as cur:
            holders = [int(r[0]) for r in await cur.fetchall()]
        for member_id in holders:
            kept = [t for t in await member_rows.member_tags(conn, member_id) if t != tag]
            await member_rows.replace_tags(conn, member_id, kept)
        if holders:
            await _record(conn, actor, "untag", tag, len(holders), now)
    return len(holders)


async def _record(
    conn: aiosqlite.Connection, actor: str, action: str, target: str, affected: int, now: float
) -> None:
    await conn.execute(
        "INSERT INTO roster_cleaning (actor, action, target, affected, done_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (actor, action, target, affected, now),
    )
