"""Shared fixtures: real IRC servers and the strict fake Bot API, one set per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.harness import GROUP
from tests.support.fake_telegram import FakeTelegram
from tests.support.ircd import IrcServer, inspircd_server, ngircd_server

os.environ.setdefault("PTB_TIMEDELTA", "true")

# CI runs the same examples every time (no flaky discoveries there); no deadline on busy
# machines. Locally hypothesis keeps exploring new examples.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


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
