"""The freshness task: nudge members whose profile went unconfirmed, and let the silent lapse.

A task of its own, started by bridge/app.py, never in the relay's lane: each round (every
ROUND_SECONDS) it marks stale the members nudged roster.confirm_grace_days ago who did not
confirm, then nudges those unconfirmed for roster.confirm_after_days, at most
roster.nudges_per_hour in any hour. A nudge is recorded before it is sent, so a crash never
sends a member two; a confirmation (storage.freshness.confirm) clears the record.

The nudge is a private message like every private answer (bridge/commands.py): on Telegram to
the member's private chat with the bot, which only people who pressed Start can get (the
outbox's verdict is awaited, bounded); on IRC only to a member on a bridged channel now, to
their nick for their exact nick!user@host (an account member's nick must hold that account
now), dropped by the delivery if the nick changes hands. A member reachable nowhere now is
tried again later; one still unreachable a whole grace period after their nudge was due is
marked nudged anyway, so a member who is gone for good lapses too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bridge.commands import telegram_text
from bridge.config_model import Config, RosterConfig
from bridge.i18n import SOURCE_LANGUAGE, Translations, translations
from bridge.lru import Lru
from bridge.model import Network
from bridge.private_irc import IrcRoute, IrcView, private_lines, route_to
from bridge.sides import OutboxQueue
from storage.db import Database
from storage.freshness import DAY, FreshnessStore, NudgeCounts
from storage.languages import LanguageStore
from storage.roster_model import Member

log = logging.getLogger(__name__)

ROUND_SECONDS = 60.0
"""How often the task looks for members to nudge or to lapse."""
HOUR = 3600.0
SEND_TIMEOUT = 30.0
"""How long a nudge waits for Telegram's verdict (refused: the member never pressed Start)."""
RETRY_UNREACHABLE = 6 * HOUR
"""A member reachable on no network now is tried again after this long."""
UNREACHABLE_MAX = 10_000
"""Members remembered as unreachable lately (bounded; a forgotten one is only tried sooner)."""
SKIP_MARGIN = 200
"""Due members read beyond the round's allowance, so the unreachable do not fill it."""
Clock = Callable[[], float]


