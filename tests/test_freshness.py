"""A roster that stays fresh (issue 23, item 3), with an injected clock: the nudge, the grace
period, dropping out of the directory (and so the digest, which reads the same queries) and
coming back on /interests, the pace, never twice, and /whois ranking and marking the stale."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

from bridge import freshness as freshness_task
from bridge.casemap import irc_casefold
from bridge.config_model import RosterConfig
from bridge.freshness import RETRY_UNREACHABLE, Nudger
from bridge.model import Author, Network
from bridge.payloads import IrcLines
from bridge.sending import Outgoing
from handlers.registry import CommandRegistry
from storage.db import Database, StorageError
from storage.digest import DigestStore
from storage.directory import DirectoryStore
from storage.freshness import FRESH, FreshnessStore, is_fresh
from storage.migrate import apply_migrations
from storage.roster_model import Identity
from storage.roster_store import RosterStore, identity_from_author
from tests.support.handlers import FakeOutbox, irc_author, make_ctx, tg_author

DAY = 86_400.0
T0 = datetime(2026, 1, 5, 12, tzinfo=UTC).timestamp()
ALICE = tg_author(1001, "Alice Liddell", "alice")
CAROL = tg_author(1003, "Carol Ng", "carol")


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now

    def at(self, days: float) -> None:
        self.now = T0 + days * DAY


@dataclass
class IrcNow:
    """The IRC connection's view the task reads: who is on which channel, as whom."""

    members: dict[str, set[str]] = field(default_factory=lambda: {"#collab": set()})
    accounts: dict[str, str] = field(default_factory=dict)
    masks: dict[str, str] = field(default_factory=dict)

    def folded_nicks(self, channel: str) -> set[str]:
        return {irc_casefold(n) for n in self.members.get(channel, set())}

    def casefold(self, text: str) -> str:
        return irc_casefold(text)

    def account_of(self, nick: str) -> str | None:
        return self.accounts.get(nick)

    def mask_of(self, nick: str) -> str | None:
        return self.masks.get(nick)

    def payload_budget(self, target: str, *, action: bool = False) -> int:
        return 400


@dataclass
class Outbox(FakeOutbox):
    """FakeOutbox whose Telegram private chats refuse the users who never pressed Start."""

    refused: set[str] = field(default_factory=set)

    async def enqueue_and_wait(self, items: list[Outgoing], timeout: float) -> bool:
        if any(i.chat in self.refused for i in items):
            return False
        return await super().enqueue_and_wait(items, timeout)


@dataclass
class World:
    clock: Clock
    roster: RosterStore
    directory: DirectoryStore
    store: FreshnessStore
    outbox: Outbox
    irc: IrcNow
    nudger: Nudger

    async def member(self, author: Author, tags: list[str], *, listed: bool = True) -> int:
        identity = identity_from_author(author)
        await self.roster.join_with_interests(identity, tags, edit=False)
        if listed:
            await self.directory.set_listed(identity, True)
        found = await self.roster.get_member_by_identity(identity.network, identity.key)
        assert found is not None
        return found.id

    async def round_at(self, days: float) -> int:
        self.clock.at(days)
        return await self.nudger.round()


def make_world(db: Database, config: RosterConfig) -> World:
    clock = Clock()
    outbox, irc = Outbox(), IrcNow()
    store = FreshnessStore(db)
    nudger = Nudger(store, outbox, irc, ["#collab"], config, title="Collab", clock=clock)
    return World(
        clock, RosterStore(db, clock), DirectoryStore(db, clock), store, outbox, irc, nudger
    )


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "fresh.sqlite3")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def world(db: Database) -> World:
    return make_world(db, RosterConfig())


def nudge_text(name: str, day: str, listed: str, p: str) -> str:
    return (
        f"Hello {name}: your entry in the Collab members roster was last confirmed on {day}. "
        f"You list: {listed}.\n"
        f"To keep it, send {p}interests (it shows and confirms them). "
        f"To change it: {p}interests python, translation (or {p}interests +tag -tag). "
        f"To leave the roster: {p}leave.\n"
        "Without an answer within 30 days you leave the members directory and the lists until "
        "you confirm; nothing is deleted."
    )


async def shown(world: World) -> dict[str, object]:
    """What the public lists hold: the directory's pages, search, tag page and counts."""
    page = await world.directory.members_page()
    found = await world.directory.search("python")
    tag = await world.directory.tag_members("python")
    tags = await world.directory.tags()
    return {
        "page": [m.display_name for m in page.members],
        "search": [m.display_name for m in found.members],
        "tag": [m.display_name for m in tag.members],
        "counts": dict(tags.tags),
        "listed": await world.directory.listed_count(),
    }


