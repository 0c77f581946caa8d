"""End to end: the web face of a real bridge (ngircd, the fake Bot API serving real bytes).

A photo sent in the group becomes an IRC line whose link, fetched over HTTP, gives exactly
those bytes; the bot token is in no line, header or log; expired and tampered links, a file
too large for the Bot API, the cache's size cap, HEAD and Range, a Bot API failure;
/healthz follows the IRC link and /metrics moves with traffic.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bridge.logs import RedactingFilter
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    LogWatch,
)
from tests.support.ircd import IrcServer
from tests.support.proc_harness import bridge_process
from tests.support.web import base, bridge_with_web, local, relayed_link, web_config


async def test_photo_link_serves_the_bytes_and_no_token_anywhere(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = fake_tg.token.partition(":")[2]
    # what production logging does to every line (bridge/logs.py), here too; the bridge's
    # own lines are also kept as written, before any redaction
    caplog.handler.addFilter(RedactingFilter([fake_tg.token, secret]))
    own = LogWatch(asyncio.get_running_loop())
    logging.getLogger("bridge").addHandler(own)
    photo = os.urandom(300_000)
    async with bridge_with_web(tmp_path, fake_tg, ngircd) as (bridge, bob, http):
        fake_tg.push_photo(GROUP, ALICE, photo, caption="look at this")
        text, link = await relayed_link(bob)
        assert text == f"<Alice Smith> [photo, 300.0 kB] {link} look at this"
        assert link.endswith("/photo.jpg")
        async with http.get(local(bridge, link)) as resp:
            body = await resp.read()
            headers = resp.headers
        assert (resp.status, body) == (200, photo)
        assert headers["Content-Type"] == "image/jpeg"
        assert headers["Content-Length"] == str(len(photo))
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Disposition"] == (
            "inline; filename=\"photo.jpg\"; filename*=UTF-8''photo.jpg"
        )
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert headers["ETag"]
    logging.getLogger("bridge").removeHandler(own)
    assert any("web: listening" in line for line in own.lines)
    for seen in (text, link, *headers.values(), caplog.text, *own.lines):
        assert secret not in seen


async def test_expired_tampered_and_listing(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with bridge_with_web(tmp_path, fake_tg, ngircd, media_ttl_hours=1) as (b, bob, http):
        fake_tg.push_document(
            GROUP, ALICE, b"%PDF-1.4 notes", "notes.pdf", mime_type="application/pdf"
        )
        text, link = await relayed_link(bob)
        assert text == f"<Alice Smith> [document: notes.pdf, 14 B] {link}"
        url = local(b, link)
        token_at = url.index("/m/") + 3
        flipped = url[:token_at] + ("B" if url[token_at] == "A" else "A") + url[token_at + 1 :]
        renamed = url.rsplit("/", 1)[0] + "/notes.html"
        for bad in (flipped, renamed, base(b) + "/m/", base(b) + "/m/x", base(b) + "/m/x/y.jpg"):
            async with http.get(bad) as resp:
                assert resp.status == 404, bad
                assert "text/html" in resp.headers["Content-Type"]
                assert "<h1>Not found</h1>" in await resp.text()
        async with http.get(url) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "application/pdf"
            assert resp.headers["Content-Disposition"].startswith(
                'attachment; filename="notes.pdf"'
            )
        assert b.app.links is not None
        now = b.app.links.clock()
        b.app.links.clock = lambda: now + 3601
        async with http.get(url) as resp:
            assert resp.status == 410
            assert "expired" in await resp.text()


async def test_too_large_file_gets_no_link(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with bridge_with_web(tmp_path, fake_tg, ngircd) as (_bridge, bob, _http):
        fake_tg.push_document(GROUP, ALICE, bytes(25_000_000), "big.zip", caption="all of it")
        (line,) = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
        assert line.text == (
            "<Alice Smith> [document: big.zip, 25.0 MB] (too large to fetch) all of it"
        )
        assert "getFile" not in fake_tg.calls


async def test_head_range_etag_and_cache_eviction(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    photos = [os.urandom(400_000) for _ in range(3)]
    async with bridge_with_web(tmp_path, fake_tg, ngircd, media_cache_mb=1) as (b, bob, http):
        links = []
        for photo in photos:
            fake_tg.push_photo(GROUP, ALICE, photo)
            links.append(local(b, (await relayed_link(bob))[1]))
        async with http.head(links[0]) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Length"] == "400000"
            assert await resp.read() == b""
            etag = resp.headers["ETag"]
        async with http.get(links[0], headers={"Range": "bytes=100-199"}) as resp:
            assert resp.status == 206
            assert resp.headers["Content-Range"] == "bytes 100-199/400000"
            assert await resp.read() == photos[0][100:200]
        async with http.get(links[0], headers={"If-None-Match": etag}) as resp:
            assert resp.status == 304
        assert b.app.web is not None
        media, cache = b.app.web.media, b.app.web.cache
        assert media.fetched == 1
        for link, photo in zip(links[1:], photos[1:], strict=True):
            async with http.get(link) as resp:
                assert await resp.read() == photo
        # 1 MiB holds two of the three 400 kB photos: the least recently used went
        assert (media.fetched, len(cache), cache.evicted) == (3, 2, 1)
        assert sorted(p.name for p in cache.folder.iterdir()) == sorted(cache._entries)
        async with http.get(links[0]) as resp:
            assert await resp.read() == photos[0]
        assert (media.fetched, len(cache)) == (4, 2)


async def test_bot_api_error_is_a_502_and_nothing_is_cached(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with bridge_with_web(tmp_path, fake_tg, ngircd) as (b, bob, http):
        fake_tg.push_photo(GROUP, ALICE, b"jpeg bytes")
        url = local(b, (await relayed_link(bob))[1])
        fake_tg.fail_next("getFile", kind="502")
        async with http.get(url) as resp:
            assert resp.status == 502
            assert "<h1>File unavailable</h1>" in await resp.text()
        assert b.app.web is not None
        assert len(b.app.web.cache) == 0
        assert list(b.app.web.cache.folder.iterdir()) == []
        async with http.get(url) as resp:
            assert (resp.status, await resp.read()) == (200, b"jpeg bytes")


def metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_healthz_follows_irc_and_metrics_move(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with bridge_with_web(tmp_path, fake_tg, ngircd) as (b, bob, http):
        async with http.get(base(b) + "/healthz") as resp:
            assert resp.status == 200, await resp.text()
            assert (await resp.json())["status"] == "ok"
        async with http.get(base(b) + "/metrics") as resp:
            before = metrics(await resp.text())
        relayed = ("tgirc_messages_relayed_total", (("direction", "telegram_to_irc"),))
        fake_tg.push_text(GROUP, ALICE, "counted")
        await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
        await bob.close()
        async with http.get(base(b) + "/metrics") as resp:
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            after = metrics(await resp.text())
        assert after[relayed] == before[relayed] + 1
        assert after[("tgirc_connected", (("network", "irc"),))] == 1.0
        assert ("tgirc_roster_members", ()) in after

        await ngircd.stop()
        async with asyncio.timeout(10):
            while b.app.irc.connection_state == "ready":
                await b.app.irc.wait_changed()
        async with http.get(base(b) + "/healthz") as resp:
            assert resp.status == 503
            body = await resp.json()
        assert body["status"] == "unhealthy"
        assert f"irc: {CHANNEL} not joined" in " ".join(body["reasons"])

        await ngircd.start()
        async with asyncio.timeout(15):
            await b.app.irc.wait_ready(CHANNEL)
        async with http.get(base(b) + "/healthz") as resp:
            assert resp.status == 200, await resp.text()
        async with http.get(base(b) + "/metrics") as resp:
            later = metrics(await resp.text())
        assert later[("tgirc_reconnects_total", (("network", "irc"),))] == 1.0


async def test_port_in_use_exits_2_naming_the_key(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = web_config(tmp_path, fake_tg, ngircd, listen=f"127.0.0.1:{port}")
        async with bridge_process(config) as bridge:
            await bridge.start(wait_ready=False)
            assert await bridge.wait_exit(20) == 2
            line = await bridge.wait_log("web.listen")
    assert f"cannot listen on 127.0.0.1:{port}" in line
    assert "already in use" in line
