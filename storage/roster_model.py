"""What the roster stores and answers: members, their identities, search hits, statistics.

Frozen values (and the one refusal a join can meet), no SQL: handlers and the bridge read
them without reaching the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.errors import PermissionDenied
from bridge.model import Network

MAX_INTERESTS = 25


class HostQuotaFull(PermissionDenied):
    """Too many new unverified IRC members from one host this hour (a flood of clones);
    str(exc) is the answer shown to the user."""


@dataclass(frozen=True, slots=True)
class Identity:
    """How a person is known on one network; key is the stable part, the rest is display."""

    network: Network
    key: str
    display_name: str
    handle: str | None = None
    verified: bool = False


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    joined_at: float
    identities: tuple[Identity, ...]
    interests: tuple[str, ...]
    confirmed_at: float | None = None
    """When the member last confirmed or changed their profile (None: not since joining)."""
    stale: bool = False
    """Silent past the grace period after a nudge (storage.freshness): out of the public
    lists until they confirm; /whois still finds them, marked."""

    @property
    def display_name(self) -> str:
        """The name of the oldest identity: what people knew this member by first."""
        return self.identities[0].display_name if self.identities else f"member {self.id}"


@dataclass(frozen=True, slots=True)
class MemberMatch:
    """A name search hit; rank 0 = exact name/handle, 1 = prefix, 2 = substring."""

    member: Member
    rank: int


@dataclass(frozen=True, slots=True)
class InterestHit:
    member: Member
    tags: tuple[str, ...]
    """The member's tags that matched, in the member's own order."""
    exact: bool


@dataclass(frozen=True, slots=True)
class InterestSearch:
    prefix: str
    total: int
    """Members matching in all, beyond the returned hits."""
    hits: tuple[InterestHit, ...]


@dataclass(frozen=True, slots=True)
class InterestUpdate:
    interests: tuple[str, ...]
    over_limit: tuple[str, ...]
    """Tags not stored because the member already had MAX_INTERESTS."""


@dataclass(frozen=True, slots=True)
class RosterStats:
    member_count: int
    telegram_identities: int
    irc_identities: int
    top_interests: tuple[tuple[str, int], ...]
