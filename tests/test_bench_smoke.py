"""The roster benchmark still runs against today's handlers and stores (a tiny roster)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import roster_figures
from tests.support.irc_client import connect
from tests.support.ircd import IrcServer


async def test_roster_benchmark_sections_run_on_a_small_roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.sqlite3"
    await roster_figures.build_db(path, 300)
    whois = await roster_figures.whois_section({300: path}, 1, 5)
    export = await roster_figures.export_section(path, 1)
    assert "error" not in whois and whois["300"]["p50"]["median"] > 0
    assert export["rows"] == 300


def test_added_time_is_taken_per_message_never_from_percentiles() -> None:
    """Each message's end-to-end time minus the baselines of its own period; a message
    without its baselines is left out (issue 12: no p99 of one minus the p99 of another)."""
    from bench.latency import Figures, added_per_message

    samples = {
        "tg_irc": {0: 5.0, 1: 9.0, 2: 4.0},
        "irc_base": {0: 1.0, 1: 5.0, 2: 0.5},
        "poll_base": {0: 2.0, 1: 2.0},
    }
    assert added_per_message(samples, "tg_irc") == [2.0, 2.0]
    figs = Figures()
    figs.add(samples)
    out = figs.summary()
    assert out["tg_irc_added_p99"]["median"] == 2.0  # not 9 - 5 - 2
    assert out["tg_irc_p99"]["median"] == 9.0 and out["delivered"] == {"tg_irc": [3]}


def test_latency_rows_show_idle_bars_on_end_to_end_and_busy_bars_on_added() -> None:
    from bench.run import latency_rows

    def fig(v: float) -> dict[str, float]:
        return {"median": v, "min": v, "max": v}

    keys = ("tg_irc", "irc_tg", "irc_base", "poll_base", "send_base")
    busy = {f"{k}_{q}": fig(1.0) for k in keys for q in ("p50", "p99")}
    busy.update({f"{p}_added_{q}": fig(0.5) for p in ("tg_irc", "irc_tg") for q in ("p50", "p99")})
    idle = {**busy, "tg_irc_p50": fig(2.5), "messages_per_run": 200, "period_s": 4.0}
    idle.update({f"null_{p}_{q}": fig(1.8) for p in ("tg_irc", "irc_tg") for q in ("p50", "p99")})
    rows = latency_rows({**busy, "messages_per_run": 500, "rate_per_s": 20.0}, idle)
    assert len(rows) == 14  # the store-nothing relay's rows in the idle scenario only
    assert sum("stores nothing" in r[0] and r[1].startswith("1.80 ms (") for r in rows) == 2
    idle_t2i = next(r for r in rows if r[0].startswith("Telegram → IRC") and "idle" in r[0])
    assert idle_t2i[2] == "≤ 2 ms / ≤ 4 ms" and idle_t2i[3] == "**missed** / met"


async def test_channel_size_bench_routes_through_the_real_connector_state(tmp_path: Path) -> None:
    """Every size runs, each line is queued (the bench asserts it), and the row shows them."""
    from bench.channel_size import SIZES, channel_size_figures
    from bench.run import channel_size_rows

    figures = await channel_size_figures(tmp_path, messages=3)
    assert all(figures[str(n)]["p50_ms"] > 0 for n in SIZES)
    (row,) = channel_size_rows(figures)
    assert "4 / 500 / 2000 people" in row[0] and row[1].count(" ms") == len(SIZES)


async def test_the_store_nothing_relay_carries_text_both_ways(inspircd: IrcServer) -> None:
    """The idle bench's floor (bench/null_relay.py) relays what the bench measures, on a
    real ircd and the strict fake Bot API: a Telegram line to the channel, a channel line
    to the group as HTML."""
    from bench.latency import NULL_CHANNEL, NULL_GROUP, null_relay
    from bench.relay import ALICE

    async with null_relay(inspircd) as null:
        client = await connect(inspircd.host, inspircd.port, "speaker")
        await client.join(NULL_CHANNEL)
        null.fake.push_text(NULL_GROUP, ALICE, "hello <irc>")
        (line,) = await client.expect_privmsgs(NULL_CHANNEL, 1, timeout=10)
        assert (line.source_nick, line.text) == ("nullrelay", "<Alice> hello <irc>")
        client.privmsg(NULL_CHANNEL, "hi & <b>")
        (sent,) = await null.fake.wait_sent(timeout=10)
        assert (sent.chat_id, sent.text) == (NULL_GROUP, "<b>speaker</b>: hi &amp; &lt;b&gt;")
        await client.close()


def test_flood_text_is_exact_and_numbered_in_order() -> None:
    from bench.stall import flood_text, flood_words

    texts = [flood_text(m, 3800) for m in range(2)]
    assert [len(t) for t in texts] == [3800, 3800]
    words = flood_words(texts)
    assert words[0] == (0, 0) and words == sorted(words) and len(words) == len(set(words))


def test_stall_rows_judge_every_line_against_the_bar() -> None:
    """p99 on the bar, and a line that never arrived misses it; the flood needs both its
    wait and every word of the flood in order."""
    from bench.stall import stall_rows

    code = {"code": {"commit": "abc1234", "uncommitted": []}}
    lat = {"p50_ms": 500.0, "p99_ms": 1900.0, "max_ms": 1900.0, "sent": 30, "delivered": 30}
    base = {**code, "count": 30, "period_s": 1.0, "bound_s": 90.0}
    results = {
        "stall_lookup": {**base, **lat, "commands": 4, "slow_s": 15.0},
        "stall_clones": {
            **base,
            **lat,
            "clones": 8,
            "p99_ms": 3100.0,
            "pacing": {"send_burst": 4, "send_rate": 1.0},
        },
        "stall_downloads": {**base, **lat, "downloads": 16, "file_slow_s": 60.0, "delivered": 29},
        "stall_flood": {
            **code,
            "short_wait_s": 12.0,
            "flood_complete": True,
            "flood_lines": 60,
            "flood_lines_before_short": 10,
            "flood_drain_s": 62.0,
            "messages": 6,
            "size": 3800,
            "pacing": {"send_burst": 4, "send_rate": 1.0},
        },
    }
    rows = stall_rows(results)
    assert [r[3] for r in rows] == ["met", "**missed**", "**missed**", "met"]
    assert rows[0][1] == "500.0 ms / 1.90 s" and "bridge abc1234)" in rows[0][0]
    assert "29 of 30 arrived" in rows[2][1] and "send_burst 4, send_rate 1;" in rows[1][0]
    assert rows[3][1].startswith("12.0 s; yes (60 lines, 10 before it")
    assert stall_rows({}) == []
    assert stall_rows({"stall_flood": {"error": "boom"}}) == [
        ("stall_flood (bench/stall.py)", "failed: boom", "", "**missed**")
    ]


@pytest.mark.parametrize("scenario", ["lookup", "clones", "downloads", "flood"])
async def test_stall_scenarios_run_small(tmp_path: Path, scenario: str) -> None:
    """Each issue-19 scenario runs end to end on a small scale and everything arrives."""
    from bench import stall

    if scenario == "lookup":
        out = await stall.lookup_section(
            tmp_path, slow=1.0, count=3, period=0.3, commands_at=(0.1, 0.2)
        )
        assert out["answered"] == out["commands"] == 2
    elif scenario == "clones":
        out = await stall.clones_section(tmp_path, clones=2, count=3, period=0.3, command_at=0.1)
    elif scenario == "downloads":
        out = await stall.downloads_section(tmp_path, downloads=2, slow=1.0, count=3, period=0.3)
        assert out["downloads_fetching"] >= 1
    else:
        out = await stall.flood_section(tmp_path, messages=2, size=1000, gap=0.2)
        assert out["flood_complete"] and out["in_order"] and out["short_wait_s"] is not None
        assert out["flood_lines"] >= 4
    if scenario != "flood":
        assert out["delivered"] == out["sent"] == 3 and out["p99_ms"] > 0
    assert out["code"]["commit"]
