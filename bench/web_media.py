"""The web face under load: 50 concurrent clients fetching one cached 1 MB photo through its
signed link (p99 time to last byte), and the bridge's RSS with the web server on.

The bridge runs as its own process (bench/relay.py world) against ngircd and the
fake Bot API; the clients run in this process, so their HTTP parsing does not share the
bridge's event loop. The link is signed here with the secret the bridge stored, exactly as
the relay would sign it.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession, ClientTimeout, TCPConnector

from bench.common import percentile
from bench.relay import world
from bridge.media_links import MIB, MediaLinks
from bridge.model import Attachment
from tests.support.harness import toml_table
from tests.support.ports import free_port

CLIENTS = 50
PHOTO_BYTES = 1_000_000
PUBLIC = "https://bench.invalid"


async def _fetch(http: ClientSession, url: str) -> float:
    """Seconds from sending the request to the last byte of the body."""
    began = time.perf_counter()
    async with http.get(url) as resp:
        body = await resp.read()
    took = time.perf_counter() - began
    if resp.status != 200 or len(body) != PHOTO_BYTES:
        raise RuntimeError(f"bad answer: {resp.status}, {len(body)} bytes")
    return took


async def _client(url: str, rounds: int, times: list[float]) -> None:
    """One client with its own connection, fetching the photo again and again."""
    timeout = ClientTimeout(total=60)
    async with ClientSession(connector=TCPConnector(limit=1), timeout=timeout) as http:
        for _ in range(rounds):
            times.append(await _fetch(http, url))


async def media_figures(quick: bool = False) -> dict[str, float]:
    """{"media_p99_ms", "media_p50_ms", "media_requests", "rss_web_mb"} for one run."""
    rounds = 4 if quick else 20
    port = free_port()
    web = toml_table("web", {"public_url": PUBLIC, "listen": f"127.0.0.1:{port}"})
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp_name:
        tmp = Path(tmp_name)
        async with world(tmp, "media", ircd="ngircd", extra_toml=web) as w:
            file_id = w.fake.add_file(os.urandom(PHOTO_BYTES), file_name="photo.jpg")
            url = _signed(tmp / "media" / "bridge.sqlite3", file_id).replace(
                PUBLIC, f"http://127.0.0.1:{port}"
            )
            async with ClientSession() as http:
                await _fetch(http, url)  # fetched from the Bot API once: now cached
            times: list[float] = []
            await asyncio.gather(*(_client(url, rounds, times) for _ in range(CLIENTS)))
            rss = w.bridge.rss_mb()
    ms = [t * 1000 for t in times]
    return {
        "media_p99_ms": percentile(ms, 99),
        "media_p50_ms": percentile(ms, 50),
        "media_requests": float(len(ms)),
        "rss_web_mb": rss,
    }


def _signed(db: Path, file_id: str) -> str:
    """The link the relay would put on IRC for this photo."""
    conn = sqlite3.connect(db)
    try:
        (secret,) = conn.execute("SELECT secret FROM web_secret WHERE id = 1").fetchone()
    finally:
        conn.close()
    links = MediaLinks(PUBLIC, ttl_hours=1, max_bytes=20 * MIB, secret=bytes(secret))
    link = links.link_for(Attachment("photo", size=PHOTO_BYTES, file_id=file_id))
    assert link is not None
    return link


if __name__ == "__main__":
    print(asyncio.run(media_figures(quick=os.environ.get("BENCH_QUICK") == "1")))
