"""The members directory at 100k members (half listed): server time of /members and
/members?q= under 100 concurrent readers.

The server (add_directory on a plain aiohttp app, the store on the bench's roster DB) runs in
this process with a middleware timing each request from its arrival to its answer; the
readers run in a child process (`python -m bench.directory --load ...`), so their HTTP
parsing does not share the server's event loop. Three phases: "render_alone" (distinct
URLs one at a time: what one page costs to render), "cold" (distinct URLs, 100 readers at
once: every one rendered, nothing from the cache, so the time includes the wait behind the
others on one event loop and one SQLite connection) and "warm" (the usual few URLs asked
again and again by 100 readers: the cache with its version check).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

from bench.common import PYTHON, ROOT, percentile
from bench.roster_figures import TOPICS, build_db
from bridge.web.directory import add_directory
from storage.db import Database
from storage.directory import DirectoryStore
from tests.support.ports import free_port

READERS = 100
WARM_REQUESTS = 3000
NAMES = ("ann", "bo", "chen", "dana", "emil", "fatma", "gus", "hiro")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def list_half(path: Path) -> float:
    """Every other member says /listed yes (the triggers fill the listed counts); seconds."""
    began = time.perf_counter()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE members SET listed = 1 WHERE id % 2 = 0")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - began


def cold_urls(pages: int) -> list[str]:
    """Each URL once: pages of /members, and searches as people type them (interest
    prefixes, names, a name with its number, something nobody is called)."""
    urls = [f"/members?page={p}" for p in range(1, pages + 1)]
    queries: list[str] = []
    for topic in TOPICS:
        queries += [topic[:n] for n in range(2, len(topic) + 1)]
    queries += [*NAMES, *(f"{n} lee{i}" for n in NAMES for i in (2, 40, 1234))]
    queries += ["nobody-is-called-this", "zzq"]
    urls += [f"/members?q={q}" for q in dict.fromkeys(queries)]
    return urls


def warm_urls() -> list[str]:
    return [
        "/members",
        "/members?page=2",
        "/members?q=python",
        "/members?q=rust",
        "/members?q=py",
        "/members?q=chen",
        "/members.json",
    ]


async def _load(base: str, urls: Sequence[str], readers: int) -> list[float]:
    """readers concurrent clients share urls in order; client-side seconds per request."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    times: list[float] = []
    connector = TCPConnector(limit=readers)
    async with ClientSession(base, connector=connector, timeout=ClientTimeout(60)) as session:

        async def reader() -> None:
            while not queue.empty():
                url = queue.get_nowait()
                t0 = time.perf_counter()
                async with session.get(url) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"{url}: HTTP {resp.status}")
                times.append(time.perf_counter() - t0)

        await asyncio.gather(*(reader() for _ in range(readers)))
    return times


async def _run_readers(base: str, urls: Sequence[str], readers: int) -> list[float]:
    """The readers in a child process; their client-side times in ms."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(list(urls), f)
        f.flush()
        proc = await asyncio.create_subprocess_exec(
            str(PYTHON), "-m", "bench.directory", "--load", base, "--urls", f.name,
            "--readers", str(readers), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"readers failed ({proc.returncode})")
    return [t * 1000 for t in json.loads(out)]


def _figures(timed: list[tuple[str, float]], prefix: str) -> dict[str, float]:
    out: dict[str, float] = {}
    kinds = {
        "members": lambda u: u.startswith("/members") and "q=" not in u,
        "search": lambda u: "q=" in u,
    }
    for kind, chosen in kinds.items():
        ms = [t for u, t in timed if chosen(u)]
        if ms:
            out[f"{prefix}_{kind}_p50_ms"] = round(percentile(ms, 50), 3)
            out[f"{prefix}_{kind}_p99_ms"] = round(percentile(ms, 99), 3)
            out[f"{prefix}_{kind}_max_ms"] = round(max(ms), 3)
            out[f"{prefix}_{kind}_requests"] = len(ms)
    return out


async def directory_figures(n: int = 100_000) -> dict[str, float]:
    """Server time (ms) of the directory at n members, half listed, 100 readers at once."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "directory.sqlite3"
        build_s = await build_db(path, n)
        list_s = list_half(path)
        db = await Database.open(path)
        timed: list[tuple[str, float]] = []

        @web.middleware
        async def timing(request: web.Request, handler: Handler) -> web.StreamResponse:
            t0 = time.perf_counter()
            try:
                return await handler(request)
            finally:
                timed.append((request.path_qs, (time.perf_counter() - t0) * 1000))

        app = web.Application(middlewares=[timing])
        add_directory(app, DirectoryStore(db), "https://bench.example", ["#bench"])
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}"
        try:
            cold = cold_urls(pages=200)
            half = len(cold) // 2  # first half one at a time, the rest 100 at once
            await _run_readers(base, cold[:half:2] + cold[1:half:2], 1)
            alone_timed, timed[:] = list(timed), []
            cold_client = await _run_readers(base, cold[half:], READERS)
            cold_timed, timed[:] = list(timed), []
            await _run_readers(base, warm_urls(), 1)  # in the cache, as they would be
            timed[:] = []
            warm = warm_urls() * (WARM_REQUESTS // len(warm_urls()))
            warm_client = await _run_readers(base, warm, READERS)
            warm_timed = list(timed)
        finally:
            await runner.cleanup()
            await db.close()
    return {
        "members": float(n),
        "listed": float(n // 2),
        "readers": float(READERS),
        "build_s": round(build_s + list_s, 2),
        **_figures(alone_timed, "render_alone"),
        **_figures(cold_timed, "cold"),
        **_figures(warm_timed, "warm"),
        "cold_client_p99_ms": round(percentile(cold_client, 99), 3),
        "warm_client_p99_ms": round(percentile(warm_client, 99), 3),
    }


def main(argv: list[str] | None = None) -> int:
    """`--load BASE --urls FILE --readers N`: the readers (prints their times as JSON);
    without: run directory_figures() once and print it."""
    parser = argparse.ArgumentParser(prog="python -m bench.directory")
    parser.add_argument("--load")
    parser.add_argument("--urls")
    parser.add_argument("--readers", type=int, default=READERS)
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args(argv)
    if args.load:
        urls = json.loads(Path(args.urls).read_text())
        print(json.dumps(asyncio.run(_load(args.load, urls, args.readers))))
        return 0
    print(json.dumps(asyncio.run(directory_figures(args.members)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
