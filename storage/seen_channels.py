"""Where IRC members were seen: the bridged channels their directory card may name.

The card once listed every bridged channel beside every IRC nick, publishing private
channels' names and memberships that were false (issue 21). A row here says the identity
spoke, acted or joined in that channel (migration 0013); rows hang off the identity, so they
go with it on /leave and /remove, and follow it when /link moves it to another member.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Callable, Sequence

import aiosqlite

from bridge.model import Network
from storage.db import Database

MAX_CHANNELS_PER_IDENTITY = 50
"""Rows kept per identity (the first seen go first): the bridged channels bound them
already, but a config that changes over the years must not grow them without end."""

Clock = Callable[[], float]


class Seen(enum.Enum):
    STRANGER = "stranger"
    """Not a member: nothing is stored about people who did not join."""
    KNOWN = "known"
    """A member already recorded in that channel."""
    RECORDED = "recorded"
    """A member seen there for the first time, now recorded."""


class SeenChannelStore:
    """Records a member's IRC identity in a channel, once."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self._clock = clock or time.time

    async def record(self, key: str, channel: str) -> Seen:
        """The IRC identity with this key (bridge.identity) was seen in channel. A stranger
        or a member already recorded there costs one read and no write transaction."""
        async with self.db.conn.execute(
            "SELECT i.id, EXISTS (SELECT 1 FROM identity_channels c "
            "WHERE c.identity_id = i.id AND c.channel = ?) "
            "FROM identities i WHERE i.network = ? AND i.key = ?",
            (channel, Network.IRC.value, key),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return Seen.STRANGER
        if row[1]:
            return Seen.KNOWN
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT OR IGNORE INTO identity_channels (identity_id, channel, seen_at) "
                "SELECT id, ?, ? FROM identities WHERE network = ? AND key = ?",
                (channel, self._clock(), Network.IRC.value, key),
            )
            if cur.rowcount == 0:  # left (or recorded) in between
                return Seen.KNOWN
            await conn.execute(
                "DELETE FROM identity_channels WHERE identity_id = ? AND channel NOT IN "
                "(SELECT channel FROM identity_channels WHERE identity_id = ? "
                "ORDER BY seen_at DESC, channel LIMIT ?)",
                (row[0], row[0], MAX_CHANNELS_PER_IDENTITY),
            )
        return Seen.RECORDED


async def member_channels(
    conn: aiosqlite.Connection, member_ids: Sequence[int]
) -> dict[int, frozenset[str]]:
    """The channels each member's IRC identity was seen in (members seen nowhere absent)."""
    if not member_ids:
        return {}
    found: dict[int, set[str]] = {}
    async with conn.execute(
        "SELECT i.member_id, c.channel FROM identity_channels c "
        "JOIN identities i ON i.id = c.identity_id "
        "WHERE i.member_id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(member_ids)),),
    ) as cur:
        for member_id, channel in await cur.fetchall():
            found.setdefault(int(member_id), set()).add(str(channel))
    return {member_id: frozenset(channels) for member_id, channels in found.items()}
