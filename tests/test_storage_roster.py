"""RosterStore on a real temp SQLite file: joins, interests, search, forget, link, export."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import unicodedata
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.model import Network
from storage.export import ExportRow, collect_rows, render_csv, render_json
from storage.link_codes import LinkError
from storage.roster_model import MAX_INTERESTS, Identity
from storage.roster_store import RosterStore, identity_from_author
from storage.tags import MAX_TAG_LENGTH, TagError, normalise_tag
from tests.support.handlers import irc_author, open_store, tg_author

ALICE_TG = Identity(Network.TELEGRAM, "1001", "Alice Liddell", "alice", True)
ALICE_IRC = Identity(Network.IRC, "account:alice", "alice", "alice", True)
BOB_IRC = Identity(Network.IRC, "mask:bob!~b@host", "bob", "bob", False)
ROSTER_TABLES = ("members", "identities", "interests", "link_codes")
FailingInserts = Callable[[str], AbstractAsyncContextManager[None]]


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(tmp_path: Path, clock: Clock) -> AsyncIterator[RosterStore]:
    async with open_store(tmp_path / "roster.sqlite3") as s:
        yield RosterStore(s.db, clock=clock)


async def count(store: RosterStore, table: str) -> int:
    async with store.db.conn.execute(f"SELECT COUNT(*) FROM {table}") as cur:  # noqa: S608
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


# ----------------------------------------------------------------- identities


def test_identity_from_author() -> None:
    assert identity_from_author(tg_author(42, "Al", "al")) == Identity(
        Network.TELEGRAM, "42", "Al", "al", True
    )
    assert identity_from_author(irc_author("bob", "Bobby")).key == "account:Bobby"
    unverified = identity_from_author(irc_author("bob", None, "~b", "h.example"))
    assert unverified.key == "mask:bob!~b@h.example"
    assert not unverified.verified


async def test_join_is_idempotent_and_refreshes_names(store: RosterStore, clock: Clock) -> None:
    member, created = await store.join(ALICE_TG)
    assert created and member.display_name == "Alice Liddell"
    clock.now += 100
    again, created = await store.join(
        Identity(Network.TELEGRAM, "1001", "Alice L.", "alice2", True)
    )
    assert not created and again.id == member.id
    assert again.display_name == "Alice L." and again.identities[0].handle == "alice2"
    assert again.joined_at == member.joined_at
    assert await count(store, "members") == 1


async def test_refresh_identity_of_stranger_is_none(store: RosterStore) -> None:
    assert await store.refresh_identity(ALICE_TG) is None
    assert await count(store, "identities") == 0


# ------------------------------------------------------------------ interests


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("Python", "python"),
        ("  Machine   Learning ", "machine-learning"),
        ("ＰＹＴＨＯＮ", "python"),  # fullwidth, NFKC
        ("Straße", "strasse"),  # casefold
        ("C++", "c++"),
        ("C#", "c#"),
        (".NET", ".net"),
        ("日本語", "日本語"),
        ("हिंदी", "हिंदी"),
    ],
)
def test_normalise_tag(raw: str, tag: str) -> None:
    assert normalise_tag(raw) == tag


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 33, "longer than 32"),
        ("bad\x00tag", "control"),
        ("a\u202eb", "control"),
        ("'; DROP TABLE members", "not allowed"),
        ("50%", "not allowed"),
        ("<b>x</b>", "not allowed"),
        ("---", "letter or digit"),
    ],
)
def test_normalise_tag_rejects_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(TagError, match=reason):
        normalise_tag(raw)


@given(st.text(max_size=60))
def test_normalised_tags_are_stable_and_bounded(raw: str) -> None:
    try:
        tag = normalise_tag(raw)
    except TagError as exc:
        assert str(exc)
        return
    assert 0 < len(tag) <= MAX_TAG_LENGTH
    assert normalise_tag(tag) == tag
    assert not any(c.isspace() for c in tag)
    assert all(unicodedata.category(c)[0] in "LMN" or c in "-+#._" for c in tag)


@given(st.lists(st.sampled_from(["Rust", "rust", " RUST ", "ＲＵＳＴ"]), min_size=1))
def test_case_and_width_variants_are_one_tag(raws: list[str]) -> None:
    assert {normalise_tag(r) for r in raws} == {"rust"}


async def test_set_and_edit_interests(store: RosterStore) -> None:
    wanted = ["python", "translation", "gadgets", "python"]
    update, _ = await store.join_with_interests(ALICE_TG, wanted, edit=False)
    assert update.interests == ("python", "translation", "gadgets")
    update, _ = await store.join_with_interests(
        ALICE_TG, ["lua", "python"], ["gadgets", "nope"], edit=True
    )
    assert update.interests == ("python", "translation", "lua")
    got = await store.get_member_by_identity(ALICE_TG.network, ALICE_TG.key)
    assert got is not None and got.interests == ("python", "translation", "lua")


async def test_interest_limit(store: RosterStore) -> None:
    tags = [f"t{i}" for i in range(MAX_INTERESTS + 3)]
    update, _ = await store.join_with_interests(ALICE_TG, tags, edit=False)
    assert len(update.interests) == MAX_INTERESTS and update.over_limit == ("t25", "t26", "t27")
    update, _ = await store.join_with_interests(ALICE_TG, ["extra"], edit=True)
    assert update.over_limit == ("extra",) and len(update.interests) == MAX_INTERESTS


async def test_join_with_interests_joins_and_sets_in_one_go(store: RosterStore) -> None:
    update, created = await store.join_with_interests(ALICE_TG, ["python", "lua"], edit=False)
    assert created and update.interests == ("python", "lua")
    update, created = await store.join_with_interests(ALICE_TG, ["c"], ["lua"], edit=True)
    assert not created and update.interests == ("python", "c")
    member = await store.get_member_by_identity(Network.TELEGRAM, "1001")
    assert member is not None and member.interests == ("python", "c")


async def test_join_with_interests_is_all_or_nothing(
    store: RosterStore, failing_inserts: FailingInserts
) -> None:
    await store.join_with_interests(BOB_IRC, ["rust"], edit=False)
    # The interests write fails in SQLite itself, after the join's INSERTs.
    async with failing_inserts("interests"):
        with pytest.raises(sqlite3.IntegrityError):
            await store.join_with_interests(ALICE_TG, ["python"], edit=False)
        assert await store.get_member_by_identity(Network.TELEGRAM, "1001") is None
        assert [await count(store, t) for t in ROSTER_TABLES] == [1, 1, 1, 0]  # bob's, only
        with pytest.raises(sqlite3.IntegrityError):
            await store.join_with_interests(BOB_IRC, ["lua"], edit=True)
    got = await store.get_member_by_identity(BOB_IRC.network, BOB_IRC.key)
    assert got is not None and got.interests == ("rust",)  # not emptied half-way


async def test_create_link_code_can_join_first_all_or_nothing(
    store: RosterStore, failing_inserts: FailingInserts
) -> None:
    with pytest.raises(LookupError):
        await store.create_link_code(ALICE_TG)
    async with failing_inserts("link_codes"):
        with pytest.raises(sqlite3.IntegrityError):
            await store.create_link_code(ALICE_TG, join=True)
    for table in ROSTER_TABLES:
        assert await count(store, table) == 0, table
    code = await store.create_link_code(ALICE_TG, join=True)
    assert len(code.code) == 6 and await count(store, "members") == 1


# --------------------------------------------------------------------- search


async def test_find_members_exact_then_prefix_then_substring(store: RosterStore) -> None:
    ann, _ = await store.join(Identity(Network.TELEGRAM, "1", "Ann", None, True))
    anna, _ = await store.join(Identity(Network.TELEGRAM, "2", "Annabel", "anna", True))
    joanne, _ = await store.join(Identity(Network.IRC, "account:jo", "joanne", "joanne", True))
    found = await store.find_members("ANN")
    assert [(m.member.id, m.rank) for m in found] == [(ann.id, 0), (anna.id, 1), (joanne.id, 2)]
    by_handle = await store.find_members("@Anna")
    assert by_handle[0].member.id == anna.id and by_handle[0].rank == 0


@pytest.mark.parametrize(
    "hostile", ["%", "_", "'", '"', "' OR 1=1 --", "'; DROP TABLE members; --"]
)
async def test_find_members_hostile_text_matches_nothing(store: RosterStore, hostile: str) -> None:
    await store.join(ALICE_TG)
    await store.join(BOB_IRC)
    assert await store.find_members(hostile) == []
    assert await count(store, "members") == 2


async def test_find_by_interest_ranks_exact_first(store: RosterStore) -> None:
    ids = {}
    for key, tags in {
        "1": ["python-async"],
        "2": ["pygame", "python"],
        "3": ["rust", "python"],
        "4": ["perl"],
        "5": ["py_lib"],
    }.items():
        person = Identity(Network.TELEGRAM, key, f"user{key}", None, True)
        member, _ = await store.join(person)
        await store.join_with_interests(person, tags, edit=False)
        ids[key] = member.id
    search = await store.find_by_interest("python", limit=10)
    assert search.total == 3
    assert [h.member.id for h in search.hits] == [ids["2"], ids["3"], ids["1"]]
    assert search.hits[0].exact and not search.hits[2].exact
    assert search.hits[2].tags == ("python-async",)
    prefix = await store.find_by_interest("py", limit=2)
    assert prefix.total == 4 and len(prefix.hits) == 2
    assert prefix.hits[0].member.id == ids["2"]  # two matching tags
    underscore = await store.find_by_interest("py_", limit=10)  # "_" is a plain character
    assert [h.member.id for h in underscore.hits] == [ids["5"]]


async def test_suggest_interests(store: RosterStore) -> None:
    await store.join_with_interests(ALICE_TG, ["python", "translation", "gadgets"], edit=False)
    assert (await store.suggest_interests("pyhton"))[0] == "python"
    assert await store.suggest_interests("zzzzzz") == []
    assert await store.suggest_interests("") == []


async def test_stats(store: RosterStore) -> None:
    await store.join_with_interests(ALICE_TG, ["python", "lua"], edit=False)
    await store.join_with_interests(BOB_IRC, ["python"], edit=False)
    stats = await store.stats(top=5)
    assert (stats.member_count, stats.telegram_identities, stats.irc_identities) == (2, 1, 1)
    assert stats.top_interests == (("python", 2), ("lua", 1))


# --------------------------------------------------------------------- forget


async def test_forget_removes_every_trace(store: RosterStore) -> None:
    a, _ = await store.join(ALICE_TG)
    await store.join_with_interests(ALICE_TG, ["python"], edit=False)
    await store.create_link_code(ALICE_TG)
    other, _ = await store.join(BOB_IRC)
    assert await store.forget(a.id)
    assert not await store.forget(a.id)
    for table in ROSTER_TABLES:
        async with store.db.conn.execute(
            f"SELECT * FROM {table}"  # noqa: S608
        ) as cur:
            dump = repr([tuple(r) for r in await cur.fetchall()])
        assert "1001" not in dump and "Alice" not in dump and "python" not in dump
    assert await count(store, "members") == 1 and other == await store.get_member_by_identity(
        BOB_IRC.network, BOB_IRC.key
    )


# ----------------------------------------------------------------------- link


async def test_link_merges_members(store: RosterStore, clock: Clock) -> None:
    tg, _ = await store.join(ALICE_TG)
    await store.join_with_interests(ALICE_TG, ["python", "lua"], edit=False)
    clock.now += 50
    irc, _ = await store.join(ALICE_IRC)
    await store.join_with_interests(ALICE_IRC, ["lua", "translation"], edit=False)
    code = await store.create_link_code(ALICE_IRC)
    assert len(code.code) == 6 and code.expires_at == clock.now + 600
    merged = (await store.redeem_link_code(code.code.lower(), ALICE_TG)).member
    assert merged.id == irc.id
    assert {i.network for i in merged.identities} == {Network.TELEGRAM, Network.IRC}
    assert merged.interests == ("lua", "translation", "python")
    assert merged.joined_at == tg.joined_at  # the earliest
    assert await count(store, "members") == 1
    assert await count(store, "link_codes") == 0
    with pytest.raises(LinkError, match="unknown or has expired"):
        await store.redeem_link_code(code.code, ALICE_TG)  # one-time


async def test_link_new_identity_and_refusals(store: RosterStore, clock: Clock) -> None:
    await store.join(ALICE_TG)
    code = await store.create_link_code(ALICE_TG)
    with pytest.raises(LinkError, match="other network"):
        await store.redeem_link_code(code.code, Identity(Network.TELEGRAM, "2", "x", None, True))
    with pytest.raises(LinkError, match="not a link code"):
        await store.redeem_link_code("'; DROP TABLE link_codes; --", ALICE_IRC)
    clock.now += 601
    with pytest.raises(LinkError, match="expired"):
        await store.redeem_link_code(code.code, ALICE_IRC)
    code = await store.create_link_code(ALICE_TG)
    member = (await store.redeem_link_code(code.code, ALICE_IRC)).member  # never joined
    assert len(member.identities) == 2
    code = await store.create_link_code(ALICE_TG)
    with pytest.raises(LinkError, match="already has an IRC identity"):
        await store.redeem_link_code(code.code, BOB_IRC)
    assert await count(store, "members") == 1


async def test_discard_link_code(store: RosterStore) -> None:
    await store.join(ALICE_TG)
    code = await store.create_link_code(ALICE_TG)
    assert await store.discard_link_code(code.code)
    with pytest.raises(LinkError):
        await store.redeem_link_code(code.code, ALICE_IRC)


# --------------------------------------------------------------------- export


async def test_export_csv_and_json(store: RosterStore) -> None:
    formula = Identity(Network.TELEGRAM, "1001", "=HYPERLINK(1)", "alice", True)
    await store.join_with_interests(formula, ["+lua", "python"], edit=False)
    code = await store.create_link_code(formula)
    await store.redeem_link_code(code.code, ALICE_IRC)
    await store.join(BOB_IRC)
    csv_text = render_csv(await collect_rows(store)).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert len(rows) == 2
    first = rows[0]
    assert first["display_name"] == "'=HYPERLINK(1)"
    assert first["telegram_id"] == "1001" and first["irc_account"] == "alice"
    assert first["interests"] == "'+lua;python" and first["verified"] == "yes"
    assert first["joined_at"] == "2023-11-14T22:13:20Z"
    assert rows[1]["verified"] == "no" and rows[1]["irc_nick"] == "bob"
    assert rows[1]["irc_account"] == "" and rows[1]["telegram_id"] == ""
    data = json.loads(render_json(await collect_rows(store)))
    assert data[0]["interests"] == ["+lua", "python"] and data[0]["display_name"] == "=HYPERLINK(1)"
    assert data[1]["telegram_id"] is None and data[1]["verified"] is False


async def test_export_empty_and_record(store: RosterStore) -> None:
    assert json.loads(render_json(await collect_rows(store))) == []
    assert render_csv([]).decode("utf-8-sig").strip() == (
        "member_id,display_name,telegram_id,telegram_username,irc_account,irc_nick,"
        "verified,interests,joined_at"
    )
    await store.record_export("telegram:1001", 0)
    assert await count(store, "exports") == 1


def test_export_row_is_frozen() -> None:
    row = ExportRow(1, "a", None, None, None, None, True, (), 0.0)
    with pytest.raises(AttributeError):
        row.member_id = 2  # type: ignore[misc]
