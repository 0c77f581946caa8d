"""The web directory shows listed members only, and each of its queries says so itself.

Statically: every query the directory's store runs to choose what a visitor sees (the
SELECT constants of storage.directory, which its reads use instead of inline SQL, and the
searches of storage.search.DIRECTORY) states the listed condition, or reads only a table
the triggers keep for listed members. While every endpoint is served, every statement
SQLite runs states it too, or loads the members whose ids those queries chose.
Behaviourally: with listed and unlisted members sharing names and interests, no answer of
/members, ?q=, /members.json, /interests or /interests/<tag> names an unlisted one or
counts them, whichever way the interest search goes (tag walks or one sort).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bridge.model import Network
from bridge.web.directory import add_directory
from storage import directory as directory_module
from storage import search
from storage.db import Database
from storage.directory import DirectoryStore
from storage.roster_model import Identity
from storage.roster_store import RosterStore

LISTED = "EXISTS (SELECT 1 FROM members m WHERE m.id = member_id AND m.listed = 1 AND m.stale = 0)"
"""The condition on a row of identities or interests: its member said /listed yes and did
not let their profile lapse (storage.freshness)."""
LISTED_CONDITIONS = (LISTED, "FROM members WHERE listed = 1 AND stale = 0")
LISTED_TABLES = frozenset({"listed_tag_counts", "directory_state"})
"""Tables the triggers of migration 0009 keep for listed members only."""
TABLE_RE = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)", re.IGNORECASE)

SHOWN = {"smith_shown", "samshown", "ada_shown"}
"""The listed members' handles."""
UNLISTED = ("smith_secret", "secret_sam", "ada_secret", "secretag", "secretag2", "secretag3")
"""The unlisted members' handles and the tags only they list."""

SEARCHES = [
    "Sam Smith",
    "sam",
    "smi",
    "smith",
    "go",
    "g",
    "golang",
    "go-web",
    "python",
    "rust",
    "ada",
    "secretag",
    "secret_sam",
    "@smith_secret",
    "secret",
]
LISTED_TOTALS = {"Sam Smith": 2, "go": 3, "golang": 1, "python": 1, "rust": 1, "ada": 1}
"""What a search counts when only the listed members count (the roster would count more)."""


def listed_only(sql: str) -> bool:
    """True when the statement states the listed condition or reads listed tables only."""
    if any(condition in sql for condition in LISTED_CONDITIONS):
        return True
    tables = set(TABLE_RE.findall(sql))
    return bool(tables) and tables <= LISTED_TABLES


SELECT_RE = re.compile(r"\bSELECT\b")
OWN_CHOICE = {"set_listed", "is_listed"}
"""DirectoryStore's methods for /listed: the member's own row, never shown to a visitor."""


def directory_queries() -> list[str]:
    named = [
        value
        for name, value in vars(directory_module).items()
        if name.isupper() and isinstance(value, str) and SELECT_RE.search(value)
    ]
    searches = [getattr(search.DIRECTORY, f.name) for f in dataclasses.fields(search.Queries)]
    return named + searches


def test_every_directory_query_states_the_listed_condition() -> None:
    queries = directory_queries()
    assert len(queries) == 15  # 7 named in storage.directory, 8 searches
    assert [q for q in queries if not listed_only(q)] == []
    # and the roster's searches (/whois) are not the directory's
    roster = [getattr(search.ROSTER, f.name) for f in dataclasses.fields(search.Queries)]
    assert [q for q in roster if listed_only(q)] == []


def test_the_directory_reads_write_no_query_inline() -> None:
    """So that the list above is every query they run: a SELECT written inside a read would
    escape it (the trace below would still catch it when run)."""
    tree = ast.parse(Path(directory_module.__file__).read_text(encoding="utf-8"))
    inline = [
        f"{node.name}: {sub.value}"
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and node.name not in OWN_CHOICE
        for sub in ast.walk(node)
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
        if SELECT_RE.search(sub.value)
    ]
    assert inline == []


@dataclass
class Site:
    client: TestClient[web.Request, web.Application]
    roster: RosterStore
    directory: DirectoryStore
    db: Database


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    db = await Database.open(tmp_path / "directory.sqlite3")
    app = web.Application()
    directory = DirectoryStore(db)
    add_directory(app, directory, "https://dir.example.org", ["#collab"])
    client = TestClient(TestServer(app))
    await client.start_server()
    s = Site(client, RosterStore(db), directory, db)
    try:
        await populate(s)
        yield s
    finally:
        await client.close()
        await db.close()


