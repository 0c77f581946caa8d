"""End to end: an update python-telegram-bot cannot parse is poison input like any other
(issue 21, item 10): set aside with its raw JSON, counted by `tgirc-bridge status`, and the
message after it is relayed."""

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
    human,
    running_bridge,
    watching_logs,
    write_config,
)
from tests.support.ircd import IrcServer

PHOTO_AS_OBJECT = {"file_id": "AgADBAAD", "file_unique_id": "AQAD", "width": 90, "height": 60}
"""A photo is a list of sizes: given one object instead, PTB's PhotoSize.de_list raises."""


async def test_an_update_ptb_cannot_parse_is_set_aside_with_its_json_and_counted(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    bob = await human(ngircd, "bob", CHANNEL)
    with watching_logs() as logs:
        async with running_bridge(config) as bridge:
            bad = fake_tg.push_message(GROUP, ALICE, photo=PHOTO_AS_OBJECT, caption="odd")
            fake_tg.push_text(GROUP, ALICE, "after the odd one")
            [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert line.text == "<Alice Smith> after the odd one"
            await logs.wait_for(f"telegram: {bad.update_id} set aside")
            assert f"Telegram: update {bad.update_id} could not be handled" in logs.lines
            assert "set aside: 1 input(s)" in await status(config)
        assert bridge.exit_code == 0
    [(network, reference, raw, error)] = await set_aside_entries(Path(bridge.config.storage.path))
    assert (network, reference) == ("telegram", str(bad.update_id))
    assert json.loads(raw) == bad.update
    assert error == (
        "UnreadableUpdate: python-telegram-bot cannot parse it (TypeError: "
        "telegram._files.photosize.PhotoSize() argument after ** must be a mapping, not str)"
    )
    await bob.close()
