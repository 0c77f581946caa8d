"""What the relay core needs from the parts around it, as Protocols: the connectors and the outbox.

The router, relay and command gateway are written against these views, so they never import a
connector (or its network library), and tests hand them small fakes with the same members.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from typing import Protocol

from bridge.model import Author
from bridge.sending import Outgoing


class IrcSide(Protocol):
    """What the relay core asks the IRC connection."""

    @property
    def nick(self) -> str:
        """The bot's current nick (it may differ from the configured one)."""

    def nicks(self, channel: str) -> list[str]:
        """Nicks now in a joined channel, the bot's own excluded."""

    def folded_nicks(self, channel: str) -> AbstractSet[str]:
        """The same, IRC-case-folded: asked for every relayed message, without folding or
        sorting each member again (a channel may hold a thousand people)."""

    def casefold(self, text: str) -> str:
        """A nick or channel folded by the server's case rule (its 005 CASEMAPPING, rfc1459
        until it says), as folded_nicks() is: compare IRC names only through it."""

    def payload_budget(self, target: str, *, action: bool = False) -> int:
        """Bytes of text that fit in one PRIVMSG (or ACTION) to target."""

    async def identify(self, author: Author) -> Author:
        """author with the services account the server vouches for now: the line's tag or
        what the bot sees of that connection, else asked (WHOIS, paced); never a nick's
        past."""

    def account_of(self, nick: str) -> str | None:
        """The account the connection state knows for nick now (no lookup)."""

    def mask_of(self, nick: str) -> str | None:
        """The nick!user@host the bot sees holding nick now, if it learned it (no lookup)."""


class TelegramSide(Protocol):
    """What the relay core asks the Telegram bot."""

    bot_id: int | None
    username: str

    @property
    def titles(self) -> Mapping[str, str]:
        """Group titles by chat id, as Telegram last told them (bounded: the latest ones)."""

    async def member_count(self, chat: str) -> int | None: ...

    async def admin_ids(self, chat: str, max_age: float = 600.0) -> frozenset[int]: ...

    async def is_member(self, chat: str, user_id: str) -> bool:
        """Whether the user is in the group now (getChatMember, cached briefly)."""


class OutboxQueue(Protocol):
    """Where the relay core queues what it renders (bridge.outbox.Outbox)."""

    async def enqueue(self, items: list[Outgoing]) -> int: ...

    async def enqueue_and_wait(self, items: list[Outgoing], timeout: float) -> bool: ...

    async def discard(self, network: str, matches: Callable[[str], bool]) -> int:
        """Drop what is queued to the matching destinations (see Outbox.discard)."""
