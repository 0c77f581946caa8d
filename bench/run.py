"""Run every benchmark, then write bench/results.json and bench/results.md."""

from __future__ import annotations

import argparse
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

from bench import channel_size, directory, latency, relay, roster_figures, stall, web_media
from bench.common import ROOT, fmt, machine

OUT = ROOT / "bench"
PROFILE = OUT / "PROFILE.md"
"""Hand-written: what the profiles of the misses showed, what was fixed, before/after."""
QUICK = os.environ.get("BENCH_QUICK") == "1"
RUNS = 2 if QUICK else 3
IDLE_PERIOD = 4.0
"""Seconds between two messages in each direction at idle (a real group's pace)."""
IDLE_COUNT = int(os.environ.get("BENCH_IDLE_COUNT", 15 if QUICK else 200))
"""Messages each way at idle (BENCH_IDLE_COUNT overrides, for profiling runs)."""


ROSTER_SECTIONS = ("whois", "export", "burst")
SECTIONS = (
    "whois",
    "export",
    "startup",
    "latency",
    "idle",
    "channel_size",
    "pairs",
    "burst",
    "latency_web",
    "media",
    "directory",
    *stall.SECTIONS,
)


async def run_all(tmp: Path, only: set[str] | None = None) -> dict[str, Any]:
    """Each section in turn (or those in only); timings in seconds and milliseconds as named."""
    results: dict[str, Any] = {"machine": machine(), "quick": QUICK}
    began = time.monotonic()

    def step(name: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {name}", file=sys.stderr, flush=True)

    dbs = {n: tmp / f"roster{n}.sqlite3" for n in (1_000, 10_000, 100_000)}
    if only is None or only & set(ROSTER_SECTIONS):
        step("roster databases")
        results["roster_build_s"] = {
            str(n): round(await roster_figures.build_db(p, n), 2) for n, p in dbs.items()
        }
    sections: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {
        "whois": lambda: roster_figures.whois_section(dbs, RUNS, 100),
        "export": lambda: roster_figures.export_section(dbs[100_000], RUNS),
        "startup": lambda: relay.startup_section(tmp, 5),
        "latency": lambda: latency.latency_section(tmp, RUNS, 200 if QUICK else 500, 20.0),
        "idle": lambda: latency.idle_section(tmp, 1, IDLE_COUNT, IDLE_PERIOD),
        "channel_size": lambda: channel_size.channel_size_figures(tmp),
        "pairs": lambda: relay.pairs_section(tmp, RUNS, 50, 300, 25.0),
        "burst": lambda: relay.burst_section(tmp, RUNS, 500, 16.0, 10, dbs[100_000]),
        "latency_web": lambda: latency.latency_section(
            tmp, RUNS, 200 if QUICK else 500, 20.0, web=True
        ),
        "media": lambda: web_media.media_figures(quick=QUICK),
        "directory": lambda: directory.directory_figures(10_000 if QUICK else 100_000),
        "stall_lookup": lambda: stall.lookup_section(tmp),
        "stall_clones": lambda: stall.clones_section(tmp),
        "stall_downloads": lambda: stall.downloads_section(tmp),
        "stall_flood": lambda: stall.flood_section(tmp),
    }
    for name, section in sections.items():
        if only is not None and name not in only:
            continue
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


def _pair(d: dict[str, Any], key: str) -> str:
    return f"{fmt(d.get(key + '_p50', {}))} / {fmt(d.get(key + '_p99', {}))}"


def _bar(d: dict[str, Any], key: str, p50: float, p99: float) -> str:
    med = lambda q: d.get(f"{key}_{q}", {}).get("median")  # noqa: E731
    return f"{_ok(med('p50'), p50)} / {_ok(med('p99'), p99)}"


PATH_NAMES = {
    "tg_irc": ("Telegram → IRC", "push into Bot API → line at IRC client"),
    "irc_tg": ("IRC → Telegram", "IRC client writes → Bot API accepts sendMessage"),
}
BASE_NAMES = {
    "tg_irc": "IRC client→client; Bot API long-poll hand-off to bare aiohttp",
    "irc_tg": "IRC client→client; bare aiohttp sendMessage",
}
BUSY_BARS = {"tg_irc": (1.0, 5.0), "irc_tg": (2.0, 10.0)}
"""The 20/s bars are on the time added by the bridge (per message)."""
IDLE_BARS = (2.0, 4.0)
"""The idle bars are on the end-to-end time (issue 12)."""


def latency_rows(
    lat: dict[str, Any], idle: dict[str, Any] | None
) -> list[tuple[str, str, str, str]]:
    """Per path: end to end, the baselines measured beside it, and the per-message added."""
    rows: list[tuple[str, str, str, str]] = []
    scenarios: list[tuple[str, dict[str, Any]]] = [
        (f"{lat.get('messages_per_run', '?')} msgs at {lat.get('rate_per_s', '?')}/s", lat)
    ]
    if idle is not None and "error" not in idle:
        scenarios.append(
            (f"idle: {idle['messages_per_run']} msgs, 1 per {idle['period_s']:g} s each way", idle)
        )
    for label, d in scenarios:
        busy = d is lat
        for path, (name, what) in PATH_NAMES.items():
            b50, b99 = BUSY_BARS[path]
            e2e_bar = "" if busy else f"≤ {IDLE_BARS[0]:g} ms / ≤ {IDLE_BARS[1]:g} ms"
            rows.append(
                (
                    f"{name} end to end ({what}), p50 / p99 — {label}, unpaced",
                    _pair(d, path),
                    e2e_bar,
                    "" if busy else _bar(d, path, *IDLE_BARS),
                )
            )
            bases = " ; ".join(
                _pair(d, b)
                for b in (
                    ("irc_base", "poll_base") if path == "tg_irc" else ("irc_base", "send_base")
                )
            )
            rows.append(
                (f"  baselines in the same run ({BASE_NAMES[path]}), p50 / p99", bases, "", "")
            )
            if f"null_{path}_p50" in d:
                rows.append(
                    (
                        "  a relay that stores nothing, same libraries, same run "
                        "(bench/null_relay.py), end to end p50 / p99",
                        _pair(d, f"null_{path}"),
                        "",
                        "",
                    )
                )
            rows.append(
                (
                    "  added by the bridge, per message (its e2e − its period's baselines), "
                    "p50 / p99",
                    _pair(d, f"{path}_added"),
                    f"≤ {b50:g} ms / ≤ {b99:g} ms" if busy else "",
                    _bar(d, f"{path}_added", b50, b99) if busy else "",
                )
            )
    return rows


def channel_size_rows(sizes: dict[str, Any] | None) -> list[tuple[str, str, str, str]]:
    """The router's own work for one Telegram line, by the size of the IRC channel (one run)."""
    if sizes is None or "error" in sizes:
        return []
    counts = [k for k in sizes if k.isdigit()]
    return [
        (
            "a Telegram line routed and queued for IRC, in process, in a channel of "
            f"{' / '.join(counts)} people: p50 (p99)",
            " / ".join(f"{sizes[k]['p50_ms']:.2f} ({sizes[k]['p99_ms']:.2f}) ms" for k in counts),
            "no growth with the channel",
            "",
        )
    ]


def web_rows(
    media: dict[str, Any] | None,
    found: dict[str, Any] | None,
    lat: dict[str, Any],
    lat_web: dict[str, Any] | None,
) -> list[tuple[str, str, str, str]]:
    """The web face's figures: relay latency with [web] on beside off, media links (one
    run) and the members directory (one run)."""
    rows: list[tuple[str, str, str, str]] = []
    if lat_web is not None and "error" not in lat_web:
        for path, (title, _) in PATH_NAMES.items():
            rows.append(
                (
                    f"{title} end to end at 20/s with [web] on (off: {_pair(lat, path)}), "
                    "p50 / p99",
                    _pair(lat_web, path),
                    "within noise of off",
                    "",
                )
            )
    if media is not None and "error" not in media:
        rows += [
            (
                f"50 clients fetching a cached 1 MB photo ({media['media_requests']:.0f} "
                "requests): time to last byte p50 / p99",
                f"{media['media_p50_ms']:.1f} ms / {media['media_p99_ms']:.1f} ms",
                "",
                "",
            ),
            (
                "resident memory with [web] on",
                f"{media['rss_web_mb']:.1f} MB",
                "≤ 80 MB",
                _ok(media["rss_web_mb"], 80),
            ),
        ]
    if found is not None and "error" not in found:
        n, readers = int(found["members"]) // 1000, int(found["readers"])
        for phase, words in (
            ("warm", f"{readers} readers, pages in the cache"),
            ("render_alone", "each page rendered afresh, one at a time"),
            ("cold", f"{readers} readers, every page rendered afresh"),
        ):
            for kind, url in (("members", "/members"), ("search", "/members?q=")):
                p99 = found.get(f"{phase}_{kind}_p99_ms")
                if p99 is None:
                    continue
                rows.append(
                    (
                        f"{url} at {n}k members (half listed), {words}: server time p50 / p99",
                        f"{found[f'{phase}_{kind}_p50_ms']:.2f} ms / {p99:.2f} ms",
                        "p99 ≤ 20 ms" if phase == "warm" else "",
                        _ok(p99, 20) if phase == "warm" else "",
                    )
                )
    return rows


def render_markdown(r: dict[str, Any]) -> str:
    """The results table plus the machine and the method."""
    m = r["machine"]
    lat, burst, pairs, start = r["latency"], r["burst"], r["pairs"], r["startup"]
    w100 = r["whois"]["100000"]
    med = lambda s: s["median"]  # noqa: E731
    rows = [
        *latency_rows(lat, r.get("idle")),
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
            "  of which the bridge's own (spawn → IRC registered and Telegram logged in; "
            "ngircd then holds a new client's first command 1 s)",
            fmt(start.get("startup_own_s", {}), "s", 3),
            "",
            "",
        ),
        (
            f"{pairs['pairs']} bridged pairs, traffic both ways on all: p99 (worst direction)",
            f"{fmt(pairs['p99_worst_direction'])} (T→I {fmt(pairs['tg_irc_p99'])}, "
            f"I→T {fmt(pairs['irc_tg_p99'])})",
            "≤ 10 ms",
            _ok(med(pairs["p99_worst_direction"]), 10),
        ),
    ]
    rows += channel_size_rows(r.get("channel_size"))
    rows += web_rows(r.get("media"), r.get("directory"), lat, r.get("latency_web"))
    rows += stall.stall_rows(r)
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
            stall.METHOD,
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
  InspIRCd's commandrate/threshold too). A warm-up batch is not counted.
