"""Moderators clean the roster, and clones cannot fill it (issue 9, case 6), fast.

/remove and /untag through the registry with a real store; the same from the shell
(`tgirc-bridge roster remove|untag`); both recorded in roster_cleaning. New unverified IRC
members are limited per host an hour (roster.unverified_per_host_per_hour). End to end on
both networks: test_e2e_hostile_senders.py.
"""

from __future__ import annotations

import asyncio
import getpass
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.config import parse_config
from bridge.errors import ConfigError, PermissionDenied
from bridge.model import Network
from handlers.registry import CommandRegistry
from storage.db import Database
from storage.roster_model import HostQuotaFull, Identity
from storage.roster_store import RosterStore, identity_from_author
from tests.support.cli import CONFIG
from tests.support.handlers import irc_author, make_ctx, tg_author

MOD = tg_author(1001, "Alice Liddell", "alice")
ANN = tg_author(2001, "Ann Lee", "ann")
ANNA = tg_author(2002, "Anna", "ann_b")
BOB = irc_author("bob", account="bob")
HOSTILE_TAG = "buy-now"


async def run(
    registry: CommandRegistry, store: RosterStore, line: str, *, moderator: bool = True
) -> list[str]:
    ctx, rec = make_ctx(store, MOD, moderator=moderator)
    name, _, args = line.partition(" ")
    await registry.dispatch(ctx, name, args)
    return rec.replies


async def cleaning_log(store: RosterStore) -> list[tuple[str, str, str, int]]:
    rows = await store.db.fetchall("SELECT actor, action, target, affected FROM roster_cleaning")
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def seed(store: RosterStore) -> dict[str, int]:
    """Ann (Telegram, linked to IRC bob), Anna (Telegram): their member numbers by name."""
    ann, _ = await store.join(identity_from_author(ANN))
    tags = ["python", HOSTILE_TAG, "pytorch"]
    await store.join_with_interests(identity_from_author(ANN), tags, edit=False)
    code = await store.create_link_code(identity_from_author(ANN))
    await store.redeem_link_code(code.code, identity_from_author(BOB))
    anna, _ = await store.join(identity_from_author(ANNA))
    await store.join_with_interests(identity_from_author(ANNA), [HOSTILE_TAG], edit=False)
    return {"ann": ann.id, "anna": anna.id}


# ---------------------------------------------------------------------- /remove


async def test_remove_by_handle_takes_every_identity_and_is_recorded(
    registry: CommandRegistry, store: RosterStore
) -> None:
    ids = await seed(store)
    assert await run(registry, store, "remove @ann") == [
        f"Removed Ann Lee (#{ids['ann']}): 2 identities and 3 interests."
    ]
    assert await store.get_member_by_identity(Network.TELEGRAM, ANN.user_id) is None
    assert await store.get_member_by_identity(Network.IRC, BOB.user_id) is None
    assert (await store.stats()).member_count == 1
    assert await cleaning_log(store) == [("telegram:1001", "remove", f"member {ids['ann']}", 2)]


async def test_remove_by_number_nick_or_telegram_id(
    registry: CommandRegistry, store: RosterStore
) -> None:
    ids = await seed(store)
    assert (await run(registry, store, f"remove #{ids['anna']}"))[0].startswith("Removed Anna")
    ann = await run(registry, store, "remove bob")  # the IRC nick of Ann's linked identity
    assert ann[0].startswith(f"Removed Ann Lee (#{ids['ann']})")
    carol = tg_author(3003, "Carol", None)
    await store.join(identity_from_author(carol))
    assert (await run(registry, store, "remove 3003"))[0].startswith("Removed Carol")
    assert (await store.stats()).member_count == 0


async def test_remove_asks_which_when_several_match_and_changes_nothing(
    registry: CommandRegistry, store: RosterStore
) -> None:
    ids = await seed(store)
    twin = tg_author(2003, "Ann Lee", None)
    twin_member, _ = await store.join(identity_from_author(twin))
    replies = await run(registry, store, "remove ann lee")
    assert replies[0].splitlines()[0] == '2 members match "ann lee"; remove one by its number:'
    assert replies[0].splitlines()[1].startswith(f"#{ids['ann']} Ann Lee — Telegram: Ann Lee")
    assert replies[0].splitlines()[2].startswith(f"#{twin_member.id} Ann Lee — Telegram")
    assert replies[0].splitlines()[3] == f"e.g. /remove #{ids['ann']}"
    assert (await store.stats()).member_count == 3
    assert await cleaning_log(store) == []


