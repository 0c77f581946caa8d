"""Being in every bridged channel: JOIN after registration, and again after a kick or a
refusal (full, invite-only, banned, wrong key), with backoff, until the server lets us in.

After registration the channels are joined several per JOIN line, as many as the server
says it takes (ISUPPORT TARGMAX JOIN, else MAXTARGETS, else DEFAULT_TARGETS) within its
LINELEN: a server counts a line against the client's flood allowance, not its targets, so 50
pairs join in three lines instead of fifty paced ones. Retries go one channel at a time.
A channel with a key (`irc_key`, for +k) is joined with it: keyed channels come first in a
line and their keys follow in the same order (``JOIN #a,#b,#c ka,kb``), as RFC 2812 pairs
them; the key is never put in a log line or the status (the log filter hides it as well).

Without this a banned or kicked bot sits outside silently while messages wait for the
delivery horizon. What keeps the bot out is logged once (retries only at DEBUG) and kept
for `tgirc-bridge status`; every JOIN goes through the command queue, paced like the rest.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bridge.config import IrcConfig
from bridge.irc.channels import ChannelState
from bridge.irc.delivery import CommandQueue
from bridge.irc.link import Handlers, Link
from bridge.irc.own_mask import server_linelen
from bridge.pacing import backoff_delay

log = logging.getLogger(__name__)

REJOIN_AFTER = 5.0
"""After a kick (or a forced part), the first JOIN waits this long: not straight back in."""
STABLE_AFTER = 60.0
"""In a channel this long, a later kick starts the backoff over; kicked sooner, it grows."""
DEFAULT_TARGETS = 10
"""Channels per JOIN line on a server that names no limit (ngircd takes any number)."""
MAX_TARGETS = 50
"""Never more per line, whatever the server says (TARGMAX JOIN: with no number)."""

REFUSALS: Final = {
    # library event name (numeric) → why the server refused our JOIN
    "channelisfull": "the channel is full (+l)",  # 471
    "inviteonlychan": "the channel is invite-only (+i)",  # 473
    "bannedfromchan": "the bot is banned (+b)",  # 474
    "badchannelkey": "the channel needs a key (+k)",  # 475
    "nochanmodes": "the channel needs a registered nick",  # 477 (ERR_NEEDREGGEDNICK today)
    "unavailresource": "the channel is temporarily unavailable",  # 437
    "toomanychannels": "the bot is in too many channels",  # 405
    "489": "the channel needs a TLS connection",  # ERR_SECUREONLYCHAN
}


@dataclass
class _Channel:
    name: str
    key: str = ""
    """The channel key (+k) sent with every JOIN; "" for none. Never logged."""
    problem: str = ""
    """Why the bot is out of the channel ("" while nothing is known against it)."""
    logged: str = ""
    """The problem last logged at WARNING: the same one again is not repeated."""
    final: bool = False
    """The problem is the config's (a name over CHANNELLEN): no JOIN is retried."""
    attempt: int = 0
    joined_at: float | None = None
    retry: asyncio.TimerHandle | None = None


def join_limits(features: dict[str, Any]) -> tuple[int, int]:
    """(channels per JOIN line, LINELEN) from the server's ISUPPORT features."""
    targets: int | None = DEFAULT_TARGETS
    targmax = features.get("targmax")
    maxtargets = features.get("maxtargets")
    if isinstance(targmax, dict) and "JOIN" in targmax:
        targets = targmax["JOIN"]  # None: no limit
    elif isinstance(maxtargets, int) and maxtargets > 0:
        targets = maxtargets
    return max(1, min(MAX_TARGETS, targets or MAX_TARGETS)), server_linelen(features)


def join_lines(
    names: Sequence[str], targets: int, linelen: int, keys: Mapping[str, str] | None = None
) -> list[list[str]]:
    """Channel names grouped into JOIN lines of at most targets names and linelen bytes,
    counting the keys of those in keys (sent after the names: " ka,kb")."""
    room = linelen - len("JOIN \r\n")
    lines: list[list[str]] = []
    size = 0
    for name in names:
        cost = len(name.encode()) + 1  # with its comma
        if keys and keys.get(name):
            cost += len(keys[name].encode()) + 1  # with its comma (or the space before)
        if not lines or len(lines[-1]) >= targets or size + cost > room + 1:
            lines.append([])
            size = 0
        lines[-1].append(name)
        size += cost
    return lines


