"""The bridged pairs, looked up from either side: a Telegram group or one forum topic of it
↔ an IRC channel.

A Telegram chat key is "<group>" or "<group>/<topic>" (bridge.model.telegram_chat_key). A
message from topic T of group C goes to the pair of (C, T) if there is one, else to the pair
of the whole group C, which then names the topic on IRC; General (no thread id) is topic 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bridge.casemap import irc_casefold
from bridge.config import BridgePair
from bridge.model import (
    GENERAL_TOPIC,
    ChatId,
    ChatRef,
    Network,
    split_telegram_chat,
    telegram_chat_key,
)


@dataclass(frozen=True, slots=True)
class Route:
    """Where a Telegram message goes on IRC."""

    channel: str
    label: int | None = None
    """The topic to name on IRC ("[Help] …"): set when the pair carries the whole of a forum
    group, None when it carries only this topic (or the group has no topics)."""


class Pairs:
    """Which IRC channel a Telegram group or topic is bridged to, and back (channels
    casefolded, as the server compares them)."""

    def __init__(self, bridges: Iterable[BridgePair]) -> None:
        pairs = tuple(bridges)
        self._to_irc = {(str(b.telegram_chat), b.telegram_topic): b.irc_channel for b in pairs}
        self._to_telegram = {
            irc_casefold(b.irc_channel): telegram_chat_key(b.telegram_chat, b.telegram_topic)
            for b in pairs
        }
        self._pair_of = {
            irc_casefold(b.irc_channel): (str(b.telegram_chat), b.telegram_topic) for b in pairs
        }
        self._groups = tuple(dict.fromkeys(str(b.telegram_chat) for b in pairs))

    @property
    def telegram_chats(self) -> tuple[str, ...]:
        """Every bridged Telegram group (chat id text, each once, topics aside): the chats
        whose members and admins count."""
        return self._groups

    def is_bridged_group(self, telegram_chat: str) -> bool:
        """Whether the group of a chat key is in any pair (whichever topic)."""
        return split_telegram_chat(telegram_chat)[0] in self._groups

    def route(self, chat: ChatRef) -> Route | None:
        """Where a message from chat (a group or topic key) goes, or None: not bridged."""
        group, topic = split_telegram_chat(chat.chat_id)
        exact = self._to_irc.get((group, GENERAL_TOPIC if topic is None else topic))
        if exact is not None:
            return Route(exact)
        whole = self._to_irc.get((group, None))
        if whole is None:
            return None
        if topic is None:
            return Route(whole, GENERAL_TOPIC if chat.is_forum else None)
        return Route(whole, topic)

    def group_for(self, irc_channel: str) -> str | None:
        """The Telegram chat key (group, or group/topic) of an IRC channel, in any case."""
        return self._to_telegram.get(irc_casefold(irc_channel))

    def telegram_of(self, irc_channel: str) -> tuple[str, int | None] | None:
        """(group, telegram_topic as configured: None for a whole-group pair) of an IRC
        channel, in any case; unlike group_for, a pair of General is not its whole group."""
        return self._pair_of.get(irc_casefold(irc_channel))

    def paired(self, chat: ChatRef) -> ChatRef | None:
        """The other side of chat's pair (without a title), or None when chat is not bridged."""
        if chat.network is Network.TELEGRAM:
            route = self.route(chat)
            return None if route is None else ChatRef(Network.IRC, ChatId(route.channel))
        group = self.group_for(chat.chat_id)
        return None if group is None else ChatRef(Network.TELEGRAM, ChatId(group))