async def test_remove_of_no_one_and_usage(registry: CommandRegistry, store: RosterStore) -> None:
    await seed(store)
    assert await run(registry, store, "remove nobody") == [
        'No member is "nobody": name one by name, @username, nick or #number '
        "(the export's member_id)."
    ]
    assert await run(registry, store, "remove #999") == [
        'No member is "#999": name one by name, @username, nick or #number '
        "(the export's member_id)."
    ]
    assert await run(registry, store, "remove") == [
        "Usage: /remove <#number, name, @username or nick>"
    ]
    assert await cleaning_log(store) == []


async def test_cleaning_is_for_moderators_only(
    registry: CommandRegistry, store: RosterStore
) -> None:
    await seed(store)
    assert await run(registry, store, "remove @ann", moderator=False) == [
        "Sorry, /remove is for moderators only."
    ]
    assert await run(registry, store, f"untag {HOSTILE_TAG}", moderator=False) == [
        "Sorry, /untag is for moderators only."
    ]
    assert (await store.stats()).member_count == 2
    assert await cleaning_log(store) == []


async def test_help_lists_the_moderators_commands(
    registry: CommandRegistry, store: RosterStore
) -> None:
    help_text = (await run(registry, store, "help", moderator=False))[0]
    ctx, rec = make_ctx(store, MOD, private=True)
    await registry.dispatch(ctx, "help", "")
    lines = rec.replies[0].splitlines()
    assert (
        "/remove <#number, name, @username or nick> — delete a member from the roster, "
        "for good (moderators)" in lines
    )
    assert "/untag <tag> — take an interest tag away from every member (moderators)" in lines
    assert help_text == "I sent you the list of commands privately."


# ----------------------------------------------------------------------- /untag


async def test_untag_takes_a_tag_from_everyone_and_whois_stays_right(
    registry: CommandRegistry, store: RosterStore
) -> None:
    ids = await seed(store)
    assert await run(registry, store, "untag  Buy Now ") == ['Removed "buy-now" from 2 members.']
    assert (await store.find_by_interest(HOSTILE_TAG)).total == 0
    ann = await store.get_member_by_identity(Network.TELEGRAM, ANN.user_id)
    assert ann is not None and ann.interests == ("python", "pytorch")
    assert await run(registry, store, "untag pytorch") == ['Removed "pytorch" from 1 member.']
    # python no longer shares "py" with another tag of Ann's: /whois py ranks by it
    search = await store.find_by_interest("py")
    assert [(h.member.id, h.tags) for h in search.hits] == [(ids["ann"], ("python",))]
    assert (await store.stats()).top_interests == (("python", 1),)
    assert await cleaning_log(store) == [
        ("telegram:1001", "untag", "buy-now", 2),
        ("telegram:1001", "untag", "pytorch", 1),
    ]


async def test_untag_of_nothing_and_of_no_tag(
    registry: CommandRegistry, store: RosterStore
) -> None:
    await seed(store)
    assert await run(registry, store, "untag rust") == ['No one lists "rust".']
    assert await run(registry, store, "untag a/b") == [
        "\"a/b\" is not a tag: '/' is not allowed (only letters, digits and - + # . _)."
    ]
    assert await run(registry, store, "untag") == ["Usage: /untag <tag>"]
    assert await cleaning_log(store) == []


# ------------------------------------------------- unverified IRC members per host


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[tuple[RosterStore, list[float]]]:
    now = [1_700_000_000.0]
    db = await Database.open(tmp_path / "limited.sqlite3")
    try:
        yield RosterStore(db, clock=lambda: now[0], unverified_per_host_per_hour=2), now
    finally:
        await db.close()


def clone(n: int, host: str = "clones.example") -> Identity:
    return identity_from_author(irc_author(f"clone{n}", account=None, host=host))


async def test_clones_from_one_host_are_limited_per_hour(
    limited: tuple[RosterStore, list[float]],
) -> None:
    store, now = limited
    await store.join(clone(1))
    await store.join_with_interests(clone(2), ["spam"], edit=False)
    with pytest.raises(HostQuotaFull) as refused:
        await store.join(clone(3))
    assert isinstance(refused.value, PermissionDenied)  # the registry's reply to the user
    with pytest.raises(HostQuotaFull):
        await store.join_with_interests(clone(3), ["spam"], edit=False)
    with pytest.raises(HostQuotaFull):
        await store.create_link_code(clone(3), join=True)
    assert (await store.stats()).member_count == 2
    await store.join(clone(1))  # already a member: not a new entry
    await store.join(clone(3, host="elsewhere.example"))  # another host
    await store.join(
        identity_from_author(irc_author("clone4", account="clone4", host="clones.example"))
    )
    await store.join(identity_from_author(tg_author(5005, "Tess", None)))
    now[0] += 3601
    await store.join(clone(5))  # an hour later
    assert (await store.stats()).member_count == 6


