"""After registration: modes, IDENTIFY and JOINs behind the bucket; nick in use, nick
regain and rejoin after a kick."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import pytest

from bridge.config import IrcConfig
from bridge.irc import registration
from bridge.irc.channels import ChannelState
from bridge.irc.delivery import CommandQueue
from bridge.irc.inbound import EventTable
from bridge.irc.link import Link
from bridge.irc.registration import Registration
from bridge.pacing import TokenBucket
from tests.support.irc_wire import NICK, Wire, library_connection


class Setup:
    def __init__(self, wire: Wire, link: Link, bucket: TokenBucket, ready: list[bool]) -> None:
        self.wire, self.link, self.bucket, self.ready = wire, link, bucket, ready


@contextlib.asynccontextmanager
async def _registration(
    *, nick: str = NICK, rate: float = 1000.0, nickserv_password: str | None = None
) -> AsyncIterator[Setup]:
    """Registration and its command queue (running) on a library connection."""
    config = IrcConfig("h", NICK, nickserv_password=nickserv_password)
    link = Link(NICK)
    state = ChannelState()
    bucket = TokenBucket(1, rate)
    queue = CommandQueue(bucket, link.usable)
    ready: list[bool] = []
    part = Registration(
        config, ["#Chan", "#other", "#chan"], link, state, bucket, queue, lambda: ready.append(True)
    )
    table = EventTable()
    table.add(part.handlers())
    wire = await library_connection(table, nick=nick)
    link.conn = wire.conn
    sender = asyncio.create_task(queue.run())
    try:
        yield Setup(wire, link, bucket, ready)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def test_mode_identify_and_joins_wait_for_the_bucket() -> None:
    async with _registration(rate=20.0, nickserv_password="pw") as s:
        s.wire.feed(f":srv 001 {NICK} :Welcome", f":srv 005 {NICK} BOT=B :are supported")
        assert s.link.registered
        started = time.monotonic()
        s.wire.feed(f":srv 376 {NICK} :End of MOTD")
        assert s.wire.sent == []  # nothing written straight from the handler
        assert s.link.state == "ready" and s.ready == [True]
        await s.wire.wait_sent(4)
        assert time.monotonic() - started >= 3 / 20 - 0.01  # burst 1, then 20 per second
        assert s.wire.sent == [
            "MODE tgbridge +B",
            "PRIVMSG NickServ :IDENTIFY tgbridge pw",
            "JOIN #chan",  # the channels once each, as configured (the last spelling)
            "JOIN #other",
        ]
        s.wire.feed(f":srv 422 {NICK} :MOTD File is missing")  # already ready: nothing again
        for _ in range(10):
            await asyncio.sleep(0)
        assert len(s.wire.sent) == 4 and s.ready == [True]


async def test_a_new_connection_starts_with_a_full_bucket() -> None:
    async with _registration(rate=0.001) as s:  # one token per 1000 s
        await s.bucket.take()  # spent on the connection before
        s.wire.feed(f":srv 001 {NICK} :Welcome", f":srv 376 {NICK} :End of MOTD")
        assert await s.wire.wait_sent(1) == ["JOIN #chan"]  # at once, not in 1000 s


async def test_nick_in_use_while_registering_tries_another() -> None:
    async with _registration() as s:
        s.wire.feed(f":srv 433 * {NICK} :Nickname is already in use")
        assert s.wire.sent == [f"NICK {NICK}_"]
        s.wire.feed(":srv 433 * abcdefghijklmnop :Nickname is already in use")  # 16: no room
        [alternative] = s.wire.sent[1:]
        assert alternative[:-1] == "NICK abcdefghijklmno" and alternative[-1].isdigit()
        s.wire.feed(f":srv 001 {NICK}_ :Welcome")
        s.wire.feed(f":srv 433 {NICK}_ {NICK} :Nickname is already in use")  # a failed regain
        assert len(s.wire.sent) == 2


async def test_the_configured_nick_is_taken_back_when_its_holder_goes() -> None:
    async with _registration(nick=NICK + "_") as s:
        s.wire.feed(f":srv 001 {NICK}_ :Welcome")
        s.wire.feed(":bob!b@h QUIT :bye")
        assert s.wire.sent == []
        s.wire.feed(f":{NICK}!x@h QUIT :bye")
        assert s.wire.sent == [f"NICK {NICK}"]
        s.wire.feed(f":{NICK}!x@h NICK someone")
        assert s.wire.sent == [f"NICK {NICK}"] * 2


async def test_kicked_the_bot_rejoins_after_a_pause(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(registration, "REJOIN_AFTER", 0.01)
    async with _registration() as s:
        s.wire.feed(f":srv 001 {NICK} :Welcome")
        s.wire.feed(":op!o@h KICK #chan bob :not you")
        with caplog.at_level(logging.WARNING):
            s.wire.feed(f":op!o@h KICK #chan {NICK} :out")
        assert [r.getMessage() for r in caplog.records] == [
            "IRC: kicked from #chan (out); rejoining"
        ]
        await s.wire.wait_sent(1)
        assert s.wire.sent == ["JOIN #chan"]
