"""The entry point of every neutral Message: drop the bridge's own echo and ignored senders,
then run it as a command or relay it. No network imports; the jobs live in their own modules:

    bridge/commands.py   the command gateway (parse, identify, moderator check, answers)
    bridge/relay.py      relay decisions and rendering for the other side of the pair
    bridge/presence.py   names kept current, recent speakers, /names
    bridge/pairs.py      the group↔channel pairs
"""

from __future__ import annotations

import logging
from fnmatch import fnmatchcase

from bridge.casemap import irc_casefold
from bridge.commands import CommandGateway
from bridge.config import Config
from bridge.media_links import MediaLinks
from bridge.model import Author, Message, MessageKind, Network
from bridge.pairs import Pairs
from bridge.presence import Presence, SeenNames
from bridge.relay import Relay
from bridge.sides import IrcSide, OutboxQueue, TelegramSide
from handlers.registry import CommandRegistry
from storage.message_map import MessageMap
from storage.roster_store import RosterStore
from storage.topics import TopicStore

log = logging.getLogger(__name__)


class Router:
    """Routes every incoming Message; one instance serves every bridged pair."""

    def __init__(
        self,
        config: Config,
        outbox: OutboxQueue,
        registry: CommandRegistry,
        roster: RosterStore,
        message_map: MessageMap,
        *,
        irc: IrcSide,
        telegram: TelegramSide,
        topics: TopicStore,
        links: MediaLinks | None = None,
    ) -> None:
        self.ignore = config.relay.ignore
        self.irc = irc
        self.telegram = telegram
        pairs = Pairs(config.bridges)
        self.presence = Presence(irc, telegram)
        self.names = SeenNames(roster, irc)
        self.relay = Relay(config.relay, pairs, outbox, message_map, irc, topics, links=links)
        self.commands = CommandGateway(
            config, registry, roster, outbox, pairs, self.presence, irc, telegram
        )

    async def handle(self, msg: Message) -> None:
        """Route one message; returns once whatever it caused is stored durably."""
        if msg.chat.network is Network.IRC and msg.kind in (MessageKind.QUIT, MessageKind.NICK):
            await self.commands.forget_nick(msg.author.nick or "")  # answers follow the person
        if self._is_own(msg.author) or self._ignored(msg.author):
            return
        if msg.chat.network is Network.TELEGRAM and not msg.chat.is_private:
            self.presence.note_speaker(msg.chat.chat_id, msg.author.display_name)
        command = self.commands.parse(msg)
        if command is not None:
            await self.names.note(msg)  # first, so the command sees the current name
            if not msg.is_edit:
                await self.commands.run(msg, command)
            return
        if msg.chat.is_private:
            await self.commands.hint(msg)
        else:
            await self.relay.relay(msg)
        await self.names.note(msg)  # after the relay: a rename costs no relay latency

    def _is_own(self, author: Author) -> bool:
        """The bridge's own messages, should a network echo them (no relay loops)."""
        if author.network is Network.TELEGRAM:
            bot_id = self.telegram.bot_id
            return bot_id is not None and author.user_id == str(bot_id)
        return irc_casefold(author.nick or "") == irc_casefold(self.irc.nick)

    def _ignored(self, author: Author) -> bool:
        """relay.ignore: "telegram:<id or @username>", "irc:<nick glob or nick!user@host glob>"."""
        for rule in self.ignore:
            kind, _, value = rule.partition(":")
            if kind == "telegram" and author.network is Network.TELEGRAM:
                if (
                    value == author.user_id
                    or value.lstrip("@").lower() == (author.nick or "").lower()
                ):
                    return True
            elif kind == "irc" and author.network is Network.IRC:
                pattern = irc_casefold(value)
                target = (
                    irc_casefold(author.mask or "")
                    if "!" in value
                    else irc_casefold(author.nick or "")
                )
                if fnmatchcase(target, pattern):
                    return True
        return False
