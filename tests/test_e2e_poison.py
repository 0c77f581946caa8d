"""End to end: one input that makes the bridge fail is set aside, and the bridge goes on.

A Telegram update or an IRC line whose handling raises is logged with its update id or
line, stored in the set_aside table, counted by `tgirc-bridge status`, and confirmed: the
messages after it are relayed, and a restart does not meet it again.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.bridge_state import set_aside_entries, status
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    fail_on,
    human,
    running_bridge,
    watching_logs,
    write_config,
)
from tests.support.ircd import IrcServer

POISON_LOCATION = {"latitude": "north", "longitude": 2.0}
"""PTB takes any JSON value for a latitude; the translator formats it as a number."""


async def test_poison_update_is_set_aside_and_the_next_is_relayed(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    bob = await human(ngircd, "bob", CHANNEL)
    with watching_logs() as logs:
        async with running_bridge(config) as bridge:
            poison = fake_tg.push_message(GROUP, ALICE, location=POISON_LOCATION)
            fake_tg.push_text(GROUP, ALICE, "after the poison")
            [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert line.text == "<Alice Smith> after the poison"
            await logs.wait_for(f"telegram: {poison.update_id} set aside")
            assert f"Telegram: update {poison.update_id} could not be handled" in logs.lines
            assert "set aside: 1 " in await status(config)
        assert bridge.exit_code == 0
    [(network, reference, raw, error)] = await set_aside_entries(bridge.config.storage.path)
    assert (network, reference) == ("telegram", str(poison.update_id))
    assert json.loads(raw) == poison.update
    assert error.startswith("ValueError: ")

    # The poison was confirmed with the update after it: a restart does not meet it again.
    with watching_logs() as logs:
        async with running_bridge(config) as bridge:
            fake_tg.push_text(GROUP, ALICE, "second run")
            [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert line.text == "<Alice Smith> second run"
        assert bridge.exit_code == 0
    assert not logs.found("could not be handled")
    assert len(await set_aside_entries(bridge.config.storage.path)) == 1
    await bob.close()


async def test_irc_line_whose_handling_raises_is_set_aside_and_the_next_is_relayed(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    with watching_logs() as logs:
        async with running_bridge(config, wrap_router=fail_on("poison line")) as bridge:
            bob = await human(ngircd, "bob", CHANNEL)
            bob.privmsg(CHANNEL, "poison line")
            bob.privmsg(CHANNEL, "after it")
            [sent] = await fake_tg.wait_sent()
            assert sent.visible_text == "bob: after it"
            await logs.wait_for("irc: line set aside")
            [logged] = logs.found("IRC: failed to handle a message from bob: ")
            assert logged.endswith(f"PRIVMSG {CHANNEL} :poison line'")
            assert "set aside: 1 " in await status(config)
            await bob.close()
        assert bridge.exit_code == 0
    [(network, reference, raw, error)] = await set_aside_entries(bridge.config.storage.path)
    assert (network, reference) == ("irc", "line")
    assert raw.startswith(":bob!") and raw.endswith(f" PRIVMSG {CHANNEL} :poison line")
    assert error == "RuntimeError: injected router fault on 'poison line'"
