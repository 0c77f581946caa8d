"""The one aiosqlite connection of the process: WAL, foreign keys, explicit transactions."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from storage.migrate import apply_migrations


class StorageError(Exception):
    """The database cannot be opened or written; the message names the path."""


class Database:
    """Owns the connection; every write goes through transaction() so a crash leaves no half."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """Open (creating folders and file), set PRAGMAs and migrate to the newest schema."""
        p = Path(path)
        if str(p) != ":memory:":
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"storage.path {p}: cannot create folder ({exc.strerror})"
                ) from None
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
