"""What the bridge knows about IRC channels: which ones it is in, who else is there, and
what it may believe about the people it sees.

An account is a fact about a connection now, not about a nick (DESIGN.md, "Identity and
trust"). The bot sees a connection only while it shares a channel with it: then every NICK,
PART, KICK and QUIT reaches the bot, and the nick!user@host and account it learned still
describe whoever holds the nick. Once a nick leaves the bot's sight (parts or is kicked from
the last shared channel, quits, changes nick) what was known of it is forgotten, and is
never learned for a nick the bot cannot see: the next holder of the nick is a stranger.

Kept pure and testable: the connector's inbound part feeds it events; the connector answers
questions from it (anti-highlight, /names, identities, whether a channel can be written to).
"""

from __future__ import annotations

from collections.abc import Iterator, KeysView
from collections.abc import Set as AbstractSet

from bridge.casemap import Fold, irc_casefold
from bridge.irc.isupport import ServerRules

MEMBERS_MAX = 10_000
"""Nicks tracked per channel: a flood of clones beyond it is not tracked, so costs no memory;
the bot then believes nothing about them (no account, no mask), as for any nick unseen."""
_NOBODY: dict[str, str] = {}


class ChannelState:
    """Channel membership (ours and others') and, for the nicks the bot sees, their
    nick!user@host and services account; keyed by casefolded names."""

    def __init__(self, rules: ServerRules | None = None) -> None:
        self.rules = rules or ServerRules()
        """The server's rules: its case rule folds every key, its PREFIX reads NAMES."""
        self._fold = self.rules.fold
        self._joined: set[str] = set()
        self._members: dict[str, dict[str, str]] = {}
        self._accounts: dict[str, str | None] = {}
        self._masks: dict[str, str] = {}

    def reset(self) -> None:
        """Forget everything (after a disconnect the server will tell us again)."""
        self._joined.clear()
        self._members.clear()
        self._accounts.clear()
        self._masks.clear()

    def is_joined(self, channel: str) -> bool:
        """Whether the bot is in channel now."""
        return self._fold(channel) in self._joined

    def joined(self, channel: str) -> None:
        """The server confirmed our own JOIN."""
        self._joined.add(self._fold(channel))

    def left(self, channel: str) -> None:
        """We parted or were kicked: we are out, and no longer see who is there."""
        self._joined.discard(self._fold(channel))
        for key in self._members.pop(self._fold(channel), {}):
            self._forget_unseen(key)

    def nicks(self, channel: str) -> list[str]:
        return sorted(self._members.get(self._fold(channel), {}).values(), key=self._fold)

    def folded_nicks(self, channel: str) -> KeysView[str]:
        """The nicks in channel, IRC-case-folded (the keys kept here), as a view that follows
        joins and parts while the bot is in channel: asked for every relayed message, so it
        folds and copies nothing (a channel may hold a thousand people)."""
        return self._members.get(self._fold(channel), _NOBODY).keys()

    def channels_of(self, nick: str) -> list[str]:
        key = self._fold(nick)
        return [chan for chan, members in self._members.items() if key in members]

    def sees(self, nick: str) -> bool:
        """Whether the bot shares a channel with nick now (and so sees it leave)."""
        key = self._fold(nick)
        return any(key in members for members in self._members.values())

    def add(self, channel: str, nick: str) -> None:
        members = self._members.setdefault(self._fold(channel), {})
        key = self._fold(nick)
        if len(members) < MEMBERS_MAX or key in members:
            members[key] = nick

    def add_names(self, channel: str, names: str) -> None:
        """Load a RPL_NAMREPLY list ("@op +voiced plain")."""
        for name in names.split():
            nick = self.rules.split_status(name)[1].split("!", 1)[0]
            if nick:
                self.add(channel, nick)

    def remove(self, channel: str, nick: str) -> None:
        self._members.get(self._fold(channel), {}).pop(self._fold(nick), None)
        self._forget_unseen(self._fold(nick))

    def quit(self, nick: str) -> list[str]:
        """Remove nick everywhere; returns the channels it was in."""
        channels = self.channels_of(nick)
        for chan in channels:
            self.remove(chan, nick)
        return channels

    def rename(self, old: str, new: str) -> list[str]:
        """Follow a nick change seen in a shared channel: the same connection under a new
        nick keeps its account; the old nick's next holder is someone else."""
        old_key, new_key = self._fold(old), self._fold(new)
        account_known = old_key in self._accounts
        account = self._accounts.pop(old_key, None)
        mask = self._masks.pop(old_key, None)
        channels = self.channels_of(old)
        for chan in channels:
            self.remove(chan, old)
            self.add(chan, new)
        if channels and account_known:
            self._accounts[new_key] = account
        if channels and mask is not None:
            self._masks[new_key] = f"{new}!{mask.partition('!')[2]}"
        return channels

    def set_account(self, nick: str, account: str | None) -> None:
        """account-notify / extended-join / WHOIS 330 of a nick the bot sees ("*" or None:
        logged out); ignored for a nick it does not see, which may change hands unseen."""
        if self.sees(nick):
            self._accounts[self._fold(nick)] = None if account in (None, "*", "") else account

    def account(self, nick: str) -> str | None:
        return self._accounts.get(self._fold(nick))

    def knows_account(self, nick: str) -> bool:
        return self._fold(nick) in self._accounts

    def note_mask(self, mask: str) -> None:
        """A line from nick!user@host: remembered while the bot sees that nick."""
        nick = mask.partition("!")[0]
        if "!" in mask and self.sees(nick):
            self._masks[self._fold(nick)] = mask

    def mask_of(self, nick: str) -> str | None:
        """The nick!user@host the bot sees holding nick now, when it learned it."""
        return self._masks.get(self._fold(nick))

    def _forget_unseen(self, key: str) -> None:
        if not any(key in members for members in self._members.values()):
            self._accounts.pop(key, None)
            self._masks.pop(key, None)


class AllBut(AbstractSet[str]):
    """A set of folded nicks seen without one of them (the bot's own), copying nothing."""

    def __init__(self, nicks: KeysView[str], left_out: str) -> None:
        self._nicks = nicks
        self._left_out = left_out

    def __contains__(self, nick: object) -> bool:
        return nick != self._left_out and nick in self._nicks

    def __iter__(self) -> Iterator[str]:
        return (n for n in self._nicks if n != self._left_out)

    def __len__(self) -> int:
        return len(self._nicks) - (self._left_out in self._nicks)


def same_mask(one: str, other: str, fold: Fold = irc_casefold) -> bool:
    """Whether two nick!user@host masks name the same connection as far as IRC can tell
    (fold: the server's case rule)."""
    return fold(one) == fold(other)


def split_mask(mask: str) -> tuple[str, str, str]:
    """``nick!user@host`` → (nick, user, host); missing parts are empty strings."""
    nick, _, rest = mask.partition("!")
    user, _, host = rest.rpartition("@") if "@" in rest else (rest, "", "")
    return nick, user, host


def updated_mask(
    mask: str | None,
    fallback: tuple[str, str, str],
    *,
    nick: str | None = None,
    user: str | None = None,
    host: str | None = None,
) -> str:
    """The bot's own mask after a nick/host change (396, CHGHOST, NICK).

    The line budget depends on this exact mask, so parts not named keep their learned value,
    or the (deliberately long) ``fallback`` guess when nothing was learned yet.
    """
    old = split_mask(mask) if mask else fallback
    return f"{nick or old[0]}!{user or old[1]}@{host or old[2]}"
