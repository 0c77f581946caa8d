"""The durable outbox: order, de-duplication, edits replacing edits, retries and the horizon."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.app import prune_old
from bridge.model import Posted
from bridge.outbox import NewItem, Outbox
from bridge.payloads import IrcLines
from bridge.sending import (
    Outgoing,
    PermanentError,
    Progress,
    Queued,
    Sent,
    TransientError,
    payload_store,
)
from storage.db import Database, StorageError
from storage.message_map import MappedMessage, MessageMap
from tests.support.outbox import RecordingSender, item, running, summary, text_of


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


async def test_delivers_in_order_and_forgets_delivered(db: Database) -> None:
    sender = RecordingSender()
    outbox = Outbox(payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary)
    async with running(outbox):
        await outbox.enqueue([item(f"m{i}") for i in range(20)])
        await sender.wait_count(20)
        assert await outbox.wait_idle(2)
    assert sender.received == [f"m{i}" for i in range(20)]
    assert await payload_store(db).stats() == []


async def test_duplicates_are_ignored_even_after_delivery(db: Database) -> None:
    sender = RecordingSender()
    outbox = Outbox(payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary)
    async with running(outbox):
        assert await outbox.enqueue([item("a"), item("a")]) == 1
        await sender.wait_count(1)
        assert await outbox.wait_idle(2)
        assert await outbox.enqueue([item("a")]) == 0
    assert sender.received == ["a"]


async def test_transient_failures_are_retried_with_retry_after(db: Database) -> None:
    sender = RecordingSender()
    sender.failures = [
        TransientError("429", retry_after=0.2),
        TransientError("502", retry_after=0.1),
    ]
    outbox = Outbox(payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary)
    loop = asyncio.get_running_loop()
    async with running(outbox):
        start = loop.time()
        await outbox.enqueue([item("x"), item("y")])
        await sender.wait_count(2)
        assert loop.time() - start >= 0.3
    assert sender.received == ["x", "y"]


async def test_permanent_failure_drops_only_that_item(db: Database) -> None:
    sender = RecordingSender()
    sender.failures = [PermanentError("chat not found")]
    outbox = Outbox(payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary)
    async with running(outbox):
        await outbox.enqueue([item("bad"), item("good")])
        await sender.wait_count(1)
    assert sender.received == ["good"]


async def test_edit_replaces_waiting_edit(db: Database) -> None:
    sender = RecordingSender()
    outbox = Outbox(payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary)
    async with running(outbox):
        for n in range(3):
            await outbox.enqueue([item(f"edit{n}", replace_key="e:1", delay=0.3)])
        await outbox.enqueue([item("other")])
        await sender.wait_count(2)
        assert await outbox.wait_idle(3)
    assert sender.received == ["other", "edit2"]


async def test_waits_while_destination_is_down_then_resumes(db: Database) -> None:
    sender = RecordingSender()
    sender.ready.clear()
    outbox = Outbox(payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary)
    async with running(outbox):
        await outbox.enqueue([item(f"m{i}") for i in range(5)])
        await asyncio.sleep(0.1)
        assert sender.received == []
        sender.ready.set()
        await sender.wait_count(5)
    assert sender.received == [f"m{i}" for i in range(5)]


async def test_survives_restart_from_the_store(db: Database) -> None:
    store = payload_store(db)
    await store.enqueue([item("left over")])
    sender = RecordingSender()
    async with running(Outbox(store, {"irc": sender}, horizon_hours=24, summary=summary)):
        await sender.wait_count(1)
    assert sender.received == ["left over"]


async def test_messages_older_than_horizon_are_reported_not_sent(db: Database) -> None:
    clock = [1000.0]
    store = payload_store(db, clock=lambda: clock[0])
    await store.enqueue([item("ancient")])
    clock[0] += 2 * 3600
    await store.enqueue([item("fresh")])
    sender = RecordingSender()
    async with running(Outbox(store, {"irc": sender}, horizon_hours=1, summary=summary)):
        await sender.wait_count(2)
    assert sender.received == ["fresh", "1 lost in 1 h"]


async def test_cancelled_writer_leaves_no_open_transaction(db: Database) -> None:
    async def writer() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO state (key, value) VALUES ('a', '1')")
            await asyncio.sleep(10)

    for _ in range(20):  # cancel at different points, BEGIN included
        task = asyncio.create_task(writer())
        await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO state (key, value) VALUES ('b', '2')")
    assert [tuple(r) for r in await db.fetchall("SELECT key, value FROM state")] == [("b", "2")]


async def test_concurrent_producers_lose_nothing_and_keep_their_order(db: Database) -> None:
    """Many writers racing the worker as it drains and refills: the in-memory queue must
    never skip a stored row nor deliver one twice."""
    sender = RecordingSender()
    outbox = Outbox(payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary)
    rng = random.Random(7)

    async def produce(name: str) -> None:
        for i in range(40):
            await outbox.enqueue([item(f"{name}{i}")])
            for _ in range(rng.randrange(4)):  # let the worker drain and go idle, often
                await asyncio.sleep(0)

    async with running(outbox):
        await asyncio.gather(*(produce(p) for p in "abcde"))
        await sender.wait_count(200)
        assert await outbox.wait_idle(2)
    assert sorted(sender.received) == sorted(f"{p}{i}" for p in "abcde" for i in range(40))
    for p in "abcde":
        assert [r for r in sender.received if r[0] == p] == [f"{p}{i}" for i in range(40)]


async def test_idle_queue_delivers_without_reading_the_store_back(db: Database) -> None:
    """The hot path: once a queue has drained, new items go out from memory."""
    store = payload_store(db)
    reads = 0
    real_due = store.due

    async def counting_due(network: str, chat: str, limit: int) -> list[Queued]:
        nonlocal reads
        reads += 1
        return await real_due(network, chat, limit)

    store.due = counting_due  # type: ignore[method-assign]
    sender = RecordingSender()
    outbox = Outbox(store, {"irc": sender}, horizon_hours=24, summary=summary)
    async with running(outbox):
        await outbox.enqueue([item("first")])
        await sender.wait_count(1)
        assert await outbox.wait_idle(2)
        before = reads
        for i in range(10):
            await outbox.enqueue([item(f"m{i}")])
            await sender.wait_count(2 + i)
        assert await outbox.wait_idle(2)
        assert reads == before
    assert sender.received == ["first"] + [f"m{i}" for i in range(10)]
    assert await store.stats() == []


async def test_edit_after_idle_still_replaces_the_waiting_edit(db: Database) -> None:
    sender = RecordingSender()
    outbox = Outbox(payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary)
    async with running(outbox):
        await outbox.enqueue([item("before")])
        await sender.wait_count(1)
        assert await outbox.wait_idle(2)
        for n in range(3):
            await outbox.enqueue([item(f"edit{n}", replace_key="e:1", delay=0.3)])
        await outbox.enqueue([item("after")])
        await sender.wait_count(3)
        assert await outbox.wait_idle(3)
    assert sender.received == ["before", "after", "edit2"]


class MultiLineSender(RecordingSender):
    """Writes payload lines one by one, failing once after the first line of "two"."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    async def deliver(self, chat: str, items: list[Queued], progress: Progress) -> Sent:
        head = items[0]
        assert isinstance(head.payload, IrcLines)
        lines = head.payload.lines
        for index in range(head.progress, len(lines)):
            if lines[0] == "two.1" and index == 1 and not self.failed:
                self.failed = True
                raise TransientError("connection lost", retry_after=0.05)
            self.received.append(lines[index])
            await progress(head, index + 1)
        self.arrived.set()
        return Sent(1)


