"""The media links' signing secret, kept in the database and not in the config: the
operator never has to make one up, and rotating it is one command."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from storage.db import Database

SECRET_BYTES = 32


class WebSecretStore:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    async def get_or_create(self) -> bytes:
        """The current secret; made on first use (a racing second process keeps the first)."""
        rows = await self.db.fetchall("SELECT secret FROM web_secret WHERE id = 1")
        if rows:
            return bytes(rows[0][0])
        await self.db.write(
            "INSERT OR IGNORE INTO web_secret (id, secret, created_at) VALUES (1, ?, ?)",
            (secrets.token_bytes(SECRET_BYTES), self.clock()),
        )
        rows = await self.db.fetchall("SELECT secret FROM web_secret WHERE id = 1")
        return bytes(rows[0][0])

    async def rotate(self) -> bytes:
        """A new secret: every link signed with the old one answers 404 from now on (a
        running bridge picks it up at its next start)."""
        secret = secrets.token_bytes(SECRET_BYTES)
        await self.db.write(
            "INSERT INTO web_secret (id, secret, created_at) VALUES (1, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, "
            "created_at = excluded.created_at",
            (secret, self.clock()),
        )
        return secret
