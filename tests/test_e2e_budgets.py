"""Issue 9, case 15, end to end: WHOIS lookups and private answers draw on budgets of their
own, so a crowd of clones talking to the bot privately does not slow the channel down.

A real InspIRCd with its default flood control (fake lag beyond one command a second) and
without account-tag, so that every private command costs a WHOIS; the bridge paced as in
production (send_burst 4, send_rate 1). Thirty clones each send the bot one private line,
five of them a command, the rest chatter, while Telegram posts ten messages to the group.
The bound on the relay is derived from the pacing config, not from how fast the bridge is.
(Each answer to a clone costs two WHOIS at one line a second: one to know who asks, one to
know the nick is still theirs when the answer goes out; five keep the test short.)
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bridge.irc.accounts import WHOIS_COST
from bridge.irc.lanes import RELAY_RUN
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    human,
    running_bridge,
    write_config,
)
from tests.support.identity import REFUSED_EXPORT, from_bot, without_account_tag
from tests.support.irc_client import IrcClient, connect
from tests.support.ircd import inspircd_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

BURST, RATE = 4, 1.0
"""The production defaults of irc.send_burst and irc.send_rate."""
CLONES, ASKING = 30, 5
RELAYED = 10
SLACK = 2.0
"""Seconds for what is not pacing: Telegram's long poll answering, loopback, the echo."""


async def test_clones_talking_privately_do_not_slow_the_channel(
    tmp_path: Path, fake_tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_account_tag(monkeypatch)
    async with inspircd_server(tmp_path / "irc") as server:
        config = write_config(
            tmp_path / "config.toml",
            fake_tg,
            server,
            irc={"send_burst": BURST, "send_rate": RATE},
        )
        async with running_bridge(config):
            watcher = await human(server, "watcher", CHANNEL)
            clones: list[IrcClient] = await asyncio.gather(
                *(
                    connect(server.host, server.port, f"clone{n:02d}", user=f"c{n:02d}")
                    for n in range(CLONES)
                )
            )
            try:
                for n, clone in enumerate(clones):
                    clone.privmsg(BOT_NICK, "export" if n < ASKING else "hello there")
                # The clones' lines are with the bridge: the first answer is on its way.
                [first] = await clones[0].expect_privmsgs("clone00", 1, 30, source_nick=BOT_NICK)
                assert first.text == REFUSED_EXPORT
                began = time.monotonic()
                for n in range(RELAYED):
                    fake_tg.push_text(GROUP, ALICE, f"relay {n:02d}")
                watcher.privmsg(CHANNEL, "the other way round")
                relayed = await watcher.expect_privmsgs(CHANNEL, RELAYED, 60, source_nick=BOT_NICK)
                took = relayed[-1].received_at - began
                [to_telegram] = await fake_tg.wait_sent(lambda m: m.chat_id == GROUP)
                assert to_telegram.visible_text == "watcher: the other way round"
                assert [ln.text for ln in relayed] == [
                    f"<Alice Smith> relay {n:02d}" for n in range(RELAYED)
                ]
                # The channel's own pacing, plus at most one lookup's tokens out of its burst
                # and one lookup's turn after each RELAY_RUN lines in a row (none for ten).
                turns = 1 + (RELAYED - 1) // RELAY_RUN
                bound = (RELAYED - BURST) / RATE + turns * WHOIS_COST / RATE + SLACK
                assert took <= bound, f"relay took {took:.1f}s with clones, bound {bound:.1f}s"
                # Every command is still answered, paced; chatter never is.
                for clone in clones[1:ASKING]:
                    [answer] = await clone.expect_privmsgs(
                        clone.nickname, 1, 90, source_nick=BOT_NICK
                    )
                    assert answer.text == REFUSED_EXPORT
                for clone in clones:
                    await clone.assert_no_line(from_bot, within=0.01)
            finally:
                for clone in (*clones, watcher):
                    await clone.close()