async def test_retry_after_a_partial_write_resumes_at_the_next_line(db: Database) -> None:
    sender = MultiLineSender()
    outbox = Outbox(payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary)

    def lines(text: str) -> Outgoing:
        return NewItem("irc", "#c", text, "relay", IrcLines((f"{text}.1", f"{text}.2")))

    async with running(outbox):
        await outbox.enqueue([lines("one")])
        await sender.wait_count(2)
        assert await outbox.wait_idle(2)
        await outbox.enqueue([lines("two"), lines("three")])
        await sender.wait_count(6)
    assert sender.received == ["one.1", "one.2", "two.1", "two.2", "three.1", "three.2"]


class PostingSender(RecordingSender):
    """A destination that answers with the id of the message it posted (as Telegram does)."""

    async def deliver(self, chat: str, items: list[Queued], progress: Progress) -> Sent:
        await super().deliver(chat, items, progress)
        text = text_of(items[0])
        return Sent(1, Posted("telegram", chat, f"id-{text}", "alice", text))


async def test_posted_message_is_remembered_with_its_delivery(db: Database) -> None:
    sender = PostingSender()
    outbox = Outbox(payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary)
    async with running(outbox):
        await outbox.enqueue([item("hello")])
        await sender.wait_count(1)
        assert await outbox.wait_idle(2)
    assert await MessageMap(db).lookup("telegram", "#c", "id-hello") == MappedMessage(
        "alice", "hello"
    )


