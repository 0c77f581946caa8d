"""End to end: Telegram ⇄ IRC through the real bridge, a real ngircd and the fake Bot API."""

from __future__ import annotations

from pathlib import Path

from tests.harness import ALICE, BOT_NICK, CHANNEL, GROUP, human, running_bridge, write_config
from tests.support.fake_telegram import FakeTelegram
from tests.support.ircd import IrcServer


async def test_text_both_ways(tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.push_text(GROUP, ALICE, "hello from telegram")
        [line] = await bob.expect_privmsgs(CHANNEL, 1)
        assert (line.source_nick, line.text) == (BOT_NICK, "<Alice Smith> hello from telegram")
        bob.privmsg(CHANNEL, "hi <b>&amp; back")
        [sent] = await fake_tg.wait_sent(lambda m: m.chat_id == GROUP)
        assert sent.parse_mode == "HTML"
        assert sent.visible_text == "bob: hi <b>&amp; back"
        await bob.close()
