"""Keeping one IRC connection alive: connect, reconnect with backoff and jitter, a watchdog
that PINGs on silence, and one log line per outage (lost, then back after how long); giving
up only on what the operator must change (a nick the server refuses).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Callable
from typing import Any

import irc.client_aio
from jaraco.stream.buffer import LenientDecodingLineBuffer

from bridge.config import IrcConfig
from bridge.config_checks import load_client_certificate
from bridge.irc.caps import CapFirstFactory, CapNegotiation
from bridge.irc.ctcp import WholeMessages
from bridge.irc.link import Handler, Handlers, Link
from bridge.irc.tcp import PromptAckIrcProtocol
from bridge.pacing import backoff_delay

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 30.0
STABLE_AFTER = 60.0
"""A connection that lasted this long resets the backoff: the next outage starts fast."""


class IrcGaveUp(Exception):
    """The server refuses what only the operator can change; reconnecting cannot help."""


class Supervisor:
    """Owns the library connection's life; what the other parts lose with it is theirs
    to forget (``on_lost``)."""

    def __init__(
        self,
        config: IrcConfig,
        link: Link,
        caps: CapNegotiation,
        events: Handler,
        on_lost: Callable[[], None],
    ) -> None:
        self._config = config
        self._link = link
        self._caps = caps
        self._events = WholeMessages(events)
        self._on_lost = on_lost
        self._reactor: Any = None
        self._disconnected = asyncio.Event()
        self._last_rx = time.monotonic()
        self._stopping = False
        self._outages = 0
        self._down_since: float | None = None
        self._attempts = 0  # connection attempts during the current outage (or at start)
        self._gave_up: str | None = None

    async def run(self) -> None:
        """Connect, and connect again after every loss, until stop()."""
        attempt = 0
        where = (self._config.host, self._config.port)
        while not self._stopping:
            started = time.monotonic()
            self._attempts += 1
            try:
                await self._connect_once()
                await self._disconnected.wait()
            except ssl.SSLCertVerificationError as exc:
                msg = "IRC %s:%d: TLS certificate rejected (%s)"
                self._connect_failed(logging.ERROR, msg, *where, exc.verify_message)
            except (OSError, TimeoutError) as exc:
                reason = str(exc) or type(exc).__name__
                self._connect_failed(logging.WARNING, "IRC %s:%d unreachable: %s", *where, reason)
            finally:
                self._lost()
            if self._gave_up is not None:
                raise IrcGaveUp(self._gave_up)
            if self._stopping:
                break
            if time.monotonic() - started > STABLE_AFTER:
                attempt = 0
            wait = backoff_delay(
                attempt, random.random(), self._config.reconnect_min, self._config.reconnect_max
            )
            attempt += 1
            log.debug("IRC: reconnecting in %.1fs", wait)
            await asyncio.sleep(wait)

    @property
    def outages(self) -> int:
        """Connections lost since start, each followed by reconnecting (for /metrics)."""
        return self._outages

    async def stop(self, message: str) -> None:
        """Send QUIT and close; run() will not reconnect."""
        self._stopping = True
        conn = self._link.conn
        if conn is not None and conn.connected:
            with contextlib.suppress(Exception):
                conn.quit(message)
            await asyncio.sleep(0.05)
            with contextlib.suppress(Exception):
                conn.disconnect(message)

    def give_up(self, reason: str) -> None:
        """Close for good: run() raises IrcGaveUp(reason) instead of reconnecting."""
        self._gave_up = reason
        self._stopping = True
        conn = self._link.conn
        if conn is not None and conn.connected:
            with contextlib.suppress(Exception):
                conn.disconnect(reason)
        self._disconnected.set()

    def _tls_context(self) -> ssl.SSLContext | None:
        if not self._config.tls:
            return None
        context = ssl.create_default_context(cafile=self._config.tls_ca_file)
        if not self._config.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self._config.tls_client_cert:  # presented to every server that asks (CertFP)
            try:
                load_client_certificate(
                    context, self._config.tls_client_cert, self._config.tls_client_key
                )
            except ValueError as exc:  # changed since check-config: retried like a refusal
                raise OSError(f"irc.tls_client_cert: {exc}") from None
        return context

    async def _connect_once(self) -> None:
        if self._reactor is None:  # inside a coroutine: the reactor takes the running loop
            self._reactor = irc.client_aio.AioReactor(loop=asyncio.get_running_loop())
            self._reactor.add_global_handler("all_events", self._on_any_event, 0)
            self._link.conn = self._reactor.server()
            self._link.conn.buffer_class = LenientDecodingLineBuffer
            self._link.conn.protocol_class = PromptAckIrcProtocol
        self._disconnected.clear()
        self._link.registered = False
        self._caps.reset()
        self._link.state = "connecting"
        context = self._tls_context()
        self._last_rx = time.monotonic()
        await asyncio.wait_for(
            self._link.conn.connect(
                self._config.host,
                self._config.port,
                self._config.nick,
                password=self._config.password,
                username=self._config.username,
                ircname=self._config.realname,
                connect_factory=CapFirstFactory(context),
            ),
            timeout=CONNECT_TIMEOUT,
        )
        log.info("IRC: connected to %s:%d", self._config.host, self._config.port)

    def _connect_failed(self, level: int, text: str, *args: object) -> None:
        """The first failure of an outage is logged at ``level``; the retries only at DEBUG,
        so an unreachable server gives one clear line, not one per attempt."""
        if self._attempts == 1:
            log.log(
                level,
                text + "; retrying with backoff (up to %.0fs)",
                *args,
                self._config.reconnect_max,
            )
        else:
            log.debug(text + " (attempt %d)", *args, self._attempts)

    def _lost(self) -> None:
        if self._link.state == "ready" and not self._stopping:
            self._outages += 1
            self._down_since = time.monotonic()
            self._attempts = 0
            log.warning("IRC: connection lost (outage %d)", self._outages)
        self._link.state = "disconnected"
        self._link.registered = False
        self._on_lost()
        self._link.mark_changed()

    def note_ready(self) -> None:
        """Registered again after an outage: one line with how long and how many attempts."""
        if self._down_since is None:
            return
        down = time.monotonic() - self._down_since
        self._down_since = None
        log.info(
            "IRC: reconnected to %s:%d after %.0f s down (outage %d, %d attempt%s)",
            self._config.host,
            self._config.port,
            down,
            self._outages,
            self._attempts,
            "" if self._attempts == 1 else "s",
        )

    async def watchdog(self) -> None:
        """PING after silence; no line at all for ping_timeout means the link is dead."""
        step = min(self._config.ping_interval, self._config.ping_timeout) / 4
        last_ping = 0.0
        while True:
            await asyncio.sleep(step)
            now = time.monotonic()
            conn = self._link.conn
            if conn is None or not conn.connected:
                continue
            silent = now - self._last_rx
            if silent > self._config.ping_timeout:
                log.warning("IRC: no data for %.0fs; treating as disconnected", silent)
                with contextlib.suppress(Exception):
                    conn.disconnect("Ping timeout")
                self._disconnected.set()
            elif (
                silent > self._config.ping_interval and now - last_ping > self._config.ping_interval
            ):
                last_ping = now  # one PING per interval: more would count against us as flood
                with contextlib.suppress(Exception):
                    conn.ping(str(int(time.time())))

    def _on_any_event(self, conn: Any, event: Any) -> None:
        """Every IRC event passes here: any line at all proves the link alive. A PRIVMSG or
        NOTICE goes on whole, not split at each \\x01 (bridge.irc.ctcp)."""
        self._last_rx = time.monotonic()
        self._events(conn, event)

    def handlers(self) -> Handlers:
        return {"disconnect": self._on_disconnect, "error": self._on_error}

    def _on_disconnect(self, conn: Any, event: Any) -> None:
        self._disconnected.set()

    def _on_error(self, conn: Any, event: Any) -> None:
        if self._stopping:
            return
        log.warning("IRC: server error: %s", event.target or " ".join(event.arguments))
