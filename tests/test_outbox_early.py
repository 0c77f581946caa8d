"""Sending from memory while the row is written (issue 12): the guarantee is unchanged.

The caller of enqueue() (the poller, before Telegram's offset moves; the IRC inbox) gets
control back only once the row is stored; the delivery is recorded only after both the send
and the write; a crash anywhere sends the one in-flight message once more at most, and a
message that may have been delivered before is de-duplicated before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.outbox import Outbox
from bridge.outbox_mirror import Provisional
from bridge.sending import payload_store
from storage.db import Database, StorageError
from tests.support.outbox import RecordingSender, item, running, summary


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


async def delivered_keys(db: Database) -> list[str]:
    return [r[0] for r in await db.fetchall("SELECT dedup_key FROM delivered ORDER BY 1")]


async def queued_keys(db: Database) -> list[str]:
    return [r[0] for r in await db.fetchall("SELECT dedup_key FROM outbox ORDER BY id")]


class GatedWrites:
    """Holds OutboxStore.enqueue (the durable write) until opened."""

    def __init__(self, outbox: Outbox) -> None:
        self.open = asyncio.Event()
        self.entered = asyncio.Event()
        real = outbox.store.enqueue

        async def gated(items):  # type: ignore[no-untyped-def]
            self.entered.set()
            await self.open.wait()
            return await real(items)

        outbox.store.enqueue = gated  # type: ignore[method-assign]


async def idle_outbox(db: Database, sender: RecordingSender) -> Outbox:
    """An outbox whose queue has drained once (so it is kept in memory)."""
    return Outbox(payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary)


async def drain_once(outbox: Outbox, sender: RecordingSender, key: str = "warm") -> None:
    await outbox.enqueue([item(key)])
    await sender.wait_count(1)
    assert await outbox.wait_idle(2)


async def test_idle_message_goes_out_while_its_row_is_written(db: Database) -> None:
    sender = RecordingSender()
    outbox = await idle_outbox(db, sender)
    async with running(outbox):
        await drain_once(outbox, sender)
        gate = GatedWrites(outbox)
        queued = asyncio.create_task(outbox.enqueue([item("x")]))
        await sender.wait_count(2)  # sent before the write is done...
        await asyncio.wait_for(gate.entered.wait(), 2)
        assert not queued.done()  # ...and not acknowledged yet
        await asyncio.sleep(0.05)
        assert "x" not in await delivered_keys(db)  # no record before the row exists
        gate.open.set()
        assert await asyncio.wait_for(queued, 2) == 1
        assert await outbox.wait_idle(2)
    assert sender.received == ["warm", "x"]
    assert await delivered_keys(db) == ["warm", "x"]
    assert await queued_keys(db) == []


async def test_crash_after_the_send_before_its_record_sends_it_once_more(db: Database) -> None:
    sender = RecordingSender()
    outbox = await idle_outbox(db, sender)
    never = asyncio.Event()

    async def crash_before_record(items, posted=None):  # type: ignore[no-untyped-def]
        await never.wait()

    async with running(outbox):
        await drain_once(outbox, sender)
        outbox.store.complete = crash_before_record  # type: ignore[method-assign]
        assert await outbox.enqueue([item("x")]) == 1  # stored: the source may move on
        await sender.wait_count(2)
    # the process died here: sent and stored, not recorded
    assert await queued_keys(db) == ["x"]
    again = RecordingSender()
    async with running(await idle_outbox(db, again)):
        await again.wait_count(1)
        await asyncio.sleep(0.1)
    assert sender.received == ["warm", "x"] and again.received == ["x"]
    assert await queued_keys(db) == [] and "x" in await delivered_keys(db)


async def test_crash_before_the_write_loses_nothing(db: Database) -> None:
    """Sent early, then the process dies before the row is written: the source was not
    acknowledged, gives the message again after the restart, and it goes out once more."""
    sender = RecordingSender()
    outbox = await idle_outbox(db, sender)
    async with running(outbox):
        await drain_once(outbox, sender)
        GatedWrites(outbox)
        queued = asyncio.create_task(outbox.enqueue([item("x")]))
        await sender.wait_count(2)
        queued.cancel()  # the crash: enqueue never returned, so nothing was acknowledged
        with contextlib.suppress(asyncio.CancelledError):
            await queued
    assert await queued_keys(db) == [] and "x" not in await delivered_keys(db)
    again = RecordingSender()
    restarted = await idle_outbox(db, again)
    async with running(restarted):
        # the first poll after a restart: the update comes again, marked
        assert await restarted.enqueue([item("x", replay_possible=True)]) == 1
        await again.wait_count(1)
        assert await restarted.wait_idle(2)
    assert sender.received == ["warm", "x"] and again.received == ["x"]
    assert "x" in await delivered_keys(db)


async def test_a_message_given_again_after_a_restart_is_not_sent_again(db: Database) -> None:
    sender = RecordingSender()
    outbox = await idle_outbox(db, sender)
    async with running(outbox):
        await drain_once(outbox, sender)
        await outbox.enqueue([item("x")])
        await sender.wait_count(2)
        assert await outbox.wait_idle(2)
    again = RecordingSender()
    restarted = await idle_outbox(db, again)
    async with running(restarted):
        await drain_once(restarted, again, "warm2")
        # Telegram gives the unconfirmed update again, marked
        assert await restarted.enqueue([item("x", replay_possible=True)]) == 0
        await asyncio.sleep(0.1)
    assert again.received == ["warm2"]


async def test_a_message_marked_as_a_possible_replay_waits_for_its_row(db: Database) -> None:
    """replay_possible (set where the message was decoded): not sent before the store has
    checked its key, even to an idle queue; a fresh one beside it goes out at once."""
    sender = RecordingSender()
    outbox = await idle_outbox(db, sender)
    async with running(outbox):
        await drain_once(outbox, sender)
        gate = GatedWrites(outbox)
        queued = asyncio.create_task(outbox.enqueue([item("again", replay_possible=True)]))
        await asyncio.wait_for(gate.entered.wait(), 2)
        await asyncio.sleep(0.05)
        assert sender.received == ["warm"]  # nothing sent while its row is being written
        gate.open.set()
        assert await asyncio.wait_for(queued, 2) == 1
        await sender.wait_count(2)
        assert await outbox.wait_idle(2)
        gate.open.clear()
        gate.entered.clear()
        fresh = asyncio.create_task(outbox.enqueue([item("fresh")]))
        await sender.wait_count(3)  # sent early, the write still held
        assert not fresh.done()
        gate.open.set()
        assert await asyncio.wait_for(fresh, 2) == 1
        assert await outbox.wait_idle(2)
    assert sender.received == ["warm", "again", "fresh"]
    assert await delivered_keys(db) == ["again", "fresh", "warm"]


async def test_a_key_offered_twice_in_one_process_is_sent_once(db: Database) -> None:
    """An update polled again (its handling failed half-way) meets the store first."""
    sender = RecordingSender()
    outbox = await idle_outbox(db, sender)
    async with running(outbox):
        await drain_once(outbox, sender)
        gate = GatedWrites(outbox)
        first = asyncio.create_task(outbox.enqueue([item("x")]))
        await sender.wait_count(2)
        gate.open.set()
        await first
        assert await outbox.enqueue([item("x")]) == 0
        await asyncio.sleep(0.1)
    assert sender.received == ["warm", "x"]


async def test_a_write_that_fails_after_the_send_is_not_recorded_and_delivery_goes_on(
    db: Database,
) -> None:
    sender = RecordingSender()
    outbox = await idle_outbox(db, sender)
    real = outbox.store.enqueue
    fail = asyncio.Event()

    async def failing(items):  # type: ignore[no-untyped-def]
        if not fail.is_set():
            fail.set()
            await asyncio.sleep(0.05)
            raise StorageError("storage.path t.sqlite3: database is locked")
        return await real(items)

    async with running(outbox):
        await drain_once(outbox, sender)
        outbox.store.enqueue = failing  # type: ignore[method-assign]
        with pytest.raises(StorageError):  # the source is not acknowledged: it comes again
            await outbox.enqueue([item("x")])
        assert await outbox.enqueue([item("y")]) == 1
        await sender.wait_count(3)
        assert await outbox.wait_idle(2)
    assert sender.received == ["warm", "x", "y"]
    assert await delivered_keys(db) == ["warm", "y"]
    assert await queued_keys(db) == []


async def test_a_busy_queue_still_takes_the_durable_path(db: Database) -> None:
    """Only an idle destination sends early: behind a queue the order comes from the store."""
    sender = RecordingSender()
    sender.ready.clear()
    outbox = await idle_outbox(db, sender)
    seen: list[bool] = []
    real = sender.deliver

    async def deliver(chat, items, progress):  # type: ignore[no-untyped-def]
        seen.append(isinstance(items[0], Provisional))
        return await real(chat, items, progress)

    sender.deliver = deliver  # type: ignore[method-assign]
    async with running(outbox):
        await outbox.enqueue([item(f"m{i}") for i in range(3)])
        sender.ready.set()
        await sender.wait_count(3)
        assert await outbox.wait_idle(2)
        await outbox.enqueue([item("idle")])
        await sender.wait_count(4)
        assert await outbox.wait_idle(2)
    assert sender.received == ["m0", "m1", "m2", "idle"]
    assert seen == [False, False, False, True]


async def test_the_write_begins_once_the_worker_tried_to_send(db: Database) -> None:
    """The database thread is not woken while the message is being written to its socket:
    it would compete with the event loop for the GIL and a CPU."""
    sender = RecordingSender()
    outbox = await idle_outbox(db, sender)
    async with running(outbox):
        await drain_once(outbox, sender)
        gate = GatedWrites(outbox)
        gate.open.set()
        writing_when_sent: list[bool] = []
        real = sender.deliver

        async def deliver(chat, items, progress):  # type: ignore[no-untyped-def]
            for _ in range(5):  # an HTTP client takes several loop turns to write a request
                await asyncio.sleep(0)
            writing_when_sent.append(gate.entered.is_set())
            return await real(chat, items, progress)

        sender.deliver = deliver  # type: ignore[method-assign]
        assert await asyncio.wait_for(outbox.enqueue([item("x")]), 2) == 1
        assert await outbox.wait_idle(2)
    assert writing_when_sent == [False]
    assert await delivered_keys(db) == ["warm", "x"]


async def test_a_send_that_hangs_does_not_hold_the_write(db: Database) -> None:
    """The write waits for the attempt a short, bounded time only: the source is
    acknowledged even while the destination hangs."""
    sender = RecordingSender()
    outbox = await idle_outbox(db, sender)
    release = asyncio.Event()
    async with running(outbox):
        await drain_once(outbox, sender)
        real = sender.deliver

        async def deliver(chat, items, progress):  # type: ignore[no-untyped-def]
            await release.wait()
            return await real(chat, items, progress)

        sender.deliver = deliver  # type: ignore[method-assign]
        assert await asyncio.wait_for(outbox.enqueue([item("x")]), 1) == 1
        assert await queued_keys(db) == ["x"]  # stored, not yet delivered
        release.set()
        await sender.wait_count(2)
        assert await outbox.wait_idle(2)
    assert await delivered_keys(db) == ["warm", "x"]
    assert await queued_keys(db) == []
