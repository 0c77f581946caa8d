"""Services accounts of IRC nicks: what the server told us, else asked with WHOIS.

A moderator check must not wait behind relayed lines, so WHOIS is written at once (not
paced); concurrent lookups of one nick share one question.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bridge.casemap import irc_casefold
from bridge.irc.channels import ChannelState
from bridge.irc.link import Handlers, Link


class Accounts:
    """WHOIS lookups in flight (one future per nick) and the account cache they fill."""

    def __init__(self, link: Link, channels: ChannelState) -> None:
        self._link = link
        self._channels = channels
        self._pending: dict[str, asyncio.Future[str | None]] = {}
        self._replies: dict[str, str] = {}  # WHOIS 330 seen, until its end of WHOIS

    def account_of(self, nick: str) -> str | None:
        """The account the connection knows for nick now (tags, account-notify, WHOIS)."""
        return self._channels.account(nick)

    async def resolve(self, nick: str, timeout: float = 3.0) -> str | None:
        """The nick's services account (WHOIS 330) when the server did not tag it."""
        if self._channels.knows_account(nick):
            return self._channels.account(nick)
        key = irc_casefold(nick)
        future = self._pending.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._pending[key] = future
            try:
                self._link.conn.whois(nick)
            except Exception:
                self._pending.pop(key, None)
                return None
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            self._pending.pop(key, None)
            return None

    def fail_pending(self) -> None:
        """The connection is lost: no answer will come; the askers get None."""
        for future in self._pending.values():
            if not future.done():
                future.set_result(None)
        self._pending.clear()

    def handlers(self) -> Handlers:
        return {"whoisaccount": self._on_whois_account, "endofwhois": self._on_end_of_whois}

    def _on_whois_account(self, conn: Any, event: Any) -> None:
        if len(event.arguments) >= 2:
            self._replies[irc_casefold(event.arguments[0])] = event.arguments[1]

    def _on_end_of_whois(self, conn: Any, event: Any) -> None:
        nick = event.arguments[0] if event.arguments else ""
        key = irc_casefold(nick)
        account = self._replies.pop(key, None)
        self._channels.set_account(nick, account)
        future = self._pending.pop(key, None)
        if future is not None and not future.done():
            future.set_result(account)