async def test_one_nudge_after_confirm_after_days_lists_interests(world: World) -> None:
    await world.member(ALICE, ["python", "lua"])
    assert await world.round_at(179.9) == 0
    assert world.outbox.items == []
    assert await world.round_at(180) == 1
    assert world.outbox.telegram_texts("1001") == [
        nudge_text("Alice Liddell", "2026-01-05", "python, lua", "/")
    ]
    assert world.nudger.counts["telegram"] == 1


async def test_never_twice_in_a_grace_period(world: World) -> None:
    await world.member(ALICE, ["python"])
    for day in (180, 181, 200, 209.9, 210, 230, 400):
        await world.round_at(day)
    assert len(world.outbox.telegram_texts("1001")) == 1


async def test_grace_period_then_out_of_the_lists_and_back_on_confirm(
    world: World, registry: CommandRegistry
) -> None:
    alice = await world.member(ALICE, ["python"])
    await world.member(CAROL, ["python"])
    await world.round_at(100)
    carol_identity = identity_from_author(CAROL)
    await world.roster.join_with_interests(carol_identity, ["python", "go"], edit=False)
    both = {
        "page": ["Carol Ng", "Alice Liddell"],
        "search": ["Alice Liddell", "Carol Ng"],
        "tag": ["Alice Liddell", "Carol Ng"],
        "counts": {"python": 2, "go": 1},
        "listed": 2,
    }
    assert await shown(world) == both
    await world.round_at(180)  # Alice nudged; Carol changed her interests at day 100
    assert [i.chat for i in world.outbox.items] == ["1001"]
    await world.round_at(209.9)  # within the grace period: still listed
    assert await shown(world) == both
    await world.round_at(210)
    assert await shown(world) == {
        "page": ["Carol Ng"],
        "search": ["Carol Ng"],
        "tag": ["Carol Ng"],
        "counts": {"python": 1, "go": 1},
        "listed": 1,
    }
    assert not await is_fresh(world.roster.db.conn, alice)
    # not deleted: /whois still finds her, marked
    ctx, rec = make_ctx(world.roster, CAROL, private=True)
    await registry.dispatch(ctx, "whois", "alice")
    assert rec.last.splitlines()[0] == (
        "Alice Liddell — Telegram: Alice Liddell (@alice) — member since 2026-01-05 "
        "(not confirmed since 2026-01-05)"
    )
    # /interests alone shows and confirms: back in every list at once
    world.clock.at(250)
    ctx, rec = make_ctx(world.roster, ALICE, private=True)
    await registry.dispatch(ctx, "interests", "")
    assert rec.last == (
        "Thank you: your profile is confirmed and stays listed. Your interests: python"
    )
    assert await shown(world) == both
    assert await is_fresh(world.roster.db.conn, alice)
    # and her next nudge is confirm_after_days after the confirmation, not before
    await world.round_at(250 + 179)
    assert len(world.outbox.telegram_texts("1001")) == 1
    await world.round_at(250 + 180)
    assert len(world.outbox.telegram_texts("1001")) == 2


async def test_the_digest_and_ask_condition_follows(world: World) -> None:
    """FRESH is the SQL condition the digest and /ask state; lapsed members fail it."""
    alice = await world.member(ALICE, ["python"])
    query = f"SELECT m.id FROM members m WHERE m.listed = 1 AND {FRESH}"  # noqa: S608
    assert [r[0] for r in await world.roster.db.conn.execute_fetchall(query)] == [alice]
    await world.round_at(180)
    await world.round_at(210)
    assert list(await world.roster.db.conn.execute_fetchall(query)) == []


async def test_the_digest_leaves_out_the_lapsed(world: World) -> None:
    """The digest picks members through the directory's read: a lapsed member who renames
    (activity, not a confirmation) is not in it; a confirmed one who renames is."""
    await world.member(ALICE, ["python"])
    await world.member(CAROL, ["go"])
    await world.round_at(150)
    await world.roster.join_with_interests(identity_from_author(CAROL), ["go", "c"], edit=False)
    await world.round_at(180)
    await world.round_at(210)
    world.clock.at(215)
    for n, name in ((1001, "Alice L."), (1003, "Carol N.")):
        await world.roster.refresh_identity(Identity(Network.TELEGRAM, str(n), name, None, True))
    digest = await DigestStore(world.roster.db).collect(T0 + 212 * DAY, T0 + 216 * DAY)
    assert [m.display_name for m in digest.new] == ["Carol N."]
    assert digest.top_interests == (("c", 1), ("go", 1))


