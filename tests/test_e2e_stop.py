"""SIGTERM at any moment ends the bridge process within delivery.shutdown_grace + 5 s, exit 0:
also while Telegram is unreachable at start-up and while a Telegram request hangs."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import CHANNEL, GROUP, human, running_bridge, write_config
from tests.support.ircd import IrcServer
from tests.support.proc_harness import bridge_process, run_cli

GRACE = 2.0
BOUND = GRACE + 5.0


@pytest.mark.parametrize("outage", ["down", "hang", "502"])
async def test_sigterm_while_telegram_is_unreachable_at_start(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer, outage: str
) -> None:
    config = write_config(
        tmp_path / "config.toml", fake_tg, ngircd, delivery={"shutdown_grace": GRACE}
    )
    if outage == "down":
        await fake_tg.stop()
    elif outage == "hang":
        fake_tg.fail_next("getMe", 100, "hang", hang_seconds=60)
    else:
        fake_tg.fail_next("getMe", 100, "502")
    async with bridge_process(config) as bot:
        await bot.start(wait_ready=False)
        if outage == "hang":
            await fake_tg.wait_call("getMe")
        else:
            await bot.wait_log("Telegram unreachable", timeout=15)
        started = time.monotonic()
        assert await bot.terminate(timeout=BOUND) == 0
        assert time.monotonic() - started <= BOUND


async def test_sigterm_while_a_telegram_request_hangs(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    # A request timeout longer than the bound: the message on the wire is cut off at the
    # deadline and kept for the next start, not waited for.
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        telegram={"request_timeout": 15},
        delivery={"shutdown_grace": GRACE},
    )
    async with bridge_process(config) as bot:
        await bot.start()
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.fail_next("sendMessage", 100, "hang", hang_seconds=60)
        bob.privmsg(CHANNEL, "on the wire when the bridge stops")
        await fake_tg.wait_call("sendMessage")
        started = time.monotonic()
        assert await bot.terminate(timeout=BOUND) == 0
        assert time.monotonic() - started <= BOUND
        await bob.close()
    code, out, err = await run_cli("status", "--config", str(config))
    assert code == 0, err
    assert re.search(rf"^telegram {GROUP}: 1 waiting", out, re.M), out


async def test_stop_still_delivers_to_telegram_within_the_grace(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    # The Telegram client stays open until the queues had their grace: a line waiting out a
    # 429 when the stop comes is delivered, not left for the next start.
    config = write_config(
        tmp_path / "config.toml", fake_tg, ngircd, delivery={"shutdown_grace": GRACE}
    )
    async with running_bridge(config) as bridge:
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.fail_next("sendMessage", 1, "429", retry_after=1)
        bob.privmsg(CHANNEL, "queued when the stop comes")
        await fake_tg.wait_call("sendMessage")
        assert await bridge.stop() == 0
        await bob.close()
    assert [m.visible_text for m in fake_tg.sent] == ["bob: queued when the stop comes"]
