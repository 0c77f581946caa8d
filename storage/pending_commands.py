"""Commands accepted but not yet answered, so that a crash does not lose them.

A command runs beside the relay (bridge/command_lanes.py): its source is acknowledged as soon
as it is written here, long before its lookups and answers are done. What is still here at
the next start is run again; a row goes once the command's answers are queued.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True, slots=True)
class PendingCommand:
    id: int
    network: str
    source_id: str
    body: str
    """JSON written by the bridge (who typed what, where); opaque here."""


class PendingCommands:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    async def add(self, network: str, source_id: str, body: str) -> int | None:
        """Keep a command until done(); None when that message is already kept (a source
        delivered again after a restart runs its command once)."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO pending_command (network, source_id, body, created_at) "
                "VALUES (?, ?, ?, ?)",
                (network, source_id, body, self.clock()),
            )
            return cursor.lastrowid if cursor.rowcount == 1 else None

    async def done(self, command_id: int) -> None:
        await self.db.write("DELETE FROM pending_command WHERE id = ?", (command_id,))

    async def all(self) -> list[PendingCommand]:
        """Every command still waiting, oldest first (the order they were typed in)."""
        rows = await self.db.fetchall(
            "SELECT id, network, source_id, body FROM pending_command ORDER BY id"
        )
        return [PendingCommand(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]
