"""Matching the lines the bridge wrote."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.harness import BOT_NICK
from tests.support.irc_client import Line


def from_bridge(channel: str) -> Callable[[Line], bool]:
    """PRIVMSGs the bridge (any of its nicks) wrote to channel."""

    def match(line: Line) -> bool:
        return (
            line.command == "PRIVMSG"
            and (line.target or "").lower() == channel.lower()
            and (line.source_nick or "").startswith(BOT_NICK)
        )

    return match
