"""Who holds an IRC nick now, and with which services account: the bot's own view, else WHOIS.

An account is believed from the server's word about the very line (account-tag), or from what
the bot saw of a connection it shares a channel with (channels.ChannelState). Anything else is
asked again: a WHOIS before a command, whose answer also names the connection (311), so a nick
that changed hands between the command and the answer grants nothing. Where account-tag is
negotiated a line without the tag is from someone logged out, and nothing is asked.

Lookups are paced twice: their own small budget (a crowd of strangers cannot make the bot
flood the server with WHOIS) and then the server's line budget behind relayed lines.
Concurrent lookups of one nick share one question.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from bridge.identity import irc_key
from bridge.irc.caps import CapNegotiation
from bridge.irc.channels import ChannelState, same_mask
from bridge.irc.lanes import Lane, LineBudget
from bridge.irc.link import Handlers, Link
from bridge.model import Author
from bridge.pacing import TokenBucket

log = logging.getLogger(__name__)

LOOKUP_BURST = 3
LOOKUP_RATE = 0.5
"""WHOIS lookups: LOOKUP_BURST at once, then one every 2 s at most (and only when the relay
leaves room), however many people ask."""
WHOIS_COST = 2
"""Tokens of the line budget one WHOIS costs: InspIRCd counts it as two commands."""
ANSWER_TIMEOUT = 5.0
"""From the WHOIS written to its end (318)."""
LOOKUP_TIMEOUT = 60.0
"""From asking to the answer, waiting for the budgets included."""


class LookupFailed(Exception):
    """No answer from the server (timeout, or the connection was lost)."""


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a nick, as WHOIS said: the connection and its services account."""

    mask: str
    account: str | None


async def believe(
    author: Author,
    *,
    account_tag: bool,
    seen: Holder | None,
    ask: Callable[[str], Awaitable[Holder | None]],
) -> Author:
    """The trust rule: author with the services account the server vouches for now, if any.

    The line's own account stands. Where account-tag is negotiated, an untagged line is from
    someone logged out. Else what the bot saw of the connection (seen: its mask and known
    account) serves when it is the author's connection; otherwise the server is asked (a
    WHOIS), and its answer counts only for the same connection. None grants nothing."""
    if author.account is not None or account_tag:
        return author
    mask = author.mask or ""
    same_seen = seen is not None and same_mask(seen.mask, mask)
    holder = seen if same_seen else await ask(author.nick or "")
    if holder is None or holder.account is None or not same_mask(holder.mask, mask):
        return author
    return replace(author, account=holder.account, user_id=irc_key(holder.account, mask))


class Accounts:
    """The accounts the bot may believe, and WHOIS lookups (one future per nick in flight)."""

    def __init__(
        self, link: Link, channels: ChannelState, caps: CapNegotiation, budget: LineBudget
    ) -> None:
        self._link = link
        self._channels = channels
        self._caps = caps
        self._budget = budget
        self._own = TokenBucket(LOOKUP_BURST, LOOKUP_RATE)
        self._pending: dict[str, asyncio.Future[Holder | None]] = {}
        self._found: dict[str, Holder] = {}  # 311 / 330 seen, until the end of WHOIS

    def account_of(self, nick: str) -> str | None:
        """The account the bot believes for a nick it sees now (no lookup)."""
        return self._channels.account(nick)

    async def identify(self, author: Author) -> Author:
        """author with the services account the server vouches for now, if any: from the
        line's tag or the bot's own view when it has one, else asked (WHOIS). A lookup that
        fails, or answers for another connection, grants nothing."""
        nick = author.nick or ""
        mask = self._channels.mask_of(nick)
        known = mask is not None and self._channels.knows_account(nick)
        seen = Holder(mask, self._channels.account(nick)) if known and mask else None
        tagged = "account-tag" in self._caps.enabled
        return await believe(author, account_tag=tagged, seen=seen, ask=self._ask)

    async def _ask(self, nick: str) -> Holder | None:
        try:
            return await self.lookup(nick)
        except LookupFailed:
            log.warning("IRC: no WHOIS answer for %s; treating them as logged out", nick)
            return None

    async def lookup(self, nick: str) -> Holder | None:
        """Who holds nick now (None: nobody); raises LookupFailed without an answer."""
        key = self._link.fold(nick)
        shared = self._pending.get(key)
        if shared is not None:
            return await self._outcome(shared, LOOKUP_TIMEOUT)
        future: asyncio.Future[Holder | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            try:
                async with asyncio.timeout(LOOKUP_TIMEOUT):
                    await self._own.take()
                    await self._budget.take_for(Lane.LOOKUP, WHOIS_COST)
            except TimeoutError:
                raise LookupFailed(f"no turn to ask WHOIS {nick}") from None
            if not self._link.usable():
                raise LookupFailed("not connected")
            try:
                self._link.conn.whois(nick)
            except Exception as exc:
                raise LookupFailed(f"could not send WHOIS {nick}") from exc
            return await self._outcome(future, ANSWER_TIMEOUT)
        finally:
            if self._pending.get(key) is future:
                del self._pending[key]
            if not future.done():
                future.set_exception(LookupFailed(f"no answer to WHOIS {nick}"))
                future.exception()  # retrieved: the other askers may have given up

    @staticmethod
    async def _outcome(future: asyncio.Future[Holder | None], timeout: float) -> Holder | None:
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise LookupFailed("no WHOIS answer in time") from None

    def fail_pending(self) -> None:
        """The connection is lost: no answer will come; the askers are told so."""
        for future in self._pending.values():
            if not future.done():
                future.set_exception(LookupFailed("IRC connection lost"))
                future.exception()
        self._pending.clear()
        self._found.clear()

    def handlers(self) -> Handlers:
        return {
            "whoisuser": self._on_whois_user,
            "whoisaccount": self._on_whois_account,
            "endofwhois": self._on_end_of_whois,
        }

    def _on_whois_user(self, conn: Any, event: Any) -> None:
        if len(event.arguments) >= 3:
            nick, user, host = event.arguments[:3]
            self._found[self._link.fold(nick)] = Holder(f"{nick}!{user}@{host}", None)

    def _on_whois_account(self, conn: Any, event: Any) -> None:
        key = self._link.fold(event.arguments[0]) if event.arguments else ""
        holder = self._found.get(key)
        if holder is not None and len(event.arguments) >= 2:
            self._found[key] = replace(holder, account=event.arguments[1])

    def _on_end_of_whois(self, conn: Any, event: Any) -> None:
        nick = event.arguments[0] if event.arguments else ""
        key = self._link.fold(nick)
        holder = self._found.pop(key, None)  # None: 401, nobody holds the nick
        if holder is not None:  # kept only for a nick the bot sees (see ChannelState)
            self._channels.note_mask(holder.mask)
            self._channels.set_account(nick, holder.account)
        future = self._pending.pop(key, None)
        if future is not None and not future.done():
            future.set_result(holder)
