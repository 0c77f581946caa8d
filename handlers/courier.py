"""What /ask needs of the bridge: a private message to another member, on their network.

Its own module, a Protocol the command gateway implements (bridge/asking.py), so the
handlers stay network-neutral: they choose who is asked and what is said; the courier knows
who is reachable where, and keeps a question for an IRC member who is away.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from bridge.i18n import ENGLISH, Translations
from bridge.model import Author, ChatRef
from storage.asks import Asker, AskStore
from storage.roster_model import Identity


class Reach(enum.Enum):
    """What became of one question sent to one member."""

    NOW = "now"
    """Queued to them now: their Telegram chat accepted it, or they are on a bridged IRC
    channel."""
    LATER = "later"
    """Kept: an IRC member on no bridged channel gets it when next seen joining or speaking."""
    UNREACHABLE = "unreachable"
    """Telegram refused it (they never pressed Start), or nothing could be kept."""


@dataclass(frozen=True, slots=True)
class AskRules:
    """The [roster] keys of /ask."""

    max_recipients: int = 10
    per_day: int = 3
    received_per_day: int = 5
    ttl_days: float = 7.0


class Courier(Protocol):
    """Sends /ask's questions; the bridge's is bridge.asking.AskCourier."""

    @property
    def rules(self) -> AskRules: ...

    @property
    def store(self) -> AskStore: ...

    def whereabouts(self, author: Author, chat: ChatRef, tr: Translations = ENGLISH) -> str:
        """How to reach author, typing in chat: "Telegram @name" or "in <group>" on
        Telegram, "IRC nick N on #channel" on IRC; in tr's language (the recipient's)."""

    async def send(self, identity: Identity, text: str, asker: Asker) -> Reach:
        """Send text privately to identity now, or keep it for later (IRC), or say it
        cannot reach them."""
