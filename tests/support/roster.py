"""Driving the roster end to end: configurations, questions asked on IRC and Telegram."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

from tests.support.fake_telegram import FakeTelegram, SentMessage, TgUser
from tests.support.harness import (
    BOT_NICK,
    CHANNEL,
    GROUP,
    write_config,
)
from tests.support.irc_client import IrcClient, Line
from tests.support.ircd import IrcServer


def config_for(
    tmp_path: Path,
    fake_tg: FakeTelegram,
    ngircd: IrcServer,
    *,
    irc: Mapping[str, Any] | None = None,
    **roster: Any,
) -> Path:
    """A test config; commands_per_minute is high unless the test is about the limit.

    Telegram's per-group pacing (20 a minute) is lifted: these tests are about answers.
    """
    settings: dict[str, Any] = {"commands_per_minute": 100, **roster}
    pacing = {"messages_per_minute": 600.0, "burst": 30}
    return write_config(
        tmp_path / "config.toml", fake_tg, ngircd, roster=settings, telegram=pacing, irc=irc
    )


def db_path(tmp_path: Path) -> Path:
    """The SQLite file write_config points the bridge at."""
    return tmp_path / "bridge.sqlite3"


def query(tmp_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the bridge's database the way an operator would, with the sqlite3 module."""
    with closing(sqlite3.connect(db_path(tmp_path))) as conn:
        return list(conn.execute(sql, params))


def in_chat(chat: int) -> Callable[[SentMessage], bool]:
    return lambda m: m.chat_id == chat


async def tg_ask(
    fake: FakeTelegram, user: TgUser, text: str, *, chat: int = GROUP, count: int = 1
) -> list[str]:
    """user types text in chat; the bot's next count messages there, as seen."""
    fake.push_text(chat, user, text)
    return [m.visible_text or "" for m in await fake.wait_sent(in_chat(chat), count=count)]


async def tg_one(fake: FakeTelegram, user: TgUser, text: str, *, chat: int = GROUP) -> str:
    [answer] = await tg_ask(fake, user, text, chat=chat)
    return answer


async def irc_ask(client: IrcClient, target: str, text: str, count: int = 1) -> list[str]:
    """client says text to target (the channel or the bot); the bot's next count lines there."""
    client.privmsg(target, text)
    where = CHANNEL if target == CHANNEL else client.nickname
    return [ln.text for ln in await client.expect_privmsgs(where, count, source_nick=BOT_NICK)]


async def irc_one(client: IrcClient, target: str, text: str) -> str:
    [answer] = await irc_ask(client, target, text)
    return answer


def from_bot(ln: Line) -> bool:
    """Tests consume every line of the bot they expect; any other one is one too many."""
    return ln.command == "PRIVMSG" and ln.source_nick == BOT_NICK


def link_code(text: str | None) -> str:
    """The code from the bot's private /link answer."""
    match = re.search(r"Your link code is ([A-Z0-9]{6})\.", text or "")
    assert match, text
    return match.group(1)
