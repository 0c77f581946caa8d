"""The Telegram sender and forum topics, against the strict fake Bot API: a topic's key
becomes message_thread_id (never 1 for General), topics share their group's pace, and a
closed or deleted topic makes its messages wait (logged once, reported, resumed when it is
reopened) instead of dropping them."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
import telegram

from bridge.config import TelegramConfig
from bridge.payloads import TelegramDocument, TelegramHtml
from bridge.sending import Queued, TransientError
from bridge.telegram.delivery import TelegramDelivery, TopicUnavailable
from bridge.telegram.membership import Membership
from storage.outbox_store import OutboxItem
from tests.support.bots import make_bot
from tests.support.fake_telegram import FakeTelegram, TgUser

pytestmark = pytest.mark.timeout(30)

FORUM = -1001234567000
ANN = TgUser(42, "Ann")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as f:
        f.add_chat(FORUM, title="Forum", is_forum=True)
        yield f


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with make_bot(fake) as b:
        yield b


def delivery(bot: telegram.Bot, per_minute: float = 600.0, burst: int = 10) -> TelegramDelivery:
    ready = asyncio.Event()
    ready.set()
    config = TelegramConfig("1:abc", messages_per_minute=per_minute, burst=burst)
    return TelegramDelivery(bot, config, ready)


def item(chat: str, payload: TelegramHtml | TelegramDocument, n: int = 1) -> Queued:
    now = time.time()
    return OutboxItem(n, "telegram", chat, f"k{n}", "relay", payload, now, now, 0)


async def no_progress(item: Queued, lines: int) -> None:
    raise AssertionError("Telegram payloads have no partial progress")


async def test_a_topic_key_is_sent_as_message_thread_id(
    bot: telegram.Bot, fake: FakeTelegram
) -> None:
    topic = fake.create_topic(FORUM, "Help", ANN)
    sender = delivery(bot)
    sent = await sender.deliver(
        f"{FORUM}/{topic}",
        [item(f"{FORUM}/{topic}", TelegramHtml("<b>bob</b>: hi", author="bob"))],
        no_progress,
    )
    await sender.deliver(f"{FORUM}", [item(f"{FORUM}", TelegramHtml("general"))], no_progress)
    await sender.deliver(
        f"{FORUM}/{topic}",
        [item(f"{FORUM}/{topic}", TelegramDocument("a.txt", b"x", "c"))],
        no_progress,
    )
    in_topic, general, document = fake.sent
    assert (in_topic.visible_text, in_topic.message_thread_id) == ("bob: hi", topic)
    assert "message_thread_id" not in general.params  # General: the group itself
    assert (document.method, document.message_thread_id) == ("sendDocument", topic)
    # the reply map remembers the topic's key (replies come from there)
    assert sent.posted is not None and sent.posted.chat == f"{FORUM}/{topic}"


async def test_the_topics_of_a_group_share_its_pace(bot: telegram.Bot, fake: FakeTelegram) -> None:
    one, two = fake.create_topic(FORUM, "One", ANN), fake.create_topic(FORUM, "Two", ANN)
    sender = delivery(bot, per_minute=60.0, burst=1)
    await sender.wait_ready(f"{FORUM}/{one}")
    await sender.deliver(f"{FORUM}/{one}", [item(f"{FORUM}/{one}", TelegramHtml("a"))], no_progress)
    start = time.monotonic()
    await sender.wait_ready(f"{FORUM}/{two}")  # another topic, the same group: it waits
    assert time.monotonic() - start > 0.5


async def test_a_closed_topic_waits_logged_once_until_it_is_reopened(
    bot: telegram.Bot, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    topic = fake.create_topic(FORUM, "Help", ANN)
    key = f"{FORUM}/{topic}"
    fake.close_topic(FORUM, topic, ANN)
    sender = delivery(bot)
    with caplog.at_level(logging.INFO, logger="bridge.telegram.delivery"):
        for _ in range(2):
            with pytest.raises(TopicUnavailable) as info:
                await sender.deliver(key, [item(key, TelegramHtml("hi"))], no_progress)
            assert isinstance(info.value, TransientError)  # waits; the horizon may drop it
        assert list(sender.unavailable_topics) == [key]
        assert "Topic_closed" in sender.unavailable_topics[key]
        waiting = asyncio.create_task(sender.wait_ready(key))
        await asyncio.sleep(0.2)
        assert not waiting.done()  # nothing is tried while the topic is closed
        fake.reopen_topic(FORUM, topic, ANN)
        sender.topic_reopened(key)  # what the connector does when the update comes
        await asyncio.wait_for(waiting, 5)
        await sender.deliver(key, [item(key, TelegramHtml("hi"))], no_progress)
    assert sender.unavailable_topics == {}
    refused = [r for r in caplog.records if "refuses messages" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelno == logging.WARNING
    assert [m.message_thread_id for m in fake.sent] == [topic]


async def test_a_deleted_topic_is_reported_and_tried_again_later(
    bot: telegram.Bot, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bridge.telegram.delivery.TOPIC_RECHECK", 0.2)
    topic = fake.create_topic(FORUM, "Old", ANN)
    fake.delete_topic(FORUM, topic)
    key = f"{FORUM}/{topic}"
    sender = delivery(bot)
    with pytest.raises(TopicUnavailable, match=r"(?i)message thread not found"):
        await sender.deliver(key, [item(key, TelegramHtml("hi"))], no_progress)
    assert list(sender.unavailable_topics) == [key]
    await asyncio.wait_for(sender.wait_ready(key), 5)  # the next try comes, bounded
    assert f"{FORUM}" not in sender.unavailable_topics  # the group itself is fine


async def test_membership_in_a_topic_is_membership_in_its_group(
    bot: telegram.Bot, fake: FakeTelegram
) -> None:
    topic = fake.create_topic(FORUM, "Help", ANN)
    fake.push_text(FORUM, TgUser(77, "Writer"), "hi", topic=topic)
    membership = Membership(bot)
    assert await membership.is_member(f"{FORUM}/{topic}", "77")
    assert not await membership.is_member(f"{FORUM}/{topic}", "78")
    asked = [a.params.get("chat_id") for a in fake.attempts if a.method == "getChatMember"]
    assert asked == [str(FORUM), str(FORUM)]
