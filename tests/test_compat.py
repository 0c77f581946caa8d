"""Each private name bridge/compat.py relies on still exists and behaves as relied on; and
every library it reaches into is pinned in pyproject.toml to a version it was checked on."""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import re
import sqlite3
import ssl
import threading
import tomllib
from pathlib import Path

import aiosqlite
import pytest
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bridge.compat import CHECKED_ON, in_db_thread, request_data
from bridge.telegram.http import AiohttpRequest
from tests.support.fake_telegram import FakeTelegram

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
GROUP = -100123


def test_every_library_is_pinned_to_a_version_its_entries_were_checked_on() -> None:
    """Raising a pin means reading the entries again: add the version to CHECKED_ON then."""
    pins: dict[str, str] = {}
    for requirement in tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]:
        if match := re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;,]+)", requirement):
            pins[match[1].lower()] = match[2]
    for distribution, versions in CHECKED_ON.items():
        assert pins.get(distribution) in versions, (distribution, pins.get(distribution))
        assert importlib.metadata.version(distribution) in versions, distribution


# ---------------------------------------------------------------- aiosqlite: in_db_thread


def test_aiosqlite_still_has_the_private_calls_in_db_thread_uses() -> None:
    assert inspect.iscoroutinefunction(aiosqlite.Connection._execute)
    assert list(inspect.signature(aiosqlite.Connection._execute).parameters)[:2] == ["self", "fn"]
    assert isinstance(inspect.getattr_static(aiosqlite.Connection, "_conn"), property)


async def test_in_db_thread_runs_in_the_connections_thread_in_turn(tmp_path: Path) -> None:
    async with aiosqlite.connect(tmp_path / "t.sqlite3", isolation_level=None) as conn:
        await conn.create_function("thread_id", 0, threading.get_ident)
        (row,) = await conn.execute_fetchall("SELECT thread_id()")
        await conn.execute("CREATE TABLE t (x INTEGER)")
        threads: list[int] = []

        def count(raw: sqlite3.Connection) -> int:
            threads.append(threading.get_ident())
            assert isinstance(raw, sqlite3.Connection)
            return int(raw.execute("SELECT count(*) FROM t").fetchone()[0])

        # queued after the first INSERT and before the second, as the calls were made
        _, counted, _ = await asyncio.gather(
            conn.execute("INSERT INTO t VALUES (1)"),
            in_db_thread(conn, count),
            conn.execute("INSERT INTO t VALUES (2)"),
        )
        assert counted == 1
        assert threads == [row[0]] != [threading.get_ident()]

        def fails(raw: sqlite3.Connection) -> None:
            raw.execute("INSERT INTO nowhere VALUES (1)")

        with pytest.raises(sqlite3.OperationalError, match="no such table: nowhere"):
            await in_db_thread(conn, fails)
        assert await conn.execute_fetchall("SELECT x FROM t ORDER BY x") == [(1,), (2,)]


# ---------------------------------------------------------------- PTB: request_data


def test_ptb_still_builds_request_data_from_request_parameters() -> None:
    assert list(inspect.signature(RequestParameter.from_input).parameters) == ["key", "value"]
    assert list(inspect.signature(RequestData).parameters) == ["parameters"]


def test_request_data_encodes_each_value_as_ptb_does() -> None:
    data = request_data(
        {
            "chat_id": GROUP,
            "text": "<b>hi</b> & 1",
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
            "allowed_updates": ["message", "edited_message"],
            "disable_notification": True,
            "offset": None,
        }
    )
    assert isinstance(data, RequestData)
    assert not data.contains_files and data.multipart_data == {}
    assert data.json_parameters == {
        "chat_id": str(GROUP),
        "text": "<b>hi</b> & 1",
        "parse_mode": "HTML",
        "link_preview_options": '{"is_disabled": true}',
        "allowed_updates": '["message", "edited_message"]',
        "disable_notification": "true",
    }


async def test_request_data_posts_through_ptbs_request() -> None:
    """What the bridge does with it: BaseRequest.post sends it and returns the result."""
    async with FakeTelegram() as fake:
        fake.add_chat(GROUP, "supergroup", title="Bridge")
        request = AiohttpRequest(ssl_context=ssl.create_default_context())
        assert isinstance(request, BaseRequest)
        await request.initialize()
        try:
            result = await request.post(
                f"{fake.api_url}{fake.token}/sendMessage",
                request_data=request_data(
                    {"chat_id": GROUP, "text": "<b>hi</b>", "parse_mode": "HTML"}
                ),
            )
        finally:
            await request.shutdown()
        assert isinstance(result, dict) and isinstance(result["message_id"], int)
        (sent,) = await fake.wait_sent(timeout=5)
        assert (sent.chat_id, sent.text, sent.visible_text) == (GROUP, "<b>hi</b>", "hi")
