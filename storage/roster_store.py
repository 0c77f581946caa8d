"""The members roster: who joined, how they are known on each network, what they work on.

Callers pass already-normalised tags (storage.tags.normalise_tag, re-exported here); every
multi-statement write runs in one Database.transaction(), and user text only ever reaches
SQL as a bound parameter.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import unicodedata
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

import aiosqlite

from bridge.identity import irc_key, parse_irc_key
from bridge.model import Author, Network
from storage import search
from storage.db import Database
from storage.export import ExportRow, iter_export_rows
from storage.tags import MAX_TAG_LENGTH as MAX_TAG_LENGTH
from storage.tags import TagError as TagError
from storage.tags import fold, shared_prefixes
from storage.tags import normalise_tag as normalise_tag

log = logging.getLogger(__name__)

MAX_INTERESTS = 25
MAX_NAME_LENGTH = 128
LINK_CODE_TTL = 600.0
LINK_CODE_LENGTH = 6
LINK_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""No 0/O, 1/I/L: a code read aloud or retyped on the other network survives."""
Clock = Callable[[], float]


class LinkError(Exception):
    """A /link code that cannot be redeemed; str(exc) is shown to the user."""


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

    @property
    def display_name(self) -> str:
        """The name of the oldest identity: what people knew this member by first."""
        return self.identities[0].display_name if self.identities else f"member {self.id}"

    def identity_on(self, network: Network) -> Identity | None:
        return next((i for i in self.identities if i.network is network), None)


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


@dataclass(frozen=True, slots=True)
class LinkCode:
    code: str
    expires_at: float


def identity_from_author(author: Author) -> Identity:
    """Telegram by numeric id; IRC by services account when known, else by mask (unverified)."""
    name = _clean_name(author.display_name or author.nick or str(author.user_id))
    if author.network is Network.TELEGRAM:
        return Identity(Network.TELEGRAM, str(author.user_id), name, author.nick, True)
    key = irc_key(author.account, author.mask or str(author.user_id))
    return Identity(Network.IRC, key, name, author.nick, parse_irc_key(key).verified)


def _clean_name(text: str) -> str:
    """Network names may carry controls or be huge; store a printable, bounded form."""
    cleaned = "".join(c for c in text if unicodedata.category(c)[0] != "C").strip()
    return cleaned[:MAX_NAME_LENGTH] or "?"


