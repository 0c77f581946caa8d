"""The directory's store: only listed members, in every page, search and count."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge.model import Network
from storage import search
from storage.db import Database
from storage.directory import PAGE_SIZE, DirectoryStore
from storage.roster_model import Identity
from storage.roster_store import RosterStore


@dataclass
class Clock:
    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@dataclass
class Stores:
    roster: RosterStore
    directory: DirectoryStore
    clock: Clock


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[Stores]:
    db = await Database.open(tmp_path / "dir.sqlite3")
    clock = Clock()
    try:
        yield Stores(RosterStore(db, clock), DirectoryStore(db, clock), clock)
    finally:
        await db.close()


def tg(n: int, name: str, username: str | None = None) -> Identity:
    return Identity(Network.TELEGRAM, str(n), name, username, True)


def irc(account: str) -> Identity:
    return Identity(Network.IRC, f"account:{account}", account, account, True)


async def add(s: Stores, ident: Identity, tags: list[str], *, listed: bool) -> int:
    update, _ = await s.roster.join_with_interests(ident, tags, edit=False)
    assert update.interests == tuple(tags)
    if listed:
        assert await s.directory.set_listed(ident, True) is not None
    member = await s.roster.get_member_by_identity(ident.network, ident.key)
    assert member is not None
    return member.id


async def everything_visible(d: DirectoryStore) -> str:
    """Every name, tag and count the directory would show anywhere, as one text."""
    parts: list[str] = []
    page = await d.members_page()
    parts += [repr(m) for m in page.members]
    for q in ("python", "py", "bob", "carol", "dave", "o", "rust"):
        parts += [repr(m) for m in (await d.search(q)).members]
    for tag in ("python", "rust", "secret-tag"):
        tag_page = await d.tag_members(tag)
        parts += [repr(m) for m in tag_page.members]
        parts += [f"{tag}:{tag_page.total}"] if tag_page.total else []
    parts += [f"{t}={n}" for t, n in (await d.tags()).tags]
    return "\n".join(parts)


async def test_only_listed_members_appear_anywhere(stores: Stores) -> None:
    s = stores
    alice = await add(s, tg(1, "Alice", "alice"), ["python", "rust"], listed=True)
    await add(s, irc("bob"), ["python", "secret-tag"], listed=False)
    carol = tg(3, "Carol")
    await add(s, carol, ["python", "secret-tag"], listed=True)
    await s.directory.set_listed(carol, False)  # switched to no
    dave = irc("dave")
    dave_id = await add(s, dave, ["python", "secret-tag"], listed=True)
    assert await s.roster.forget(dave_id)  # /leave
    async with s.roster.db.conn.execute(
        "SELECT COUNT(*) FROM members WHERE id = ?", (dave_id,)
    ) as c:
        assert tuple(await c.fetchone() or ()) == (0,)  # the row is gone, not hidden

    seen = await everything_visible(s.directory)
    for absent in ("bob", "Carol", "dave", "secret-tag"):
        assert absent not in seen
    page = await s.directory.members_page()
    assert [m.id for m in page.members] == [alice]
    assert (page.total, await s.directory.listed_count()) == (1, 1)
    assert (await s.directory.tags()).tags == (("python", 1), ("rust", 1))
    assert (await s.directory.tag_members("python")).total == 1
    found = await s.directory.search("python")
    assert ([m.id for m in found.members], found.total) == ([alice], 1)


async def test_counts_follow_untag_and_removal(stores: Stores) -> None:
    s = stores
    a = await add(s, tg(1, "Ann"), ["python", "go"], listed=True)
    await add(s, tg(2, "Ben"), ["python"], listed=True)
    assert dict((await s.directory.tags()).tags) == {"python": 2, "go": 1}
    assert await s.roster.remove_tag("go", "cli:test") == 1
    assert dict((await s.directory.tags()).tags) == {"python": 2}
    await s.roster.remove_member(a, "cli:test")
    assert dict((await s.directory.tags()).tags) == {"python": 1}
    assert await s.directory.listed_count() == 1


async def test_most_recently_active_first(stores: Stores) -> None:
    s = stores
    first = await add(s, tg(1, "First"), ["a1"], listed=True)
    second = await add(s, tg(2, "Second"), ["b2"], listed=True)
    third = await add(s, tg(3, "Third"), ["c3"], listed=True)
    ids = [m.id for m in (await s.directory.members_page()).members]
    assert ids == [third, second, first]
    await s.roster.join_with_interests(tg(1, "First"), ["d4"], edit=True)  # activity
    ids = [m.id for m in (await s.directory.members_page()).members]
    assert ids == [first, third, second]
    await s.roster.refresh_identity(tg(2, "Second, renamed"))  # a new name is activity too
    ids = [m.id for m in (await s.directory.members_page()).members]
    assert ids == [second, first, third]


async def test_pages_of_fifty_without_repeats(stores: Stores) -> None:
    s = stores
    for n in range(120):
        await add(s, tg(n + 1, f"Member {n}"), ["python"], listed=n % 2 == 0)
    await add(s, tg(999, "Unlisted"), ["python"], listed=False)
    pages = [await s.directory.members_page(p) for p in (1, 2, 3)]
    assert [len(p.members) for p in pages] == [PAGE_SIZE, 10, 0]
    assert {p.pages for p in pages} == {2} and {p.total for p in pages} == {60}
    ids = [m.id for p in pages for m in p.members]
    assert len(set(ids)) == 60
    tag_pages = [await s.directory.tag_members("python", p) for p in (1, 2)]
    assert sum(len(p.members) for p in tag_pages) == 60 and tag_pages[0].total == 60
    search_pages = [await s.directory.search("python", p) for p in (1, 2)]
    assert [m.id for p in search_pages for m in p.members] == [
        m.id for p in tag_pages for m in p.members
    ]


async def test_search_ranks_like_whois_over_listed_members(stores: Stores) -> None:
    """The ranking is /whois's (storage.search), with the unlisted left out of it."""
    s = stores
    rng = random.Random(7)
    tags = ["python", "py", "pygame", "pypy", "rust", "go", "pandas", "perl"]
    listed: set[int] = set()
    for n in range(80):
        chosen = rng.sample(tags, rng.randint(1, 4))
        is_listed = rng.random() < 0.5
        member = await add(s, tg(n + 1, f"Person {n}"), chosen, listed=is_listed)
        if is_listed:
            listed.add(member)
    conn = s.roster.db.conn
    for prefix in ("py", "python", "p", "rust", "go"):
        _, full = await search.rank_interest(conn, prefix, 1000)
        expected = [i for i, _ in full if i in listed]
        got_total, got = await search.rank_interest(conn, prefix, 1000, queries=search.DIRECTORY)
        assert [i for i, _ in got] == expected
        assert got_total == len(expected)
        short_total, short = await search.rank_interest(conn, prefix, 5, queries=search.DIRECTORY)
        assert [i for i, _ in short] == expected[:5] and short_total == len(expected)
        page = await s.directory.search(prefix)
        assert [m.id for m in page.members] == expected[:PAGE_SIZE]
    names = await search.rank_names(
        conn, "person 1", 100, exact_only=False, queries=search.DIRECTORY
    )
    assert names and {i for i, _ in names} <= listed


