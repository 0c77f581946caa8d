"""End to end on a real InspIRCd: a channel that keeps the bot out (invite-only, a ban, a
kick), a server that renames it or refuses its nick, and lines the relay must not lose (a
CTCP in the middle, a line longer than Telegram takes).

The bot's own lines that nobody else sees (a refused JOIN, a NICK turned down) are counted
on the wire by a relay in front of the server (tests/support/tcp_tap.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bridge.app import App
from bridge.config import load_config
from bridge.irc import joins, registration
from storage.db import Database
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    RunningBridge,
    human,
    running_bridge,
    write_config,
)
from tests.support.irc_client import Line
from tests.support.ircd import IrcServer, inspircd_server
from tests.support.opers import OPER_BLOCK
from tests.support.proc_harness import run_cli
from tests.support.tcp_tap import TappedLine, TcpTap

RETRY = {"reconnect_min": 0.2, "reconnect_max": 1.0}
"""JOIN retries back off between these bounds (write_config's defaults, spelled out)."""


@contextlib.asynccontextmanager
async def started_bridge(config_path: Path) -> AsyncIterator[RunningBridge]:
    """The bridge running in-process, without waiting for its channels (it may be kept out)."""
    config = load_config(config_path)
    db = await Database.open(config.storage.path)
    app = App(config, db)
    bridge = RunningBridge(app, asyncio.create_task(app.run()), db, config)
    try:
        yield bridge
    finally:
        await bridge.stop()


async def published(
    bridge: RunningBridge, want: Callable[[str], bool], timeout: float = 10.0
) -> None:
    """Wait until the channel's state in the database (what `status` reads) satisfies want:
    read again at each change of the IRC side, or after a second (the app writes it right
    after the change, which may be just after we looked)."""
    async with asyncio.timeout(timeout):
        while True:
            states = dict((await bridge.app.status.read()).irc_channels)
            if want(states.get(CHANNEL, "")):
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(bridge.app.irc.wait_changed(), 1.0)


async def status_line(config: Path) -> str:
    code, out, err = await run_cli("status", "--config", str(config))
    assert code == 0, err
    [line] = [ln for ln in out.splitlines() if ln.startswith("irc channel ")]
    return line


def joins_to(channel: str) -> Callable[[str], bool]:
    return lambda line: line == f"JOIN {channel}"


def bot_joined(line: Line) -> bool:
    return line.command == "JOIN" and line.source_nick == BOT_NICK


def gaps(lines: list[TappedLine]) -> list[float]:
    return [b.at - a.at for a, b in itertools.pairwise(lines)]


def warnings(caplog: pytest.LogCaptureFixture, pattern: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and re.search(pattern, r.getMessage())
    ]


# ------------------------------------------------------------------ case 13: kept out


async def test_invite_only_channel_is_retried_paced_shown_and_joined_when_invited(
    tmp_path: Path, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "bridge")
    async with inspircd_server(tmp_path / "ircd") as ircd, TcpTap(ircd.host, ircd.port) as tap:
        op = await human(ircd, "op", CHANNEL)  # first in: channel operator
        op.send_raw(f"MODE {CHANNEL} +i")
        await op.wait_command("MODE")
        config = write_config(tmp_path / "c.toml", fake_tg, ircd, irc={"port": tap.port, **RETRY})
        async with started_bridge(config) as bridge:
            refused = await tap.wait_lines(joins_to(CHANNEL), 5, timeout=15)
            assert all(0.15 <= gap <= 1.6 for gap in gaps(refused)), gaps(refused)  # paced
            await published(bridge, lambda s: "invite-only" in s)
            assert await status_line(config) == (
                f"irc channel {CHANNEL}: not joined: the channel is invite-only (+i) "
                f'("Cannot join channel (invite only)"); retrying'
            )
            assert warnings(caplog, CHANNEL) == [
                f"IRC: not in {CHANNEL}: the channel is invite-only (+i) "
                '("Cannot join channel (invite only)"); retrying with backoff (up to 1s)'
            ]  # one line, however many retries

            op.send_raw(f"INVITE {BOT_NICK} {CHANNEL}")
            await op.wait_for(bot_joined)
            await published(bridge, lambda s: s == "joined")
            assert await status_line(config) == f"irc channel {CHANNEL}: joined"
            fake_tg.push_text(GROUP, ALICE, "in at last")
            [line] = await op.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert line.text == "<Alice Smith> in at last"
        await op.close()


async def test_kicked_and_banned_the_bot_keeps_trying_and_is_back_once_unbanned(
    tmp_path: Path,
    fake_tg: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(joins, "REJOIN_AFTER", 0.3)
    caplog.set_level(logging.DEBUG, "bridge")
    async with inspircd_server(tmp_path / "ircd") as ircd, TcpTap(ircd.host, ircd.port) as tap:
        op = await human(ircd, "op", CHANNEL)
        config = write_config(tmp_path / "c.toml", fake_tg, ircd, irc={"port": tap.port, **RETRY})
        async with running_bridge(config) as bridge:
            await op.wait_for(bot_joined)
            op.send_raw(f"KICK {CHANNEL} {BOT_NICK} :behave")  # kick → rejoin
            await op.wait_for(bot_joined)
            op.send_raw(f"MODE {CHANNEL} +b {BOT_NICK}!*@*")
            op.send_raw(f"KICK {CHANNEL} {BOT_NICK} :and stay out")
            kicked = time.monotonic()
            retries = await tap.wait_lines(joins_to(CHANNEL), 6, timeout=15)
            assert retries[2].at - kicked >= 0.3  # not straight back in after the kick
            assert all(0.15 <= gap <= 1.6 for gap in gaps(retries[2:])), gaps(retries[2:])
            await published(bridge, lambda s: "banned" in s)
            assert await status_line(config) == (
                f"irc channel {CHANNEL}: not joined: the bot is banned (+b) "
                f'("Cannot join channel (you\'re banned)"); retrying'
            )
            fake_tg.push_text(GROUP, ALICE, "said while out")  # waits, is not lost

            op.send_raw(f"MODE {CHANNEL} -b {BOT_NICK}!*@*")
            await op.wait_for(bot_joined, timeout=5)
            [line] = await op.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert line.text == "<Alice Smith> said while out"
            await published(bridge, lambda s: s == "joined")
        assert warnings(caplog, CHANNEL) == [
            f'IRC: not in {CHANNEL}: kicked by op ("behave"); retrying with backoff (up to 1s)',
            f'IRC: not in {CHANNEL}: kicked by op ("and stay out"); '
            "retrying with backoff (up to 1s)",
            f"IRC: not in {CHANNEL}: the bot is banned (+b) "
            '("Cannot join channel (you\'re banned)"); retrying with backoff (up to 1s)',
        ]
        await op.close()


# ------------------------------------------------------------ case 14: forced renames


async def test_a_services_style_rename_war_is_not_a_nick_storm(
    tmp_path: Path, fake_tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registration, "REGAIN_MIN", 0.5)
    monkeypatch.setattr(registration, "REGAIN_MAX", 2.0)
    # A lenient server (no fake lag): only the bot's own pacing can prevent a storm.
    ircd = inspircd_server(
        tmp_path / "ircd",
        extra_modules=("sanick",),
        extra_config=OPER_BLOCK,
        commandrate=1_000_000,
        threshold=10_000,
    )
    async with ircd, TcpTap(ircd.host, ircd.port) as tap:
        config = write_config(tmp_path / "c.toml", fake_tg, ircd, irc={"port": tap.port})
        async with running_bridge(config):
            oper = await human(ircd, "oper", CHANNEL)
            oper.send_raw("OPER root rootpw")
            await oper.wait_command("381")

            def took_it_back(ln: object) -> bool:
                return getattr(ln, "command", "") == "NICK" and getattr(ln, "text", "") == BOT_NICK

            started = time.monotonic()
            renames = 0
            oper.send_raw(f"SANICK {BOT_NICK} Guest{renames}")
            while (left := started + 5.0 - time.monotonic()) > 0:  # an enforcer for 5 s
                with contextlib.suppress(TimeoutError):
                    await oper.wait_for(took_it_back, timeout=left)
                    renames += 1
                    oper.send_raw(f"SANICK {BOT_NICK} Guest{renames}")
            window = [
                ln
                for ln in tap.lines_matching(lambda t: t == f"NICK {BOT_NICK}")
                if started <= ln.at <= started + 5.0
            ]
            assert 2 <= len(window) <= 6, len(window)  # ~0.5, 1, 2, 2 s apart; not hundreds
            assert min(gaps(window)) >= 0.45, gaps(window)

            # The enforcer stops: the nick comes back within the longest pause, and stays.
            await oper.wait_for(took_it_back, timeout=4.0)
            fake_tg.push_text(GROUP, ALICE, "still here")
            [line] = await oper.expect_privmsgs(CHANNEL, 1)
            assert (line.source_nick, line.text) == (BOT_NICK, "<Alice Smith> still here")
            await oper.close()


async def test_a_nick_the_server_refuses_is_one_clear_error_not_a_loop(
    tmp_path: Path, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    ircd = inspircd_server(
        tmp_path / "ircd", extra_config=f'<badnick nick="{BOT_NICK}" reason="Reserved here">'
    )
    async with ircd, TcpTap(ircd.host, ircd.port) as tap:
        config = write_config(tmp_path / "c.toml", fake_tg, ircd, irc={"port": tap.port})
        db = await Database.open(load_config(config).storage.path)
        try:
            app = App(load_config(config), db)
            assert await asyncio.wait_for(app.run(), 10) == 1
        finally:
            await db.close()
    assert [r.getMessage() for r in caplog.records if "irc.nick" in r.getMessage()] == [
        f'irc stopped: the IRC server refuses irc.nick = "{BOT_NICK}" '
        "(Invalid nickname: Reserved here); set another irc.nick in the config"
    ]
    assert tap.connections == 1


# ------------------------------------------------------------ case 16: nothing lost


async def test_a_ctcp_in_the_middle_of_a_line_relays_all_its_text(
    tmp_path: Path, fake_tg: FakeTelegram, inspircd: IrcServer
) -> None:
    config = write_config(tmp_path / "c.toml", fake_tg, inspircd)
    async with running_bridge(config):
        bob = await human(inspircd, "bob", CHANNEL)
        bob.privmsg(CHANNEL, "before \x01PING 1\x01 after")
        bob.action(CHANNEL, "waves")
        bob.privmsg(CHANNEL, "\x01VERSION\x01")  # a real CTCP query: not relayed
        bob.privmsg(CHANNEL, "end")
        sent = await fake_tg.wait_sent(count=3)
        assert [(m.text, m.visible_text) for m in sent] == [
            ("<b>bob</b>: before PING 1 after", "bob: before PING 1 after"),
            ("<i>* bob waves</i>", "* bob waves"),
            ("<b>bob</b>: end", "bob: end"),
        ]
        await bob.close()


async def test_a_line_longer_than_telegram_takes_is_split_each_part_with_the_nick(
    tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    words = [f"w{i:04d}" for i in range(1500)]  # 8999 characters
    text = " ".join(words)
    ircd = inspircd_server(tmp_path / "ircd", linelen=10_000, recvq=20_000, softsendq=20_000)
    async with ircd:
        config = write_config(tmp_path / "c.toml", fake_tg, ircd, relay={"irc_joins": False})
        async with running_bridge(config) as bridge:
            assert bridge.app.irc.linelen == 10_000
            bob = await human(ircd, "bob", CHANNEL)
            bob.send_bytes(f"PRIVMSG {CHANNEL} :{text}\r\n".encode())
            sent = await fake_tg.wait_sent(count=3)
            # 4096 - len("bob: ") = 4091 characters fit: 681 words of 6 with their space
            cut = [words[:681], words[681:1362], words[1362:]]
            assert [m.visible_text for m in sent] == [
                "bob: " + " ".join(cut[0]) + " ",
                "bob: " + " ".join(cut[1]) + " ",
                "bob: " + " ".join(cut[2]),
            ]
            assert all((m.text or "").startswith("<b>bob</b>: ") for m in sent)
            await bob.close()