async def test_delivery_and_its_record_commit_together(db: Database) -> None:
    """If remembering the posted message fails, the item is not marked delivered either:
    a restart finds it still queued, never delivered-but-unknown."""
    store = payload_store(db)
    [queued] = await store.enqueue([item("x")])
    await db.conn.execute("DROP TABLE message_map")
    with pytest.raises(sqlite3.OperationalError):
        await store.complete([queued], Posted("telegram", "#c", "1", "alice", "x"))
    assert [s.depth for s in await store.stats()] == [1]
    assert await store.enqueue([item("x")]) == []  # still queued, so a duplicate is refused
    assert not await db.fetchall("SELECT 1 FROM delivered")


async def test_old_delivered_keys_and_reply_records_are_forgotten(db: Database) -> None:
    store = payload_store(db)
    now = time.time()
    for key, age_h in (("old", 49), ("recent", 47)):
        await db.write(
            "INSERT INTO delivered (dedup_key, delivered_at) VALUES (?, ?)",
            (key, now - age_h * 3600),
        )
    for mid, age_d in (("1", 8), ("2", 6)):
        await db.write(
            "INSERT INTO message_map VALUES ('telegram', '-1', ?, 'alice', 'hi', ?)",
            (mid, now - age_d * 86400),
        )
    await prune_old(store, MessageMap(db), horizon_hours=24)
    assert [r[0] for r in await db.fetchall("SELECT dedup_key FROM delivered")] == ["recent"]
    assert [r[0] for r in await db.fetchall("SELECT message_id FROM message_map")] == ["2"]


class BlockingSender(RecordingSender):
    """A destination whose first send stays on the wire until released."""

    def __init__(self) -> None:
        super().__init__()
        self.on_wire = asyncio.Event()
        self.release = asyncio.Event()

    async def deliver(self, chat: str, items: list[Queued], progress: Progress) -> Sent:
        self.on_wire.set()
        await self.release.wait()
        return await super().deliver(chat, items, progress)


async def test_stop_lets_the_message_on_the_wire_finish_and_keeps_the_rest(db: Database) -> None:
    sender = BlockingSender()
    store = payload_store(db)
    outbox = Outbox(store, {"irc": sender}, horizon_hours=24, summary=summary)
    async with running(outbox):
        await outbox.enqueue([item("on the wire"), item("waiting")])
        await asyncio.wait_for(sender.on_wire.wait(), 2)
        stopping = asyncio.create_task(outbox.stop(timeout=5))
        await asyncio.sleep(0.1)
        assert not stopping.done()  # it waits for the send in progress
        sender.release.set()
        await asyncio.wait_for(stopping, 2)
    assert sender.received == ["on the wire"]
    assert [r[0] for r in await db.fetchall("SELECT dedup_key FROM outbox")] == ["waiting"]
    assert [r[0] for r in await db.fetchall("SELECT dedup_key FROM delivered")] == ["on the wire"]


