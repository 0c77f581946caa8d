"""Media bytes cached on disk beside the database, least recently used out first.

A file is written whole to a temporary name and renamed into place, so a crash never leaves
half a photo to be served; a hit sets the file's access time (never its modification time,
which the ETag is made from), and the folder is scanned at start in access order, so the
order survives a restart. A hit hands out the file already open, never a name to open later:
a file evicted while it is being served is unlinked, not cut short. Nothing here knows Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

log = logging.getLogger(__name__)

TMP_PREFIX = ".part-"


def cache_folder(db_path: Path) -> Path:
    """``data/bridge.sqlite3`` → ``data/bridge.sqlite3-media/``: beside the database, in the
    folder the operator already backs up and gives the bridge write access to."""
    return db_path.with_name(db_path.name + "-media")


def cache_key(file_id: str) -> str:
    """A file name that says nothing about the file and cannot escape the folder."""
    return hashlib.sha256(file_id.encode("utf-8")).hexdigest()[:40]


class MediaCache:
    """At most cap_bytes of files; put() evicts the least recently used beyond that."""

    def __init__(self, folder: Path, cap_bytes: int) -> None:
        self.folder = folder
        self.cap_bytes = cap_bytes
        self._entries: OrderedDict[str, int] = OrderedDict()  # key → size, oldest first
        self.size = 0
        self.evicted = 0

    async def open(self) -> None:
        """Create the folder (owner only) and learn what an earlier run left in it."""
        found = await asyncio.to_thread(self._scan)
        self._entries.clear()
        self.size = 0
        for _, name, size in sorted(found):
            self._entries[name] = size
            self.size += size
        await self._evict()

    def _scan(self) -> list[tuple[float, str, int]]:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        found: list[tuple[float, str, int]] = []
        for entry in os.scandir(self.folder):
            if entry.name.startswith(TMP_PREFIX):  # a write cut short by a crash
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                continue
            if entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
                found.append((st.st_atime, entry.name, st.st_size))
        return found

    def __len__(self) -> int:
        return len(self._entries)

    def open_file(self, key: str) -> int | None:
        """The cached file opened for reading (the caller closes the descriptor), now the most
        recently used; None when not cached. Opened before anything else: an eviction may
        unlink it the moment after, but an open file stays whole, so a hit is never a 404."""
        if key not in self._entries:
            return None
        try:
            fd = os.open(self.folder / key, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # removed behind our back (or by an eviction still under way)
            self.size -= self._entries.pop(key)
            return None
        with contextlib.suppress(OSError):  # a failed touch only loses the order on restart
            os.utime(fd, ns=(time.time_ns(), os.fstat(fd).st_mtime_ns))
        self._entries.move_to_end(key)
        return fd

    async def put(self, key: str, data: bytes) -> Path | None:
        """Store data under key and evict beyond the cap; None when the file alone is over
        the cap (served from memory, never cached)."""
        if len(data) > self.cap_bytes:
            return None
        path = await asyncio.to_thread(self._write, key, data)
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= old
        self._entries[key] = len(data)
        self.size += len(data)
        await self._evict()
        return path

    def _write(self, key: str, data: bytes) -> Path:
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=TMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            path = self.folder / key
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return path

    async def _evict(self) -> None:
        """Forget the oldest entries beyond the cap (here, in the loop, so get() never sees
        half an update), then remove their files in a thread."""
        victims: list[Path] = []
        while self.size > self.cap_bytes and len(self._entries) > 1:
            key, size = self._entries.popitem(last=False)
            self.size -= size
            self.evicted += 1
            victims.append(self.folder / key)
        if victims:
            await asyncio.to_thread(_unlink_all, victims)
            log.debug("media cache: evicted %d file(s), %d bytes kept", len(victims), self.size)


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
