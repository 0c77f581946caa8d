"""The Telegram connector: logs in, polls updates into the router, answers questions about
chats, and hands the outbox its delivery side.

Logging in is part of run(), retried while Telegram is unreachable, so a Telegram outage at
start-up neither holds the IRC side back nor keeps SIGTERM from stopping the bridge. Polling
(offsets, poison updates, a second instance on the token) is polling.Poller's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Sequence
from typing import Any

import httpx
import telegram
from telegram import error as tg_error

from bridge.config import TelegramConfig
from bridge.lru import Lru
from bridge.model import Message, TopicChange, TopicEvent, split_telegram_chat
from bridge.pacing import backoff_delay
from bridge.sending import Progress, Queued, Sent
from bridge.telegram.delivery import TelegramDelivery
from bridge.telegram.files import TelegramFiles
from bridge.telegram.http import AiohttpRequest, bot_of_its_own
from bridge.telegram.inbound import decode, group_title, translate
from bridge.telegram.membership import Membership
from bridge.telegram.menu import publish_menu
from bridge.telegram.plain import plain_text
from bridge.telegram.polling import (
    TOKEN_REJECTED,
    FatalTelegramError,
    OnMessage,
    Poller,
    SetAside,
)
from bridge.telegram.reactions import CUSTOM_EMOJI_KEPT, learn_custom_emoji, reaction_of

log = logging.getLogger(__name__)

__all__ = ["FatalTelegramError", "OnMessage", "SetAside", "TelegramConnector"]

GROUPS_MAX = 1_000
LOOKUP_CONNECTIONS = 8
"""Lookups at once (getChatMember, getChatAdministrators, getChat): as many as commands may
run (roster.commands_in_flight, 8 by default); more wait for a connection, beside the relay."""
"""Groups whose title and administrators are kept: anyone may add the bot to groups, and
those written in least recently are forgotten first (a bridged group's title is read again
with its next message)."""


class _AnsweredRequest(AiohttpRequest):
    """The polling request, noting when Telegram last answered it: a poll hung for longer
    than its timeout is a problem the poller's own state cannot show."""

    answered_at: float | None = None
    """time.monotonic() of the last answer, or of the first question until it is answered."""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if self.answered_at is None:
            self.answered_at = time.monotonic()
        result = await super().do_request(*args, **kwargs)
        self.answered_at = time.monotonic()
        return result


