"""End to end: while a forum topic is closed its messages are retried every TOPIC_RECHECK
seconds, and the warning is logged once per closing, not at every retry (issue 21, item
10); a reopen and a second closing log it once more."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import ALICE, LogWatch, human, running_bridge, watching_logs
from tests.support.ircd import IrcServer
from tests.support.topics import FORUM, in_topic, topic_config


def warnings_about(watch: LogWatch, key: str) -> list[str]:
    return [
        r.getMessage()
        for r in watch.records
        if r.levelno >= logging.WARNING and key in r.getMessage()
    ]


async def test_a_closed_topic_is_logged_once_per_closing_however_often_it_is_retried(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bridge.telegram.delivery.TOPIC_RECHECK", 0.2)  # instead of 5 minutes
    fake_tg.add_chat(FORUM, title="Forum", is_forum=True)
    topic = fake_tg.create_topic(FORUM, "Shut", ALICE)
    key = f"{FORUM}/{topic}"
    retried = f"telegram {key}: delivery failed (Topic_closed)"
    warning = (
        f"Telegram topic {key} refuses messages (Topic_closed): they wait for it, are tried "
        "again every 0s or when it is reopened, and see `tgirc-bridge status`"
    )
    config = topic_config(tmp_path / "config.toml", fake_tg, ngircd, [(FORUM, topic, "#shut")])
    bob = await human(ngircd, "bob", "#shut")
    try:
        with watching_logs() as watch:
            async with running_bridge(config):
                for closing, text in enumerate(["anyone?", "still closed?"], start=1):
                    shut = fake_tg.close_topic(FORUM, topic, ALICE)
                    await fake_tg.wait_confirmed(shut.update_id)
                    bob.privmsg("#shut", text)
                    await watch.wait_for(retried, count=len(watch.found(retried)) + 5)
                    assert warnings_about(watch, key) == [warning] * closing

                    fake_tg.reopen_topic(FORUM, topic, ALICE)
                    [late] = await fake_tg.wait_sent(in_topic(topic))
                    assert late.visible_text == f"bob: {text}"
        assert warnings_about(watch, key) == [warning, warning]
    finally:
        await bob.close()
