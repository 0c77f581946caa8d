"""Stopping the IRC side stores what was already read: nothing read is dropped at shutdown."""

from __future__ import annotations

import asyncio
import contextlib

from bridge.config import parse_config
from bridge.irc import IrcConnector
from bridge.model import Author, ChatId, ChatRef, Message, Network, UserId
from tests.support.configs import MINIMAL


async def test_stop_waits_for_messages_already_read() -> None:
    handled: list[str] = []

    async def slow_router(message: Message) -> None:
        await asyncio.sleep(0.05)  # storing takes a moment
        handled.append(message.text)

    config = parse_config(MINIMAL)
    irc = IrcConnector(config.irc, ["#c"])
    runner = asyncio.create_task(irc.run(slow_router))
    author = Author(Network.IRC, UserId("mask:bob!b@h"), "bob", nick="bob")
    chat = ChatRef(Network.IRC, ChatId("#c"))
    for n in range(5):
        irc.inbox.put(Message(f"irc:{n}", author, chat, f"line {n}"))
    try:
        async with asyncio.timeout(5):
            await irc.stop()
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    assert handled == [f"line {n}" for n in range(5)]
