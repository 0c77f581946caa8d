"""The media cache on disk: size cap, least recently used out first, atomic writes, hits
that outlive their eviction."""

from __future__ import annotations

import os
from pathlib import Path

from bridge.web.cache import TMP_PREFIX, MediaCache, cache_folder, cache_key


def cached(cache: MediaCache, key: str) -> bytes | None:
    """What a hit gives (its descriptor read and closed); None on a miss."""
    fd = cache.open_file(key)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as f:
        return f.read()


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
    assert cached(cache, "a") is not None  # a is now more recent than b
    await cache.put("c", b"c" * 100)
    assert (sorted(p.name for p in cache.folder.iterdir()), cache.size) == (["a", "c"], 200)
    assert cached(cache, "b") is None
    assert cache.evicted == 1
    assert cached(cache, "a") == b"a" * 100


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
    cached(cache, "old")  # touched: now the newest, its mtime (and so its ETag) unchanged
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
    assert cached(cache, "k") is None
    assert (len(cache), cache.size) == (0, 0)


async def test_a_hit_outlives_its_eviction(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path / "c", cap_bytes=150)
    await cache.open()
    await cache.put("a", b"a" * 100)
    fd = cache.open_file("a")
    assert fd is not None
    try:
        await cache.put("b", b"b" * 100)  # over the cap: a, opened but not yet read, goes
        assert (sorted(p.name for p in cache.folder.iterdir()), cache.evicted) == (["b"], 1)
        assert os.pread(fd, 200, 0) == b"a" * 100
    finally:
        os.close(fd)
