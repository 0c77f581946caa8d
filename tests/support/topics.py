"""A bridge paired with a forum group: configurations and topic helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.support.fake_telegram import FakeTelegram, SentMessage
from tests.support.harness import (
    BOT_NICK,
    toml_value,
    write_config,
)
from tests.support.irc_client import IrcClient
from tests.support.ircd import IrcServer

FORUM = -1002000000001


WHOLE = -1002000000002


UNPACED = {"messages_per_minute": 600.0, "burst": 30}


def topic_config(
    path: Path,
    fake: FakeTelegram,
    ircd: IrcServer,
    pairs: list[tuple[int, int | None, str]],
) -> Path:
    """The harness's config with topic pairs ([[bridge]] tables may follow other tables)."""
    write_config(path, fake, ircd, pairs=(), telegram=UNPACED)
    tables = "".join(
        f"\n[[bridge]]\ntelegram_chat = {chat}\nirc_channel = {toml_value(channel)}\n"
        + (f"telegram_topic = {topic}\n" if topic is not None else "")
        for chat, topic, channel in pairs
    )
    path.write_text(path.read_text(encoding="utf-8") + tables, encoding="utf-8")
    return path


def in_topic(topic: int | None, chat: int = FORUM) -> Callable[[SentMessage], bool]:
    def matches(m: SentMessage) -> bool:
        return m.chat_id == chat and m.message_thread_id == topic

    return matches


async def texts(client: IrcClient, channel: str, count: int) -> list[str]:
    return [ln.text for ln in await client.expect_privmsgs(channel, count, source_nick=BOT_NICK)]
