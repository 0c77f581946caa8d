"""The outbox's Telegram sender: writes queued payloads, paced within Telegram's limits.

Groups get the configured pace, private chats (command answers, /export files) one message a
second, and the bot 30 a second overall. A relayed line that had to wait for its chat's pace is
merged with the relayed lines queued behind it, so a burst from IRC costs few messages.
PTB's errors are sorted here into retry-worthy or not, the only thing the outbox asks.

A chat key "<group>/<topic>" is one forum topic: sent to the group with message_thread_id,
paced with the group (Telegram's limit is per group), queued apart (the outbox keeps each
topic's order). A topic that is closed or deleted makes its messages wait, not vanish: the
problem is logged once per closing (the outbox's retries only at DEBUG) and reported by
`status`, the queue is tried again every TOPIC_RECHECK seconds or as soon as the topic is
reopened, and the horizon drops what waits too long, as for any outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import logging
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import telegram
from telegram import error as tg_error

from bridge.config import TelegramConfig
from bridge.lru import Lru
from bridge.model import Network, Posted, split_telegram_chat
from bridge.pacing import TokenBucket
from bridge.payloads import TelegramDocument, TelegramHtml
from bridge.render.telegram_html import visible_length
from bridge.sending import PermanentError, Progress, Queued, Sent, TransientError
from bridge.telegram.http import request_data

log = logging.getLogger(__name__)

T = TypeVar("T")
TELEGRAM_LIMIT = 4096
TOPIC_RECHECK = 300.0
"""Seconds between tries of a topic Telegram said is closed or gone."""
PACED_CHATS_MAX = 10_000
"""Chats (groups, private chats) whose pace is kept; the least recently sent to are forgotten
first, and one forgotten starts again with a full burst."""
NO_PREVIEW = {"is_disabled": True}
"""link_preview_options of every relayed message: a link is the sender's, not a preview."""
TOPIC_GONE = ("message thread not found", "topic_closed", "topic_deleted")
"""What Telegram answers (400) for a message to a deleted or closed topic; PTB changes the
case of the description, so these are compared in lower case."""


class TopicUnavailable(TransientError):
    """The forum topic is closed or deleted: its messages wait for it."""

    reported = True
    """Logged here once per closing (TelegramDelivery._sent): not at each recheck."""


def seconds(value: int | float | dtm.timedelta) -> float:
    """A PTB duration (a timedelta with PTB_TIMEDELTA, else a number) in seconds."""
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def classify(call: Awaitable[T]) -> T:
    """Map python-telegram-bot's errors onto retry-worthy or not, for the outbox."""
    try:
        return await call
    except tg_error.BadRequest as exc:
        if any(words in str(exc).lower() for words in TOPIC_GONE):
            raise TopicUnavailable(str(exc), 0.0) from None
        raise PermanentError(str(exc)) from None
    except tg_error.RetryAfter as exc:
        raise TransientError("Telegram flood control", seconds(exc.retry_after)) from None
    except tg_error.ChatMigrated as exc:
        raise PermanentError(
            f"group moved to chat id {exc.new_chat_id}; update the config"
        ) from None
    except tg_error.Forbidden as exc:
        raise PermanentError(str(exc)) from None
    except tg_error.TelegramError as exc:
        raise TransientError(str(exc) or type(exc).__name__) from None


