"""End to end: gaps an audit found in the IRC relay core — the bot's own mask and the line
budget, paced JOINs, service events, ignore masks, self-echo, unreachable servers, TLS
without verification, and the outage/recovery log line."""

from __future__ import annotations

import asyncio
import logging
import re
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
from tests.support.irc_client import IrcClient, connect
from tests.support.ircd import IrcServer, inspircd_server, ngircd_server, self_signed_cert
from tests.support.opers import OPER_BLOCK
from tests.support.ports import free_port
from tests.support.proc_harness import bridge_process


async def _long_message_lines(bob: IrcClient, text: str) -> tuple[str, int]:
    """Collect the bot's lines until ``text`` is complete: (rejoined payload, longest line).

    The length is of the line as bob receives it, ``:nick!user@host PRIVMSG #chan :...\r\n``
    (bob asked for no tags, so none are counted).
    """
    received, longest = "", 0
    while len(received) < len(text):
        [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
        assert not line.raw.startswith(b"@")
        longest = max(longest, line.raw_len)
        received += line.text.removeprefix("<Alice Smith> ")
    return received, longest


async def test_relayed_lines_use_the_learned_mask_full_budget(
    tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    # Without the learned mask the bot budgets for a 63-byte host and lines stay near 455 bytes.
    async with inspircd_server(tmp_path / "ircd") as ircd:
        config = write_config(tmp_path / "config.toml", fake_tg, ircd)
        async with running_bridge(config):
            bob = await human(ircd, "bob", CHANNEL)
            text = "é" * 1500
            fake_tg.push_text(GROUP, ALICE, text)
            received, longest = await _long_message_lines(bob, text)
            assert received == text
            assert 500 < longest <= 512
            await bob.close()


async def test_host_change_after_connecting_is_followed(
    tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    # An oper gives the bot a long vhost (CHGHOST; the bot gets CHGHOST and 396): lines
    # budgeted for the old short host would no longer fit as relayed.
    ircd = inspircd_server(tmp_path / "ircd", extra_modules=("chghost", "ircv3_chghost"))
    with (ircd.workdir / "inspircd.conf").open("a") as conf:
        conf.write(OPER_BLOCK)
    vhost = "a-rather-long.virtual-host.assigned-by.services.example.org"
    async with ircd, running_bridge(write_config(tmp_path / "c.toml", fake_tg, ircd)) as bridge:
        assert "chghost" in bridge.app.irc.caps
        oper = await human(ircd, "oper", CHANNEL)
        bob = await human(ircd, "bob", CHANNEL)
        oper.send_raw("OPER root rootpw")
        await oper.wait_command("381")
        oper.send_raw(f"CHGHOST {BOT_NICK} {vhost}")
        oper.privmsg(CHANNEL, "sync")  # the bot reads this after its host change
        [sync] = await fake_tg.wait_sent()
        assert sync.visible_text == "oper: sync"
        assert (bridge.app.irc.own.mask or "").endswith("@" + vhost)
        text = "é" * 1500
        fake_tg.push_text(GROUP, ALICE, text)
        received, longest = await _long_message_lines(bob, text)
        assert received == text
        assert 500 < longest <= 512
        await oper.close()
        await bob.close()


async def test_parts_and_nick_changes_relayed_when_enabled_quits_not_by_default(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        relay={"irc_parts": True, "irc_nick_changes": True},
    )
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        carol = await human(ngircd, "carol", CHANNEL)  # irc_joins is off by default
        await carol.nick("carol2")
        await carol.part(CHANNEL, "see you")
        await carol.join(CHANNEL)
        await carol.quit("gone")  # irc_quits is off by default
        await bob.wait_for(lambda ln: ln.command == "QUIT" and ln.source_nick == "carol2")
        bob.privmsg(CHANNEL, "after the quit")
        lines: list[str] = []
        while "bob: after the quit" not in lines:
            [msg] = await fake_tg.wait_sent(timeout=15)
            lines += (msg.visible_text or "").split("\n")
        assert lines == [
            "carol is now known as carol2",
            "carol2 left #bridge",
            "bob: after the quit",
        ]
        await bob.close()


async def test_ignore_by_mask_glob(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(
        tmp_path / "config.toml", fake_tg, ngircd, relay={"ignore": ["irc:*!*spambot@127.0.0.*"]}
    )
    async with running_bridge(config):
        spam = await connect(ngircd.host, ngircd.port, "friendly", user="spambot")
        dave = await connect(ngircd.host, ngircd.port, "dave", user="spambotx")
        await spam.join(CHANNEL)
        await dave.join(CHANNEL)
        spam.privmsg(CHANNEL, "buy cheap things")
        spam.send_raw("PING :sync")  # the server has handled (and passed on) the line above
        await spam.wait_command("PONG")
        dave.privmsg(CHANNEL, "hello")
        [sent] = await fake_tg.wait_sent(timeout=15)
        assert sent.visible_text == "dave: hello"
        assert [m.visible_text for m in fake_tg.sent] == ["dave: hello"]
        await spam.close()
        await dave.close()


async def test_own_echoed_lines_are_never_relayed(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    async with inspircd_server(tmp_path / "ircd") as ircd:
        config = write_config(tmp_path / "config.toml", fake_tg, ircd)
        async with running_bridge(config) as bridge:
            assert "echo-message" in bridge.app.irc.caps
            bob = await human(ircd, "bob", CHANNEL)
            for i in range(3):
                fake_tg.push_text(GROUP, ALICE, f"from telegram {i}")
            fake_tg.push_text(GROUP, ALICE, "/me waves")
            lines = await bob.expect_privmsgs(CHANNEL, 4, source_nick=BOT_NICK)
            assert len(lines) == 4
            bob.privmsg(CHANNEL, "marker")  # the bot has read its echoes before this
            [sent] = await fake_tg.wait_sent(timeout=15)
            assert sent.visible_text == "bob: marker"
            assert [m.visible_text for m in fake_tg.sent] == ["bob: marker"]
            await bob.close()


async def test_unreachable_server_is_one_clear_line(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    port = free_port()  # nothing listens there
    closed = IrcServer.__new__(IrcServer)
    closed.host, closed.port = "127.0.0.1", port
    config = write_config(tmp_path / "config.toml", fake_tg, closed)
    async with bridge_process(config) as bridge:
        await bridge.start(wait_ready=False)
        await bridge.wait_log("IRC: reconnecting in", timeout=20, count=5)
        warnings = [ln for ln in bridge.lines if " WARNING " in ln or " ERROR " in ln]
        assert len([ln for ln in warnings if "unreachable" in ln]) == 1, bridge.tail()
        [line] = [ln for ln in warnings if "unreachable" in ln]
        assert f"IRC 127.0.0.1:{port} unreachable: " in line
        assert "retrying with backoff" in line
        assert await bridge.terminate() == 0
    assert "Traceback" not in config.with_name("bridge.log").read_text()


async def test_tls_without_verification_and_default_refusal(
    tmp_path: Path, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    cert, key = self_signed_cert(tmp_path / "tls")  # trusted by nobody
    async with ngircd_server(tmp_path / "ircd", tls_cert=(cert, key)) as ircd:
        lax = write_config(
            tmp_path / "lax.toml", fake_tg, ircd, irc={"tls": True, "tls_verify": False}
        )
        async with running_bridge(lax) as bridge:
            assert bridge.app.irc.is_joined(CHANNEL)  # registered and joined over TLS
        caplog.clear()
        strict = write_config(tmp_path / "strict.toml", fake_tg, ircd, irc={"tls": True})
        with caplog.at_level(logging.DEBUG), pytest.raises(TimeoutError):
            async with running_bridge(strict, timeout=4):  # several attempts at 0.2-1 s
                pass
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    rejected = [m for m in errors if "TLS certificate rejected" in m]
    assert len(rejected) == 1, errors
    assert rejected[0].startswith(f"IRC 127.0.0.1:{ircd.port}: TLS certificate rejected (")
    assert len([r for r in caplog.records if "TLS certificate rejected" in r.getMessage()]) > 1


async def test_recovery_line_counts_the_outage(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    with caplog.at_level(logging.INFO):
        async with running_bridge(config) as bridge:
            irc = bridge.app.irc
            for outage in (1, 2):
                await ngircd.stop()
                async with asyncio.timeout(10):
                    while irc.is_joined(CHANNEL):
                        await irc.wait_changed()
                await ngircd.start()
                async with asyncio.timeout(20):
                    await irc.wait_ready(CHANNEL)
                recovered = [
                    r.getMessage() for r in caplog.records if "IRC: reconnected" in r.getMessage()
                ]
                assert len(recovered) == outage
                pattern = (
                    rf"IRC: reconnected to 127\.0\.0\.1:{ngircd.port} after \d+ s down "
                    rf"\(outage {outage}, \d+ attempts?\)"
                )
                assert re.fullmatch(pattern, recovered[-1]), recovered
    lost = [r.getMessage() for r in caplog.records if "connection lost" in r.getMessage()]
    assert lost == ["IRC: connection lost (outage 1)", "IRC: connection lost (outage 2)"]


@pytest.mark.timeout(120)
async def test_join_burst_for_many_channels_is_paced(
    tmp_path: Path, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    # InspIRCd without fake lag disconnects ("Excess Flood") a client over its threshold:
    # 30 JOINs written at once on connect would be far over it.
    pairs = tuple((GROUP - i, f"#room{i:02d}") for i in range(30))
    for chat, _ in pairs[1:]:
        fake_tg.add_chat(chat, title=f"group {chat}")
    async with inspircd_server(
        tmp_path / "ircd", threshold=20, commandrate=6000, fakelag=False
    ) as ircd:
        config = write_config(
            tmp_path / "config.toml",
            fake_tg,
            ircd,
            pairs=pairs,
            irc={"send_burst": 4, "send_rate": 2.5},
        )
        with caplog.at_level(logging.INFO):
            async with running_bridge(config, timeout=60) as bridge:
                assert all(bridge.app.irc.is_joined(chan) for _, chan in pairs)
                bob = await human(ircd, "bob", pairs[-1][1])
                fake_tg.push_text(pairs[-1][0], ALICE, "still here")
                [line] = await bob.expect_privmsgs(pairs[-1][1], 1, source_nick=BOT_NICK)
                assert line.text == "<Alice Smith> still here"
                await bob.close()
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "connection lost" in m or "Excess Flood" in m]
