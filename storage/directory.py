"""The members directory's reads and the /listed choice: listed members only, never others.

Every read here filters on members.listed (migration 0009) and members.stale (0017), so a
member who never said /listed yes, said no, left, or let their profile lapse (not confirmed
after a nudge, storage.freshness) is absent from every page, search and count. The counts come
from tables the triggers keep (listed_tag_counts, directory_state), so a page at 100k
members reads an index range, never the whole roster. directory_state.version changes with
every roster write: the web cache compares it before serving a page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import aiosqlite

from storage import member_rows, search
from storage.askme import askme_members
from storage.db import Database
from storage.roster_model import Identity, Member
from storage.seen_channels import member_channels
from storage.tags import TagError, normalise_tag

PAGE_SIZE = 50
TAG_PAGE_SIZE = 200
MAX_SEARCH_RESULTS = 1000
"""A search shows at most this many members (20 pages): a longer query narrows it down."""

# The reads' queries, named here (the searches are search.DIRECTORY's): each states that
# only listed members count, by a condition on members.listed or by reading a table the
# triggers keep for listed members only (listed_tag_counts, directory_state). The members
# shown are then loaded by the ids these chose (member_rows.load_members, member_channels).
# tests/test_directory_listed_only.py checks every one, and that no read runs another.
VERSION = "SELECT version FROM directory_state"
LISTED_COUNT = "SELECT listed FROM directory_state"
MEMBERS_PAGE = (
    "SELECT id FROM members WHERE listed = 1 AND stale = 0 "
    "ORDER BY active_at DESC, id DESC LIMIT ? OFFSET ?"
)
TAG_COUNT = "SELECT members FROM listed_tag_counts WHERE tag = ?"
TAG_MEMBERS = (
    "SELECT member_id FROM interests WHERE tag = ? "
    "AND EXISTS (SELECT 1 FROM members m WHERE m.id = member_id AND m.listed = 1 AND m.stale = 0) "
    "ORDER BY position, member_id LIMIT ? OFFSET ?"
)
TAGS_COUNT = "SELECT COUNT(*) FROM listed_tag_counts"
TAGS_PAGE = "SELECT tag, members FROM listed_tag_counts ORDER BY members DESC, tag LIMIT ? OFFSET ?"
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of members: the members shown and how many there are in all."""

    members: tuple[Member, ...]
    total: int
    page: int
    pages: int
    channels: Mapping[int, frozenset[str]] = field(default_factory=dict)
    """The IRC channels each member was seen in, by member id (storage.seen_channels)."""
    askme: frozenset[int] = frozenset()
    """The members shown who take questions on their interests (/askme yes, storage.askme)."""


@dataclass(frozen=True, slots=True)
class TagPage:
    """Tags with their listed counts, biggest first."""

    tags: tuple[tuple[str, int], ...]
    total: int
    page: int
    pages: int


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


async def _page(conn: aiosqlite.Connection, ids: Sequence[int], total: int, page: int) -> Page:
    """The members with these ids, in this order, with where they were seen on IRC and
    whether they take questions."""
    members = await member_rows.load_members(conn, ids)
    channels = await member_channels(conn, ids)
    askme = await askme_members(conn, ids)
    return Page(tuple(members), total, page, _pages(total, PAGE_SIZE), channels, askme)


class DirectoryStore:
    """Reads for the web directory, and the member's choice to be in it."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self._clock = clock or time.time

    # ------------------------------------------------------------------ choice

    async def set_listed(self, identity: Identity, listed: bool) -> Member | None:
        """Record the choice of identity's member; None when not a member (then nothing is
        stored: a "no" needs no row, and a "yes" needs /join first, see handlers.listing)."""
        async with self.db.transaction() as conn:
            ident = await member_rows.identity_id(conn, identity)
            if ident is None:
                return None
            async with conn.execute(
                "UPDATE members SET listed = ?, active_at = max(coalesce(active_at, 0), ?) "
                "WHERE id = (SELECT member_id FROM identities WHERE id = ?) RETURNING id",
                (int(listed), self._clock(), ident),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            await member_rows.confirm(conn, int(row[0]), self._clock())  # a choice confirms
            return await member_rows.load_member(conn, int(row[0]))

    async def is_listed(self, member_id: int) -> bool:
        async with self.db.conn.execute(
            "SELECT listed FROM members WHERE id = ?", (member_id,)
        ) as cur:
            row = await cur.fetchone()
        return row is not None and bool(row[0])

    # ------------------------------------------------------------------- reads

    async def version(self) -> int:
        """Changes with every roster write (triggers of migration 0009)."""
        async with self.db.conn.execute(VERSION) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def listed_count(self) -> int:
        async with self.db.conn.execute(LISTED_COUNT) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def members_page(self, page: int = 1) -> Page:
        """Listed members, most recently active first, PAGE_SIZE a page (page counts from 1)."""
        total = await self.listed_count()
        page = max(1, page)
        rows = await self.db.conn.execute_fetchall(
            MEMBERS_PAGE, (PAGE_SIZE, (page - 1) * PAGE_SIZE)
        )
        return await _page(self.db.conn, [int(r[0]) for r in rows], total, page)

    async def search(self, query: str, page: int = 1) -> Page:
        """Listed members found by query with the ranking of /whois: exact names first, then
        the holders of the interest (or of tags starting with it), else partial names."""
        page = max(1, page)
        limit = min(page * PAGE_SIZE, MAX_SEARCH_RESULTS)
        conn = self.db.conn
        exact = await search.rank_names(
            conn, query, limit, exact_only=True, queries=search.DIRECTORY
        )
        ids = [i for i, _ in exact]
        total = len(ids)
        try:
            tag: str | None = normalise_tag(query)
        except TagError:
            tag = None
        if tag is not None:
            count, ranked = await search.rank_interest(conn, tag, limit, queries=search.DIRECTORY)
            seen = set(ids)
            ids += [i for i, _ in ranked if i not in seen]
            total += count - sum(1 for i, _ in ranked if i in seen)
        if not ids:
            names = await search.rank_names(
                conn, query, limit, exact_only=False, queries=search.DIRECTORY
            )
            ids = [i for i, _ in names]
            total = len(ids)
        total = min(total, MAX_SEARCH_RESULTS)
        return await _page(conn, ids[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], total, page)

    async def tag_members(self, tag: str, page: int = 1) -> Page:
        """Listed members with exactly this tag, in /whois order (their own placing of the
        tag, then member number): straight off the interests_tag index."""
        page = max(1, page)
        async with self.db.conn.execute(TAG_COUNT, (tag,)) as cur:
            row = await cur.fetchone()
        total = int(row[0]) if row else 0
        if not total:
            return Page((), 0, page, 1)
        rows = await self.db.conn.execute_fetchall(
            TAG_MEMBERS, (tag, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        )
        return await _page(self.db.conn, [int(r[0]) for r in rows], total, page)

    async def tags(self, page: int = 1) -> TagPage:
        """Every tag a listed member lists, with how many listed members list it."""
        page = max(1, page)
        async with self.db.conn.execute(TAGS_COUNT) as cur:
            row = await cur.fetchone()
        total = int(row[0]) if row else 0
        rows = await self.db.conn.execute_fetchall(
            TAGS_PAGE, (TAG_PAGE_SIZE, (page - 1) * TAG_PAGE_SIZE)
        )
        tags = tuple((str(r[0]), int(r[1])) for r in rows)
        return TagPage(tags, total, page, _pages(total, TAG_PAGE_SIZE))