class RosterStore:
    """Typed access to the roster tables through the process's one Database."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self._clock = clock or time.time

    # ------------------------------------------------------------------ members

    async def join(self, identity: Identity) -> tuple[Member, bool]:
        """Register the identity (idempotent); refresh its display name; True when new."""
        async with self.db.transaction() as conn:
            member_id, created = await self._join(conn, identity, self._clock())
            member = await self._load_one(conn, member_id)
        return member, created

    async def _join(
        self, conn: aiosqlite.Connection, identity: Identity, now: float
    ) -> tuple[int, bool]:
        """join() inside the caller's transaction, so a command that joins you on the way
        (/interests, /link) commits both parts or neither."""
        member_id = await self._upsert_names(conn, identity, now)
        if member_id is not None:
            return member_id, False
        cur = await conn.execute("INSERT INTO members (joined_at) VALUES (?)", (now,))
        member_id = _rowid(cur)
        await self._insert_identity(conn, member_id, identity, now)
        return member_id, True

    async def refresh_identity(self, identity: Identity) -> Member | None:
        """The caller's member (None if not joined), storing a changed display name or handle.

        A stranger costs one read and no write transaction: the router asks this for
        everyone it has not seen speak yet, and most speakers are not members.
        """
        if await self._identity_id(self.db.conn, identity) is None:
            return None
        async with self.db.transaction() as conn:
            member_id = await self._upsert_names(conn, identity, self._clock())
            return None if member_id is None else await self._load_one(conn, member_id)

    async def get_member_by_identity(self, network: Network, key: str) -> Member | None:
        async with self.db.conn.execute(
            "SELECT member_id FROM identities WHERE network = ? AND key = ?", (network.value, key)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else await self._load_one(self.db.conn, int(row[0]))

    async def get_member(self, member_id: int) -> Member | None:
        members = await self._load(self.db.conn, [member_id])
        return members[0] if members else None

    async def forget(self, member_id: int) -> bool:
        """Delete the member; identities, interests and link codes go by ON DELETE CASCADE."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM members WHERE id = ?", (member_id,))
            return cur.rowcount > 0

    # ---------------------------------------------------------------- interests

    async def set_interests(self, member_id: int, tags: Sequence[str]) -> InterestUpdate:
        """Replace the member's interests with tags (normalised), keeping the first 25."""
        async with self.db.transaction() as conn:
            return await self._set_tags(conn, member_id, tags)

    async def add_remove_interests(
        self, member_id: int, add: Sequence[str], remove: Sequence[str]
    ) -> InterestUpdate:
        """Remove, then append new tags while there is room; one transaction."""
        async with self.db.transaction() as conn:
            return await self._edit_tags(conn, member_id, add, remove)

    async def join_with_interests(
        self,
        identity: Identity,
        add: Sequence[str],
        remove: Sequence[str] = (),
        *,
        edit: bool,
    ) -> tuple[InterestUpdate, bool]:
        """/interests: join if needed, then set (edit=False: the list is add) or edit the
        tags, in one transaction, so a failure never leaves a member without the change
        they asked for; True when the member is new."""
        async with self.db.transaction() as conn:
            member_id, created = await self._join(conn, identity, self._clock())
            if edit:
                update = await self._edit_tags(conn, member_id, add, remove)
            else:
                update = await self._set_tags(conn, member_id, add)
        return update, created

    async def _set_tags(
        self, conn: aiosqlite.Connection, member_id: int, tags: Sequence[str]
    ) -> InterestUpdate:
        wanted = list(dict.fromkeys(tags))
        keep, over = wanted[:MAX_INTERESTS], wanted[MAX_INTERESTS:]
        await conn.execute("DELETE FROM interests WHERE member_id = ?", (member_id,))
        await self._insert_tags(conn, member_id, keep)
        return InterestUpdate(tuple(keep), tuple(over))

    async def _edit_tags(
        self,
        conn: aiosqlite.Connection,
        member_id: int,
        add: Sequence[str],
        remove: Sequence[str],
    ) -> InterestUpdate:
        current = await self._tags(conn, member_id)
        gone = set(remove)
        result = [t for t in current if t not in gone]
        over: list[str] = []
        for tag in dict.fromkeys(add):
            if tag in result:
                continue
            if len(result) >= MAX_INTERESTS:
                over.append(tag)
            else:
                result.append(tag)
        await conn.execute("DELETE FROM interests WHERE member_id = ?", (member_id,))
        await self._insert_tags(conn, member_id, result)
        return InterestUpdate(tuple(result), tuple(over))

    # ------------------------------------------------------------------- search

    async def find_members(
        self, query: str, limit: int = 10, *, exact_only: bool = False
    ) -> list[MemberMatch]:
        """Members by name or handle, case-insensitive: exact, then prefix, then substring.

        exact_only skips the prefix and substring passes (the substring one scans every name).
        """
        ranked = await search.rank_names(self.db.conn, query, limit, exact_only=exact_only)
        members = {m.id: m for m in await self._load(self.db.conn, [i for i, _ in ranked])}
        return [MemberMatch(members[i], rank) for i, rank in ranked if i in members]

    async def find_by_interest(self, prefix: str, limit: int = 10) -> InterestSearch:
        """Members with tag == prefix or starting with it, best first (see storage.search)."""
        total, ranked = await search.rank_interest(self.db.conn, prefix, limit)
        members = {m.id: m for m in await self._load(self.db.conn, [i for i, _ in ranked])}
        hits = tuple(
            InterestHit(
                members[mid],
                tuple(t for t in members[mid].interests if t.startswith(prefix)),
                exact,
            )
            for mid, exact in ranked
            if mid in members
        )
        return InterestSearch(prefix, total, hits)

    async def suggest_interests(self, query: str, limit: int = 3) -> list[str]:
        """Closest existing tags, for a /whois that found nothing."""
        return await search.suggest_tags(self.db.conn, query, limit)

    async def stats(self, top: int = 10) -> RosterStats:
        conn = self.db.conn
        async with conn.execute(
            "SELECT (SELECT COUNT(*) FROM members), "
            "(SELECT COUNT(*) FROM identities WHERE network = 'telegram'), "
            "(SELECT COUNT(*) FROM identities WHERE network = 'irc')"
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        async with conn.execute(
            "SELECT tag, members FROM tag_counts ORDER BY members DESC, tag LIMIT ?", (top,)
        ) as cur:
            tops = tuple((str(r[0]), int(r[1])) for r in await cur.fetchall())
        return RosterStats(int(row[0]), int(row[1]), int(row[2]), tops)

    # --------------------------------------------------------------------- link

    async def create_link_code(self, identity: Identity, *, join: bool = False) -> LinkCode:
        """A fresh one-time code for this identity; an older code of it is replaced.

        join=True joins the identity first in the same transaction (/link from someone not
        yet a member); otherwise a stranger is a LookupError.
        """
        now = self._clock()
        async with self.db.transaction() as conn:
            if join:
                await self._join(conn, identity, now)
            identity_id = await self._identity_id(conn, identity)
            if identity_id is None:
                raise LookupError("identity is not a member")
            await conn.execute("DELETE FROM link_codes WHERE expires_at <= ?", (now,))
            await conn.execute("DELETE FROM link_codes WHERE identity_id = ?", (identity_id,))
            while True:
                code = "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))
                async with conn.execute("SELECT 1 FROM link_codes WHERE code = ?", (code,)) as cur:
                    if await cur.fetchone() is None:
                        break
            expires = now + LINK_CODE_TTL
            await conn.execute(
                "INSERT INTO link_codes (code, identity_id, expires_at) VALUES (?, ?, ?)",
                (code, identity_id, expires),
            )
        return LinkCode(code, expires)

    async def discard_link_code(self, code: str) -> bool:
        """Void a code that was shown in public, before a bystander can redeem it."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM link_codes WHERE code = ?", ("".join(code.split()).upper(),)
            )
            return cur.rowcount > 0

    async def redeem_link_code(self, code: str, identity: Identity) -> Member:
        """Merge identity's member (if any) into the code owner's member; LinkError otherwise."""
        code = "".join(code.split()).upper()
        if len(code) != LINK_CODE_LENGTH or any(c not in LINK_CODE_ALPHABET for c in code):
            raise LinkError(f"That is not a link code: codes are {LINK_CODE_LENGTH} characters.")
        now = self._clock()
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT i.member_id, i.network, c.expires_at FROM link_codes c "
                "JOIN identities i ON i.id = c.identity_id WHERE c.code = ?",
                (code,),
            ) as cur:
                row = await cur.fetchone()
            if row is None or float(row[2]) <= now:
                raise LinkError("That code is unknown or has expired: ask for a new one.")
            target, source_network = int(row[0]), Network(row[1])
            if source_network is identity.network:
                raise LinkError(
                    f"That code was made on {network_name(source_network)}: "
                    "send it from your other network."
                )
            target_networks = await self._networks(conn, target)
            own = await self._upsert_names(conn, identity, now)
            if own == target:
                raise LinkError("These two are already linked.")
            if own is None:
                if identity.network.value in target_networks:
                    raise LinkError(_taken(identity.network))
                await self._insert_identity(conn, target, identity, now)
            else:
                if target_networks & await self._networks(conn, own):
                    raise LinkError(_taken(identity.network))
                await self._merge(conn, own, target)
            await conn.execute("DELETE FROM link_codes WHERE code = ?", (code,))
            member = await self._load_one(conn, target)
        log.info("linked identities into member %d", member.id)
        return member

    async def _merge(self, conn: aiosqlite.Connection, source: int, target: int) -> None:
        """Move source's identities to target, union interests, keep the earliest joined_at."""
        tags = list(
            dict.fromkeys([*await self._tags(conn, target), *await self._tags(conn, source)])
        )
        await conn.execute(
            "UPDATE members SET joined_at = MIN(joined_at, "
            "(SELECT joined_at FROM members WHERE id = ?)) WHERE id = ?",
            (source, target),
        )
        await conn.execute(
            "UPDATE identities SET member_id = ? WHERE member_id = ?", (target, source)
        )
        await conn.execute("DELETE FROM members WHERE id = ?", (source,))
        await conn.execute("DELETE FROM interests WHERE member_id = ?", (target,))
        await self._insert_tags(conn, target, tags[:MAX_INTERESTS])

    # ------------------------------------------------------------------- export

    async def record_export(self, actor: str, rows: int) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO exports (actor, exported_at, row_count) VALUES (?, ?, ?)",
                (actor, self._clock(), rows),
            )

    def iter_export_rows(self) -> AsyncIterator[ExportRow]:
        """Every member as one flat row, in id order, streamed in chunks."""
        return iter_export_rows(self.db)

    # ------------------------------------------------------------------ helpers

    async def _identity_id(self, conn: aiosqlite.Connection, identity: Identity) -> int | None:
        async with conn.execute(
            "SELECT id FROM identities WHERE network = ? AND key = ?",
            (identity.network.value, identity.key),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else int(row[0])

    async def _upsert_names(
        self, conn: aiosqlite.Connection, identity: Identity, now: float
    ) -> int | None:
        """Store a changed display name/handle/verified flag; the member id, or None if unknown."""
        async with conn.execute(
            "SELECT member_id, display_name, handle, verified FROM identities "
            "WHERE network = ? AND key = ?",
            (identity.network.value, identity.key),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        if (row[1], row[2], bool(row[3])) != (
            identity.display_name,
            identity.handle,
            identity.verified,
        ):
            await conn.execute(
                "UPDATE identities SET display_name = ?, name_fold = ?, handle = ?, "
                "handle_fold = ?, verified = ?, updated_at = ? WHERE network = ? AND key = ?",
                (*_name_columns(identity), now, identity.network.value, identity.key),
            )
        return int(row[0])

    async def _insert_identity(
        self, conn: aiosqlite.Connection, member_id: int, identity: Identity, now: float
    ) -> None:
        await conn.execute(
            "INSERT INTO identities (member_id, network, key, display_name, name_fold, handle, "
            "handle_fold, verified, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (member_id, identity.network.value, identity.key, *_name_columns(identity), now, now),
        )

    async def _networks(self, conn: aiosqlite.Connection, member_id: int) -> set[str]:
        async with conn.execute(
            "SELECT DISTINCT network FROM identities WHERE member_id = ?", (member_id,)
        ) as cur:
            return {str(r[0]) for r in await cur.fetchall()}

    async def _tags(self, conn: aiosqlite.Connection, member_id: int) -> list[str]:
        async with conn.execute(
            "SELECT tag FROM interests WHERE member_id = ? ORDER BY position", (member_id,)
        ) as cur:
            return [str(r[0]) for r in await cur.fetchall()]

    async def _insert_tags(
        self, conn: aiosqlite.Connection, member_id: int, tags: Sequence[str]
    ) -> None:
        """Store the member's whole list (callers delete the old one first): each row's
        shared prefix depends on the member's other tags."""
        shared = shared_prefixes(tags)
        await conn.executemany(
            "INSERT INTO interests (member_id, tag, position, shared) VALUES (?, ?, ?, ?)",
            [(member_id, tag, i, shared[tag]) for i, tag in enumerate(tags)],
        )

    async def _load_one(self, conn: aiosqlite.Connection, member_id: int) -> Member:
        members = await self._load(conn, [member_id])
        if not members:
            raise LookupError(f"member {member_id} vanished")
        return members[0]

    async def _load(self, conn: aiosqlite.Connection, ids: Sequence[int]) -> list[Member]:
        """Members with identities and interests, in the order of ids; two queries in all."""
        if not ids:
            return []
        id_list = json.dumps(list(ids))
        joined: dict[int, float] = {}
        idents: dict[int, list[Identity]] = {}
        tags: dict[int, list[str]] = {}
        async with conn.execute(
            "SELECT m.id, m.joined_at, i.network, i.key, i.display_name, i.handle, i.verified "
            "FROM members m JOIN identities i ON i.member_id = m.id "
            "WHERE m.id IN (SELECT value FROM json_each(?)) ORDER BY i.id",
            (id_list,),
        ) as cur:
            for r in await cur.fetchall():
                joined[int(r[0])] = float(r[1])
                idents.setdefault(int(r[0]), []).append(
                    Identity(Network(r[2]), str(r[3]), str(r[4]), r[5], bool(r[6]))
                )
        async with conn.execute(
            "SELECT member_id, tag FROM interests "
            "WHERE member_id IN (SELECT value FROM json_each(?)) ORDER BY member_id, position",
            (id_list,),
        ) as cur:
            for r in await cur.fetchall():
                tags.setdefault(int(r[0]), []).append(str(r[1]))
        return [
            Member(i, joined[i], tuple(idents[i]), tuple(tags.get(i, ())))
            for i in ids
            if i in joined
        ]


def _name_columns(identity: Identity) -> tuple[str, str, str | None, str | None, int]:
    handle = identity.handle or None
    return (
        identity.display_name,
        fold(identity.display_name),
        handle,
        fold(handle) if handle else None,
        int(identity.verified),
    )


def network_name(network: Network) -> str:
    return "Telegram" if network is Network.TELEGRAM else "IRC"


def _taken(network: Network) -> str:
    article = "a" if network is Network.TELEGRAM else "an"
    return (
        f"That member already has {article} {network_name(network)} identity; "
        "a member has at most one per network."
    )


def _rowid(cur: aiosqlite.Cursor) -> int:
    if cur.lastrowid is None:
        raise RuntimeError("INSERT returned no rowid")
    return cur.lastrowid