async def test_exact_name_comes_first_then_interest(stores: Stores) -> None:
    s = stores
    rust_fan = await add(s, tg(1, "Ferris"), ["rust"], listed=True)
    named = await add(s, tg(2, "rust"), ["cooking"], listed=True)
    found = await s.directory.search("rust")
    assert [m.id for m in found.members] == [named, rust_fan] and found.total == 2


async def test_linking_an_unlisted_identity_unlists_the_member(stores: Stores) -> None:
    s = stores
    await add(s, tg(1, "Alice"), ["python"], listed=True)
    await add(s, irc("alice_irc"), ["rust"], listed=False)
    code = await s.roster.create_link_code(tg(1, "Alice"))
    linked = await s.roster.redeem_link_code(code.code, irc("alice_irc"))
    merged = linked.member
    assert linked.unlisted
    assert len(merged.identities) == 2
    assert not await s.directory.is_listed(merged.id)
    assert (await s.directory.members_page()).total == 0
    assert (await s.directory.tags()).tags == ()


async def test_linking_into_a_listed_member_never_publishes(stores: Stores) -> None:
    """Issue 21: a new identity, or one moved from a listed member, unlists the merged
    member, and the counts the triggers keep follow; /listed yes lists both identities."""
    s = stores
    await add(s, tg(1, "Alice"), ["python"], listed=True)
    code = await s.roster.create_link_code(tg(1, "Alice"))
    linked = await s.roster.redeem_link_code(code.code, irc("alice_irc"))  # never joined
    assert linked.unlisted and len(linked.member.identities) == 2
    assert (await s.directory.members_page()).total == 0
    assert await s.directory.listed_count() == 0 and (await s.directory.tags()).tags == ()
    assert "alice_irc" not in await everything_visible(s.directory)

    await add(s, tg(2, "Bob"), ["rust"], listed=True)  # both listed: still unlisted
    await add(s, irc("bob_irc"), ["lua"], listed=True)
    code = await s.roster.create_link_code(irc("bob_irc"))
    linked = await s.roster.redeem_link_code(code.code, tg(2, "Bob"))
    assert linked.unlisted and not await s.directory.is_listed(linked.member.id)
    assert await s.directory.listed_count() == 0 and (await s.directory.tags()).tags == ()

    await add(s, tg(3, "Carol"), ["go"], listed=True)  # listed into unlisted: told too
    await add(s, irc("carol_irc"), ["c"], listed=False)
    code = await s.roster.create_link_code(irc("carol_irc"))
    assert (await s.roster.redeem_link_code(code.code, tg(3, "Carol"))).unlisted
    assert await s.directory.listed_count() == 0

    await add(s, tg(4, "Dan"), ["go"], listed=False)  # nothing was listed: nothing to tell
    code = await s.roster.create_link_code(tg(4, "Dan"))
    assert not (await s.roster.redeem_link_code(code.code, irc("dan_irc"))).unlisted

    await s.directory.set_listed(irc("alice_irc"), True)
    page = await s.directory.members_page()
    assert [len(m.identities) for m in page.members] == [2]
    assert await s.directory.listed_count() == 1
    assert (await s.directory.tags()).tags == (("python", 1),)


async def test_version_changes_with_every_roster_write(stores: Stores) -> None:
    s = stores
    v0 = await s.directory.version()
    member = await add(s, tg(1, "Alice"), ["python"], listed=True)
    v1 = await s.directory.version()
    await s.roster.refresh_identity(tg(1, "Alice Renamed"))
    v2 = await s.directory.version()
    await s.roster.forget(member)
    v3 = await s.directory.version()
    assert v0 < v1 < v2 < v3


async def test_not_a_member_cannot_be_listed(stores: Stores) -> None:
    assert await stores.directory.set_listed(tg(5, "Nobody"), True) is None
    assert await stores.directory.listed_count() == 0
