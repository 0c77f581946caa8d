"""The roster benchmark still runs against today's handlers and stores (a tiny roster)."""

from __future__ import annotations

from pathlib import Path

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
