"""The outbox's Telegram sender: writes queued payloads, paced within Telegram's limits.

Groups get the configured pace, private chats (command answers, /export files) one message a
second, and the bot 30 a second overall. A relayed line that had to wait for its chat's pace is
merged with the relayed lines queued behind it, so a burst from IRC costs few messages.
PTB's errors are sorted here into retry-worthy or not, the only thing the outbox asks.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
from collections.abc import Awaitable
from typing import TypeVar

import telegram
from telegram import error as tg_error

from bridge.config import TelegramConfig
from bridge.model import Posted
from bridge.outbox import PermanentError, Progress, Queued, Sent, TransientError
from bridge.pacing import TokenBucket
from bridge.payloads import TelegramDocument, TelegramHtml
from bridge.render.telegram_html import visible_length

log = logging.getLogger(__name__)

T = TypeVar("T")
TELEGRAM_LIMIT = 4096


def seconds(value: int | float | dtm.timedelta) -> float:
    """A PTB duration (a timedelta with PTB_TIMEDELTA, else a number) in seconds."""
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def classify(call: Awaitable[T]) -> T:
    """Map python-telegram-bot's errors onto retry-worthy or not, for the outbox."""
    try:
        return await call
    except tg_error.RetryAfter as exc:
        raise TransientError("Telegram flood control", seconds(exc.retry_after)) from None
    except tg_error.ChatMigrated as exc:
        raise PermanentError(
            f"group moved to chat id {exc.new_chat_id}; update the config"
        ) from None
    except (tg_error.BadRequest, tg_error.Forbidden) as exc:
        raise PermanentError(str(exc)) from None
    except tg_error.TelegramError as exc:
        raise TransientError(str(exc) or type(exc).__name__) from None


class TelegramDelivery:
    """Delivers one chat's queue head (merged when paced) for the outbox."""

    def __init__(self, bot: telegram.Bot, config: TelegramConfig, ready: asyncio.Event) -> None:
        self.bot = bot
        self.config = config
        self._ready = ready  # set once the bot is logged in
        self._buckets: dict[str, TokenBucket] = {}
        self._global = TokenBucket(30, 30.0)
        self._waited: set[str] = set()  # chats whose pace held a message back: merge

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
            await classify(
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
        return await classify(
            self.bot.send_message(
                chat_id=int(chat),
                text=text,
                parse_mode="HTML",
                link_preview_options=telegram.LinkPreviewOptions(is_disabled=True),
            )
        )
