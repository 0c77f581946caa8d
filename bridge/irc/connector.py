"""The IRC connector: one connection serving every bridged channel, built from small parts.

Each part has one job and its own state; this class only builds them, routes the library's
events to them (EventTable) and offers the public face the rest of the bridge uses: the
relay core's view (nick, nicks, payload_budget, accounts) and the outbox's Sender.

    isupport.ServerRules    the server's own rules from 005: case rule, PREFIX, CHANTYPES
    caps.CapNegotiation     CAP LS/REQ/ACK and SASL PLAIN, before registration
    registration            modes, IDENTIFY after it; nick in use or refused, nick regain
    joins.Joins             JOINs, retried with backoff after a refusal or a kick; status
    own_mask.OwnMask        the bot's own nick!user@host and the line budget
    inbound.Inbound         others' lines and channel events → Messages (two Inboxes:
                            channels, and private lines that may wait for a WHOIS)
    lanes.LineBudget        the server's line budget: relay first, then WHOIS, then answers
    delivery                relayed lines and paced commands, echo-confirmed; private
                            lines only to the nick!user@host they were queued for
    accounts.Accounts       who holds a nick now: what the bot sees, else WHOIS (paced)
    supervisor.Supervisor   connect, reconnect, watchdog, outage log lines
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet

from bridge.config import IrcConfig
from bridge.irc.accounts import Accounts
from bridge.irc.caps import CapNegotiation
from bridge.irc.channels import AllBut, ChannelState
from bridge.irc.delivery import CommandQueue, Delivery, EchoTracker, Recipients
from bridge.irc.inbound import EventTable, Inbound, Inbox, OnMessage
from bridge.irc.isupport import ServerRules
from bridge.irc.joins import Joins
from bridge.irc.lanes import LineBudget
from bridge.irc.link import Link
from bridge.irc.own_mask import OwnMask
from bridge.irc.registration import Registration
from bridge.irc.supervisor import IrcGaveUp, Supervisor
from bridge.model import Author
from bridge.sending import Progress, Queued, Sent

STOP_DRAIN_TIMEOUT = 5.0
"""At stop, how long what was already read may take to be stored."""


class IrcConnector:
    """One IRC connection serving every bridged channel."""

    def __init__(
        self,
        config: IrcConfig,
        channels: Sequence[str],
        keys: Mapping[str, str] | None = None,
    ) -> None:
        """keys: channel → its key (+k), for the channels that have one."""
        self.config = config
        bucket = LineBudget(config.send_burst, config.send_rate)
        self.rules = ServerRules()
        self.link = Link(config.nick, self.rules.fold)
        self.channel_state = ChannelState(self.rules)
        self.negotiation = CapNegotiation(config)
        self.own = OwnMask(config.username, lambda: self.link.nick, self.rules.fold)
        self.inbox = Inbox()
        self.private_inbox = Inbox(behind=self.inbox)
        self.echoes = EchoTracker(self.link.is_me, fold=self.rules.fold)
        self.commands = CommandQueue(bucket, self.link.usable)
        self.accounts = Accounts(self.link, self.channel_state, self.negotiation, bucket)
        self.delivery = Delivery(
            self.link,
            bucket,
            self.channel_state,
            self.own,
            self.negotiation,
            self.echoes,
            Recipients(self.channel_state, self.accounts),
        )
        events = EventTable()
        self.supervisor = Supervisor(
            config, self.link, self.negotiation, events, on_lost=self._forget_connection
        )
        self.joins = Joins(config, channels, self.link, self.channel_state, self.commands, keys)
        self.registration = Registration(
            config,
            self.joins,
            self.link,
            bucket,
            self.commands,
            on_ready=self.supervisor.note_ready,
            on_fatal=self.supervisor.give_up,
            nicklen=lambda: self.rules.nicklen,
        )
        inbound = Inbound(
            channels,
            self.channel_state,
            self.link,
            self.negotiation,
            self.inbox,
            self.private_inbox,
        )
        # Handlers of one event type run in this order: e.g. on our own JOIN the mask is
        # learned before Inbound wakes those waiting for the channel.
        for part in (
            self.rules,  # first: the others fold by the rule a 005 line has just told
            self.negotiation,
            self.registration,
            self.joins,
            self.own,
            self.echoes,
            inbound,
            self.accounts,
            self.supervisor,
        ):
            events.add(part.handlers())

    # ---------------------------------------------------------------- lifecycle

    async def run(self, on_message: OnMessage) -> None:
        """Connect and stay connected until cancelled; what is read goes to on_message.
        Raises IrcGaveUp when the server refuses what only the config can change."""
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self.inbox.run(on_message), name="irc inbox")
                group.create_task(self.private_inbox.run(on_message), name="irc private inbox")
                group.create_task(self.supervisor.watchdog(), name="irc watchdog")
                group.create_task(self.registration.keep_nick(), name="irc nick regain")
                group.create_task(self.commands.run(), name="irc paced commands")
                await self.supervisor.run()
        except* IrcGaveUp as failed:  # one clear error for the app, not a group of one
            raise failed.exceptions[0] from None

    async def stop(self, message: str = "Bridge shutting down") -> None:
        """Send QUIT and close; the supervisor will not reconnect."""
        await self.supervisor.stop(message)
        # What was read before the QUIT is stored before the caller stops the dispatcher.
        await self.inbox.drain(STOP_DRAIN_TIMEOUT)
        await self.private_inbox.drain(STOP_DRAIN_TIMEOUT)

    def _forget_connection(self) -> None:
        """The connection is lost: what belonged to it goes (the server tells us again)."""
        self.commands.drop_pending()
        self.joins.reset()
        self.channel_state.reset()
        self.accounts.fail_pending()
        self.echoes.fail_all()

    @property
    def connection_state(self) -> str:
        """starting | connecting | ready | disconnected (for `tgirc-bridge status`)."""
        return self.link.state

    @property
    def changes(self) -> int:
        """How many connection state changes so far (for wait_changed's `after`)."""
        return self.link.changes

    async def wait_changed(self, after: int | None = None) -> None:
        """Return at the next connection state change (connected, joined, lost), or at once
        if there were changes since `after` (a value of `changes` read before)."""
        await self.link.wait_changed(after)

    def is_joined(self, channel: str) -> bool:
        return self.channel_state.is_joined(channel)

    def channel_status(self) -> dict[str, str]:
        """Bridged channel → "joined" or why not (for `tgirc-bridge status`)."""
        return self.joins.status()

    # ------------------------------------------------------- relay core's view

    @property
    def nick(self) -> str:
        """The nick the server knows us by now."""
        return self.link.nick

    def nicks(self, channel: str) -> list[str]:
        """Who is in channel now, the bot excepted."""
        return [n for n in self.channel_state.nicks(channel) if not self.link.is_me(n)]

    def folded_nicks(self, channel: str) -> AbstractSet[str]:
        """Who is in channel now, IRC-case-folded, the bot excepted (a view, not a copy)."""
        return AllBut(self.channel_state.folded_nicks(channel), self.rules.fold(self.nick))

    def casefold(self, text: str) -> str:
        """Fold a nick or channel name by the server's case rule (its 005 CASEMAPPING;
        rfc1459 until it says), as folded_nicks() is folded."""
        return self.rules.fold(text)

    def payload_budget(self, target: str, *, action: bool = False) -> int:
        """Bytes a payload may use so the line as relayed to others fits the server's limit."""
        return self.own.budget(target, action=action)

    async def identify(self, author: Author) -> Author:
        """author with the services account the server vouches for now (WHOIS if needed)."""
        return await self.accounts.identify(author)

    def account_of(self, nick: str) -> str | None:
        """The account the connection state knows for nick now (no lookup)."""
        return self.accounts.account_of(nick)

    def mask_of(self, nick: str) -> str | None:
        """The nick!user@host the bot sees holding nick now, if it learned it (no lookup)."""
        return self.channel_state.mask_of(nick)

    @property
    def caps(self) -> set[str]:
        """Capabilities the server granted on this connection."""
        return self.negotiation.enabled

    @property
    def linelen(self) -> int:
        return self.own.linelen

    # ------------------------------------------------------------ outbox Sender

    async def wait_ready(self, chat: str) -> None:
        """Channels need a join, private targets only a registered connection."""
        await self.delivery.wait_ready(chat)

    async def deliver(self, chat: str, items: list[Queued], progress: Progress) -> Sent:
        """Write the first item's remaining lines, one paced line at a time."""
        return await self.delivery.deliver(chat, items, progress)
