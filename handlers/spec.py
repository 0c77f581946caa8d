"""CommandSpec: one command declared once, read by /help, the registry and the permission check.

Its own module so the command families and the registry both import it without importing
each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.context import CommandContext

Handler = Callable[[CommandContext, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command, declared once: /help and the permission check read it from here."""

    name: str
    usage: str
    """Without the prefix, e.g. "whois <name or interest>"."""
    summary: str
    details: str
    """Shown by /help CMD; "{p}" becomes the network's command prefix. usage (but for its
    first word), summary and details are English, marked with N_ and translated where
    shown (bridge/i18n.py)."""
    handler: Handler
    moderator_only: bool = False
    open_to_anyone: bool = False
    """Answered for anyone (/help, /start). The others are for the community only: people
    in a bridged group or channel, members of the roster and moderators."""
    hidden: bool = False
    """Answered, but not listed by /help (Telegram's /start)."""
    facts: tuple[tuple[str, int], ...] = ()
    """Numbers the details name (%(name)d), filled in by /help after translation."""
