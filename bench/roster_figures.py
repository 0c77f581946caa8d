"""Roster benchmarks in-process: /whois <interest> at 1k/10k/100k members and /export."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.common import Figure, percentile
from bridge.identity import irc_key
from bridge.model import Author, ChatId, ChatRef, Network, UserId
from handlers.context import CommandContext
from handlers.roster_commands import whois
from storage.db import Database
from storage.export import collect_rows, render_csv, render_json
from storage.roster_store import RosterStore
from storage.tags import shared_prefixes

GROUP = -1001000000001
TOPICS = (  # noqa: SIM905 - a word list reads better as one string
    "python rust go javascript typescript c c++ java kotlin swift haskell ocaml elixir erlang "
    "lua ruby php perl scala clojure zig nim julia r matlab fortran cobol sql postgres sqlite "
    "redis kafka linux freebsd openbsd debian arch nixos docker kubernetes ansible terraform "
    "aws gcp azure devops security cryptography reverse-engineering networking ipv6 dns "
    "embedded arduino raspberry-pi fpga electronics 3d-printing robotics drones ham-radio "
    "machine-learning data-science statistics nlp computer-vision llm translation writing "
    "editing documentation design ux ui typography illustration photography video music "
    "audio podcasting gamedev godot unity unreal blender accessibility i18n testing qa "
    "emacs vim neovim vscode git mercurial compilers databases distributed-systems "
    "open-source community moderation teaching mentoring math physics chemistry biology "
    "astronomy economics law gardening cooking cycling running chess go-game"
).split()
QUERIES = ("python", "rust", "translation", "lua", "go", "fpga", "chess", "data", "py", "ma")


WEIGHTS = [1.0 / (rank + 3) for rank in range(len(TOPICS))]


def _tags(rng: random.Random) -> list[str]:
    """1–8 tags, Zipf-like weights 1/(rank+3): a few popular interests, a long tail."""
    k = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 8))
    chosen: list[str] = []
    while len(chosen) < k:
        tag = rng.choices(TOPICS, WEIGHTS)[0]
        if tag not in chosen:
            chosen.append(tag)
    return chosen


async def build_db(path: Path, members: int, seed: int = 5) -> float:
    """A migrated roster DB with `members` members, filled in bulk; returns seconds taken."""
    began = time.perf_counter()
    db = await Database.open(path)
    await db.close()
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    now = time.time()
    with conn:
        idents, tags, rows = [], [], []
        for mid in range(1, members + 1):
            joined = now - rng.uniform(0, 3 * 365 * 86400)
            rows.append((mid, joined))
            first = rng.choice(("Ann", "Bo", "Chen", "Dana", "Emil", "Fatma", "Gus", "Hiro"))
            name = f"{first} {rng.choice(('Lee', 'Kim', 'Novak', 'Silva', 'Okafor'))}{mid}"
            handle = f"{first.lower()}_{mid}"
            idents.append(
                (
                    mid,
                    "telegram",
                    str(10_000_000 + mid),
                    name,
                    name.casefold(),
                    handle,
                    handle.casefold(),
                    1,
                    joined,
                    joined,
                )
            )
            if rng.random() < 0.3:
                nick = f"{first.lower()}{mid}"
                idents.append(
                    (
                        mid,
                        "irc",
                        irc_key(nick, ""),
                        nick,
                        nick.casefold(),
                        nick,
                        nick.casefold(),
                        1,
                        joined,
                        joined,
                    )
                )
            listed = _tags(rng)
            shared = shared_prefixes(listed)
            tags.extend((mid, t, i, shared[t]) for i, t in enumerate(listed))
        conn.executemany("INSERT INTO members (id, joined_at) VALUES (?, ?)", rows)
        conn.executemany(
            "INSERT INTO identities (member_id, network, key, display_name, name_fold, handle, "
            "handle_fold, verified, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            idents,
        )
        conn.executemany(
            "INSERT INTO interests (member_id, tag, position, shared) VALUES (?,?,?,?)", tags
        )
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - began


class _Presence:
    def irc_nicks(self, channel: ChatId) -> list[str]:
        return []

    async def telegram_member_count(self, chat: ChatId) -> int | None:
        return None

    def telegram_recent_speakers(self, channel: ChatId) -> list[str]:
        return []


def _context(roster: RosterStore, answers: list[str]) -> CommandContext:
    async def reply(text: str) -> None:
        answers.append(text)

    async def private(text: str) -> bool:
        answers.append(text)
        return True

    async def send_file(name: str, data: bytes, caption: str) -> bool:
        return True

    async def in_community() -> bool:
        return True

    return CommandContext(
        invoker=Author(Network.TELEGRAM, UserId("42"), "Bench"),
        chat=ChatRef(Network.TELEGRAM, ChatId(str(GROUP))),
        paired_chat=None,
        is_moderator=False,
        bot_name="BridgeBot",
        roster=roster,
        presence=_Presence(),
        reply=reply,
        reply_private=private,
        send_file=send_file,
        in_community=in_community,
    )


async def whois_section(dbs: dict[int, Path], runs: int, queries: int) -> dict[str, Any]:
    """The /whois handler (name search, interest search, answer text) per query, in ms."""
    out: dict[str, Any] = {}
    for size, path in dbs.items():
        db = await Database.open(path)
        roster = RosterStore(db)
        answers: list[str] = []
        ctx = _context(roster, answers)
        p50, p99, store_p99 = Figure(), Figure(), Figure()
        for q in QUERIES:  # warm the page cache
            await whois(ctx, q)
        for _ in range(runs):
            times, store_times = [], []
            for i in range(queries):
                q = QUERIES[i % len(QUERIES)]
                t0 = time.perf_counter()
                await whois(ctx, q)
                times.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                await roster.find_by_interest(q, 10)
                store_times.append((time.perf_counter() - t0) * 1000)
            p50.add(percentile(times, 50))
            p99.add(percentile(times, 99))
            store_p99.add(percentile(store_times, 99))
        out[str(size)] = {
            "p50": p50.summary(),
            "p99": p99.summary(),
            "find_by_interest_p99": store_p99.summary(),
            "sample_answer": answers[-1][:200] if answers else "",
        }
        await db.close()
    return out


async def export_section(path: Path, runs: int) -> dict[str, Any]:
    """What /export does: read every row once, render CSV and JSON."""
    db = await Database.open(path)
    roster = RosterStore(db)
    total, read, csv_t, json_t = Figure(), Figure(), Figure(), Figure()
    sizes: dict[str, int] = {}
    for _ in range(runs):
        t0 = time.perf_counter()
        rows = await collect_rows(roster)
        t1 = time.perf_counter()
        csv_data = render_csv(rows)
        t2 = time.perf_counter()
        json_data = render_json(rows)
        t3 = time.perf_counter()
        read.add(t1 - t0)
        csv_t.add(t2 - t1)
        json_t.add(t3 - t2)
        total.add(t3 - t0)
        sizes = {"rows": len(rows), "csv_bytes": len(csv_data), "json_bytes": len(json_data)}
    await db.close()
    return {
        "total_s": total.summary(),
        "read_s": read.summary(),
        "csv_s": csv_t.summary(),
        "json_s": json_t.summary(),
        **sizes,
    }
