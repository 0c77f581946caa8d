"""Inputs set aside after an error: kept with their error, counted, bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import set_aside
from storage.db import Database
from storage.set_aside import SetAsideStore


async def test_set_aside_inputs_are_kept_newest_first_with_a_one_line_error(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    try:
        store = SetAsideStore(db, clock=lambda: 1000.0)
        await store.put("telegram", "42", '{"update_id": 42}', "KeyError: 'x'\nTraceback ...")
        await store.put("irc", "line", ":a!b@c PRIVMSG #c :\x01", "ValueError: bad")
        assert await store.count() == 2
        newest, oldest = await store.recent()
        assert (newest.network, newest.raw, newest.error) == (
            "irc",
            ":a!b@c PRIVMSG #c :\x01",
            "ValueError: bad",
        )
        assert (oldest.reference, oldest.error, oldest.created_at) == (
            "42",
            "KeyError: 'x'",
            1000.0,
        )
    finally:
        await db.close()


async def test_set_aside_keeps_only_the_newest_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(set_aside, "KEEP", 3)  # the bound under test, made small
    db = await Database.open(tmp_path / "db.sqlite3")
    try:
        store = SetAsideStore(db)
        for n in range(5):
            await store.put("telegram", str(n), "{}", "boom")
        assert [e.reference for e in await store.recent()] == ["4", "3", "2"]
    finally:
        await db.close()
