"""Media downloads in their own lane (issue 19, item 2): at most ``media_fetches`` run at
once, a request whose fetch gets no slot in time is answered 503 with Retry-After, requests
for one file share one place in the queue, and the file client is not the bot's.

The media handler runs on a real socket with an in-process file source (held by a gate);
the file client runs against the fake Bot API with slow downloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
import telegram

from bridge.config import parse_config
from bridge.config_model import TelegramConfig, WebConfig
from bridge.errors import ConfigError
from bridge.media_links import MIB, FetchError, MediaLinks
from bridge.model import Attachment
from bridge.telegram.files import TelegramFiles
from bridge.telegram.http import AiohttpRequest
from bridge.web.cache import MediaCache
from bridge.web.media import SLOT_WAIT, MediaService
from bridge.web.server import WebServer
from tests.support.fake_telegram import FakeTelegram
from tests.support.ports import free_port

GROUP = -100123


class GatedFiles:
    """A FileSource whose downloads are held while the gate is shut; counts what it was
    asked for and how many ran at once."""

    def __init__(self, count: int) -> None:
        self.files = {f"F{i}": f"file {i}".encode() for i in range(count)}
        self.asked: Counter[str] = Counter()
        self.gate = asyncio.Event()
        self.running = 0
        self.most = 0

    async def fetch(self, file_id: str, max_bytes: int) -> bytes:
        self.asked[file_id] += 1
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await self.gate.wait()
        finally:
            self.running -= 1
        if file_id not in self.files:
            raise FetchError("Bot API: BadRequest: wrong file_id")
        return self.files[file_id]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@contextlib.asynccontextmanager
async def media(
    tmp_path: Path, files: GatedFiles, *, fetches: int, slot_wait: float = SLOT_WAIT
) -> AsyncIterator[tuple[MediaService, Callable[[str], str]]]:
    """A started media server; yields the service and file id → its link on the server."""
    links = MediaLinks("https://b.test", ttl_hours=1, max_bytes=20 * MIB, secret=b"s" * 32)
    cache = MediaCache(tmp_path / "cache", MIB)
    await cache.open()
    service = MediaService(links, files, cache, fetches=fetches, slot_wait=slot_wait)
    server = WebServer(WebConfig(public_url="https://b.test", listen=f"127.0.0.1:{free_port()}"))
    service.add_routes(server.app)
    await server.start()
    base = f"http://127.0.0.1:{server.port}"

    def url(file_id: str) -> str:
        link = links.link_for(Attachment("photo", size=10, file_id=file_id))
        assert link is not None
        return link.replace("https://b.test", base)

    try:
        yield service, url
    finally:
        files.gate.set()
        await service.close()
        await server.stop()


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll check (the service's counters have no event to wait on), bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not reached within {timeout}s")


def get(http: aiohttp.ClientSession, url: str) -> asyncio.Task[tuple[int, bytes, dict[str, str]]]:
    async def fetch() -> tuple[int, bytes, dict[str, str]]:
        async with http.get(url) as resp:
            return resp.status, await resp.read(), dict(resp.headers)

    return asyncio.create_task(fetch())


async def done(task: Awaitable[tuple[int, bytes, dict[str, str]]]) -> tuple[int, bytes]:
    async with asyncio.timeout(10):
        status, body, _headers = await task
    return status, body


async def test_at_most_media_fetches_downloads_run_at_once(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    files = GatedFiles(6)
    async with media(tmp_path, files, fetches=2) as (service, url):
        asked = [get(http, url(f"F{i}")) for i in range(6)]
        await until(lambda: service.running == 2 and service.waiting == 4)
        await asyncio.sleep(0.1)  # nothing more starts while the two hang
        assert (files.running, sum(files.asked.values())) == (2, 2)
        files.gate.set()
        got = [await done(task) for task in asked]
        assert got == [(200, f"file {i}".encode()) for i in range(6)]
        assert files.most == 2 and (service.running, service.waiting) == (0, 0)


async def test_no_slot_in_time_is_503_with_retry_after_and_the_fetch_is_given_up(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    files = GatedFiles(3)
    async with media(tmp_path, files, fetches=1, slot_wait=0.3) as (service, url):
        first = get(http, url("F0"))
        await until(lambda: service.running == 1)
        started = time.monotonic()
        status, body, headers = await get(http, url("F1"))
        assert 0.3 <= time.monotonic() - started < 3
        assert status == 503 and headers["Retry-After"] == "1"
        assert "<h1>Busy</h1>" in body.decode() and headers["X-Content-Type-Options"] == "nosniff"
        assert service.waiting == 0 and files.asked["F1"] == 0  # its place was given up
        assert service.busy == 1

        # A request that gets a slot within its wait gets the file.
        service.slot_wait = 10.0
        later = get(http, url("F2"))
        await until(lambda: service.waiting == 1)
        files.gate.set()
        assert await done(later) == (200, b"file 2")
        assert await done(first) == (200, b"file 0")
        # The file given up before is fetched when asked again.
        assert await done(get(http, url("F1"))) == (200, b"file 1")
        assert files.asked == Counter({"F0": 1, "F1": 1, "F2": 1})


async def test_requests_for_one_file_share_its_place_in_the_queue(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    files = GatedFiles(2)
    async with media(tmp_path, files, fetches=1) as (service, url):
        first = get(http, url("F0"))
        await until(lambda: service.running == 1)
        same = [get(http, url("F1")) for _ in range(5)]
        await until(lambda: service.waiting == 1)
        await asyncio.sleep(0.1)
        assert service.waiting == 1  # one fetch waits, for all five
        files.gate.set()
        assert [await done(t) for t in same] == [(200, b"file 1")] * 5
        assert await done(first) == (200, b"file 0")
        assert files.asked == Counter({"F0": 1, "F1": 1})


async def test_stopping_answers_waiting_requests_at_once(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    files = GatedFiles(2)
    async with media(tmp_path, files, fetches=1) as (service, url):
        running = get(http, url("F0"))
        waiting = get(http, url("F1"))
        await until(lambda: service.running == 1 and service.waiting == 1)
        async with asyncio.timeout(2):
            await service.close()
            assert [(await t)[0] for t in (running, waiting)] == [503, 503]
            status, _body, headers = await get(http, url("F0"))
        assert status == 503 and headers["Retry-After"] == str(int(SLOT_WAIT))


# ------------------------------------------------------------------ the file client


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_chat(GROUP, "supergroup", title="Bridge")
        yield fake


async def test_downloads_do_not_take_the_bots_connections(fake: FakeTelegram) -> None:
    """The bot's pool has one connection here; eight hung downloads leave it free."""
    config = TelegramConfig(token=fake.token, api_url=fake.api_url, file_url=fake.file_url)
    tls = ssl.create_default_context()
    bot = telegram.Bot(
        fake.token,
        base_url=fake.api_url,
        request=AiohttpRequest(ssl_context=tls, connection_pool_size=1),
    )
    files = TelegramFiles(config, tls)
    ids = [fake.add_file(f"bytes {i}".encode(), file_name="a.jpg") for i in range(8)]
    fake.slow("file", 30)
    hung = [asyncio.create_task(files.fetch(file_id, MIB)) for file_id in ids]
    await bot.initialize()
    try:
        await fake.wait_held("file", 8)  # the downloads are on the wire
        async with asyncio.timeout(2):
            await bot.send_message(GROUP, "relayed while files hang")
        assert fake.sent[-1].text == "relayed while files hang"
        assert not any(task.done() for task in hung)
    finally:
        for task in hung:
            task.cancel()
        await asyncio.gather(*hung, return_exceptions=True)
        await bot.shutdown()
        await files.close()


