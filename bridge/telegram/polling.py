"""Telegram intake: getUpdates driven by hand, so the offset moves past an update only once it
is handled (the router stored what it asks for) or set aside (handling it raised).

One update that raises never stops the loop and is never retried for ever: it is set aside
(stored with its error, counted by `tgirc-bridge status`) and confirmed. When even that cannot
be stored (the database is unavailable), the update stays unconfirmed and is polled again
after a pause, so nothing is dropped.

A 409 Conflict means another consumer of this token: Telegram ends the older of two
overlapping long polls with "terminated by other getUpdates request". A bridge still in its
first minute of polling is the newcomer and refuses to run (exit 1, one line): it would
otherwise take every other update from the bridge that was there first and relay both ways
twice. A bridge that has been polling for longer keeps its place, retrying with backoff and
saying why at most every CONFLICT_REPEAT seconds: exiting would hand the token to whichever
instance was started by mistake, and under a restarting supervisor both would flap. A
webhook set for the token (also a 409) is fatal at any time: polling cannot work until the
operator removes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import telegram
from telegram import error as tg_error
from telegram.request import BaseRequest

from bridge.config import TelegramConfig
from bridge.model import Message
from bridge.pacing import backoff_delay
from bridge.telegram.delivery import seconds
from bridge.telegram.http import request_data

log = logging.getLogger(__name__)

OnMessage = Callable[[Message], Awaitable[None]]
"""The router's entry point: returns once what the message asks for is stored durably."""
SetAside = Callable[[str, str, Exception], Awaitable[None]]
"""(update id, the update as JSON, the error) → kept for a person to look at; raises when it
cannot be kept (the update is then polled again later)."""
Parse = Callable[[dict[str, Any]], Message | None]

ALLOWED_UPDATES = ["message", "edited_message", "message_reaction"]
PAGE = 100
"""getUpdates' default (and largest) limit: a shorter answer held every pending update."""
TOKEN_REJECTED = "telegram.token: rejected by the Bot API (Unauthorized); check the token"
TOKEN_IN_USE = (
    "telegram.token: another bridge or bot is polling Telegram with this token "
    "(getUpdates: 409 Conflict, {detail}); run one instance per bot token"
)
WEBHOOK_SET = (
    "telegram.token: a webhook is set for this bot, so it cannot poll "
    "(getUpdates: 409 Conflict, {detail}); remove it with deleteWebhook"
)
STARTUP_WINDOW = 60.0
"""A conflict this soon after polling began means this instance is the newcomer."""
CONFLICT_REPEAT = 600.0
"""While conflicts go on, the error is repeated at most this often."""


class FatalTelegramError(Exception):
    """Telegram refuses the bot itself (bad token, token in use): retrying cannot help."""


class Poller:
    """Long-polls getUpdates and hands each update to the router, confirming it afterwards."""

    def __init__(
        self, bot: telegram.Bot, request: BaseRequest, config: TelegramConfig, parse: Parse
    ) -> None:
        self._bot = bot
        self._request = request
        self._config = config
        self._parse = parse
        self.offset = 0
        self.state = "ready"
        """ready | retrying (for `tgirc-bridge status`)."""
        self.outages = 0
        """Times polling failed and then answered again (the Telegram side's reconnects, for
        /metrics)."""
        self._conflict_logged_at: float | None = None

    async def run(self, on_message: OnMessage, set_aside: SetAside) -> None:
        """Poll until cancelled; an update is confirmed once handled or set aside."""
        started = time.monotonic()
        failures = 0
        # Until an answer held every update Telegram kept, any of them may be one a previous
        # run handled without confirming: marked, it is de-duplicated before it is sent.
        replay_possible = True
        while True:
            try:
                raw_updates = await self._fetch()
            except tg_error.RetryAfter as exc:
                await asyncio.sleep(seconds(exc.retry_after))
                continue
            except (tg_error.InvalidToken, tg_error.Forbidden):
                raise FatalTelegramError(TOKEN_REJECTED) from None
            except tg_error.TelegramError as exc:
                if isinstance(exc, tg_error.Conflict):
                    self._conflict(exc, time.monotonic() - started)
                elif failures == 0:
                    log.warning("Telegram: polling failed (%s); backing off", exc)
                failures += 1
                self.state = "retrying"
                await asyncio.sleep(backoff_delay(failures, random.random()))
                continue
            if failures:
                log.info("Telegram: polling recovered after %d failures", failures)
                failures = 0
                if self.state == "retrying":
                    self.outages += 1
                self.state = "ready"
            for raw in raw_updates:
                taken = await self._take(raw, on_message, set_aside, replay_possible)
                if not taken:
                    failures += 1
                    await asyncio.sleep(backoff_delay(failures, random.random()))
                    break
                self.offset = int(raw["update_id"]) + 1
            if len(raw_updates) < PAGE:
                replay_possible = False
            if raw_updates:
                await asyncio.sleep(0)  # let the outbox write what we queued before re-polling

    async def _take(
        self,
        raw: dict[str, Any],
        on_message: OnMessage,
        set_aside: SetAside,
        replay_possible: bool = False,
    ) -> bool:
        """Handle one update; True once it is handled or set aside (it may be confirmed).
        replay_possible: a previous run may have handled it (Message.replay_possible)."""
        update_id = str(raw.get("update_id"))
        try:
            message = self._parse(raw)
            if message is not None:
                if replay_possible:
                    message = dataclasses.replace(message, replay_possible=True)
                await on_message(message)
            return True
        except Exception as exc:
            log.error("Telegram: update %s could not be handled", update_id, exc_info=True)
            failure = exc
        try:
            await set_aside(update_id, json.dumps(raw, ensure_ascii=False), failure)
        except Exception as exc:
            log.warning("Telegram: update %s is kept to be tried again (%s)", update_id, exc)
            return False
        return True

    def _conflict(self, exc: tg_error.Conflict, polling_for: float) -> None:
        """Refuse to run as the newcomer (or at all under a webhook); otherwise say why we
        back off, at most every CONFLICT_REPEAT seconds."""
        detail = exc.message
        if "webhook" in detail.lower():
            raise FatalTelegramError(WEBHOOK_SET.format(detail=detail))
        line = TOKEN_IN_USE.format(detail=detail)
        if polling_for < STARTUP_WINDOW:
            raise FatalTelegramError(line)
        now = time.monotonic()
        if self._conflict_logged_at is None or now - self._conflict_logged_at >= CONFLICT_REPEAT:
            self._conflict_logged_at = now
            log.error("%s; this bridge, polling for %.0fs, keeps polling", line, polling_for)

    async def _fetch(self) -> list[dict[str, Any]]:
        """getUpdates as raw JSON, so one update PTB cannot parse does not block the rest."""
        params = {"timeout": self._config.poll_timeout, "allowed_updates": ALLOWED_UPDATES}
        if self.offset:
            params["offset"] = self.offset
        result = await self._request.post(
            f"{self._bot.base_url}/getUpdates",
            request_data=request_data(params),
            read_timeout=self._config.poll_timeout + self._config.request_timeout,
        )
        return (
            [u for u in result if isinstance(u, dict) and "update_id" in u]
            if isinstance(result, list)
            else []
        )

    async def confirm(self, timeout: float) -> None:
        """Tell Telegram which updates were handled, so a restart does not get them again
        (bounded: a stopping bridge does not wait on an unreachable Telegram)."""
        if self.offset and timeout > 0:
            with contextlib.suppress(TimeoutError, tg_error.TelegramError):
                await asyncio.wait_for(
                    self._bot.get_updates(offset=self.offset, timeout=0, limit=1), timeout
                )
