"""/ask's courier and watch: questions sent privately to other members, and kept for those
on IRC who are away until they are next seen.

The courier (handlers.courier.Courier) sends like every private answer (bridge/commands.py),
through the outbox, from the asker's command lane, never the relay's: on Telegram to the
member's private chat with the bot, awaiting the outbox's verdict (bounded), since only
people who pressed Start can get one; on IRC to a member on a bridged channel now, to their
nick for their exact nick!user@host (an account member's nick must hold that account now),
dropped by the delivery if the nick changes hands. An IRC member on no bridged channel gets
the question kept in the database (storage.asks), which the watch delivers when they are
next seen joining or speaking on one within roster.ask_ttl_days.

The watch also notes when each person was last active (at most every ACTIVITY_EVERY
seconds per person, a bounded memory), for "most recently active first" and "on the network
where they were last active".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence

from bridge.commands import PRIVATE_ANSWER_TIMEOUT, telegram_text
from bridge.config_model import RosterConfig
from bridge.display_names import clean_name
from bridge.i18n import ENGLISH, Translations
from bridge.lru import Lru
from bridge.model import Author, ChatRef, Message, MessageKind, Network, split_telegram_chat
from bridge.private_irc import IrcRoute, IrcView, channel_of, private_lines, route_to
from bridge.sides import OutboxQueue
from handlers.courier import AskRules, Reach
from storage.asks import AskCounts, Asker, AskStore
from storage.roster_model import Identity

log = logging.getLogger(__name__)

DAY = 86_400.0
ACTIVITY_EVERY = 300.0
"""A person's activity is written at most this often (seconds): ordering by it needs no more."""
ACTIVITY_REMEMBERED = 10_000
"""People whose last written activity is remembered; the least recent are forgotten first."""
SEEN_KINDS = frozenset({MessageKind.TEXT, MessageKind.ACTION, MessageKind.JOIN})


def ask_rules(roster: RosterConfig) -> AskRules:
    return AskRules(
        max_recipients=roster.ask_max_recipients,
        per_day=roster.asks_per_day,
        received_per_day=roster.asks_received_per_day,
        ttl_days=roster.ask_ttl_days,
    )


class AskCourier:
    """Sends /ask's questions and delivers the kept ones (see the module docstring)."""

    def __init__(
        self,
        store: AskStore,
        rules: AskRules,
        outbox: OutboxQueue,
        irc: IrcView,
        channels: Sequence[str],
        group_titles: Callable[[], Mapping[str, str]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._rules = rules
        self.outbox = outbox
        self.irc = irc
        self.channels = tuple(channels)
        self._titles = group_titles
        self._clock = clock
        self._waiting: set[str] | None = None
        """IRC identity keys with questions kept (read from the store at the first use)."""
        self._active: Lru[tuple[Network, str], float] = Lru(ACTIVITY_REMEMBERED)

    @property
    def rules(self) -> AskRules:
        return self._rules

    @property
    def store(self) -> AskStore:
        return self._store

    async def totals(self) -> dict[str, int]:
        """/ask's totals by name (storage.asks.AskCounts), for /metrics."""
        counts = await self._store.counts()
        return {name: getattr(counts, name) for name in AskCounts.__slots__}

    # ------------------------------------------------------------------ sending

    def whereabouts(self, author: Author, chat: ChatRef, tr: Translations = ENGLISH) -> str:
        _ = tr.gettext
        if author.network is Network.TELEGRAM:
            if author.nick:
                return f"Telegram @{author.nick}"
            title = self._group_title(chat)
            # Translators: where to reach who asks a question; %(group)s is a Telegram group.
            return _("in %(group)s on Telegram") % {"group": title} if title else _("on Telegram")
        nick = author.nick or ""
        channel = (
            str(chat.chat_id) if not chat.is_private else channel_of(self.irc, self.channels, nick)
        )
        if not channel:
            # Translators: where to reach who asks a question; %(nick)s is their IRC nick.
            return _("IRC nick %(nick)s") % {"nick": nick}
        # Translators: where to reach who asks a question; %(nick)s on IRC channel %(channel)s.
        return _("IRC nick %(nick)s on %(channel)s") % {"nick": nick, "channel": channel}

    def _group_title(self, chat: ChatRef) -> str:
        titles = self._titles()
        if not chat.is_private:
            group = split_telegram_chat(chat.chat_id)[0]
            return clean_name(titles.get(group) or chat.title or "").strip()
        return clean_name(next(iter(titles.values()), "")).strip()

    async def send(self, identity: Identity, text: str, asker: Asker) -> Reach:
        if identity.network is Network.TELEGRAM:
            items = telegram_text(identity.key, text)
            delivered = await self.outbox.enqueue_and_wait(items, PRIVATE_ANSWER_TIMEOUT)
            return Reach.NOW if delivered else Reach.UNREACHABLE
        route = route_to(self.irc, self.channels, identity)
        if route is not None:
            await self.outbox.enqueue(private_lines(self.irc, route, text, "ask"))
            return Reach.NOW
        if not await self._store.keep(identity, asker, text):
            return Reach.UNREACHABLE
        waiting = await self._waiting_keys()
        waiting.add(identity.key)
        return Reach.LATER

    # ------------------------------------------------------------------ watching

    async def note(self, msg: Message) -> None:
        """msg's author was seen: note their activity, and hand an IRC member who joins or
        speaks on a bridged channel the questions kept for them."""
        author = msg.author
        if author.is_bot or author.posted_as is not None or msg.kind not in SEEN_KINDS:
            return
        key = str(author.user_id)  # bridge.identity's key: the roster's, too
        try:
            await self._note_activity(author.network, key)
            if author.network is Network.IRC and not msg.chat.is_private:
                await self._deliver_kept(msg, key)
        except Exception:
            log.exception("asks: could not note %s's activity", author.network.value)

    async def _note_activity(self, network: Network, key: str) -> None:
        now = self._clock()
        last = self._active.get((network, key))
        if last is not None and now - last < ACTIVITY_EVERY:
            return
        self._active[(network, key)] = now
        await self._store.note_activity(network, key)

    async def _deliver_kept(self, msg: Message, key: str) -> None:
        if str(msg.chat.chat_id) not in self.channels:
            return
        waiting = await self._waiting_keys()
        nick, mask = msg.author.nick or "", msg.author.mask or ""
        if key not in waiting or not (nick and "!" in mask):
            return
        waiting.discard(key)
        kept = await self._store.take(Network.IRC, key, self._rules.ttl_days * DAY)
        for item in kept:
            await self.outbox.enqueue(
                private_lines(self.irc, IrcRoute(nick, mask), item.body, "ask")
            )
        if kept:
            log.info("asks: %d kept questions handed to an IRC member now seen", len(kept))

    async def _waiting_keys(self) -> set[str]:
        if self._waiting is None:
            self._waiting = await self._store.waiting_keys(Network.IRC)
        return self._waiting

    async def sweep(self) -> None:
        """Drop the questions past roster.ask_ttl_days (counted expired): the app's hourly
        pruning calls it, so no message waits for this write in the relay's lane."""
        expired = await self._store.expire(self._rules.ttl_days * DAY)
        if expired:
            log.info("asks: %d kept questions expired", expired)
            self._waiting = None  # read again: some keys may have nothing left
