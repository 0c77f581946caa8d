"""The server connection of the moment, which every part of the IRC connector writes
through, and the shape of the event handlers each part offers.

The library's connection object only exists once ``run()`` has a loop, and the same object
reconnects after an outage; the parts reach it here instead of holding it themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from bridge.casemap import Fold, irc_casefold

Handler = Callable[[Any, Any], None]
"""An IRC event handler: (library connection, library event); synchronous, never raises."""
Handlers = Mapping[str, Handler]
"""Event type → handler: what a part answers (see inbound.EventTable)."""


class Link:
    """The library connection, whether the server registered us, and a change signal."""

    def __init__(self, configured_nick: str, fold: Fold = irc_casefold) -> None:
        self.conn: Any = None
        self.fold = fold
        """The server's case rule (the connector's ServerRules.fold): every part compares
        nicks and channels with it."""
        self.registered = False
        self.state = "starting"
        """starting | connecting | ready (registered, joins queued) | disconnected"""
        self._configured_nick = configured_nick
        self._changed = asyncio.Event()
        self.changes = 0
        """How many changes so far: a waiter that awaited something else since it last looked
        passes the count it saw to wait_changed(), so a change meanwhile is not missed."""

    @property
    def nick(self) -> str:
        """The nick the server knows us by now (the library follows our NICK changes)."""
        return str(self.conn.real_nickname) if self.conn is not None else self._configured_nick

    def is_me(self, nick: str) -> bool:
        return self.fold(nick) == self.fold(self.nick)

    def usable(self) -> bool:
        """Registered and still connected: lines and commands may be written."""
        return self.registered and self.conn is not None and bool(self.conn.connected)

    def mark_changed(self) -> None:
        """Wake whoever waits for the connection to change (connected, joined, lost)."""
        self.changes += 1
        self._changed.set()

    async def wait_changed(self, after: int | None = None) -> None:
        """Return at the next change; at once if there were changes since `after` (a value
        of `changes` read before)."""
        if after is not None and after != self.changes:
            return
        self._changed.clear()
        await self._changed.wait()