def tg(n: int, name: str, username: str) -> Identity:
    return Identity(Network.TELEGRAM, str(n), name, username, True)


async def populate(site: Site) -> None:
    """Three listed members and three unlisted ones with the same names and interests
    (one of them listed once, then not), each unlisted one with a tag of their own."""
    shown_irc = Identity(Network.IRC, "account:samshown", "Sam Smith", "samshown", True)
    people = [
        (tg(1, "Sam Smith", "smith_shown"), ["go", "golang", "python"], True),
        (tg(11, "Sam Smith", "smith_secret"), ["go", "golang", "python", "secretag"], False),
        (shown_irc, ["go-web", "rust"], True),
        (tg(12, "Sam Smith", "secret_sam"), ["go-web", "rust", "secretag2", "go"], False),
        (tg(3, "Ada", "ada_shown"), ["go"], True),
        (tg(13, "Ada", "ada_secret"), ["go", "golang", "secretag3"], True),
    ]
    for identity, tags, listed in people:
        await site.roster.join_with_interests(identity, tags, edit=False)
        if listed:
            await site.directory.set_listed(identity, True)
    await site.directory.set_listed(tg(13, "Ada", "ada_secret"), False)


async def get(site: Site, path: str) -> str:
    async with site.client.get(path) as resp:
        assert resp.status in (200, 404), path
        return await resp.text()


def paths() -> list[tuple[str, str]]:
    """(path, what the page repeats of the request: the search or the tag)."""
    out = [("/members", ""), ("/members.json", ""), ("/interests", "")]
    for q in SEARCHES:
        out += [(f"/members?q={quote(q)}", q), (f"/members.json?q={quote(q)}", q)]
    for tag in ("go", "golang", "go-web", "python", "rust", "secretag", "secretag2"):
        out.append((f"/interests/{quote(tag)}", tag))
    return out


async def leaks(site: Site) -> list[str]:
    """What the public endpoints let out about unlisted members: an answer naming one, a
    search counting them, or a statement run for a visitor without the listed condition."""
    found: list[str] = []
    statements: list[str] = []
    await site.db.conn.set_trace_callback(statements.append)
    try:
        for path, asked in paths():
            body = await get(site, path)
            named = [m for m in UNLISTED if m in body and m not in asked]  # not the echo
            named += sorted(set(re.findall(r"https://t\.me/(\w+)", body)) - SHOWN)
            if named:
                found.append(f"{path} names an unlisted member: {named}")
            if path.startswith("/members.json"):
                data = json.loads(body)
                handles = {m["telegram"]["username"] for m in data["members"] if m["telegram"]}
                handles |= {m["irc"]["nick"] for m in data["members"] if m["irc"]}
                if not handles <= SHOWN:
                    found.append(f"{path} shows {sorted(handles - SHOWN)}")
                q = data["query"] or ""
                if q in LISTED_TOTALS and data["total"] != LISTED_TOTALS[q]:
                    found.append(f"{path} counts {data['total']}, not {LISTED_TOTALS[q]}")
    finally:
        await site.db.conn.set_trace_callback(None)
    for sql in statements:
        loads_chosen_ids = "json_each(" in sql
        if not (listed_only(sql) or loads_chosen_ids):
            found.append(f"ran without the listed condition: {sql}")
    return found


@pytest.mark.parametrize("tag_walks", [search.MAX_TAG_WALKS, 0], ids=["walks", "one-sort"])
async def test_no_public_answer_shows_or_counts_an_unlisted_member(
    site: Site, tag_walks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "MAX_TAG_WALKS", tag_walks)
    assert await leaks(site) == []
    # the listed ones are all there
    data = json.loads(await get(site, "/members.json?q=go"))
    assert sorted(m["name"] for m in data["members"]) == ["Ada", "Sam Smith", "Sam Smith"]
    interests = await get(site, "/interests")
    assert '<a href="/interests/go">go</a> <span class="count">2 members</span>' in interests


async def test_the_check_sees_a_search_without_the_listed_condition(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same check, with the directory searching as /whois does: it finds the leak."""
    monkeypatch.setattr(search, "DIRECTORY", search.ROSTER)
    found = await leaks(site)
    assert "/members.json?q=go counts 6, not 3" in found
    assert any(f.startswith("ran without the listed condition: SELECT DISTINCT") for f in found)
    assert any("names an unlisted member" in f for f in found)
