"""/ask's choice of recipients as stored: who takes questions on a tag, in which order, on
which network, and the daily limits, with an injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge.model import Network
from storage.askme import set_askme
from storage.asks import DAY, Asker, AskStore
from storage.db import Database
from storage.roster_model import Identity
from storage.roster_store import RosterStore


@dataclass
class Clock:
    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Stores:
    roster: RosterStore
    asks: AskStore
    clock: Clock


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[Stores]:
    db = await Database.open(tmp_path / "asks.sqlite3")
    clock = Clock()
    try:
        yield Stores(RosterStore(db, clock), AskStore(db, clock), clock)
    finally:
        await db.close()


def tg(n: int, name: str) -> Identity:
    return Identity(Network.TELEGRAM, str(n), name)


def irc(nick: str) -> Identity:
    return Identity(Network.IRC, f"mask:{nick}!~{nick}@example.org", nick, nick)


async def taker(s: Stores, identity: Identity, *tags: str, askme: bool = True) -> int:
    update, _ = await s.roster.join_with_interests(identity, tags, edit=False)
    member = await s.roster.get_member_by_identity(identity.network, identity.key)
    assert member is not None and update.interests == tags
    await set_askme(s.roster.db, identity, askme)
    return member.id


async def test_only_who_said_yes_and_lists_the_tag_most_recently_active_first(
    stores: Stores,
) -> None:
    s = stores
    ann = await taker(s, tg(1, "Ann"), "python")
    ben = await taker(s, irc("ben"), "python", "go")
    await taker(s, tg(3, "Cid"), "python", askme=False)
    await taker(s, tg(4, "Dee"), "pythonista")  # a prefix is not the tag
    asker = Asker("telegram:9")
    s.clock.now += 60
    await s.asks.note_activity(Network.TELEGRAM, "1")
    s.clock.now += 60
    await s.asks.note_activity(Network.IRC, "mask:ben!~ben@example.org")
    found = await s.asks.recipients("python", asker, limit=10, received_per_day=5)
    assert [r.member_id for r in found] == [ben, ann]
    assert [r.identity.network for r in found] == [Network.IRC, Network.TELEGRAM]
    assert [r.member_id for r in await s.asks.recipients("python", asker, 1, 5)] == [ben]
    # The asker is never asked; a stale member is not either (storage.freshness).
    assert [r.member_id for r in await s.asks.recipients("python", Asker("m", ann), 10, 5)] == [ben]
    await s.roster.db.conn.execute("UPDATE members SET stale = 1 WHERE id = ?", (ben,))
    assert [r.member_id for r in await s.asks.recipients("python", asker, 10, 5)] == [ann]


async def test_a_linked_member_is_asked_once_on_the_network_last_active(stores: Stores) -> None:
    s = stores
    eva_tg, eva_irc = tg(5, "Eva"), irc("eva")
    member = await taker(s, eva_tg, "rust")
    code = await s.roster.create_link_code(eva_tg)
    await s.roster.redeem_link_code(code.code, eva_irc)
    asker = Asker("telegram:9")
    s.clock.now += 10
    await s.asks.note_activity(Network.IRC, eva_irc.key)
    [found] = await s.asks.recipients("rust", asker, 10, 5)
    assert (found.member_id, found.identity.key) == (member, eva_irc.key)
    s.clock.now += 10
    await s.asks.note_activity(Network.TELEGRAM, eva_tg.key)
    [found] = await s.asks.recipients("rust", asker, 10, 5)
    assert (found.member_id, found.identity.key) == (member, eva_tg.key)


async def test_daily_limits_count_the_last_24_hours(stores: Stores) -> None:
    s = stores
    fay = await taker(s, tg(6, "Fay"), "lua")
    asker = Asker("irc:host:~x@h")
    first = s.clock.now
    for _ in range(3):
        assert await s.asks.next_ask_at(asker, 3) is None
        await s.asks.record_ask(asker)
        found, stamp = await s.asks.claim("lua", asker, 10, 5)  # counted as chosen
        assert [r.member_id for r in found] == [fay]
        await s.asks.settle([], stamp, now=1, later=0)
        s.clock.now += 100
    assert await s.asks.next_ask_at(asker, 3) == first + DAY
    assert await s.asks.recipients("lua", asker, 10, 3) == []
    assert len(await s.asks.recipients("lua", asker, 10, 4)) == 1
    found, stamp = await s.asks.claim("lua", asker, 10, 4)  # her fourth, then not reached:
    await s.asks.settle([fay], stamp, now=0, later=0)  # given back
    assert len(await s.asks.recipients("lua", asker, 10, 4)) == 1
    s.clock.now = first + DAY + 1
    assert await s.asks.next_ask_at(asker, 3) is None
    assert len(await s.asks.recipients("lua", asker, 10, 3)) == 1
    counts = await s.asks.counts()
    assert (counts.asks, counts.notified_now, counts.waiting) == (3, 3, 0)
