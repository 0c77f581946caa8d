"""Rows of members, identities and interests, read and written inside the caller's transaction.

The roster store and the link codes both change members; these are the statements they share,
each taking the open connection so a command's parts commit together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aiosqlite

from bridge.identity import parse_irc_key
from bridge.model import Network
from storage.roster_model import HostQuotaFull, Identity, Member
from storage.tags import fold, shared_prefixes

HOUR = 3600.0
DAY = 86_400.0


async def identity_id(conn: aiosqlite.Connection, identity: Identity) -> int | None:
    async with conn.execute(
        "SELECT id FROM identities WHERE network = ? AND key = ?",
        (identity.network.value, identity.key),
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else int(row[0])


async def join_member(
    conn: aiosqlite.Connection, identity: Identity, now: float, *, per_host: int | None = None
) -> tuple[int, bool]:
    """The identity's member id, creating the member when new (True); names kept current.
    per_host: at most this many new unverified IRC members per host an hour (HostQuotaFull)."""
    member_id = await update_names(conn, identity, now)
    if member_id is not None:
        return member_id, False
    if per_host is not None:
        await _check_host_quota(conn, identity, now, per_host)
    cur = await conn.execute("INSERT INTO members (joined_at) VALUES (?)", (now,))
    if cur.lastrowid is None:
        raise RuntimeError("INSERT returned no rowid")
    await insert_identity(conn, cur.lastrowid, identity, now)
    return cur.lastrowid, True


async def _check_host_quota(
    conn: aiosqlite.Connection, identity: Identity, now: float, per_host: int
) -> None:
    """Refuse a new unverified IRC identity when per_host of its host joined in the last
    hour: clones take a new nick each, but they share a host."""
    if identity.network is not Network.IRC or identity.verified:
        return
    host = parse_irc_key(identity.key).value.partition("@")[2]
    if not host:
        return
    async with conn.execute(
        "SELECT COUNT(*) FROM identities WHERE verified = 0 AND created_at > ? "
        "AND network = 'irc' AND substr(key, instr(key, '@') + 1) = ?",
        (now - HOUR, host),
    ) as cur:
        row = await cur.fetchone()
    if row is not None and int(row[0]) >= per_host:
        raise HostQuotaFull(
            "Too many people from your host joined without logging in this hour: log in "
            "to IRC services and try again (or wait an hour)."
        )


async def update_names(conn: aiosqlite.Connection, identity: Identity, now: float) -> int | None:
    """Store a changed display name/handle/verified flag; the member id, or None if unknown."""
    async with conn.execute(
        "SELECT member_id, display_name, handle, verified FROM identities "
        "WHERE network = ? AND key = ?",
        (identity.network.value, identity.key),
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    if (row[1], row[2], bool(row[3])) != (
        identity.display_name,
        identity.handle,
        identity.verified,
    ):
        await conn.execute(
            "UPDATE identities SET display_name = ?, name_fold = ?, handle = ?, "
            "handle_fold = ?, verified = ?, updated_at = ? WHERE network = ? AND key = ?",
            (*_name_columns(identity), now, identity.network.value, identity.key),
        )
    return int(row[0])


async def insert_identity(
    conn: aiosqlite.Connection, member_id: int, identity: Identity, now: float
) -> None:
    await conn.execute(
        "INSERT INTO identities (member_id, network, key, display_name, name_fold, handle, "
        "handle_fold, verified, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (member_id, identity.network.value, identity.key, *_name_columns(identity), now, now),
    )


async def touch(conn: aiosqlite.Connection, member_id: int, now: float) -> None:
    """The member did something to their entry: the web directory lists them higher, and
    the profile counts as confirmed (storage.freshness)."""
    await conn.execute(
        "UPDATE members SET active_at = max(coalesce(active_at, 0), ?) WHERE id = ?",
        (now, member_id),
    )
    await confirm(conn, member_id, now)


async def confirm(conn: aiosqlite.Connection, member_id: int, now: float) -> None:
    """The member showed, changed or listed their profile: fresh again, a nudge forgotten
    (storage.freshness). Writes only when something changes, so a day's repeats (each
    write would drop the directory's page cache) write nothing."""
    await conn.execute(
        "UPDATE members SET confirmed_at = ?, nudged_at = NULL, stale = 0 WHERE id = ? "
        "AND (confirmed_at IS NULL OR confirmed_at < ? OR nudged_at IS NOT NULL OR stale = 1)",
        (now, member_id, now - DAY),
    )


async def member_networks(conn: aiosqlite.Connection, member_id: int) -> set[str]:
    async with conn.execute(
        "SELECT DISTINCT network FROM identities WHERE member_id = ?", (member_id,)
    ) as cur:
        return {str(r[0]) for r in await cur.fetchall()}


async def member_tags(conn: aiosqlite.Connection, member_id: int) -> list[str]:
    async with conn.execute(
        "SELECT tag FROM interests WHERE member_id = ? ORDER BY position", (member_id,)
    ) as cur:
        return [str(r[0]) for r in await cur.fetchall()]


async def replace_tags(conn: aiosqlite.Connection, member_id: int, tags: Sequence[str]) -> None:
    """Store the member's whole list at once: each row's shared prefix depends on the
    member's other tags."""
    await conn.execute("DELETE FROM interests WHERE member_id = ?", (member_id,))
    shared = shared_prefixes(tags)
    await conn.executemany(
        "INSERT INTO interests (member_id, tag, position, shared) VALUES (?, ?, ?, ?)",
        [(member_id, tag, i, shared[tag]) for i, tag in enumerate(tags)],
    )


async def load_member(conn: aiosqlite.Connection, member_id: int) -> Member:
    members = await load_members(conn, [member_id])
    if not members:
        raise LookupError(f"member {member_id} vanished")
    return members[0]


async def load_members(conn: aiosqlite.Connection, ids: Sequence[int]) -> list[Member]:
    """Members with identities and interests, in the order of ids; two queries in all."""
    if not ids:
        return []
    id_list = json.dumps(list(ids))
    joined: dict[int, tuple[float, float | None, bool]] = {}
    idents: dict[int, list[Identity]] = {}
    tags: dict[int, list[str]] = {}
    async with conn.execute(
        "SELECT m.id, m.joined_at, i.network, i.key, i.display_name, i.handle, i.verified, "
        "m.confirmed_at, m.stale FROM members m JOIN identities i ON i.member_id = m.id "
        "WHERE m.id IN (SELECT value FROM json_each(?)) ORDER BY i.id",
        (id_list,),
    ) as cur:
        for r in await cur.fetchall():
            joined[int(r[0])] = (float(r[1]), None if r[7] is None else float(r[7]), bool(r[8]))
            idents.setdefault(int(r[0]), []).append(
                Identity(Network(r[2]), str(r[3]), str(r[4]), r[5], bool(r[6]))
            )
    async with conn.execute(
        "SELECT member_id, tag FROM interests "
        "WHERE member_id IN (SELECT value FROM json_each(?)) ORDER BY member_id, position",
        (id_list,),
    ) as cur:
        for r in await cur.fetchall():
            tags.setdefault(int(r[0]), []).append(str(r[1]))
    return [
        Member(i, joined[i][0], tuple(idents[i]), tuple(tags.get(i, ())), *joined[i][1:])
        for i in ids
        if i in joined
    ]


def _name_columns(identity: Identity) -> tuple[str, str, str | None, str | None, int]:
    handle = identity.handle or None
    return (
        identity.display_name,
        fold(identity.display_name),
        handle,
        fold(handle) if handle else None,
        int(identity.verified),
    )
