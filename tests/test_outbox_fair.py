"""A fair share per sender (issue 19, item 3): within a destination senders take turns.

The store gives the order (OutboxStore.due()): each sender's messages in the order they came,
the senders whose next message waits in the order they joined the line, and a sender goes to
the back of it each time one of theirs went out. The property tests drive the real store (and,
below, the whole Outbox with its in-memory early send) with random posts and sends and check
it against that rule and against what it promises: each sender's order, every message once,
and no one waiting more than one turn per other sender.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiosqlite
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.model import Author, Network, UserId
from bridge.outbox import NewItem, Outbox, sender_of
from bridge.payloads import IrcLines
from bridge.sending import Outgoing, PayloadStore, payload_store
from storage.db import Database
from storage.migrate import apply_migrations
from storage.outbox_store import author_of_sender
from tests.support.outbox import SteppedSender, running, summary, text_of


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


def post(sender: str, text: str, **kw: object) -> Outgoing:
    """sender says text; the item's key is the text (unique in each test)."""
    return NewItem("irc", "#c", text, "relay", IrcLines((text,)), sender=sender, **kw)  # type: ignore[arg-type]


async def order(store: PayloadStore) -> list[str]:
    return [text_of(item) for item in await store.due("irc", "#c", 100)]


async def send_next(store: PayloadStore) -> str:
    """The destination takes the next item, as a worker would."""
    head = (await store.due("irc", "#c", 1))[0]
    await store.complete([head])
    return text_of(head)


# ------------------------------------------------------------------ the order, by example


async def test_behind_a_flood_another_sender_waits_one_message(db: Database) -> None:
    store = payload_store(db)
    await store.enqueue([post("alice", f"a{i}") for i in range(1, 7)])
    await store.enqueue([post("bob", "b1")])
    assert await order(store) == ["a1", "b1", "a2", "a3", "a4", "a5", "a6"]


async def test_a_sender_whose_message_went_goes_to_the_back_of_the_line(db: Database) -> None:
    store = payload_store(db)
    await store.enqueue([post("alice", "a1"), post("alice", "a2"), post("alice", "a3")])
    await store.enqueue([post("bob", "b1"), post("bob", "b2")])
    assert await order(store) == ["a1", "b1", "a2", "b2", "a3"]
    assert await send_next(store) == "a1"
    await store.enqueue([post("carol", "c1")])  # joins after alice went back
    assert await order(store) == ["b1", "a2", "c1", "b2", "a3"]
    assert [await send_next(store) for _ in range(5)] == ["b1", "a2", "c1", "b2", "a3"]
    assert await store.due("irc", "#c", 10) == []


async def test_one_message_each_goes_in_arrival_order(db: Database) -> None:
    store = payload_store(db)
    for sender in ["dan", "alice", "carol", "bob"]:
        await store.enqueue([post(sender, sender)])
    assert await order(store) == ["dan", "alice", "carol", "bob"]


async def test_destinations_take_turns_separately(db: Database) -> None:
    store = payload_store(db)
    await store.enqueue([post("alice", "a1"), post("alice", "a2")])
    other = NewItem("irc", "#d", "d1", "relay", IrcLines(("d1",)), sender="bob")
    await store.enqueue([other, post("bob", "b1")])
    assert await order(store) == ["a1", "b1", "a2"]
    assert [text_of(i) for i in await store.due("irc", "#d", 10)] == ["d1"]


async def test_an_edit_that_replaces_a_waiting_one_keeps_its_place(db: Database) -> None:
    store = payload_store(db)
    await store.enqueue([post("alice", "a1 v1", replace_key="edit:a1")])
    await store.enqueue([post("bob", "b1")])
    await store.enqueue([post("alice", "a1 v2", replace_key="edit:a1")])
    assert await order(store) == ["a1 v2", "b1"]


async def test_a_message_partly_written_finishes_before_any_other(db: Database) -> None:
    """Its remaining IRC lines are never split by another message."""
    store = payload_store(db)
    await store.enqueue([post("alice", "a1"), post("bob", "b1")])
    b1 = (await store.due("irc", "#c", 10))[1]
    await store.set_progress(b1.id, 1)
    assert await order(store) == ["b1", "a1"]


