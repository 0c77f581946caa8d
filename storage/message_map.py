"""What the bot posted where, so a reply to a relayed message can name its real author."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.model import Posted
from storage.db import Database


@dataclass(frozen=True, slots=True)
class MappedMessage:
    author_name: str
    text: str


RECORD_SQL = (
    "INSERT OR REPLACE INTO message_map "
    "(network, chat, message_id, author_name, text, created_at) VALUES (?, ?, ?, ?, ?, ?)"
)


def posted_row(posted: Posted, now: float) -> tuple[str, str, str, str, str, float]:
    """The message_map row that remembers a posted message (written by OutboxStore.complete)."""
    return (posted.network, posted.chat, posted.message_id, posted.author_name, posted.text, now)


class MessageMap:
    def __init__(self, db: Database) -> None:
        self.db = db

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
