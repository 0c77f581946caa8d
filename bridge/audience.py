"""Who may see the roster: the community of the bridge, not whoever finds the bot.

The roster's cards, counts and private answers are for people in a bridged group or
channel. Asked there, the asker plainly is in it. Asked privately, they must be in one now
(Telegram: getChatMember, cached by the connector; IRC: sharing a bridged channel with the
bot), already a member of the roster, or a moderator. An unbridged group the bot was added
to never is: an answer there would reach people who are not of the community.
"""

from __future__ import annotations

from collections.abc import Sequence

from bridge.model import Author, ChatRef, Network
from bridge.pairs import Pairs
from bridge.sides import IrcSide, TelegramSide
from storage.roster_store import RosterStore, identity_from_author


class Audience:
    """Answers "may this invoker see the roster here?" for the command gateway."""

    def __init__(
        self,
        pairs: Pairs,
        channels: Sequence[str],
        roster: RosterStore,
        irc: IrcSide,
        telegram: TelegramSide,
    ) -> None:
        self.pairs = pairs
        self.channels = tuple(channels)
        self.roster = roster
        self.irc = irc
        self.telegram = telegram

    async def includes(self, chat: ChatRef, author: Author, *, moderator: bool) -> bool:
        """True when author, typing in chat, is of the community (cheapest checks first)."""
        if not chat.is_private:
            if chat.network is Network.TELEGRAM:  # any topic of a bridged group
                return self.pairs.is_bridged_group(chat.chat_id)
            return self.pairs.paired(chat) is not None
        if moderator or await self._is_member(author):
            return True
        if author.network is Network.TELEGRAM:
            for group in self.pairs.telegram_chats:
                if await self.telegram.is_member(group, author.user_id):
                    return True
            return False
        return self._shares_a_channel(author.nick or "")

    async def _is_member(self, author: Author) -> bool:
        identity = identity_from_author(author)
        return await self.roster.get_member_by_identity(identity.network, identity.key) is not None

    def _shares_a_channel(self, nick: str) -> bool:
        """The nick is in a bridged channel with the bot now (the connection's own view)."""
        folded = self.irc.casefold(nick)
        return bool(folded) and any(
            folded in self.irc.folded_nicks(channel) for channel in self.channels
        )
