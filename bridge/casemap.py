"""IRC's case rules, in one place: servers compare nicks and channels with RFC 1459 casemapping."""

from __future__ import annotations

_RFC1459 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\~", "abcdefghijklmnopqrstuvwxyz{}|^")


def irc_casefold(text: str) -> str:
    """Fold as RFC 1459 servers do ([ ] \\ ~ are upper case of { } | ^); keeps the length,
    so offsets into the folded text are offsets into the original."""
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text.translate(_RFC1459))
