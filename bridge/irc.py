"""The IRC connector: the only module that imports the irc library.

It keeps one connection alive (reconnect with backoff, ping watchdog, nick regain),
translates IRC events into neutral Messages, and writes rendered lines paced by a
token bucket so the server never disconnects the bot for flooding.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import itertools
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar

import irc.client
import irc.client_aio
from jaraco.stream.buffer import LenientDecodingLineBuffer

from bridge.casemap import irc_casefold
from bridge.config import IrcConfig
from bridge.irc_state import ChannelState
from bridge.model import Author, ChatId, ChatRef, Message, MessageKind, Network, UserId
from bridge.outbox import Progress, TransientError
from bridge.pacing import TokenBucket
from bridge.render.irc import irc_line_budget, parse_irc_formatting
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)

OnMessage = Callable[[Message], Awaitable[None]]
WANTED_CAPS = {
    "message-tags",
    "server-time",
    "account-tag",
    "extended-join",
    "account-notify",
    "multi-prefix",
    "echo-message",
}
ECHO_TIMEOUT = 15.0
_ids = itertools.count(1)


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
        transport.write(b"CAP LS 302\r\n")
        return transport, proto


class IrcConnector:
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
        self._echoes: collections.deque[tuple[str, asyncio.Future[None]]] = collections.deque()

    # ----------------------------------------------------------------- public API

    @property
    def nick(self) -> str:
        return str(self._conn.real_nickname) if self._conn is not None else self.config.nick

    def is_joined(self, channel: str) -> bool:
        return irc_casefold(channel) in self._joined

    def nicks(self, channel: str) -> list[str]:
        """Who is in channel now, the bot excepted."""
        me = irc_casefold(self.nick)
        return [n for n in self.state.nicks(channel) if irc_casefold(n) != me]

    def payload_budget(self, target: str, *, action: bool = False) -> int:
        """Bytes a payload may use so the line as relayed to others fits the server's limit."""
        mask = self.own_mask or f"{self.nick}_!{self.config.username[:10]}@{'h' * 63}"
        return irc_line_budget(mask, target, self.linelen, action=action)

    async def run(self) -> None:
        """Connect and stay connected until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._dispatch_inbox(), name="irc inbox")
            group.create_task(self._watchdog(), name="irc watchdog")
            group.create_task(self._regain_nick(), name="irc nick regain")
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

    async def wait_changed(self) -> None:
        """Return at the next connection state change (connected, joined, lost)."""
        self._changed.clear()
        await self._changed.wait()

    async def wait_ready(self, chat: str) -> None:
        """Sender: channels need a join, private targets only a registered connection."""
        while not self._ready_for(chat):
            self._changed.clear()
            await self._changed.wait()

    async def deliver(self, chat: str, items: list[OutboxItem], progress: Progress) -> int:
        """Sender: write the first item's remaining lines, one paced line at a time."""
        item = items[0]
        lines: list[str] = list(item.payload.get("lines", []))
        action = bool(item.payload.get("action", False))
        notice = bool(item.payload.get("notice", False))
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
        return 1

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
            try:
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

    async def _supervise(self) -> None:
        delay = self.config.reconnect_min
        while not self._stopping:
            started = time.monotonic()
            try:
                await self._connect_once()
                await self._disconnected.wait()
            except ssl.SSLCertVerificationError as exc:
                log.error(
                    "IRC %s:%d: TLS certificate rejected (%s)",
                    self.config.host,
                    self.config.port,
                    exc.verify_message,
                )
            except (OSError, TimeoutError) as exc:
                log.warning("IRC %s:%d unreachable: %s", self.config.host, self.config.port, exc)
            finally:
                self._on_lost()
            if self._stopping:
                break
            if time.monotonic() - started > 60:
                delay = self.config.reconnect_min
            wait = delay * (0.5 + random.random())
            log.info("IRC: reconnecting in %.1fs", wait)
            await asyncio.sleep(wait)
            delay = min(self.config.reconnect_max, delay * 2)

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
            log.warning("IRC: connection lost (outage %d)", self._outages)
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

    # ------------------------------------------------------------------- events

    def _on_event(self, conn: Any, event: Any) -> None:
        """Every IRC event passes here; it must never raise into the library."""
        try:
            self._last_rx = time.monotonic()
            handler = self._handlers.get(event.type)
            if handler is not None:
                handler(self, conn, event)
        except Exception:
            log.exception("IRC: error handling %s", event.type)

    def _on_cap(self, conn: Any, event: Any) -> None:
        sub = event.arguments[0].upper() if event.arguments else ""
        caps = event.arguments[-1].split() if len(event.arguments) > 1 else []
        if sub == "LS":
            self._ls_caps.update(c.split("=", 1)[0] for c in caps)
            if len(event.arguments) > 2 and event.arguments[1] == "*":
                return  # more LS lines follow
            wanted = set(WANTED_CAPS)
            if self.config.sasl_username:
                wanted.add("sasl")
            request = sorted(wanted & self._ls_caps)
            if request:
                conn.cap("REQ", ":" + " ".join(request))
            else:
                conn.cap("END")
        elif sub == "ACK":
            self.caps.update(c.lstrip("-=~") for c in caps)
            if "sasl" in self.caps and self.config.sasl_username:
                conn.send_raw("AUTHENTICATE PLAIN")
            else:
                conn.cap("END")
        elif sub == "NAK":
            conn.cap("END")

    def _on_authenticate(self, conn: Any, event: Any) -> None:
        if event.target == "+" and self.config.sasl_username and self.config.sasl_password:
            user = self.config.sasl_username
            blob = f"{user}\0{user}\0{self.config.sasl_password}".encode()
            conn.send_raw("AUTHENTICATE " + base64.b64encode(blob).decode())

    def _on_sasl_done(self, conn: Any, event: Any) -> None:
        if event.type != "saslsuccess":
            log.error("IRC: SASL authentication failed (%s); continuing without", event.type)
        conn.cap("END")

    def _on_welcome(self, conn: Any, event: Any) -> None:
        self._registered = True
        words = (event.arguments[-1] if event.arguments else "").split()
        if words and "!" in words[-1] and "@" in words[-1]:
            self.own_mask = words[-1]
        log.info("IRC: registered as %s", conn.real_nickname)

    def _on_features(self, conn: Any, event: Any) -> None:
        linelen = vars(conn.features).get("linelen")
        if isinstance(linelen, int) and linelen >= 512:
            self.linelen = linelen

    def _on_motd_end(self, conn: Any, event: Any) -> None:
        if self.connection_state == "ready":
            return
        bot_mode = vars(conn.features).get("bot")
        if self.config.bot_mode and isinstance(bot_mode, str) and bot_mode:
            conn.mode(conn.real_nickname, "+" + bot_mode)
        if self.config.nickserv_password:
            conn.privmsg("NickServ", f"IDENTIFY {self.config.nick} {self.config.nickserv_password}")
        for channel in self.channels.values():
            conn.join(channel)
        self.bucket.reset()
        self.connection_state = "ready"
        self._mark_changed()

    def _on_nick_in_use(self, conn: Any, event: Any) -> None:
        if self._registered:
            return  # a regain attempt failed; keep the current nick
        taken = event.arguments[0] if event.arguments else conn.real_nickname
        alternative = taken + "_" if len(taken) < 16 else taken[:-1] + str(random.randint(0, 9))
        log.warning("IRC: nick %s in use, trying %s", taken, alternative)
        conn.nick(alternative)

    def _is_me(self, nick: str) -> bool:
        return irc_casefold(nick) == irc_casefold(self.nick)

    def _author(self, event: Any) -> Author:
        source = event.source
        nick = source.nick
        tags = {t["key"]: t.get("value") for t in (event.tags or [])}
        account = tags.get("account") or self.state.account(nick)
        mask = str(source)
        user_id = f"account:{account}" if account else f"mask:{mask}"
        return Author(
            network=Network.IRC,
            user_id=UserId(user_id),
            display_name=nick,
            nick=nick,
            account=account,
            mask=mask,
        )

    def _emit(
        self,
        event: Any,
        channel: str,
        kind: MessageKind,
        text: str = "",
        *,
        private: bool = False,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> None:
        tags = {t["key"]: t.get("value") for t in (event.tags or [])}
        author = self._author(event)
        plain, spans = parse_irc_formatting(text)
        source_id = f"irc:{tags.get('msgid') or f'{time.time_ns()}-{next(_ids)}'}"
        chat_id = author.nick if private else self.channels.get(irc_casefold(channel), channel)
        self._inbox.put_nowait(
            Message(
                source_id=source_id,
                author=author,
                chat=ChatRef(Network.IRC, ChatId(chat_id or ""), is_private=private),
                text=plain,
                spans=spans,
                kind=kind,
                timestamp=time.time(),
                extra=extra,
            )
        )

    def _bridged(self, channel: str | None) -> bool:
        return channel is not None and irc_casefold(channel) in self.channels

    def _on_pubmsg(self, conn: Any, event: Any) -> None:
        if self._is_me(event.source.nick):
            self._echoed(event.target)
        elif self._bridged(event.target):
            self._emit(event, event.target, MessageKind.TEXT, event.arguments[0])

    def _on_privmsg(self, conn: Any, event: Any) -> None:
        if self._is_me(event.source.nick):
            self._echoed(event.target)
        else:
            self._emit(event, event.source.nick, MessageKind.TEXT, event.arguments[0], private=True)

    def _on_notice(self, conn: Any, event: Any) -> None:
        if event.source and self._is_me(event.source.nick):
            self._echoed(event.target)

    def _on_action(self, conn: Any, event: Any) -> None:
        text = event.arguments[0] if event.arguments else ""
        if self._is_me(event.source.nick):
            self._echoed(event.target)
        elif self._bridged(event.target):
            self._emit(event, event.target, MessageKind.ACTION, text)

    def _on_join(self, conn: Any, event: Any) -> None:
        nick, channel = event.source.nick, event.target
        if len(event.arguments) >= 1 and "extended-join" in self.caps:
            self.state.set_account(nick, event.arguments[0])
        if self._is_me(nick):
            self.own_mask = str(event.source)
            self._joined.add(irc_casefold(channel))
            log.info("IRC: joined %s", channel)
            self._mark_changed()
            return
        self.state.add(channel, nick)
        if self._bridged(channel):
            self._emit(event, channel, MessageKind.JOIN)

    def _on_part(self, conn: Any, event: Any) -> None:
        nick, channel = event.source.nick, event.target
        if self._is_me(nick):
            self._joined.discard(irc_casefold(channel))
            self.state.drop_channel(channel)
            self._mark_changed()
            return
        self.state.remove(channel, nick)
        if self._bridged(channel):
            reason = event.arguments[0] if event.arguments else ""
            self._emit(event, channel, MessageKind.PART, extra=(("reason", reason),))

    def _on_kick(self, conn: Any, event: Any) -> None:
        channel, kicked = event.target, event.arguments[0]
        reason = event.arguments[1] if len(event.arguments) > 1 else ""
        if self._is_me(kicked):
            log.warning("IRC: kicked from %s (%s); rejoining", channel, reason)
            self._joined.discard(irc_casefold(channel))
            self.state.drop_channel(channel)
            self._mark_changed()
            asyncio.get_running_loop().call_later(5, self._rejoin, channel)
            return
        self.state.remove(channel, kicked)
        if self._bridged(channel):
            extra = (("target", kicked), ("reason", reason))
            self._emit(event, channel, MessageKind.KICK, extra=extra)

    def _rejoin(self, channel: str) -> None:
        if self._registered and not self.is_joined(channel):
            with contextlib.suppress(Exception):
                self._conn.join(channel)

    def _on_quit(self, conn: Any, event: Any) -> None:
        nick = event.source.nick
        reason = event.arguments[0] if event.arguments else ""
        channels = self.state.quit(nick)
        if irc_casefold(nick) == irc_casefold(self.config.nick):
            self._try_regain()
        for channel in channels:
            if self._bridged(channel):
                self._emit(event, channel, MessageKind.QUIT, extra=(("reason", reason),))

    def _on_nick(self, conn: Any, event: Any) -> None:
        old, new = event.source.nick, event.target
        channels = self.state.rename(old, new)
        if irc_casefold(old) == irc_casefold(self.config.nick):
            self._try_regain()
        for channel in channels:
            if self._bridged(channel):
                self._emit(event, channel, MessageKind.NICK, extra=(("new_nick", new),))

    def _on_account(self, conn: Any, event: Any) -> None:
        self.state.set_account(event.source.nick, event.target)

    def _on_names(self, conn: Any, event: Any) -> None:
        if len(event.arguments) >= 3:
            self.state.add_names(event.arguments[1], event.arguments[2])

    def _on_whois_account(self, conn: Any, event: Any) -> None:
        if len(event.arguments) >= 2:
            self._whois_account[irc_casefold(event.arguments[0])] = event.arguments[1]

    def _on_end_of_whois(self, conn: Any, event: Any) -> None:
        nick = event.arguments[0] if event.arguments else ""
        key = irc_casefold(nick)
        account = self._whois_account.pop(key, None)
        self.state.set_account(nick, account)
        future = self._whois.pop(key, None)
        if future is not None and not future.done():
            future.set_result(account)

    def _on_disconnect(self, conn: Any, event: Any) -> None:
        self._disconnected.set()

    def _on_error(self, conn: Any, event: Any) -> None:
        if self._stopping:
            return
        log.warning("IRC: server error: %s", event.target or " ".join(event.arguments))

    _handlers: ClassVar[dict[str, Callable[[IrcConnector, Any, Any], None]]] = {
        "cap": _on_cap,
        "authenticate": _on_authenticate,
        "saslsuccess": _on_sasl_done,
        "saslfail": _on_sasl_done,
        "sasltoolong": _on_sasl_done,
        "saslaborted": _on_sasl_done,
        "welcome": _on_welcome,
        "featurelist": _on_features,
        "endofmotd": _on_motd_end,
        "nomotd": _on_motd_end,
        "nicknameinuse": _on_nick_in_use,
        "unavailresource": _on_nick_in_use,
        "pubmsg": _on_pubmsg,
        "privmsg": _on_privmsg,
        "action": _on_action,
        "pubnotice": _on_notice,
        "privnotice": _on_notice,
        "join": _on_join,
        "part": _on_part,
        "kick": _on_kick,
        "quit": _on_quit,
        "nick": _on_nick,
        "account": _on_account,
        "namreply": _on_names,
        "whoisaccount": _on_whois_account,
        "endofwhois": _on_end_of_whois,
        "disconnect": _on_disconnect,
        "error": _on_error,
    }
