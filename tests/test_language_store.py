"""/language choices as kept (issue 26): with the roster member, by Telegram id, or for 30
days by an IRC stranger's identity; an injected clock stands in for the month."""

from __future__ import annotations

from pathlib import Path

from bridge.model import Author, Network, UserId
from storage.db import Database
from storage.languages import DAY, IRC_CHOICE_DAYS, LanguageStore
from storage.roster_store import RosterStore, identity_from_author

ANN = Author(Network.TELEGRAM, UserId("1"), "Ann", language_code="de")
BOB = Author(Network.IRC, UserId("mask:bob!b@h"), "bob", "bob", mask="bob!b@h")
EVE = Author(Network.IRC, UserId("mask:eve!e@h"), "eve", "eve", mask="eve!e@h")


async def test_choices_are_kept_where_the_person_is(tmp_path: Path) -> None:
    now = [1_000_000.0]
    db = await Database.open(tmp_path / "lang.sqlite3")
    try:
        store = LanguageStore(db, clock=lambda: now[0])
        roster = RosterStore(db)
        assert await store.chosen(ANN) is None
        await store.choose(ANN, "fr")  # a Telegram stranger: by id, for good
        member, _ = await roster.join(identity_from_author(BOB))
        await store.choose(BOB, "es")  # a member: with the member
        assert await store.member_language(member.id) == "es"
        await store.choose(EVE, "de")  # an IRC stranger: by nick!user@host, 30 days
        now[0] += IRC_CHOICE_DAYS * DAY - 1
        assert [await store.chosen(a) for a in (ANN, BOB, EVE)] == ["fr", "es", "de"]
        now[0] += 2
        assert [await store.chosen(a) for a in (ANN, BOB, EVE)] == ["fr", "es", None]
        async with db.conn.execute("SELECT person FROM language_choice ORDER BY 1") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [("mask:eve!e@h",), ("telegram:1",)]
        await store.choose(ANN, None)  # forgotten; and Eve's old one pruned meanwhile
        assert await store.chosen(ANN) is None
        async with db.conn.execute("SELECT person FROM language_choice") as cur:
            assert await cur.fetchall() == []
        assert await roster.forget(member.id)  # the choice goes with the member
        assert await store.chosen(BOB) is None
        await store.choose(BOB, "fr")
        async with db.conn.execute("SELECT person, language FROM language_choice") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [("mask:bob!b@h", "fr")]
    finally:
        await db.close()
