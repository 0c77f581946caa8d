"""Once the server accepts the bot: its modes, IDENTIFY and JOINs, queued behind the token
bucket; afterwards keeping its nick (regain) and its channels (rejoin after a kick).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Callable, Sequence
from typing import Any

from bridge.casemap import irc_casefold
from bridge.config import IrcConfig
from bridge.irc.channels import ChannelState
from bridge.irc.delivery import CommandQueue
from bridge.irc.link import Handlers, Link
from bridge.pacing import TokenBucket

log = logging.getLogger(__name__)

REGAIN_EVERY = 30.0
REJOIN_AFTER = 5.0
MAX_NICK_LEN = 16
"""An alternative nick grows by "_" up to this length, then varies its last character."""


class Registration:
    """Registration replies (welcome, end of MOTD, nick in use) and what follows from them."""

    def __init__(
        self,
        config: IrcConfig,
        channels: Sequence[str],
        link: Link,
        state: ChannelState,
        bucket: TokenBucket,
        commands: CommandQueue,
        on_ready: Callable[[], None],
    ) -> None:
        self._config = config
        # once each, in the configured spelling
        self._channels = list({irc_casefold(c): c for c in channels}.values())
        self._link = link
        self._state = state
        self._bucket = bucket
        self._commands = commands
        self._on_ready = on_ready

    def handlers(self) -> Handlers:
        return {
            "welcome": self._on_welcome,
            "endofmotd": self._on_motd_end,
            "nomotd": self._on_motd_end,
            "nicknameinuse": self._on_nick_in_use,
            "unavailresource": self._on_nick_in_use,
            "kick": self._on_kick,
            "quit": self._on_quit,
            "nick": self._on_nick,
        }

    async def keep_nick(self) -> None:
        """Try to get the configured nick back now and then (services may hold it)."""
        while True:
            await asyncio.sleep(REGAIN_EVERY)
            self.try_regain()

    def try_regain(self) -> None:
        if self._link.registered and not self._is_configured(self._link.nick):
            with contextlib.suppress(Exception):
                self._link.conn.nick(self._config.nick)

    def _is_configured(self, nick: str) -> bool:
        return irc_casefold(nick) == irc_casefold(self._config.nick)

    def _on_welcome(self, conn: Any, event: Any) -> None:
        self._link.registered = True
        log.info("IRC: registered as %s", conn.real_nickname)

    def _on_motd_end(self, conn: Any, event: Any) -> None:
        if self._link.state == "ready":
            return
        self._bucket.reset()
        # Everything after registration goes through the token bucket, like relayed lines:
        # one JOIN per bridged channel at once is what gets a bot flood-killed.
        bot_mode = vars(conn.features).get("bot")
        if self._config.bot_mode and isinstance(bot_mode, str) and bot_mode:
            self._commands.send(lambda: conn.mode(conn.real_nickname, "+" + bot_mode))
        if self._config.nickserv_password:
            identify = f"IDENTIFY {self._config.nick} {self._config.nickserv_password}"
            self._commands.send(lambda: conn.privmsg("NickServ", identify))
        for channel in self._channels:
            self._commands.send(functools.partial(conn.join, channel))
        self._link.state = "ready"
        self._on_ready()
        self._link.mark_changed()

    def _on_nick_in_use(self, conn: Any, event: Any) -> None:
        if self._link.registered:
            return  # a regain attempt failed; keep the current nick
        taken = event.arguments[0] if event.arguments else conn.real_nickname
        if len(taken) < MAX_NICK_LEN:
            alternative = taken + "_"
        else:
            alternative = taken[:-1] + str(random.randint(0, 9))
        log.warning("IRC: nick %s in use, trying %s", taken, alternative)
        conn.nick(alternative)

    def _on_kick(self, conn: Any, event: Any) -> None:
        channel, kicked = event.target, event.arguments[0]
        if self._link.is_me(kicked):
            reason = event.arguments[1] if len(event.arguments) > 1 else ""
            log.warning("IRC: kicked from %s (%s); rejoining", channel, reason)
            asyncio.get_running_loop().call_later(REJOIN_AFTER, self._rejoin, channel)

    def _rejoin(self, channel: str) -> None:
        if self._link.registered and not self._state.is_joined(channel):
            conn = self._link.conn
            self._commands.send(lambda: conn.join(channel))

    def _on_quit(self, conn: Any, event: Any) -> None:
        if self._is_configured(event.source.nick):  # whoever held our nick is gone
            self.try_regain()

    def _on_nick(self, conn: Any, event: Any) -> None:
        if self._is_configured(event.source.nick):
            self.try_regain()
