"""/export's fast paths give exactly the text of the obvious ones they replaced."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.model import Network
from storage.export import ExportRow, collect_rows, iso_utc, render_csv, render_json
from storage.roster_model import Identity
from storage.roster_store import RosterStore

TEXT = st.text(max_size=12)
ROWS = st.builds(
    ExportRow,
    st.integers(1, 2**53),
    TEXT,
    st.none() | TEXT,
    st.none() | TEXT,
    st.none() | TEXT,
    st.none() | TEXT,
    st.booleans(),
    st.lists(TEXT, max_size=4).map(tuple),
    st.floats(0, 4e9),
)


def plain_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@settings(max_examples=500)
@given(
    st.floats(-2e9, 4e9)
    | st.integers(-(10**9), 4 * 10**9).map(lambda s: s - 5e-7)
    | st.integers(0, 4 * 10**9).map(lambda s: s + 0.9999995)
)
def test_iso_utc_is_the_datetime_text(ts: float) -> None:
    assert iso_utc(ts) == plain_iso(ts)


def test_iso_utc_rounds_like_datetime() -> None:
    assert iso_utc(1_700_000_000.0) == "2023-11-14T22:13:20Z"
    assert iso_utc(1_700_000_000.9999996) == "2023-11-14T22:13:21Z"
    assert iso_utc(-0.5) == "1969-12-31T23:59:59Z"


def json_object(row: ExportRow) -> dict[str, Any]:
    return {
        "member_id": row.member_id,
        "display_name": row.display_name,
        "telegram_id": row.telegram_id,
        "telegram_username": row.telegram_username,
        "irc_account": row.irc_account,
        "irc_nick": row.irc_nick,
        "verified": row.verified,
        "interests": list(row.interests),
        "joined_at": plain_iso(row.joined_at),
    }


@settings(max_examples=300)
@given(st.lists(ROWS, max_size=4))
def test_render_json_is_json_dumps_of_the_objects(rows: list[ExportRow]) -> None:
    expected = json.dumps([json_object(r) for r in rows], ensure_ascii=False).encode("utf-8")
    assert render_json(rows) == expected


@settings(max_examples=300)
@given(st.lists(ROWS, max_size=4))
def test_render_csv_reads_back(rows: list[ExportRow]) -> None:
    text = render_csv(rows).decode("utf-8-sig")
    back = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [int(r["member_id"]) for r in back] == [r.member_id for r in rows]
    for row, read in zip(rows, back, strict=True):
        assert read["verified"] == ("yes" if row.verified else "no")
        assert read["joined_at"] == plain_iso(row.joined_at)
        assert read["display_name"].removeprefix("'") == row.display_name.removeprefix("'")


async def test_export_row_takes_telegram_name_and_any_unverified_identity(
    store: RosterStore,
) -> None:
    irc_first = Identity(Network.IRC, "mask:dan!~d@host", "dan", "dan", False)
    dan, _ = await store.join(irc_first)
    code = await store.create_link_code(irc_first)
    await store.redeem_link_code(code.code, Identity(Network.TELEGRAM, "7", "Dan D", "dd", True))
    await store.join_with_interests(irc_first, ["lua", "c"], edit=False)
    eve, _ = await store.join(Identity(Network.IRC, "account:eve", "Eve", "eve", True))
    assert await collect_rows(store) == [
        ExportRow(dan.id, "Dan D", "7", "dd", None, "dan", False, ("lua", "c"), dan.joined_at),
        ExportRow(eve.id, "Eve", None, None, "eve", "eve", True, (), eve.joined_at),
    ]