- Two rates: 20/s (500 messages per run, one direction after the other) and idle, the rate
  of a real group: one message every 4 s in each direction, 200 each, the two directions
  interleaved 2 s apart (`python -m bench --only idle`; `BENCH_IDLE_COUNT` for fewer).
- Baselines are measured in the same run, one sample of each in every message's period
  (at a fixed fraction of it): an IRC client-to-client PRIVMSG through the same ircd, the
  long-poll hand-off of a second fake Bot API to a bare aiohttp poller (push → getUpdates
  returns), and a bare aiohttp `sendMessage` to it. Their percentiles are shown beside the
  end-to-end ones. "Added by the bridge" is computed per message — its end-to-end time
  minus the baselines of its own period for the same path (IRC + long-poll for
  Telegram → IRC, IRC + sendMessage for IRC → Telegram) — and then its percentiles are
  taken; no percentile is subtracted from another. The 20/s bars are on that added time,
  the idle bars (issue 12) on the end-to-end time.
- `python -m bench.profile_idle [count] [period]` runs the idle scenario against the bridge
  with timestamps on its hot path (`bench/trace_bridge.py`; CLOCK_MONOTONIC, shared by both
  processes) and prints where each message's time goes, and the aiosqlite calls it took.
- Burst: 500 updates pushed at once into the fake; InspIRCd with flood protection on
  (`threshold` = 2 × the bot's `send_burst`, `commandrate` = 1.25 × the bot's `send_rate`,
  fakelag, recvq 8 KB); drain time = first push → last line at the IRC client; the pacing
  allows (500 − send_burst) / send_rate seconds. Flood disconnects = the bot's QUITs seen
  in the channel plus "connection lost" in its log. The bridge runs on a copy of the 100k
  roster DB; RSS (VmRSS from /proc/PID/status) is read after 2 s idle and 0.5 s after the
  burst drained.
