"""scripts/check_private.py: a library's private name outside bridge/compat.py is named by
file and line, and the project's own private names are not."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_private.py"

FLAGGED = """\
import aiosqlite
import irc.client_aio
from telegram.request._requestparameter import RequestParameter
from telegram.request import BaseRequest, _requestdata
import httpx._main


class Store:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    def raw(self) -> object:
        return self.conn._conn


class Connection(irc.client_aio.AioConnection):
    def _handle_message(self, arguments, command, source, tags) -> None:
        self._handle_event(None)


async def opened(path: str) -> object:
    conn = await aiosqlite.connect(path)
    return conn._execute
"""

CLEAN = """\
import sqlite3
import urllib.parse
from collections import namedtuple

import aiosqlite
from telegram.request import BaseRequest


class Mine:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._cache: dict[str, int] = {}

    def _helper(self) -> int:
        return len(self._cache) + self.conn.total_changes


class Request(BaseRequest):
    def __init__(self) -> None:
        self._session = None

    def _timeout(self) -> float:
        return 1.0

    async def do_request(self, *args: object) -> tuple[int, bytes]:
        self._timeout()
        return 200, b""


def bare(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def other(mine: Mine, raw: sqlite3.Connection) -> object:
    Point = namedtuple("Point", "x y")
    return mine._cache, mine._helper(), Point(1, 2)._asdict(), raw
"""


def run(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_each_private_use_of_a_library_is_named_by_file_and_line(tmp_path: Path) -> None:
    sample = tmp_path / "bridge" / "sample.py"
    sample.parent.mkdir()
    sample.write_text(FLAGGED)
    done = run(tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{sample}:3: imports from telegram.request._requestparameter (private _requestparameter)",
        f"{sample}:4: imports _requestdata from telegram.request",
        f"{sample}:5: imports httpx._main (private _main)",
        f"{sample}:13: reaches the library's private _conn",
        f"{sample}:17: overrides the library's private _handle_message",
        f"{sample}:18: reaches the library's private _handle_event from a subclass",
        f"{sample}:23: reaches the library's private _execute",
    ]
    assert "7 private use(s) of a library outside bridge/compat.py" in done.stderr


def test_the_projects_own_private_names_pass(tmp_path: Path) -> None:
    sample = tmp_path / "storage" / "sample.py"
    sample.parent.mkdir()
    sample.write_text(CLEAN)
    done = run(tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_compat_may_and_the_project_does_not(tmp_path: Path) -> None:
    compat = tmp_path / "bridge" / "compat.py"
    compat.parent.mkdir()
    compat.write_text("from telegram.request._requestparameter import RequestParameter\n")
    assert run(compat).returncode == 0
    done = run()  # bridge/, handlers/ and storage/ of this project
    assert (done.returncode, done.stdout) == (0, ""), done.stdout


def test_a_getattr_with_a_private_name_is_caught_too(tmp_path: Path) -> None:
    sample = tmp_path / "handlers" / "sample.py"
    sample.parent.mkdir()
    sample.write_text(
        textwrap.dedent(
            """\
            import aiohttp

            def peek(session: aiohttp.ClientSession) -> object:
                return getattr(session, "_connector")
            """
        )
    )
    done = run(tmp_path)
    assert done.stdout.splitlines() == [f"{sample}:4: reaches the library's private _connector"]
