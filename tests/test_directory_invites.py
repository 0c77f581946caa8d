"""The directory invites people in (issue 23, item 4): [web] title heads every page and its
<title>; "Join the conversation" shows each public pair's Telegram invite link, IRC host and
channel and web chat, never a pair with directory = false (nor one given no invite link nor
web chat); a card of a member who said
/askme yes says they take questions. Over HTTP, through the App's own wiring, exact HTML
with the values escaped; and in headless Chromium, with screenshots and axe-core."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from selenium.webdriver.common.by import By

from bridge.app import App
from bridge.config import parse_config
from bridge.model import Network
from storage.askme import set_askme
from storage.db import Database
from storage.directory import DirectoryStore
from storage.roster_model import Identity
from storage.roster_store import RosterStore
from tests.support.browser import PHONE, axe_violations, chromium, require_chromium, screenshot

CONFIG = """
[telegram]
token = "1:abc"
[irc]
host = "irc.libera.chat"
nick = "bridge"
[[bridge]]
telegram_chat = -100
irc_channel = "#collab"
telegram_invite_link = "https://t.me/+AbCdEf12"
irc_web_chat_url = "https://web.libera.chat/?channels=x&nick=\\"><script>alert(1)</script>"
[[bridge]]
telegram_chat = -200
irc_channel = "#wikitech"
telegram_invite_link = "https://t.me/wikitech_l"
[[bridge]]
telegram_chat = -300
irc_channel = "#staff-only"
telegram_invite_link = "https://t.me/+StaffSecret99"
irc_web_chat_url = "https://web.libera.chat/#staff-only"
directory = false
[[bridge]]
telegram_chat = -400
irc_channel = "#random"
[web]
public_url = "https://dir.example.org"
{title}
"""
TITLE = 'title = "Wikimedia <technical> collaboration & co"'
JOIN = (
    '<section class="join" aria-labelledby="join-title">\n'
    '  <h2 id="join-title">Join the conversation</h2>\n'
    "  <ul>\n"
    '    <li><a href="https://t.me/+AbCdEf12" rel="nofollow">Telegram group</a> · IRC: '
    "<strong>#collab</strong> on <strong>irc.libera.chat</strong> · "
    '<a href="https://web.libera.chat/?channels=x&amp;nick=&#34;&gt;&lt;script&gt;alert(1)'
    '&lt;/script&gt;" rel="nofollow">web chat</a></li>\n'
    '    <li><a href="https://t.me/wikitech_l" rel="nofollow">Telegram group</a> · IRC: '
    "<strong>#wikitech</strong> on <strong>irc.libera.chat</strong></li>\n"
    "  </ul>\n"
    "</section>\n"
)
PAGES = ["/members", "/members?q=python", "/interests", "/interests/python"]
PAGE_TITLES = ["Members", "Search: python", "Interests", "Interest: python"]


@dataclass
class Site:
    client: TestClient  # type: ignore[type-arg]
    url: str
    app: App

    async def text(self, path: str) -> str:
        async with self.client.get(path) as resp:
            assert resp.status == 200, path
            return await resp.text()


async def populate(db: Database) -> None:
    """Ann takes questions (/askme yes), Ben does not, Cy takes them but lists nothing."""
    roster, directory = RosterStore(db), DirectoryStore(db)
    people = [("Ann", ["python", "i18n"], True), ("Ben", ["python"], False), ("Cy", [], True)]
    for n, (name, tags, askme) in enumerate(people):
        ident = Identity(Network.TELEGRAM, str(500 + n), name, f"{name.lower()}_user", True)
        await roster.join(ident)
        if tags:
            await roster.join_with_interests(ident, tags, edit=False)
        await directory.set_listed(ident, True)
        await set_askme(db, ident, askme)


@pytest.fixture(params=[TITLE, ""], ids=["title", "no-title"])
async def site(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Site]:
    db = await Database.open(tmp_path / "invites.sqlite3")
    app = App(parse_config(CONFIG.format(title=request.param)), db)
    assert app.web is not None
    client = TestClient(TestServer(app.web.server.app, host="127.0.0.1"))
    await client.start_server()
    try:
        await populate(db)
        yield Site(client, f"http://127.0.0.1:{client.port}", app)
    finally:
        await client.close()
        await app.telegram.close()
        await db.close()


async def test_the_title_heads_every_page_and_its_title(site: Site) -> None:
    titled = site.app.config.web is not None and bool(site.app.config.web.title)
    for path, title in zip(PAGES, PAGE_TITLES, strict=True):
        body = await site.text(path)
        if titled:
            name = "Wikimedia &lt;technical&gt; collaboration &amp; co"
            assert f"<title>{title} · {name}</title>" in body, path
            assert f'<p class="community"><a href="/members">{name}</a></p>' in body, path
        else:
            assert f"<title>{title} · members directory</title>" in body, path
            assert 'class="community"' not in body, path


async def test_join_the_conversation_shows_the_public_pairs_only(site: Site) -> None:
    for path in PAGES:
        body = await site.text(path)
        assert f"<h1>{PAGE_TITLES[PAGES.index(path)]}</h1>\n{JOIN}" in body, path
        assert "staff" not in body.lower() and "StaffSecret" not in body, path
        assert "#random" not in body, path  # public, but no way in configured: not named
        assert "<script>" not in body, path


async def test_cards_say_who_takes_questions(site: Site) -> None:
    body = await site.text("/members")
    ann = body.index("<bdi>Ann</bdi></h2>")
    ben = body.index("<bdi>Ben</bdi></h2>")
    cy = body.index("<bdi>Cy</bdi></h2>")
    line = '<p class="askme">Takes questions on these interests</p>'
    assert body.count(line) == 1
    assert (
        '<dd><ul class="tags"><li><a href="/interests/python">python</a></li>'
        f'<li><a href="/interests/i18n">i18n</a></li></ul>{line}</dd>'
    ) in body[ann:]
    assert line not in body[ben : ben + 600] and line not in body[cy : cy + 600]
    data = json.loads(await site.text("/members.json"))
    assert {m["name"]: m["takes_questions"] for m in data["members"]} == {
        "Ann": True,
        "Ben": False,
        "Cy": False,  # nothing listed: no interests to take questions on
    }


async def test_a_changed_choice_shows_at_once(site: Site) -> None:
    """/askme no drops the line from the cached page at the next request."""
    line = "Takes questions on these interests"
    assert line in await site.text("/interests/python")
    ann = Identity(Network.TELEGRAM, "500", "Ann", "ann_user", True)
    await set_askme(site.app.db, ann, False)
    assert line not in await site.text("/interests/python")


@pytest.mark.slow
async def test_a_newcomer_sees_whose_it_is_and_how_to_join(site: Site, tmp_path: Path) -> None:
    require_chromium()
    shots = tmp_path / "screenshots"
    titled = site.app.config.web is not None and bool(site.app.config.web.title)

    def browse() -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for size, label in ((None, "desktop"), (PHONE, "phone")):
            profile = tmp_path / f"profile-{label}"
            with chromium(profile, size) if size else chromium(profile) as driver:
                driver.get(f"{site.url}/members")
                if titled:
                    name = "Wikimedia <technical> collaboration & co"
                    assert driver.title == f"Members · {name}"
                    assert driver.find_element(By.CSS_SELECTOR, "header .community").text == name
                join = driver.find_element(By.CSS_SELECTOR, "section.join")
                assert join.text.splitlines() == [
                    "Join the conversation",
                    "Telegram group · IRC: #collab on irc.libera.chat · web chat",
                    "Telegram group · IRC: #wikitech on irc.libera.chat",
                ]
                links = [a.get_attribute("href") for a in join.find_elements(By.TAG_NAME, "a")]
                assert links == [
                    "https://t.me/+AbCdEf12",
                    "https://web.libera.chat/?channels=x&nick=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
                    "https://t.me/wikitech_l",
                ]
                asks = driver.find_elements(By.CSS_SELECTOR, "li.member p.askme")
                assert [a.text for a in asks] == ["Takes questions on these interests"]
                overflow = "return document.documentElement.scrollWidth - window.innerWidth"
                assert driver.execute_script(overflow) <= 0
                screenshot(driver, shots / f"invite-{label}.png")
                for path in PAGES:
                    driver.get(site.url + path)
                    found[f"{label} {path}"] = axe_violations(driver)
        return found

    violations = await asyncio.wait_for(asyncio.to_thread(browse), timeout=180)
    assert {page: v for page, v in violations.items() if v} == {}
    for label in ("desktop", "phone"):
        assert (shots / f"invite-{label}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
