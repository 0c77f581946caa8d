"""End to end on ircd-hybrid 8.2, the third server family (OFTC's lineage): the relay both
ways, an action, a long line split, and a 100-message burst under hybrid's 2560-byte recvq
with no loss and no "Excess Flood". ngircd and InspIRCd run the same scenarios in
test_e2e_relay.py and test_e2e_resilience.py; these are the ones where the server matters."""

from __future__ import annotations

from pathlib import Path

import pytest

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
from tests.support.irc_client import Line
from tests.support.ircd import IrcServer

UNPACED = {"messages_per_minute": 600.0, "burst": 30}
HYBRID_PACE = {"send_burst": 4, "send_rate": 1.0}
"""The production default, which is hybrid's own rule: past a burst of 5 it reads a client's
lines at 1 a second (measured: 60 lines written at 3/s arrive at 1/s), and what waits unread
past the class's 2560-byte recvq is an "Excess Flood" (1.8 lines/s of 300 bytes is killed
after 27 lines). So on hybrid, unlike InspIRCd's test, a faster pace cannot be used."""


def from_bot(ln: Line) -> bool:
    return ln.command == "PRIVMSG" and ln.source_nick == BOT_NICK


@pytest.mark.slow
async def test_relay_both_ways_on_hybrid(
    tmp_path: Path, fake_tg: FakeTelegram, hybrid: IrcServer
) -> None:
    config = write_config(
        tmp_path / "config.toml", fake_tg, hybrid, telegram=UNPACED, irc=HYBRID_PACE
    )
    async with running_bridge(config):
        bob = await human(hybrid, "bob", CHANNEL)
        try:
            fake_tg.push_text(GROUP, ALICE, "hello <b>from</b> & telegram")
            fake_tg.push_text(GROUP, ALICE, "/me waves")
            long_text = " ".join(f"word{i:03d}" for i in range(200))  # 1599 bytes
            fake_tg.push_text(GROUP, ALICE, long_text)
            first = await bob.expect_privmsgs(CHANNEL, 2, source_nick=BOT_NICK)
            assert first[0].text == "<Alice Smith> hello <b>from</b> & telegram"
            assert first[1].action_text == "Alice Smith waves"
            received: list[str] = []
            while len("".join(received)) < len(long_text):
                [ln] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
                assert ln.raw_len <= 512 and ln.text.startswith("<Alice Smith> ")
                received.append(ln.text.removeprefix("<Alice Smith> "))
            assert "".join(received) == long_text and len(received) == 4
            assert all(chunk.endswith(" ") for chunk in received[:-1])  # cut at spaces
            await bob.assert_no_line(from_bot)

            bob.privmsg(CHANNEL, "hi <telegram> & all")
            bob.action(CHANNEL, "waves back")
            sent = await fake_tg.wait_sent(count=2)
            assert [m.visible_text for m in sent] == [
                "bob: hi <telegram> & all",
                "* bob waves back",
            ]
            assert [e["type"] for e in sent[0].entities] == ["bold"]  # the nick
        finally:
            await bob.close()


@pytest.mark.timeout(180)
@pytest.mark.slow
async def test_burst_of_100_on_hybrid_no_loss_no_flood_kill(
    tmp_path: Path, fake_tg: FakeTelegram, hybrid: IrcServer
) -> None:
    # hybrid closes a client whose unread input passes its class's recvq (2560 bytes, as
    # shipped) with "Excess Flood": 100 x 300 bytes unpaced is 30 KB, and even 1.8 lines/s
    # is killed within 15 s. At the production pace the 100 lines take ~100 s.
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        hybrid,
        irc=HYBRID_PACE,
    )
    async with running_bridge(config):
        bob = await human(hybrid, "bob", CHANNEL)
        try:
            texts = [f"message {i:03d} " + "x" * 280 for i in range(100)]
            for text in texts:
                fake_tg.push_text(GROUP, ALICE, text)
            lines = await bob.expect_privmsgs(CHANNEL, 100, timeout=140, source_nick=BOT_NICK)
            assert [ln.text for ln in lines] == [f"<Alice Smith> {t}" for t in texts]
            assert not [ln for ln in bob.lines if ln.command == "QUIT"]
        finally:
            await bob.close()
