"""Telegram forum topics the bridge has seen: names and whether they are closed.

Telegram tells a topic's name only in its forum_topic_created / forum_topic_edited service
messages, never again: what they said is stored so a whole-group pair can still label lines
`[Help]` after a restart. Reads come from a cache filled from the table on first use; this
process is the table's only writer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bridge.model import (
    GENERAL_TOPIC,
    Message,
    MessageKind,
    Network,
    TopicChange,
    TopicEvent,
    split_telegram_chat,
)
from storage.db import Database

GENERAL_NAME = "General"
"""What the General topic is called until it is renamed."""

CLOSED_AFTER = {TopicEvent.CREATED: False, TopicEvent.CLOSED: True, TopicEvent.REOPENED: False}
"""Whether a topic is closed after each event; an edit leaves it as it was."""


@dataclass(frozen=True, slots=True)
class Topic:
    chat: str
    """The group's chat id, as text."""
    topic: int
    name: str | None
    closed: bool


class TopicStore:
    """Names and closed flags of forum topics, by (group, message_thread_id)."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._cache: dict[tuple[str, int], Topic] | None = None

    async def _all(self) -> dict[tuple[str, int], Topic]:
        if self._cache is None:
            rows = await self.db.fetchall("SELECT chat, topic, name, closed FROM telegram_topics")
            self._cache = {
                (r[0], int(r[1])): Topic(r[0], int(r[1]), r[2], bool(r[3])) for r in rows
            }
        return self._cache

    async def get(self, chat: str, topic: int) -> Topic | None:
        return (await self._all()).get((chat, topic))

    async def label(self, chat: str, topic: int) -> str:
        """How IRC is told where a line was written: the topic's name, "General", or "#16"
        for a topic whose creation the bridge never saw."""
        known = await self.get(chat, topic)
        if known is not None and known.name:
            return known.name
        return GENERAL_NAME if topic == GENERAL_TOPIC else f"#{topic}"

    async def learn(
        self, chat: str, topic: int, *, name: str | None = None, closed: bool | None = None
    ) -> Topic:
        """Store what a service message said (a name, closed or reopened); what it did not
        say is kept."""
        cache = await self._all()
        old = cache.get((chat, topic))
        new = Topic(
            chat,
            topic,
            name if name is not None else (old.name if old else None),
            closed if closed is not None else (old.closed if old else False),
        )
        if new == old:
            return new
        await self.db.write(
            "INSERT INTO telegram_topics (chat, topic, name, closed, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat, topic) DO UPDATE SET "
            "name = excluded.name, closed = excluded.closed, updated_at = excluded.updated_at",
            (chat, topic, new.name, int(new.closed), self.clock()),
        )
        cache[(chat, topic)] = new
        return new

    async def note(self, msg: Message) -> Topic | None:
        """Learn from a TOPIC message of a group (bridge.telegram.inbound); None for any
        other message."""
        if msg.kind is not MessageKind.TOPIC or msg.chat.network is not Network.TELEGRAM:
            return None
        group, topic = split_telegram_chat(msg.chat.chat_id)
        change = (
            msg.detail if isinstance(msg.detail, TopicChange) else TopicChange(TopicEvent.EDITED)
        )
        closed = CLOSED_AFTER.get(change.event)
        return await self.learn(group, topic or GENERAL_TOPIC, name=change.name, closed=closed)

    async def closed(self) -> list[Topic]:
        """Topics the group closed (for `status`)."""
        return sorted(
            (t for t in (await self._all()).values() if t.closed), key=lambda t: (t.chat, t.topic)
        )
