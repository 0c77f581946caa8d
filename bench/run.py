"""Run every benchmark, then write bench/results.json and bench/results.md."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import relay, roster_figures
from bench.common import ROOT, fmt, machine

OUT = ROOT / "bench"
PROFILE = OUT / "PROFILE.md"
"""Hand-written: what the profiles of the misses showed, what was fixed, before/after."""
QUICK = os.environ.get("BENCH_QUICK") == "1"
RUNS = 2 if QUICK else 3


async def run_all(tmp: Path) -> dict[str, Any]:
    """Each section in turn; timings in seconds and milliseconds as named."""
    results: dict[str, Any] = {"machine": machine(), "quick": QUICK}
    began = time.monotonic()

    def step(name: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {name}", file=sys.stderr, flush=True)

    step("roster databases")
    dbs = {n: tmp / f"roster{n}.sqlite3" for n in (1_000, 10_000, 100_000)}
    results["roster_build_s"] = {
        str(n): round(await roster_figures.build_db(p, n), 2) for n, p in dbs.items()
    }
    sections: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {
        "whois": lambda: roster_figures.whois_section(dbs, RUNS, 100),
        "export": lambda: roster_figures.export_section(dbs[100_000], RUNS),
        "startup": lambda: relay.startup_section(tmp, 5),
        "latency": lambda: relay.latency_section(tmp, RUNS, 200 if QUICK else 500, 20.0),
        "pairs": lambda: relay.pairs_section(tmp, RUNS, 50, 300, 25.0),
        "burst": lambda: relay.burst_section(tmp, RUNS, 500, 16.0, 10, dbs[100_000]),
    }
    for name, section in sections.items():
        step(name)
        try:
            results[name] = await section()
        except Exception as exc:  # report the failure, keep the other figures
            results[name] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
    results["total_s"] = time.monotonic() - began
    step("done")
    return results


def _ok(value: float | None, bar: float) -> str:
    if value is None:
        return "n/a"
    return "met" if value <= bar else "**missed**"


def render_markdown(r: dict[str, Any]) -> str:
    """The results table plus the machine and the method."""
    m = r["machine"]
    lat, burst, pairs, start = r["latency"], r["burst"], r["pairs"], r["startup"]
    w100 = r["whois"]["100000"]
    med = lambda s: s["median"]  # noqa: E731
    rows = [
        (
            "Telegram → IRC added by the bridge, p50 / p99 (500 msgs at 20/s, unpaced)",
            f"{fmt(lat['tg_irc_added_p50'])} / {fmt(lat['tg_irc_added_p99'])}",
            "≤ 1 ms / ≤ 5 ms",
            f"{_ok(med(lat['tg_irc_added_p50']), 1)} / {_ok(med(lat['tg_irc_added_p99']), 5)}",
        ),
        (
            "  end to end (push into Bot API → line at IRC client), p50 / p99",
            f"{fmt(lat['tg_irc_p50'])} / {fmt(lat['tg_irc_p99'])}",
            "",
            "",
        ),
        (
            "  baselines: IRC client→client p50 / p99; Bot API long-poll hand-off p50 / p99",
            f"{fmt(lat['irc_base_p50'])} / {fmt(lat['irc_base_p99'])}; "
            f"{fmt(lat['poll_base_p50'])} / {fmt(lat['poll_base_p99'])}",
            "",
            "",
        ),
        (
            "IRC → Telegram added by the bridge, p50 / p99 (500 msgs at 20/s, unpaced)",
            f"{fmt(lat['irc_tg_added_p50'])} / {fmt(lat['irc_tg_added_p99'])}",
            "≤ 2 ms / ≤ 10 ms",
            f"{_ok(med(lat['irc_tg_added_p50']), 2)} / {_ok(med(lat['irc_tg_added_p99']), 10)}",
        ),
        (
            "  end to end (IRC client writes → Bot API accepts sendMessage), p50 / p99",
            f"{fmt(lat['irc_tg_p50'])} / {fmt(lat['irc_tg_p99'])}",
            "",
            "",
        ),
        (
            "  baseline: bare httpx sendMessage to the fake Bot API, p50 / p99",
            f"{fmt(lat['send_base_p50'])} / {fmt(lat['send_base_p99'])}",
            "",
            "",
        ),
        (
            f"burst of {burst['count']} Telegram messages: delivered, in order, flood "
            "disconnects, drain ÷ pacing",
            f"{burst['delivered']}, {burst['in_order']}, {burst['flood_disconnects']}, "
            f"{fmt(burst['drain_ratio'], '', 3)} (drain {fmt(burst['drain_s'], 's', 1)}, "
            f"pacing allows {burst['allowed_s']:.1f} s)",
            "500, yes, 0, ≤ 1.05",
            _ok(med(burst["drain_ratio"]), 1.05)
            if all(d == burst["count"] for d in burst["delivered"])
            and all(burst["in_order"])
            and not any(burst["flood_disconnects"])
            else "**missed**",
        ),
        *(
            (
                f"/whois <interest> on {int(n) // 1000}k members, p50 / p99",
                f"{fmt(r['whois'][n]['p50'])} / {fmt(r['whois'][n]['p99'])}",
                "p99 ≤ 5 ms at 100k" if n == "100000" else "",
                _ok(med(w100["p99"]), 5) if n == "100000" else "",
            )
            for n in ("1000", "10000", "100000")
        ),
        (
            "/export of 100k members (read + CSV + JSON)",
            fmt(r["export"]["total_s"], "s"),
            "≤ 2 s",
            _ok(med(r["export"]["total_s"]), 2),
        ),
        (
            "resident memory: idle with 100k members; after the 500 burst",
            f"{fmt(burst['rss_idle_mb'], 'MB', 1)}; {fmt(burst['rss_after_mb'], 'MB', 1)}",
            "≤ 80 MB",
            _ok(max(med(burst["rss_idle_mb"]), med(burst["rss_after_mb"])), 80),
        ),
        (
            "start-up to ready (config, DB created + migrated, both networks, channel joined)",
            fmt(start["startup_s"], "s", 3),
            "≤ 1.5 s",
            _ok(med(start["startup_s"]), 1.5),
        ),
        (
            f"{pairs['pairs']} bridged pairs, traffic both ways on all: p99 (worst direction)",
            f"{fmt(pairs['p99_worst_direction'])} (T→I {fmt(pairs['tg_irc_p99'])}, "
            f"I→T {fmt(pairs['irc_tg_p99'])})",
            "≤ 10 ms",
            _ok(med(pairs["p99_worst_direction"]), 10),
        ),
    ]
    table = ["| figure | median (min–max) | bar | |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    pk = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"Generated by `./scripts/bench.sh` in {r['total_s']:.0f} s"
            + (" (BENCH_QUICK=1: fewer runs)" if r["quick"] else "")
            + ". Every figure is the median of several runs with (min–max).",
            "",
            *table,
            "",
            "## Machine",
            "",
            f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram_mb']} MB; {m['os']}",
            f"- Python {m['python']}; {pk}",
            f"- IRC servers: {m['servers']['ngircd']}; {m['servers']['inspircd']}",
            f"- load average when the run started: {m['loadavg_at_start']} (other processes "
            "may share the CPU; latency tails are the figures most sensitive to that)",
            "",
            METHOD,
            PROFILE.read_text(encoding="utf-8"),
        ]
    )


METHOD = """## Method

