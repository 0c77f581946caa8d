"""Staying in the bridged channels: JOIN refusals (471/473/474/475/...) and kicks are logged
once, retried with backoff through the paced command queue, and shown in the status."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import pytest

from bridge.config import IrcConfig
from bridge.irc import joins
from bridge.irc.caps import CapNegotiation
from bridge.irc.channels import ChannelState
from bridge.irc.delivery import CommandQueue
from bridge.irc.inbound import EventTable, Inbound, Inbox
from bridge.irc.joins import Joins
from bridge.irc.link import Link
from bridge.pacing import TokenBucket
from tests.support.irc_wire import NICK, Wire, library_connection

RETRY_MIN, RETRY_MAX = 0.05, 0.2
BANNED = 'not joined: the bot is banned (+b) ("Cannot join channel (+b)"); retrying'


class Setup:
    def __init__(self, wire: Wire, joins: Joins) -> None:
        self.wire, self.joins = wire, joins

    async def next_join(self, timeout: float = 2.0) -> float:
        """Wait for the bot's next JOIN (in the configured spelling); returns when written."""
        count = len(self.wire.sent) + 1
        await self.wire.wait_sent(count, timeout)
        assert self.wire.sent[-1] == "JOIN #Chan", self.wire.sent
        return time.monotonic()


@contextlib.asynccontextmanager
async def _joins(retry: tuple[float, float] = (RETRY_MIN, RETRY_MAX)) -> AsyncIterator[Setup]:
    """Joins and Inbound (which records our own JOIN) on a registered library connection."""
    config = IrcConfig("h", NICK, reconnect_min=retry[0], reconnect_max=retry[1])
    link, state = Link(NICK), ChannelState()
    queue = CommandQueue(TokenBucket(100, 1000.0), link.usable)
    part = Joins(config, ["#chan", "#Chan"], link, state, queue)
    table = EventTable()
    table.add(part.handlers())
    table.add(Inbound(["#chan"], state, link, CapNegotiation(config), Inbox()).handlers())
    wire = await library_connection(table)
    link.conn, link.registered = wire.conn, True
    sender = asyncio.create_task(queue.run())
    try:
        yield Setup(wire, part)
    finally:
        part.reset()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def test_a_refusal_is_one_line_then_paced_retries_until_joined(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with _joins() as s:
        s.joins.join_all()
        await s.next_join()
        assert s.joins.status() == {"#Chan": "not joined"}
        with caplog.at_level(logging.DEBUG, "bridge.irc.joins"):
            times = []
            for _ in range(4):
                refused = time.monotonic()
                s.wire.feed(f":srv 474 {NICK} #chan :Cannot join channel (+b)")
                assert s.joins.status() == {"#Chan": BANNED}  # the configured spelling
                times.append(await s.next_join() - refused)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warnings == [
            'IRC: not in #Chan: the bot is banned (+b) ("Cannot join channel (+b)"); '
            "retrying with backoff (up to 0.2s)"
        ]
        assert all(RETRY_MIN * 0.9 <= t <= RETRY_MAX + 0.1 for t in times), times
        s.wire.feed(f":srv 473 {NICK} #chan :Cannot join channel (+i)")  # a new reason: logged
        assert "invite-only (+i)" in caplog.records[-1].getMessage()
        s.wire.feed(f":{NICK}!u@h JOIN #chan")
        assert s.joins.status() == {"#Chan": "joined"}
        sent = len(s.wire.sent)
        await asyncio.sleep(RETRY_MAX * 2)  # the retry scheduled before the join is cancelled
        assert len(s.wire.sent) == sent


@pytest.mark.parametrize(
    ("numeric", "reason"),
    [
        ("471", "the channel is full (+l)"),
        ("473", "the channel is invite-only (+i)"),
        ("474", "the bot is banned (+b)"),
        ("475", "the channel needs a key (+k)"),
        ("477", "the channel needs a registered nick"),
        ("437", "the channel is temporarily unavailable"),
        ("405", "the bot is in too many channels"),
        ("489", "the channel needs a TLS connection"),
    ],
)
async def test_each_refusal_names_its_reason(numeric: str, reason: str) -> None:
    async with _joins() as s:
        s.wire.feed(f":srv {numeric} {NICK} #chan :Cannot join")
        assert s.joins.status() == {"#Chan": f'not joined: {reason} ("Cannot join"); retrying'}
        await s.next_join()
        s.wire.feed(f":srv {numeric} {NICK} #elsewhere :Cannot join")  # not ours: ignored
        s.wire.feed(f":srv 437 * {NICK}_ :Nick is temporarily unavailable")  # about a nick
        assert s.joins.status() == {"#Chan": f'not joined: {reason} ("Cannot join"); retrying'}


async def test_kicked_rejoins_after_a_pause_and_a_kick_war_backs_off(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(joins, "REJOIN_AFTER", 0.05)
    async with _joins(retry=(0.1, 0.8)) as s:
        s.wire.feed(f":{NICK}!u@h JOIN #chan")
        with caplog.at_level(logging.WARNING):
            s.wire.feed(":op!o@h KICK #chan bob :not you")
            assert s.wire.sent == []
            s.wire.feed(f":op!o@h KICK #chan {NICK} :out")
        assert s.joins.status() == {"#Chan": 'not joined: kicked by op ("out"); retrying'}
        assert [r.getMessage() for r in caplog.records] == [
            'IRC: not in #Chan: kicked by op ("out"); retrying with backoff (up to 0.8s)'
        ]

        s.wire.feed(f":{NICK}!u@h JOIN #chan", f":op!o@h KICK #chan {NICK} :out")
        pauses = []
        for _ in range(3):  # kicked as soon as it is back: the pause grows
            kicked = time.monotonic()
            await s.next_join(timeout=3)
            pauses.append(time.monotonic() - kicked)
            s.wire.feed(f":{NICK}!u@h JOIN #chan", f":op!o@h KICK #chan {NICK} :out")
        assert pauses[0] >= 0.1 and pauses[-1] >= 0.4, pauses
        monkeypatch.setattr(joins, "STABLE_AFTER", -1.0)  # in the channel "long enough"
        s.wire.feed(f":{NICK}!u@h JOIN #chan")
        kicked = time.monotonic()
        s.wire.feed(f":op!o@h KICK #chan {NICK} :out")
        assert await s.next_join(timeout=3) - kicked <= 0.35  # started over from 0.1 s
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 6  # one line per kick, no faster than the paced rejoins


async def test_an_invite_joins_at_once() -> None:
    async with _joins(retry=(5.0, 10.0)) as s:
        s.wire.feed(f":srv 473 {NICK} #chan :Cannot join channel (+i)")
        s.wire.feed(f":op!o@h INVITE {NICK} :#chan")
        assert await s.wire.wait_sent(1, timeout=2) == ["JOIN #Chan"]  # not in 5 s


async def test_a_lost_connection_cancels_the_retries() -> None:
    async with _joins() as s:
        s.wire.feed(f":srv 473 {NICK} #chan :Cannot join channel (+i)")
        s.joins.reset()
        await asyncio.sleep(RETRY_MAX * 2)
        assert s.wire.sent == []
