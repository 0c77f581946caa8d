"""The language a person chose with /language (migration 0020).

A roster member's choice is kept with the member, so it follows them to both networks and
goes when they leave; anyone else's is kept by their Telegram id, or by their IRC identity
key (services account, else nick!user@host, which proves little), the latter for
IRC_CHOICE_DAYS only: a mask is a passing thing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bridge.model import Author, Network
from storage.db import Database
from storage.roster_store import identity_from_author

IRC_CHOICE_DAYS = 30
DAY = 86_400.0


def _person(author: Author) -> str:
    if author.network is Network.TELEGRAM:
        return f"telegram:{author.user_id}"
    return identity_from_author(author).key


class LanguageStore:
    """Reads and writes /language choices; language codes are stored as bridge.i18n names."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self._clock = clock

    async def _member_id(self, author: Author) -> int | None:
        identity = identity_from_author(author)
        async with self.db.conn.execute(
            "SELECT member_id FROM identities WHERE network = ? AND key = ?",
            (identity.network.value, identity.key),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else int(row[0])

    async def chosen(self, author: Author) -> str | None:
        """The language author chose, or None when they chose none (or an IRC stranger's
        choice is older than IRC_CHOICE_DAYS)."""
        member_id = await self._member_id(author)
        args: tuple[object, ...]
        if member_id is not None:
            sql, args = "SELECT language FROM members WHERE id = ?", (member_id,)
        else:
            oldest = self._oldest(author)
            sql = "SELECT language FROM language_choice WHERE person = ? AND chosen_at >= ?"
            args = (_person(author), oldest)
        async with self.db.conn.execute(sql, args) as cur:
            row = await cur.fetchone()
        return None if row is None or row[0] is None else str(row[0])

    async def member_language(self, member_id: int) -> str | None:
        """A roster member's choice, for a message to them that no command of theirs
        prompted (/ask's question)."""
        async with self.db.conn.execute(
            "SELECT language FROM members WHERE id = ?", (member_id,)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def _oldest(self, author: Author) -> float:
        if author.network is Network.TELEGRAM:
            return float("-inf")
        return self._clock() - IRC_CHOICE_DAYS * DAY

    async def choose(self, author: Author, language: str | None) -> None:
        """Keep author's choice (None: forget it, back to what their network says)."""
        now = self._clock()
        async with self.db.transaction() as conn:
            member_id = await self._member_id(author)
            await conn.execute(
                "DELETE FROM language_choice WHERE person NOT LIKE 'telegram:%' AND chosen_at < ?",
                (now - IRC_CHOICE_DAYS * DAY,),
            )
            if member_id is not None:
                await conn.execute(
                    "UPDATE members SET language = ? WHERE id = ?", (language, member_id)
                )
            elif language is None:
                await conn.execute(
                    "DELETE FROM language_choice WHERE person = ?", (_person(author),)
                )
            else:
                await conn.execute(
                    "INSERT INTO language_choice (person, language, chosen_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (person) DO UPDATE SET language = excluded.language,"
                    " chosen_at = excluded.chosen_at",
                    (_person(author), language, now),
                )
