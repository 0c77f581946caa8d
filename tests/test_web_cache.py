"""The media cache on disk: size cap, least recently used out first, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

from bridge.web.cache import TMP_PREFIX, MediaCache, cache_folder, cache_key


def test_folder_beside_the_database_and_keys_are_opaque(tmp_path: Path) -> None:
    assert cache_folder(tmp_path / "b.sqlite3") == tmp_path / "b.sqlite3-media"
    key = cache_key("../../etc/passwd")
    assert key.isalnum() and len(key) == 40


async def test_least_recently_used_goes_first(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path / "c", cap_bytes=250)
    await cache.open()
    assert oct((tmp_path / "c").stat().st_mode & 0o777) == "0o700"
    for key in ("a", "b"):
        await cache.put(key, key.encode() * 100)
    assert cache.get("a") is not None  # a is now more recent than b
    await cache.put("c", b"c" * 100)
    assert (sorted(p.name for p in cache.folder.iterdir()), cache.size) == (["a", "c"], 200)
    assert cache.get("b") is None
    assert cache.evicted == 1
    path = cache.get("a")
    assert path is not None and path.read_bytes() == b"a" * 100


async def test_over_the_cap_is_not_cached(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path / "c", cap_bytes=10)
    await cache.open()
    assert await cache.put("big", b"x" * 11) is None
    assert (len(cache), list(cache.folder.iterdir())) == (0, [])


async def test_restart_keeps_the_order_and_drops_partial_writes(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path / "c", cap_bytes=1000)
    await cache.open()
    for key in ("old", "new"):
        await cache.put(key, b"x" * 100)
    mtime = (cache.folder / "old").stat().st_mtime_ns
    os.utime(cache.folder / "old", ns=(1, mtime))
    os.utime(cache.folder / "new", ns=(2, mtime))
    cache.get("old")  # touched: now the newest, its mtime (and so its ETag) unchanged
    assert (cache.folder / "old").stat().st_mtime_ns == mtime
    (cache.folder / f"{TMP_PREFIX}crashed").write_bytes(b"half")
    again = MediaCache(tmp_path / "c", cap_bytes=150)
    await again.open()  # over the new cap: the least recently used goes
    assert sorted(p.name for p in again.folder.iterdir()) == ["old"]
    assert (len(again), again.size) == (1, 100)


async def test_a_file_removed_behind_its_back_is_a_miss(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path / "c", cap_bytes=1000)
    await cache.open()
    await cache.put("k", b"data")
    (cache.folder / "k").unlink()
    assert cache.get("k") is None
    assert (len(cache), cache.size) == (0, 0)