async def test_a_refused_message_was_its_senders_turn(db: Database) -> None:
    store = payload_store(db)
    await store.enqueue([post("alice", "a1"), post("alice", "a2"), post("bob", "b1")])
    head = (await store.due("irc", "#c", 1))[0]
    await store.drop([head])
    assert await order(store) == ["b1", "a2"]


async def test_rows_queued_before_the_sender_column_keep_their_order(tmp_path: Path) -> None:
    """An older database: its waiting rows take their turns as one sender, in their order."""
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await apply_migrations(conn, target=10)
        for i in range(1, 4):
            await conn.execute(
                "INSERT INTO outbox (network, chat, dedup_key, kind, payload, created_at, "
                "not_before) VALUES ('irc', '#c', ?, 'relay', ?, 1.0, 1.0)",
                (f"o{i}", f'{{"lines": ["o{i}"]}}'),
            )
    db = await Database.open(path)
    try:
        store = payload_store(db)
        assert await order(store) == ["o1", "o2", "o3"]
        await store.enqueue([post("bob", "b1")])
        assert await order(store) == ["o1", "b1", "o2", "o3"]
        assert await send_next(store) == "o1"
        assert await order(store) == ["b1", "o2", "o3"]
    finally:
        await db.close()


# ------------------------------------------------------------------------- who the sender is


def test_the_sender_is_the_author_by_network_and_user_id() -> None:
    tg = Author(Network.TELEGRAM, UserId("42"), "Ann", nick="ann")
    irc = Author(
        Network.IRC, UserId("account:bob"), "bob", nick="bob", account="bob", mask="bob!b@h"
    )
    anon = Author(Network.IRC, UserId("mask:eve!e@h"), "eve", nick="eve", mask="eve!e@h")
    assert sender_of(tg) == ("telegram:42", "ann")
    assert sender_of(irc) == ("irc:account:bob", "bob!b@h")
    assert sender_of(anon) == ("irc:mask:eve!e@h", "eve!e@h")
    # and back, as far as the ignore rules look at an author
    assert author_of_sender(*sender_of(tg)) == Author(
        Network.TELEGRAM, UserId("42"), "ann", nick="ann"
    )
    back = author_of_sender(*sender_of(irc))
    assert back is not None
    assert (back.user_id, back.nick, back.account, back.mask) == (
        "account:bob",
        "bob",
        "bob",
        "bob!b@h",
    )
    back = author_of_sender("irc:mask:eve!e@h", None)
    assert back is not None and (back.nick, back.mask) == ("eve", "eve!e@h")
    assert author_of_sender("bridge", None) is None
    assert author_of_sender("", None) is None


# ------------------------------------------------------------------------- property tests


@dataclass
class Model:
    """The rule, kept by hand: senders in line by when their next message became next."""

    posted: dict[str, list[str]] = field(default_factory=dict)  # waiting, per sender
    since: dict[str, int] = field(default_factory=dict)  # sender -> when its head became head
    head_at: dict[str, int] = field(default_factory=dict)  # message -> when it became head
    clock: int = 0

    def post(self, sender: str, text: str) -> None:
        self.clock += 1
        waiting = self.posted.setdefault(sender, [])
        waiting.append(text)
        if len(waiting) == 1:
            self.since[sender] = self.head_at[text] = self.clock

    def next(self) -> str:
        """The message that goes next: the head that has been head the longest."""
        sender = min(self.since, key=self.since.__getitem__)
        return self.posted[sender][0]

    def sent(self, text: str) -> None:
        self.clock += 1
        sender = text.split("-")[0]
        waiting = self.posted[sender]
        assert waiting[0] == text
        waiting.pop(0)
        if waiting:
            self.since[sender] = self.head_at[waiting[0]] = self.clock
        else:
            del self.since[sender]
            del self.posted[sender]

    def empty(self) -> bool:
        return not self.posted


SENDERS = st.sampled_from(["ann", "bob", "cy", "dee"])
OPS = st.lists(st.one_of(SENDERS, st.just("send")), max_size=40)
PROPERTY = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])


