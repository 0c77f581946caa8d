"""Build everything from a Config, run until SIGTERM/SIGINT, and stop in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

from bridge.config import Config, resolve_storage_path
from bridge.irc import IrcConnector
from bridge.outbox import Outbox, PayloadStore, payload_store
from bridge.payloads import IrcLines, Payload, TelegramHtml
from bridge.router import Router
from bridge.telegram import FatalTelegramError, TelegramConnector
from handlers.registry import build_registry
from storage.db import Database, StorageError
from storage.message_map import MessageMap
from storage.roster_store import RosterStore

log = logging.getLogger(__name__)


MESSAGE_MAP_DAYS = 7
"""How long the bot remembers who wrote what it posted (for replies); kept short because it
holds people's words and names, which /leave cannot trace back to a member."""
PRUNE_EVERY = 3600.0
IN_FLIGHT_GRACE = 5.0
"""At shutdown, how long a message already being sent may take to finish (at least the
Telegram request timeout)."""


async def prune_old(store: PayloadStore, message_map: MessageMap, horizon_hours: float) -> None:
    """Forget delivered keys once no re-delivery can come (twice the horizon) and old
    reply records, so neither table grows for ever."""
    now = time.time()
    await store.prune_delivered(now - 2 * horizon_hours * 3600)
    await message_map.prune(now - MESSAGE_MAP_DAYS * 86400)


def horizon_summary(network: str, count: int, hours: float) -> Payload:
    """The line that replaces messages too old to deliver, so their loss is not silent."""
    text = f"{count} messages from the last {hours:g} h were not delivered (the bridge was down)."
    if network == "telegram":
        return TelegramHtml(f"<i>{text}</i>")
    return IrcLines((text,), notice=True)


class App:
    """The running bridge: storage, connectors, router and outbox wired together."""

    def __init__(self, config: Config, db: Database) -> None:
        """Every part once, each given what it uses: storage, then the two connectors, the
        outbox that writes through them, and the router that reads from them and queues."""
        self.config = config
        self.db = db
        self.store = payload_store(db)
        self.message_map = MessageMap(db)
        self.roster = RosterStore(db)
        self.irc = IrcConnector(config.irc, [b.irc_channel for b in config.bridges])
        self.telegram = TelegramConnector(config.telegram)
        self.outbox = Outbox(
            self.store,
            {"irc": self.irc, "telegram": self.telegram},
            horizon_hours=config.delivery.horizon_hours,
            summary=horizon_summary,
        )
        self.router = Router(
            config,
            self.outbox,
            build_registry(config.roster.commands_per_minute),
            self.roster,
            self.message_map,
            irc=self.irc,
            telegram=self.telegram,
        )
        self.stopping = asyncio.Event()

    async def run(self) -> int:
        """Run until asked to stop; 0 after a clean stop, 1 after a fatal error."""
        try:
            await self.telegram.start()
        except FatalTelegramError as exc:
            log.error("%s", exc)
            await self.telegram.stop()
            return 1
        for pair in self.config.bridges:
            problem = await self.telegram.check_chat(pair.telegram_chat)
            if problem:
                log.error("%s", problem)
        tasks = {
            "state": asyncio.create_task(self._publish_state(), name="state"),
            "prune": asyncio.create_task(self._prune_periodically(), name="prune"),
            "outbox": asyncio.create_task(self.outbox.run(), name="outbox"),
            "irc": asyncio.create_task(self.irc.run(self.router.handle), name="irc"),
            "telegram": asyncio.create_task(self.telegram.run(self.router.handle), name="telegram"),
        }
        ready = asyncio.create_task(self._announce_ready(), name="ready")
        stop = asyncio.create_task(self.stopping.wait(), name="stop")
        done, _ = await asyncio.wait([*tasks.values(), stop], return_when=asyncio.FIRST_COMPLETED)
        code = 0
        for task in done:
            if task is not stop and not task.cancelled() and task.exception() is not None:
                log.error("%s stopped: %s", task.get_name(), task.exception())
                code = 1
        ready.cancel()
        await self._shutdown(tasks)
        stop.cancel()
        return code

    async def _publish_state(self) -> None:
        """Keep each connection's state in the database for `tgirc-bridge status`: every 5 s,
        and at once when the IRC connection changes (joined, lost)."""
        while True:
            now = time.time()
            for name, state in (
                ("irc", self.irc.connection_state),
                ("telegram", self.telegram.connection_state),
            ):
                await self.store.set_state(f"connection:{name}", f"{state} {now:.0f}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.irc.wait_changed(), 5)

    async def _prune_periodically(self) -> None:
        while True:
            await prune_old(self.store, self.message_map, self.config.delivery.horizon_hours)
            await asyncio.sleep(PRUNE_EVERY)

    async def _announce_ready(self) -> None:
        for pair in self.config.bridges:
            await self.irc.wait_ready(pair.irc_channel)
        log.info("ready: bridging %d pair(s)", len(self.config.bridges))

    async def _shutdown(self, tasks: dict[str, asyncio.Task[None]]) -> None:
        """Stop intake first, flush what is queued within the grace period, then QUIT."""
        log.info("stopping")
        await _cancel(tasks["telegram"])
        await self.telegram.stop()
        drained = await self.outbox.wait_idle(self.config.delivery.shutdown_grace)
        if not drained:
            log.warning("stopping with messages still queued; they are kept for the next start")
        # A message on the wire is finished and recorded, never cut off half-sent.
        await self.outbox.stop(max(IN_FLIGHT_GRACE, self.config.telegram.request_timeout))
        await self.irc.stop()
        for name in ("outbox", "irc", "state", "prune"):
            await _cancel(tasks[name])
        for name in ("irc", "telegram"):
            await self.store.set_state(f"connection:{name}", f"stopped {time.time():.0f}")

    def request_stop(self) -> None:
        self.stopping.set()


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def run_bridge(config: Config) -> int:
    """Open storage, run the bridge until SIGTERM/SIGINT, close everything."""
    path = resolve_storage_path(config)
    try:
        db = await Database.open(path)
    except StorageError as exc:
        log.error("%s", exc)
        return 1
    try:
        app = App(config, db)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, app.request_stop)
        return await app.run()
    finally:
        await db.close()
