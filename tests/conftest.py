"""Shared fixtures: real IRC servers and the strict fake Bot API, one set per test."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from hypothesis import settings

from handlers.registry import CommandRegistry, build_registry
from storage.roster_store import RosterStore
from tests.support.fake_telegram import FakeTelegram
from tests.support.handlers import open_store
from tests.support.harness import GROUP
from tests.support.hybrid import hybrid_server
from tests.support.ircd import IrcServer, inspircd_server, ngircd_server
from tests.support.smtp import smtp, smtp_tls  # noqa: F401 (fixtures: a real SMTP server)

os.environ.setdefault("PTB_TIMEDELTA", "true")

# CI runs the same examples every time (no flaky discoveries there); no deadline on busy
# machines. Locally hypothesis keeps exploring new examples.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# A test that uses one of these fixtures, or whose module starts servers or the bridge as a
# subprocess itself, is marked `e2e`: `pytest -m "not e2e"` runs the rest in seconds.
E2E_FIXTURES = frozenset({"fake_tg", "ngircd", "inspircd", "hybrid", "smtp", "smtp_tls"})
E2E_MODULE_NAMES = frozenset(
    {
        "bridge_process",
        "run_cli",
        "services_stack",
        "ngircd_server",
        "inspircd_server",
        "hybrid_server",
    }
)


LIBRARY_LOGGERS = ("httpx", "httpcore", "irc", "telegram", "aiosqlite", "asyncio")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The CLI's setup_logging configures the root logger and the libraries' levels for its
    process; a test that runs it (or sets a level) gives pytest's back, so no later test in
    the worker captures the irc library's DEBUG lines."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    for name, library_level in levels.items():
        logging.getLogger(name).setLevel(library_level)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        fixtures = getattr(item, "fixturenames", ())
        uses_fixture = not E2E_FIXTURES.isdisjoint(fixtures) or (
            # a module's own `fake` fixture that starts the fake Bot API
            "fake" in fixtures and module is not None and "FakeTelegram" in vars(module)
        )
        starts_processes = module is not None and not E2E_MODULE_NAMES.isdisjoint(vars(module))
        if uses_fixture or starts_processes:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
async def fake_tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_chat(GROUP, title="Bridge group", member_count=7)
        yield fake


@pytest.fixture
async def ngircd(tmp_path: Path) -> AsyncIterator[IrcServer]:
    async with ngircd_server(tmp_path / "ngircd") as server:
        yield server


@pytest.fixture
async def inspircd(tmp_path: Path) -> AsyncIterator[IrcServer]:
    async with inspircd_server(tmp_path / "inspircd") as server:
        yield server


@pytest.fixture
async def hybrid(tmp_path: Path) -> AsyncIterator[IrcServer]:
    """ircd-hybrid 8.2, unpacked by scripts/fetch_hybrid.sh (tests/support/hybrid.py)."""
    async with hybrid_server(tmp_path / "hybrid") as server:
        yield server


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[RosterStore]:
    """A migrated roster in a temp file (test_storage_roster has its own, with a clock)."""
    async with open_store(tmp_path / "roster.sqlite3") as s:
        yield s


@pytest.fixture
def registry() -> CommandRegistry:
    """Every command, with a rate limit no test reaches unless it means to."""
    return build_registry(commands_per_minute=1000)


@pytest.fixture
def failing_inserts(
    store: RosterStore,
) -> Callable[[str], AbstractAsyncContextManager[None]]:
    """Inside `async with failing_inserts(table)`, SQLite itself refuses every INSERT into
    table (as a full disk would), so a test sees what a command leaves behind when its
    last write fails."""

    @asynccontextmanager
    async def failing(table: str) -> AsyncIterator[None]:
        await store.db.conn.execute(
            f"CREATE TEMP TRIGGER fail_{table} BEFORE INSERT ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'the test refuses this write'); END"
        )
        try:
            yield
        finally:
            await store.db.conn.execute(f"DROP TRIGGER temp.fail_{table}")

    return failing
