"""The one aiosqlite connection of the process: WAL, foreign keys, explicit transactions.

Another process may hold the write lock for a while (a backup, an operator's sqlite3 shell):
SQLite then waits BUSY_TIMEOUT_MS and answers "database is locked". Every write path here
tries again with backoff for up to WRITE_RETRY_SECONDS before it gives up with a
StorageError, so a busy database slows the bridge down but neither drops nor stops anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import aiosqlite

from bridge.compat import in_db_thread
from storage.migrate import apply_migrations

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
"""How long SQLite itself waits for another process's write lock, per attempt."""
WRITE_RETRY_SECONDS = 60.0
"""How long a write keeps trying against a locked database before StorageError."""
_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
T = TypeVar("T")


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


class Writer:
    """What autocommit() hands out: statements that each commit on their own, each tried
    again while another process holds the write lock."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def execute_fetchall(
        self, sql: str, params: tuple[object, ...] = ()
    ) -> list[aiosqlite.Row]:
        conn = self._db.conn
        return list(await self._db.retrying(lambda: conn.execute_fetchall(sql, params)))


class Database:
    """Owns the connection. Writers take turns through transaction() and in_one_trip()
    (atomic as a whole) or write() and autocommit() (atomic statement by statement), so a
    crash leaves no statement half done and no transaction half applied."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()
        self.writes = 0
        """Counts the turns writers had in this process: a cache of what is read from the
        database is still good while this has not moved (another process's writes aside)."""

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
            await conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
            conn.row_factory = aiosqlite.Row
            await apply_migrations(conn)
        except sqlite3.Error as exc:
            await conn.close()
            raise StorageError(f"storage.path {p}: cannot use database ({exc})") from None
        return cls(conn, p)

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        """The writers' turn; whatever happens in it counts as a possible change."""
        async with self._write_lock:
            try:
                yield
            finally:
                self.writes += 1

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error; writers take turns. Once
        BEGIN IMMEDIATE holds the write lock nothing else in the block can meet another
        process's lock, so only BEGIN is tried again."""
        async with self._writing():
            try:
                # Inside the try: a caller cancelled while BEGIN is queued must still roll
                # back, or the next writer finds a transaction nobody owns.
                await self.retrying(lambda: self.conn.execute("BEGIN IMMEDIATE"))
                yield self.conn
            except BaseException:
                with contextlib.suppress(sqlite3.OperationalError):  # "no transaction"
                    await asyncio.shield(self.conn.execute("ROLLBACK"))
                raise
            else:
                await self.conn.execute("COMMIT")

    async def in_one_trip(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """BEGIN IMMEDIATE, work, COMMIT (ROLLBACK on any error) as one call in the database
        thread: one round trip instead of one per statement, which at idle is mostly the
        thread waking up. work runs in that thread and must only touch the connection it is
        given. Tried again as a whole while another process holds the write lock."""

        def run(raw: sqlite3.Connection) -> T:
            raw.execute("BEGIN IMMEDIATE")
            try:
                result = work(raw)
                raw.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    raw.execute("ROLLBACK")
                raise
            return result

        async with self._writing():
            # aiosqlite has no public call for this: see bridge/compat.py.
            return await self.retrying(lambda: in_db_thread(self.conn, run))

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[Writer]:
        """Hold the writers' turn for statements that each commit on their own (atomic one
        by one, no BEGIN/COMMIT round trips), with no other writer in between; a statement
        that meets a locked database is tried again alone."""
        async with self._writing():
            yield Writer(self)

    async def write(self, sql: str, params: tuple[object, ...] = ()) -> int:
        """One statement as its own transaction: the cheapest durable write; returns the
        number of rows changed."""
        async with self._writing():
            cursor = await self.retrying(lambda: self.conn.execute(sql, params))
            return cursor.rowcount

    async def retrying(self, statement: Callable[[], Awaitable[T]]) -> T:
        """Run one statement that writes (or begins a write), again with backoff while
        another process holds the lock; StorageError after WRITE_RETRY_SECONDS. The caller
        holds the writers' turn."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WRITE_RETRY_SECONDS
        delay = 0.1
        attempts = 0
        while True:
            try:
                result = await statement()
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF not in _BUSY_CODES:
                    raise
                attempts += 1
                if loop.time() + delay > deadline:
                    raise StorageError(
                        f"storage.path {self.path}: {exc}; another process has held the "
                        f"write lock for over {WRITE_RETRY_SECONDS:g}s"
                    ) from None
                log.log(
                    logging.WARNING if attempts == 1 else logging.DEBUG,
                    "storage: %s (another process holds the write lock); trying again",
                    exc,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if attempts:
                log.info("storage: written after %d busy attempts", attempts + 1)
            return result

    async def fetchall(self, sql: str, params: tuple[object, ...] = ()) -> list[aiosqlite.Row]:
        """Run a query and return all rows in one hop to the database thread."""
        return list(await self.conn.execute_fetchall(sql, params))

    async def close(self) -> None:
        await self.conn.close()
