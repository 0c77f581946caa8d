"""IRC delivery: lines written in order with progress, CR/LF/NUL never on the wire, echo
confirmation, and the paced command queue that forgets a lost connection's commands."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bridge.config import IrcConfig
from bridge.irc.accounts import Accounts
from bridge.irc.caps import CapNegotiation
from bridge.irc.channels import ChannelState
from bridge.irc.delivery import CommandQueue, Delivery, EchoTracker, Recipients, wire_line
from bridge.irc.inbound import EventTable
from bridge.irc.lanes import LineBudget
from bridge.irc.link import Link
from bridge.irc.own_mask import OwnMask
from bridge.pacing import TokenBucket
from bridge.payloads import IrcLines, Payload, TelegramHtml
from bridge.sending import PermanentError, Queued, Sent, TransientError
from storage.outbox_store import OutboxItem
from tests.support.irc_wire import NICK, USERNAME, Wire, library_connection


class Setup:
    """A Delivery on a registered library connection, as the connector wires it."""

    def __init__(self, wire: Wire, link: Link, state: ChannelState, delivery: Delivery) -> None:
        self.wire, self.link, self.state, self.delivery = wire, link, state, delivery
        self.progress: list[int] = []

    async def record(self, item: Queued, done: int) -> None:
        self.progress.append(done)

    async def deliver(self, chat: str, payload: Payload, progress: int = 0) -> Sent:
        item = OutboxItem(1, "irc", chat, "k", "relay", payload, 0.0, 0.0, progress)
        return await self.delivery.deliver(chat, [item], self.record)


async def _setup(*caps: str, echo_timeout: float = 15.0) -> Setup:
    link = Link(NICK)
    state = ChannelState()
    negotiation = CapNegotiation(IrcConfig("h", NICK))
    own = OwnMask(USERNAME, lambda: link.nick)
    echoes = EchoTracker(link.is_me, timeout=echo_timeout)
    budget = LineBudget(100, 1000.0)
    accounts = Accounts(link, state, negotiation, budget)
    recipients = Recipients(state, accounts)
    delivery = Delivery(link, budget, state, own, negotiation, echoes, recipients)
    table = EventTable()
    for part in (negotiation, own, echoes, accounts):
        table.add(part.handlers())
    wire = await library_connection(table)
    link.conn = wire.conn
    if caps:
        wire.feed(f":srv CAP * LS :{' '.join(caps)}", f":srv CAP {NICK} ACK :{' '.join(caps)}")
    wire.feed(f":srv 001 {NICK} :Welcome")
    link.registered = True
    wire.sent.clear()
    return Setup(wire, link, state, delivery)


async def test_lines_go_out_in_order_with_progress_after_each_but_the_last() -> None:
    s = await _setup()
    s.state.joined("#chan")
    sent = await s.deliver("#chan", IrcLines(("one", "two\r\nthree", "four\0")))
    assert sent == Sent(1)
    assert s.wire.sent == ["PRIVMSG #chan :one", "PRIVMSG #chan :two  three", "PRIVMSG #chan :four"]
    assert s.progress == [1, 2]
    s.wire.sent.clear()
    await s.deliver("#chan", IrcLines(("one", "two", "three")), progress=2)  # resumed
    assert s.wire.sent == ["PRIVMSG #chan :three"]


async def test_actions_notices_and_private_targets() -> None:
    s = await _setup()
    s.state.joined("#chan")
    await s.deliver("#chan", IrcLines(("waves",), action=True))
    await s.deliver("#chan", IrcLines(("note",), notice=True))
    await s.deliver("bob", IrcLines(("in private",)))  # no join needed
    assert s.wire.sent == [
        "PRIVMSG #chan :\x01ACTION waves\x01",
        "NOTICE #chan :note",
        "PRIVMSG bob :in private",
    ]


async def test_not_ready_is_transient_and_other_payloads_are_refused() -> None:
    s = await _setup()
    with pytest.raises(TransientError):
        await s.deliver("#chan", IrcLines(("not joined",)))
    with pytest.raises(PermanentError):
        await s.deliver("bob", TelegramHtml("<b>not for IRC</b>"))
    s.link.registered = False
    with pytest.raises(TransientError):
        await s.deliver("bob", IrcLines(("not registered",)))
    s.link.registered = True
    s.wire.transport.closed = True
    with pytest.raises(TransientError, match="lost while sending"):
        await s.deliver("bob", IrcLines(("closing",)))
    assert s.wire.sent == []


async def test_wait_ready_returns_once_the_channel_is_joined() -> None:
    s = await _setup()
    await asyncio.wait_for(s.delivery.wait_ready("bob"), 1)
    waiter = asyncio.create_task(s.delivery.wait_ready("#chan"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiter.done()
    s.state.joined("#chan")  # as Inbound does on our own JOIN
    s.link.mark_changed()
    await asyncio.wait_for(waiter, 1)


async def test_with_echo_message_each_line_waits_for_its_echo() -> None:
    s = await _setup("echo-message")
    s.state.joined("#chan")
    delivering = asyncio.create_task(s.deliver("#chan", IrcLines(("one", "two"))))
    await s.wire.wait_sent(1)
    s.wire.feed(":bob!b@h PRIVMSG #chan :one", ":tgbridge!~t@h PRIVMSG #other :one")
    for _ in range(10):  # neither someone else's line nor another target's echo counts
        await asyncio.sleep(0)
    assert s.wire.sent == ["PRIVMSG #chan :one"] and s.progress == []
    s.wire.feed(":tgbridge!~t@h PRIVMSG #CHAN :one")  # casemapped
    await s.wire.wait_sent(2)
    assert s.progress == [1] and not delivering.done()
    s.wire.feed(":tgbridge!~t@h PRIVMSG #chan :two")
    assert await asyncio.wait_for(delivering, 1) == Sent(1)


async def test_a_line_waiting_for_its_echo_fails_when_the_connection_is_lost() -> None:
    link = Link(NICK)
    echoes = EchoTracker(link.is_me)
    waiting = asyncio.create_task(echoes.wait("#chan"))
    await asyncio.sleep(0)
    echoes.fail_all()
    with pytest.raises(TransientError):
        await waiting


async def test_a_missing_echo_counts_the_line_as_sent(caplog: pytest.LogCaptureFixture) -> None:
    echoes = EchoTracker(Link(NICK).is_me, timeout=0.05)
    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(echoes.wait("#chan"), 2)
    assert [r.getMessage() for r in caplog.records] == [
        "IRC: no echo within 0s; counting the line as sent"
    ]
    echoes.echoed("#chan")  # a late echo confirms nothing else


def test_wire_line_refuses_cr_lf_nul_and_cuts_to_linelen() -> None:
    for bad in ("a\rb", "a\nb", "a\0b"):
        with pytest.raises(ValueError):
            wire_line(f"PRIVMSG #c :{bad}", 512)
    long = wire_line("PRIVMSG #c :" + "x" * 600, 512)
    assert len(long) == 512 and long.endswith(b"x\r\n")
    assert len(wire_line("PRIVMSG #c :" + "x" * 600, 1024)) == len("PRIVMSG #c :") + 602


async def test_a_longer_linelen_lets_longer_lines_through() -> None:
    s = await _setup()
    s.wire.feed(f":srv 005 {NICK} LINELEN=1024 :are supported")
    await s.deliver("bob", IrcLines(("y" * 700,)))
    assert s.wire.sent == ["PRIVMSG bob :" + "y" * 700]


async def test_queued_commands_of_a_lost_connection_are_dropped() -> None:
    s = await _setup()
    queue = CommandQueue(TokenBucket(1, 1000.0), s.link.usable)
    conn = s.wire.conn
    queue.send(lambda: conn.join("#old"))
    queue.drop_pending()  # the connection is lost before the queue's turn
    s.link.registered = False
    queue.send(lambda: conn.join("#unregistered"))  # its turn comes before registration
    sender = asyncio.create_task(queue.run())
    try:
        for _ in range(10):
            await asyncio.sleep(0)
        s.link.registered = True
        queue.send(lambda: conn.join("#new"))
        await s.wire.wait_sent(1)
    finally:
        sender.cancel()
    assert s.wire.sent == ["JOIN #new"]


def _whois(nick: str, user_host: str) -> list[str]:
    user, _, host = user_host.partition("@")
    return [
        f":srv 311 {NICK} {nick} {user} {host} * :Real Name",
        f":srv 318 {NICK} {nick} :End of /WHOIS list.",
    ]


async def test_private_lines_go_only_to_the_connection_they_were_queued_for() -> None:
    s = await _setup()
    s.state.add_names("#chan", "bob")
    s.state.note_mask("bob!~b@b.host")
    await s.deliver("bob", IrcLines(("seen: no question",), recipient="bob!~b@b.host"))
    with pytest.raises(PermanentError):  # the bot sees someone else holding "bob"
        await s.deliver("bob", IrcLines(("never",), recipient="bob!~old@old.host"))
    assert s.wire.sent == ["PRIVMSG bob :seen: no question"]
    s.wire.sent.clear()
    s.state.quit("bob")  # out of sight: the server is asked before the first line
    asked = asyncio.create_task(s.deliver("bob", IrcLines(("a", "b"), recipient="bob!~b@b.host")))
    await s.wire.wait_sent(1)
    s.wire.feed(*_whois("bob", "~b@b.host"))
    await asked
    assert s.wire.sent == ["WHOIS bob", "PRIVMSG bob :a", "PRIVMSG bob :b"]
    s.wire.sent.clear()
    asked = asyncio.create_task(s.deliver("bob", IrcLines(("c",), recipient="bob!~b@b.host")))
    await s.wire.wait_sent(1)
    s.wire.feed(*_whois("bob", "~stranger@s.host"))  # the nick changed hands unseen
    with pytest.raises(PermanentError):
        await asked
    assert s.wire.sent == ["WHOIS bob"]


async def test_a_recipient_who_leaves_sight_mid_answer_gets_no_more_of_it() -> None:
    s = await _setup()
    s.state.add_names("#chan", "bob")
    s.state.note_mask("bob!~b@b.host")

    async def quits_after_the_first_line(item: Queued, done: int) -> None:
        s.state.quit("bob")

    payload = IrcLines(("first", "second", "third"), recipient="bob!~b@b.host")
    item: Queued = OutboxItem(1, "irc", "bob", "k", "reply", payload, 0.0, 0.0, 0)
    delivering = asyncio.create_task(s.delivery.deliver("bob", [item], quits_after_the_first_line))
    await s.wire.wait_sent(2)
    s.wire.feed(f":srv 401 {NICK} bob :No such nick", f":srv 318 {NICK} bob :End")
    with pytest.raises(PermanentError):
        await delivering
    assert s.wire.sent == ["PRIVMSG bob :first", "WHOIS bob"]
