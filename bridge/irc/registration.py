"""Once the server accepts the bot: its modes, IDENTIFY and JOINs, queued behind the token
bucket; before that, a nick in use or refused; afterwards, keeping its nick.

Getting the nick back is paced with backoff: services that rename the bot (to ``Guest…``)
again as soon as it takes its nick back must not get a NICK storm in reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from bridge.config import IrcConfig
from bridge.irc.delivery import CommandQueue
from bridge.irc.joins import Joins
from bridge.irc.link import Handlers, Link
from bridge.pacing import TokenBucket, backoff_delay

log = logging.getLogger(__name__)

REGAIN_MIN = 5.0
"""Never two attempts to take the configured nick back closer than this."""
REGAIN_MAX = 300.0
"""Each failed attempt doubles the wait, up to this."""
NICK_STABLE = 60.0
"""Held the configured nick this long: the next loss starts the backoff over."""
MAX_NICK_LEN = 16
"""An alternative nick grows by "_" up to this length, then varies its last character."""


class Registration:
    """Registration replies (welcome, end of MOTD, nick in use or refused) and what follows
    from them."""

    def __init__(
        self,
        config: IrcConfig,
        joins: Joins,
        link: Link,
        bucket: TokenBucket,
        commands: CommandQueue,
        on_ready: Callable[[], None],
        on_fatal: Callable[[str], None],
        nicklen: Callable[[], int | None] = lambda: None,
    ) -> None:
        """nicklen: the server's NICKLEN once a 005 told it (kept across reconnects)."""
        self._config = config
        self._nicklen = nicklen
        self._joins = joins
        self._link = link
        self._bucket = bucket
        self._commands = commands
        self._on_ready = on_ready
        self._on_fatal = on_fatal
        self._freed = asyncio.Event()  # the configured nick's holder left it
        self._attempt = 0  # attempts to take the nick back since we last held it for long
        self._last_try = 0.0  # (monotonic) the last NICK to it, or losing it
        self._pause = REGAIN_MIN  # from the last try to the next one, unless freed
        self._held_since: float | None = None

    def handlers(self) -> Handlers:
        return {
            "welcome": self._on_welcome,
            "endofmotd": self._on_motd_end,
            "nomotd": self._on_motd_end,
            "nicknameinuse": self._on_nick_in_use,
            "unavailresource": self._on_nick_in_use,
            "erroneusnickname": self._on_nick_refused,
            "quit": self._on_quit,
            "nick": self._on_nick,
        }

    async def keep_nick(self) -> None:
        """Take the configured nick back whenever we lack it: one NICK at a time, the pause
        doubling with each try; its holder leaving shortens the pause to REGAIN_MIN."""
        while True:
            due = self._next_try() - time.monotonic()
            if due > 0:
                if self._freed.is_set():
                    await asyncio.sleep(due)
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._freed.wait(), due)
                continue
            self._freed.clear()
            if not self.try_regain():
                await asyncio.sleep(REGAIN_MIN)  # we hold it: look again later

    def _next_try(self) -> float:
        return self._last_try + (REGAIN_MIN if self._freed.is_set() else self._pause)

    def try_regain(self) -> bool:
        """One NICK to the configured nick (through the paced queue), if we lack it."""
        if not self._link.registered or self._is_configured(self._link.nick):
            return False
        self._last_try = time.monotonic()
        self._pause = backoff_delay(self._attempt, random.random(), REGAIN_MIN, REGAIN_MAX)
        self._attempt += 1
        log.debug("IRC: trying to take back the nick %s", self._config.nick)
        self._commands.send(lambda: self._link.conn.nick(self._config.nick))
        return True

    def _is_configured(self, nick: str) -> bool:
        return self._link.fold(nick) == self._link.fold(self._config.nick)

    def _holding(self) -> None:
        """We have the configured nick (now): a loss soon after keeps the backoff growing."""
        self._held_since = time.monotonic()

    def _on_welcome(self, conn: Any, event: Any) -> None:
        self._link.registered = True
        log.info("IRC: registered as %s", conn.real_nickname)
        self._last_try = time.monotonic()  # registering was a try
        if self._is_configured(conn.real_nickname):
            self._holding()

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
        self._joins.join_all()
        self._link.state = "ready"
        self._on_ready()
        self._link.mark_changed()

    def _on_nick_in_use(self, conn: Any, event: Any) -> None:
        if self._link.registered:
            log.debug("IRC: nick %s still taken", self._config.nick)
            return  # a regain attempt failed; keep the current nick
        taken = event.arguments[0] if event.arguments else conn.real_nickname
        if len(taken) < min(MAX_NICK_LEN, self._nicklen() or MAX_NICK_LEN):
            alternative = taken + "_"
        else:
            alternative = taken[:-1] + str(random.randint(0, 9))
        log.warning("IRC: nick %s in use, trying %s", taken, alternative)
        conn.nick(alternative)

    def _on_nick_refused(self, conn: Any, event: Any) -> None:
        """432: the configured nick refused at registration is the operator's to fix (one
        clear error, no reconnect loop); an alternative of ours is varied; a refused regain
        (services hold the nick) waits for the next paced attempt."""
        refused = event.arguments[0] if event.arguments else ""
        said = event.arguments[1] if len(event.arguments) > 1 else "Erroneous nickname"
        if self._link.registered:
            log.debug("IRC: the server refused the nick %s (%s)", refused, said)
        elif self._is_configured(refused) or not refused:
            self._on_fatal(
                f'the IRC server refuses irc.nick = "{self._config.nick}" ({said}); '
                "set another irc.nick in the config"
            )
        else:
            alternative = self._config.nick[:-1] + str(random.randint(0, 9))
            log.warning("IRC: nick %s refused (%s), trying %s", refused, said, alternative)
            conn.nick(alternative)

    def _on_quit(self, conn: Any, event: Any) -> None:
        if self._is_configured(event.source.nick):  # whoever held our nick is gone
            self._freed.set()

    def _on_nick(self, conn: Any, event: Any) -> None:
        old, new = event.source.nick, event.target
        if not self._link.is_me(new):  # someone else's rename
            if self._is_configured(old):
                self._freed.set()  # ... away from the nick we want
        elif self._is_configured(new):
            self._holding()
        elif self._is_configured(old):
            self._renamed(old, new)

    def _renamed(self, old: str, new: str) -> None:
        """The server or services renamed us (SVSNICK, SANICK, a Guest nick): the nick is
        taken back after the pause, which grows if we lose it again soon, or an enforcer
        and we would trade NICKs as fast as the server lets us."""
        now = time.monotonic()
        if self._held_since is not None and now - self._held_since > NICK_STABLE:
            self._attempt, self._pause = 0, REGAIN_MIN
        self._held_since = None
        self._last_try = now
        log.warning(
            "IRC: the server renamed us from %s to %s; taking %s back in %.0fs",
            old,
            new,
            self._config.nick,
            self._pause,
        )
