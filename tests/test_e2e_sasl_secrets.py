"""The SASL password stays out of the DEBUG log when the bridge really logs in with SASL
(issue 9, case 17, end to end): InspIRCd linked to Atheme, the bridge run as a subprocess.
"""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import quote, quote_plus

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import BOT_NICK, write_config
from tests.support.irc_client import connect
from tests.support.proc_harness import bridge_process
from tests.support.services import register_account, services_stack

PASSWORD = "Sasl+Pass/word=42&x"


async def test_sasl_login_leaves_no_password_in_the_debug_log(
    tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    async with services_stack(tmp_path / "irc") as stack:
        owner = await connect(stack.host, stack.port, BOT_NICK)
        await register_account(owner, PASSWORD)
        await owner.quit()
        config = write_config(
            tmp_path / "config.toml",
            fake_tg,
            stack.ircd,
            irc={"sasl_username": BOT_NICK, "sasl_password": PASSWORD},
        )  # logging.level is DEBUG in test configs
        async with bridge_process(config) as bridge:
            await bridge.start()
            assert await bridge.terminate() == 0
    log = (tmp_path / "bridge.log").read_text(encoding="utf-8")
    assert "AUTHENTICATE PLAIN" in log and "AUTHENTICATE ***" in log
    assert " 903 " in log, log  # logged in for real: the redacted line was the password
    blob = f"{BOT_NICK}\0{BOT_NICK}\0{PASSWORD}".encode()
    forms = [
        PASSWORD,
        quote(PASSWORD, safe=""),
        quote_plus(PASSWORD),
        base64.b64encode(PASSWORD.encode()).decode(),
        base64.b64encode(blob).decode(),
    ]
    assert [form for form in forms if form in log] == []