async def test_file_client_fetches_and_its_errors_hold_no_token(fake: FakeTelegram) -> None:
    config = TelegramConfig(token=fake.token, api_url=fake.api_url, file_url=fake.file_url)
    files = TelegramFiles(config, ssl.create_default_context())
    try:
        file_id = fake.add_file(b"the bytes", file_name="a.jpg")
        assert await files.fetch(file_id, MIB) == b"the bytes"
        assert files.fetched == 1
        with pytest.raises(FetchError) as too_big:
            await files.fetch(file_id, 3)
        with pytest.raises(FetchError) as unknown:
            await files.fetch("NOSUCHFILE", MIB)
        secret = fake.token.partition(":")[2]
        for error in (too_big.value, unknown.value):
            assert secret not in str(error) and error.__cause__ is None
    finally:
        await files.close()


# ------------------------------------------------------------------------ the key

MINIMAL = """
[telegram]
token = "1:abc"
[irc]
host = "127.0.0.1"
nick = "bridge"
[[bridge]]
telegram_chat = -100
irc_channel = "#c"
[web]
public_url = "https://b.net"
"""


def test_media_fetches_defaults_to_4_and_is_read() -> None:
    web = parse_config(MINIMAL).web
    assert web is not None and web.media_fetches == 4
    web = parse_config(MINIMAL + "media_fetches = 9\n").web
    assert web is not None and web.media_fetches == 9


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0", "web.media_fetches: must be at least 1"),
        ("-2", "web.media_fetches: must be at least 1"),
        ('"4"', "web.media_fetches: expected an integer, got str"),
        ("2.5", "web.media_fetches: expected an integer, got float"),
    ],
)
def test_media_fetches_problems_are_named(value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(MINIMAL + f"media_fetches = {value}\n")
    assert info.value.problems == [problem]
