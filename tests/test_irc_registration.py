"""After registration: modes, IDENTIFY and JOINs behind the bucket; nick in use or refused,
and a paced nick regain (rejoining after a kick is test_irc_joins.py's)."""

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
from bridge.irc.joins import Joins
from bridge.irc.link import Link
from bridge.irc.registration import Registration
from bridge.pacing import TokenBucket
from tests.support.irc_wire import NICK, Wire, library_connection


class Setup:
    def __init__(
        self, wire: Wire, link: Link, bucket: TokenBucket, ready: list[bool], fatal: list[str]
    ) -> None:
        self.wire, self.link, self.bucket, self.ready, self.fatal = wire, link, bucket, ready, fatal

    async def next_nick(self, timeout: float = 3.0) -> float:
        """Wait for the bot's next NICK to the configured nick; returns when it was written."""
        await self.wire.wait_sent(len(self.wire.sent) + 1, timeout)
        assert self.wire.sent[-1] == f"NICK {NICK}", self.wire.sent
        return time.monotonic()


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
    fatal: list[str] = []
    joins = Joins(config, ["#Chan", "#other", "#chan"], link, state, queue)
    part = Registration(
        config, joins, link, bucket, queue, lambda: ready.append(True), on_fatal=fatal.append
    )
    table = EventTable()
    table.add(part.handlers())
    wire = await library_connection(table, nick=nick)
    link.conn = wire.conn
    tasks = [asyncio.create_task(queue.run()), asyncio.create_task(part.keep_nick())]
    try:
        yield Setup(wire, link, bucket, ready, fatal)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_mode_identify_and_joins_wait_for_the_bucket() -> None:
    async with _registration(rate=20.0, nickserv_password="pw") as s:
        s.wire.feed(f":srv 001 {NICK} :Welcome", f":srv 005 {NICK} BOT=B :are supported")
        assert s.link.registered
        started = time.monotonic()
        s.wire.feed(f":srv 376 {NICK} :End of MOTD")
        assert s.wire.sent == []  # nothing written straight from the handler
        assert s.link.state == "ready" and s.ready == [True]
        await s.wire.wait_sent(3)
        assert time.monotonic() - started >= 2 / 20 - 0.01  # burst 1, then 20 per second
        assert s.wire.sent == [
            "MODE tgbridge +B",
            "PRIVMSG NickServ :IDENTIFY tgbridge pw",
            # the channels once each, as configured (the last spelling), in one line
            "JOIN #chan,#other",
        ]
        s.wire.feed(f":srv 422 {NICK} :MOTD File is missing")  # already ready: nothing again
        for _ in range(10):
            await asyncio.sleep(0)
        assert len(s.wire.sent) == 3 and s.ready == [True]


async def test_a_new_connection_starts_with_a_full_bucket() -> None:
    async with _registration(rate=0.001) as s:  # one token per 1000 s
        await s.bucket.take()  # spent on the connection before
        s.wire.feed(f":srv 001 {NICK} :Welcome", f":srv 376 {NICK} :End of MOTD")
        assert await s.wire.wait_sent(1) == ["JOIN #chan,#other"]  # at once, not in 1000 s


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


async def test_a_refused_nick_is_fatal_only_when_it_is_the_configured_one() -> None:
    async with _registration() as s:
        s.wire.feed(f":srv 432 * {NICK} :Invalid nickname: Reserved")
        assert s.fatal == [
            f'the IRC server refuses irc.nick = "{NICK}" (Invalid nickname: Reserved); '
            "set another irc.nick in the config"
        ]
        assert s.wire.sent == []
    async with _registration() as s:
        s.wire.feed(f":srv 433 * {NICK} :Nickname is already in use")
        s.wire.feed(f":srv 432 * {NICK}_ :Erroneous Nickname")  # our alternative: vary it
        assert s.wire.sent[0] == f"NICK {NICK}_"
        assert s.wire.sent[1][:-1] == f"NICK {NICK[:-1]}" and s.wire.sent[1][-1].isdigit()
        s.wire.feed(f":srv 001 {NICK}_ :Welcome")
        s.wire.feed(f":srv 432 {NICK}_ {NICK} :Services reserved nickname")  # a failed regain
        assert len(s.wire.sent) == 2 and s.fatal == []


async def test_regain_attempts_back_off_and_a_freed_nick_shortens_the_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registration, "REGAIN_MIN", 0.05)
    monkeypatch.setattr(registration, "REGAIN_MAX", 0.4)
    async with _registration(nick=NICK + "_") as s:
        s.wire.feed(f":srv 001 {NICK}_ :Welcome")
        last = time.monotonic()
        pauses = []
        for _ in range(5):
            tried = await s.next_nick()
            pauses.append(tried - last)
            last = tried
            s.wire.feed(f":srv 433 {NICK}_ {NICK} :Nickname is already in use")
        assert min(pauses) >= 0.05 and pauses[-1] >= 0.2, pauses
        s.wire.feed(f":{NICK}!x@h QUIT :bye")  # the holder left: sooner than the 0.4 s pause
        assert await s.next_nick() - last <= 0.2
        s.wire.feed(f":{NICK}_!u@h NICK {NICK}")
        await asyncio.sleep(0.5)
        assert s.wire.sent.count(f"NICK {NICK}") == 6  # held: no more attempts


async def test_a_forced_rename_is_answered_at_the_paced_pace(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(registration, "REGAIN_MIN", 0.05)
    monkeypatch.setattr(registration, "REGAIN_MAX", 0.4)
    async with _registration() as s:
        s.wire.feed(f":srv 001 {NICK} :Welcome")
        with caplog.at_level(logging.WARNING):
            s.wire.feed(f":{NICK}!u@h NICK Guest1")  # SVSNICK / SANICK
        assert s.wire.sent == []  # not at once
        assert (
            caplog.records[0]
            .getMessage()
            .startswith(f"IRC: the server renamed us from {NICK} to Guest1; taking {NICK} back in ")
        )
        started = time.monotonic()
        for n in range(2, 20):  # an enforcer renames us as soon as we have the nick back
            await s.next_nick()
            s.wire.feed(f":Guest{n - 1}!u@h NICK {NICK}", f":{NICK}!u@h NICK Guest{n}")
            if time.monotonic() - started > 1.0:
                break
        assert s.wire.sent.count(f"NICK {NICK}") <= 7  # ~0.05, 0.05, 0.1, 0.2, 0.4 s apart
