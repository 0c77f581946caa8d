"""Telegram intake: an update is confirmed (getUpdates offset) only after it was handled."""

from __future__ import annotations

import asyncio
import contextlib

from bridge.config import parse_config
from bridge.model import Message
from bridge.telegram import TelegramConnector
from tests.harness import ALICE, GROUP
from tests.support.fake_telegram import FakeTelegram


async def test_offset_moves_past_an_update_only_once_it_is_stored(fake_tg: FakeTelegram) -> None:
    stored: list[str] = []
    release = asyncio.Event()

    async def router(message: Message) -> None:
        if message.text == "first":
            await release.wait()  # the outbox write has not finished yet
        stored.append(message.text)

    config = parse_config(
        f"""
[telegram]
token = "{fake_tg.token}"
api_url = "{fake_tg.api_url}"
poll_timeout = 1
[irc]
host = "127.0.0.1"
nick = "bridge"
[[bridge]]
telegram_chat = {GROUP}
irc_channel = "#c"
"""
    )
    telegram = TelegramConnector(config.telegram)
    await telegram.start()
    first = fake_tg.push_text(GROUP, ALICE, "first")
    second = fake_tg.push_text(GROUP, ALICE, "second")
    poller = asyncio.create_task(telegram.run(router))
    try:
        await asyncio.sleep(1.5)  # more than a poll timeout: it would have polled again by now
        assert stored == []
        assert fake_tg.confirmed_offset <= first.update_id  # nothing confirmed past "first"
        release.set()
        await fake_tg.wait_confirmed(second.update_id, timeout=5)
        assert stored == ["first", "second"]
    finally:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
        await telegram.stop()
