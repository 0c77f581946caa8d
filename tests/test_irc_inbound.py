"""IRC lines → neutral Messages: who said what where, with which identity; channel state."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bridge.config import IrcConfig
from bridge.irc.caps import CapNegotiation
from bridge.irc.channels import ChannelState
from bridge.irc.inbound import EventTable, Inbound, Inbox
from bridge.irc.link import Link
from bridge.model import (
    ChatId,
    ChatRef,
    Departure,
    Kick,
    Message,
    MessageKind,
    Network,
    NickChange,
    UserId,
)
from tests.support.irc_wire import NICK, Wire, library_connection


class Setup:
    def __init__(self, wire: Wire, link: Link, state: ChannelState, inbox: Inbox) -> None:
        self.wire, self.link, self.state, self.inbox = wire, link, state, inbox

    async def read(self, count: int) -> list[Message]:
        """The next count messages the router would get."""
        got: list[Message] = []

        async def take(message: Message) -> None:
            got.append(message)

        reader = asyncio.create_task(self.inbox.run(take))
        try:
            await self.inbox.drain(2)
        finally:
            reader.cancel()
        assert len(got) == count, got
        return got


async def _inbound(*caps: str) -> Setup:
    link = Link(NICK)
    state = ChannelState()
    negotiation = CapNegotiation(IrcConfig("h", NICK))
    inbox = Inbox()
    table = EventTable()
    table.add(negotiation.handlers())
    table.add(Inbound(["#Bridge"], state, link, negotiation, inbox).handlers())
    wire = await library_connection(table)
    link.conn = wire.conn
    if caps:
        wire.feed(f":srv CAP * LS :{' '.join(caps)}", f":srv CAP {NICK} ACK :{' '.join(caps)}")
    wire.feed(f":srv 001 {NICK} :Welcome")
    return Setup(wire, link, state, inbox)


async def test_channel_line_becomes_a_message_with_the_tagged_account() -> None:
    s = await _inbound("message-tags", "account-tag")
    s.wire.feed("@account=bobacct;msgid=abc123 :bob!~b@b.host PRIVMSG #bridge :hi \x02there\x02")
    [msg] = await s.read(1)
    assert msg.source_id == "irc:abc123"
    assert msg.chat == ChatRef(Network.IRC, ChatId("#Bridge"))  # the configured spelling
    assert (msg.kind, msg.text) == (MessageKind.TEXT, "hi there")
    assert msg.spans  # the bold run
    author = msg.author
    assert (author.user_id, author.nick, author.account) == ("account:bobacct", "bob", "bobacct")
    assert author.mask == "bob!~b@b.host"


async def test_untagged_author_is_their_mask_unless_an_account_is_known() -> None:
    s = await _inbound()
    s.wire.feed(":bob!~b@b.host PRIVMSG #bridge :one")
    s.wire.feed(f":srv 353 {NICK} = #bridge :carol")  # in sight: account-notify is believed
    s.wire.feed(":carol!c@c.host ACCOUNT carolacct", ":carol!c@c.host PRIVMSG #bridge :two")
    one, two = await s.read(2)
    assert one.author.user_id == UserId("mask:bob!~b@b.host") and one.author.account is None
    assert two.author.user_id == UserId("account:carolacct")
    assert one.source_id != two.source_id  # no msgid: made unique locally


async def test_what_is_relayed_and_what_is_not() -> None:
    s = await _inbound()
    s.wire.feed(
        ":bob!b@h PRIVMSG #elsewhere :not bridged",
        f":{NICK}!t@h PRIVMSG #bridge :our own echo",
        ":bob!b@h PRIVMSG #bridge :\x01ACTION waves\x01",
        f":bob!b@h PRIVMSG {NICK} :hello bot",
        ":bob!b@h NOTICE #bridge :a notice",
    )
    action, private = await s.read(2)
    assert (action.kind, action.text, action.chat.chat_id) == (
        MessageKind.ACTION,
        "waves",
        "#Bridge",
    )
    assert private.chat == ChatRef(Network.IRC, ChatId("bob"), is_private=True)
    assert private.text == "hello bot"


async def test_membership_events_update_state_and_carry_their_details() -> None:
    s = await _inbound("extended-join")
    s.wire.feed(f":srv 353 {NICK} = #bridge :@op +voiced")
    s.wire.feed(":carol!c@h JOIN #bridge carolacct :Carol C")
    assert s.state.nicks("#bridge") == ["carol", "op", "voiced"]
    assert s.state.account("carol") == "carolacct"
    s.wire.feed(
        ":carol!c@h NICK carol2",
        ":carol2!c@h PART #bridge :see you",
        ":op!o@h KICK #bridge voiced :behave",
        ":op!o@h QUIT :gone",
    )
    join, nick, part, kick, quit = await s.read(5)
    assert join.kind == MessageKind.JOIN and join.author.user_id == "account:carolacct"
    assert (nick.kind, nick.detail) == (MessageKind.NICK, NickChange("carol2"))
    assert (part.kind, part.detail) == (MessageKind.PART, Departure("see you"))
    assert kick.detail == Kick("voiced", "behave")
    assert (quit.kind, quit.detail) == (MessageKind.QUIT, Departure("gone"))
    assert s.state.nicks("#bridge") == []


async def test_our_own_join_part_and_kick_change_the_joined_channels() -> None:
    s = await _inbound()
    changed = asyncio.create_task(s.link.wait_changed())
    await asyncio.sleep(0)
    s.wire.feed(f":{NICK}!t@h JOIN #bridge")
    await asyncio.wait_for(changed, 1)
    assert s.state.is_joined("#BRIDGE")
    s.wire.feed(f":srv 353 {NICK} = #bridge :bob")
    s.wire.feed(f":op!o@h KICK #bridge {NICK} :out")
    assert not s.state.is_joined("#bridge") and s.state.nicks("#bridge") == []
    s.wire.feed(f":{NICK}!t@h JOIN #bridge", f":{NICK}!t@h PART #bridge")
    assert not s.state.is_joined("#bridge")
    await s.read(0)  # none of it is relayed


async def test_a_failing_handler_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[str] = []

    def broken(conn: Any, event: Any) -> None:
        raise RuntimeError("bug")

    table = EventTable()
    table.add({"pubmsg": broken})
    table.add({"pubmsg": lambda conn, event: seen.append(event.arguments[0])})
    wire = await library_connection(table)
    with caplog.at_level(logging.ERROR):
        wire.feed(":bob!b@h PRIVMSG #c :still read")
        wire.feed(":bob!b@h PRIVMSG #c :and the next")
    assert seen == ["still read", "and the next"]
    assert [r.getMessage() for r in caplog.records] == ["IRC: error handling pubmsg"] * 2


async def test_a_router_failure_does_not_stop_the_inbox(
    caplog: pytest.LogCaptureFixture,
) -> None:
    s = await _inbound()
    s.wire.feed(":bob!b@h PRIVMSG #bridge :breaks", ":bob!b@h PRIVMSG #bridge :fine")
    handled: list[str] = []

    async def router(message: Message) -> None:
        if message.text == "breaks":
            raise RuntimeError("router bug")
        handled.append(message.text)

    reader = asyncio.create_task(s.inbox.run(router))
    try:
        await s.inbox.drain(2)
    finally:
        reader.cancel()
    assert handled == ["fine"]
    assert "IRC: failed to handle a message from bob" in caplog.text
