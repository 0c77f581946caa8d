"""Who a person is: IRC identity keys ("account:", "mask:"), the account to believe for
an IRC line, and whom a per-person limit counts.

A Telegram user is their numeric id. An IRC user is their services account when the server
said so, else their nick!user@host, which proves nothing (anyone can take a nick, and a
mask only narrows it down). Every key an IRC author or a roster identity uses is built by
irc_key() and read back by parse_irc_key(); the prefixes are spelt by ACCOUNT_PREFIX and
MASK_PREFIX.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bridge.model import Author, Network, UserId

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


def account_now(*, tagged: bool, tag: str | None, seen: str | None) -> str | None:
    """The services account to believe for one IRC line, from the server's word only.

    With account-tag negotiated the server tags every line of a logged-in user, so a line
    without the tag is from someone logged out, whatever was known of the nick before.
    Without it, what the bot saw of that connection (seen: extended-join, account-notify,
    WHOIS), which it keeps only while it shares a channel with it; else nothing.
    """
    return (tag or None) if tagged else seen


def limit_key(author: Author) -> tuple[str, str]:
    """Whom a per-person limit counts: a Telegram user (or the chat they post as), an IRC
    services account, else the IRC connection's user@host. The nick is left out, so an
    unregistered IRC user cannot start afresh by changing nick.

    >>> limit_key(Author(Network.IRC, UserId("mask:a!u@h"), "a", "a", mask="a!u@h"))
    ('irc', 'host:u@h')
    >>> limit_key(Author(Network.IRC, UserId("account:bob"), "b", "b", account="bob"))
    ('irc', 'account:bob')
    """
    if author.network is Network.TELEGRAM:
        return (author.network.value, str(author.posted_as or author.user_id))
    if author.account:
        return (author.network.value, ACCOUNT_PREFIX + author.account)
    nick, bang, user_host = (author.mask or "").partition("!")
    return (author.network.value, "host:" + user_host if bang else "nick:" + (author.nick or nick))
