"""The operator's commands: export, roster stats and status on a real database file."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.model import Network
from storage.db import Database
from storage.roster_store import Identity, RosterStore
from tests.test_config import MINIMAL

CONFIG = MINIMAL + '[storage]\npath = "roster.sqlite3"\n'


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The CLI configures the root logger for its process; give pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)

    async def populate() -> None:
        db = await Database.open(tmp_path / "roster.sqlite3")
        try:
            store = RosterStore(db)
            member, _ = await store.join(Identity(Network.TELEGRAM, "42", "Ann", "ann", True))
            await store.set_interests(member.id, ["python", "translation"])
        finally:
            await db.close()

    asyncio.run(populate())
    return path


def test_export_csv_and_json_are_recorded(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = config.parent / "roster.csv"
    assert main(["export", "--config", str(config), "--format", "csv", "-o", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(r["display_name"], r["telegram_id"], r["interests"]) for r in rows] == [
        ("Ann", "42", "python;translation")
    ]
    assert main(["export", "--config", str(config), "--format", "json"]) == 0
    [member] = json.loads(capsys.readouterr().out)
    assert member["interests"] == ["python", "translation"]
    with sqlite3.connect(config.parent / "roster.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM exports").fetchone() == (2,)


def test_roster_stats_and_status(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["roster", "stats", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "members: 1" in out and "python: 1" in out
    assert main(["status", "--config", str(config)]) == 0
    assert "all queues empty" in capsys.readouterr().out


@pytest.fixture
def unwritable(tmp_path: Path) -> Path:
    """A config whose storage.path lies under a file, where no folder can be made."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.replace("roster.sqlite3", str(blocker / "db.sqlite3")))
    return path


def test_unwritable_database_is_one_clear_line(
    unwritable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--config", str(unwritable)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: storage.path")


def test_run_with_an_unwritable_database_fails_at_once_with_one_clear_line(
    unwritable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--config", str(unwritable)]) != 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "storage.path" in line]
    assert len(lines) == 1 and "cannot create folder" in lines[0]
    assert "Traceback" not in err