- Everything runs on 127.0.0.1: InspIRCd 3 (ngircd for start-up), the strict fake Bot API
  from `tests/support/fake_telegram.py` (aiohttp) and raw-asyncio IRC clients from
  `tests/support/irc_client.py`, all in the bench process. The bridge itself always runs
  as a subprocess, `.venv/bin/python -m bridge run --config …`, with `logging.level = INFO`.
- Latency: send time is `time.monotonic()` right before the bench pushes an update into
  the fake Bot API (Telegram → IRC) or an IRC client writes its PRIVMSG (IRC → Telegram);
  arrival time is `Line.received_at` at an IRC client in the channel, or the fake's
  `SentMessage.time` when it accepts the bot's `sendMessage`. Pacing is off (IRC
  `send_burst`/`send_rate` and Telegram `messages_per_minute`/`burst` set very high;
  InspIRCd's commandrate/threshold too). One warm-up batch of 20 messages is not counted.
- "Added by the bridge" = the end-to-end percentile of a run minus the median percentile
  of its baselines, measured in the same bench run: for Telegram → IRC an IRC
  client-to-client PRIVMSG through the same ircd plus the fake Bot API's long-poll
  hand-off to a bare httpx client (push → getUpdates returns); for IRC → Telegram the same
  IRC client-to-client path plus a bare httpx `sendMessage` to the fake. End-to-end and
  baselines are both shown.
- Burst: 500 updates pushed at once into the fake; InspIRCd with flood protection on
  (`threshold` = 2 × the bot's `send_burst`, `commandrate` = 1.25 × the bot's `send_rate`,
  fakelag, recvq 8 KB); drain time = first push → last line at the IRC client; the pacing
  allows (500 − send_burst) / send_rate seconds. Flood disconnects = the bot's QUITs seen
  in the channel plus "connection lost" in its log. The bridge runs on a copy of the 100k
  roster DB; RSS (VmRSS from /proc/PID/status) is read after 2 s idle and 0.5 s after the
  burst drained.
- Start-up: spawn → the log line "ready: bridging 1 pair(s)" (config read, a new DB
  created and migrated, getMe + getChat on Telegram, IRC registered and channel joined).
- /whois: the real handler (`handlers.roster_commands.whois`) with a stub context, on databases of
  1k/10k/100k members filled in bulk (1–8 Zipf-distributed interests from ~150 tags, 30 %
  with an IRC identity), queries cycling through popular, rare and prefix interests.
- /export: `collect_rows` + `render_csv` + `render_json` on the 100k database.
- 50 pairs: one IRC client in 50 channels and 50 fake Telegram groups; messages both ways
  round-robin over the pairs at 25/s per direction (under Telegram's 30/s global cap).
- The bench's IRC clients acknowledge every read at once (TCP_QUICKACK, as the bridge
  does on its own socket): InspIRCd leaves Nagle on, so without it a line to a client
  that has just received another waits for that client's kernel delayed-ACK timer
  (~20 ms), which measures the observer's kernel, not the bridge.
"""


def main() -> int:
    """Entry point of `python -m bench`."""
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="tgirc-bench-") as tmp:
        results = asyncio.run(run_all(Path(tmp)))
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    try:
        text = render_markdown(results)
    except (KeyError, TypeError) as exc:  # a section failed: show what there is
        text = f"# Benchmark results\n\nincomplete ({exc!r}):\n\n```json\n"
        text += json.dumps(results, indent=2) + "\n```"
    (OUT / "results.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0
