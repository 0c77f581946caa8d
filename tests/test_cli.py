"""The operator's commands: export, roster stats and status on a real database file."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.model import Network
from storage.db import Database
from storage.roster_model import Identity
from storage.roster_store import RosterStore
from tests.support.cli import CONFIG


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)

    async def populate() -> None:
        db = await Database.open(tmp_path / "roster.sqlite3")
        try:
            store = RosterStore(db)
            ann = Identity(Network.TELEGRAM, "42", "Ann", "ann", True)
            await store.join_with_interests(ann, ["python", "translation"], edit=False)
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


# ------------------------------------------- issue 9, case 18: no empty database, no clobbering


def exports_recorded(config: Path) -> int:
    with sqlite3.connect(config.parent / "roster.sqlite3") as conn:
        count: int = conn.execute("SELECT COUNT(*) FROM exports").fetchone()[0]
    return count


@pytest.mark.parametrize(
    "command", [["status"], ["roster", "stats"], ["export", "--format", "json"]]
)
def test_read_commands_on_a_missing_database_say_so_and_create_nothing(
    tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    assert main([*command, "--config", str(path)]) == 1
    captured = capsys.readouterr()
    [line] = captured.err.strip().splitlines()
    assert line == (
        f"error: storage.path {tmp_path / 'roster.sqlite3'}: no database there "
        "(the bridge creates it when it first runs)"
    )
    assert captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_export_refuses_a_directory_and_an_existing_file_unless_forced(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = ["export", "--config", str(config), "--format", "json", "-o"]
    folder = config.parent / "exports"
    folder.mkdir()
    assert main([*export, str(folder)]) == 1
    assert capsys.readouterr().err.strip() == f"error: {folder} is a directory; name a file"
    assert main([*export, str(folder), "--force"]) == 1
    assert "is a directory" in capsys.readouterr().err
    assert list(folder.iterdir()) == []

    existing = config.parent / "roster.json"
    existing.write_text("keep me")
    assert main([*export, str(existing)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"error: {existing} exists; add --force to replace it"
    )
    assert existing.read_text() == "keep me"
    assert exports_recorded(config) == 0  # refused exports are not recorded

    assert main([*export, str(existing), "--force"]) == 0
    [member] = json.loads(existing.read_text(encoding="utf-8"))
    assert member["display_name"] == "Ann"
    assert exports_recorded(config) == 1


def test_export_is_recorded_only_after_the_file_is_written(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = config.parent / "no-such-folder" / "roster.csv"
    assert main(["export", "--config", str(config), "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"error: cannot write {target} (No such file or directory)"
    assert not target.exists()
    assert exports_recorded(config) == 0


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which new files would be world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_022")
def test_export_and_database_files_are_readable_by_the_owner_only(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = config.parent / "roster.csv"
    assert main(["export", "--config", str(config), "-o", str(out)]) == 0
    assert mode(out) == 0o600
    out.chmod(0o644)
    assert main(["export", "--config", str(config), "-o", str(out), "--force"]) == 0
    assert mode(out) == 0o600

    fresh = config.parent / "fresh.sqlite3"

    async def check_open_database() -> None:
        db = await Database.open(fresh)
        try:
            await db.write("CREATE TABLE t (x)")  # a write, so -wal and -shm exist
            for name in (fresh.name, fresh.name + "-wal", fresh.name + "-shm"):
                assert mode(fresh.with_name(name)) == 0o600, name
        finally:
            await db.close()

    asyncio.run(check_open_database())

    db_file = config.parent / "roster.sqlite3"
    db_file.chmod(0o644)  # a database made before this rule is tightened when opened
    assert main(["status", "--config", str(config)]) == 0
    assert mode(db_file) == 0o600
