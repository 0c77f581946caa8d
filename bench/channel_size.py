"""Relay work per message against the size of the IRC channel.

The idle and 20/s benches bridge a channel of four people; a real one (a Wikimedia
channel) holds hundreds. Each Telegram line relayed to IRC asks who is in the channel (to
keep names from highlighting), so that question must not grow with the channel. This
times the real Router and IRC connector state, in process, per message: a Telegram line
in → the outbox item for the channel queued. Nothing goes over the network here.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import percentile
from bridge.config import parse_config
from bridge.irc.connector import IrcConnector
from bridge.model import Message
from bridge.router import Router
from handlers.registry import build_registry
from storage.message_map import MessageMap
from storage.pending_commands import PendingCommands
from storage.topics import TopicStore
from tests.support.handlers import (
    IRC_CHANNEL,
    ROUTER_CONFIG,
    TG_GROUP,
    FakeOutbox,
    FakeTelegramSide,
    open_store,
    tg_author,
)

SIZES = (4, 500, 2000)
ALICE = tg_author(1001, "Alice Liddell", "alice")


def _people(count: int) -> str:
    """count distinct nicks in a NAMES reply's shape, some with IRC's odd letters."""
    return " ".join(
        f"{'@' if i % 50 == 0 else ''}Person{i}{'[m]' if i % 7 == 0 else ''}" for i in range(count)
    )


async def per_message_ms(tmp: Path, members: int, messages: int) -> list[float]:
    """Router.handle of one Telegram line, timed per message, in a channel of `members`."""
    config = parse_config(
        ROUTER_CONFIG.format(
            irc="", relay="", roster="", group=TG_GROUP.chat_id, channel=IRC_CHANNEL.chat_id
        )
    )
    irc = IrcConnector(config.irc, [IRC_CHANNEL.chat_id])
    irc.channel_state.joined(IRC_CHANNEL.chat_id)
    irc.channel_state.add_names(IRC_CHANNEL.chat_id, f"{config.irc.nick} {_people(members)}")
    async with open_store(tmp / f"size{members}.sqlite3") as store:
        outbox = FakeOutbox()
        router = Router(
            config,
            outbox,
            build_registry(commands_per_minute=1000),
            store,
            MessageMap(store.db),
            irc=irc,
            telegram=FakeTelegramSide(),
            topics=TopicStore(store.db),
            pending=PendingCommands(store.db),
        )
        took: list[float] = []
        for n in range(messages):
            text = f"message {n} about Person{n % max(members, 1)} and the build"
            msg = Message(f"tg:{TG_GROUP.chat_id}:{n}", ALICE, TG_GROUP, text)
            began = time.perf_counter()
            await router.handle(msg)
            took.append((time.perf_counter() - began) * 1000.0)
        assert len(outbox.items) == messages, "every line is queued for IRC"
    return took


async def channel_size_figures(tmp: Path, messages: int = 300) -> dict[str, Any]:
    """p50 / p99 ms per message for each channel size."""
    out: dict[str, Any] = {"messages": messages}
    for members in SIZES:
        took = await per_message_ms(tmp, members, messages)
        out[str(members)] = {
            "p50_ms": round(statistics.median(took), 3),
            "p99_ms": round(percentile(took, 99), 3),
        }
    return out


if __name__ == "__main__":
    import asyncio
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(asyncio.run(channel_size_figures(Path(tmp))), indent=1))
