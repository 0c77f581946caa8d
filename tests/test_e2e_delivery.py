"""End to end, the delivery guarantee (issue 4) with the bridge run as a subprocess.

Faults: the IRC server goes away and comes back on the same port; the fake Bot API answers
429, 502 or nothing at all; the bridge is SIGKILLed in the middle of a burst both ways and
started again on the same database; a message waits longer than the horizon. The receivers
(a human IRC client and the fake Bot API's record of accepted messages) are the judges.

Where the test must decide who is in the channel first after an IRC restart, it freezes the
bridge with SIGSTOP until the human has joined: IRC keeps no history, so a line the bridge
delivered before the human joined would be invisible to the test, not lost.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.delivery import from_bridge
from tests.support.fake_telegram import Attempt, FakeTelegram
from tests.support.harness import ALICE, BOT_NICK, CHANNEL, GROUP, human, write_config
from tests.support.irc_client import Line
from tests.support.ircd import IrcServer, inspircd_server
from tests.support.proc_harness import bridge_process, run_cli

RELAY_PREFIX = "<Alice Smith> "


def telegram_lines(fake: FakeTelegram) -> list[str]:
    """Every line the group got, in order: IRC lines merged into one message count apiece."""
    return [
        line
        for sent in fake.sent
        if sent.chat_id == GROUP and sent.method == "sendMessage"
        for line in (sent.visible_text or "").split("\n")
    ]


async def wait_telegram_lines(fake: FakeTelegram, count: int, timeout: float) -> None:
    """Wait (bounded) until the group got at least count lines, however they were merged."""
    async with asyncio.timeout(timeout):
        while len(telegram_lines(fake)) < count:
            await fake.wait_sent(lambda m: m.chat_id == GROUP, 1, timeout=timeout)


def send_attempts(fake: FakeTelegram) -> list[Attempt]:
    return [a for a in fake.attempts if a.method.lower() == "sendmessage"]


# --------------------------------------------------------------------- IRC outage


@pytest.mark.slow
async def test_irc_restart_20_messages_arrive_once_in_order(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with bridge_process(config) as bot:
        await bot.start()
        await ngircd.stop()
        await bot.wait_log("IRC: connection lost")
        texts = [f"while IRC was down {i:02d}" for i in range(20)]
        pushed = [fake_tg.push_text(GROUP, ALICE, text) for text in texts]
        await fake_tg.wait_confirmed(pushed[-1].update_id, timeout=10)  # now in the outbox

        bot.pause()  # the human must be back in the channel before the bridge
        await ngircd.start()
        bob = await human(ngircd, "bob", CHANNEL)
        bot.resume()

        lines = await bob.expect_privmsgs(CHANNEL, 20, timeout=30, source_nick=BOT_NICK)
        assert [ln.text for ln in lines] == [RELAY_PREFIX + t for t in texts]
        await bob.assert_no_line(from_bridge(CHANNEL), within=1.5)
        await bot.wait_log("IRC: joined #bridge", count=2)
        assert await bot.terminate() == 0
        await bob.close()


# -------------------------------------------------------------- Telegram faults


@pytest.mark.slow
async def test_telegram_429_502_and_timeout_every_line_once_in_order(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        telegram={"request_timeout": 2, "messages_per_minute": 6000, "burst": 50},
    )
    async with bridge_process(config) as bot:
        await bot.start()
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.fail_next("sendMessage", 1, "429", retry_after=2)
        fake_tg.fail_next("sendMessage", 1, "502")
        fake_tg.fail_next("sendMessage", 1, "hang", hang_seconds=8)  # > request_timeout
        texts = [f"through the storm {i:02d}" for i in range(10)]
        for text in texts:
            bob.privmsg(CHANNEL, text)

        await wait_telegram_lines(fake_tg, len(texts), timeout=40)
        await asyncio.sleep(1.0)  # bounded wait for absence: no late duplicate
        assert telegram_lines(fake_tg) == [f"bob: {t}" for t in texts]

        attempts = send_attempts(fake_tg)
        assert [a.fault for a in attempts[:4]] == ["429", "502", "hang", None]
        too_many, bad_gateway, hung, ok = attempts[:4]
        assert bad_gateway.time - too_many.time >= 2.0, "retry_after=2 not honoured"
        assert hung.time - bad_gateway.time >= 0.5  # backoff, not a hot loop
        assert ok.time - hung.time >= 2.0, "gave up on the hanging request before its timeout"
        assert all(a.status == 200 for a in attempts[3:])
        await bot.wait_log("delivery recovered after 3 failures")
        assert await bot.terminate() == 0
        await bob.close()


@pytest.mark.slow
async def test_telegram_timeout_after_delivery_repeats_only_that_message(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    """The documented limit: Telegram accepted the message but its answer never came, so the
    bridge cannot know and sends it again. Exactly that one message repeats."""
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        telegram={"request_timeout": 2, "messages_per_minute": 6000, "burst": 50},
    )
    async with bridge_process(config) as bot:
        await bot.start()
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.fail_next("sendMessage", 1, "hang_after", hang_seconds=8)
        texts = [f"answer lost {i}" for i in range(4)]
        for text in texts:
            bob.privmsg(CHANNEL, text)
        await wait_telegram_lines(fake_tg, len(texts) + 1, timeout=30)
        await asyncio.sleep(1.0)  # bounded wait for absence
        expected = [f"bob: {t}" for t in texts]
        assert telegram_lines(fake_tg) == [expected[0], *expected]
        assert [a.fault for a in send_attempts(fake_tg)[:2]] == ["hang_after", None]
        assert await bot.terminate() == 0
        await bob.close()


# ------------------------------------------------------------------ SIGKILL mid-burst


@pytest.fixture
async def fast_inspircd(tmp_path: Path) -> AsyncIterator[IrcServer]:
    """InspIRCd (echo-message) that lets a client send hundreds of lines a second."""
    async with inspircd_server(
        tmp_path / "inspircd",
        commandrate=1_000_000,
        threshold=1000,
        fakelag=False,
        recvq=65536,
        softsendq=1_048_576,
    ) as server:
        yield server


def indices(lines: list[str], pattern: str) -> list[int]:
    """The numbers of the burst lines (pattern has one group), in order received."""
    found = [re.fullmatch(pattern, line) for line in lines]
    return [int(m.group(1)) for m in found if m]


@pytest.mark.timeout(120)
@pytest.mark.slow
async def test_sigkill_mid_burst_both_ways_nothing_lost_nothing_twice(
    tmp_path: Path, fake_tg: FakeTelegram, fast_inspircd: IrcServer
) -> None:
    burst = 200
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        fast_inspircd,
        telegram={"request_timeout": 2, "messages_per_minute": 6000, "burst": 250},
        irc={"send_rate": 100.0, "send_burst": 10},
    )
    async with bridge_process(config) as bot:
        await bot.start()
        bob = await human(fast_inspircd, "bob", CHANNEL)
        bridged = from_bridge(CHANNEL)

        pushed = [fake_tg.push_text(GROUP, ALICE, f"t-{i:03d}") for i in range(burst)]
        for i in range(burst):
            bob.privmsg(CHANNEL, f"i-{i:03d}")
        # IRC has no replay: a line counts as accepted once the bridge stored it. Its answer
        # to a private "help", read after the burst, proves the burst is stored.
        bob.privmsg(BOT_NICK, "help")
        await bob.wait_for(
            lambda ln: (
                (ln.target or "").lower() == "bob" and (ln.source_nick or "").startswith(BOT_NICK)
            ),
            timeout=20,
            description="the bridge's answer to help",
        )
        # Crash while the Telegram queue waits out a 429 (nothing in flight there, every earlier
        # send confirmed); the in-flight IRC line is wherever it happens to be.
        fake_tg.fail_next("sendMessage", 1, "429", retry_after=30)
        await bot.wait_log(f"telegram {GROUP}: delivery failed", timeout=10)
        to_telegram = len(indices(telegram_lines(fake_tg), r"bob: i-(\d+)"))
        to_irc = sum(1 for ln in bob.lines if bridged(ln))
        assert 0 < to_telegram < burst and 0 < to_irc < burst, (to_telegram, to_irc)
        await bot.kill()

        restarted = asyncio.get_running_loop().time()
        await bot.start()
        await fake_tg.wait_confirmed(pushed[-1].update_id, timeout=20)
        await wait_telegram_lines(fake_tg, burst, timeout=30)
        lines: list[Line] = []  # every line the bridge wrote to the channel, both runs
        async with asyncio.timeout(30):
            while len({ln.text for ln in lines}) < burst:
                lines.append(await bob.wait_for(bridged, timeout=30))
        await bob.assert_no_line(bridged, within=1.5)

        # Telegram: every IRC line once, in order.
        assert indices(telegram_lines(fake_tg), r"bob: i-(\d+)") == list(range(burst))
        # IRC: every Telegram message once, in order, except that the one line in flight at
        # the crash may come again as the first line of the restarted bridge.
        got = indices([ln.text for ln in lines], re.escape(RELAY_PREFIX) + r"t-(\d+)")
        assert len(got) == len(lines)
        repeats = [k for k in range(1, len(got)) if got[k] == got[k - 1]]
        assert len(repeats) <= 1, got
        if repeats:
            k = repeats[0]
            assert lines[k - 1].received_at < restarted <= lines[k].received_at
            del got[k]
        assert got == list(range(burst))
        assert await bot.terminate() == 0
        await bob.close()


# ------------------------------------------------------------------------ horizon


@pytest.mark.slow
async def test_message_older_than_horizon_is_reported_not_delivered(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(
        tmp_path / "config.toml", fake_tg, ngircd, delivery={"horizon_hours": 0.001}
    )  # 3.6 s
    async with bridge_process(config) as bot:
        await bot.start()
        await ngircd.stop()
        await bot.wait_log("IRC: connection lost")
        old = fake_tg.push_text(GROUP, ALICE, "too old to matter")
        await fake_tg.wait_confirmed(old.update_id, timeout=10)
        await asyncio.sleep(4.0)  # let it age past the 3.6 s horizon

        bot.pause()
        await ngircd.start()
        bob = await human(ngircd, "bob", CHANNEL)
        bot.resume()
        summary = await bob.wait_for(
            lambda ln: ln.command == "NOTICE" and (ln.source_nick or "").startswith(BOT_NICK),
            timeout=15,
            description="the horizon summary",
        )
        assert summary.target == CHANNEL
        assert summary.text.startswith("1 message from the last 0.001 h was not delivered")
        await bot.wait_log("1 messages older than the horizon were not delivered")

        fake_tg.push_text(GROUP, ALICE, "fresh")
        [line] = await bob.expect_privmsgs(CHANNEL, 1, timeout=10)
        assert line.text == RELAY_PREFIX + "fresh"
        assert not [ln for ln in bob.lines if "too old" in ln.text]
        assert await bot.terminate() == 0
        await bob.close()


# ------------------------------------------------------------------------- status


async def test_status_shows_queues_and_connections(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with bridge_process(config) as bot:
        await bot.start()
        code, out, _ = await run_cli("status", "--config", str(config))
        assert code == 0
        assert "irc: ready" in out and "telegram: ready" in out and "all queues empty" in out

        await ngircd.stop()
        await bot.wait_log("IRC: connection lost")
        pushed = [fake_tg.push_text(GROUP, ALICE, f"queued {i}") for i in range(3)]
        await fake_tg.wait_confirmed(pushed[-1].update_id, timeout=10)
        code, out, err = await run_cli("status", "--config", str(config))
        assert code == 0, err
        assert re.search(r"^irc: (disconnected|connecting) \(as of \d+s ago\)$", out, re.M), out
        assert re.search(r"^telegram: ready \(as of \d+s ago\)$", out, re.M), out
        assert re.search(rf"^irc {CHANNEL}: 3 waiting, oldest \d+s ago$", out, re.M), out

        assert await bot.terminate() == 0  # messages for IRC stay queued for the next start
        code, out, err = await run_cli("status", "--config", str(config))
        assert code == 0, err
        assert re.search(r"^irc: stopped", out, re.M) and re.search(
            r"^telegram: stopped", out, re.M
        )
        assert re.search(rf"^irc {CHANNEL}: 3 waiting", out, re.M), out