class Nudger:
    """Runs the rounds; counters for /metrics: nudges sent per network, lapses, unreachable."""

    def __init__(
        self,
        store: FreshnessStore,
        outbox: OutboxQueue,
        irc: IrcView,
        channels: Sequence[str],
        config: RosterConfig,
        *,
        irc_prefix: str = "!",
        title: str = "",
        clock: Clock = time.time,
        send_timeout: float = SEND_TIMEOUT,
        languages: LanguageStore | None = None,
        default_language: str = SOURCE_LANGUAGE,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.irc = irc
        self.channels = tuple(channels)
        self.config = config
        self.irc_prefix = irc_prefix
        self.title = title
        self.clock = clock
        """Injected (and public, so a test may move a running bridge's days on)."""
        self._send_timeout = send_timeout
        self._languages = languages
        self._default_language = default_language
        self._sent_at: deque[float] = deque()
        self._paced = False
        """Whether _sent_at holds the nudges recorded before this start (read once)."""
        self._unreachable: Lru[int, float] = Lru(UNREACHABLE_MAX)
        self.counts: Counter[str] = Counter()
        """Nudges sent by network ("telegram", "irc"); "lapsed": members who dropped out;
        "unreachable": nudges due that found no way to the member, since this start (the
        durable totals, for /metrics and `status`, are the store's: totals())."""

    async def totals(self) -> dict[str, int]:
        """The totals since the database was made (storage.freshness.NudgeCounts), by
        name, read per /metrics scrape."""
        counts = await self.store.counts()
        return {name: getattr(counts, name) for name in NudgeCounts.__slots__}

    async def run(self) -> None:
        """A round every ROUND_SECONDS until cancelled; a failed round is logged, not fatal.
        The first waits one period too: by then the bot has joined and seen who is on the
        channels, so a member there is not taken for one reachable nowhere."""
        while True:
            await asyncio.sleep(ROUND_SECONDS)
            try:
                await self.round()
            except Exception:
                log.exception("freshness: round failed; trying again in %.0f s", ROUND_SECONDS)

    async def round(self) -> int:
        """Lapse the silent, then nudge the due within the hour's allowance; nudges sent."""
        now = self.clock()
        lapsed = await self.store.lapse(now, self.config.confirm_grace_days)
        if lapsed:
            self.counts["lapsed"] += lapsed
            log.info("freshness: %d members unconfirmed after their nudge left the lists", lapsed)
        if not self._paced:  # a restart within the hour keeps its pace
            self._sent_at.extend(await self.store.nudged_since(now - HOUR, now))
            self._paced = True
        while self._sent_at and self._sent_at[0] <= now - HOUR:
            self._sent_at.popleft()
        allowance = self.config.nudges_per_hour - len(self._sent_at)
        if allowance <= 0:
            return 0
        due = await self.store.due(now, self.config.confirm_after_days, allowance + SKIP_MARGIN)
        sent = 0
        for member_id, since in due:
            if sent >= allowance:
                break
            if self._unreachable.get(member_id, 0.0) > now:
                continue
            if await self._nudge(member_id, since, now):
                self._sent_at.append(now)
                sent += 1
        return sent

    async def _nudge(self, member_id: int, since: float, now: float) -> bool:
        """Nudge one member; True when it went out (or was given up on, counting the same)."""
        member = await self.store.member(member_id)
        if member is None:
            return False
        telegram = next((i.key for i in member.identities if i.network is Network.TELEGRAM), None)
        route = self._irc_route(member)
        overdue = now - since - self.config.confirm_after_days * DAY
        gone = overdue >= self.config.confirm_grace_days * DAY
        if telegram is None and route is None and not gone:
            self._unreachable[member_id] = now + RETRY_UNREACHABLE
            self.counts["unreachable"] += 1
            await self.store.count("unreachable")
            return False
        if not await self.store.mark_nudged(member_id, now):
            return False  # confirmed or nudged meanwhile
        chosen = await self._languages.member_language(member_id) if self._languages else None
        tr = translations(chosen or self._default_language)  # the member's /language choice
        if telegram is not None:
            text = self.text(member, since, "/", tr)
            if await self.outbox.enqueue_and_wait(
                telegram_text(telegram, text), self._send_timeout
            ):
                self.counts["telegram"] += 1
                await self.store.count("nudged_telegram")
                return True
        if route is not None:
            text = self.text(member, since, None, tr)
            await self.outbox.enqueue(private_lines(self.irc, route, text, "nudge"))
            self.counts["irc"] += 1
            await self.store.count("nudged_irc")
            return True
        if not gone:  # Telegram refused (no Start) and not on IRC now: another time
            await self.store.unmark_nudged(member_id, now)
            self._unreachable[member_id] = now + RETRY_UNREACHABLE
        self.counts["unreachable"] += 1
        await self.store.count("unreachable")
        log.info("freshness: member %d could not be nudged privately", member_id)
        return gone

    def _irc_route(self, member: Member) -> IrcRoute | None:
        """Where an IRC nudge may go now under the private-answer rules, or None."""
        irc = (i for i in member.identities if i.network is Network.IRC)
        return next(filter(None, (route_to(self.irc, self.channels, i) for i in irc)), None)

    def text(
        self,
        member: Member,
        since: float,
        prefix: str | None = None,
        tr: Translations | None = None,
    ) -> str:
        """The nudge: what the member lists, and how to keep it, change it or leave, in tr's
        language (the member's /language choice, else the default)."""
        _ = (tr or translations(self._default_language)).gettext
        p = self.irc_prefix if prefix is None else prefix
        day = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%d")
        if self.title:
            # Translators: in a nudge; %(title)s is the community's name ([web] title).
            where = _("the %(title)s members roster") % {"title": self.title}
        else:
            where = _("the members roster")
        # Translators: in a nudge, in place of the member's list of interests.
        listed = ", ".join(member.interests) if member.interests else _("no interests yet")
        # Translators: the nudge sent privately to a member whose profile went unconfirmed:
        # %(name)s is their name, %(where)s "the members roster" (or with the community's
        # name), %(date)s a date like 2026-12-08, %(listed)s their interests; %(keep)s,
        # %(change)s, %(edit)s and %(leave)s are commands (/interests, /interests python,
        # translation, /interests +tag -tag, /leave); %(days)d days of grace.
        text = _(
            "Hello %(name)s: your entry in %(where)s was last confirmed on %(date)s. "
            "You list: %(listed)s.\n"
            "To keep it, send %(keep)s (it shows and confirms them). "
            "To change it: %(change)s (or %(edit)s). "
            "To leave the roster: %(leave)s.\n"
            "Without an answer within %(days)d days you leave the members directory and the "
            "lists until you confirm; nothing is deleted."
        )
        return text % {
            "name": member.display_name,
            "where": where,
            "date": day,
            "listed": listed,
            "keep": p + "interests",
            "change": p + _("interests python, translation"),
            "edit": p + "interests +tag -tag",
            "leave": p + "leave",
            "days": self.config.confirm_grace_days,
        }


def nudger_for(config: Config, db: Database, outbox: OutboxQueue, irc: IrcView) -> Nudger:
    """The bridge's one Nudger, from the config: the bridged channels, the roster's limits,
    the IRC command prefix and the community's name ([web] title) its nudges show."""
    return Nudger(
        FreshnessStore(db),
        outbox,
        irc,
        [b.irc_channel for b in config.bridges],
        config.roster,
        irc_prefix=config.irc.command_prefix,
        title=config.web.title if config.web else "",
        languages=LanguageStore(db),
        default_language=config.i18n.default_language,
    )
