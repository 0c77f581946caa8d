"""The /askme choice: whether a member takes questions on their interests (/ask).

Off by default (migration 0016, members.askme). A "no" of someone who is not a member
stores nothing; a "yes" needs a member (handlers.asking joins them first, as /listed does).
The web directory's card reads askme_members() for the members of a page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aiosqlite

from storage import member_rows
from storage.db import Database
from storage.roster_model import Identity


async def set_askme(db: Database, identity: Identity, askme: bool) -> int | None:
    """Record the choice of identity's member; their member id, or None when not a member."""
    async with db.transaction() as conn:
        ident = await member_rows.identity_id(conn, identity)
        if ident is None:
            return None
        async with conn.execute(
            "UPDATE members SET askme = ? "
            "WHERE id = (SELECT member_id FROM identities WHERE id = ?) RETURNING id",
            (int(askme), ident),
        ) as cur:
            row = await cur.fetchone()
    return None if row is None else int(row[0])


async def takes_questions(conn: aiosqlite.Connection, member_id: int) -> bool:
    """Whether the member said /askme yes."""
    async with conn.execute("SELECT askme FROM members WHERE id = ?", (member_id,)) as cur:
        row = await cur.fetchone()
    return row is not None and bool(row[0])


async def askme_members(conn: aiosqlite.Connection, ids: Sequence[int]) -> frozenset[int]:
    """Which of these members said /askme yes (one query, for a page of cards)."""
    if not ids:
        return frozenset()
    async with conn.execute(
        "SELECT id FROM members WHERE askme = 1 AND id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(ids)),),
    ) as cur:
        return frozenset(int(r[0]) for r in await cur.fetchall())
