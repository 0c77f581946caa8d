"""GET /healthz: 200 when the bridge does its job, 503 naming what is wrong.

Healthy means: every bridged IRC channel joined, Telegram's getUpdates answered recently,
and no queued message older than five minutes. The parts are read at request time through
the small views below, so this module knows neither connector.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from bridge.model import Network

MAX_QUEUE_AGE = 300.0
"""A message waiting longer than this means a destination is stuck."""


PRIVATE = "private"
"""The chat label of every destination that is a person: a Telegram private chat (its id is
the user's), an IRC nick."""
IRC_CHANNEL_PREFIXES = ("#", "&", "+", "!")


def chat_label(network: str, chat: str) -> str:
    """A group, forum topic or channel as it is; anything else is a person: PRIVATE."""
    if network == Network.TELEGRAM and chat.startswith("-"):  # groups and channels are negative
        return chat
    if network == Network.IRC and chat.startswith(IRC_CHANNEL_PREFIXES):
        return chat
    return PRIVATE


class IrcView(Protocol):
    @property
    def connection_state(self) -> str: ...

    def channel_status(self) -> dict[str, str]: ...


class TelegramView(Protocol):
    @property
    def connection_state(self) -> str: ...

    @property
    def polled_at(self) -> float | None: ...


class QueueRow(Protocol):
    @property
    def network(self) -> str: ...
    @property
    def chat(self) -> str: ...
    @property
    def depth(self) -> int: ...
    @property
    def oldest_created_at(self) -> float: ...


class QueueView(Protocol):
    async def stats(self) -> Sequence[QueueRow]: ...


@dataclass(frozen=True, slots=True)
class HealthParts:
    irc: IrcView
    telegram: TelegramView
    queues: QueueView
    poll_window: float
    """Seconds without an answer to getUpdates that still count as polling."""
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic


async def check(parts: HealthParts) -> tuple[bool, dict[str, object]]:
    """(healthy, the JSON body)."""
    reasons: list[str] = []
    if parts.irc.connection_state != "ready":
        reasons.append(f"irc: {parts.irc.connection_state}")
    for channel, status in parts.irc.channel_status().items():
        if status != "joined":
            reasons.append(f"irc: {channel} not joined ({status})")
    tg_state = parts.telegram.connection_state
    if tg_state != "ready":
        reasons.append(f"telegram: {tg_state}")
    polled = parts.telegram.polled_at
    since = None if polled is None else parts.monotonic() - polled
    if tg_state == "ready" and (since is None or since > parts.poll_window):
        reasons.append(
            "telegram: getUpdates has not answered" + (f" for {since:.0f}s" if since else "")
        )
    now = parts.clock()
    oldest = 0.0
    for row in await parts.queues.stats():
        age = max(0.0, now - row.oldest_created_at)
        oldest = max(oldest, age)
        if age > MAX_QUEUE_AGE:
            where = chat_label(row.network, row.chat)  # a person's queue names nobody
            reasons.append(f"queue {row.network} {where}: oldest message waiting {age:.0f}s")
    body: dict[str, object] = {
        "status": "unhealthy" if reasons else "ok",
        Network.IRC: parts.irc.connection_state,
        Network.TELEGRAM: tg_state,
        "oldest_queued_seconds": round(oldest, 1),
    }
    if reasons:
        body["reasons"] = reasons
    return not reasons, body


def add_health(app: web.Application, parts: HealthParts) -> None:
    async def healthz(request: web.Request) -> web.Response:
        healthy, body = await check(parts)
        return web.Response(
            status=200 if healthy else 503,
            text=json.dumps(body),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    app.router.add_get("/healthz", healthz)
