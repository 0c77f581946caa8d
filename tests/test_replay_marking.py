"""What may be a replay of a message relayed before is marked for the outbox (maybe_seen),
so it meets the store's de-duplication before anything is sent (issue 12's early send):
the updates of the first getUpdates answer after a start, and IRC lines that are part of a
batch or stamped well in the past (a bouncer's playback)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from bridge.irc.inbound import Inbox, replayed
from bridge.model import Author, ChatId, ChatRef, Message, MessageKind, Network
from bridge.outbox_mirror import _maybe_seen
from bridge.telegram import TelegramConnector
from tests.harness import ALICE, GROUP, telegram_only_config
from tests.support.fake_telegram import FakeTelegram


def stamp(seconds_ago: float) -> str:
    at = datetime.fromtimestamp(time.time() - seconds_ago, UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_irc_lines_in_a_batch_or_stamped_in_the_past_may_be_replays() -> None:
    assert not replayed({})
    assert not replayed({"time": stamp(0.5), "msgid": "x"})
    assert replayed({"time": stamp(3600)})
    assert replayed({"batch": "abc", "time": stamp(0.5)})
    assert not replayed({"time": "not a time"})


def message(text: str) -> Message:
    author = Author(Network.IRC, "mask:a!b@c", "a", nick="a")
    return Message(
        source_id=f"irc:{text}",
        author=author,
        chat=ChatRef(Network.IRC, ChatId("#c")),
        text=text,
        kind=MessageKind.TEXT,
        timestamp=time.time(),
    )


async def test_the_irc_inbox_hands_a_replay_on_marked() -> None:
    seen: list[tuple[str, bool]] = []

    async def router(msg: Message) -> None:
        seen.append((msg.text, _maybe_seen.get()))

    inbox = Inbox()
    inbox.put(message("live"))
    inbox.put(message("old"), replay=True)
    inbox.put(message("live again"))
    task = asyncio.create_task(inbox.run(router))
    await inbox.drain(2)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert seen == [("live", False), ("old", True), ("live again", False)]


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
        seen.append((msg.text, _maybe_seen.get()))
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
