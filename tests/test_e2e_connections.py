"""End to end: how the bridge connects — TLS, server password, SASL, bad tokens, odd updates."""

from __future__ import annotations

import asyncio
import base64
import logging
from pathlib import Path

import pytest

from bridge.app import App
from bridge.config import load_config
from storage.db import Database
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    human,
    running_bridge,
    write_config,
)
from tests.support.ircd import IrcServer, ngircd_server, self_signed_cert
from tests.support.ports import free_port


async def test_tls_with_verification(
    tmp_path: Path, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    cert, key = self_signed_cert(tmp_path / "tls")
    async with ngircd_server(tmp_path / "ircd", tls_cert=(cert, key)) as ircd:
        trusted = write_config(
            tmp_path / "trusted.toml", fake_tg, ircd, irc={"tls": True, "tls_ca_file": str(cert)}
        )
        async with running_bridge(trusted) as bridge:
            assert bridge.app.irc.is_joined(CHANNEL)
        untrusted = write_config(tmp_path / "untrusted.toml", fake_tg, ircd, irc={"tls": True})
        with pytest.raises(TimeoutError):
            async with running_bridge(untrusted, timeout=3):
                pass
    rejected = [r for r in caplog.records if "TLS certificate rejected" in r.getMessage()]
    assert rejected and rejected[0].levelname == "ERROR"


async def test_server_password(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    async with ngircd_server(tmp_path / "ircd", password="letmein") as ircd:
        config = write_config(tmp_path / "c.toml", fake_tg, ircd, irc={"password": "letmein"})
        async with running_bridge(config) as bridge:
            assert bridge.app.irc.is_joined(CHANNEL)


async def test_sasl_plain_exchange(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    """A scripted server: our Debian IRC servers cannot do SASL without a services daemon."""
    seen: list[str] = []
    done = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def send(line: str) -> None:
            writer.write(f"{line}\r\n".encode())

        while not reader.at_eof():
            raw = await reader.readline()
            line = raw.decode().rstrip("\r\n")
            seen.append(line)
            if line.startswith("CAP LS"):
                send(":srv CAP * LS :sasl multi-prefix")
            elif line.startswith("CAP REQ"):
                send(f":srv CAP * ACK :{line.split(':', 1)[1]}")
            elif line == "AUTHENTICATE PLAIN":
                send("AUTHENTICATE +")
            elif line.startswith("AUTHENTICATE "):
                send(f":srv 900 {BOT_NICK} {BOT_NICK}!u@h acct :You are now logged in as acct")
                send(f":srv 903 {BOT_NICK} :SASL authentication successful")
            elif line == "CAP END":
                send(f":srv 001 {BOT_NICK} :Welcome {BOT_NICK}!u@h")
                send(f":srv 376 {BOT_NICK} :End of MOTD")
            elif line.startswith("JOIN"):
                send(f":{BOT_NICK}!u@h JOIN {CHANNEL}")
                done.set()
            await writer.drain()
        writer.close()

    port = free_port()
    server = await asyncio.start_server(serve, "127.0.0.1", port)
    fake_ircd = IrcServer.__new__(IrcServer)
    fake_ircd.host, fake_ircd.port = "127.0.0.1", port
    config = write_config(
        tmp_path / "c.toml",
        fake_tg,
        fake_ircd,
        irc={"sasl_username": "acct", "sasl_password": "pa ss"},
    )
    try:
        async with running_bridge(config):
            await asyncio.wait_for(done.wait(), 5)
    finally:
        server.close()
        await server.wait_closed()
    commands = [line.split(" ", 1)[0] for line in seen]
    assert commands.index("CAP") < commands.index("NICK")  # CAP LS before registration
    assert "CAP REQ :multi-prefix sasl" in seen
    blob = next(line for line in seen if line.startswith("AUTHENTICATE ") and "PLAIN" not in line)
    assert base64.b64decode(blob.split(" ", 1)[1]) == b"acct\0acct\0pa ss"
    assert seen.index("CAP END") > seen.index(blob)


async def test_wrong_token_is_one_clear_line(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_config(tmp_path / "c.toml", fake_tg, ngircd, telegram={"token": "999:wrong"})
    config = load_config(path)
    db = await Database.open(config.storage.path)
    try:
        with caplog.at_level(logging.DEBUG):
            assert await asyncio.wait_for(App(config, db).run(), 10) == 1
    finally:
        await db.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["telegram.token: rejected by the Bot API (Unauthorized); check the token"]


async def test_polling_survives_faults_and_odd_updates(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "c.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        assert fake_tg.allowed_updates == ["message", "edited_message", "message_reaction"]
        fake_tg.fail_next("getUpdates", 2, "502")
        fake_tg.push_update({"update_id": 5000, "message": {"message_id": "not a number"}})
        fake_tg.push_message(GROUP, ALICE, dice={"emoji": "🎲", "value": 4})
        fake_tg.push_message(GROUP, ALICE, new_chat_title="renamed")  # nothing to relay
        fake_tg.push_text(GROUP, ALICE, "after the odd ones")
        lines = await bob.expect_privmsgs(CHANNEL, 2, timeout=20, source_nick=BOT_NICK)
        assert [ln.text for ln in lines] == [
            "<Alice Smith> [dice 🎲 4]",
            "<Alice Smith> after the odd ones",
        ]
        await bob.close()
