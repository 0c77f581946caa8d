"""The bridged group↔channel pairs, looked up from either side."""

from __future__ import annotations

from collections.abc import Iterable

from bridge.casemap import irc_casefold
from bridge.config import BridgePair
from bridge.model import ChatId, ChatRef, Network


class Pairs:
    """Which IRC channel a Telegram group is bridged to, and back (channels casefolded, as
    the server compares them)."""

    def __init__(self, bridges: Iterable[BridgePair]) -> None:
        pairs = tuple(bridges)
        self._to_irc = {str(b.telegram_chat): b.irc_channel for b in pairs}
        self._to_telegram = {irc_casefold(b.irc_channel): str(b.telegram_chat) for b in pairs}

    @property
    def telegram_chats(self) -> tuple[str, ...]:
        """Every bridged Telegram group, as chat id text."""
        return tuple(self._to_irc)

    def channel_for(self, telegram_chat: str) -> str | None:
        """The configured IRC channel of a Telegram group, or None when it is not bridged."""
        return self._to_irc.get(telegram_chat)

    def group_for(self, irc_channel: str) -> str | None:
        """The Telegram group (chat id text) of an IRC channel, in any case, or None."""
        return self._to_telegram.get(irc_casefold(irc_channel))

    def paired(self, chat: ChatRef) -> ChatRef | None:
        """The other side of chat's pair (without a title), or None when chat is not bridged."""
        if chat.network is Network.TELEGRAM:
            channel = self.channel_for(chat.chat_id)
            return None if channel is None else ChatRef(Network.IRC, ChatId(channel))
        group = self.group_for(chat.chat_id)
        return None if group is None else ChatRef(Network.TELEGRAM, ChatId(group))