async def test_the_limit_is_one_clear_answer(
    limited: tuple[RosterStore, list[float]], registry: CommandRegistry
) -> None:
    store, _ = limited
    for n in (1, 2, 3):
        ctx, rec = make_ctx(store, irc_author(f"clone{n}", account=None, host="clones.example"))
        await registry.dispatch(ctx, "join", "")
    assert rec.replies == [
        "Too many people from your host joined without logging in this hour: log in to IRC "
        "services and try again (or wait an hour)."
    ]


def test_the_limit_is_configured(tmp_path: Path) -> None:
    config = parse_config(CONFIG)
    assert config.roster.unverified_per_host_per_hour == 5
    tuned = parse_config(CONFIG + "[roster]\nunverified_per_host_per_hour = 20\n")
    assert tuned.roster.unverified_per_host_per_hour == 20
    with pytest.raises(ConfigError) as refused:
        parse_config(CONFIG + "[roster]\nunverified_per_host_per_hour = 0\n")
    assert refused.value.problems == ["roster.unverified_per_host_per_hour: must be at least 1"]


# ------------------------------------------------------------------------ the shell


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)  # storage.path = "roster.sqlite3", next to it

    async def populate() -> None:
        db = await Database.open(tmp_path / "roster.sqlite3")
        try:
            await seed(RosterStore(db))
        finally:
            await db.close()

    asyncio.run(populate())
    return path


def day() -> str:
    """The date a member card shows for someone who joined during the test (UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%d")


def rows(config: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(config.parent / "roster.sqlite3") as conn:
        return list(conn.execute(sql))


def test_cli_remove_and_untag_are_recorded(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = str(config)
    assert main(["roster", "untag", "--config", c, "Buy-Now"]) == 0
    assert capsys.readouterr().out == "removed 'buy-now' from 2 members\n"
    assert main(["roster", "remove", "--config", c, "@ann_b"]) == 0
    assert capsys.readouterr().out == "removed member #2 (Anna): 1 identities, 0 interests\n"
    assert rows(config, "SELECT display_name FROM identities ORDER BY id") == [
        ("Ann Lee",),
        ("bob",),
    ]
    actor = f"cli:{getpass.getuser()}"
    assert rows(config, "SELECT actor, action, target, affected FROM roster_cleaning") == [
        (actor, "untag", "buy-now", 2),
        (actor, "remove", "member 2", 1),
    ]


def test_cli_refuses_what_is_not_one_member_or_a_tag(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = str(config)
    assert main(["roster", "remove", "--config", c, "Lee"]) == 1  # names match whole
    assert "error: no member is 'Lee'" in capsys.readouterr().err
    assert main(["roster", "remove", "--config", c, "#9"]) == 1
    capsys.readouterr()

    async def twin() -> None:
        db = await Database.open(config.parent / "roster.sqlite3")
        try:
            await RosterStore(db).join(identity_from_author(tg_author(2003, "Ann Lee", None)))
        finally:
            await db.close()

    asyncio.run(twin())
    before = rows(config, "SELECT COUNT(*) FROM members")
    assert main(["roster", "remove", "--config", c, "Ann Lee"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: 2 members match 'Ann Lee'; name one by number:",
        f"  #1 Ann Lee — Telegram: Ann Lee (@ann); IRC: bob — member since {day()}",
        f"  #3 Ann Lee — Telegram: Ann Lee — member since {day()}",
    ]
    assert main(["roster", "untag", "--config", c, "a/b"]) == 1
    assert "'a/b' is not a tag" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: "the following arguments are required"
        main(["roster", "remove", "--config", c])
    assert "required: target" in capsys.readouterr().err
    assert main(["roster", "untag", "--config", c, "rust"]) == 0
    assert capsys.readouterr().out == "no member lists 'rust'\n"
    assert rows(config, "SELECT COUNT(*) FROM members") == before
    assert rows(config, "SELECT COUNT(*) FROM roster_cleaning") == [(0,)]
