"""tgirc-bridge run | check-config | doctor | export | status | rotate-web-secret | roster stats |
remove | untag."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import getpass
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bridge.config import Config, load_config, resolve_storage_path
from bridge.errors import EXIT_CONFIG, ConfigError
from bridge.logs import setup_logging
from storage.db import Database, StorageError
from storage.instance_lock import instance_lock

DOCTOR_STEP_MAX = 300.0
"""doctor --timeout at most: five minutes for one connect, call or JOIN is already none."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tgirc-bridge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(
        name: str, help_text: str, within: argparse._SubParsersAction[Any] = sub
    ) -> argparse.ArgumentParser:
        p = within.add_parser(name, help=help_text)
        p.add_argument("--config", "-c", required=True, type=Path, help="path to config.toml")
        return p

    with_config("run", "run the bridge until SIGTERM/SIGINT")
    with_config("check-config", "validate the config file and exit")
    doctor = with_config("doctor", "check the setup against Telegram, IRC and [web], relay nothing")
    doctor.add_argument(
        "--timeout", type=_step_seconds, default=10.0, help="seconds each step may take (0-300]"
    )
    export = with_config("export", "write the members roster (moderators with shell access)")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument(
        "-o", "--output", type=Path, help="file to write, owner-readable only (default: stdout)"
    )
    export.add_argument("--force", action="store_true", help="replace an existing output file")
    with_config("status", "queue depth and oldest waiting message per destination")
    digest = with_config("digest", "print the mailing-list digest due now; send nothing")
    digest.add_argument("--send", action="store_true", help="send it now and record it")
    with_config("rotate-web-secret", "new signing secret: every media link given out stops working")
    roster = sub.add_parser("roster", help="roster maintenance").add_subparsers(
        dest="action", required=True
    )
    with_config("stats", "member count and the most common interests", roster)
    remove = with_config("remove", "delete a member for good (recorded)", roster)
    remove.add_argument("target", help="the member: #number, name, @username or nick")
    untag = with_config("untag", "take a tag from every member (recorded)", roster)
    untag.add_argument("target", help="the tag")
    return parser


class OutputRefused(Exception):
    """The export's output file cannot or may not be written; the text says why."""


async def _open(config: Config) -> Database:
    """The operator's commands read an existing database; they never create an empty one."""
    return await Database.open(resolve_storage_path(config), create=False)


