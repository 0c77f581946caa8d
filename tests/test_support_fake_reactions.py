"""The fake Bot API's reactions (tests/support/fake_telegram.py push_reaction), driven by PTB:
like Telegram, message_reaction updates reach only a bot that names them in allowed_updates
and administers the group."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram

from tests.support.bots import make_bot
from tests.support.fake_telegram import FakeTelegram, TgUser

pytestmark = pytest.mark.timeout(30)

GROUP = -1001234567890
ANN = TgUser(42, "Ann", "Lee", username="ann")
WITH_REACTIONS = ["message", "edited_message", "message_reaction"]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as f:
        f.add_chat(GROUP, "supergroup", title="Bridge", administrators=[ANN, f.bot_user])
        yield f


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with make_bot(fake) as b:
        yield b


async def test_reactions_only_when_asked_for(bot: telegram.Bot, fake: FakeTelegram) -> None:
    """Without message_reaction in allowed_updates the reaction is dropped for good; asked
    for, it arrives with who reacted and the reactions before and after."""
    hello = fake.push_text(GROUP, ANN, "hello")
    fake.push_reaction(GROUP, hello.message_id or 0, ANN, ["👍"])
    got = await bot.get_updates(timeout=0, allowed_updates=["message", "edited_message"])
    assert [u.message.text for u in got if u.message] == ["hello"] and len(got) == 1
    offset = got[0].update_id + 1
    assert await bot.get_updates(offset=offset, timeout=0, allowed_updates=WITH_REACTIONS) == ()

    custom = {"type": "custom_emoji", "custom_emoji_id": "77"}
    pushed = fake.push_reaction(GROUP, hello.message_id or 0, ANN, ["🎉", custom], ["👍"])
    assert pushed is not None
    [update] = await bot.get_updates(offset=offset, timeout=0, allowed_updates=WITH_REACTIONS)
    event = update.message_reaction
    assert event is not None and event.user is not None and event.user.id == ANN.id
    assert event.chat.id == GROUP and event.message_id == hello.message_id
    assert event.old_reaction == (telegram.ReactionTypeEmoji("👍"),)
    assert event.new_reaction == (
        telegram.ReactionTypeEmoji("🎉"),
        telegram.ReactionTypeCustomEmoji("77"),
    )


async def test_reactions_only_to_an_administrator(bot: telegram.Bot, fake: FakeTelegram) -> None:
    """A group whose administrators do not include the bot sends it no reactions."""
    fake.chats[GROUP].administrators.remove(fake.bot_user)
    hello = fake.push_text(GROUP, ANN, "hello")
    assert fake.push_reaction(GROUP, hello.message_id or 0, ANN, ["👍"]) is None
    got = await bot.get_updates(timeout=0, allowed_updates=WITH_REACTIONS)
    assert [u.update_id for u in got] == [hello.update_id]
