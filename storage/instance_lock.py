"""One bridge per database: an exclusive lock on a file next to it, held while the process runs.

Two bridges on one database deliver every queued line twice and answer each other's echoes.
SQLite's own locks do not prevent that (both take turns writing), so the bridge takes
``flock(LOCK_EX | LOCK_NB)`` on ``<database>.lock`` before it connects to anything. The
kernel drops the lock when the process ends, however it ends (SIGKILL included), so a stale
file never blocks a restart; the file is left in place on purpose: deleting it would let a
third process lock a fresh file while the second still holds the old one. The operator's
read commands (status, export) do not take it and work next to the running bridge.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from storage.db import StorageError, ensure_folder


class InstanceLocked(StorageError):
    """Another process holds the database's lock: a bridge already runs on it."""


def lock_path_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextlib.contextmanager
def instance_lock(db_path: Path) -> Iterator[Path | None]:
    """Hold the exclusive lock for ``db_path`` for the block; raise InstanceLocked (naming
    the lock file and the holder's pid) at once if another process holds it."""
    if str(db_path) == ":memory:":  # nothing to share
        yield None
        return
    ensure_folder(db_path)
    lock_path = lock_path_for(db_path)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StorageError(
            f"storage.path {db_path}: cannot open lock file {lock_path} ({exc.strerror})"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            who = f"pid {holder}" if holder.isdigit() else "another process"
            raise InstanceLocked(
                f"another tgirc-bridge instance is running on {db_path} "
                f"({who} holds the lock file {lock_path}); stop it first"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield lock_path
    finally:
        os.close(fd)
