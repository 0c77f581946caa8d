"""The directory in a real headless Chromium: what a reader sees, searching, following an
interest, hostile names that stay text, axe-core's accessibility check, screenshots.

The pages are served by the web server's own header middleware (strict CSP, no scripts) on
loopback; Selenium runs in a thread while the test's loop serves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from bridge.model import Network
from bridge.web.directory import add_directory
from bridge.web.server import security_headers
from storage.db import Database
from storage.directory import DirectoryStore
from storage.roster_model import Identity
from storage.roster_store import RosterStore
from storage.seen_channels import SeenChannelStore
from tests.support.browser import PHONE, axe_violations, chromium, require_chromium, screenshot

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = '"><img src=x onerror=alert(1)>'
T = TypeVar("T")

PEOPLE = [  # (telegram name, username, irc nick, interests, listed)
    ("Ada Lovelace", "ada_l", "ada", ["python", "math", "translation"], True),
    ("Grace Hopper", "grace_h", None, ["cobol", "compilers", "python"], True),
    ("Linus", None, "linus", ["c", "git", "linux"], True),
    ("Zoë 👩‍💻", "zoe_dev", None, ["rust", "python", "accessibility"], True),
    ("نور", "noor_ar", None, ["i18n", "translation"], True),
    (HOSTILE_SCRIPT, "evil_one", None, ["security"], True),
    (HOSTILE_IMG, None, "evil2", ["security", "rust"], True),
    ("Hidden Person", "hidden_p", None, ["python", "secret-hobby"], False),
]


@dataclass
class Served:
    url: str
    roster: RosterStore


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    require_chromium()
    db = await Database.open(tmp_path / "browser.sqlite3")
    roster, directory = RosterStore(db), DirectoryStore(db)
    for n, (name, username, nick, tags, listed) in enumerate(PEOPLE):
        ident = Identity(Network.TELEGRAM, str(100 + n), name, username, True)
        await roster.join_with_interests(ident, tags, edit=False)
        if nick:
            code = await roster.create_link_code(ident)
            await roster.redeem_link_code(
                code.code, Identity(Network.IRC, f"account:{nick}", nick, nick, True)
            )
            await SeenChannelStore(db).record(f"account:{nick}", "#collab")
        if listed:
            await directory.set_listed(ident, True)
    app = web.Application(middlewares=[security_headers])
    add_directory(app, directory, "http://127.0.0.1", ["#collab"])
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield Served(f"http://127.0.0.1:{server.port}", roster)
    finally:
        await server.close()
        await db.close()


async def in_thread(fn: Callable[[], T]) -> T:
    return await asyncio.wait_for(asyncio.to_thread(fn), timeout=120)


def no_alert(driver: webdriver.Chrome) -> None:
    try:
        alert = driver.switch_to.alert
    except NoAlertPresentException:
        return
    raise AssertionError(f"a page opened an alert: {alert.text!r}")


def visible_names(driver: webdriver.Chrome) -> list[str]:
    return [h.text for h in driver.find_elements(By.CSS_SELECTOR, "li.member h2")]


@pytest.mark.slow
async def test_reader_browses_searches_and_follows_an_interest(
    served: Served, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"

    def browse() -> None:
        with chromium(tmp_path / "profile") as driver:
            driver.get(f"{served.url}/members")
            assert driver.find_element(By.TAG_NAME, "h1").text == "Members"
            names = visible_names(driver)
            assert len(names) == 7 and "Hidden Person" not in names
            assert HOSTILE_SCRIPT in names and HOSTILE_IMG in names  # shown as text
            assert "Zoë 👩‍💻" in names and "نور" in names
            assert driver.find_elements(By.CSS_SELECTOR, "main img, main script") == []
            no_alert(driver)
            body = driver.find_element(By.TAG_NAME, "body").text
            assert "secret-hobby" not in body and "hidden_p" not in body
            assert "7 members are listed, most recently active first." in body
            assert "ada on #collab" in body
            link = driver.find_element(By.LINK_TEXT, "@ada_l")
            assert link.get_attribute("href") == "https://t.me/ada_l"
            screenshot(driver, shots / "members.png")

            # the search field is found by its label, typed into, submitted
            label = driver.find_element(By.CSS_SELECTOR, "label[for=q]")
            assert label.text == "Search names and interests"
            field = driver.find_element(By.ID, label.get_attribute("for") or "")
            field.send_keys("pyth", Keys.ENTER)
            assert driver.current_url.endswith("/members?q=pyth")
            found = visible_names(driver)
            assert set(found) == {"Ada Lovelace", "Grace Hopper", "Zoë 👩‍💻"}
            assert "3 listed members match" in driver.find_element(By.TAG_NAME, "body").text
            screenshot(driver, shots / "search.png")

            # follow an interest link from a card
            driver.get(f"{served.url}/members")
            driver.find_element(By.LINK_TEXT, "rust").click()
            assert driver.current_url.endswith("/interests/rust")
            assert driver.find_element(By.TAG_NAME, "h1").text == "Interest: rust"
            assert set(visible_names(driver)) == {"Zoë 👩‍💻", HOSTILE_IMG}
            no_alert(driver)
            screenshot(driver, shots / "interest.png")

            driver.find_element(By.LINK_TEXT, "All interests").click()
            assert driver.find_element(By.TAG_NAME, "h1").text == "Interests"
            counts = driver.find_element(By.CSS_SELECTOR, "ul.tag-counts").text
            assert counts.splitlines()[0] == "python 3 members"
            assert "secret-hobby" not in counts
            screenshot(driver, shots / "interests.png")

            # keyboard focus is visible: a thick outline on the focused element
            driver.get(f"{served.url}/members")
            driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
            outline = driver.execute_script(
                "const s = getComputedStyle(document.activeElement);"
                "return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth];"
            )
            assert outline == ["A", "solid", "3px"]

    await in_thread(browse)
    for name in ("members", "search", "interest", "interests"):
        assert (shots / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
async def test_axe_finds_no_serious_violations(served: Served, tmp_path: Path) -> None:
    pages = ["/members", "/members?q=python", "/interests", "/interests/python", "/members?q=zz"]

    def check() -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for size, label in ((None, "desktop"), (PHONE, "phone")):
            profile = tmp_path / f"profile-{label}"
            with chromium(profile, size) if size else chromium(profile) as driver:
                for page in pages:
                    driver.get(served.url + page)
                    found[f"{label} {page}"] = axe_violations(driver)
                driver.get(f"{served.url}/members")
                overflow = "return document.documentElement.scrollWidth - window.innerWidth"
                assert driver.execute_script(overflow) <= 0  # no sideways scrolling
                screenshot(driver, tmp_path / "screenshots" / f"members-{label}.png")
            # the checker itself works: an unlabelled field is a critical violation
            with chromium(tmp_path / "profile-bad") as driver:
                driver.get("data:text/html,<html lang=en><title>t</title><main><input></main>")
                assert any(v.startswith("label (critical)") for v in axe_violations(driver))
        return found

    violations = await in_thread(check)
    assert {page: v for page, v in violations.items() if v} == {}
