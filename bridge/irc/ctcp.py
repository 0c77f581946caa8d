"""PRIVMSG and NOTICE read as clients read them today: a CTCP only when the text starts
with \\x01, anything else text, whole.

The library splits every message at each \\x01 (the 1990s CTCP spec): the text after a CTCP
in the middle of a line came out as a "ctcp" event and was lost. It has no public switch for
that, but it hands every line on first as an "all_raw_messages" event, and the events it
reads from that line follow before the next one. So WholeMessages, between the library and
the parts, hands on the events of whole_message() for a PRIVMSG or NOTICE line and drops the
library's own (READ_BY_LIBRARY) until the next line.
"""

from __future__ import annotations

import re
from typing import Any

import irc.client
import irc.message

from bridge.irc.link import Handler

READ_BY_LIBRARY = frozenset(
    {"pubmsg", "privmsg", "pubnotice", "privnotice", "ctcp", "ctcpreply", "action"}
)
"""The events the library makes of a PRIVMSG or NOTICE line (and of no other line)."""
_LINE = re.compile(
    r"^(@(?P<tags>[^ ]*) )?(:(?P<prefix>[^ ]+) +)?(?P<command>[^ ]+)( *(?P<args> .+))?"
)
"""An IRC line's parts, read as the library reads them (RFC 1459 with IRCv3 tags)."""


def whole_message(line: str) -> list[Any] | None:
    """The events of a PRIVMSG or NOTICE line (a message and its target, at least), as the
    library's Event objects; None for any other line, which the library's reading serves."""
    match = _LINE.match(line)
    if match is None:
        return None
    command = match["command"].lower()
    if command not in ("privmsg", "notice"):
        return None
    arguments = irc.message.Arguments.from_group(match["args"])
    if len(arguments) < 2:
        return None
    source = irc.client.NickMask.from_group(match["prefix"])
    tags = irc.message.Tag.from_group(match["tags"])
    target, text = arguments[:2]
    if not text.startswith("\x01"):
        where = "pub" if irc.client.is_channel(target) else "priv"
        kind = where + ("msg" if command == "privmsg" else "notice")
        return [irc.client.Event(kind, source, target, [text], tags)]
    tag, _, data = text[1:].removesuffix("\x01").partition(" ")
    kind = "ctcp" if command == "privmsg" else "ctcpreply"
    args = [tag, data] if data else [tag]
    events = [irc.client.Event(kind, source, target, args, tags)]
    if kind == "ctcp" and tag == "ACTION":
        events.append(irc.client.Event("action", source, target, args[1:], tags))
    return events


class WholeMessages:
    """An event handler for the library: every event goes on to ``events``, but a PRIVMSG or
    NOTICE as whole_message() reads it instead of as the library does."""

    def __init__(self, events: Handler) -> None:
        self._events = events
        self._read_whole = False  # the line being read was handed on whole

    def __call__(self, conn: Any, event: Any) -> None:
        if event.type == "all_raw_messages":
            self._events(conn, event)
            whole = whole_message(event.arguments[0]) if event.arguments else None
            self._read_whole = whole is not None
            for message in whole or ():
                self._events(conn, message)
        elif not (self._read_whole and event.type in READ_BY_LIBRARY):
            self._events(conn, event)
