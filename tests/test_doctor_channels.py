"""`tgirc-bridge doctor` names why a channel cannot be joined (issue 25, item 1: "ban, +i, +k,
+r"), on InspIRCd: a key missing or wrong (the wrong key in no line) and a ban. +i is in
tests/test_doctor.py."""

from __future__ import annotations

from pathlib import Path

from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import CHANNEL, GROUP, human, write_config
from tests.support.ircd import inspircd_server
from tests.support.proc_harness import run_cli

KEY = "right-key-7"


async def doctor_on(
    tmp_path: Path, fake: FakeTelegram, mode: str, key: str | None
) -> tuple[int, str]:
    """Exit code and the doctor's last line, CHANNEL set to mode by its first member."""
    fake.chats[GROUP].administrators = [TgUser(1, "Owner"), fake.bot_user]
    fake.reads_all_group_messages = True
    async with inspircd_server(tmp_path / "ircd") as ircd:
        op = await human(ircd, "op", CHANNEL)  # first in: channel operator
        op.send_raw(f"MODE {CHANNEL} {mode}")
        await op.wait_command("MODE")
        config = write_config(tmp_path / "c.toml", fake, ircd)
        if key is not None:
            text = config.read_text()
            pair = f'irc_channel = "{CHANNEL}"\n'
            config.write_text(text.replace(pair, f'{pair}irc_key = "{key}"\n', 1))
        code, out, err = await run_cli("doctor", "--config", str(config), "--timeout", "5")
        await op.quit()
    assert err == ""
    if key is not None:
        assert key not in out
    return code, out.splitlines()[-1]


async def test_a_keyed_channel_without_the_key(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    code, last = await doctor_on(tmp_path, fake_tg, f"+k {KEY}", None)
    assert last == (
        f"✗ irc: cannot join {CHANNEL}: the key is wrong or missing (+k): set irc_key in its "
        "[[bridge]] table (475)"
    )
    assert code == 1


async def test_a_keyed_channel_with_a_wrong_key(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    code, last = await doctor_on(tmp_path, fake_tg, f"+k {KEY}", "wrong-key-8")
    assert last.startswith(f"✗ irc: cannot join {CHANNEL}: the key is wrong or missing (+k)")
    assert code == 1


async def test_a_keyed_channel_with_its_key(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    code, last = await doctor_on(tmp_path, fake_tg, f"+k {KEY}", KEY)
    assert (code, last) == (0, f"✓ irc: {CHANNEL} can be joined")


async def test_a_ban(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    code, last = await doctor_on(tmp_path, fake_tg, "+b *!*@*", None)
    assert last == (
        f"✗ irc: cannot join {CHANNEL}: the bot is banned (+b): lift the ban, or add a ban "
        "exception (+e) (474)"
    )
    assert code == 1