async def test_nudges_are_paced_per_hour(db: Database) -> None:
    world = make_world(db, RosterConfig(nudges_per_hour=3))
    for n in range(7):
        await world.member(tg_author(3000 + n, f"user{n}", None), ["go"], listed=False)
    assert await world.round_at(180) == 3
    assert await world.round_at(180 + 0.5 / 24) == 0  # half an hour later: the hour's three
    assert await world.round_at(180 + 1.01 / 24) == 3
    assert await world.round_at(180 + 2.02 / 24) == 1
    assert sorted(i.chat for i in world.outbox.items) == [str(3000 + n) for n in range(7)]


async def test_irc_nudge_only_to_the_exact_connection_on_a_bridged_channel(
    world: World,
) -> None:
    masked = irc_author("dave", account=None, user="~d", host="d.example")
    logged = irc_author("erin", account="erin", user="~e", host="e.example")
    await world.member(masked, ["rust"])
    await world.member(logged, ["rust"])
    world.irc.members["#collab"] = {"dave", "erin"}
    world.irc.accounts["erin"] = "someone-else"  # the nick holds another account now
    world.irc.masks["erin"] = "erin!~x@x.example"
    assert await world.round_at(180) == 1
    (item,) = world.outbox.items
    assert item.network is Network.IRC and item.chat == "dave"
    assert isinstance(item.payload, IrcLines)
    assert item.payload.recipient == "dave!~d@d.example"
    assert item.payload.lines[0].startswith("Hello dave: your entry in the Collab members")
    assert "send !interests (it shows and confirms them)" in " ".join(item.payload.lines)
    # erin: no nudge while her nick is someone else's; once it is hers, at her mask
    world.irc.accounts["erin"] = "erin"
    world.irc.masks["erin"] = "erin!~e@e.example"
    assert await world.round_at(180 + RETRY_UNREACHABLE / DAY + 0.01) == 1
    last = world.outbox.items[-1]
    assert isinstance(last.payload, IrcLines)
    assert (last.chat, last.payload.recipient) == ("erin", "erin!~e@e.example")


async def test_unreachable_is_tried_later_and_lapses_when_gone(world: World) -> None:
    """Not on a bridged channel and no Telegram chat: no nudge recorded, tried again after
    RETRY_UNREACHABLE; a whole grace period later it is recorded anyway, so they lapse."""
    member = irc_author("frank", account="frank")
    frank = await world.member(member, ["go"])
    refused = tg_author(1009, "Gina", "gina")
    gina = await world.member(refused, ["go"])
    world.outbox.refused.add("1009")  # never pressed Start
    assert await world.round_at(180) == 0
    assert world.outbox.items == []
    assert world.nudger.counts["unreachable"] == 2
    assert await world.round_at(190) == 0
    assert await world.round_at(210) == 2  # a grace period overdue: given up on, recorded
    assert world.outbox.items == []
    await world.round_at(240)
    fresh = [await is_fresh(world.roster.db.conn, m) for m in (frank, gina)]
    assert fresh == [False, False]


async def test_whois_ranks_confirmed_members_first(world: World, registry: CommandRegistry) -> None:
    """Alice lists python first and joined first, so she would rank first: stale, she is
    last, and marked."""
    await world.member(ALICE, ["python"])
    await world.round_at(100)
    bob = Identity(Network.TELEGRAM, "1002", "Bob Stone", "bob", True)
    await world.roster.join_with_interests(bob, ["lua", "python"], edit=False)
    await world.roster.join(Identity(Network.TELEGRAM, "1004", "Alina", None, True))
    ctx, rec = make_ctx(world.roster, CAROL, private=True)
    await registry.dispatch(ctx, "whois", "python")
    assert rec.last.splitlines()[1:] == ["Alice Liddell", "Bob Stone"]
    await world.round_at(180)
    await world.round_at(210)
    ctx, rec = make_ctx(world.roster, CAROL, private=True)
    await registry.dispatch(ctx, "whois", "python")
    assert rec.last.splitlines() == [
        '2 listing "python":',
        "Bob Stone",
        "Alice Liddell (not confirmed since 2026-01-05)",
    ]
    # where only one is shown, the confirmed one ranked after her takes her place
    found = await world.roster.find_by_interest("python", limit=1)
    assert (found.total, [h.member.display_name for h in found.hits]) == (2, ["Bob Stone"])
    names = await world.roster.find_members("ali", limit=1)  # Alice Liddell, then Alina
    assert [m.member.display_name for m in names] == ["Alina"]


async def test_a_change_or_listing_counts_as_confirmed(world: World) -> None:
    """Changing interests or saying /listed confirms: the clock starts again from there."""
    await world.member(ALICE, ["python"])
    await world.round_at(150)
    await world.roster.join_with_interests(identity_from_author(ALICE), ["+go"], edit=True)
    carol = await world.member(CAROL, ["go"], listed=False)
    await world.round_at(170)
    await world.directory.set_listed(identity_from_author(CAROL), True)
    assert await world.round_at(180) == 0
    assert await world.round_at(329) == 0
    assert await world.round_at(330) == 1  # Alice: 180 days after her change
    assert await world.round_at(350) == 1  # Carol: 180 days after /listed yes
    assert await is_fresh(world.roster.db.conn, carol)


