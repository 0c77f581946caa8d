"""The web server's parts on a real socket: shared headers, binding, health, metrics and the
media handler (with an in-process file source standing in for the Bot API)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bridge.config_model import WebConfig
from bridge.errors import ConfigError
from bridge.media_links import MIB, FetchError, MediaLinks
from bridge.model import Attachment
from bridge.web.cache import MediaCache
from bridge.web.health import HealthParts, add_health
from bridge.web.media import MediaService
from bridge.web.metrics import MetricsParts, add_metrics
from bridge.web.server import Handler, WebServer
from storage.db import Database
from storage.outbox_store import QueueStats
from storage.web_secret import WebSecretStore
from tests.support.ports import free_port


def config(port: int | None = None) -> WebConfig:
    return WebConfig(public_url="https://b.test", listen=f"127.0.0.1:{port or free_port()}")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def started(server: WebServer) -> str:
    await server.start()
    return f"http://127.0.0.1:{server.port}"


async def test_every_answer_carries_the_shared_headers(http: aiohttp.ClientSession) -> None:
    server = WebServer(config())

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hi")

    server.app.router.add_get("/hello", hello)
    url = await started(server)
    try:
        for path, status in (("/hello", 200), ("/nowhere", 404)):
            async with http.get(url + path) as resp:
                assert resp.status == status
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
                assert resp.headers["Referrer-Policy"] == "no-referrer"
                assert resp.headers["Content-Security-Policy"].startswith("default-src 'none'")
    finally:
        await server.stop()


async def test_address_in_use_names_web_listen() -> None:
    first = WebServer(config())
    await first.start()
    try:
        second = WebServer(config(first.port))
        with pytest.raises(ConfigError) as raised:
            await second.start()
        (problem,) = raised.value.problems
        assert problem.startswith(f"web.listen: cannot listen on 127.0.0.1:{first.port}")
        assert "already in use" in problem
    finally:
        await first.stop()


# ------------------------------------------------------------------------- health


@dataclass
class Irc:
    connection_state: str = "ready"
    channels: dict[str, str] = field(default_factory=lambda: {"#a": "joined"})

    def channel_status(self) -> dict[str, str]:
        return self.channels


@dataclass
class Telegram:
    connection_state: str = "ready"
    polled_at: float | None = 100.0


@dataclass
class Queues:
    rows: list[QueueStats] = field(default_factory=list)

    async def stats(self) -> list[QueueStats]:
        return self.rows


async def test_healthz_names_each_reason(http: aiohttp.ClientSession) -> None:
    irc, tg, queues = Irc(), Telegram(), Queues()
    parts = HealthParts(
        irc, tg, queues, poll_window=60, clock=lambda: 1000.0, monotonic=lambda: 130.0
    )
    server = WebServer(config())
    add_health(server.app, parts)
    url = await started(server) + "/healthz"
    try:
        async with http.get(url) as resp:
            assert resp.status == 200
            assert await resp.json() == {
                "status": "ok",
                "irc": "ready",
                "telegram": "ready",
                "oldest_queued_seconds": 0.0,
            }
        irc.channels["#a"] = "banned (474)"
        tg.polled_at = 50.0
        queues.rows = [
            QueueStats("telegram", "-100", 3, 600.0),
            QueueStats("irc", "#a", 1, 990.0),
            QueueStats("telegram", "4242", 1, 500.0),
            QueueStats("irc", "bob", 1, 500.0),
        ]
        async with http.get(url) as resp:
            assert resp.status == 503
            body = await resp.json()
        assert body["reasons"] == [
            "irc: #a not joined (banned (474))",
            "telegram: getUpdates has not answered for 80s",
            "queue telegram -100: oldest message waiting 400s",
            "queue telegram private: oldest message waiting 500s",
            "queue irc private: oldest message waiting 500s",
        ]
        irc.connection_state, tg.connection_state = "disconnected", "retrying"
        async with http.get(url) as resp:
            reasons = (await resp.json())["reasons"]
        assert reasons[:1] == ["irc: disconnected"] and "telegram: retrying" in reasons
    finally:
        await server.stop()


# ------------------------------------------------------------------------ metrics


@dataclass
class Outbox:
    delivered: Counter[tuple[str, str]] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)
    horizon_dropped: Counter[str] = field(default_factory=Counter)


def metric_parts(outbox: Outbox, queues: Queues) -> MetricsParts:
    async def members() -> int:
        return 7

    return MetricsParts(
        outbox=outbox,
        queues=queues,
        connections={"irc": Irc(), "telegram": Telegram("retrying")},
        reconnects=lambda: {"irc": 2},
        commands=lambda: {"telegram": 4},
        roster_size=members,
        clock=lambda: 1000.0,
    )


async def scrape(http: aiohttp.ClientSession, url: str) -> dict[tuple[str, str], float]:
    async with http.get(url + "/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    return {
        (s.name, ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_read_the_parts_at_scrape_time(http: aiohttp.ClientSession) -> None:
    outbox, queues = Outbox(), Queues([QueueStats("irc", "#a", 5, 940.0)])
    servers = [WebServer(config()), WebServer(config())]  # two bridges in one process
    for server in servers:
        add_metrics(server.app, metric_parts(outbox, queues))
    urls = [await started(s) for s in servers]
    try:
        first = await scrape(http, urls[0])
        assert first[("tgirc_messages_relayed_total", "direction=telegram_to_irc")] == 0
        assert first[("tgirc_queue_depth", "chat=#a,network=irc")] == 5
        assert first[("tgirc_queue_oldest_age_seconds", "chat=#a,network=irc")] == 60
        assert first[("tgirc_reconnects_total", "network=irc")] == 2
        assert first[("tgirc_commands_total", "network=telegram")] == 4
        assert first[("tgirc_roster_members", "")] == 7
        assert first[("tgirc_connected", "network=telegram")] == 0
        outbox.delivered.update([("irc", "relay"), ("irc", "relay"), ("telegram", "answer")])
        outbox.retries["telegram"] += 3
        outbox.rate_limited["telegram"] += 1
        outbox.horizon_dropped["irc"] += 9
        later = await scrape(http, urls[1])
        assert later[("tgirc_messages_relayed_total", "direction=telegram_to_irc")] == 2
        assert later[("tgirc_items_delivered_total", "kind=answer,network=telegram")] == 1
        assert later[("tgirc_delivery_retries_total", "network=telegram")] == 3
        assert later[("tgirc_rate_limited_total", "network=telegram")] == 1
        assert later[("tgirc_horizon_dropped_total", "network=irc")] == 9
    finally:
        for server in servers:
            await server.stop()


async def test_private_queues_are_summed_per_network_without_a_name(
    http: aiohttp.ClientSession,
) -> None:
    rows = [
        QueueStats("irc", "#a", 5, 940.0),
        QueueStats("irc", "&local", 1, 990.0),
        QueueStats("irc", "bob", 2, 950.0),  # private answers to nicks
        QueueStats("irc", "carol", 1, 900.0),
        QueueStats("telegram", "-1001", 3, 980.0),  # a group, one of its forum topics
        QueueStats("telegram", "-1001/7", 1, 995.0),
        QueueStats("telegram", "4242", 2, 970.0),  # private chats: their ids are users' ids
        QueueStats("telegram", "5353", 1, 800.0),
    ]
    server = WebServer(config())
    add_metrics(server.app, metric_parts(Outbox(), Queues(rows)))
    url = await started(server)
    try:
        async with http.get(url + "/metrics") as resp:
            body = await resp.text()
        queues = {
            (s.name.removeprefix("tgirc_queue_"), s.labels["network"], s.labels["chat"]): s.value
            for family in text_string_to_metric_families(body)
            for s in family.samples
            if s.name.startswith("tgirc_queue_")
        }
        assert queues == {
            ("depth", "irc", "#a"): 5,
            ("depth", "irc", "&local"): 1,
            ("depth", "irc", "private"): 3,
            ("depth", "telegram", "-1001"): 3,
            ("depth", "telegram", "-1001/7"): 1,
            ("depth", "telegram", "private"): 3,
            ("oldest_age_seconds", "irc", "#a"): 60,
            ("oldest_age_seconds", "irc", "&local"): 10,
            ("oldest_age_seconds", "irc", "private"): 100,
            ("oldest_age_seconds", "telegram", "-1001"): 20,
            ("oldest_age_seconds", "telegram", "-1001/7"): 5,
            ("oldest_age_seconds", "telegram", "private"): 200,
        }
        for person in ("bob", "carol", "4242", "5353"):
            assert person not in body
    finally:
        await server.stop()


# -------------------------------------------------------------------------- media


class Files:
    """The Bot API's side of a FileSource: bytes by id, counted, held while gate is shut."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def fetch(self, file_id: str, max_bytes: int) -> bytes:
        self.calls += 1
        await self.gate.wait()
        if file_id not in self.files:
            raise FetchError("Bot API: BadRequest: wrong file_id")
        return self.files[file_id]