class Joins:
    """Our JOINs and what came of them, per bridged channel."""

    def __init__(
        self,
        config: IrcConfig,
        channels: Sequence[str],
        link: Link,
        state: ChannelState,
        commands: CommandQueue,
        keys: Mapping[str, str] | None = None,
    ) -> None:
        self._config = config
        self._link = link
        self._state = state
        self._commands = commands
        # once each, in the configured spelling (the last one wins)
        names = {link.fold(c): c for c in channels}
        secret = {link.fold(c): k for c, k in (keys or {}).items() if k}
        self._channels = {
            folded: _Channel(name, secret.get(folded, "")) for folded, name in names.items()
        }

    def join_all(self) -> None:
        """Registered: queue JOINs for every bridged channel, several per line as the server
        allows (each line paced by the command queue)."""
        for channel in self._channels.values():
            self._cancel_retry(channel)
        # keyed again by the case rule the server's 005 has just told (rfc1459 before it)
        self._channels = {self._link.fold(c.name): c for c in self._channels.values()}
        features = getattr(self._link.conn, "features", None)
        targets, linelen = join_limits(vars(features) if features is not None else {})
        # keyed channels first, so that the keys pair with the first names of each line
        fitting = [c for c in self._channels.values() if self._fits(c)]
        ordered = sorted(fitting, key=lambda c: not c.key)
        keys = {c.name: c.key for c in ordered if c.key}
        for names in join_lines([c.name for c in ordered], targets, linelen, keys):
            line = [",".join(names)]
            if any(name in keys for name in names):
                line.append(",".join(keys[name] for name in names if name in keys))
            self._commands.send(functools.partial(self._join_line, *line))

    def _fits(self, channel: _Channel) -> bool:
        """A name longer than the server's CHANNELLEN would be refused, or cut to another
        channel's name: not joined, and said once (only the config can change it)."""
        limit = self._state.rules.channellen
        if limit is None or len(channel.name.encode()) <= limit:
            return True
        problem = f"the name is longer than the server's CHANNELLEN ({limit} bytes)"
        channel.problem, channel.final = problem, True
        if problem != channel.logged:
            channel.logged = problem
            log.error("IRC: not joining %s: %s; set another irc_channel", channel.name, problem)
        return False

    def _join_line(self, channels: str, keys: str = "") -> None:
        self._link.conn.join(channels, keys)

    def reset(self) -> None:
        """The connection is lost: no retry belongs to the next one (join_all starts it)."""
        for channel in self._channels.values():
            self._cancel_retry(channel)

    def status(self) -> dict[str, str]:
        """Channel → "joined", or "not joined" and why (for `tgirc-bridge status`)."""
        result = {}
        for channel in self._channels.values():
            if self._state.is_joined(channel.name):
                result[channel.name] = "joined"
            elif channel.problem:
                again = "" if channel.final else "; retrying"
                result[channel.name] = f"not joined: {channel.problem}{again}"
            else:
                result[channel.name] = "not joined"
        return result

    def _join(self, channel: _Channel) -> None:
        name, key = channel.name, channel.key
        self._commands.send(lambda: self._link.conn.join(name, key))

    def _cancel_retry(self, channel: _Channel) -> None:
        if channel.retry is not None:
            channel.retry.cancel()
            channel.retry = None

    def _retry_later(self, channel: _Channel, at_least: float = 0.0) -> float:
        """Schedule the next JOIN after the backoff (growing with each failure)."""
        if channel.joined_at is not None and time.monotonic() - channel.joined_at > STABLE_AFTER:
            channel.attempt = 0
        channel.joined_at = None
        delay = backoff_delay(
            channel.attempt, random.random(), self._config.reconnect_min, self._config.reconnect_max
        )
        delay = max(delay, at_least)
        channel.attempt += 1
        self._cancel_retry(channel)
        channel.retry = asyncio.get_running_loop().call_later(delay, self._retry, channel)
        return delay

    def _retry(self, channel: _Channel) -> None:
        channel.retry = None
        if self._link.usable() and not self._state.is_joined(channel.name):
            log.debug("IRC: JOIN %s again (attempt %d)", channel.name, channel.attempt + 1)
            self._join(channel)

    def _out(self, channel: _Channel, problem: str, at_least: float = 0.0) -> None:
        """Out of channel because of problem: one WARNING per new problem, then retries."""
        channel.problem = problem
        delay = self._retry_later(channel, at_least)
        if problem != channel.logged:
            channel.logged = problem
            log.warning(
                "IRC: not in %s: %s; retrying with backoff (up to %gs)",
                channel.name,
                problem,
                max(at_least, self._config.reconnect_max),
            )
        else:
            log.debug("IRC: still not in %s (%s); next JOIN in %.1fs", channel.name, problem, delay)
        self._link.mark_changed()

    def _find(self, name: str | None) -> _Channel | None:
        return self._channels.get(self._link.fold(name)) if name else None

    # ------------------------------------------------------------- event handlers

    def handlers(self) -> Handlers:
        handlers = {kind: self._on_refused for kind in REFUSALS}
        return {
            **handlers,
            "join": self._on_join,
            "kick": self._on_kick,
            "part": self._on_part,
            "invite": self._on_invite,
        }

    def _on_join(self, conn: Any, event: Any) -> None:
        channel = self._find(event.target)
        if channel is not None and self._link.is_me(event.source.nick):
            self._cancel_retry(channel)
            channel.problem = channel.logged = ""
            channel.joined_at = time.monotonic()

    def _on_refused(self, conn: Any, event: Any) -> None:
        """471/473/474/475 and the like: ``:srv 474 me #chan :Cannot join channel (+b)``."""
        channel = self._find(event.arguments[0] if event.arguments else None)
        if channel is None or self._state.is_joined(channel.name):
            return  # 437 about a nick, or about a channel we do not bridge
        said = event.arguments[1] if len(event.arguments) > 1 else ""
        problem = REFUSALS[event.type] + (f' ("{said}")' if said else "")
        self._out(channel, problem)

    def _on_kick(self, conn: Any, event: Any) -> None:
        channel = self._find(event.target)
        if channel is None or not self._link.is_me(event.arguments[0]):
            return
        reason = event.arguments[1] if len(event.arguments) > 1 else ""
        by = event.source.nick if event.source else "the server"
        self._out(channel, f"kicked by {by}" + (f' ("{reason}")' if reason else ""), REJOIN_AFTER)

    def _on_part(self, conn: Any, event: Any) -> None:
        """We never part on our own: a server or an oper made us (SAPART)."""
        channel = self._find(event.target)
        if channel is not None and self._link.is_me(event.source.nick):
            self._out(channel, "made to part", REJOIN_AFTER)

    def _on_invite(self, conn: Any, event: Any) -> None:
        """Invited into a channel that kept us out: join now, not at the next retry."""
        channel = self._find(event.arguments[0] if event.arguments else None)
        if channel is not None and channel.problem and not self._state.is_joined(channel.name):
            self._cancel_retry(channel)
            log.info("IRC: invited to %s; joining", channel.name)
            self._join(channel)
