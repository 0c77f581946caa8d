"""The services stack the identity tests rely on: accounts, SASL, account tags for real."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

from tests.support.irc_client import connect
from tests.support.services import logout, register_account, services_stack

CAPS = ("account-tag", "account-notify", "extended-join", "sasl", "message-tags")


async def test_registered_nick_speaks_with_its_account_and_logout_is_announced(
    tmp_path: Path,
) -> None:
    async with services_stack(tmp_path) as stack:
        watcher = await connect(stack.host, stack.port, "watcher", caps=CAPS)
        alice = await connect(stack.host, stack.port, "alice")
        await register_account(alice, "correct-horse-battery")
        await watcher.join("#room")
        await alice.join("#room")
        alice.privmsg("#room", "hello as alice")
        said = await watcher.wait_for(
            lambda ln: ln.command == "PRIVMSG" and ln.text == "hello as alice"
        )
        assert said.tags.get("account") == "alice"
        await logout(alice)
        gone = await watcher.wait_for(
            lambda ln: ln.command == "ACCOUNT" and ln.source_nick == "alice"
        )
        assert gone.params == ("*",)
        alice.privmsg("#room", "logged out now")
        said = await watcher.wait_for(
            lambda ln: ln.command == "PRIVMSG" and ln.text == "logged out now"
        )
        assert "account" not in said.tags
        for client in (watcher, alice):
            await client.close()


async def test_sasl_plain_logs_in_before_registration(tmp_path: Path) -> None:
    async with services_stack(tmp_path) as stack:
        owner = await connect(stack.host, stack.port, "bob")
        await register_account(owner, "s3cret-pass")
        await owner.quit()
        reader, writer = await asyncio.open_connection(stack.host, stack.port)
        blob = base64.b64encode(b"bob\0bob\0s3cret-pass").decode()
        writer.write(b"CAP REQ :sasl\r\nNICK bobsasl\r\nUSER b 0 * :b\r\n")
        seen: list[str] = []
        try:
            async with asyncio.timeout(10):
                while not any(" 903 " in line for line in seen):
                    line = (await reader.readline()).decode(errors="replace")
                    assert line, f"closed; saw {seen}"
                    seen.append(line)
                    if " ACK " in line:
                        writer.write(b"AUTHENTICATE PLAIN\r\n")
                    elif line.split()[-2:] in (["AUTHENTICATE", "+"], ["AUTHENTICATE", ":+"]):
                        writer.write(f"AUTHENTICATE {blob}\r\n".encode())
        except TimeoutError:
            raise AssertionError(seen) from None
        assert any(" 900 " in line and " bob " in line for line in seen), seen
        writer.write(b"CAP END\r\n")
        writer.close()
