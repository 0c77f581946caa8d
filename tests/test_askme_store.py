"""The /askme choice as stored: off by default, per member, read for a page of cards."""

from __future__ import annotations

from pathlib import Path

from bridge.model import Network
from storage.askme import askme_members, set_askme, takes_questions
from storage.db import Database
from storage.roster_model import Identity
from storage.roster_store import RosterStore


async def test_askme_is_off_by_default_and_follows_the_choice(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "askme.sqlite3")
    try:
        roster = RosterStore(db)
        alice = Identity(Network.TELEGRAM, "1", "Alice")
        bob = Identity(Network.IRC, "account:bob", "bob", "bob", True)
        stranger = Identity(Network.TELEGRAM, "3", "Carol")
        a, _ = await roster.join(alice)
        b, _ = await roster.join(bob)
        assert not await takes_questions(db.conn, a.id)
        assert await set_askme(db, alice, True) == a.id
        assert await set_askme(db, stranger, True) is None
        assert await takes_questions(db.conn, a.id)
        assert await askme_members(db.conn, [a.id, b.id]) == frozenset({a.id})
        assert await set_askme(db, alice, False) == a.id
        assert await askme_members(db.conn, [a.id, b.id]) == frozenset()
        assert await askme_members(db.conn, []) == frozenset()
    finally:
        await db.close()
