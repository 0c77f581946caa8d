"""The bot token and passwords never appear in the bridge's log, even at DEBUG level."""

from __future__ import annotations

from pathlib import Path

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import ALICE, BOT_NICK, CHANNEL, GROUP, human, write_config
from tests.support.ircd import IrcServer
from tests.support.proc_harness import bridge_process


async def test_no_secret_in_debug_log(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    password = "nick-serv-Secret-42"
    config = write_config(
        tmp_path / "config.toml", fake_tg, ngircd, irc={"nickserv_password": password}
    )  # logging.level is DEBUG in test configs
    async with bridge_process(config) as bridge:
        await bridge.start()
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.push_photo(GROUP, ALICE, caption="file links carry the token")
        bob.privmsg(CHANNEL, "hello")
        await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
        await fake_tg.wait_sent()
        assert await bridge.terminate() == 0
        await bob.close()
    log = (tmp_path / "bridge.log").read_text(encoding="utf-8")
    assert "ready: bridging" in log
    assert "IDENTIFY tgbridge ***" in log  # the irc library's raw lines, redacted
    assert "Telegram: logged in as @" in log
    token_secret = fake_tg.token.split(":", 1)[1]
    assert token_secret not in log
    assert password not in log
