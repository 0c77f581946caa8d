"""A second bridge on the same bot token (its own database, so the lock file cannot see it):
Telegram answers the older of two overlapping long polls 409 Conflict. The newcomer refuses
to run with one line naming the cause; the bridge that was there first keeps bridging and
says once what happened."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bridge.telegram import polling
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    human,
    running_bridge,
    watching_logs,
    write_config,
)
from tests.support.ircd import IrcServer
from tests.support.proc_harness import bridge_process

CAUSE = "another bridge or bot is polling Telegram with this token"


async def test_second_instance_on_the_same_token_refuses_and_the_first_goes_on(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first bridge has polled for longer than the start-up window (made short here).
    monkeypatch.setattr(polling, "STARTUP_WINDOW", 0.0)
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = write_config(tmp_path / "first" / "config.toml", fake_tg, ngircd)
    second = write_config(
        tmp_path / "second" / "config.toml", fake_tg, ngircd, irc={"nick": "secondbridge"}
    )
    bob = await human(ngircd, "bob", CHANNEL)
    with watching_logs() as logs:
        async with running_bridge(first) as bridge:
            pushed = fake_tg.push_text(GROUP, ALICE, "before the second one")
            await fake_tg.wait_confirmed(pushed.update_id)
            async with bridge_process(second) as other:
                await other.start(wait_ready=False)
                assert await other.wait_exit(timeout=30) == 1
                [refusal] = [ln for ln in other.lines if ln.split(" ")[2:3] == ["ERROR"]]
                assert refusal.endswith(
                    f"telegram.token: {CAUSE} (getUpdates: 409 Conflict, Conflict: terminated "
                    "by other getUpdates request; make sure that only one bot instance is "
                    "running); run one instance per bot token"
                )
            fake_tg.push_text(GROUP, ALICE, "after the second one gave up")
            lines = await bob.expect_privmsgs(CHANNEL, 2, source_nick=BOT_NICK)
            assert [ln.text for ln in lines] == [
                "<Alice Smith> before the second one",
                "<Alice Smith> after the second one gave up",
            ]
            assert not bridge.task.done()
        assert bridge.exit_code == 0
    assert not [
        ln for ln in bob.lines if ln.source_nick == "secondbridge" and ln.command == "PRIVMSG"
    ]
    errors = [r for r in logs.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and CAUSE in errors[0].getMessage()
    assert "keeps polling" in errors[0].getMessage()
    await bob.close()
