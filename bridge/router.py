"""The entry point of every neutral Message: drop the bridge's own echo and ignored senders,
then relay it, or hand it to the command lanes. No network imports; the jobs live in their
own modules:

    bridge/commands.py   the command gateway (parse, identify, moderator check, answers)
    bridge/command_lanes.py  commands run beside the relay, never in its way
    bridge/relay.py      relay decisions and rendering for the other side of the pair
    bridge/presence.py   names kept current, recent speakers, /names
    bridge/seen_channels.py  where IRC members were seen (their directory card)
    bridge/pairs.py      the group↔channel pairs
"""

from __future__ import annotations

import functools
import logging

from bridge.asking import AskCourier, ask_rules
from bridge.command_lanes import CommandLanes
from bridge.command_record import decode_command, encode_command
from bridge.commands import Command, CommandGateway
from bridge.config import Config
from bridge.identity import limit_key
from bridge.media_links import MediaLinks
from bridge.model import Author, Message, MessageKind, Network
from bridge.pairs import Pairs
from bridge.paste import Paster
from bridge.presence import Presence, SeenNames
from bridge.reactions import Reactions
from bridge.relay import Relay
from bridge.rules import matches_any
from bridge.seen_channels import SeenChannels
from bridge.sides import IrcSide, OutboxQueue, TelegramSide
from handlers.registry import CommandRegistry
from storage.asks import AskStore
from storage.message_map import MessageMap
from storage.pending_commands import PendingCommands
from storage.reactions import ReactionStore
from storage.roster_store import RosterStore
from storage.seen_channels import SeenChannelStore
from storage.topics import TopicStore

log = logging.getLogger(__name__)

MAX_WAITING_PER_SLOT = 25
"""Commands that may wait per network, per commands_in_flight: beyond, a new one is refused
(logged), so a crowd cannot grow the lanes without bound; people's own limits come first."""


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
        pending: PendingCommands,
        links: MediaLinks | None = None,
        pastes: Paster | None = None,
    ) -> None:
        self.ignore = config.relay.ignore
        self.irc = irc
        self.telegram = telegram
        pairs = Pairs(config.bridges)
        self.presence = Presence(irc, telegram, pairs)
        self.names = SeenNames(roster, irc)
        self.seen_channels = SeenChannels(SeenChannelStore(roster.db), config.bridges)
        self.reactions = Reactions(config.relay, pairs, outbox, ReactionStore(roster.db), irc)
        self.relay = Relay(
            config.relay, pairs, outbox, message_map, irc, topics, links=links, pastes=pastes
        )
        self.commands = CommandGateway(
            config, registry, roster, outbox, pairs, self.presence, irc, telegram
        )
        self.asking = AskCourier(
            AskStore(roster.db),
            ask_rules(config.roster),
            outbox,
            irc,
            [b.irc_channel for b in config.bridges],
            lambda: telegram.titles,
        )
        self.commands.courier = self.asking
        self.pending = pending
        in_flight = config.roster.commands_in_flight
        self.lanes = CommandLanes(in_flight, max_waiting=MAX_WAITING_PER_SLOT * in_flight)

    async def handle(self, msg: Message) -> None:
        """Route one message; returns once whatever it caused is stored durably."""
        if msg.chat.network is Network.IRC and msg.kind in (MessageKind.QUIT, MessageKind.NICK):
            await self.commands.forget_nick(msg.author.nick or "")  # answers follow the person
        if self._is_own(msg.author) or self._ignored(msg.author):
            return
        if msg.kind is MessageKind.REACTION:  # not speaking: no presence, name or command
            await self.reactions.relay(msg)
            return
        if msg.chat.network is Network.TELEGRAM and not msg.chat.is_private:
            self.presence.note_speaker(msg.chat.chat_id, msg.author.display_name)
            self.relay.speakers.note(msg.chat.chat_id, msg.author)  # whom IRC may mention
        command = self.commands.parse(msg)
        if command is not None:
            if msg.is_edit:  # an edited command is not run again
                await self.names.note(msg)
            else:
                await self._accept(msg, command)
            return
        if msg.chat.is_private:
            await self.commands.hint(msg)
        else:
            await self.relay.relay(msg)
            await self.reactions.note(msg)  # whose message a reaction to it is to
        await self.names.note(msg)  # after the relay: a rename costs no relay latency
        await self.seen_channels.note(msg)
        await self.asking.note(msg)  # activity; questions kept for an IRC member now seen

    async def _accept(self, msg: Message, command: Command) -> None:
        """Count the command against its person's limit, keep it (so a crash does not lose
        it: the source is acknowledged when this returns) and queue it in the lanes."""
        admitted = self.commands.admit(msg)
        network = msg.chat.network.value
        if admitted is not True:
            if admitted is False:  # after the answers to the person's earlier commands
                warn = functools.partial(self.commands.slow_down, msg)
                self.lanes.submit(network, limit_key(msg.author), warn)
            return
        if self.lanes.waiting(network) >= self.lanes.max_waiting:
            log.warning(
                "commands: %d waiting on %s; one from %s refused",
                self.lanes.waiting(network),
                network,
                limit_key(msg.author),
            )
            return
        row = await self.pending.add(network, msg.source_id, encode_command(msg, command))
        if row is not None:  # None: this very message is kept already (delivered again)
            self._submit(msg, command, row)

    def _submit(self, msg: Message, command: Command, row: int) -> None:
        job = functools.partial(self._run_command, msg, command, row)
        if not self.lanes.submit(msg.chat.network.value, limit_key(msg.author), job):
            log.warning("commands: lanes full; %s runs at the next start", command.name)

    async def _run_command(self, msg: Message, command: Command, row: int) -> None:
        """In the person's lane: the name first, so the command sees the current one. The
        row goes once the answers are queued, or when the command failed (a command that
        raises would raise again at every start); a stop in between leaves it for the next
        start."""
        try:
            await self.names.note(msg)
            await self.commands.run(msg, command)
            self.seen_channels.forget(msg)  # /join, /leave or /link may have changed them
            await self.seen_channels.note(msg)
            await self.asking.note(msg)
        except Exception:
            log.exception("command %s from %s failed", command.name, limit_key(msg.author))
        await self.pending.done(row)

    async def resume_commands(self) -> int:
        """Queue the commands a previous run kept and did not finish (in the order they were
        typed); returns how many."""
        kept = await self.pending.all()
        for item in kept:
            try:
                msg, command = decode_command(item.body)
            except (ValueError, KeyError, TypeError) as exc:
                log.error("commands: kept command %d unreadable (%s); dropped", item.id, exc)
                await self.pending.done(item.id)
                continue
            self._submit(msg, command, item.id)
        if kept:
            log.info("commands: %d kept from the last run queued again", len(kept))
        return len(kept)

    def _is_own(self, author: Author) -> bool:
        """The bridge's own messages, should a network echo them (no relay loops)."""
        if author.network is Network.TELEGRAM:
            bot_id = self.telegram.bot_id
            return bot_id is not None and author.user_id == str(bot_id)
        return self.irc.casefold(author.nick or "") == self.irc.casefold(self.irc.nick)

    def ignores(self, author: Author) -> bool:
        """Whether relay.ignore names author (also asked at start about what was queued)."""
        return self._ignored(author)

    def _ignored(self, author: Author) -> bool:
        """relay.ignore, its rules parsed at load (bridge/rules.py)."""
        return matches_any(self.ignore, author, self.irc.casefold)
