"""IRC events → neutral Messages and channel state: the event half of the IRC connector.

A mixin of IrcConnector, kept apart so each file stays readable; it never imports the irc
library (events arrive as the library's Event objects, typed Any here).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import itertools
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from bridge.casemap import irc_casefold
from bridge.config import IrcConfig
from bridge.identity import irc_key
from bridge.irc_state import ChannelState, updated_mask
from bridge.model import Author, ChatId, ChatRef, Message, MessageKind, Network
from bridge.render.irc_format import parse_irc_formatting

log = logging.getLogger("bridge.irc")
_ids = itertools.count(1)
WANTED_CAPS = {
    "message-tags",
    "server-time",
    "account-tag",
    "extended-join",
    "account-notify",
    "multi-prefix",
    "echo-message",
    "chghost",
}


class IrcEvents:
    """Handlers for registration (CAP, SASL, welcome) and channel events."""

    config: IrcConfig
    channels: dict[str, str]
    state: ChannelState
    caps: set[str]
    own_mask: str | None
    linelen: int
    bucket: Any
    connection_state: str
    _conn: Any
    _registered: bool
    _joined: set[str]
    _ls_caps: set[str]
    _inbox: asyncio.Queue[Message]
    _whois: dict[str, asyncio.Future[str | None]]
    _whois_account: dict[str, str]

    # provided by IrcConnector
    _mark_changed: Callable[[], None]
    _echoed: Callable[[str], None]
    _try_regain: Callable[[], None]
    _send_paced: Callable[[Callable[[], None]], None]
    _note_ready: Callable[[], None]

    @property
    def nick(self) -> str:
        """The nick the server knows us by now (IrcConnector keeps it current)."""
        return str(self._conn.real_nickname) if self._conn is not None else self.config.nick

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
        self.bucket.reset()
        # Everything after registration goes through the token bucket, like relayed lines:
        # one JOIN per bridged channel at once is what gets a bot flood-killed.
        bot_mode = vars(conn.features).get("bot")
        if self.config.bot_mode and isinstance(bot_mode, str) and bot_mode:
            self._send_paced(lambda: conn.mode(conn.real_nickname, "+" + bot_mode))
        if self.config.nickserv_password:
            identify = f"IDENTIFY {self.config.nick} {self.config.nickserv_password}"
            self._send_paced(lambda: conn.privmsg("NickServ", identify))
        for channel in self.channels.values():
            self._send_paced(functools.partial(conn.join, channel))
        self.connection_state = "ready"
        self._note_ready()
        self._mark_changed()

    def _own_mask_guess(self) -> tuple[str, str, str]:
        """A long guess (nick!~user@63-char host) so lines fit before the real mask is known."""
        return (self.nick + "_", "~" + self.config.username[:10], "h" * 63)

    def _set_own_mask(
        self, *, nick: str | None = None, user: str | None = None, host: str | None = None
    ) -> None:
        self.own_mask = updated_mask(
            self.own_mask, self._own_mask_guess(), nick=nick, user=user, host=host
        )

    def _on_displayed_host(self, conn: Any, event: Any) -> None:
        """396 RPL_HOSTHIDDEN: our displayed host (cloak, vhost) changed; others see this one."""
        shown = event.arguments[0] if event.arguments else ""
        if not shown or " " in shown:
            return
        user, _, host = shown.rpartition("@")
        self._set_own_mask(user=user or None, host=host)
        log.info("IRC: our displayed host is now %s", self.own_mask)

    def _on_chghost(self, conn: Any, event: Any) -> None:
        """IRCv3 CHGHOST (``:old!u@h CHGHOST newuser newhost``), about us or a neighbour."""
        if event.source and event.target and event.arguments and self._is_me(event.source.nick):
            self._set_own_mask(user=event.target, host=event.arguments[0])
            log.info("IRC: our mask is now %s", self.own_mask)

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
        return Author(
            network=Network.IRC,
            user_id=irc_key(account, mask),
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
        if self._registered and irc_casefold(channel) not in self._joined:
            conn = self._conn
            self._send_paced(lambda: conn.join(channel))

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
        if self._is_me(new):  # the library already follows our nick; the mask must too
            self._set_own_mask(nick=new)
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
