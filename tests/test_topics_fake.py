"""Self-tests of the fake Bot API's forum groups: topics as Telegram shows them to a bot
(service messages, message_thread_id, is_topic_message) and its refusals (a send to a topic
that does not exist, was deleted or is closed)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram
from telegram.error import BadRequest

from tests.support.bots import make_bot
from tests.support.fake_telegram import FakeTelegram, TgUser

pytestmark = pytest.mark.timeout(30)

FORUM = -1001234567000
PLAIN = -1001234567001
ANN = TgUser(42, "Ann", username="ann")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as f:
        f.add_chat(FORUM, title="Forum", is_forum=True)
        f.add_chat(PLAIN, title="Plain")
        yield f


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with make_bot(fake) as b:
        yield b


async def messages(bot: telegram.Bot) -> list[telegram.Message]:
    found = [u.effective_message for u in await bot.get_updates(timeout=0)]
    return [m for m in found if m is not None]


async def test_a_forum_says_so(bot: telegram.Bot) -> None:
    assert (await bot.get_chat(FORUM)).is_forum
    assert not (await bot.get_chat(PLAIN)).is_forum


async def test_a_topic_is_created_by_a_service_message_whose_id_is_the_topics(
    bot: telegram.Bot, fake: FakeTelegram
) -> None:
    fake.push_text(FORUM, ANN, "in General")
    help_id = fake.create_topic(FORUM, "Help", ANN)
    fake.push_text(FORUM, ANN, "a question", topic=help_id)
    general, created, question = await messages(bot)
    assert general.message_thread_id is None and not general.is_topic_message
    assert created.forum_topic_created is not None
    assert created.forum_topic_created.name == "Help"
    assert created.message_id == created.message_thread_id == help_id
    assert created.is_topic_message and created.chat.is_forum
    assert question.message_thread_id == help_id and question.is_topic_message
    # in a topic, a message that answers nothing else answers the topic's first message
    assert question.reply_to_message is not None
    assert question.reply_to_message.message_id == help_id
    assert question.reply_to_message.forum_topic_created is not None


async def test_a_reply_in_a_topic_answers_its_message(
    bot: telegram.Bot, fake: FakeTelegram
) -> None:
    topic = fake.create_topic(FORUM, "Help", ANN)
    asked = fake.push_text(FORUM, ANN, "why?", topic=topic)
    fake.push_text(FORUM, ANN, "because", topic=topic, reply_to=asked.message_id)
    *_, answer = await messages(bot)
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "why?" and answer.message_thread_id == topic


async def test_renaming_closing_and_reopening_are_service_messages_in_the_topic(
    bot: telegram.Bot, fake: FakeTelegram
) -> None:
    topic = fake.create_topic(FORUM, "Help", ANN)
    fake.edit_topic(FORUM, topic, "Support", ANN)
    fake.close_topic(FORUM, topic, ANN)
    fake.reopen_topic(FORUM, topic, ANN)
    _, edited, closed, reopened = await messages(bot)
    assert edited.forum_topic_edited is not None
    assert edited.forum_topic_edited.name == "Support"
    assert closed.forum_topic_closed is not None and reopened.forum_topic_reopened is not None
    assert {m.message_thread_id for m in (edited, closed, reopened)} == {topic}
    assert fake.chats[FORUM].topics[topic].name == "Support"


async def test_the_bot_writes_in_an_open_topic(bot: telegram.Bot, fake: FakeTelegram) -> None:
    topic = fake.create_topic(FORUM, "Help", ANN)
    sent = await bot.send_message(FORUM, "answer", message_thread_id=topic)
    assert sent.message_thread_id == topic and sent.is_topic_message
    await bot.send_document(FORUM, b"data", filename="a.txt", message_thread_id=topic)
    await bot.send_message(FORUM, "to General")
    text, document, general = await fake.wait_sent(count=3)
    assert (text.visible_text, text.message_thread_id) == ("answer", topic)
    assert (document.file_name, document.message_thread_id) == ("a.txt", topic)
    assert general.message_thread_id is None


@pytest.mark.parametrize("method", ["send_message", "send_document"])
async def test_a_topic_that_is_not_there_is_refused(
    bot: telegram.Bot, fake: FakeTelegram, method: str
) -> None:
    """Never created, deleted, General given as 1, or a group without topics: "message
    thread not found"; closed: TOPIC_CLOSED. Nothing is delivered."""
    gone = fake.create_topic(FORUM, "Old", ANN)
    fake.delete_topic(FORUM, gone)
    closed = fake.create_topic(FORUM, "Closed", ANN)
    fake.close_topic(FORUM, closed, ANN)

    async def send(chat: int, thread: int) -> None:
        if method == "send_message":
            await bot.send_message(chat, "x", message_thread_id=thread)
        else:
            await bot.send_document(chat, b"x", filename="x.txt", message_thread_id=thread)

    for chat, thread in ((FORUM, 999), (FORUM, gone), (FORUM, 1), (PLAIN, 5)):
        with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
            await send(chat, thread)
    with pytest.raises(BadRequest, match=r"(?i)topic_closed"):
        await send(FORUM, closed)
    assert fake.sent == []
    assert fake.attempts[-1].status == 400
    fake.reopen_topic(FORUM, closed, ANN)
    await send(FORUM, closed)
    assert [m.message_thread_id for m in fake.sent] == [closed]


async def test_writing_in_a_topic_that_is_not_there_is_a_test_mistake(fake: FakeTelegram) -> None:
    with pytest.raises(KeyError):
        fake.push_text(FORUM, ANN, "x", topic=77)
    with pytest.raises(KeyError):
        fake.create_topic(PLAIN, "Help", ANN)


async def test_no_topic_takes_generals_id(fake: FakeTelegram) -> None:
    assert fake.create_topic(FORUM, "First", ANN) > 1
