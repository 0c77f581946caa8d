"""End to end: media downloads in their own lane (issue 19, item 2), on real ngircd with the
fake Bot API's file server made slow.

Sixteen media links the bridge posted on IRC are opened at once while every download from
Telegram hangs; a line said on IRC meanwhile still reaches Telegram within 2 s (it took
~19 s when downloads shared the bot's connections). Past `[web] media_fetches`, a link
waits for a download slot: in time it gets the file, too late it gets 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import ALICE, BOT_NICK, CHANNEL, GROUP, RunningBridge
from tests.support.irc_client import IrcClient
from tests.support.ircd import IrcServer
from tests.support.web import LINK, bridge_with_web, local

Answer = tuple[int, bytes, dict[str, str]]


async def posted_links(fake: FakeTelegram, bob: IrcClient, count: int) -> list[str]:
    """count photos sent in the group; the media links the bridge put on IRC for them."""
    for i in range(count):
        fake.push_photo(GROUP, ALICE, f"photo {i}".encode(), caption=f"photo {i}")
    lines = await bob.expect_privmsgs(CHANNEL, count, timeout=20, source_nick=BOT_NICK)
    links = []
    for line in lines:
        match = LINK.search(line.text)
        assert match is not None, line.text
        links.append(match.group(0))
    assert len(set(links)) == count
    return links


def opened(http: aiohttp.ClientSession, bridge: RunningBridge, link: str) -> asyncio.Task[Answer]:
    async def get() -> Answer:
        async with http.get(local(bridge, link)) as resp:
            return resp.status, await resp.read(), dict(resp.headers)

    return asyncio.create_task(get())


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll check (the media service's counters have no event to wait on), bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not reached within {timeout}s")


async def test_irc_relays_to_telegram_while_16_downloads_hang(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with bridge_with_web(tmp_path, fake_tg, ngircd) as (bridge, bob, http):
        links = await posted_links(fake_tg, bob, 16)
        fake_tg.slow("file", 30)
        hanging = [opened(http, bridge, link) for link in links]
        try:
            await fake_tg.wait_held("file", 4)  # the downloads are on the wire, the rest wait
            web = bridge.app.web
            assert web is not None
            await until(lambda: web.media.waiting == 12)
            assert not any(task.done() for task in hanging)
            text = "still here while the files hang"
            said = time.monotonic()
            bob.privmsg(CHANNEL, text)
            [sent] = await fake_tg.wait_sent(
                lambda m: m.chat_id == GROUP and text in (m.visible_text or ""), timeout=2.0
            )
            assert sent.visible_text == f"bob: {text}"
            assert sent.time - said <= 2.0
            assert not any(task.done() for task in hanging)
            assert bridge.app.web is not None
            media = bridge.app.web.media
            assert (media.running, media.waiting) == (4, 12)  # [web] media_fetches = 4
        finally:
            for task in hanging:
                task.cancel()
            await asyncio.gather(*hanging, return_exceptions=True)


async def test_past_media_fetches_a_link_waits_for_a_slot_or_gets_503(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with bridge_with_web(tmp_path, fake_tg, ngircd, media_fetches=1) as (
        bridge,
        bob,
        http,
    ):
        assert bridge.app.web is not None
        media = bridge.app.web.media
        first, in_time, too_late = await posted_links(fake_tg, bob, 3)
        fake_tg.slow("file", 2.0)
        media.slot_wait = 10.0
        downloading = opened(http, bridge, first)
        await until(lambda: media.running == 1)
        waiting = opened(http, bridge, in_time)
        await until(lambda: media.waiting == 1)
        media.slot_wait = 0.5  # what the next request waits, shortened for the test
        started = time.monotonic()
        async with asyncio.timeout(5):
            status, body, headers = await opened(http, bridge, too_late)
        assert 0.5 <= time.monotonic() - started < 2.0
        assert status == 503 and headers["Retry-After"] == "1"
        assert "<h1>Busy</h1>" in body.decode()
        async with asyncio.timeout(15):
            got = [await task for task in (downloading, waiting)]
        assert [(status, body) for status, body, _headers in got] == [
            (200, b"photo 0"),
            (200, b"photo 1"),
        ]
        assert (media.busy, media.running, media.waiting) == (1, 0, 0)
