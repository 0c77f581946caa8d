"""What may be a replay of a message relayed before is marked where it is decoded
(Message.replay_possible), and the relay carries the mark onto what it queues
(NewItem.replay_possible), so it meets the store's de-duplication before anything is sent
(issue 12's early send, bridge/outbox_mirror.py): the updates of the first getUpdates
answer after a start, and IRC lines that are part of a batch or stamped well in the past
(a bouncer's playback)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from bridge.config import IrcConfig
from bridge.irc.caps import CapNegotiation
from bridge.irc.channels import ChannelState
from bridge.irc.inbound import EventTable, Inbound, Inbox, replayed
from bridge.irc.link import Link
from bridge.model import Message
from bridge.telegram import TelegramConnector
from handlers.registry import CommandRegistry
from storage.roster_store import RosterStore
from tests.support.fake_telegram import FakeTelegram
from tests.support.handlers import IRC_CHANNEL, TG_GROUP, handled, irc_author, make_rig, tg_author
from tests.support.harness import ALICE, GROUP, telegram_only_config
from tests.support.irc_wire import NICK, library_connection


def stamp(seconds_ago: float) -> str:
    at = datetime.fromtimestamp(time.time() - seconds_ago, UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_irc_lines_in_a_batch_or_stamped_in_the_past_may_be_replays() -> None:
    assert not replayed({})
    assert not replayed({"time": stamp(0.5), "msgid": "x"})
    assert replayed({"time": stamp(3600)})
    assert replayed({"batch": "abc", "time": stamp(0.5)})
    assert not replayed({"time": "not a time"})


async def test_an_irc_line_of_a_batch_or_stamped_in_the_past_is_read_marked() -> None:
    link, state, inbox, table = Link(NICK), ChannelState(), Inbox(), EventTable()
    caps = CapNegotiation(IrcConfig("h", NICK))
    table.add(caps.handlers())
    table.add(Inbound(["#bridge"], state, link, caps, inbox).handlers())
    wire = await library_connection(table)
    link.conn = wire.conn
    offered = "message-tags server-time batch"
    wire.feed(f":srv CAP * LS :{offered}", f":srv CAP {NICK} ACK :{offered}")
    wire.feed(f":srv 001 {NICK} :Welcome")
    wire.feed(
        f"@time={stamp(0.5)} :bob!~b@h PRIVMSG #bridge :live",
        f"@time={stamp(3600)} :bob!~b@h PRIVMSG #bridge :an hour ago",
        f"@batch=p1;time={stamp(0.5)} :bob!~b@h PRIVMSG #bridge :in a batch",
        ":bob!~b@h PRIVMSG #bridge :untagged",
        f"@time={stamp(3600)} :bob!~b@h PRIVMSG {NICK} :private, an hour ago",
    )
    seen: list[tuple[str, bool]] = []

    async def router(msg: Message) -> None:
        seen.append((msg.text, msg.replay_possible))

    reader = asyncio.create_task(inbox.run(router))
    try:
        await inbox.drain(2)
    finally:
        reader.cancel()
    assert seen == [
        ("live", False),
        ("an hour ago", True),
        ("in a batch", True),
        ("untagged", False),
        ("private, an hour ago", True),
    ]


async def test_the_relay_carries_the_mark_onto_what_it_queues(
    store: RosterStore, registry: CommandRegistry
) -> None:
    rig = make_rig(store, registry)
    alice, bob = tg_author(1001, "Alice", "alice"), irc_author("bob", account="bob")
    for n, again in enumerate((False, True)):
        await handled(
            rig.router, Message(f"tg:1:{n}", alice, TG_GROUP, "hi", replay_possible=again)
        )
        await handled(
            rig.router, Message(f"irc:{n}", bob, IRC_CHANNEL, "yo", replay_possible=again)
        )
    queued = [(i.network, i.replay_possible) for i in rig.outbox.items]
    assert queued == [("irc", False), ("telegram", False), ("irc", True), ("telegram", True)]


@contextlib.asynccontextmanager
async def connector(fake: FakeTelegram) -> AsyncIterator[TelegramConnector]:
    tg = TelegramConnector(telegram_only_config(fake).telegram)
    yield tg
    await tg.close()


async def test_the_first_answer_after_a_start_is_marked_later_ones_are_not(
    fake_tg: FakeTelegram,
) -> None:
    seen: list[tuple[str, bool]] = []
    arrived = asyncio.Event()

    async def router(msg: Message) -> None:
        seen.append((msg.text, msg.replay_possible))
        arrived.set()

    async def set_aside(reference: str, raw: str, error: Exception) -> None:
        raise AssertionError(error)

    fake_tg.push_text(GROUP, ALICE, "waiting 1")  # unconfirmed when the bridge starts
    fake_tg.push_text(GROUP, ALICE, "waiting 2")
    async with connector(fake_tg) as tg:
        task = asyncio.create_task(tg.run(router, set_aside))
        try:
            async with asyncio.timeout(10):
                while len(seen) < 2:
                    arrived.clear()
                    await arrived.wait()
                fake_tg.push_text(GROUP, ALICE, "new")
                while len(seen) < 3:
                    arrived.clear()
                    await arrived.wait()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert seen == [("waiting 1", True), ("waiting 2", True), ("new", False)]
