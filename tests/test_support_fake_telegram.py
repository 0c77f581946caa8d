"""Self-tests of the strict fake Bot API (tests/support/fake_telegram.py), driven by PTB."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import telegram
from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut

from tests.support.bots import make_bot
from tests.support.fake_telegram import FakeTelegram, TgUser, parse_html, utf16_len

pytestmark = pytest.mark.timeout(30)

GROUP = -1001234567890
ANN = TgUser(42, "Ann", "Lee", username="ann")
BOB = TgUser(43, "Bob")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(bot_username="BridgeBot") as f:
        f.add_chat(GROUP, "supergroup", title="Bridge", administrators=[ANN, BOB])
        yield f


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with make_bot(fake) as b:
        yield b


async def test_get_me(bot: telegram.Bot, fake: FakeTelegram) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "BridgeBot" and me.id == fake.bot_user.id
    assert fake.calls[0] == "getMe"


async def test_wrong_token_is_rejected(fake: FakeTelegram) -> None:
    bot = make_bot(fake, token="999:WrongTokenWrongTokenWrongToken")
    with pytest.raises(InvalidToken):
        await bot.initialize()
    assert fake.attempts[-1].status == 401
    await bot.shutdown()
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{fake.api_url}{fake.token}/noSuchMethod") as r,
    ):
        assert r.status == 404
        assert await r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_get_updates_offset_semantics(bot: telegram.Bot, fake: FakeTelegram) -> None:
    first = fake.push_text(GROUP, ANN, "one")
    second = fake.push_text(GROUP, BOB, "two")
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first.update_id, second.update_id]
    msg = updates[0].message
    assert msg is not None and msg.text == "one" and msg.from_user is not None
    assert msg.from_user.username == "ann" and msg.chat.type == "supergroup"
    # Not confirmed: returned again.
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [first.update_id, second.update_id]
    # Confirm the first only.
    rest = await bot.get_updates(offset=first.update_id + 1, timeout=0)
    assert [u.update_id for u in rest] == [second.update_id]
    assert await bot.get_updates(offset=second.update_id + 1, timeout=0) == ()
    assert fake.confirmed_offset == second.update_id + 1
    # limit
    for i in range(3):
        fake.push_text(GROUP, ANN, f"m{i}")
    assert len(await bot.get_updates(offset=second.update_id + 1, limit=2, timeout=0)) == 2


async def test_get_updates_long_poll_waits_for_push(bot: telegram.Bot, fake: FakeTelegram) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 3
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_long_poll()
    assert not poll.done()
    pushed = fake.push_text(ANN.id, ANN, "private hello")
    updates = await asyncio.wait_for(poll, 3)
    assert [u.update_id for u in updates] == [pushed.update_id]
    assert updates[0].message is not None and updates[0].message.chat.type == "private"


async def test_allowed_updates_filter_and_edits(bot: telegram.Bot, fake: FakeTelegram) -> None:
    pushed = fake.push_text(GROUP, ANN, "orig")
    edit = fake.push_edit(GROUP, pushed.message_id or 0, "edited")
    updates = await bot.get_updates(timeout=0, allowed_updates=["message", "edited_message"])
    assert updates[1].edited_message is not None and updates[1].edited_message.text == "edited"
    assert updates[1].update_id == edit.update_id
    fake.push_text(GROUP, ANN, "plain")
    fake.push_edit(GROUP, pushed.message_id or 0, "again")
    got = await bot.get_updates(offset=edit.update_id + 1, timeout=0, allowed_updates=["message"])
    assert [u.message.text for u in got if u.message] == ["plain"] and len(got) == 1
    assert fake.allowed_updates == ["message"]


async def test_concurrent_get_updates_conflict(fake: FakeTelegram, bot: telegram.Bot) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=3))
    await fake.wait_long_poll()
    async with make_bot(fake) as other:
        newer = asyncio.create_task(other.get_updates(timeout=3))
        with pytest.raises(Conflict):
            await asyncio.wait_for(older, 3)
        fake.push_text(GROUP, ANN, "x")
        assert len(await asyncio.wait_for(newer, 3)) == 1
    assert fake.conflicts == 1


async def test_send_message_recorded_exactly(bot: telegram.Bot, fake: FakeTelegram) -> None:
    m1 = await bot.send_message(GROUP, "hello <there> & you")
    m2 = await bot.send_message(
        GROUP,
        '<b>Ann:</b> a &lt; b &amp; <i>c <u>d</u></i> <a href="https://x.org/?a=1&amp;b=2">l</a>',
        parse_mode="HTML",
        reply_to_message_id=m1.message_id,
        disable_web_page_preview=True,
    )
    assert m1.text == "hello <there> & you" and m2.message_id == m1.message_id + 1
    assert m2.from_user is not None and m2.from_user.is_bot
    sent = await fake.wait_sent(count=2)
    assert [s.visible_text for s in sent] == ["hello <there> & you", "Ann: a < b & c d l"]
    assert sent[1].text is not None and sent[1].text.startswith("<b>Ann:</b>")
    assert sent[1].parse_mode == "HTML" and sent[1].chat_id == GROUP
    assert sent[1].reply_to_message_id == m1.message_id
    types = {(e["type"], e["offset"], e["length"]) for e in sent[1].entities}
    assert {("bold", 0, 4), ("italic", 13, 3), ("underline", 15, 1), ("text_link", 17, 1)} == types
    assert m2.entities[0].type == "bold"
    with pytest.raises(TimeoutError):
        await fake.wait_sent(timeout=0.2)  # both consumed


async def test_send_message_validation(bot: telegram.Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(-100999, "x")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(GROUP, "   ")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(GROUP, "x" * 4097)
    await bot.send_message(GROUP, "x" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(GROUP, "😀" * 2049)  # 4098 UTF-16 units
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(GROUP, "<b>" + "x" * 4097 + "</b>", parse_mode="HTML")
    await bot.send_message(GROUP, "<b>" + "x" * 4000 + "</b>", parse_mode="HTML")
    for bad in (
        "<b>x",
        "a < b",
        "x</b>",
        "<b><i>x</b></i>",
        "<foo>x</foo>",
        "AT&T",
        "a > b",
        '<span class="nope">x</span>',
        "<a>x</a>",
    ):
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(GROUP, bad, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)MarkdownV2"):
        await bot.send_message(GROUP, "*x*", parse_mode="MarkdownV2")
    ok = await bot.send_message(
        GROUP,
        '<b>a<i>b<s>c</s></i></b><tg-spoiler>s</tg-spoiler><span class="tg-spoiler">t</span>'
        '<pre><code class="language-python">x = 1</code></pre><blockquote>q</blockquote>'
        "&#128512;&#x41;&quot;",
        parse_mode="HTML",
    )
    assert ok.text == 'abcstx = 1q😀A"'
    assert [s.visible_text for s in fake.sent if s.method == "sendMessage"] == [
        "x" * 4096,
        "x" * 4000,
        'abcstx = 1q😀A"',
    ]
    assert sum(a.status == 400 for a in fake.attempts) == 15


def test_parse_html_utf16_offsets() -> None:
    text, entities = parse_html("😀 <b>é😀</b>")
    assert text == "😀 é😀" and utf16_len(text) == 6
    assert entities == [{"type": "bold", "offset": 3, "length": 3}]


async def test_fault_429_and_rate_limit(
    bot: telegram.Bot, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without PTB_TIMEDELTA, constructing RetryAfter emits a PTBDeprecationWarning, which
    # filterwarnings=error turns into the exception raised instead of RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    fake.fail_next("sendMessage", 1, "429", retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(GROUP, "x")
    assert info.value.retry_after == dt.timedelta(seconds=7)
    assert fake.sent == [] and fake.attempts[-1].status == 429
    await bot.send_message(GROUP, "after")
    fake.rate_limit(per_chat=2, window=60)
    await bot.send_message(GROUP, "1")
    with pytest.raises(RetryAfter):
        await bot.send_message(GROUP, "2")
    assert [s.visible_text for s in fake.sent] == ["after", "1"]
    assert [a.status for a in fake.attempts if a.method == "sendMessage"] == [429, 200, 200, 429]


async def test_fault_502_hang_drop(fake: FakeTelegram) -> None:
    async with make_bot(fake, read_timeout=0.5) as bot:
        fake.fail_next("sendMessage", 1, "502")
        with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
            await bot.send_message(GROUP, "x")
        fake.fail_next("sendMessage", 1, "hang", hang_seconds=5)
        with pytest.raises(TimedOut):
            await bot.send_message(GROUP, "y")
        fake.fail_next("sendMessage", 1, "drop")
        with pytest.raises(NetworkError):
            await bot.send_message(GROUP, "z")
        assert fake.sent == []
        fake.fail_next("sendMessage", 1, "hang_after", hang_seconds=5)
        with pytest.raises(TimedOut):
            await bot.send_message(GROUP, "delivered anyway")
        assert [s.visible_text for s in fake.sent] == ["delivered anyway"]
        await bot.send_message(GROUP, "ok")
        faults = [a.fault for a in fake.attempts if a.method == "sendMessage"]
        assert faults == ["502", "hang", "drop", "hang_after", None]


async def test_send_document_and_files(bot: telegram.Bot, fake: FakeTelegram) -> None:
    payload = bytes(range(256)) * 10
    msg = await bot.send_document(
        GROUP, payload, filename="log.bin", caption="<i>logs</i>", parse_mode="HTML"
    )
    [sent] = await fake.wait_sent(lambda m: m.method == "sendDocument")
    assert (sent.file_name, sent.file_bytes, sent.visible_text) == ("log.bin", payload, "logs")
    assert msg.document is not None and msg.document.file_name == "log.bin"
    # getFile returns a relative path; PTB prepends base_file_url + token (like Telegram).
    pushed = fake.push_photo(GROUP, ANN, b"PNGDATA", caption="pic")
    [update] = await bot.get_updates(timeout=0)
    assert update.update_id == pushed.update_id and update.message is not None
    tg_file = await update.message.photo[-1].get_file()
    assert tg_file.file_path is not None and fake.token in tg_file.file_path
    assert bytes(await tg_file.download_as_bytearray()) == b"PNGDATA"


async def test_chat_info_and_misc(bot: telegram.Bot, fake: FakeTelegram) -> None:
    chat = await bot.get_chat(GROUP)
    assert chat.title == "Bridge" and chat.type == "supergroup"
    assert await bot.get_chat_member_count(GROUP) == 2
    admins = await bot.get_chat_administrators(GROUP)
    assert [a.user.id for a in admins] == [ANN.id, BOB.id] and admins[0].status == "creator"
    assert await bot.set_my_commands([("help", "Show help")])
    assert await bot.delete_webhook(drop_pending_updates=True)
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0
    m = await bot.send_message(GROUP, "v1")
    edited = await bot.edit_message_text("v2", chat_id=GROUP, message_id=m.message_id)
    assert isinstance(edited, telegram.Message) and edited.text == "v2"
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("v2", chat_id=GROUP, message_id=m.message_id)


async def test_json_body_and_wait_confirmed(fake: FakeTelegram) -> None:
    """Other clients may POST JSON; structured params are then plain JSON values."""
    url = f"{fake.api_url}{fake.token}"
    pushed = fake.push_text(GROUP, ANN, "hi")
    async with aiohttp.ClientSession() as s:
        body = {
            "chat_id": GROUP,
            "text": "<b>j</b>",
            "parse_mode": "HTML",
            "reply_parameters": {"message_id": pushed.message_id},
        }
        async with s.post(f"{url}/sendMessage", json=body) as r:
            data = await r.json()
            assert data["ok"] and data["result"]["reply_to_message"]["text"] == "hi"
        waiter = asyncio.create_task(fake.wait_confirmed(timeout=5))
        async with s.post(f"{url}/getUpdates", data={"offset": str(pushed.update_id + 1)}) as r:
            assert json.loads(await r.text()) == {"ok": True, "result": []}
        await waiter


async def test_ptb_application_polling_end_to_end(fake: FakeTelegram) -> None:
    """A full PTB Application (Updater long polling + handlers) runs against the fake."""
    from telegram.ext import Application, MessageHandler, filters

    async def echo(update: telegram.Update, context: object) -> None:
        assert update.effective_message is not None and update.effective_chat is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app = (
        Application.builder()
        .token(fake.token)
        .base_url(fake.api_url)
        .base_file_url(fake.file_url)
        .get_updates_read_timeout(5)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=2)
        await app.start()
        pushed = fake.push_text(GROUP, ANN, "ping")
        [reply] = await fake.wait_sent(lambda m: m.chat_id == GROUP, timeout=5)
        assert reply.visible_text == "echo: ping"
        assert reply.reply_to_message_id == pushed.message_id
        await fake.wait_confirmed(pushed.update_id, timeout=5)
        await app.updater.stop()
        await app.stop()
    assert "deleteWebhook" in fake.calls and fake.pending_updates == []
