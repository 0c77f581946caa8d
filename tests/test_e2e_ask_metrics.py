"""End to end: /ask's counts on /metrics (issue 23, item 5), on real ngircd with the fake Bot
API: questions asked, recipients notified now and when next seen, questions kept."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import ALICE, BOT_NICK, CAROL, CHANNEL, GROUP, RunningBridge
from tests.support.ircd import IrcServer
from tests.support.roster import irc_one, tg_one
from tests.support.web import bridge_with_web, scrape


async def ask_metrics(
    bridge: RunningBridge, http: aiohttp.ClientSession
) -> dict[tuple[str, str], float]:
    return await scrape(bridge, http, ("tgirc_ask",), "when")


async def test_metrics_count_asks_and_recipients_now_and_later(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with bridge_with_web(tmp_path, fake_tg, ngircd) as (b, bob, http):
        fake_tg.add_private_chat(CAROL)
        fake_tg.add_member(GROUP, CAROL)
        await tg_one(fake_tg, CAROL, "/interests python", chat=CAROL.id)
        await tg_one(fake_tg, CAROL, "/askme yes", chat=CAROL.id)
        await irc_one(bob, BOT_NICK, "interests python")
        await irc_one(bob, BOT_NICK, "askme yes")
        await bob.part(CHANNEL)  # away: his question is kept
        assert await tg_one(fake_tg, ALICE, "/ask python Any tips?") == (
            "Your question on python went to 1 member now and will reach 1 more member when "
            "next seen on IRC."
        )
        assert await ask_metrics(b, http) == {
            ("tgirc_asks_total", ""): 1.0,
            ("tgirc_ask_recipients_notified_total", "now"): 1.0,
            ("tgirc_ask_recipients_notified_total", "later"): 0.0,
            ("tgirc_ask_expired_total", ""): 0.0,
            ("tgirc_ask_waiting", ""): 1.0,
        }
        await bob.join(CHANNEL)
        [line, _] = await bob.expect_privmsgs("bob", 2, source_nick=BOT_NICK)
        assert line.text.endswith("\u201cAny tips?\u201d")
        metrics = await ask_metrics(b, http)
        assert metrics["tgirc_ask_recipients_notified_total", "later"] == 1.0
        assert metrics["tgirc_ask_waiting", ""] == 0.0
