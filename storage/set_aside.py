"""Inputs the bridge could not handle, kept aside so one bad input never stops the bridge.

A Telegram update that raises while it is translated or routed would otherwise either stop
the poll loop or, retried after a restart, crash the bridge again for ever. It is stored
here with its error, its offset is acknowledged, and `tgirc-bridge status` counts it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from storage.db import Database

MAX_RAW = 64_000
"""Longer inputs are cut: enough to debug, not a way to fill the disk."""
KEEP = 1000
"""Only the newest entries are kept: a flood of bad input cannot grow the table for ever."""


@dataclass(frozen=True, slots=True)
class SetAside:
    id: int
    network: str
    reference: str
    raw: str
    error: str
    created_at: float


class SetAsideStore:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    async def put(self, network: str, reference: str, raw: str, error: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO set_aside (network, reference, raw, error, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    network,
                    reference,
                    raw[:MAX_RAW],
                    error.splitlines()[0][:500] if error else "",
                    self.clock(),
                ),
            )
            await conn.execute(
                "DELETE FROM set_aside WHERE id <= (SELECT MAX(id) FROM set_aside) - ?", (KEEP,)
            )

    async def count(self) -> int:
        rows = await self.db.fetchall("SELECT COUNT(*) FROM set_aside")
        return int(rows[0][0])

    async def recent(self, limit: int = 20) -> list[SetAside]:
        rows = await self.db.fetchall(
            "SELECT id, network, reference, raw, error, created_at FROM set_aside "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [SetAside(*row) for row in rows]
