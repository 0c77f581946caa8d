"""The directory in the visitor's language (issue 26): Accept-Language chooses, ?lang=
overrides and is carried on by every link, the page's lang attribute and Content-Language
follow, and a page in one language is never served for another."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bridge.model import Network
from bridge.web.directory import add_directory
from bridge.web.language import accepted
from bridge.web.server import security_headers
from storage.db import Database
from storage.directory import DirectoryStore
from storage.roster_model import Identity
from storage.roster_store import RosterStore

GERMAN = "de-DE,de;q=0.9,en;q=0.8"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    db = await Database.open(tmp_path / "web.sqlite3")
    app = web.Application(middlewares=[security_headers])
    directory = DirectoryStore(db)
    add_directory(app, directory, "https://dir.example.org", ["#collab"])
    roster = RosterStore(db)
    ann = Identity(Network.TELEGRAM, "1", "Ann", "ann", True)
    bob = Identity(Network.IRC, "account:bob", "bob", "bob", True)
    for person, tags in ((ann, ["python", "c++"]), (bob, ["python"])):
        await roster.join_with_interests(person, tags, edit=False)
        await directory.set_listed(person, True)
    test_client = TestClient(TestServer(app))
    await test_client.start_server()
    try:
        yield test_client
    finally:
        await test_client.close()
        await db.close()


async def page(
    client: TestClient[web.Request, web.Application], path: str, language: str | None = None
) -> tuple[str, dict[str, str]]:
    headers = {"Accept-Language": language} if language else {}
    async with client.get(path, headers=headers) as resp:
        assert resp.status in (200, 404), path
        return await resp.text(), dict(resp.headers)


async def test_the_directory_in_german_by_accept_language(
    client: TestClient[web.Request, web.Application],
) -> None:
    html, headers = await page(client, "/members", GERMAN)
    assert '<html lang="de">' in html
    assert headers["Content-Language"] == "de" and headers["Vary"] == "Accept-Language"
    assert "<title>Mitglieder · Mitgliederverzeichnis</title>" in html
    assert '<label for="q">Namen und Interessen durchsuchen</label>' in html
    assert '<button type="submit">Suchen</button>' in html
    assert "2 Mitglieder sind eingetragen, die zuletzt aktiven zuerst." in html
    assert "<dt>Interessen</dt>" in html and "<dt>Mitglied seit</dt>" in html
    assert "Schick dem Bridge-Bot <code>/listed yes</code>" in html
    assert '<a href="/interests/python">python</a>' in html  # no ?lang=: the browser says
    html, _ = await page(client, "/interests", GERMAN)
    assert "2 Interessen, angegeben von den Mitgliedern auf dieser Seite" in html
    assert '<span class="count">2 Mitglieder</span>' in html
    html, _ = await page(client, "/interests/python", GERMAN)
    assert "<h1>Interesse: python</h1>" in html
    assert "2 eingetragene Mitglieder nennen <strong>python</strong>." in html
    html, _ = await page(client, "/members?q=ann", GERMAN)
    assert "1 eingetragenes Mitglied passt zu <q>ann</q>." in html
    text, _ = await page(client, "/interests/%20", GERMAN)
    assert text == "Dieses Interesse gibt es nicht."
    # the same pages in English for an English browser, and for one that says nothing
    for language in ("en-US,en;q=0.9", None, "tlh"):
        html, headers = await page(client, "/members", language)
        assert '<html lang="en">' in html and headers["Content-Language"] == "en"
        assert "2 members are listed, most recently active first." in html


async def test_lang_overrides_the_browser_and_stays_on_every_link(
    client: TestClient[web.Request, web.Application],
) -> None:
    html, headers = await page(client, "/members?lang=fr", GERMAN)
    assert '<html lang="fr">' in html and headers["Content-Language"] == "fr"
    assert "<title>Membres · annuaire des membres</title>" in html
    assert '<a href="/members?lang=fr" aria-current="page">Membres</a>' in html
    assert '<a href="/interests?lang=fr">Intérêts</a>' in html
    assert '<a href="/interests/python?lang=fr">python</a>' in html
    assert '<input type="hidden" name="lang" value="fr">' in html
    html, _ = await page(client, "/members?q=python&lang=es-MX")
    assert '<html lang="es">' in html
    assert "2 miembros del directorio coinciden con <q>python</q>." in html
    assert '<a href="/members?lang=es">Ver a todos</a>' in html
    html, _ = await page(client, "/members?lang=xx", GERMAN)  # unknown: the browser's
    assert '<html lang="de">' in html


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"),
        ("en;q=0.5, es", "es"),
        ("de;q=0.5, es;q=0.5", "de"),  # a tie: the first
        ("xx, de;q=0", "en"),  # q=0: not acceptable
        ("*", "en"),
        ("de;q=abc, fr", "fr"),
        (",,;;,q=1,", "en"),
        ("", "en"),
    ],
)
def test_accept_language(header: str, language: str) -> None:
    assert accepted(header, "en") == language
