"""Who is where: members' names kept current in the roster, recent Telegram speakers, /names."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

from bridge.identity import irc_key
from bridge.lru import Lru
from bridge.model import (
    Author,
    ChatId,
    Message,
    MessageKind,
    Network,
    NickChange,
    split_telegram_chat,
    telegram_chat_key,
)
from bridge.pairs import Pairs
from bridge.sides import IrcSide, TelegramSide
from storage.roster_store import RosterStore, identity_from_author

log = logging.getLogger(__name__)

SEEN_NAMES_MAX = 10_000
"""Identities whose last seen names are remembered; the oldest are forgotten first."""
SPEAKERS_MAX = 20
"""Recent speakers remembered per Telegram chat, a group or one forum topic of it (/names
shows a few of them)."""
SPEAKER_CHATS_MAX = 1_000
"""Telegram chats (groups, forum topics) whose speakers are remembered; those spoken in
least recently are forgotten first (a forum's members may open topics without end)."""
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
        if not isinstance(msg.detail, NickChange) or not msg.detail.new_nick:
            return None
        new = msg.detail.new_nick
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
    from the connectors' live state and the Telegram speakers seen here, per chat key: a
    pair of one forum topic counts that topic's speakers, a whole-group pair the group's."""

    def __init__(
        self,
        irc: IrcSide,
        telegram: TelegramSide,
        pairs: Pairs,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.irc = irc
        self.telegram = telegram
        self.pairs = pairs
        self._clock = clock
        # chat key ("<group>" or "<group>/<topic>") → name → when last heard, oldest first
        self._speakers: Lru[str, OrderedDict[str, float]] = Lru(SPEAKER_CHATS_MAX)

    def note_speaker(self, chat: str, name: str) -> None:
        """name spoke in Telegram chat (a group's or one topic's key) just now: Telegram
        cannot list a group's members. Only bridged groups are remembered."""
        if not self.pairs.is_bridged_group(chat):
            return
        speakers = self._speakers.get(chat)
        if speakers is None:
            speakers = OrderedDict()
        self._speakers[chat] = speakers  # the most recently spoken in is kept longest
        speakers.pop(name, None)
        speakers[name] = self._clock()
        while len(speakers) > SPEAKERS_MAX:
            speakers.popitem(last=False)

    def recent_speakers(
        self, chat: str, *, whole_group: bool = False, window: float = SPEAKERS_WINDOW
    ) -> list[str]:
        """Who spoke in chat (a group or one topic of it; with whole_group, anywhere in its
        group) within window seconds, newest first."""
        cutoff = self._clock() - window
        if not whole_group:
            spoke = self._speakers.get(chat)
            if spoke is None:
                return []
            return [name for name, at in reversed(spoke.items()) if at >= cutoff]
        group = split_telegram_chat(chat)[0]
        heard: dict[str, float] = {}
        for key, speakers in self._speakers.items():
            if split_telegram_chat(key)[0] == group:
                for name, at in speakers.items():
                    heard[name] = max(at, heard.get(name, at))
        newest = sorted(heard.items(), key=lambda item: item[1], reverse=True)
        return [name for name, at in newest if at >= cutoff]

    def irc_nicks(self, channel: ChatId) -> list[str]:
        return self.irc.nicks(channel)

    async def telegram_member_count(self, chat: ChatId) -> int | None:
        return await self.telegram.member_count(chat)

    def telegram_recent_speakers(self, channel: ChatId) -> list[str]:
        """Who spoke recently in what channel carries: its topic, or its whole group."""
        pair = self.pairs.telegram_of(channel)
        if pair is None:
            return []
        group, topic = pair
        if topic is None:
            return self.recent_speakers(group, whole_group=True)
        return self.recent_speakers(telegram_chat_key(group, topic))
