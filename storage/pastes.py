"""The texts behind paste links, kept in the database so a link outlives a restart."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True, slots=True)
class Paste:
    id: int
    body: str
    expires: int
    """Unix seconds; the link carries the same."""


class PasteStore:
    """One row per relayed long message and channel; rows go once expired (prune)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(self, source_key: str, body: str, now: float, expires: int) -> Paste:
        """Store a text once per source_key: a replayed message gets the row (and so the
        link) it had, never a second one."""

        def work(conn: sqlite3.Connection) -> Paste:
            conn.execute(
                "INSERT OR IGNORE INTO paste (source_key, body, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (source_key, body, now, expires),
            )
            row = conn.execute(
                "SELECT id, body, expires_at FROM paste WHERE source_key = ?", (source_key,)
            ).fetchone()
            return Paste(int(row[0]), str(row[1]), int(row[2]))

        return await self.db.in_one_trip(work)

    async def get(self, paste_id: int) -> Paste | None:
        rows = await self.db.fetchall(
            "SELECT id, body, expires_at FROM paste WHERE id = ?", (paste_id,)
        )
        return Paste(int(rows[0][0]), str(rows[0][1]), int(rows[0][2])) if rows else None

    async def prune(self, now: float) -> int:
        """Forget texts whose links have expired; the number forgotten."""
        return await self.db.write("DELETE FROM paste WHERE expires_at <= ?", (now,))
