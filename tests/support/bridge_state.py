"""What a stopped bridge left behind: set-aside inputs and its status, read through the CLI."""

from __future__ import annotations

from pathlib import Path

from storage.db import Database
from storage.set_aside import SetAsideStore
from tests.support.proc_harness import run_cli


async def set_aside_entries(path: Path) -> list[tuple[str, str, str, str]]:
    db = await Database.open(path, create=False)
    try:
        return [(e.network, e.reference, e.raw, e.error) for e in await SetAsideStore(db).recent()]
    finally:
        await db.close()


async def status(config: Path) -> str:
    code, out, err = await run_cli("status", "--config", str(config))
    assert code == 0, err
    return out
