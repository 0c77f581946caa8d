"""A roster that stays fresh, end to end (issue 23, item 3): the whole bridge on ngircd with
the fake Bot API and [web], its freshness task's clock moved on 180 and then 210 days. The
nudge reaches a Telegram member who pressed Start and an IRC member on the channel, nobody
else; silent through the grace period, they drop out of /members; /interests brings each
back at once."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp

from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import ALICE, BOT_NICK, CHANNEL, GROUP, RunningBridge
from tests.support.irc_client import IrcClient
from tests.support.ircd import IrcServer
from tests.support.web import base, bridge_with_web

DAY = 86_400.0
DAN = TgUser(1004, "Dan", username="dan_never_started")


def days_on(bridge: RunningBridge, days: float) -> None:
    """The freshness task's clock, `days` ahead of the real one."""
    bridge.app.nudger.clock = lambda: time.time() + days * DAY


async def listed(bridge: RunningBridge, http: aiohttp.ClientSession) -> list[str]:
    async with http.get(base(bridge) + "/members.json") as resp:
        assert resp.status == 200
        return sorted(m["name"] for m in (await resp.json())["members"])


async def answer(bob: IrcClient, text: str) -> str:
    bob.privmsg(CHANNEL, text)
    (line,) = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
    return line.text


async def test_nudge_grace_drop_out_and_back(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    fake_tg.add_private_chat(ALICE)  # Alice pressed Start; Dan never did
    async with bridge_with_web(tmp_path, fake_tg, ngircd) as (b, bob, http):
        for user, tags in ((ALICE, "python, lua"), (DAN, "go")):
            for text in (f"/interests {tags}", "/listed yes"):
                fake_tg.push_text(GROUP, user, text)
                await fake_tg.wait_sent(lambda m: m.chat_id == GROUP)
        assert "Your interests: rust" in await answer(bob, "!interests rust")
        assert (await answer(bob, "!listed yes")).startswith("Done: you are listed")
        assert await listed(b, http) == ["Alice Smith", "Dan", "bob"]

        days_on(b, 180)
        assert await b.app.nudger.round() == 2  # Alice and bob; Dan cannot be reached
        (nudge,) = await fake_tg.wait_sent(lambda m: m.chat_id == ALICE.id)
        assert nudge.visible_text.startswith(
            "Hello Alice Smith: your entry in the members roster was last confirmed on "
        )
        assert "You list: python, lua.\nTo keep it, send /interests (it shows" in (
            nudge.visible_text
        )
        lines = await bob.expect_privmsgs("bob", 3, source_nick=BOT_NICK)
        assert lines[0].text.startswith("Hello bob: your entry in the members roster")
        assert lines[1].text.startswith("To keep it, send !interests (it shows and confirms")
        assert lines[2].text == (
            "Without an answer within 30 days you leave the members directory and the lists "
            "until you confirm; nothing is deleted."
        )
        assert b.app.nudger.counts == {"telegram": 1, "irc": 1, "unreachable": 1}
        assert await b.app.nudger.round() == 0  # never twice
        assert await listed(b, http) == ["Alice Smith", "Dan", "bob"]  # within the grace

        days_on(b, 211)
        await b.app.nudger.round()
        # Dan, reachable nowhere, is given up on only now: he lapses 30 days from here
        assert await listed(b, http) == ["Dan"]

        assert (await answer(bob, "!interests")).startswith("Thank you: your profile is confirmed")
        assert await listed(b, http) == ["Dan", "bob"]
        fake_tg.push_text(ALICE.id, ALICE, "/interests")
        (back,) = await fake_tg.wait_sent(lambda m: m.chat_id == ALICE.id)
        assert back.visible_text.startswith("Thank you: your profile is confirmed")
        assert await listed(b, http) == ["Alice Smith", "Dan", "bob"]

        days_on(b, 241.5)
        await b.app.nudger.round()
        assert await listed(b, http) == ["Alice Smith", "bob"]
        assert [m for m in fake_tg.sent if m.chat_id == DAN.id] == []  # he never pressed Start
