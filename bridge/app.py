"""Build everything from a Config, run until SIGTERM/SIGINT, and stop in order.

Both networks start at once, so an outage of one at start-up never holds the other back, and
a stop request is heard from the first moment. Stopping is bounded: the process ends within
delivery.shutdown_grace + 5 s, whatever the networks do.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import time
from typing import TYPE_CHECKING

from bridge.config import Config, resolve_storage_path
from bridge.errors import EXIT_CONFIG, ConfigError
from bridge.freshness import nudger_for
from bridge.irc import IrcConnector
from bridge.media_links import media_links_for
from bridge.model import Network
from bridge.notices import HorizonNotices, chat_languages
from bridge.outbox import Outbox
from bridge.paste import PasteLinks, paster_for
from bridge.router import Router
from bridge.sending import PayloadStore, payload_store
from bridge.telegram import FatalTelegramError, TelegramConnector
from handlers.registry import build_registry
from storage.db import Database, StorageError
from storage.message_map import MessageMap
from storage.pastes import PasteStore
from storage.pending_commands import PendingCommands
from storage.roster_store import RosterStore
from storage.set_aside import SetAsideStore
from storage.status import BridgeStatus, ConnectionStatus, StatusStore
from storage.topics import TopicStore

if TYPE_CHECKING:
    from bridge.mail.schedule import DigestSchedule
    from bridge.web import WebFace

log = logging.getLogger(__name__)


MESSAGE_MAP_DAYS = 7
"""How long the bot remembers who wrote what it posted (for replies); kept short because it
holds people's words and names, which /leave cannot trace back to a member."""
PRUNE_EVERY = 3600.0
IN_FLIGHT_GRACE = 5.0
"""At shutdown, how long a message already being sent may take to finish (at least the
Telegram request timeout)."""
STOP_MARGIN = 2.5
"""Of the 5 s a stop may take beyond shutdown_grace, what the message on the wire may use
after the grace; QUIT and the last state get their own second at most, and the rest is for
closing connections and exiting."""
CONFIRM_TIMEOUT = 3.0
QUIT_TIMEOUT = 1.0
STATE_TIMEOUT = 0.5
"""At shutdown, how long writing the last connection state ("stopped") may take: a database
another process holds locked must not hold the stop."""


async def prune_old(store: PayloadStore, message_map: MessageMap, horizon_hours: float) -> None:
    """Forget delivered keys once no re-delivery can come (twice the horizon) and old
    reply records, so neither table grows for ever."""
    now = time.time()
    await store.prune_delivered(now - 2 * horizon_hours * 3600)
    await message_map.prune(now - MESSAGE_MAP_DAYS * 86400)