- Start-up: spawn → the log line "ready: bridging 1 pair(s)" (config read, a new DB
  created and migrated, getMe + getChat on Telegram, IRC registered and channel joined).
  ngircd answers any client's first command after registration 1.0 s later (a raw socket
  sees the same), so the bridge's own part is shown too: spawn → both "IRC: registered"
  and "Telegram: logged in" logged.
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


def merge_results(sections: dict[str, Any]) -> None:
    """Put these sections' figures into results.json (the others kept) and render
    results.md again; left as it was when the merged results cannot be rendered (no full
    run yet)."""
    path = OUT / "results.json"
    merged: dict[str, Any] = {}
    if path.exists():
        merged = json.loads(path.read_text(encoding="utf-8"))
    merged.update(sections)
    path.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
    try:
        text = render_markdown(merged)
    except (KeyError, TypeError) as exc:
        print(f"results.md left as it was ({exc!r})", file=sys.stderr)
        return
    (OUT / "results.md").write_text(text + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bench [--only idle,latency,...]`; with --only the chosen
    sections are printed as JSON and the results files are left alone, except for the
    stall sections (`--only stall` runs all four): their figures are merged into the
    results files, the other sections' kept."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "--only",
        help="comma-separated sections: " + ", ".join((*SECTIONS, stall.ALIAS)),
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    only = None if args.only is None else {x.strip() for x in args.only.split(",")}
    if only is not None and stall.ALIAS in only:
        only = (only - {stall.ALIAS}) | set(stall.SECTIONS)
    if only is not None and not only <= set(SECTIONS):
        parser.error(f"unknown section(s): {', '.join(sorted(only - set(SECTIONS)))}")
    with tempfile.TemporaryDirectory(prefix="tgirc-bench-") as tmp:
        results = asyncio.run(run_all(Path(tmp), only))
    if only is not None:
        print(json.dumps(results, indent=2))
        if only <= set(stall.SECTIONS):
            merge_results({k: results[k] for k in only})
        return 0
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    try:
        text = render_markdown(results)
    except (KeyError, TypeError) as exc:  # a section failed: show what there is
        text = f"# Benchmark results\n\nincomplete ({exc!r}):\n\n```json\n"
        text += json.dumps(results, indent=2) + "\n```"
    (OUT / "results.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0
