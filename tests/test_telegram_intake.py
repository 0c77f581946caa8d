"""Telegram intake: an update is confirmed (getUpdates offset) only after it was handled, or
set aside when handling it raised; one that cannot even be set aside is polled again."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest

from bridge.model import Message
from bridge.telegram import TelegramConnector
from storage.db import StorageError
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import ALICE, GROUP, telegram_only_config


@pytest.fixture
async def telegram(fake_tg: FakeTelegram) -> AsyncIterator[TelegramConnector]:
    connector = TelegramConnector(telegram_only_config(fake_tg).telegram)
    yield connector
    await connector.confirm()
    await connector.close()


@contextlib.asynccontextmanager
async def polling(task: asyncio.Task[None]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def never_set_aside(reference: str, raw: str, error: Exception) -> None:
    raise AssertionError(f"update {reference} was not expected to fail: {error!r}")


async def test_offset_moves_past_an_update_only_once_it_is_stored(
    fake_tg: FakeTelegram, telegram: TelegramConnector
) -> None:
    stored: list[str] = []
    release = asyncio.Event()

    async def router(message: Message) -> None:
        if message.text == "first":
            await release.wait()  # the outbox write has not finished yet
        stored.append(message.text)

    first = fake_tg.push_text(GROUP, ALICE, "first")
    second = fake_tg.push_text(GROUP, ALICE, "second")
    async with polling(asyncio.create_task(telegram.run(router, never_set_aside))):
        await asyncio.sleep(1.5)  # more than a poll timeout: it would have polled again by now
        assert stored == []
        assert fake_tg.confirmed_offset <= first.update_id  # nothing confirmed past "first"
        release.set()
        await fake_tg.wait_confirmed(second.update_id, timeout=5)
        assert stored == ["first", "second"]


async def test_an_update_that_raises_is_set_aside_and_confirmed(
    fake_tg: FakeTelegram, telegram: TelegramConnector
) -> None:
    routed: list[str] = []
    kept: list[tuple[str, str, str]] = []

    async def router(message: Message) -> None:
        routed.append(message.text)

    async def set_aside(reference: str, raw: str, error: Exception) -> None:
        kept.append((reference, raw, type(error).__name__))

    # PTB takes any JSON value for a latitude; the translator formats it as a number.
    poison = fake_tg.push_message(GROUP, ALICE, location={"latitude": "north", "longitude": 2})
    after = fake_tg.push_text(GROUP, ALICE, "after the poison")
    async with polling(asyncio.create_task(telegram.run(router, set_aside))):
        await fake_tg.wait_confirmed(after.update_id, timeout=10)
    assert routed == ["after the poison"]
    [(reference, raw, error)] = kept
    assert (reference, error) == (str(poison.update_id), "ValueError")
    assert json.loads(raw) == poison.update


async def test_an_update_that_cannot_be_stored_or_set_aside_is_polled_again(
    fake_tg: FakeTelegram, telegram: TelegramConnector
) -> None:
    attempts: list[str] = []

    async def router(message: Message) -> None:
        attempts.append(message.text)
        if len(attempts) == 1:
            raise StorageError("storage.path x: database is locked")

    async def set_aside(reference: str, raw: str, error: Exception) -> None:
        raise error  # the App's rule: a storage failure is not the update's fault

    pushed = fake_tg.push_text(GROUP, ALICE, "kept")
    async with polling(asyncio.create_task(telegram.run(router, set_aside))):
        await fake_tg.wait_confirmed(pushed.update_id, timeout=10)
    assert attempts == ["kept", "kept"]


async def test_polling_lost_and_back_counts_one_outage(
    fake_tg: FakeTelegram, telegram: TelegramConnector
) -> None:
    """What /metrics shows as tgirc_reconnects_total{network="telegram"}: an outage is
    counted once it is over, however many polls failed during it."""
    routed: list[str] = []

    async def router(message: Message) -> None:
        routed.append(message.text)

    fake_tg.fail_next("getUpdates", count=2, kind="502")
    after = fake_tg.push_text(GROUP, ALICE, "after the outage")
    async with polling(asyncio.create_task(telegram.run(router, never_set_aside))):
        await fake_tg.wait_confirmed(after.update_id, timeout=15)
        assert routed == ["after the outage"]
        assert telegram.outages == 1
        assert telegram.connection_state == "ready"
