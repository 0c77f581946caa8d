"""What the bridge knows about IRC channels: who is in them and which accounts they use.

Kept apart from the connector so it stays pure and testable: the connector feeds it
events, the router asks it questions (anti-highlight, /names, identities).
"""

from __future__ import annotations

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\~"
_LOWER = "abcdefghijklmnopqrstuvwxyz{}|^"
_FOLD = str.maketrans(_UPPER, _LOWER)
NICK_PREFIXES = "~&@%+!"


def irc_lower(text: str) -> str:
    """RFC 1459 casemapping, the default of most servers (Libera.Chat included)."""
    return text.translate(_FOLD)


class ChannelState:
    """Channel membership and known services accounts, keyed by casefolded names."""

    def __init__(self) -> None:
        self._members: dict[str, dict[str, str]] = {}
        self._accounts: dict[str, str | None] = {}

    def reset(self) -> None:
        """Forget everything (after a disconnect the server will tell us again)."""
        self._members.clear()
        self._accounts.clear()

    def nicks(self, channel: str) -> list[str]:
        return sorted(self._members.get(irc_lower(channel), {}).values(), key=irc_lower)

    def has_nick(self, channel: str, nick: str) -> bool:
        return irc_lower(nick) in self._members.get(irc_lower(channel), {})

    def channels_of(self, nick: str) -> list[str]:
        key = irc_lower(nick)
        return [chan for chan, members in self._members.items() if key in members]

    def add(self, channel: str, nick: str) -> None:
        self._members.setdefault(irc_lower(channel), {})[irc_lower(nick)] = nick

    def add_names(self, channel: str, names: str) -> None:
        """Load a RPL_NAMREPLY list ("@op +voiced plain")."""
        for name in names.split():
            nick = name.lstrip(NICK_PREFIXES).split("!", 1)[0]
            if nick:
                self.add(channel, nick)

    def remove(self, channel: str, nick: str) -> None:
        self._members.get(irc_lower(channel), {}).pop(irc_lower(nick), None)

    def drop_channel(self, channel: str) -> None:
        self._members.pop(irc_lower(channel), None)

    def quit(self, nick: str) -> list[str]:
        """Remove nick everywhere; returns the channels it was in."""
        channels = self.channels_of(nick)
        for chan in channels:
            self.remove(chan, nick)
        self._accounts.pop(irc_lower(nick), None)
        return channels

    def rename(self, old: str, new: str) -> list[str]:
        """Follow a nick change; returns the channels the user is in."""
        channels = self.channels_of(old)
        for chan in channels:
            self.remove(chan, old)
            self.add(chan, new)
        account = self._accounts.pop(irc_lower(old), None)
        if account is not None:
            self._accounts[irc_lower(new)] = account
        return channels

    def set_account(self, nick: str, account: str | None) -> None:
        """account-notify / extended-join / WHOIS 330; "*" or None means logged out."""
        self._accounts[irc_lower(nick)] = None if account in (None, "*", "") else account

    def account(self, nick: str) -> str | None:
        return self._accounts.get(irc_lower(nick))

    def knows_account(self, nick: str) -> bool:
        return irc_lower(nick) in self._accounts
