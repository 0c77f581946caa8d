"""A database another process holds locked (a backup, an operator's sqlite3 shell) slows the
bridge down: writes wait and are tried again, nothing is dropped and nothing stops."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import db as db_module
from storage.db import Database, StorageError
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    human,
    noting,
    running_bridge,
    watching_logs,
    write_config,
)
from tests.support.ircd import IrcServer

BUSY = 0.3
"""SQLite's own wait for a lock, made short so a test holds the lock longer than it quickly."""
BUSY_LOG = "another process holds the write lock"


@pytest.fixture(autouse=True)
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", int(BUSY * 1000))


@contextlib.contextmanager
def write_locked(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's write transaction on the database, held for the block."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield other
        other.execute("COMMIT")
    finally:
        other.close()


async def test_writes_wait_for_another_process_lock_longer_than_busy_timeout(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    try:
        await db.write("CREATE TABLE t (x)")
        with watching_logs() as logs, write_locked(db.path):
            writes = asyncio.gather(
                db.write("INSERT INTO t VALUES (1)"),
                _in_transaction(db, 2),
                _in_autocommit(db, 3),
            )
            await logs.wait_for(BUSY_LOG)  # SQLite gave up once already: we try again
            await asyncio.sleep(2 * BUSY)  # and keep the lock a while longer
            assert not writes.done()
        await asyncio.wait_for(writes, 10)
        assert [r[0] for r in await db.fetchall("SELECT x FROM t ORDER BY x")] == [1, 2, 3]
    finally:
        await db.close()


async def _in_transaction(db: Database, value: int) -> None:
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO t VALUES (?)", (value,))


async def _in_autocommit(db: Database, value: int) -> None:
    async with db.autocommit() as conn:
        await conn.execute_fetchall("INSERT INTO t VALUES (?) RETURNING x", (value,))


async def test_a_lock_held_for_too_long_is_a_storage_error_naming_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "WRITE_RETRY_SECONDS", 1.0)
    db = await Database.open(tmp_path / "db.sqlite3")
    try:
        with write_locked(db.path), pytest.raises(StorageError) as raised:
            await asyncio.wait_for(db.write("CREATE TABLE t (x)"), 10)
        assert str(raised.value).startswith(f"storage.path {db.path}: database is locked")
        await db.write("CREATE TABLE t (x)")  # the lock is gone: writing works again
    finally:
        await db.close()


async def test_messages_met_by_a_locked_database_are_relayed_once_it_is_free(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    routing: asyncio.Queue[str] = asyncio.Queue()
    with watching_logs() as logs:
        async with running_bridge(config, wrap_router=noting(routing, before=True)) as bridge:
            bob = await human(ngircd, "bob", CHANNEL)
            with write_locked(bridge.config.storage.path):
                bob.privmsg(CHANNEL, "said while the database is locked")
                pushed = fake_tg.push_text(GROUP, ALICE, "written while it is locked")
                routed = {await asyncio.wait_for(routing.get(), 10) for _ in range(2)}
                assert routed == {
                    "said while the database is locked",
                    "written while it is locked",
                }
                await logs.wait_for(BUSY_LOG)
                await asyncio.sleep(3 * BUSY)  # held well past SQLite's own wait
                assert not fake_tg.sent
            [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert line.text == "<Alice Smith> written while it is locked"
            [sent] = await fake_tg.wait_sent()
            assert sent.visible_text == "bob: said while the database is locked"
            await fake_tg.wait_confirmed(pushed.update_id)
            assert not bridge.task.done()
            await bob.close()
        assert bridge.exit_code == 0
    assert not logs.found("failed to handle") and not logs.found("could not be handled")