def check_promises(ops: list[str], sent: list[str]) -> None:
    """What the fair share promises, read off the sequence of sends alone."""
    posted = [op for op in ops if op != "send"]
    assert sorted(sent) == sorted(
        f"{s}-{i}" for s in set(posted) for i in range(posted.count(s))
    ), "every message exactly once"
    for sender in set(posted):
        mine = [int(t.split("-")[1]) for t in sent if t.startswith(sender + "-")]
        assert mine == sorted(mine), f"{sender}'s messages out of order"


def check_one_turn_each(events: list[tuple[int, str]], head_at: dict[str, int]) -> None:
    """From when a message became its sender's next until it went, every other sender went
    at most once."""
    went = {text: clock for clock, text in events}
    for text, since in head_at.items():
        sender = text.split("-")[0]
        between = [t.split("-")[0] for c, t in events if since < c < went[text]]
        for other in set(between) - {sender}:
            assert between.count(other) <= 1, f"{text} waited {between.count(other)} turns"


@PROPERTY
@given(OPS)
def test_the_store_gives_turns_by_the_rule(ops: list[str]) -> None:
    asyncio.run(_store_against_model(ops))


async def _store_against_model(ops: list[str]) -> None:
    db = await Database.open(":memory:")
    try:
        store = payload_store(db)
        model = Model()
        counts: dict[str, int] = {}
        events: list[tuple[int, str]] = []
        sent: list[str] = []

        async def send_one() -> None:
            text = await send_next(store)
            assert text == model.next()
            model.sent(text)
            events.append((model.clock, text))
            sent.append(text)

        for op in ops:
            if op == "send":
                if not model.empty():
                    await send_one()
                continue
            text = f"{op}-{counts.get(op, 0)}"
            counts[op] = counts.get(op, 0) + 1
            await store.enqueue([post(op, text)])
            model.post(op, text)
        while not model.empty():
            await send_one()
        assert await store.due("irc", "#c", 10) == []
        check_promises(ops, sent)
        check_one_turn_each(events, model.head_at)
    finally:
        await db.close()


@PROPERTY
@given(OPS)
def test_the_outbox_sends_in_the_stores_order_from_memory_too(ops: list[str]) -> None:
    """The whole Outbox, whose idle queue sends from memory (bridge/outbox_mirror.py):
    messages arrive while one is on the wire, or while the queue is idle, and go in the
    order the rule gives. Each op: someone posts, or the message on the wire is done."""
    asyncio.run(_outbox_against_model(ops))


async def _outbox_against_model(ops: list[str]) -> None:
    db = await Database.open(":memory:")
    sender = SteppedSender()
    outbox = Outbox(payload_store(db), {"irc": sender}, horizon_hours=24, summary=summary)
    model = Model()
    counts: dict[str, int] = {}
    events: list[tuple[int, str]] = []
    on_wire: str | None = None

    async def next_on_wire() -> None:
        """Wait until the worker has the next message on the wire, if any waits."""
        nonlocal on_wire
        if model.empty():
            on_wire = None
            assert await outbox.wait_idle(2)
            return
        await asyncio.wait_for(sender.on_wire.wait(), 2)
        sender.on_wire.clear()
        on_wire = sender.received[-1]
        assert on_wire == model.next()

    async def finish() -> None:
        assert on_wire is not None
        sender.release.set()
        model.sent(on_wire)
        events.append((model.clock, on_wire))
        await next_on_wire()

    try:
        async with running(outbox):
            await outbox.enqueue([post("warm", "warm-0")])  # the queue drains once: idle
            model.post("warm", "warm-0")
            await next_on_wire()
            await finish()
            for op in ops:
                if op == "send":
                    if on_wire is not None:
                        await finish()
                    continue
                text = f"{op}-{counts.get(op, 0)}"
                counts[op] = counts.get(op, 0) + 1
                await outbox.enqueue([post(op, text)])
                model.post(op, text)
                if on_wire is None:
                    await next_on_wire()
            while on_wire is not None:
                await finish()
        sent = [t for _, t in events if t != "warm-0"]
        assert sent == sender.received[1:]
        check_promises(ops, sent)
        check_one_turn_each(events, model.head_at)
    finally:
        await db.close()
