"""tgirc-bridge run | check-config | export | status | roster stats."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bridge.config import Config, load_config, resolve_storage_path
from bridge.errors import ConfigError
from bridge.logs import setup_logging
from storage.db import Database, StorageError

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tgirc-bridge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--config", "-c", required=True, type=Path, help="path to config.toml")
        return p

    with_config("run", "run the bridge until SIGTERM/SIGINT")
    with_config("check-config", "validate the config file and exit")
    export = with_config("export", "write the members roster (moderators with shell access)")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    with_config("status", "queue depth and oldest waiting message per destination")
    roster = with_config("roster", "roster maintenance")
    roster.add_argument("action", choices=("stats",))
    return parser


async def _open(config: Config) -> Database:
    return await Database.open(resolve_storage_path(config))


async def _export(config: Config, fmt: str, output: Path | None) -> int:
    from storage.export import export_recorded
    from storage.roster_store import RosterStore

    db = await _open(config)
    try:
        actor = f"cli:{getpass.getuser()}"
        data = await export_recorded(RosterStore(db), fmt, actor)
    finally:
        await db.close()
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        await asyncio.to_thread(output.write_bytes, data)
    return 0


async def _status(config: Config) -> int:
    from bridge.outbox import payload_store

    db = await _open(config)
    try:
        store = payload_store(db)
        stats = await store.stats()
        connections = [(n, await store.get_state(f"connection:{n}")) for n in ("irc", "telegram")]
    finally:
        await db.close()
    now = time.time()
    for name, value in connections:
        state, _, stamp = (value or "unknown 0").partition(" ")
        seen = f" (as of {max(0.0, now - float(stamp)):.0f}s ago)" if stamp and float(stamp) else ""
        print(f"{name}: {state}{seen}")
    if not stats:
        print("all queues empty")
    for row in stats:
        age = now - row.oldest_created_at
        print(f"{row.network} {row.chat}: {row.depth} waiting, oldest {age:.0f}s ago")
    return 0


async def _roster_stats(config: Config) -> int:
    from storage.roster_store import RosterStore

    db = await _open(config)
    try:
        stats = await RosterStore(db).stats()
    finally:
        await db.close()
    print(f"members: {stats.member_count}")
    for tag, count in stats.top_interests:
        print(f"  {tag}: {count}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "check-config":
        print(f"{args.config}: OK ({len(config.bridges)} bridged pair(s))")
        return 0
    setup_logging(config.logging.level, config.secrets())
    try:
        if args.command == "run":
            from bridge.app import run_bridge

            return asyncio.run(run_bridge(config))
        if args.command == "export":
            return asyncio.run(_export(config, args.format, args.output))
        if args.command == "status":
            return asyncio.run(_status(config))
        return asyncio.run(_roster_stats(config))
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
