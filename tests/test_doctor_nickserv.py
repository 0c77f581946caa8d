"""`tgirc-bridge doctor` with irc.nickserv_password (issue 25, item 1: "the SASL or NickServ
login succeeds"): on InspIRCd + Atheme, the right password passes and a wrong one is named."""

from __future__ import annotations

from pathlib import Path

from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import BOT_NICK, CHANNEL, GROUP, write_config
from tests.support.irc_client import connect
from tests.support.proc_harness import run_cli
from tests.support.services import register_account, services_stack


async def doctor_identifying(tmp_path: Path, fake: FakeTelegram, password: str) -> tuple[int, str]:
    """Exit code and the doctor's IRC lines, BOT_NICK registered with "owner-pass-1"."""
    fake.chats[GROUP].administrators = [TgUser(1, "Owner"), fake.bot_user]
    fake.reads_all_group_messages = True
    async with services_stack(tmp_path / "irc") as stack:
        owner = await connect(stack.host, stack.port, BOT_NICK)
        await register_account(owner, "owner-pass-1")
        await owner.quit()
        irc = {"nickserv_password": password}
        config = write_config(tmp_path / "c.toml", fake, stack.ircd, irc=irc)
        code, out, err = await run_cli("doctor", "--config", str(config), "--timeout", "5")
    assert err == "" and password not in out
    return code, "\n".join(line for line in out.splitlines() if " irc: " in line)


async def test_nickserv_password_right(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    code, lines = await doctor_identifying(tmp_path, fake_tg, "owner-pass-1")
    assert lines.splitlines()[2:] == [
        f"✓ irc: NickServ login as {BOT_NICK} succeeds",
        f"✓ irc: {CHANNEL} can be joined",
    ]
    assert code == 0


async def test_nickserv_password_wrong(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    code, lines = await doctor_identifying(tmp_path, fake_tg, "not-the-pass")
    failed = lines.splitlines()[2]
    assert failed.startswith(f"✗ irc: NickServ refuses the login as {BOT_NICK} (")
    assert failed.endswith("): check irc.nickserv_password")
    assert code == 1
