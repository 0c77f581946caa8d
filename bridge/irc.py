"""The IRC connector: the only module that imports the irc library.

It keeps one connection alive (reconnect with backoff, ping watchdog, nick regain),
translates IRC events into neutral Messages, and writes rendered lines paced by a
token bucket so the server never disconnects the bot for flooding.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import irc.client
import irc.client_aio
from jaraco.stream.buffer import LenientDecodingLineBuffer

from bridge.casemap import irc_casefold
from bridge.config import IrcConfig
from bridge.irc_events import IrcEvents
from bridge.irc_state import ChannelState
from bridge.model import Message
from bridge.outbox import PermanentError, Progress, Queued, Sent, TransientError
from bridge.pacing import TokenBucket, backoff_delay
from bridge.payloads import IrcLines
from bridge.render.irc_format import irc_line_budget
from bridge.tcp import ack_promptly

log = logging.getLogger(__name__)

OnMessage = Callable[[Message], Awaitable[None]]
ECHO_TIMEOUT = 15.0


def _strip_unsafe(text: str) -> str:
    """Last line of defence: no CR, LF or NUL ever reaches the wire inside a payload."""
    return text.replace("\r", " ").replace("\n", " ").replace("\0", "")


class _CapFirstFactory:
    """Opens the socket and asks for capabilities before the library sends NICK/USER."""

    def __init__(self, ssl_context: ssl.SSLContext | None) -> None:
        self.kwargs: dict[str, Any] = {"ssl": ssl_context} if ssl_context else {}

    async def __call__(self, protocol: Any, address: tuple[str, int]) -> Any:
        loop = asyncio.get_running_loop()
        transport, proto = await loop.create_connection(lambda: protocol, *address, **self.kwargs)
        ack_promptly(transport, proto)
        transport.write(b"CAP LS 302\r\n")
        return transport, proto


class IrcConnector(IrcEvents):
    """One IRC connection serving every bridged channel."""

    def __init__(self, config: IrcConfig, channels: Sequence[str], on_message: OnMessage) -> None:
        self.config = config
        self.channels = {irc_casefold(c): c for c in channels}
        self.on_message = on_message
        self.state = ChannelState()
        self.bucket = TokenBucket(config.send_burst, config.send_rate)
        self.own_mask: str | None = None
        self.linelen = 512
        self.caps: set[str] = set()
        self.connection_state = "starting"
        self._reactor: Any = None
        self._conn: Any = None
        self._registered = False
        self._joined: set[str] = set()
        self._changed = asyncio.Event()
        self._disconnected = asyncio.Event()
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._last_rx = time.monotonic()
        self._stopping = False
        self._whois: dict[str, asyncio.Future[str | None]] = {}
        self._whois_account: dict[str, str] = {}
        self._ls_caps: set[str] = set()
        self._outages = 0
        self._down_since: float | None = None
        self._attempts = 0  # connection attempts during the current outage (or at start)
        self._session = 0
        self._paced: asyncio.Queue[tuple[int, Callable[[], None]]] = asyncio.Queue()
        self._handlers: dict[str, Callable[[Any, Any], None]] = {
            "cap": self._on_cap,
            "authenticate": self._on_authenticate,
            "saslsuccess": self._on_sasl_done,
            "saslfail": self._on_sasl_done,
            "sasltoolong": self._on_sasl_done,
            "saslaborted": self._on_sasl_done,
            "welcome": self._on_welcome,
            "featurelist": self._on_features,
            "endofmotd": self._on_motd_end,
            "nomotd": self._on_motd_end,
            "nicknameinuse": self._on_nick_in_use,
            "unavailresource": self._on_nick_in_use,
            "pubmsg": self._on_pubmsg,
            "privmsg": self._on_privmsg,
            "action": self._on_action,
            "pubnotice": self._on_notice,
            "privnotice": self._on_notice,
            "join": self._on_join,
            "part": self._on_part,
            "kick": self._on_kick,
            "quit": self._on_quit,
            "nick": self._on_nick,
            "account": self._on_account,
            "namreply": self._on_names,
            "whoisaccount": self._on_whois_account,
            "endofwhois": self._on_end_of_whois,
            "396": self._on_displayed_host,
            "chghost": self._on_chghost,
            "disconnect": self._on_disconnect,
            "error": self._on_error,
        }
        self._echoes: collections.deque[tuple[str, asyncio.Future[None]]] = collections.deque()

    # ----------------------------------------------------------------- public API

    def is_joined(self, channel: str) -> bool:
        return irc_casefold(channel) in self._joined

    def nicks(self, channel: str) -> list[str]:
        """Who is in channel now, the bot excepted."""
        me = irc_casefold(self.nick)
        return [n for n in self.state.nicks(channel) if irc_casefold(n) != me]

    def payload_budget(self, target: str, *, action: bool = False) -> int:
        """Bytes a payload may use so the line as relayed to others fits the server's limit."""
        mask = self.own_mask or "{}!{}@{}".format(*self._own_mask_guess())
        return irc_line_budget(mask, target, self.linelen, action=action)

    async def run(self) -> None:
        """Connect and stay connected until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._dispatch_inbox(), name="irc inbox")
            group.create_task(self._watchdog(), name="irc watchdog")
            group.create_task(self._regain_nick(), name="irc nick regain")
            group.create_task(self._paced_sender(), name="irc paced commands")
            await self._supervise()

    async def stop(self, message: str = "Bridge shutting down") -> None:
        """Send QUIT and close; the supervisor will not reconnect."""
        self._stopping = True
        if self._conn is not None and self._conn.connected:
            with contextlib.suppress(Exception):
                self._conn.quit(message)
            await asyncio.sleep(0.05)
            with contextlib.suppress(Exception):
                self._conn.disconnect(message)
        # What was read before the QUIT is stored before the caller stops the dispatcher.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._inbox.join(), 5)

    async def wait_changed(self) -> None:
        """Return at the next connection state change (connected, joined, lost)."""
        self._changed.clear()
        await self._changed.wait()

    async def wait_ready(self, chat: str) -> None:
        """Sender: channels need a join, private targets only a registered connection."""
        while not self._ready_for(chat):
            self._changed.clear()
            await self._changed.wait()

    async def deliver(self, chat: str, items: list[Queued], progress: Progress) -> Sent:
        """Sender: write the first item's remaining lines, one paced line at a time."""
        item = items[0]
        payload = item.payload
        if not isinstance(payload, IrcLines):
            raise PermanentError(f"IRC cannot deliver {type(payload).__name__}")
        lines, action, notice = payload.lines, payload.action, payload.notice
        for index in range(item.progress, len(lines)):
            await self.bucket.take()
            if not self._ready_for(chat):
                raise TransientError("not connected to IRC")
            text = _strip_unsafe(lines[index])
            if action:
                self._write(f"PRIVMSG {chat} :\x01ACTION {text}\x01")
            else:
                self._write(f"{'NOTICE' if notice else 'PRIVMSG'} {chat} :{text}")
            if "echo-message" in self.caps:
                await self._await_echo(chat)
            if index + 1 < len(lines):
                await progress(item, index + 1)
        return Sent(1)

    async def _await_echo(self, target: str) -> None:
        """With echo-message a line counts as delivered when the server sends it back."""
        entry = (irc_casefold(target), asyncio.get_running_loop().create_future())
        self._echoes.append(entry)
        try:
            await asyncio.wait_for(asyncio.shield(entry[1]), ECHO_TIMEOUT)
        except TimeoutError:
            log.warning("IRC: no echo within %.0fs; counting the line as sent", ECHO_TIMEOUT)
            with contextlib.suppress(ValueError):
                self._echoes.remove(entry)

    def _echoed(self, target: str) -> None:
        """Our own line came back: the oldest line to that target waiting for it is confirmed."""
        key = irc_casefold(target)
        for entry in self._echoes:
            if entry[0] == key and not entry[1].done():
                self._echoes.remove(entry)
                entry[1].set_result(None)
                return

    def _write(self, line: str) -> None:
        """Write one protocol line within the server's LINELEN (the library assumes 512)."""
        data = line.encode("utf-8", errors="replace")
        if any(c in data for c in b"\r\n\0"):
            raise ValueError("refusing to send a line with CR, LF or NUL")
        transport = getattr(self._conn, "transport", None)
        if transport is None or transport.is_closing():
            raise TransientError("IRC connection lost while sending")
        transport.write(data[: self.linelen - 2] + b"\r\n")

    async def resolve_account(self, nick: str, timeout: float = 3.0) -> str | None:
        """The nick's services account (WHOIS 330) when the server did not tag it."""
        if self.state.knows_account(nick):
            return self.state.account(nick)
        key = irc_casefold(nick)
        future = self._whois.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._whois[key] = future
            try:  # immediate, not paced: a moderator check must not wait behind relay lines
                self._conn.whois(nick)
            except Exception:
                self._whois.pop(key, None)
                return None
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            self._whois.pop(key, None)
            return None

    # ---------------------------------------------------------------- connection

    def _ready_for(self, chat: str) -> bool:
        if not self._registered or self._conn is None or not self._conn.connected:
            return False
        return chat[:1] not in "#&+!" or irc_casefold(chat) in self._joined

    def _mark_changed(self) -> None:
        self._changed.set()

    def _send_paced(self, send: Callable[[], None]) -> None:
        """Queue a command (JOIN, IDENTIFY, MODE) behind the token bucket that paces
        relayed lines; it is dropped if this connection is lost before its turn."""
        self._paced.put_nowait((self._session, send))

    async def _paced_sender(self) -> None:
        while True:
            session, send = await self._paced.get()
            if session != self._session:
                continue
            await self.bucket.take()
            if session == self._session and self._registered and self._conn.connected:
                try:
                    send()
                except Exception:
                    log.exception("IRC: could not send a queued command")

    def _connect_failed(self, level: int, text: str, *args: object) -> None:
        """The first failure of an outage is logged at ``level``; the retries only at DEBUG,
        so an unreachable server gives one clear line, not one per attempt."""
        if self._attempts == 1:
            log.log(
                level,
                text + "; retrying with backoff (up to %.0fs)",
                *args,
                self.config.reconnect_max,
            )
        else:
            log.debug(text + " (attempt %d)", *args, self._attempts)

    async def _supervise(self) -> None:
        attempt = 0
        where = (self.config.host, self.config.port)
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
                self._on_lost()
            if self._stopping:
                break
            if time.monotonic() - started > 60:
                attempt = 0
            wait = backoff_delay(
                attempt, random.random(), self.config.reconnect_min, self.config.reconnect_max
            )
            attempt += 1
            log.debug("IRC: reconnecting in %.1fs", wait)
            await asyncio.sleep(wait)

    async def _connect_once(self) -> None:
        loop = asyncio.get_running_loop()
        if self._reactor is None:
            self._reactor = irc.client_aio.AioReactor(loop=loop)
            self._reactor.add_global_handler("all_events", self._on_event, 0)
            self._conn = self._reactor.server()
            self._conn.buffer_class = LenientDecodingLineBuffer
        self._disconnected.clear()
        self._registered = False
        self._ls_caps = set()
        self.caps = set()
        self.connection_state = "connecting"
        context: ssl.SSLContext | None = None
        if self.config.tls:
            context = ssl.create_default_context(cafile=self.config.tls_ca_file)
            if not self.config.tls_verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        self._last_rx = time.monotonic()
        await asyncio.wait_for(
            self._conn.connect(
                self.config.host,
                self.config.port,
                self.config.nick,
                password=self.config.password,
                username=self.config.username,
                ircname=self.config.realname,
                connect_factory=_CapFirstFactory(context),
            ),
            timeout=30,
        )
        log.info("IRC: connected to %s:%d", self.config.host, self.config.port)

    def _on_lost(self) -> None:
        if self.connection_state == "ready" and not self._stopping:
            self._outages += 1
            self._down_since = time.monotonic()
            self._attempts = 0
            log.warning("IRC: connection lost (outage %d)", self._outages)
        self._session += 1  # queued JOINs/IDENTIFY belong to the lost connection
        self.connection_state = "disconnected"
        self._registered = False
        self._joined.clear()
        self.state.reset()
        for future in self._whois.values():
            if not future.done():
                future.set_result(None)
        self._whois.clear()
        while self._echoes:  # never confirmed: the line will be sent again
            _, echo = self._echoes.popleft()
            if not echo.done():
                echo.set_exception(TransientError("IRC connection lost before the echo"))
        self._mark_changed()

    def _note_ready(self) -> None:
        """Registered again after an outage: one line with how long and how many attempts."""
        if self._down_since is None:
            return
        down = time.monotonic() - self._down_since
        self._down_since = None
        log.info(
            "IRC: reconnected to %s:%d after %.0f s down (outage %d, %d attempt%s)",
            self.config.host,
            self.config.port,
            down,
            self._outages,
            self._attempts,
            "" if self._attempts == 1 else "s",
        )

    async def _watchdog(self) -> None:
        """PING after silence; no line at all for ping_timeout means the link is dead."""
        step = min(self.config.ping_interval, self.config.ping_timeout) / 4
        last_ping = 0.0
        while True:
            await asyncio.sleep(step)
            now = time.monotonic()
            conn = self._conn
            if conn is None or not conn.connected:
                continue
            silent = now - self._last_rx
            if silent > self.config.ping_timeout:
                log.warning("IRC: no data for %.0fs; treating as disconnected", silent)
                with contextlib.suppress(Exception):
                    conn.disconnect("Ping timeout")
                self._disconnected.set()
            elif silent > self.config.ping_interval and now - last_ping > self.config.ping_interval:
                last_ping = now  # one PING per interval: more would count against us as flood
                with contextlib.suppress(Exception):
                    conn.ping(str(int(time.time())))

    async def _regain_nick(self) -> None:
        while True:
            await asyncio.sleep(30)
            self._try_regain()

    def _try_regain(self) -> None:
        if self._registered and irc_casefold(self.nick) != irc_casefold(self.config.nick):
            with contextlib.suppress(Exception):
                self._conn.nick(self.config.nick)

    async def _dispatch_inbox(self) -> None:
        """Hands messages to the router in arrival order, outside the protocol callbacks."""
        while True:
            message = await self._inbox.get()
            try:
                await self.on_message(message)
            except Exception:
                log.exception("IRC: failed to handle a message from %s", message.author.nick)
            finally:
                self._inbox.task_done()

    # ------------------------------------------------------------------- events

    def _on_event(self, conn: Any, event: Any) -> None:
        """Every IRC event passes here; it must never raise into the library."""
        try:
            self._last_rx = time.monotonic()
            handler = self._handlers.get(event.type)
            if handler is not None:
                handler(conn, event)
        except Exception:
            log.exception("IRC: error handling %s", event.type)

    def _on_disconnect(self, conn: Any, event: Any) -> None:
        self._disconnected.set()

    def _on_error(self, conn: Any, event: Any) -> None:
        if self._stopping:
            return
        log.warning("IRC: server error: %s", event.target or " ".join(event.arguments))