class App:
    """The running bridge: storage, connectors, router and outbox wired together."""

    def __init__(self, config: Config, db: Database, stopping: asyncio.Event | None = None) -> None:
        """Every part once, each given what it uses: storage, then the two connectors, the
        outbox that writes through them, and the router that reads from them and queues."""
        self.config = config
        self.db = db
        self.store = payload_store(db)
        self.message_map = MessageMap(db)
        self.topics = TopicStore(db)
        self.set_aside = SetAsideStore(db)
        self.status = StatusStore(db)
        self.roster = RosterStore(
            db, unverified_per_host_per_hour=config.roster.unverified_per_host_per_hour
        )
        self.irc = IrcConnector(
            config.irc,
            [b.irc_channel for b in config.bridges],
            {b.irc_channel: b.irc_key for b in config.bridges if b.irc_key},
        )
        self.telegram = TelegramConnector(config.telegram)
        default = config.i18n.default_language
        self.outbox = Outbox(
            self.store,
            {Network.IRC: self.irc, Network.TELEGRAM: self.telegram},
            horizon_hours=config.delivery.horizon_hours,
            summary=HorizonNotices(chat_languages(config.bridges, default), default),
        )
        self.links = media_links_for(config.web)
        self.pastes = PasteStore(db)
        self.router = Router(
            config,
            self.outbox,
            build_registry(config.roster.commands_per_minute),
            self.roster,
            self.message_map,
            irc=self.irc,
            telegram=self.telegram,
            topics=self.topics,
            pending=PendingCommands(db),
            links=self.links,
            pastes=paster_for(config.relay.paste_over_lines, self.links, self.pastes),
        )
        self.nudger = nudger_for(config, db, self.outbox, self.irc)  # a task of its own
        self.digest = self._build_digest()
        self.web = self._build_web() if config.web is not None else None
        if self.web is not None:
            self._add_directory(self.web)
            self._add_pastes(self.web)
        self.stopping = stopping if stopping is not None else asyncio.Event()

    def _add_directory(self, face: WebFace) -> None:
        """The members directory pages (listed members only) on the same server."""
        from bridge.web.directory import add_directory
        from bridge.web.directory_view import public_joins
        from storage.directory import DirectoryStore

        assert self.config.web is not None
        # a card names the channels its member was seen in, never one marked directory = false
        channels = [b.irc_channel for b in self.config.bridges if b.directory]
        add_directory(
            face.server.app,
            DirectoryStore(self.db),
            self.config.web.public_url,
            channels,
            title=self.config.web.title,
            joins=public_joins(self.config.bridges, self.config.irc.host),
            default_language=self.config.i18n.default_language,
        )

    def _add_pastes(self, face: WebFace) -> None:
        """/p/<token>: long posts' whole text (served even with paste_over_lines = 0 now,
        for the links given out before)."""
        from bridge.web.paste import PasteService
        from storage.web_secret import WebSecretStore

        assert self.links is not None
        service = PasteService(
            PasteLinks(self.links), self.pastes, load_secret=WebSecretStore(self.db).get_or_create
        )
        service.add_routes(face.server.app)

    def _build_digest(self) -> DigestSchedule | None:
        """[digest]: the mailing-list digest's schedule; aiosmtplib is loaded only then."""
        if self.config.digest is None:
            return None
        from bridge.mail.schedule import DigestSchedule
        from storage.digest import DigestStore

        return DigestSchedule(self.config, DigestStore(self.db))

    def _build_web(self) -> WebFace:
        """[web]: media links, /healthz, /metrics. bridge.web is imported only once [web] is
        set, so a bridge without it never loads prometheus-client or jinja2 (aiohttp, which
        the Telegram connector sends with, is always loaded)."""
        from bridge.web import WebFace
        from bridge.web.health import HealthParts
        from bridge.web.metrics import MetricsParts
        from storage.web_secret import WebSecretStore

        web, tg = self.config.web, self.config.telegram
        assert web is not None and self.links is not None

        async def members() -> int:
            return (await self.roster.stats(top=0)).member_count

        return WebFace(
            web,
            links=self.links,
            files=self.telegram.files,
            secrets=WebSecretStore(self.db),
            db_path=self.db.path,
            health=HealthParts(
                self.irc, self.telegram, self.store, tg.poll_timeout + tg.request_timeout + 30
            ),
            metrics=MetricsParts(
                outbox=self.outbox,
                queues=self.store,
                connections={Network.IRC: self.irc, Network.TELEGRAM: self.telegram},
                reconnects=lambda: {
                    Network.IRC: self.irc.supervisor.outages,
                    Network.TELEGRAM: self.telegram.outages,
                },
                commands=lambda: self.router.commands.runs,
                roster_size=members,
                asks=self.router.asking.totals,
                nudges=self.nudger.totals,
                digest=self.digest.counts if self.digest is not None else None,
            ),
        )

    async def run(self) -> int:
        """Run until asked to stop; 0 after a clean stop, 1 after a fatal error. Raises
        ConfigError before anything connects when web.listen cannot be bound."""
        if self.web is not None:
            await self.web.start()
        await self.outbox.drop_senders(self.router.ignores)  # queued before a new ignore rule
        set_aside = functools.partial(self._set_aside, Network.TELEGRAM)
        await self.router.resume_commands()  # those a crash or a stop left unanswered
        tasks = {
            "state": asyncio.create_task(self._publish_state(), name="state"),
            "prune": asyncio.create_task(self._prune_periodically(), name="prune"),
            "outbox": asyncio.create_task(self.outbox.run(), name="outbox"),
            "irc": asyncio.create_task(self.irc.run(self.router.handle), name="irc"),
            "telegram": asyncio.create_task(
                self.telegram.run(self.router.handle, set_aside), name="telegram"
            ),
            "set aside": asyncio.create_task(self._set_aside_irc(), name="set aside"),
        }
        helpers = [
            asyncio.create_task(self._announce_ready(), name="ready"),
            asyncio.create_task(self._check_chats(), name="check chats"),
            asyncio.create_task(self._publish_menu(), name="menu"),
            asyncio.create_task(self.nudger.run(), name="freshness"),  # its own task
        ]
        if self.digest is not None:  # its own task: mail never waits in the relay's lane
            helpers.append(asyncio.create_task(self.digest.run(), name="digest"))
        stop = asyncio.create_task(self.stopping.wait(), name="stop")
        done, _ = await asyncio.wait([*tasks.values(), stop], return_when=asyncio.FIRST_COMPLETED)
        code = 0
        for task in done:
            if task is not stop and not task.cancelled() and task.exception() is not None:
                exc = task.exception()
                if isinstance(exc, FatalTelegramError):
                    log.error("%s", exc)  # one clear line, already naming the cause
                else:
                    log.error("%s stopped: %s", task.get_name(), exc)
                code = 1
        for helper in helpers:
            helper.cancel()
        await self._shutdown(tasks)
        stop.cancel()
        return code

    async def _set_aside(self, network: str, reference: str, raw: str, error: Exception) -> None:
        """Keep an input whose handling raised, counted by `status`, so it is neither lost
        nor tried again for ever. A storage failure is not the input's fault: it is raised
        again for the caller to retry the input later."""
        if isinstance(error, StorageError):
            raise error
        await self.set_aside.put(network, reference, raw, f"{type(error).__name__}: {error}")
        log.info("%s: %s set aside (counted by `tgirc-bridge status`)", network, reference)

    async def _set_aside_irc(self) -> None:
        """IRC lines that failed (already logged with the line by the inbox) are set aside."""
        while True:
            failure = await self.irc.inbox.next_failure()
            try:
                await self._set_aside(Network.IRC, "line", failure.line, failure.error)
            except StorageError as exc:
                log.error("IRC: line not stored, lost: %r (%s)", failure.line, exc)

    async def _check_chats(self) -> None:
        """One clear line per bridged group the bot cannot see, once Telegram answers."""
        await self.telegram.wait_logged_in()
        # a group in several pairs (one per forum topic) is checked once
        for group in dict.fromkeys(pair.telegram_chat for pair in self.config.bridges):
            problem = await self.telegram.check_chat(group)
            if problem:
                log.error("%s", problem)

    async def _publish_menu(self) -> None:
        """Telegram's command menu, in each shipped language: the commands /help lists but
        the moderators', whose menu entry would only tell the others no."""
        specs = self.router.commands.registry.specs
        commands = [(s.name, s.summary) for s in specs if not s.moderator_only]
        await self.telegram.publish_menu(commands, self.config.i18n.default_language)

    async def _publish_state(self) -> None:
        """Keep each connection's state, and each IRC channel's, in the database for
        `tgirc-bridge status`: every 5 s, and at once when the IRC connection changes (joined,
        refused, lost)."""
        while True:
            seen = self.irc.changes  # a join while the write below runs is not missed
            try:
                await self._write_state()
            except StorageError as exc:  # busy for long: the next round writes it
                log.warning("connection state not recorded: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.irc.wait_changed(after=seen), 5)

    async def _write_state(self) -> None:
        now = time.time()
        await self.status.write(
            BridgeStatus(
                irc=ConnectionStatus(self.irc.connection_state, now),
                telegram=ConnectionStatus(self.telegram.connection_state, now),
                irc_channels=tuple(self.irc.channel_status().items()),
                waiting_topics=tuple(self.telegram.unavailable_topics.items()),
            )
        )

    async def _prune_periodically(self) -> None:
        while True:
            try:
                await prune_old(self.store, self.message_map, self.config.delivery.horizon_hours)
                await self.pastes.prune(time.time())  # expired paste links' texts
                await self.router.asking.sweep()  # questions kept past roster.ask_ttl_days
            except StorageError as exc:  # busy for long: the next round will do it
                log.warning("pruning skipped: %s", exc)
            await asyncio.sleep(PRUNE_EVERY)

    async def _announce_ready(self) -> None:
        for pair in self.config.bridges:
            await self.irc.wait_ready(pair.irc_channel)
        log.info("ready: bridging %d pair(s)", len(self.config.bridges))

    async def _shutdown(self, tasks: dict[str, asyncio.Task[None]]) -> None:
        """Stop intake first, flush what is queued within the grace period, then QUIT; every
        step is bounded by one deadline, so an unreachable network cannot hold the stop."""
        log.info("stopping")
        loop = asyncio.get_running_loop()
        grace = self.config.delivery.shutdown_grace
        deadline = loop.time() + grace + STOP_MARGIN

        def left(cap: float) -> float:
            return max(0.0, min(cap, deadline - loop.time()))

        await _cancel(tasks["telegram"])
        # Commands still running are cut off at the deadline and run again at the next start.
        await self.router.lanes.drain(left(grace))
        _, drained = await asyncio.gather(
            self.telegram.confirm(left(CONFIRM_TIMEOUT)), self.outbox.wait_idle(left(grace))
        )
        if not drained:
            log.warning("stopping with messages still queued; they are kept for the next start")
        # A message on the wire is finished and recorded, never cut off half-sent (unless
        # the deadline comes first: it is then sent again at the next start).
        await self.outbox.stop(left(max(IN_FLIGHT_GRACE, self.config.telegram.request_timeout)))
        with contextlib.suppress(TimeoutError):
            # QUIT, and what was read before it stored: the time left, or a second past it
            await asyncio.wait_for(self.irc.stop(), max(QUIT_TIMEOUT, left(IN_FLIGHT_GRACE)))
        for task in tasks.values():
            await _cancel(task)
        with contextlib.suppress(TimeoutError, StorageError):
            async with asyncio.timeout(STATE_TIMEOUT):
                await self.status.stopped(time.time())
        if self.web is not None:
            await self.web.stop()
        await self.telegram.close()


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def run_bridge(config: Config) -> int:
    """Open storage, run the bridge until SIGTERM/SIGINT, close everything. The signals are
    caught before anything else, so a stop request at any moment ends in a clean stop."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    path = resolve_storage_path(config)
    try:
        db = await Database.open(path)
    except StorageError as exc:
        log.error("%s", exc)
        return 1
    try:
        return await App(config, db, stopping).run()
    except ConfigError as exc:  # found only at start (web.listen in use): a config error
        for problem in exc.problems:
            log.error("config error: %s", problem)
        return EXIT_CONFIG
    finally:
        await db.close()
