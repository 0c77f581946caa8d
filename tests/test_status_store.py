"""What `tgirc-bridge status` reads: the running bridge's status, stored as data by
storage/status.py and printed by the CLI with the same words as before."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.cli import main
from storage.db import Database
from storage.status import UNKNOWN, BridgeStatus, ConnectionStatus, StatusStore

CONFIG = """\
[telegram]
token = "1:abc"
[irc]
host = "127.0.0.1"
nick = "bridge"
[[bridge]]
telegram_chat = -1001
irc_channel = "#bridge"

[storage]
path = "status.sqlite3"
"""

RUNNING = BridgeStatus(
    irc=ConnectionStatus("connecting", 1_733_000_000.0),
    telegram=ConnectionStatus("ready", 1_733_000_001.5),
    irc_channels=(("#zeta", "joined"), ("#alpha", "refused: banned (474), retry in 60s")),
    waiting_topics=(("-1001/16", "topic closed"),),
)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[StatusStore]:
    db = await Database.open(tmp_path / "status.sqlite3")
    try:
        yield StatusStore(db)
    finally:
        await db.close()


async def test_a_fresh_database_knows_nothing(store: StatusStore) -> None:
    assert await store.read() == BridgeStatus(UNKNOWN, UNKNOWN, (), ())


async def test_what_is_written_is_read_back_in_its_order(store: StatusStore) -> None:
    await store.write(RUNNING)
    assert await store.read() == RUNNING
    fewer = BridgeStatus(ConnectionStatus("ready", 5.0), ConnectionStatus("ready", 5.0))
    await store.write(fewer)  # a channel no longer bridged is gone
    assert await store.read() == fewer


async def test_stopped_keeps_the_waiting_topics(store: StatusStore) -> None:
    await store.write(RUNNING)
    await store.stopped(1_733_000_100.0)
    stopped = ConnectionStatus("stopped", 1_733_000_100.0)
    assert await store.read() == BridgeStatus(
        stopped, stopped, irc_channels=(), waiting_topics=RUNNING.waiting_topics
    )


def test_the_cli_prints_the_stored_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    now = time.time()

    async def write() -> None:
        db = await Database.open(tmp_path / "status.sqlite3")
        try:
            await StatusStore(db).write(
                BridgeStatus(
                    irc=ConnectionStatus("connecting", now - 30.2),
                    telegram=ConnectionStatus("ready", now - 3.1),
                    irc_channels=RUNNING.irc_channels,
                    waiting_topics=RUNNING.waiting_topics,
                )
            )
        finally:
            await db.close()

    asyncio.run(write())
    assert main(["status", "--config", str(config)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "irc: connecting (as of 30s ago)",
        "telegram: ready (as of 3s ago)",
        "irc channel #zeta: joined",
        "irc channel #alpha: refused: banned (474), retry in 60s",
        "telegram topic -1001/16: refuses messages, which wait: topic closed",
        "set aside: 0 input(s) the bridge could not handle (table set_aside)",
        "asks: 0 made; recipients notified 0 now, 0 later; 0 waiting; 0 expired",
        "nudges: 0 sent (telegram 0, irc 0); 0 unreachable; 0 members lapsed",
        "all queues empty",
    ]


def test_the_cli_says_unknown_before_a_bridge_wrote_its_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)

    async def create() -> None:
        db = await Database.open(tmp_path / "status.sqlite3")
        await db.close()

    asyncio.run(create())
    assert main(["status", "--config", str(config)]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == ["irc: unknown", "telegram: unknown"]
