"""The Telegram connector: the only module that imports python-telegram-bot.

It drives getUpdates itself so the offset moves past an update only after the router has
stored what the update asks for (at-least-once intake, de-duplicated by the outbox), and it
delivers rendered HTML paced per chat within Telegram's group limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import functools
import html
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

os.environ.setdefault("PTB_TIMEDELTA", "true")

import telegram
from telegram import error as tg_error
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bridge.config import TelegramConfig
from bridge.model import (
    Attachment,
    Author,
    ChatId,
    ChatRef,
    Message,
    MessageKind,
    Network,
    Posted,
    ReplyRef,
    UserId,
)
from bridge.outbox import PermanentError, Progress, Queued, Sent, TransientError
from bridge.pacing import TokenBucket, backoff_delay
from bridge.payloads import TelegramDocument, TelegramHtml
from bridge.render.telegram_html import entities_to_spans, split_plain_text, visible_length

log = logging.getLogger(__name__)

OnMessage = Callable[[Message], Awaitable[None]]
T = TypeVar("T")
ALLOWED_UPDATES = ["message", "edited_message"]
TELEGRAM_LIMIT = 4096
TOKEN_REJECTED = "telegram.token: rejected by the Bot API (Unauthorized); check the token"


class FatalTelegramError(Exception):
    """Telegram refuses the bot itself (bad token): retrying cannot help."""


def _seconds(value: int | float | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def _secs(value: int | float | dtm.timedelta) -> str:
    """A duration as whole seconds in words, for the renderer to show as m:ss."""
    return str(int(_seconds(value)))


def display_name(user: telegram.User) -> str:
    name = " ".join(p for p in (user.first_name, user.last_name) if p).strip()
    return name or (user.username or str(user.id))


def _author(user: telegram.User) -> Author:
    return Author(
        network=Network.TELEGRAM,
        user_id=UserId(str(user.id)),
        display_name=display_name(user),
        nick=user.username,
        is_bot=user.is_bot,
    )


def attachments_of(msg: telegram.Message) -> tuple[Attachment, ...]:
    """Describe every kind of media a message can carry, without any file URL."""
    found: list[Attachment] = []
    if msg.photo:
        # Telegram sends one PhotoSize per resolution; the largest is the photo as taken
        largest = max(msg.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        found.append(Attachment("photo", size=largest.file_size))
    if msg.animation:
        anim = msg.animation
        found.append(Attachment("animation", anim.file_name, anim.file_size, _secs(anim.duration)))
    elif msg.document:
        found.append(Attachment("document", msg.document.file_name, msg.document.file_size))
    if msg.video:
        video = msg.video
        found.append(Attachment("video", video.file_name, video.file_size, _secs(video.duration)))
    if msg.audio:
        words = " – ".join(p for p in (msg.audio.performer, msg.audio.title) if p)
        found.append(Attachment("audio", msg.audio.file_name, msg.audio.file_size, words or None))
    if msg.voice:
        found.append(
            Attachment("voice", size=msg.voice.file_size, detail=_secs(msg.voice.duration))
        )
    if msg.video_note:
        note = msg.video_note
        found.append(Attachment("video_note", size=note.file_size, detail=_secs(note.duration)))
    if msg.sticker:
        found.append(Attachment("sticker", detail=msg.sticker.emoji))
    if msg.venue:
        venue = msg.venue
        found.append(
            Attachment("venue", detail=", ".join(p for p in (venue.title, venue.address) if p))
        )
    elif msg.location:
        found.append(
            Attachment(
                "location", detail=f"{msg.location.latitude:.5g}, {msg.location.longitude:.5g}"
            )
        )
    if msg.contact:
        contact = msg.contact
        name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
        found.append(Attachment("contact", detail=f"{name} {contact.phone_number}".strip()))
    if msg.poll:
        options = " / ".join(o.text for o in msg.poll.options)
        found.append(Attachment("poll", detail=f"{msg.poll.question} ({options})"))
    if msg.dice:
        found.append(Attachment("dice", detail=f"{msg.dice.emoji} {msg.dice.value}"))
    return tuple(found)


def _entities(entities: Iterable[telegram.MessageEntity]) -> list[tuple[str, int, int, str | None]]:
    return [(str(e.type), e.offset, e.length, e.url) for e in entities]


class TelegramConnector:
    """Long-polls updates into the router and delivers queued HTML messages."""

    def __init__(self, config: TelegramConfig, on_message: OnMessage) -> None:
        self.config = config
        self.on_message = on_message
        self._poll_request = HTTPXRequest(
            connection_pool_size=1,
            read_timeout=config.poll_timeout + config.request_timeout,
            connect_timeout=config.request_timeout,
        )
        self.bot = telegram.Bot(
            config.token,
            base_url=config.api_url,
            base_file_url=config.file_url,
            request=HTTPXRequest(
                connection_pool_size=16,
                read_timeout=config.request_timeout,
                write_timeout=config.request_timeout,
                connect_timeout=config.request_timeout,
                media_write_timeout=max(60.0, config.request_timeout),
            ),
            get_updates_request=self._poll_request,
        )
        self.titles: dict[str, str] = {}
        """Titles of the groups the bot has seen, by chat id (for /names)."""
        self.bot_id: int | None = None
        self.username = ""
        self.connection_state = "starting"
        self._ready = asyncio.Event()
        self._buckets: dict[str, TokenBucket] = {}
        self._global = TokenBucket(30, 30.0)
        self._waited: set[str] = set()  # chats whose pace held a message back: merge
        self._admins: dict[str, tuple[float, frozenset[int]]] = {}
        self._offset = 0
        self._outages = 0

    # --------------------------------------------------------------- start / poll

    async def start(self) -> None:
        """getMe with retry: a bad token is fatal, a network fault is retried with backoff."""
        delay = 1.0
        while True:
            try:
                await self.bot.initialize()
                me = await self.bot.get_me()
                break
            except (tg_error.InvalidToken, tg_error.Forbidden):
                raise FatalTelegramError(TOKEN_REJECTED) from None
            except tg_error.TelegramError as exc:
                log.warning("Telegram unreachable (%s); retrying in %.0fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(60.0, delay * 2)
        self.bot_id = me.id
        self.username = me.username or ""
        self.connection_state = "ready"
        self._ready.set()
        log.info("Telegram: logged in as @%s", self.username)

    async def run(self) -> None:
        """Poll until cancelled; each update is handed to the router before it is confirmed."""
        await self._ready.wait()
        failures = 0
        while True:
            try:
                raw_updates = await self._fetch_updates()
            except tg_error.RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except (tg_error.InvalidToken, tg_error.Forbidden):
                raise FatalTelegramError(TOKEN_REJECTED) from None
            except tg_error.TelegramError as exc:
                failures += 1
                if failures == 1:
                    self._outages += 1
                    log.warning("Telegram: polling failed (%s); backing off", exc)
                self.connection_state = "retrying"
                await asyncio.sleep(backoff_delay(failures, random.random()))
                continue
            if failures:
                log.info("Telegram: polling recovered after %d failures", failures)
                failures = 0
                self.connection_state = "ready"
            for raw in raw_updates:
                message = self._parse(raw)
                if message is not None:
                    await self.on_message(message)
                self._offset = int(raw["update_id"]) + 1
            if raw_updates:
                await asyncio.sleep(0)  # let the outbox write what we queued before re-polling

    async def _fetch_updates(self) -> list[dict[str, Any]]:
        """getUpdates as raw JSON, so one update PTB cannot parse does not block the rest."""
        params = {"timeout": self.config.poll_timeout, "allowed_updates": ALLOWED_UPDATES}
        if self._offset:
            params["offset"] = self._offset
        data = RequestData([RequestParameter.from_input(k, v) for k, v in params.items()])
        result = await self._poll_request.post(
            f"{self.bot.base_url}/getUpdates",
            request_data=data,
            read_timeout=self.config.poll_timeout + self.config.request_timeout,
        )
        return (
            [u for u in result if isinstance(u, dict) and "update_id" in u]
            if isinstance(result, list)
            else []
        )

    def _parse(self, raw: dict[str, Any]) -> Message | None:
        try:
            update = telegram.Update.de_json(raw, self.bot)
        except Exception as exc:
            log.warning(
                "Telegram: skipping update %s that cannot be parsed (%s)", raw.get("update_id"), exc
            )
            return None
        return self.translate(update)

    async def stop(self) -> None:
        """Confirm the updates already handled, then close the HTTP clients."""
        if self._offset:
            with contextlib.suppress(TimeoutError, tg_error.TelegramError):
                await asyncio.wait_for(
                    self.bot.get_updates(offset=self._offset, timeout=0, limit=1), timeout=3
                )
        with contextlib.suppress(tg_error.TelegramError):
            await self.bot.shutdown()

    # ------------------------------------------------------------------ updates

    def translate(self, update: telegram.Update) -> Message | None:
        """Turn an update into a neutral Message; None for kinds the bridge does not relay."""
        msg = update.message or update.edited_message
        if msg is None or msg.from_user is None:
            log.debug("Telegram: skipping update %d of an unhandled kind", update.update_id)
            return None
        if msg.chat.title:
            self.titles[str(msg.chat.id)] = msg.chat.title
        chat = ChatRef(
            Network.TELEGRAM,
            ChatId(str(msg.chat.id)),
            is_private=msg.chat.type == "private",
            title=msg.chat.title,
        )
        source_id = f"tg:{msg.chat.id}:{msg.message_id}"
        if update.edited_message is not None:
            source_id += f":e{update.update_id}"  # edit_date has 1 s resolution; ids are unique
        author = _author(msg.from_user)
        if msg.sender_chat is not None and msg.sender_chat.title:
            # anonymous group admins and linked channels post as the chat, not as a person
            author = replace(author, display_name=msg.sender_chat.title, nick=None)
        stamp = msg.date.timestamp()
        if msg.new_chat_members:
            names = ", ".join(display_name(u) for u in msg.new_chat_members)
            return Message(source_id, author, chat, names, kind=MessageKind.JOIN, timestamp=stamp)
        if msg.left_chat_member:
            name = display_name(msg.left_chat_member)
            return Message(source_id, author, chat, name, kind=MessageKind.PART, timestamp=stamp)
        text = msg.text if msg.text is not None else (msg.caption or "")
        entities = msg.entities if msg.text is not None else msg.caption_entities
        attachments = attachments_of(msg)
        if not text and not attachments:
            log.debug("Telegram: skipping message %s with nothing to relay", source_id)
            return None
        spans = entities_to_spans(text, _entities(entities))
        return Message(
            source_id=source_id,
            author=author,
            chat=chat,
            text=text,
            spans=spans,
            reply_to=self._reply_ref(msg),
            is_edit=update.edited_message is not None,
            attachments=attachments,
            timestamp=stamp,
        )

    def _reply_ref(self, msg: telegram.Message) -> ReplyRef | None:
        original = msg.reply_to_message
        if original is None or original.from_user is None:
            return None
        if msg.is_topic_message and original.forum_topic_created is not None:
            return None  # a reply to the topic's first message is just "in this topic"
        text = original.text or original.caption or ""
        return ReplyRef(
            author_name=display_name(original.from_user),
            text=text,
            source_id=str(original.message_id),
            by_bridge=original.from_user.id == self.bot_id,
        )

    # ----------------------------------------------------------------- delivery

    def _bucket(self, chat: str) -> TokenBucket:
        bucket = self._buckets.get(chat)
        if bucket is None:
            private = not chat.startswith("-")
            rate = 1.0 if private else self.config.messages_per_minute / 60.0
            bucket = TokenBucket(self.config.burst, rate)
            self._buckets[chat] = bucket
        return bucket

    async def wait_ready(self, chat: str) -> None:
        """Logged in, and the chat's pace allows a message now: the outbox reads the queue
        after this, so what arrived while we waited can be merged into that message."""
        await self._ready.wait()
        bucket = self._bucket(chat)
        if not bucket.available():
            self._waited.add(chat)
            await bucket.wait_available()

    async def deliver(self, chat: str, items: list[Queued], progress: Progress) -> Sent:
        """Send the head item, merged with the mergeable items queued behind it."""
        bucket = self._bucket(chat)
        busy = chat in self._waited or not bucket.available()
        self._waited.discard(chat)
        await bucket.take()
        await self._global.take()
        head = items[0].payload
        if isinstance(head, TelegramDocument):
            await _classify(
                self.bot.send_document(
                    chat_id=int(chat),
                    document=head.data,
                    filename=head.file_name,
                    caption=head.caption,
                )
            )
            return Sent(1)
        if not isinstance(head, TelegramHtml):
            raise PermanentError(f"Telegram cannot deliver {type(head).__name__}")
        batch = [head]
        length = visible_length(head.html)
        if busy and head.mergeable:  # only merge when we had to wait
            for item in items[1:]:
                queued = item.payload
                if not isinstance(queued, TelegramHtml) or not queued.mergeable:
                    break
                extra = visible_length(queued.html) + 1
                if length + extra > TELEGRAM_LIMIT:
                    break
                batch.append(queued)
                length += extra
        try:
            sent = await self._send_html(chat, "\n".join(p.html for p in batch))
        except PermanentError:
            if len(batch) == 1:
                raise
            # One refused line must not take the lines merged with it down: the head goes
            # alone (or is dropped alone), the others are tried again after it.
            batch = batch[:1]
            sent = await self._send_html(chat, head.html)
        if not head.author:
            return Sent(len(batch))
        posted = Posted("telegram", chat, str(sent.message_id), head.author, head.text)
        return Sent(len(batch), posted)

    async def _send_html(self, chat: str, text: str) -> telegram.Message:
        return await _classify(
            self.bot.send_message(
                chat_id=int(chat),
                text=text,
                parse_mode="HTML",
                link_preview_options=telegram.LinkPreviewOptions(is_disabled=True),
            )
        )

    async def send_text_now(self, chat: int, text: str) -> bool:
        """Send plain text to a chat now (private answers); False if the bot may not write there."""
        for part in split_plain_text(text):
            body = html.escape(part, quote=False)
            try:
                await self._with_retry(
                    functools.partial(
                        self.bot.send_message, chat_id=chat, text=body, parse_mode="HTML"
                    )
                )
            except PermanentError as exc:
                log.info("Telegram: cannot write to %s: %s", chat, exc)
                return False
        return True

    async def send_document(self, chat: int, file_name: str, data: bytes, caption: str) -> bool:
        """Send a file to a (private) chat; False when Telegram will not let the bot write there."""
        try:
            await self._with_retry(
                lambda: self.bot.send_document(
                    chat_id=chat, document=data, filename=file_name, caption=caption
                )
            )
        except PermanentError as exc:
            log.info("Telegram: cannot send %s to %s: %s", file_name, chat, exc)
            return False
        return True

    async def _with_retry(self, call: Callable[[], Awaitable[object]], attempts: int = 6) -> None:
        """Run a direct (not queued) API call, retrying transient faults with backoff."""
        for attempt in range(attempts):
            try:
                await _classify(call())
                return
            except TransientError as exc:
                if attempt == attempts - 1:
                    raise PermanentError(str(exc)) from None
                await asyncio.sleep(exc.retry_after or min(30.0, 2.0**attempt))

    async def check_chat(self, chat: int) -> str | None:
        """None when the bot can see the group, else why not (one clear line at start-up)."""
        try:
            info = await self.bot.get_chat(chat)
        except (tg_error.BadRequest, tg_error.Forbidden) as exc:
            return f"telegram_chat {chat}: {exc} (is the bot a member of the group?)"
        except tg_error.TelegramError:
            return None
        if info.title:
            self.titles[str(chat)] = info.title
        if info.type == "channel":
            return f"telegram_chat {chat}: is a channel, not a group"
        return None

    async def member_count(self, chat: str) -> int | None:
        try:
            return await self.bot.get_chat_member_count(int(chat))
        except tg_error.TelegramError:
            return None

    async def admin_ids(self, chat: str, max_age: float = 600.0) -> frozenset[int]:
        """The group's administrators, cached for max_age seconds."""
        cached = self._admins.get(chat)
        if cached is not None and time.monotonic() - cached[0] < max_age:
            return cached[1]
        try:
            admins = await self.bot.get_chat_administrators(int(chat))
        except tg_error.TelegramError as exc:
            log.info("Telegram: cannot list administrators of %s: %s", chat, exc)
            return cached[1] if cached else frozenset()
        ids = frozenset(a.user.id for a in admins)
        self._admins[chat] = (time.monotonic(), ids)
        return ids


async def _classify(call: Awaitable[T]) -> T:
    """Map python-telegram-bot's errors onto retry-worthy or not, for the outbox."""
    try:
        return await call
    except tg_error.RetryAfter as exc:
        raise TransientError("Telegram flood control", _seconds(exc.retry_after)) from None
    except tg_error.ChatMigrated as exc:
        raise PermanentError(
            f"group moved to chat id {exc.new_chat_id}; update the config"
        ) from None
    except (tg_error.BadRequest, tg_error.Forbidden) as exc:
        raise PermanentError(str(exc)) from None
    except tg_error.TelegramError as exc:
        raise TransientError(str(exc) or type(exc).__name__) from None
