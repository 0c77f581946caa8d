"""The roster as CSV and JSON for moderators (/export) and the CLI, built in one pass.

Rows come from the database in keyset-paged chunks so 100k members never sit behind one
open cursor; CSV cells that a spreadsheet would run as a formula are quoted with a '.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from storage.db import Database

if TYPE_CHECKING:
    from storage.roster import RosterStore

log = logging.getLogger(__name__)

CSV_COLUMNS = (
    "member_id",
    "display_name",
    "telegram_id",
    "telegram_username",
    "irc_account",
    "irc_nick",
    "verified",
    "interests",
    "joined_at",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class ExportRow:
    member_id: int
    display_name: str
    telegram_id: str | None
    telegram_username: str | None
    irc_account: str | None
    irc_nick: str | None
    verified: bool
    """True when every identity of the member is verified (no bare IRC mask)."""
    interests: tuple[str, ...]
    joined_at: float


def iso_utc(ts: float) -> str:
    """ISO 8601 in UTC with a Z, what spreadsheets and JSON readers parse without guessing."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def iter_export_rows(db: Database) -> AsyncIterator[ExportRow]:
    """Every member in id order; each chunk is three range queries, no cursor held across awaits."""
    after = 0
    while True:
        async with db.conn.execute(_MEMBERS_SQL, (after, _CHUNK)) as cur:
            members = [(int(r[0]), float(r[1])) for r in await cur.fetchall()]
        if not members:
            return
        bounds = (after, members[-1][0])
        idents: dict[int, list[tuple[str, str, str, str | None, bool]]] = {}
        async with db.conn.execute(_IDENTITIES_SQL, bounds) as cur:
            for r in await cur.fetchall():
                idents.setdefault(r[0], []).append((r[1], r[2], r[3], r[4], bool(r[5])))
        tags: dict[int, list[str]] = {}
        async with db.conn.execute(_INTERESTS_SQL, bounds) as cur:
            for r in await cur.fetchall():
                tags[r[0]] = r[1].split(" ")  # tags never contain whitespace
        for member_id, joined_at in members:
            yield _row(member_id, joined_at, idents.get(member_id, []), tags.get(member_id, []))
        after = members[-1][0]


def _row(
    member_id: int,
    joined_at: float,
    idents: list[tuple[str, str, str, str | None, bool]],
    tags: list[str],
) -> ExportRow:
    """One flat row: the first identity on each network (a member has at most one per network)."""
    tg = next((i for i in idents if i[0] == "telegram"), None)
    irc = next((i for i in idents if i[0] == "irc"), None)
    account = irc[1].removeprefix("account:") if irc and irc[1].startswith("account:") else None
    return ExportRow(
        member_id=member_id,
        display_name=(tg or irc or ("", "", "", None, False))[2],
        telegram_id=tg[1] if tg else None,
        telegram_username=tg[3] if tg else None,
        irc_account=account,
        irc_nick=irc[3] if irc else None,
        verified=all(i[4] for i in idents),
        interests=tuple(tags),
        joined_at=joined_at,
    )


async def collect_rows(store: RosterStore) -> list[ExportRow]:
    """All rows at once, so CSV and JSON of one /export describe the same moment."""
    return [row async for row in store.iter_export_rows()]


def _safe_cell(value: str) -> str:
    """Defuse spreadsheet formulas (CSV injection) by quoting a leading = + - @ tab or CR."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def render_csv(rows: Iterable[ExportRow]) -> bytes:
    """UTF-8 with a BOM so spreadsheet programs pick the right encoding."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.member_id,
                _safe_cell(row.display_name),
                row.telegram_id or "",
                _safe_cell(row.telegram_username or ""),
                _safe_cell(row.irc_account or ""),
                _safe_cell(row.irc_nick or ""),
                "yes" if row.verified else "no",
                _safe_cell(";".join(row.interests)),
                iso_utc(row.joined_at),
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def _json_object(row: ExportRow) -> dict[str, Any]:
    return {
        "member_id": row.member_id,
        "display_name": row.display_name,
        "telegram_id": row.telegram_id,
        "telegram_username": row.telegram_username,
        "irc_account": row.irc_account,
        "irc_nick": row.irc_nick,
        "verified": row.verified,
        "interests": list(row.interests),
        "joined_at": iso_utc(row.joined_at),
    }


def render_json(rows: Iterable[ExportRow]) -> bytes:
    """A JSON list of objects with the CSV's columns (interests as a list)."""
    return json.dumps([_json_object(row) for row in rows], ensure_ascii=False).encode("utf-8")


async def export_recorded(store: RosterStore, fmt: str, actor: str) -> bytes:
    """CSV or JSON bytes for the CLI, with the export logged like /export does."""
    rows = await collect_rows(store)
    data = render_csv(rows) if fmt == "csv" else render_json(rows)
    await store.record_export(actor, len(rows))
    return data


async def export_csv(store: RosterStore) -> bytes:
    return render_csv(await collect_rows(store))


async def export_json(store: RosterStore) -> bytes:
    return render_json(await collect_rows(store))


_MEMBERS_SQL = "SELECT id, joined_at FROM members WHERE id > ? ORDER BY id LIMIT ?"
_IDENTITIES_SQL = (
    "SELECT member_id, network, key, display_name, handle, verified FROM identities "
    "WHERE member_id > ? AND member_id <= ? ORDER BY id"
)
_INTERESTS_SQL = (
    "SELECT member_id, group_concat(tag, ' ') FROM (SELECT member_id, tag FROM interests "
    "WHERE member_id > ? AND member_id <= ? ORDER BY member_id, position) GROUP BY member_id"
)
