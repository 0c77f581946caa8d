"""The running bridge sends the digest on its schedule (issue 22, item 3), from a task of
its own: the first one period after [digest] was first configured, not at once; a restart in
the middle of a period sends nothing extra; a restart after the period sends the one due."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from storage.db import Database
from tests.support.digest import ALICE, BOB, LIST, SECOND, add_member, digest_tables
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import ALICE as TG_ALICE
from tests.support.harness import (
    BOT_NICK,
    CHANNEL,
    GROUP,
    human,
    running_bridge,
    watching_logs,
    write_config,
)
from tests.support.ircd import IrcServer
from tests.support.roster import query
from tests.support.smtp import SmtpServer

EVERY_HOURS = 0.002
PERIOD = EVERY_HOURS * 3600  # 7.2 s


def config(tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer, smtp: SmtpServer) -> Path:
    path = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    with path.open("a", encoding="utf-8") as out:
        out.write("\n" + digest_tables(smtp, every_hours=EVERY_HOURS))
    return path


async def test_one_digest_a_period_across_restarts(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer, smtp: SmtpServer
) -> None:
    path = config(tmp_path, fake_tg, ngircd, smtp)
    with watching_logs() as logs:
        async with running_bridge(path) as bridge:
            await logs.wait_for("digest: every 0.002 h to")  # started: Alice is news
            await add_member(bridge.db, [ALICE], ["python", "rust"], listed=True)
            [started] = query(tmp_path, "SELECT started_at FROM digest_state")
            [mail] = await smtp.wait_mails(1, timeout=PERIOD + 10)
            arrived = time.time()
    assert arrived >= started[0] + PERIOD  # a period after the start, not at once
    assert mail.rcpt_tos == (LIST, SECOND) and mail.message["Subject"] == f"{CHANNEL}: 1 new member"
    assert "* Alice Liddell\n  Telegram: Alice Liddell (@alice_tg)\n" in mail.text

    # a restart in the middle of the next period: nothing new, so nothing is sent, and the
    # digest already sent is not sent again
    with watching_logs() as logs:
        async with running_bridge(path):
            await logs.wait_for("digest: nothing new since", timeout=PERIOD + 10)
    assert len(smtp.received) == 1

    # news while the bridge is off, and a restart in the middle of the period: the digest
    # comes at the period's end, neither at the restart nor skipped
    db = await Database.open(tmp_path / "bridge.sqlite3")
    try:
        await add_member(db, [BOB], ["go"], listed=True)
    finally:
        await db.close()
    [[last_at]] = query(tmp_path, "SELECT last_at FROM digest_state")
    assert time.time() < last_at + PERIOD
    async with running_bridge(path):
        mails = await smtp.wait_mails(2, timeout=PERIOD + 10)
        arrived = time.time()
    assert arrived >= last_at + PERIOD
    assert len(mails) == 2 and mails[1].message["Subject"] == f"{CHANNEL}: 1 new member"
    assert "* bobby\n" in mails[1].text and "Alice" not in mails[1].text


async def test_a_mail_server_that_never_answers_does_not_slow_the_relay(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    """The digest waits on a server that accepts and never says a word; meanwhile a message
    crosses as fast as ever, and the failure is a transient one, retried."""
    connected = asyncio.Event()
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        connected.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    path = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    with path.open("a", encoding="utf-8") as out:
        out.write(
            '\n[mail]\nhost = "127.0.0.1"\n'
            f'port = {port}\ntls = "none"\nfrom = "bridge@example.org"\ntimeout = 3\n'
            f'[digest]\nto = "{LIST}"\nevery_hours = 0.0005\n'
        )
    try:
        with watching_logs() as logs:
            async with running_bridge(path) as bridge:
                await logs.wait_for("digest: every 0.0005 h to")  # started: Alice is news
                await add_member(bridge.db, [ALICE], ["python"], listed=True)
                bob = await human(ngircd, "bob", CHANNEL)
                try:
                    await asyncio.wait_for(connected.wait(), 10)
                    sent = time.monotonic()
                    fake_tg.push_text(GROUP, TG_ALICE, "hello while the mail hangs")
                    [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
                    took = time.monotonic() - sent
                    assert line.text.endswith("hello while the mail hangs")
                    assert took < 1.0, took  # the digest's wait is 3 s per step
                    warning = await logs.wait_for("digest: not sent, trying again in 60 s")
                finally:
                    await bob.close()
        assert "timed out" in warning
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
