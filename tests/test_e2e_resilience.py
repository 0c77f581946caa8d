"""End to end: floods, outages, nick collisions, Bot API faults and clean shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    human,
    noting,
    running_bridge,
    write_config,
)
from tests.support.ircd import IrcServer, inspircd_server


@pytest.mark.timeout(120)
@pytest.mark.slow
async def test_burst_of_100_arrives_in_order_without_flood_kill(
    tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    # InspIRCd kills a client whose unprocessed input exceeds 8 KB ("RecvQ exceeded"):
    # 100 x 300 bytes unpaced would be killed at once. The bot's token bucket prevents it.
    async with inspircd_server(tmp_path / "ircd", commandrate=5000, threshold=10) as ircd:
        config = write_config(
            tmp_path / "config.toml",
            fake_tg,
            ircd,
            irc={"send_burst": 4, "send_rate": 4.5},
        )
        async with running_bridge(config):
            bob = await human(ircd, "bob", CHANNEL)
            texts = [f"message {i:03d} " + "x" * 280 for i in range(100)]
            for text in texts:
                fake_tg.push_text(GROUP, ALICE, text)
            lines = await bob.expect_privmsgs(CHANNEL, 100, timeout=60, source_nick=BOT_NICK)
            assert [ln.text for ln in lines] == [f"<Alice Smith> {t}" for t in texts]
            assert not [ln for ln in bob.lines if ln.command == "QUIT"]
            await bob.close()


@pytest.mark.slow
async def test_irc_lines_are_tagged_and_fit_inspircd(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    async with inspircd_server(tmp_path / "ircd") as ircd:
        config = write_config(tmp_path / "config.toml", fake_tg, ircd)
        async with running_bridge(config) as bridge:
            assert {"message-tags", "server-time", "echo-message"} <= bridge.app.irc.caps
            bob = await human(ircd, "bob", CHANNEL, caps=("message-tags", "server-time"))
            bob.privmsg(CHANNEL, "tagged")
            [sent] = await fake_tg.wait_sent()
            assert sent.visible_text == "bob: tagged"
            fake_tg.push_text(GROUP, ALICE, "é" * 3000)
            received = ""
            while len(received) < 3000:
                [ln] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
                tags_len = len(ln.raw.split(b" ", 1)[0]) + 1 if ln.raw.startswith(b"@") else 0
                assert ln.raw_len - tags_len <= 512  # tags have their own budget
                received += ln.text.removeprefix("<Alice Smith> ")
            assert received == "é" * 3000
            await bob.close()


async def test_reconnects_after_server_restart_and_delivers_queued(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config) as bridge:
        await ngircd.stop()
        for i in range(5):
            fake_tg.push_text(GROUP, ALICE, f"while down {i}")
        await fake_tg.wait_confirmed(timeout=10)
        await ngircd.start()
        bob = await human(ngircd, "bob", CHANNEL)
        await bridge.app.irc.wait_ready(CHANNEL)
        lines = await bob.expect_privmsgs(CHANNEL, 5, timeout=20, source_nick=BOT_NICK)
        assert [ln.text for ln in lines] == [f"<Alice Smith> while down {i}" for i in range(5)]
        await bob.close()


@pytest.mark.slow
async def test_nick_in_use_then_regained(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    squatter = await human(ngircd, BOT_NICK, CHANNEL)
    watcher = await human(ngircd, "watcher", CHANNEL)
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config) as bridge:
        assert bridge.app.irc.nick == BOT_NICK + "_"
        fake_tg.push_text(GROUP, ALICE, "from the alternative nick")
        [line] = await watcher.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK + "_")
        assert line.text == "<Alice Smith> from the alternative nick"
        await squatter.quit()
        change = await watcher.wait_for(lambda ln: ln.command == "NICK", timeout=10)
        assert (change.source_nick, change.params[0]) == (BOT_NICK + "_", BOT_NICK)
        fake_tg.push_text(GROUP, ALICE, "back to my nick")
        [line] = await watcher.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
        assert line.text == "<Alice Smith> back to my nick"
    await watcher.close()
    await squatter.close()


@pytest.mark.slow
async def test_bot_api_429_and_502_are_retried_in_order(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.fail_next("sendMessage", 1, "429", retry_after=2)
        fake_tg.fail_next("sendMessage", 1, "502")
        bob.privmsg(CHANNEL, "first")
        sent = await fake_tg.wait_sent(timeout=20)
        bob.privmsg(CHANNEL, "second")
        sent += await fake_tg.wait_sent(timeout=20)
        assert [m.visible_text for m in sent] == ["bob: first", "bob: second"]
        attempts = [a for a in fake_tg.attempts if a.method == "sendMessage"]
        assert attempts[0].fault == "429"
        assert attempts[1].time - attempts[0].time >= 2.0
        await bob.close()


@pytest.mark.slow
async def test_irc_burst_is_merged_within_telegram_rate(
    tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    async with inspircd_server(tmp_path / "ircd", commandrate=100_000, threshold=1000) as ircd:
        config = write_config(
            tmp_path / "config.toml",
            fake_tg,
            ircd,
            telegram={"messages_per_minute": 20, "burst": 3},
        )
        fake_tg.rate_limit(per_chat=20, window=60)
        async with running_bridge(config):
            bob = await human(ircd, "bob", CHANNEL)
            for i in range(40):
                bob.privmsg(CHANNEL, f"line {i}")
            lines: list[str] = []
            while len(lines) < 40:
                [msg] = await fake_tg.wait_sent(timeout=15)
                lines += (msg.visible_text or "").split("\n")
            assert lines == [f"bob: line {i}" for i in range(40)]
            assert len(fake_tg.sent) <= 6
            assert not [a for a in fake_tg.attempts if a.status == 429]
            await bob.close()


@pytest.mark.slow
async def test_clean_shutdown_flushes_and_quits(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd, irc={"send_rate": 20.0})
    async with running_bridge(config) as bridge:
        bob = await human(ngircd, "bob", CHANNEL)
        for i in range(30):
            fake_tg.push_text(GROUP, ALICE, f"before stop {i}")
        await fake_tg.wait_confirmed(timeout=10)
        assert await bridge.stop() == 0
        lines = await bob.expect_privmsgs(CHANNEL, 30, source_nick=BOT_NICK)
        assert [ln.text for ln in lines][-1] == "<Alice Smith> before stop 29"
        quit_ = await bob.wait_for(lambda ln: ln.command == "QUIT" and ln.source_nick == BOT_NICK)
        assert "shutting down" in quit_.text
        await bob.close()


async def test_linelen_from_server_is_used(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    async with inspircd_server(tmp_path / "ircd", linelen=1024) as ircd:
        config = write_config(tmp_path / "config.toml", fake_tg, ircd)
        async with running_bridge(config) as bridge:
            assert bridge.app.irc.linelen == 1024
            bob = await human(ircd, "bob", CHANNEL)
            fake_tg.push_text(GROUP, ALICE, "word " * 400)
            received = ""
            longest = 0
            while len(received.split()) < 400:
                [ln] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
                longest = max(longest, ln.raw_len)
                received += ln.text.removeprefix("<Alice Smith> ") + " "
            assert received.split() == ["word"] * 400
            assert 900 < longest <= 1024
            await bob.close()


async def test_bot_mode_realname_and_nickserv(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    async with inspircd_server(tmp_path / "ircd") as ircd:
        services = await human(ircd, "NickServ")
        config = write_config(
            tmp_path / "config.toml", fake_tg, ircd, irc={"nickserv_password": "s3cret pw"}
        )
        async with running_bridge(config):
            identify = await services.wait_for(lambda ln: ln.command == "PRIVMSG")
            assert identify.text == f"IDENTIFY {BOT_NICK} s3cret pw"
            services.send_raw(f"WHOIS {BOT_NICK}")
            user = await services.wait_command("311")
            assert "bridge" in user.params[-1].lower()
            await services.wait_command("335")  # RPL_WHOISBOT: +B is set
        await services.close()


@pytest.mark.slow
async def test_silent_server_is_detected_and_reconnected(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(
        tmp_path / "config.toml", fake_tg, ngircd, irc={"ping_interval": 0.5, "ping_timeout": 2.0}
    )
    async with running_bridge(config) as bridge:
        irc = bridge.app.irc
        assert ngircd.pid is not None
        os.kill(ngircd.pid, signal.SIGSTOP)  # the link stays up, nothing comes back
        try:
            async with asyncio.timeout(10):
                while irc.is_joined(CHANNEL):
                    await irc.wait_changed()
        finally:
            os.kill(ngircd.pid, signal.SIGCONT)
        fake_tg.push_text(GROUP, ALICE, "after the stall")
        bob = await human(ngircd, "bob", CHANNEL)
        # the stalled connection may still hold the nick for a moment: either nick is fine
        [line] = await bob.expect_privmsgs(CHANNEL, 1, timeout=20)
        assert line.source_nick in (BOT_NICK, BOT_NICK + "_")
        assert line.text == "<Alice Smith> after the stall"
        await bob.close()


async def test_unreachable_pieces_give_one_clear_line(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(
        tmp_path / "config.toml", fake_tg, ngircd, pairs=((GROUP, CHANNEL), (-100999, "#lost"))
    )
    async with running_bridge(config):
        pass
    problems = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert problems == ["telegram_chat -100999: Chat not found (is the bot a member of the group?)"]


async def test_telegram_down_at_start_does_not_keep_irc_down(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    await fake_tg.stop()
    routed: asyncio.Queue[str] = asyncio.Queue()
    async with running_bridge(config, wrap_router=noting(routed)) as bridge:  # IRC joins
        bob = await human(ngircd, "bob", CHANNEL)
        bob.privmsg(CHANNEL, "said while Telegram is down")
        assert await asyncio.wait_for(routed.get(), 10) == "said while Telegram is down"
        [queued] = await bridge.app.store.stats()
        assert (queued.network, queued.chat, queued.depth) == ("telegram", str(GROUP), 1)
        assert bridge.app.telegram.connection_state == "unreachable"
        await fake_tg.start()
        [sent] = await fake_tg.wait_sent(timeout=20)
        assert sent.visible_text == "bob: said while Telegram is down"
        await bob.close()


async def test_irc_down_at_start_does_not_keep_telegram_down(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    await ngircd.stop()
    async with running_bridge(config, wait_joined=False) as bridge:
        pushed = fake_tg.push_text(GROUP, ALICE, "written while IRC is down")
        await fake_tg.wait_confirmed(pushed.update_id, timeout=10)  # stored, then confirmed
        [queued] = await bridge.app.store.stats()
        assert (queued.network, queued.chat, queued.depth) == ("irc", CHANNEL, 1)
        await ngircd.start()
        bob = await human(ngircd, "bob", CHANNEL)
        [line] = await bob.expect_privmsgs(CHANNEL, 1, timeout=20, source_nick=BOT_NICK)
        assert line.text == "<Alice Smith> written while IRC is down"
        await bob.close()
