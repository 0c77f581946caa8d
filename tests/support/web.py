"""A bridge with its web face, and the HTTP helpers that read it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import (
    BOT_NICK,
    CHANNEL,
    RunningBridge,
    human,
    running_bridge,
    toml_table,
    write_config,
)
from tests.support.irc_client import IrcClient
from tests.support.ircd import IrcServer
from tests.support.ports import free_port

PUBLIC = "https://media.test.invalid/bridge"


LINK = re.compile(re.escape(PUBLIC) + r"/m/\S+")


def web_config(tmp_path: Path, fake: FakeTelegram, ircd: IrcServer, **web: object) -> Path:
    """The harness config plus a [web] table on a free loopback port."""
    path = write_config(
        tmp_path / "config.toml", fake, ircd, telegram={"messages_per_minute": 600.0}
    )
    table = {"public_url": PUBLIC, "listen": f"127.0.0.1:{free_port()}", **web}
    path.write_text(path.read_text(encoding="utf-8") + "\n" + toml_table("web", table))
    return path


@asynccontextmanager
async def bridge_with_web(
    tmp_path: Path, fake: FakeTelegram, ircd: IrcServer, **web: object
) -> AsyncIterator[tuple[RunningBridge, IrcClient, aiohttp.ClientSession]]:
    async with running_bridge(web_config(tmp_path, fake, ircd, **web)) as bridge:
        bob = await human(ircd, "bob", CHANNEL)
        try:
            async with aiohttp.ClientSession() as http:
                yield bridge, bob, http
        finally:
            await bob.close()


def local(bridge: RunningBridge, link: str) -> str:
    """The public link as fetched on the bridge's own port (what the reverse proxy does)."""
    assert bridge.app.web is not None
    return link.replace(PUBLIC, f"http://127.0.0.1:{bridge.app.web.server.port}")


async def scrape(
    bridge: RunningBridge, http: aiohttp.ClientSession, prefixes: tuple[str, ...], label: str
) -> dict[tuple[str, str], float]:
    """The running bridge's /metrics samples whose names start with one of prefixes, keyed
    by (name, the value of label or "")."""
    async with http.get(base(bridge) + "/metrics") as resp:
        assert resp.status == 200
        body = await resp.text()
    return {
        (s.name, s.labels.get(label, "")): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name.startswith(prefixes)
    }


def base(bridge: RunningBridge) -> str:
    return local(bridge, PUBLIC)


async def relayed_link(bob: IrcClient) -> tuple[str, str]:
    """(the IRC line's text, the link in it)."""
    (line,) = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
    match = LINK.search(line.text)
    assert match is not None, line.text
    return line.text, match.group(0)
