"""Where a private line to a roster identity may go on IRC now, and the line itself.

/ask's questions and the freshness nudges go to a member unasked, so they follow the rule of
every private answer: to the exact nick!user@host the member is known by, or to the nick that
holds their services account now, and only while that person is on a bridged channel. The
bot looks nothing up for it; it asks what the IRC connection already sees.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Protocol

from bridge.commands import irc_lines
from bridge.identity import IrcKeyKind, parse_irc_key
from bridge.model import Network
from bridge.outbox import NewItem
from bridge.payloads import IrcLines
from bridge.sending import Outgoing
from storage.roster_model import Identity


class IrcView(Protocol):
    """What is asked of the IRC connection: who is where now, as whom (no lookups)."""

    def folded_nicks(self, channel: str) -> AbstractSet[str]: ...

    def casefold(self, text: str) -> str: ...

    def account_of(self, nick: str) -> str | None: ...

    def mask_of(self, nick: str) -> str | None: ...

    def payload_budget(self, target: str, *, action: bool = False) -> int: ...


@dataclass(frozen=True, slots=True)
class IrcRoute:
    """A private IRC message's address: the nick, only for this nick!user@host."""

    nick: str
    mask: str


def channel_of(irc: IrcView, channels: Iterable[str], nick: str) -> str | None:
    """The first of channels nick is on now, as the bot sees it."""
    folded = irc.casefold(nick)
    return next((c for c in channels if folded in irc.folded_nicks(c)), None)


def route_to(irc: IrcView, channels: Iterable[str], identity: Identity) -> IrcRoute | None:
    """Where a private line for this IRC identity may go now, or None (not on a bridged
    channel, or the nick is someone else's now)."""
    key = parse_irc_key(identity.key)
    if key.kind is IrcKeyKind.MASK:
        nick, mask = key.value.partition("!")[0], key.value
        if not _holds(irc, nick, mask):
            return None
    else:
        nick = identity.handle or ""
        account = irc.account_of(nick) if nick else None
        if account is None or account.casefold() != key.value.casefold():
            return None
        mask = irc.mask_of(nick) or ""
    if nick and "!" in mask and channel_of(irc, channels, nick) is not None:
        return IrcRoute(nick, mask)
    return None


def _holds(irc: IrcView, nick: str, mask: str) -> bool:
    """Whether nick is held by mask as far as the bot sees (true when it has not learned the
    nick's mask: the delivery asks the server then); a line for another holder would be
    dropped by the delivery, and the message lost."""
    current = irc.mask_of(nick)
    return current is None or irc.casefold(current) == irc.casefold(mask)


def private_lines(irc: IrcView, route: IrcRoute, text: str, kind: str) -> list[Outgoing]:
    """text as private lines for route, queued under a source id of their own (kind: "ask",
    "nudge"), delivered only while route.mask holds the nick."""
    lines = tuple(irc_lines(text, irc.payload_budget(route.nick)))
    payload = IrcLines(lines, recipient=route.mask)
    return [NewItem(Network.IRC, route.nick, f"{kind}:{uuid.uuid4().hex}", "reply", payload)]
