"""The one aiosqlite connection of the process: WAL, foreign keys, explicit transactions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from storage.migrate import apply_migrations

log = logging.getLogger(__name__)


class StorageError(Exception):
    """The database cannot be opened or written; the message names the path."""


def ensure_folder(path: Path) -> None:
    """Create the database's folder (for the database and its lock file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"storage.path {path}: cannot create folder ({exc.strerror})") from None


def prepare_file(path: Path, *, create: bool) -> None:
    """Refuse a missing database unless creating; create it owner-only (SQLite would use the
    umask's mode, usually 0644) and tighten an existing one."""
    if not create and not path.exists():
        raise StorageError(
            f"storage.path {path}: no database there (the bridge creates it when it first runs)"
        )
    ensure_folder(path)
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StorageError(
                f"storage.path {path}: cannot create database ({exc.strerror})"
            ) from None
    owner_only(path)


def owner_only(path: Path) -> None:
    """The database holds people's names and ids: readable by its owner only. A new file is
    created 0600, and SQLite gives -wal/-shm the database file's mode; files made looser
    (by hand, or before this rule) are tightened."""
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        file = path.with_name(name)
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & 0o077:
                file.chmod(mode & 0o700)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("%s is readable by others and cannot be changed (%s)", file, exc.strerror)


class Database:
    """Owns the connection; every write goes through transaction() so a crash leaves no half."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, create: bool = True) -> Database:
        """Open, set PRAGMAs and migrate to the newest schema. With create (the bridge), a
        missing database and its folders are made; without (the operator's read commands),
        a missing database is an error rather than a new empty one."""
        p = Path(path)
        if str(p) != ":memory:":
            prepare_file(p, create=create)
        try:
            conn = await aiosqlite.connect(p, isolation_level=None)
        except sqlite3.Error as exc:
            raise StorageError(f"storage.path {p}: cannot open database ({exc})") from None
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA busy_timeout=5000")
            conn.row_factory = aiosqlite.Row
            await apply_migrations(conn)
        except sqlite3.Error as exc:
            await conn.close()
            raise StorageError(f"storage.path {p}: cannot use database ({exc})") from None
        return cls(conn, p)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error; writers take turns."""
        async with self._write_lock:
            try:
                # Inside the try: a caller cancelled while BEGIN is queued must still roll
                # back, or the next writer finds a transaction nobody owns.
                await self.conn.execute("BEGIN IMMEDIATE")
                yield self.conn
            except BaseException:
                with contextlib.suppress(sqlite3.OperationalError):  # "no transaction"
                    await asyncio.shield(self.conn.execute("ROLLBACK"))
                raise
            else:
                await self.conn.execute("COMMIT")

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[aiosqlite.Connection]:
        """Hold the writers' turn for statements that each commit on their own (atomic one
        by one, no BEGIN/COMMIT round trips), with no other writer in between."""
        async with self._write_lock:
            yield self.conn

    async def write(self, sql: str, params: tuple[object, ...] = ()) -> int:
        """One statement as its own transaction: the cheapest durable write; returns the
        number of rows changed."""
        async with self.autocommit() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

    async def fetchall(self, sql: str, params: tuple[object, ...] = ()) -> list[aiosqlite.Row]:
        """Run a query and return all rows in one hop to the database thread."""
        return list(await self.conn.execute_fetchall(sql, params))

    async def close(self) -> None:
        await self.conn.close()
