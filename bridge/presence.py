"""Who is where: members' names kept current in the roster, recent Telegram speakers, /names."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

from bridge.identity import irc_key
from bridge.model import Author, ChatId, Message, MessageKind, Network, split_telegram_chat
from bridge.sides import IrcSide, TelegramSide
from storage.roster_store import RosterStore, identity_from_author

log = logging.getLogger(__name__)

SEEN_NAMES_MAX = 10_000
"""Identities whose last seen names are remembered; the oldest are forgotten first."""
SPEAKERS_MAX = 20
"""Recent speakers remembered per Telegram group (/names shows a few of them)."""
SPEAKERS_WINDOW = 3600.0
"""How recently someone must have spoken to count as a recent speaker, in seconds."""


class SeenNames:
    """Keeps a member's stored names current ("display name from the network, updated when it
    changes") without a database write per message: the last names seen per identity are
    remembered, and the store is asked only when they differ."""

    def __init__(self, roster: RosterStore, irc: IrcSide, limit: int = SEEN_NAMES_MAX) -> None:
        self.roster = roster
        self.irc = irc
        self.limit = limit
        # the author as last seen, per (network, user id): names are compared, not stored
        self._seen: OrderedDict[tuple[Network, str], Author] = OrderedDict()

    async def note(self, msg: Message) -> None:
        """Refresh the stored names of msg's author (or of an IRC nick's new holder)."""
        if msg.kind in (MessageKind.TEXT, MessageKind.ACTION):
            author = msg.author
        elif msg.kind is MessageKind.NICK and msg.author.network is Network.IRC:
            renamed = self._renamed(msg)
            if renamed is None:
                return
            author = renamed
        else:
            return
        if author.is_bot:
            return
        key = (author.network, author.user_id)
        if self._seen.get(key) == author:  # the hot path: one dict lookup
            self._seen.move_to_end(key)
            return
        try:
            await self.roster.refresh_identity(identity_from_author(author))
        except Exception:
            log.exception("could not refresh the stored names of %s", key)
            return
        self._seen[key] = author
        self._seen.move_to_end(key)
        while len(self._seen) > self.limit:
            self._seen.popitem(last=False)

    def _renamed(self, msg: Message) -> Author | None:
        """The author of an IRC NICK under the new nick, when keyed by a services account.

        A member known only by nick!user@host cannot be followed: the key is the old mask.
        """
        new = msg.get("new_nick")
        if not new:
            return None
        # A NICK line rarely carries its account tag: ask what the connection knows.
        account = msg.author.account
        if account is None:
            account = self.irc.account_of(new)
        if account is None:
            return None
        mask = msg.author.mask or ""
        host = mask.partition("!")[2]
        return replace(
            msg.author,
            user_id=irc_key(account, ""),
            display_name=new,
            nick=new,
            account=account,
            mask=f"{new}!{host}" if host else None,
        )


class Presence:
    """Who is on each side of a pair right now: answers /names (handlers.context.Presence)
    from the connectors' live state and the Telegram speakers seen here."""

    def __init__(
        self, irc: IrcSide, telegram: TelegramSide, clock: Callable[[], float] = time.time
    ) -> None:
        self.irc = irc
        self.telegram = telegram
        self._clock = clock
        self._speakers: dict[str, OrderedDict[str, float]] = {}

    def note_speaker(self, chat: str, name: str) -> None:
        """name spoke in Telegram group chat just now (Telegram cannot list a group's members)."""
        # a forum's topics are one group: /names counts who spoke anywhere in it
        speakers = self._speakers.setdefault(split_telegram_chat(chat)[0], OrderedDict())
        speakers.pop(name, None)
        speakers[name] = self._clock()
        while len(speakers) > SPEAKERS_MAX:
            speakers.popitem(last=False)

    def recent_speakers(self, chat: str, window: float = SPEAKERS_WINDOW) -> list[str]:
        """Who spoke in chat within window seconds, newest first."""
        cutoff = self._clock() - window
        speakers = self._speakers.get(split_telegram_chat(chat)[0], OrderedDict())
        return [name for name, at in reversed(speakers.items()) if at >= cutoff]

    def irc_nicks(self, channel: ChatId) -> list[str]:
        return self.irc.nicks(channel)

    async def telegram_member_count(self, chat: ChatId) -> int | None:
        return await self.telegram.member_count(chat)

    def telegram_recent_speakers(self, chat: ChatId) -> list[str]:
        return self.recent_speakers(chat)
