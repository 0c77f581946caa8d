"""IRC identity keys: the one place that spells "account:" and "mask:".

A Telegram user is their numeric id. An IRC user is their services account when the server
said so, else their nick!user@host, which proves nothing (anyone can take a nick, and a
mask only narrows it down). Every key an IRC author, a roster identity or a moderator rule
uses is built by irc_key() and read back by parse_irc_key().
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bridge.model import UserId

ACCOUNT_PREFIX = "account:"
MASK_PREFIX = "mask:"


class IrcKeyKind(enum.StrEnum):
    ACCOUNT = "account"
    MASK = "mask"


@dataclass(frozen=True, slots=True)
class IrcKey:
    kind: IrcKeyKind
    value: str

    @property
    def verified(self) -> bool:
        return self.kind is IrcKeyKind.ACCOUNT


def irc_key(account: str | None, mask: str) -> UserId:
    """The stable key of an IRC user: the services account if known, else the mask."""
    return UserId(ACCOUNT_PREFIX + account if account else MASK_PREFIX + mask)


def parse_irc_key(key: str) -> IrcKey:
    """Read a key made by irc_key(); anything else is treated as an unverified mask."""
    if key.startswith(ACCOUNT_PREFIX):
        return IrcKey(IrcKeyKind.ACCOUNT, key.removeprefix(ACCOUNT_PREFIX))
    return IrcKey(IrcKeyKind.MASK, key.removeprefix(MASK_PREFIX))
