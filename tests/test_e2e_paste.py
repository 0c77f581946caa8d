"""End to end: paste links for long Telegram posts (issue 24, item 1), on ngircd with the fake
Bot API. A post of more than relay.paste_over_lines IRC lines arrives as its first lines and
a link to the whole text, which the web face serves as text/plain, after a restart too; a
tampered link is a 404, an expired one a 410; without [web], or with paste_over_lines = 0,
long posts are split as before.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    RunningBridge,
    human,
    running_bridge,
    toml_table,
    write_config,
)
from tests.support.irc_client import IrcClient, Line
from tests.support.ircd import IrcServer
from tests.support.ports import free_port
from tests.support.web import PUBLIC, local

NAME = "<Alice Smith> "
PASTE = re.compile(re.escape(PUBLIC) + r"/p/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
FORTY = "\n".join(f"line {i} of the long post" for i in range(1, 41))


def paste_config(
    tmp_path: Path, fake: FakeTelegram, ircd: IrcServer, *, web: bool = True, **relay: Any
) -> Path:
    """The harness config with [relay] keys and, unless web=False, a [web] table."""
    path = write_config(tmp_path / "config.toml", fake, ircd, relay=relay)
    if web:
        table = {"public_url": PUBLIC, "listen": f"127.0.0.1:{free_port()}"}
        path.write_text(path.read_text(encoding="utf-8") + "\n" + toml_table("web", table))
    return path


@asynccontextmanager
async def bridge_and_bob(
    config: Path, ircd: IrcServer
) -> AsyncIterator[tuple[RunningBridge, IrcClient, aiohttp.ClientSession]]:
    async with running_bridge(config) as bridge:
        bob = await human(ircd, "bob", CHANNEL)
        try:
            async with aiohttp.ClientSession() as http:
                yield bridge, bob, http
        finally:
            await bob.close()


def from_bot(line: Line) -> bool:
    return line.command == "PRIVMSG" and line.source_nick == BOT_NICK


async def pasted(bob: IrcClient, shown: int) -> tuple[list[str], str]:
    """The relayed lines (exactly shown + 1 of them, nothing after) and the link in the last."""
    lines = [ln.text for ln in await bob.expect_privmsgs(CHANNEL, shown + 1, source_nick=BOT_NICK)]
    await bob.assert_no_line(from_bot)
    match = PASTE.search(lines[-1])
    assert match is not None, lines
    return lines, match.group(0)


async def fetch(http: aiohttp.ClientSession, bridge: RunningBridge, link: str) -> tuple[int, str]:
    async with http.get(local(bridge, link)) as resp:
        return resp.status, await resp.text()


async def test_a_40_line_post_arrives_as_4_lines_and_its_link_serves_all_40(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with bridge_and_bob(paste_config(tmp_path, fake_tg, ngircd), ngircd) as (b, bob, http):
        fake_tg.push_text(GROUP, ALICE, FORTY)
        lines, link = await pasted(bob, 3)
        assert lines == [
            f"{NAME}line 1 of the long post",
            f"{NAME}line 2 of the long post",
            f"{NAME}line 3 of the long post",
            f"{NAME}[… 37 more lines: {link}]",
        ]
        async with http.get(local(b, link)) as resp:
            body = await resp.read()
            headers = resp.headers
        assert (resp.status, body) == (200, FORTY.encode("utf-8"))
        assert headers["Content-Type"] == "text/plain; charset=utf-8"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert "sandbox" in headers["Content-Security-Policy"]
        for listing in (f"{PUBLIC}/p/", f"{PUBLIC}/p"):
            assert (await fetch(http, b, listing))[0] == 404


async def test_the_link_works_after_a_restart(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = paste_config(tmp_path, fake_tg, ngircd)
    async with bridge_and_bob(config, ngircd) as (_b, bob, _http):
        fake_tg.push_text(GROUP, ALICE, FORTY)
        _lines, link = await pasted(bob, 3)
    async with running_bridge(config) as again, aiohttp.ClientSession() as http:
        assert await fetch(http, again, link) == (200, FORTY)


async def test_tampered_is_404_expired_is_410_and_pruned(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = paste_config(tmp_path, fake_tg, ngircd)
    async with bridge_and_bob(config, ngircd) as (b, bob, http):
        fake_tg.push_text(GROUP, ALICE, FORTY)
        _lines, link = await pasted(bob, 3)
        token_at = link.index("/p/") + 3
        flipped = link[:token_at] + ("B" if link[token_at] == "A" else "A") + link[token_at + 1 :]
        mac_flipped = link[:-1] + ("B" if link[-1] == "A" else "A")
        for bad in (flipped, mac_flipped, link + "x", f"{PUBLIC}/p/x", f"{PUBLIC}/p/x.y"):
            status, text = await fetch(http, b, bad)
            assert (status, "<h1>Not found</h1>" in text) == (404, True), bad
        assert await fetch(http, b, link) == (200, FORTY)
        assert b.app.links is not None
        now = b.app.links.clock()
        b.app.links.clock = lambda: now + 72 * 3600 + 1  # web.media_ttl_hours' default
        status, text = await fetch(http, b, link)
        assert (status, "expired" in text) == (410, True)
        assert await b.app.pastes.prune(b.app.links.clock()) == 1
        assert await b.db.fetchall("SELECT id FROM paste") == []


async def test_exactly_paste_over_lines_is_not_pasted_but_a_wrapped_line_counts(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with bridge_and_bob(paste_config(tmp_path, fake_tg, ngircd), ngircd) as (_b, bob, _h):
        fake_tg.push_text(GROUP, ALICE, "one\ntwo\nthree\nfour")
        got = [ln.text for ln in await bob.expect_privmsgs(CHANNEL, 4, source_nick=BOT_NICK)]
        assert got == [f"{NAME}one", f"{NAME}two", f"{NAME}three", f"{NAME}four"]
        await bob.assert_no_line(from_bot)
        # four lines of text, but the last wraps: five IRC lines, one too many
        long = " ".join(["word"] * 120)  # 599 bytes: two IRC lines with the name
        fake_tg.push_text(GROUP, ALICE, f"one\ntwo\nthree\n{long}")
        lines, link = await pasted(bob, 3)
        assert lines == [
            f"{NAME}one",
            f"{NAME}two",
            f"{NAME}three",
            f"{NAME}[… 2 more lines: {link}]",
        ]


async def test_a_code_block_is_served_exactly(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    code = (
        "def f(x):\n"
        "\tif x < 1 and x > -1:\n"
        "        return '<b>&amp;</b>'  # spaces kept\n"
        "\n"
        '    return {"k": [1, 2]}\n'
        "\n\n"
        "print(f(0))   \n"
        "# ünïcödé ✓ 🙂"
    )
    text = f"look:\n{code}"
    entities = [
        {
            "type": "pre",
            "offset": 6,
            "length": len(code.encode("utf-16-le")) // 2,
            "language": "python",
        }
    ]
    async with bridge_and_bob(paste_config(tmp_path, fake_tg, ngircd), ngircd) as (b, bob, http):
        fake_tg.push_text(GROUP, ALICE, text, entities=entities)
        lines, link = await pasted(bob, 3)
        assert lines[0] == f"{NAME}look:"
        assert lines[-1] == f"{NAME}[… 4 more lines: {link}]"
        async with http.get(local(b, link)) as resp:
            assert (resp.status, await resp.read()) == (200, text.encode("utf-8"))


async def test_an_edit_gets_a_new_link(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = paste_config(tmp_path, fake_tg, ngircd)
    fixed = FORTY.replace("line 40", "the fixed line 40")
    async with bridge_and_bob(config, ngircd) as (b, bob, http):
        original = fake_tg.push_text(GROUP, ALICE, FORTY)
        _lines, first = await pasted(bob, 3)
        fake_tg.push_edit(GROUP, original.message_id or 0, fixed)
        lines, second = await pasted(bob, 3)
        assert lines[0] == f"{NAME}[edit] line 1 of the long post"
        assert lines[-1] == f"{NAME}[… 37 more lines: {second}]"
        assert second != first
        assert await fetch(http, b, second) == (200, fixed)
        assert await fetch(http, b, first) == (200, FORTY)


async def test_off_with_zero_and_without_web_long_posts_split_as_before(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    ten = "\n".join(FORTY.split("\n")[:10])  # a flood ngircd passes in 2 s, not 40 lines in 12
    every = [f"{NAME}line {i} of the long post" for i in range(1, 11)]
    for name, settings in (("zero", {"paste_over_lines": 0}), ("noweb", {"web": False})):
        (tmp_path / name).mkdir()
        config = paste_config(tmp_path / name, fake_tg, ngircd, **settings)
        async with bridge_and_bob(config, ngircd) as (_b, bob, _http):
            fake_tg.push_text(GROUP, ALICE, ten)
            got = await bob.expect_privmsgs(CHANNEL, 10, 20, source_nick=BOT_NICK)
            assert [ln.text for ln in got] == every
            await bob.assert_no_line(from_bot)