def _step_seconds(text: str) -> float:
    """doctor --timeout: a step's bound, so 0, a negative number or nan (every check failing
    at once) and inf (a silent server holding the doctor for ever) are refused, exit 2."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 < value <= DOCTOR_STEP_MAX:  # nan fails both comparisons
        raise argparse.ArgumentTypeError(
            f"must be above 0 and at most {DOCTOR_STEP_MAX:.0f} seconds, got {text!r}"
        )
    return value


def _check_output(path: Path, force: bool) -> None:
    if path.is_dir():
        raise OutputRefused(f"{path} is a directory; name a file")
    if not force and (path.exists() or path.is_symlink()):
        raise OutputRefused(f"{path} exists; add --force to replace it")


def _write_private(path: Path, data: bytes, force: bool) -> None:
    """Write ``data`` to a new file readable by its owner only (the roster is personal
    data). With force, a complete temporary file replaces the old one, so the old export
    is never half-overwritten and its looser mode does not carry over."""
    _check_output(path, force)
    try:
        if force:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        else:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(path)
                raise
    except FileExistsError:
        raise OutputRefused(f"{path} exists; add --force to replace it") from None
    except OSError as exc:
        raise OutputRefused(f"cannot write {path} ({exc.strerror})") from None


async def _export(config: Config, fmt: str, output: Path | None, force: bool) -> int:
    from storage.export import collect_rows, render_csv, render_json
    from storage.roster_store import RosterStore

    if output is not None:
        _check_output(output, force)  # before reading the roster, not after
    db = await _open(config)
    try:
        roster = RosterStore(db)
        rows = await collect_rows(roster)
        data = render_csv(rows) if fmt == "csv" else render_json(rows)
        if output is None:
            try:
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
            except OSError as exc:  # a closed pipe: not written, so not recorded
                raise OutputRefused(f"cannot write to stdout ({exc.strerror})") from None
        else:
            await asyncio.to_thread(_write_private, output, data, force)
        # Recorded once the roster is out of the database's hands, never for a failed write.
        await roster.record_export(f"cli:{getpass.getuser()}", len(rows))
    finally:
        await db.close()
    return 0


async def _status(config: Config) -> int:
    from bridge.model import Network, telegram_chat_key
    from bridge.sending import payload_store
    from storage.asks import AskStore
    from storage.freshness import FreshnessStore
    from storage.set_aside import SetAsideStore
    from storage.status import StatusStore
    from storage.topics import TopicStore

    db = await _open(config)
    try:
        stats = await payload_store(db).stats()
        status = await StatusStore(db).read()
        set_aside = await SetAsideStore(db).count()
        asks = await AskStore(db).counts()
        nudges = await FreshnessStore(db).counts()
        closed = await TopicStore(db).closed()
        digest_lines = await _digest_status(db, config)
    finally:
        await db.close()
    now = time.time()
    for network, conn in ((Network.IRC, status.irc), (Network.TELEGRAM, status.telegram)):
        seen = f" (as of {max(0.0, now - conn.as_of):.0f}s ago)" if conn.as_of else ""
        print(f"{network}: {conn.state}{seen}")
    for channel, joined in status.irc_channels:
        print(f"irc channel {channel}: {joined}")
    for chat, why in status.waiting_topics:
        print(f"telegram topic {chat}: refuses messages, which wait: {why}")
    for topic in closed:
        name = f" ({topic.name})" if topic.name else ""
        print(f"telegram topic {telegram_chat_key(topic.chat, topic.topic)}{name}: closed")
    print(f"set aside: {set_aside} input(s) the bridge could not handle (table set_aside)")
    print(
        f"asks: {asks.asks} made; recipients notified {asks.notified_now} now, "
        f"{asks.notified_later} later; {asks.waiting} waiting; {asks.expired} expired"
    )
    print(
        f"nudges: {nudges.nudged_telegram + nudges.nudged_irc} sent "
        f"(telegram {nudges.nudged_telegram}, irc {nudges.nudged_irc}); "
        f"{nudges.unreachable} unreachable; {nudges.lapsed} members lapsed"
    )
    for line in digest_lines:
        print(line)
    if not stats:
        print("all queues empty")
    for row in stats:
        age = now - row.oldest_created_at
        print(f"{row.network} {row.chat}: {row.depth} waiting, oldest {age:.0f}s ago")
    return 0


async def _digest(config: Config, send_now: bool) -> int:
    from bridge.cli_digest import digest

    db = await _open(config)
    try:
        return await digest(db, config, send_now=send_now)
    finally:
        await db.close()


async def _digest_status(db: Database, config: Config) -> list[str]:
    """The digest's lines of `status`, with [digest] only."""
    if config.digest is None:
        return []
    from bridge.mail.schedule import describe
    from storage.digest import DigestStore

    return describe(await DigestStore(db).state(), config.digest, time.time())


async def _rotate_web_secret(config: Config) -> int:
    from storage.web_secret import WebSecretStore

    db = await _open(config)
    try:
        await WebSecretStore(db).rotate()
    finally:
        await db.close()
    print("web secret rotated: every media link given out so far now answers 404")
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


async def _roster_clean(config: Config, action: str, target: str) -> int:
    """roster remove | untag, recorded as done by the shell user (bridge/cli_roster.py)."""
    from bridge.cli_roster import remove_member, remove_tag
    from storage.roster_store import RosterStore

    db = await _open(config)
    try:
        roster, actor = RosterStore(db), f"cli:{getpass.getuser()}"
        if action == "remove":
            return await remove_member(roster, target, actor)
        return await remove_tag(roster, target, actor)
    finally:
        await db.close()


def settle_heap() -> None:
    """Keep what the imports built (~66k objects: the libraries, the bridge's modules) out of
    the garbage collector's full passes: a full pass over them took 30–55 ms on the benchmark's
    machine, in the middle of whatever the bridge was relaying (issue 12). Done once per
    process, before the bridge starts; everything created later is collected as before."""
    gc.freeze()


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
    if args.command == "doctor":  # no lock, no database: a running bridge is not disturbed
        from bridge.doctor import doctor

        setup_logging("ERROR", config.secrets())
        return asyncio.run(doctor(config, args.timeout))
    setup_logging(config.logging.level, config.secrets())
    try:
        if args.command == "run":
            from bridge.app import run_bridge

            settle_heap()

            # Before anything connects; held until the process ends (see instance_lock).
            with instance_lock(resolve_storage_path(config)):
                return asyncio.run(run_bridge(config))
        if args.command == "export":
            return asyncio.run(_export(config, args.format, args.output, args.force))
        if args.command == "status":
            return asyncio.run(_status(config))
        if args.command == "digest":
            return asyncio.run(_digest(config, args.send))
        if args.command == "rotate-web-secret":
            return asyncio.run(_rotate_web_secret(config))
        if args.action != "stats":
            return asyncio.run(_roster_clean(config, args.action, args.target))
        return asyncio.run(_roster_stats(config))
    except (StorageError, OutputRefused) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
