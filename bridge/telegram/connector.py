"""The Telegram connector: logs in, polls updates into the router, answers questions about
chats, and hands the outbox its delivery side.

It drives getUpdates itself so the offset moves past an update only after the router has
stored what the update asks for (at-least-once intake, de-duplicated by the outbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import telegram
from telegram import error as tg_error
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bridge.config import TelegramConfig
from bridge.model import Message
from bridge.outbox import Progress, Queued, Sent
from bridge.pacing import backoff_delay
from bridge.telegram.delivery import TelegramDelivery, seconds
from bridge.telegram.inbound import decode, group_title, translate

log = logging.getLogger(__name__)

OnMessage = Callable[[Message], Awaitable[None]]
"""The router's entry point: returns once what the message asks for is stored durably."""
ALLOWED_UPDATES = ["message", "edited_message"]
TOKEN_REJECTED = "telegram.token: rejected by the Bot API (Unauthorized); check the token"


class FatalTelegramError(Exception):
    """Telegram refuses the bot itself (bad token): retrying cannot help."""


class TelegramConnector:
    """Long-polls updates into the router and delivers queued payloads (a Sender)."""

    def __init__(self, config: TelegramConfig) -> None:
        self.config = config
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
        self._delivery = TelegramDelivery(self.bot, config, self._ready)
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

    async def run(self, on_message: OnMessage) -> None:
        """Poll until cancelled; each update is handed to on_message before it is confirmed."""
        await self._ready.wait()
        failures = 0
        while True:
            try:
                raw_updates = await self._fetch_updates()
            except tg_error.RetryAfter as exc:
                await asyncio.sleep(seconds(exc.retry_after))
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
                    await on_message(message)
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
        update = decode(raw, self.bot)
        if update is None:
            return None
        titled = group_title(update)
        if titled is not None:
            self.titles[titled[0]] = titled[1]
        return translate(update, self.bot_id)

    async def stop(self) -> None:
        """Confirm the updates already handled, then close the HTTP clients."""
        if self._offset:
            with contextlib.suppress(TimeoutError, tg_error.TelegramError):
                await asyncio.wait_for(
                    self.bot.get_updates(offset=self._offset, timeout=0, limit=1), timeout=3
                )
        with contextlib.suppress(tg_error.TelegramError):
            await self.bot.shutdown()

    # ------------------------------------------------------- delivery (a Sender)

    async def wait_ready(self, chat: str) -> None:
        """Logged in, and the chat's pace allows a message now."""
        await self._delivery.wait_ready(chat)

    async def deliver(self, chat: str, items: list[Queued], progress: Progress) -> Sent:
        """Send the head item of chat's queue, merged with what may join it."""
        return await self._delivery.deliver(chat, items, progress)

    # ---------------------------------------------------------------- chat info

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
