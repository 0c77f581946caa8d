"""What the bridge knows about IRC channels: which ones it is in, who else is there, and
which services accounts they use.

Kept pure and testable: the connector's inbound part feeds it events; the connector answers
questions from it (anti-highlight, /names, identities, whether a channel can be written to).
"""

from __future__ import annotations

from bridge.casemap import irc_casefold

NICK_PREFIXES = "~&@%+!"


class ChannelState:
    """Channel membership (ours and others') and known services accounts, keyed by
    casefolded names."""

    def __init__(self) -> None:
        self._joined: set[str] = set()
        self._members: dict[str, dict[str, str]] = {}
        self._accounts: dict[str, str | None] = {}

    def reset(self) -> None:
        """Forget everything (after a disconnect the server will tell us again)."""
        self._joined.clear()
        self._members.clear()
        self._accounts.clear()

    def is_joined(self, channel: str) -> bool:
        """Whether the bot is in channel now."""
        return irc_casefold(channel) in self._joined

    def joined(self, channel: str) -> None:
        """The server confirmed our own JOIN."""
        self._joined.add(irc_casefold(channel))

    def left(self, channel: str) -> None:
        """We parted or were kicked: we are out, and no longer see who is there."""
        self._joined.discard(irc_casefold(channel))
        self._members.pop(irc_casefold(channel), None)

    def nicks(self, channel: str) -> list[str]:
        return sorted(self._members.get(irc_casefold(channel), {}).values(), key=irc_casefold)

    def channels_of(self, nick: str) -> list[str]:
        key = irc_casefold(nick)
        return [chan for chan, members in self._members.items() if key in members]

    def add(self, channel: str, nick: str) -> None:
        self._members.setdefault(irc_casefold(channel), {})[irc_casefold(nick)] = nick

    def add_names(self, channel: str, names: str) -> None:
        """Load a RPL_NAMREPLY list ("@op +voiced plain")."""
        for name in names.split():
            nick = name.lstrip(NICK_PREFIXES).split("!", 1)[0]
            if nick:
                self.add(channel, nick)

    def remove(self, channel: str, nick: str) -> None:
        self._members.get(irc_casefold(channel), {}).pop(irc_casefold(nick), None)

    def quit(self, nick: str) -> list[str]:
        """Remove nick everywhere; returns the channels it was in."""
        channels = self.channels_of(nick)
        for chan in channels:
            self.remove(chan, nick)
        self._accounts.pop(irc_casefold(nick), None)
        return channels

    def rename(self, old: str, new: str) -> list[str]:
        """Follow a nick change; returns the channels the user is in."""
        channels = self.channels_of(old)
        for chan in channels:
            self.remove(chan, old)
            self.add(chan, new)
        account = self._accounts.pop(irc_casefold(old), None)
        if account is not None:
            self._accounts[irc_casefold(new)] = account
        return channels

    def set_account(self, nick: str, account: str | None) -> None:
        """account-notify / extended-join / WHOIS 330; "*" or None means logged out."""
        self._accounts[irc_casefold(nick)] = None if account in (None, "*", "") else account

    def account(self, nick: str) -> str | None:
        return self._accounts.get(irc_casefold(nick))

    def knows_account(self, nick: str) -> bool:
        return irc_casefold(nick) in self._accounts


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
