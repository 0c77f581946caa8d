"""The directory over HTTP (aiohttp's test server behind the web server's own headers):
what a visitor gets, what never appears, caching with ETags."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bridge.model import Network
from bridge.web.directory import VERSION_RECHECK, DirectoryPages, add_directory
from bridge.web.server import security_headers
from storage.db import Database
from storage.directory import DirectoryStore
from storage.roster_model import Identity
from storage.roster_store import RosterStore
from storage.seen_channels import SeenChannelStore

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = '"><img src=x onerror=alert(1)>'
RLO_NAME = "Eve \u202egnp.exe"


@dataclass
class Site:
    client: TestClient[web.Request, web.Application]
    roster: RosterStore
    directory: DirectoryStore
    pages: DirectoryPages

    async def text(self, path: str, status: int = 200) -> str:
        async with self.client.get(path) as resp:
            assert resp.status == status, path
            return await resp.text()


async def make_site(tmp_path: Path, public_url: str = "https://dir.example.org") -> Site:
    db = await Database.open(tmp_path / "web.sqlite3")
    app = web.Application(middlewares=[security_headers])
    directory = DirectoryStore(db)
    pages = add_directory(app, directory, public_url, ["#collab"])
    client = TestClient(TestServer(app))
    await client.start_server()
    return Site(client, RosterStore(db), directory, pages)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    s = await make_site(tmp_path)
    try:
        yield s
    finally:
        await s.client.close()
        await s.roster.db.close()


def tg(n: int, name: str, username: str | None = None) -> Identity:
    return Identity(Network.TELEGRAM, str(n), name, username, True)


def irc(nick: str) -> Identity:
    return Identity(Network.IRC, f"account:{nick}", nick, nick, True)


async def member(site: Site, ident: Identity, tags: list[str], *, listed: bool = True) -> int:
    await site.roster.join_with_interests(ident, tags, edit=False)
    if listed:
        await site.directory.set_listed(ident, True)
    found = await site.roster.get_member_by_identity(ident.network, ident.key)
    assert found is not None
    return found.id


async def test_members_page_shows_the_listed_only(site: Site) -> None:
    await member(site, tg(1, "Alice Liddell", "alice"), ["python", "c++"])
    await member(site, irc("bobirc"), ["python", "hidden-tag"], listed=False)
    carol = tg(3, "Carol Switched")
    await member(site, carol, ["python", "hidden-tag"])
    await site.directory.set_listed(carol, False)
    dave = await member(site, irc("daveleft"), ["python", "hidden-tag"])
    await site.roster.forget(dave)

    pages = [
        await site.text("/members"),
        await site.text("/members?q=python"),
        await site.text("/members?q=bob"),
        await site.text("/members?q=carol"),
        await site.text("/members.json"),
        await site.text("/members.json?q=hidden"),
        await site.text("/interests"),
        await site.text("/interests/python"),
        await site.text("/interests/hidden-tag"),
    ]
    for text in pages:
        for absent in ("bobirc", "Carol", "daveleft"):
            assert absent not in text
    for text in pages[:-1]:  # the last one is the page of that very tag
        assert "hidden-tag" not in text
    html = pages[0]
    assert '<html lang="en">' in html and 'name="viewport"' in html
    assert '<label for="q">Search names and interests</label>' in html
    assert "<h2><bdi>Alice Liddell</bdi></h2>" in html
    assert '<a href="https://t.me/alice" rel="nofollow">@alice</a>' in html
    assert '<a href="/interests/c%2B%2B">c++</a>' in html
    assert "1 member is listed" in html
    assert '<a href="/interests/python">python</a> <span class="count">1 member</span>' in pages[6]
    assert "1 listed member lists <strong>python</strong>" in pages[7]
    assert "0 listed members list <strong>hidden-tag</strong>" in pages[8]
    data = json.loads(pages[4])
    assert data["total"] == 1 and data["pages"] == 1
    assert data["members"] == [
        {
            "name": "Alice Liddell",
            "telegram": {
                "name": "Alice Liddell",
                "username": "alice",
                "url": "https://t.me/alice",
            },
            "irc": None,
            "interests": [
                {"tag": "python", "url": "/interests/python"},
                {"tag": "c++", "url": "/interests/c%2B%2B"},
            ],
            "takes_questions": False,
            "member_since": data["members"][0]["member_since"],
        }
    ]


async def test_irc_members_show_nick_and_channel_never_host(site: Site) -> None:
    ident = Identity(Network.IRC, "mask:zed!~z@secret-host.example", "zed", "zed", False)
    await member(site, ident, ["lua"])
    html = await site.text("/members")
    assert "<dt>IRC</dt>\n      <dd><bdi>zed</bdi></dd>" in html  # seen in no channel yet
    seen = SeenChannelStore(site.roster.db)
    await seen.record(ident.key, "#collab")
    await seen.record(ident.key, "#staff")  # a channel the directory may not name
    html = await site.text("/members")
    assert "<dt>IRC</dt>\n      <dd><bdi>zed</bdi> on #collab</dd>" in html
    assert "#staff" not in html
    assert "secret-host" not in html and "~z" not in html
    assert "secret-host" not in await site.text("/members.json")


async def test_hostile_names_are_text(site: Site) -> None:
    await member(site, tg(1, HOSTILE_SCRIPT, "bad_user"), ["python"])
    await member(site, tg(2, HOSTILE_IMG), ["python"])
    await member(site, tg(3, RLO_NAME), ["python"])
    await member(site, tg(4, "Zoë 👩‍💻🏳️‍🌈"), ["python"])
    html = await site.text("/members")
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "\u202e" not in html and "<bdi>Eve gnp.exe</bdi>" in html
    assert "<bdi>Zoë 👩‍💻🏳️‍🌈</bdi>" in html
    data = json.loads(await site.text("/members.json"))
    assert {m["name"] for m in data["members"]} == {
        HOSTILE_SCRIPT,
        HOSTILE_IMG,
        "Eve gnp.exe",
        "Zoë 👩‍💻🏳️‍🌈",
    }


async def test_no_csv_and_bad_tags_are_404(site: Site) -> None:
    await site.text("/members.csv", status=404)
    await site.text("/interests/%00", status=404)
    await site.text("/interests/---", status=404)


async def test_security_headers_and_stylesheet(site: Site) -> None:
    async with site.client.get("/members") as resp:
        assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Cache-Control"] == "no-cache"
    async with site.client.get("/static/style.css") as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "text/css; charset=utf-8"
        assert ":focus-visible" in await resp.text()
        etag = resp.headers["ETag"]
    async with site.client.get("/static/style.css", headers={"If-None-Match": etag}) as resp:
        assert resp.status == 304


async def test_etag_304_and_invalidation_on_leave(site: Site) -> None:
    alice = await member(site, tg(1, "Alice"), ["python"])
    await member(site, tg(2, "Bruno"), ["python"])
    async with site.client.get("/members") as resp:
        etag = resp.headers["ETag"]
        assert "Alice" in await resp.text()
    async with site.client.get("/members", headers={"If-None-Match": f'W/{etag}, "x"'}) as resp:
        assert resp.status == 304 and resp.headers["ETag"] == etag
    await site.roster.forget(alice)  # /leave: gone at the next request, not in 5 s
    async with site.client.get("/members", headers={"If-None-Match": etag}) as resp:
        assert resp.status == 200 and resp.headers["ETag"] != etag
        assert "Alice" not in await resp.text()


async def test_pagination_links(site: Site) -> None:
    for n in range(55):
        await member(site, tg(n + 1, f"Person {n:02}"), ["python"])
    html = await site.text("/members")
    assert html.count('<li class="member">') == 50
    assert '<a href="/members?page=2" rel="next">Next page</a>' in html
    assert "Page 1 of 2" in html
    second = await site.text("/members?page=2")
    assert second.count('<li class="member">') == 5
    assert '<a href="/members" rel="prev">Previous page</a>' in second
    found = await site.text("/members?q=python&page=2")
    assert '<a href="/members?q=python" rel="prev">' in found
    tag = await site.text("/interests/python?page=2")
    assert tag.count('<li class="member">') == 5
    assert (await site.text("/members?page=x")).count('<li class="member">') == 50


async def test_search_input_is_made_plain(site: Site) -> None:
    await member(site, tg(1, "Alice"), ["python"])
    html = await site.text("/members?q=%3Cb%3Epy%00thon%3C/b%3E")
    assert "&lt;b&gt;python&lt;/b&gt;" in html and "<b>" not in html
    assert "0 listed members match" in html
    html = await site.text("/members?q=" + "p" * 500)
    assert 'value="' + "p" * 64 + '"' in html


async def test_links_keep_the_public_url_path(tmp_path: Path) -> None:
    s = await make_site(tmp_path, "https://example.org/bridge")
    try:
        await member(s, tg(1, "Alice"), ["python"])
        html = await s.text("/members")
        assert '<link rel="stylesheet" href="/bridge/static/style.css">' in html
        assert '<a href="/bridge/interests/python">python</a>' in html
        assert 'action="/bridge/members"' in html
    finally:
        await s.client.close()
        await s.roster.db.close()


async def test_another_processs_write_shows_within_the_recheck(tmp_path: Path) -> None:
    """The bridge's own roster writes are seen at once; a write by another process (an
    operator's roster command) within VERSION_RECHECK seconds, without a query per request."""
    now = [1000.0]
    db = await Database.open(tmp_path / "web.sqlite3")
    app = web.Application(middlewares=[security_headers])
    directory = DirectoryStore(db)
    add_directory(app, directory, "https://dir.example.org", clock=lambda: now[0])
    client = TestClient(TestServer(app))
    await client.start_server()
    other = await Database.open(tmp_path / "web.sqlite3")
    try:
        alice = tg(1, "Alice")
        await RosterStore(db).join_with_interests(alice, ["python"], edit=False)
        await directory.set_listed(alice, True)
        async with client.get("/members") as resp:
            assert "Alice" in await resp.text()
        await DirectoryStore(other).set_listed(alice, False)  # not through this process
        async with client.get("/members") as resp:
            assert "Alice" in await resp.text()  # still the cached page
        now[0] += VERSION_RECHECK
        async with client.get("/members") as resp:
            assert "Alice" not in await resp.text()
    finally:
        await client.close()
        await other.close()
        await db.close()