async def test_stop_does_not_wait_for_a_destination_that_is_down(db: Database) -> None:
    sender = RecordingSender()
    sender.ready.clear()
    outbox = Outbox(payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary)
    async with running(outbox):
        await outbox.enqueue([item("queued")])
        await asyncio.sleep(0.05)
        await asyncio.wait_for(outbox.stop(timeout=30), 1)
    assert sender.received == []


def to(chat: str, text: str) -> Outgoing:
    return NewItem("irc", chat, f"{chat}:{text}", "reply", IrcLines((text,)))


async def test_discard_stops_a_delivery_in_progress_and_forgets_that_destination(
    db: Database,
) -> None:
    sender = BlockingSender()
    store = payload_store(db)
    outbox = Outbox(store, {"irc": sender}, horizon_hours=24, summary=summary)
    async with running(outbox):
        await outbox.enqueue([to("Bob", "export 1/2"), to("Bob", "export 2/2")])
        await asyncio.wait_for(sender.on_wire.wait(), 2)
        assert await outbox.discard("irc", lambda chat: chat.lower() == "bob") == 2
        sender.release.set()
        await outbox.enqueue([to("#chan", "still relayed")])
        await sender.wait_count(1)
        assert await outbox.wait_idle(2)
    assert sender.received == ["still relayed"]
    assert await store.stats() == []


async def test_enqueue_and_wait_reports_refusal_delivery_and_a_slow_destination(
    db: Database,
) -> None:
    sender = RecordingSender()
    outbox = Outbox(payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary)
    async with running(outbox):
        assert await outbox.enqueue_and_wait([to("alice", "hi")], timeout=2) is True
        sender.failures.append(PermanentError("user never started the bot"))
        assert await outbox.enqueue_and_wait([to("carol", "hi")], timeout=2) is False
        sender.ready.clear()
        began = time.monotonic()
        assert await outbox.enqueue_and_wait([to("dave", "hi")], timeout=0.2) is True
        assert time.monotonic() - began < 1
    assert sender.received == ["hi"]


async def test_a_database_that_stays_locked_is_a_pause_not_the_end_of_delivery(
    db: Database,
) -> None:
    sender = RecordingSender()
    store = payload_store(db)
    real_due = store.due
    calls = 0

    async def locked_once(network: str, chat: str, limit: int) -> list[Queued]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise StorageError("storage.path t.sqlite3: database is locked")
        return await real_due(network, chat, limit)

    store.due = locked_once  # type: ignore[method-assign]
    outbox = Outbox(store, {"irc": sender}, horizon_hours=24, summary=summary, max_backoff=0.05)
    await outbox.enqueue([item("kept")])
    async with running(outbox):
        await sender.wait_count(1)
    assert sender.received == ["kept"] and calls >= 2


# ------------------------------------------------ idle workers (issue 21, item 9)


async def test_a_flood_of_private_destinations_leaves_no_worker_behind(db: Database) -> None:
    sender = RecordingSender()
    outbox = Outbox(
        payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary, idle_worker=0.2
    )
    async with running(outbox):
        for n in range(50):
            await outbox.enqueue([to(f"clone{n}", "hello")])
        await sender.wait_count(50)
        workers = outbox.workers()
        assert len(workers) == 50
        done, _ = await asyncio.wait(workers.values(), timeout=5)
        assert len(done) == 50 and outbox.workers() == {}
        assert await outbox.wait_idle(1)
        # A destination that comes back gets a new worker, and its messages in order.
        await outbox.enqueue([to("clone7", "again"), to("clone7", "and again")])
        await sender.wait_count(52)
        assert sender.received[-2:] == ["again", "and again"]
        assert list(outbox.workers()) == [("irc", "clone7")]


async def test_a_busy_destination_keeps_its_worker(db: Database) -> None:
    sender = RecordingSender()
    outbox = Outbox(
        payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary, idle_worker=0.5
    )
    async with running(outbox):
        for n in range(6):
            await outbox.enqueue([to("#chan", f"line {n}")])
            await sender.wait_count(n + 1)
            await asyncio.sleep(0.1)  # busier than idle_worker: one worker throughout
        [task] = outbox.workers().values()
        assert not task.done()
    assert sender.received == [f"line {n}" for n in range(6)]