async def media_server(
    tmp_path: Path, files: Files, cap: int = MIB, arrived: asyncio.Queue[str] | None = None
) -> tuple[WebServer, MediaLinks, MediaService, str]:
    links = MediaLinks("https://b.test", ttl_hours=1, max_bytes=20 * MIB, secret=b"s" * 32)
    cache = MediaCache(tmp_path / "cache", cap)
    await cache.open()
    service = MediaService(links, files, cache)
    server = WebServer(config())
    if arrived is not None:

        @web.middleware
        async def note(request: web.Request, handler: Handler) -> web.StreamResponse:
            arrived.put_nowait(request.path)
            return await handler(request)

        server.app.middlewares.append(note)
    service.add_routes(server.app)
    url = await started(server)
    return server, links, service, url


def path_of(links: MediaLinks, att: Attachment) -> str:
    link = links.link_for(att)
    assert link is not None
    return link.removeprefix("https://b.test")


async def test_concurrent_requests_share_one_fetch(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    files = Files({"F1": b"z" * 5000})
    arrived: asyncio.Queue[str] = asyncio.Queue()
    server, links, service, url = await media_server(tmp_path, files, arrived=arrived)
    try:
        files.gate.clear()
        target = url + path_of(links, Attachment("photo", size=5000, file_id="F1"))

        async def get() -> bytes:
            async with http.get(target) as resp:
                assert resp.status == 200
                return await resp.read()

        waiting = [asyncio.create_task(get()) for _ in range(5)]
        async with asyncio.timeout(10):  # all five in the handler, the fetch still held
            for _ in range(5):
                await arrived.get()
        await asyncio.sleep(0)
        files.gate.set()
        assert await asyncio.gather(*waiting) == [b"z" * 5000] * 5
        assert (files.calls, service.fetched, service.served) == (1, 1, 5)
    finally:
        await server.stop()


async def test_larger_than_the_cache_is_served_from_memory(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    files = Files({"F": b"q" * 3000})
    server, links, service, url = await media_server(tmp_path, files, cap=1000)
    try:
        att = Attachment("document", "a.bin", 3000, file_id="F")
        async with http.get(url + path_of(links, att)) as resp:
            assert (resp.status, await resp.read()) == (200, b"q" * 3000)
            assert resp.headers["Content-Type"] == "application/octet-stream"
            assert resp.headers["Content-Disposition"].startswith("attachment;")
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert len(service.cache) == 0
    finally:
        await server.stop()


async def test_html_is_never_served_as_a_page(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    files = Files({"H": b"<script>alert(1)</script>"})
    server, links, _service, url = await media_server(tmp_path, files)
    try:
        att = Attachment("document", "x.html", 25, file_id="H", mime_type="text/html")
        async with http.get(url + path_of(links, att)) as resp:
            assert resp.headers["Content-Type"] == "application/octet-stream"
            assert resp.headers["Content-Disposition"].startswith('attachment; filename="x.html"')
            assert "sandbox" in resp.headers["Content-Security-Policy"]
    finally:
        await server.stop()


async def test_rotated_secret_is_picked_up(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    db = await Database.open(tmp_path / "b.sqlite3")
    try:
        secrets = WebSecretStore(db)
        first = await secrets.get_or_create()
        assert await secrets.get_or_create() == first
        links = MediaLinks("https://b.test", ttl_hours=1, max_bytes=MIB, secret=first)
        cache = MediaCache(tmp_path / "cache", MIB)
        await cache.open()
        service = MediaService(links, Files({"F": b"1"}), cache, load_secret=secrets.get_or_create)
        server = WebServer(config())
        service.add_routes(server.app)
        url = await started(server)
        try:
            old = url + path_of(links, Attachment("photo", size=1, file_id="F"))
            async with http.get(old) as resp:
                assert resp.status == 200
            assert await secrets.rotate() != first
            service._secret_read -= 60  # as if half a minute had passed
            async with http.get(old) as resp:
                assert resp.status == 404
            async with http.get(url + path_of(links, Attachment("photo", file_id="F"))) as resp:
                assert resp.status == 200
        finally:
            await server.stop()
    finally:
        await db.close()
