"""Schema migrations: numbered without gaps, and an older database upgrades in place."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from bridge.model import Network
from storage.db import Database
from storage.migrate import apply_migrations, migration_scripts
from storage.roster_model import Identity
from storage.roster_store import RosterStore


def test_migrations_are_numbered_without_gaps() -> None:
    scripts = migration_scripts()
    assert [v for v, _, _ in scripts] == list(range(1, len(scripts) + 1))
    assert any(name == "0002_roster.sql" for _, name, _ in scripts)


async def user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_database_at_version_1_migrates_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await apply_migrations(conn, target=1) == 1
        await conn.execute("INSERT INTO state (key, value) VALUES ('telegram_offset', '42')")
        await conn.execute(
            "INSERT INTO message_map VALUES ('telegram', '-1001', '7', 'alice', 'hi', 1.0)"
        )
        async with conn.execute("SELECT name FROM sqlite_master WHERE name = 'members'") as cur:
            assert await cur.fetchone() is None

    db = await Database.open(path)
    try:
        assert await user_version(db.conn) == len(migration_scripts())
        async with db.conn.execute("SELECT value FROM state WHERE key = 'telegram_offset'") as cur:
            row = await cur.fetchone()
        assert row is not None and row[0] == "42"
        store = RosterStore(db)
        ann = Identity(Network.TELEGRAM, "1", "Ann", None, True)
        _, created = await store.join_with_interests(ann, ["python"], edit=False)
        assert created
        assert (await store.find_by_interest("py")).total == 1
    finally:
        await db.close()

    db = await Database.open(path)  # reopening applies nothing twice
    try:
        assert await user_version(db.conn) == len(migration_scripts())
        assert (await RosterStore(db).stats()).member_count == 1
    finally:
        await db.close()


async def test_roster_at_version_2_gets_tag_counts_and_shared_prefixes(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await apply_migrations(conn, target=2) == 2
        tags = {1: ["rust", "go"], 2: ["godot", "go-game", "go"], 3: ["godot"], 4: ["go"]}
        for member_id, listed in tags.items():
            await conn.execute("INSERT INTO members VALUES (?, 1.0)", (member_id,))
            await conn.execute(
                "INSERT INTO identities (member_id, network, key, display_name, name_fold, "
                "verified, created_at, updated_at) VALUES (?, 'telegram', ?, ?, ?, 1, 1.0, 1.0)",
                (member_id, str(member_id), f"m{member_id}", f"m{member_id}"),
            )
            await conn.executemany(
                "INSERT INTO interests (member_id, tag, position) VALUES (?, ?, ?)",
                [(member_id, tag, i) for i, tag in enumerate(listed)],
            )

    db = await Database.open(path)
    try:
        store = RosterStore(db)
        search = await store.find_by_interest("go")
        assert search.total == 4  # member 2 lists three tags starting with "go"
        assert [(h.member.id, h.exact) for h in search.hits] == [
            (2, True),
            (4, True),
            (1, True),
            (3, False),
        ]
        assert (await store.stats()).top_interests == (
            ("go", 3),
            ("godot", 2),
            ("go-game", 1),
            ("rust", 1),
        )
        member_2 = Identity(Network.TELEGRAM, "2", "m2", None, True)
        await store.join_with_interests(member_2, ["rust"], edit=False)
        assert (await store.find_by_interest("go")).total == 3
        assert (await store.stats()).top_interests[:2] == (("go", 2), ("rust", 2))
    finally:
        await db.close()


async def test_database_runs_in_wal_mode(tmp_path: Path) -> None:
    """WAL: readers (status, export) never block the bridge's writes, and the reverse."""
    db = await Database.open(tmp_path / "wal.sqlite3")
    try:
        assert [tuple(r) for r in await db.fetchall("PRAGMA journal_mode")] == [("wal",)]
    finally:
        await db.close()


async def test_cascade_needs_foreign_keys_on(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "fk.sqlite3")
    try:
        async with db.conn.execute("PRAGMA foreign_keys") as cur:
            row = await cur.fetchone()
        assert row is not None and row[0] == 1
        store = RosterStore(db)
        x = Identity(Network.IRC, "account:x", "x", "x", True)
        member, _ = await store.join(x)
        await store.join_with_interests(x, ["a", "b"], edit=False)
        async with db.transaction() as conn:
            await conn.execute("DELETE FROM members WHERE id = ?", (member.id,))
        for table in ("identities", "interests"):
            async with db.conn.execute(f"SELECT COUNT(*) FROM {table}") as cur:  # noqa: S608
                row = await cur.fetchone()
            assert row is not None and row[0] == 0
    finally:
        await db.close()


async def test_tag_search_uses_the_index(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "plan.sqlite3")
    try:
        async with db.conn.execute(
            "EXPLAIN QUERY PLAN SELECT member_id FROM interests WHERE tag >= ? AND tag < ?",
            ("py", "pz"),
        ) as cur:
            plan = " ".join(str(r[3]) for r in await cur.fetchall())
        assert "interests_tag" in plan
    finally:
        await db.close()
