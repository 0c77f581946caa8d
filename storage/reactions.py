"""Whose message a reaction is to: the Telegram messages the bridge relayed to IRC (who wrote
each, its first words, its chat key) and, through message_map, those it posted itself.

A Telegram reaction names only the group and a message id. Rows are one per message, the
quote cut to QUOTE_CHARS, and go after KEEP_DAYS (like message_map's): a reaction to an older
message, or to one never relayed (the no-relay prefix), finds nothing and is not relayed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bridge.model import Network
from storage.db import Database

KEEP_DAYS = 7
QUOTE_CHARS = 100
PRUNE_EVERY = 3600.0
"""Seconds between two prunes, done by note() itself."""

_NOTE = (
    "INSERT OR REPLACE INTO reacted_message "
    "(group_id, message_id, chat, author_name, quote, created_at) VALUES (?, ?, ?, ?, ?, ?)"
)
# The group's own row or one of its topics' ("<group>/<topic>": between "<group>/" and
# "<group>0", '0' following '/'), each a range of message_map's primary key.
_LOOKUP = (
    "SELECT chat, author_name, quote, 0 FROM reacted_message"
    " WHERE group_id = ?1 AND message_id = ?2"
    " UNION ALL SELECT chat, author_name, text, 1 FROM message_map"
    " WHERE network = ?3 AND chat = ?1 AND message_id = ?2"
    " UNION ALL SELECT chat, author_name, text, 1 FROM message_map"
    " WHERE network = ?3 AND chat > ?1 || '/' AND chat < ?1 || '0' AND message_id = ?2"
    " LIMIT 1"
)


@dataclass(frozen=True, slots=True)
class ReactedMessage:
    chat: str
    """Its chat key: the group, or "<group>/<topic>"."""
    author_name: str
    quote: str
    """Its text (or the start of it); may be empty."""
    by_bridge: bool
    """Posted by the bridge (an IRC line): author_name is an IRC nick."""


class ReactionStore:
    """What a reaction needs to know of the message it is to, by (group, message id)."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._pruned_at = 0.0

    async def note(
        self, group: str, message_id: str, chat: str, author_name: str, quote: str
    ) -> None:
        """Remember a relayed message (an edit replaces what its first version said)."""
        now = self.clock()
        await self.db.write(_NOTE, (group, message_id, chat, author_name, quote[:QUOTE_CHARS], now))
        if now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            await self.prune(now - KEEP_DAYS * 86400)

    async def lookup(self, group: str, message_id: str) -> ReactedMessage | None:
        rows = await self.db.fetchall(_LOOKUP, (group, message_id, Network.TELEGRAM.value))
        if not rows:
            return None
        chat, author_name, quote, by_bridge = rows[0]
        return ReactedMessage(chat, author_name, quote, bool(by_bridge))

    async def prune(self, cutoff: float) -> None:
        await self.db.write("DELETE FROM reacted_message WHERE created_at < ?", (cutoff,))