async def test_an_existing_roster_migrates_with_its_activity_as_confirmation(
    tmp_path: Path,
) -> None:
    """Migration 0017 on a roster at version 16: each member's last activity counts as their
    confirmation, the listed counts are kept, and the longest silent is due first."""
    path = tmp_path / "v16.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await apply_migrations(conn, target=16) == 16
        for n, active in ((1, T0), (2, T0 + 50 * DAY)):
            await conn.execute("INSERT INTO members (id, joined_at) VALUES (?, ?)", (n, T0))
            await conn.execute(
                "INSERT INTO identities (member_id, network, key, display_name, name_fold, "
                "verified, created_at, updated_at) VALUES (?, 'telegram', ?, ?, ?, 1, ?, ?)",
                (n, str(n), f"m{n}", f"m{n}", T0, T0),
            )
            await conn.execute(
                "INSERT INTO interests (member_id, tag, position, shared) VALUES (?, 'go', 0, '')",
                (n,),
            )
            await conn.execute(
                "UPDATE members SET listed = 1, active_at = ? WHERE id = ?", (active, n)
            )
    db = await Database.open(path)
    try:
        rows = await db.conn.execute_fetchall(
            "SELECT id, confirmed_at, nudged_at, stale FROM members ORDER BY id"
        )
        assert [tuple(r) for r in rows] == [(1, T0, None, 0), (2, T0 + 50 * DAY, None, 0)]
        directory = DirectoryStore(db)
        assert await directory.listed_count() == 2
        assert (await directory.tags()).tags == (("go", 2),)
        store = FreshnessStore(db)
        assert await store.due(T0 + 230 * DAY, 180, 10) == [(1, T0), (2, T0 + 50 * DAY)]
        assert await store.due(T0 + 200 * DAY, 180, 10) == [(1, T0)]
    finally:
        await db.close()


async def test_the_task_runs_rounds_and_survives_a_failed_one(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """run() is the task app.py starts: a round each period, a failure logged and the next
    round run; the relay never waits for it (it is a task of its own)."""
    monkeypatch.setattr(freshness_task, "ROUND_SECONDS", 0.01)
    await world.member(ALICE, ["python"])
    world.clock.at(180)
    rounds: list[int] = []
    second = asyncio.Event()
    real = world.nudger.round

    async def flaky() -> int:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise StorageError("database is locked")
        sent = await real()
        second.set()
        return sent

    monkeypatch.setattr(world.nudger, "round", flaky)
    task = asyncio.create_task(world.nudger.run())
    try:
        await asyncio.wait_for(second.wait(), 5)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert "freshness: round failed; trying again in 0 s" in caplog.text
    assert len(world.outbox.telegram_texts("1001")) == 1


async def test_a_restart_keeps_the_hours_pace(db: Database) -> None:
    """The hour's allowance counts the nudges recorded in the database, not only those this
    process sent: a bridge restarted (or crashing and restarted) within the hour sends no more
    than nudges_per_hour in it."""
    world = make_world(db, RosterConfig(nudges_per_hour=3))
    for n in range(7):
        await world.member(tg_author(3000 + n, f"user{n}", None), ["go"], listed=False)
    assert await world.round_at(180) == 3
    restarted = make_world(db, RosterConfig(nudges_per_hour=3))
    assert await restarted.round_at(180 + 0.5 / 24) == 0  # the hour's three went before
    assert restarted.outbox.items == []
    assert await restarted.round_at(180 + 1.01 / 24) == 3


async def test_no_irc_nudge_to_someone_else_holding_the_members_nick(world: World) -> None:
    """dave is known by nick!user@host; another connection holds "dave" on the channel now:
    the nudge is not sent there (the delivery would drop it, dave would lapse unnudged) but
    tried again later, and reaches dave once the nick is his."""
    await world.member(irc_author("dave", account=None, user="~d", host="d.example"), ["go"])
    world.irc.members["#collab"] = {"dave"}
    world.irc.masks["dave"] = "dave!~m@mallory.example"
    assert await world.round_at(180) == 0
    assert world.outbox.items == []
    world.irc.masks["dave"] = "Dave!~d@D.example"  # his, in the server's case rule
    assert await world.round_at(180 + RETRY_UNREACHABLE / DAY + 0.01) == 1
    (item,) = world.outbox.items
    assert isinstance(item.payload, IrcLines)
    assert (item.chat, item.payload.recipient) == ("dave", "dave!~d@d.example")