class TelegramConnector:
    """Long-polls updates into the router and delivers queued payloads (a Sender)."""

    def __init__(self, config: TelegramConfig) -> None:
        self.config = config
        # One TLS context for the three clients: each would load the CA bundle (~50 ms).
        tls = httpx.create_ssl_context()
        self._poll_request = _AnsweredRequest(
            ssl_context=tls,
            connection_pool_size=1,
            read_timeout=config.poll_timeout + config.request_timeout,
            connect_timeout=config.request_timeout,
        )
        self._request = AiohttpRequest(
            ssl_context=tls,
            connection_pool_size=16,
            read_timeout=config.request_timeout,
            write_timeout=config.request_timeout,
            connect_timeout=config.request_timeout,
            media_write_timeout=max(60.0, config.request_timeout),
        )
        self.bot = telegram.Bot(
            config.token,
            base_url=config.api_url,
            base_file_url=config.file_url,
            request=self._request,
            get_updates_request=self._poll_request,
        )
        self.titles: Lru[str, str] = Lru(GROUPS_MAX)
        """Titles of the groups the bot has seen, by chat id (for /names)."""
        self._custom_emoji: Lru[str, str] = Lru(CUSTOM_EMOJI_KEPT)
        """Custom emoji id → the emoji it stands for, learned from messages (reactions)."""
        self.bot_id: int | None = None
        self.username = ""
        self._login_state = "starting"
        self._ready = asyncio.Event()
        self._delivery = TelegramDelivery(self.bot, config, self._ready)
        self._admins: Lru[str, tuple[float, frozenset[int]]] = Lru(GROUPS_MAX)
        # Lookups (who is a member, an administrator; a group's title and size) wait on
        # Telegram for commands, never for the relay: a client of their own, so a slow
        # lookup never holds a connection a sendMessage waits for.
        self._lookup_request, self._lookups = bot_of_its_own(config, tls, LOOKUP_CONNECTIONS)
        self._membership = Membership(self._lookups)
        self._poller = Poller(self.bot, self._poll_request, config, self._parse)
        self.files = TelegramFiles(config, tls)
        """Bytes of media for the web face's links, on a client of their own (the token
        stays in there)."""

    # --------------------------------------------------------------- start / poll

    @property
    def polled_at(self) -> float | None:
        """time.monotonic() when getUpdates last answered, or polling began (for /healthz);
        None before the first poll."""
        return self._poll_request.answered_at

    @property
    def outages(self) -> int:
        """Times polling was lost and came back."""
        return self._poller.outages

    @property
    def connection_state(self) -> str:
        """starting | unreachable (not logged in yet) | ready | retrying (for `status`)."""
        return self._poller.state if self._ready.is_set() else self._login_state

    async def start(self) -> None:
        """getMe until it answers: a bad token is fatal, a network fault is retried with
        backoff (cancellable at any moment)."""
        attempt = 0
        while not self._ready.is_set():
            try:
                await self.bot.initialize()
                await self._lookup_request.initialize()
                me = await self.bot.get_me()
            except (tg_error.InvalidToken, tg_error.Forbidden):
                raise FatalTelegramError(TOKEN_REJECTED) from None
            except tg_error.TelegramError as exc:
                delay = backoff_delay(attempt, random.random())
                attempt += 1
                self._login_state = "unreachable"
                log.warning("Telegram unreachable (%s); retrying in %.0fs", exc, delay)
                await asyncio.sleep(delay)
                continue
            self.bot_id = me.id
            self.username = me.username or ""
            self._ready.set()
            log.info("Telegram: logged in as @%s", self.username)

    async def wait_logged_in(self) -> None:
        await self._ready.wait()

    async def publish_menu(
        self, commands: Sequence[tuple[str, str]], default_language: str
    ) -> None:
        """Telegram's command menu in every shipped language, once logged in (menu.py)."""
        await self._ready.wait()
        await publish_menu(self.bot, commands, default_language)

    async def run(self, on_message: OnMessage, set_aside: SetAside) -> None:
        """Log in, then poll until cancelled; each update goes to on_message and is
        confirmed once handled, or once set_aside kept it when handling it raised."""
        await self.start()
        await self._poller.run(on_message, set_aside)

    def _parse(self, raw: dict[str, Any]) -> Message | None:
        plain = plain_text(raw)
        if plain is not None:
            if plain.chat.title:
                self.titles[plain.chat.chat_id] = plain.chat.title
            return plain
        update = decode(raw, self.bot)
        if update is None:
            return None
        if update.message_reaction is not None:
            return reaction_of(update, self._custom_emoji)
        titled = group_title(update)
        if titled is not None:
            self.titles[titled[0]] = titled[1]
        learn_custom_emoji(update, self._custom_emoji)
        message = translate(update, self.bot_id)
        if (
            message is not None
            and isinstance(message.detail, TopicChange)
            and message.detail.event is TopicEvent.REOPENED
        ):
            self._delivery.topic_reopened(message.chat.chat_id)  # what waits may go now
        return message

    async def confirm(self, timeout: float = 3.0) -> None:
        """Confirm the updates already handled (bounded), once polling has stopped."""
        await self._poller.confirm(timeout)

    async def close(self) -> None:
        """Close the HTTP clients, after the last delivery."""
        with contextlib.suppress(tg_error.TelegramError):
            await self.bot.shutdown()
        # Bot.shutdown() closes nothing when the stop cut its initialize() off after the
        # clients were opened and before it noted them open (a stop during the login):
        # each client closes itself (idempotent), or its session is left to the GC.
        await self._request.shutdown()
        await self._poll_request.shutdown()
        await self._lookup_request.shutdown()
        await self.files.close()

    # ------------------------------------------------------- delivery (a Sender)

    @property
    def unavailable_topics(self) -> dict[str, str]:
        """Forum topics whose messages wait: closed or deleted (for `status`)."""
        return self._delivery.unavailable_topics

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
            info = await self._lookups.get_chat(chat)
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
            return await self._lookups.get_chat_member_count(int(split_telegram_chat(chat)[0]))
        except tg_error.TelegramError:
            return None

    async def admin_ids(self, chat: str, max_age: float = 600.0) -> frozenset[int]:
        """The group's administrators, cached for max_age seconds (a topic's are its
        group's)."""
        chat = split_telegram_chat(chat)[0]
        cached = self._admins.get(chat)
        if cached is not None and time.monotonic() - cached[0] < max_age:
            return cached[1]
        try:
            admins = await self._lookups.get_chat_administrators(int(chat))
        except tg_error.TelegramError as exc:
            log.info("Telegram: cannot list administrators of %s: %s", chat, exc)
            return cached[1] if cached else frozenset()
        ids = frozenset(a.user.id for a in admins)
        self._admins[chat] = (time.monotonic(), ids)
        return ids

    async def is_member(self, chat: str, user_id: str) -> bool:
        """Whether the user is in the group now (for who may see the roster privately)."""
        return await self._membership.is_member(chat, user_id)
