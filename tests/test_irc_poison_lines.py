"""An IRC line whose translation or routing raises is a Failure carrying the line (for the
App to set aside), logged with the line; the lines after it are read as usual."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bridge.config import IrcConfig
from bridge.irc.caps import CapNegotiation
from bridge.irc.channels import ChannelState
from bridge.irc.inbound import EventTable, Inbound, Inbox
from bridge.irc.link import Link
from bridge.model import Message
from tests.support.irc_wire import NICK, Wire, library_connection


async def _reading() -> tuple[Wire, Inbox]:
    link = Link(NICK)
    negotiation = CapNegotiation(IrcConfig("h", NICK))
    inbox = Inbox()
    table = EventTable()
    table.add(Inbound(["#bridge"], ChannelState(), link, negotiation, inbox).handlers())
    wire = await library_connection(table)
    link.conn = wire.conn
    wire.feed(f":srv 001 {NICK} :Welcome")
    return wire, inbox


async def test_a_line_that_breaks_translation_is_a_failure_with_the_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wire, inbox = await _reading()
    wire.feed(":srv KICK #bridge", ":bob!~b@host PRIVMSG #bridge :after it")  # no nick kicked
    failure = await asyncio.wait_for(inbox.next_failure(), 2)
    assert failure.line == ":srv KICK #bridge"
    assert isinstance(failure.error, IndexError)
    assert ("bridge.irc.inbound", logging.ERROR, "IRC: could not read ':srv KICK #bridge'") in (
        caplog.record_tuples
    )
    routed: list[str] = []

    async def router(message: Message) -> None:
        routed.append(message.text)

    reader = asyncio.create_task(inbox.run(router))
    try:
        await inbox.drain(2)
    finally:
        reader.cancel()
    assert routed == ["after it"]


async def test_a_line_whose_routing_raises_is_a_failure_and_the_next_is_routed() -> None:
    wire, inbox = await _reading()
    wire.feed(":bob!~b@host PRIVMSG #bridge :poison", ":bob!~b@host PRIVMSG #bridge :next")
    routed: list[str] = []

    async def router(message: Message) -> None:
        if message.text == "poison":
            raise ValueError("a bug met by one line")
        routed.append(message.text)

    reader = asyncio.create_task(inbox.run(router))
    try:
        failure = await asyncio.wait_for(inbox.next_failure(), 2)
        await inbox.drain(2)
    finally:
        reader.cancel()
    assert failure.line == ":bob!~b@host PRIVMSG #bridge :poison"
    assert str(failure.error) == "a bug met by one line"
    assert routed == ["next"]
