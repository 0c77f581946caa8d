"""The roster's freshness on /metrics and in `tgirc-bridge status` (issue 23, item 5): nudges
sent per network, nudges that found no way, members who lapsed, read from the database per
scrape, so the status CLI of a stopped bridge reads the same totals. The whole bridge on
ngircd with the fake Bot API and [web], its freshness task's clock moved on."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp

from tests.support.bridge_state import status
from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    RunningBridge,
    human,
    running_bridge,
)
from tests.support.ircd import IrcServer
from tests.support.web import scrape, web_config

DAY = 86_400.0
DAN = TgUser(1004, "Dan", username="dan_never_started")


def days_on(bridge: RunningBridge, days: float) -> None:
    """The freshness task's clock, `days` ahead of the real one."""
    bridge.app.nudger.clock = lambda: time.time() + days * DAY


async def nudge_metrics(
    bridge: RunningBridge, http: aiohttp.ClientSession
) -> dict[tuple[str, str], float]:
    return await scrape(bridge, http, ("tgirc_nudges", "tgirc_roster_lapsed"), "network")


async def test_nudges_and_lapses_on_metrics_and_in_status(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    fake_tg.add_private_chat(ALICE)  # Alice pressed Start; Dan never did
    config = web_config(tmp_path, fake_tg, ngircd)
    async with running_bridge(config) as b, aiohttp.ClientSession() as http:
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            for user in (ALICE, DAN):
                fake_tg.push_text(GROUP, user, "/interests python")
                await fake_tg.wait_sent(lambda m: m.chat_id == GROUP)
            bob.privmsg(CHANNEL, "!interests rust")
            await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert set((await nudge_metrics(b, http)).values()) == {0.0}

            days_on(b, 180)
            assert await b.app.nudger.round() == 2  # Alice and bob; Dan cannot be reached
            await bob.expect_privmsgs("bob", 3, source_nick=BOT_NICK)
            assert await nudge_metrics(b, http) == {
                ("tgirc_nudges_sent_total", "irc"): 1.0,
                ("tgirc_nudges_sent_total", "telegram"): 1.0,
                ("tgirc_nudges_unreachable_total", ""): 1.0,
                ("tgirc_roster_lapsed_total", ""): 0.0,
            }

            days_on(b, 211)  # Alice and bob lapse; Dan is given up on
            await b.app.nudger.round()
            metrics = await nudge_metrics(b, http)
            assert metrics["tgirc_roster_lapsed_total", ""] == 2.0
            assert metrics["tgirc_nudges_unreachable_total", ""] == 2.0
        finally:
            await bob.close()
    assert "nudges: 2 sent (telegram 1, irc 1); 2 unreachable; 2 members lapsed" in (
        (await status(config)).splitlines()
    )