class TelegramDelivery:
    """Delivers one chat's queue head (merged when paced) for the outbox."""

    def __init__(self, bot: telegram.Bot, config: TelegramConfig, ready: asyncio.Event) -> None:
        self.bot = bot
        self.config = config
        self._ready = ready  # set once the bot is logged in
        self._buckets: Lru[str, TokenBucket] = Lru(PACED_CHATS_MAX)
        self._global = TokenBucket(30, 30.0)
        self._waited: set[str] = set()  # chats whose pace held a message back: merge
        self._unavailable: dict[str, tuple[str, float]] = {}
        """Topics Telegram refused (chat key → its words, since when)."""
        self._reopened: dict[str, asyncio.Event] = {}

    def _bucket(self, chat: str) -> TokenBucket:
        """The pace of chat's group: a forum's topics share it."""
        group = split_telegram_chat(chat)[0]
        bucket = self._buckets.get(group)
        if bucket is None:
            private = not group.startswith("-")
            rate = 1.0 if private else self.config.messages_per_minute / 60.0
            bucket = TokenBucket(self.config.burst, rate)
        self._buckets[group] = bucket  # in use: the last to be forgotten
        return bucket

    @property
    def unavailable_topics(self) -> dict[str, str]:
        """Topics whose messages wait because Telegram refused them (for `status`)."""
        return {
            chat: f"{words} (since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(since))})"
            for chat, (words, since) in self._unavailable.items()
        }

    def topic_reopened(self, chat: str) -> None:
        """The topic was reopened: try its waiting messages now."""
        if self._unavailable.pop(chat, None) is not None:
            log.info("Telegram topic %s was reopened", chat)
        event = self._reopened.get(chat)
        if event is not None:
            event.set()

    async def wait_ready(self, chat: str) -> None:
        """Logged in, the topic not known to be closed (tried again every TOPIC_RECHECK
        seconds), and the chat's pace allows a message now: the outbox reads the queue
        after this, so what arrived while we waited can be merged into that message."""
        await self._ready.wait()
        if chat in self._unavailable:
            event = self._reopened.setdefault(chat, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), TOPIC_RECHECK)
            event.clear()
        bucket = self._bucket(chat)
        if not bucket.available():
            self._waited.add(chat)
            await bucket.wait_available()

    async def _sent(self, chat: str, call: Awaitable[T]) -> T:
        """classify(), and a closed or deleted topic noted (logged once) or cleared."""
        try:
            result = await classify(call)
        except TopicUnavailable as exc:
            if chat not in self._unavailable:
                log.warning(
                    "Telegram topic %s refuses messages (%s): they wait for it, are tried "
                    "again every %.0fs or when it is reopened, and see `tgirc-bridge status`",
                    chat,
                    exc,
                    TOPIC_RECHECK,
                )
                self._unavailable[chat] = (str(exc), time.time())
            raise
        if self._unavailable.pop(chat, None) is not None:
            log.info("Telegram topic %s takes messages again", chat)
        return result

    async def deliver(self, chat: str, items: list[Queued], progress: Progress) -> Sent:
        """Send the head item, merged with the mergeable items queued behind it."""
        bucket = self._bucket(chat)
        busy = chat in self._waited or not bucket.available()
        self._waited.discard(chat)
        await bucket.take()
        await self._global.take()
        head = items[0].payload
        if isinstance(head, TelegramDocument):
            await self._sent(
                chat,
                self.bot.send_document(
                    document=head.data,
                    filename=head.file_name,
                    caption=head.caption,
                    **where(chat),
                ),
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
        if not head.author or sent is None:
            return Sent(len(batch))
        posted = Posted(Network.TELEGRAM, chat, str(sent), head.author, head.text)
        return Sent(len(batch), posted)

    async def _send_html(self, chat: str, text: str) -> int | None:
        """sendMessage, posted by hand; returns the message id. PTB's send_message builds
        and then parses whole objects (~0.2 ms of an idle message's path, issue 12) where
        only the id is needed; PTB's request still maps every error."""
        params = {
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": NO_PREVIEW,
            **where(chat),
        }
        url = f"{self.bot.base_url}/sendMessage"
        result = await self._sent(
            chat, self.bot.request.post(url, request_data=request_data(params))
        )
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return message_id if isinstance(message_id, int) else None


def where(chat: str) -> dict[str, Any]:
    """chat_id, and message_thread_id for a topic (never for General: it is the group)."""
    group, topic = split_telegram_chat(chat)
    if topic is None:
        return {"chat_id": int(group)}
    return {"chat_id": int(group), "message_thread_id": topic}
