"""What the bot posted where, so a reply to a relayed message can name its real author."""

from __future__ import annotations

import time
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True, slots=True)
class MappedMessage:
    author_name: str
    text: str


@dataclass(frozen=True, slots=True)
class Posted:
    """A message the bot posted for someone: remembered with its delivery, atomically."""

    network: str
    chat: str
    message_id: str
    author_name: str
    text: str

    def row(self) -> tuple[str, str, str, str, str, float]:
        return (self.network, self.chat, self.message_id, self.author_name, self.text, time.time())


RECORD_SQL = (
    "INSERT OR REPLACE INTO message_map "
    "(network, chat, message_id, author_name, text, created_at) VALUES (?, ?, ?, ?, ?, ?)"
)


class MessageMap:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, network: str, chat: str, message_id: str, author_name: str, text: str
    ) -> None:
        await self.db.write(RECORD_SQL, Posted(network, chat, message_id, author_name, text).row())

    async def lookup(self, network: str, chat: str, message_id: str) -> MappedMessage | None:
        async with self.db.conn.execute(
            "SELECT author_name, text FROM message_map "
            "WHERE network = ? AND chat = ? AND message_id = ?",
            (network, chat, message_id),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else MappedMessage(row[0], row[1])

    async def prune(self, cutoff: float) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM message_map WHERE created_at < ?", (cutoff,))
