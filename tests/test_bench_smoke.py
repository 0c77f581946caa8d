"""The roster benchmark still runs against today's handlers and stores (a tiny roster)."""

from __future__ import annotations

from pathlib import Path

from bench import roster_figures


async def test_roster_benchmark_sections_run_on_a_small_roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.sqlite3"
    await roster_figures.build_db(path, 300)
    whois = await roster_figures.whois_section({300: path}, 1, 5)
    export = await roster_figures.export_section(path, 1)
    assert "error" not in whois and whois["300"]["p50"]["median"] > 0
    assert export["rows"] == 300
