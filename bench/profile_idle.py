"""``python -m bench.profile_idle [count] [period]``: where one idle message's time goes.

Runs the idle scenario against bench.trace_bridge (the bridge with timestamps on its hot
path, same CLOCK_MONOTONIC as this process) and prints, per stage, the p50 / p99 of the time
since the message was sent, and the aiosqlite round trips taken between stages.
"""

from __future__ import annotations

import asyncio
import collections
import os
import sys
import tempfile
from pathlib import Path

from bench.common import percentile
from bench.latency import I2T, T2I, Stream, _clients, baselines, measure
from bench.relay import world

T2I_STAGES = (
    "tg.polled",
    "router.in",
    "enqueue.in",
    "store.in",
    "outbox.send",
    "irc.write",
    "enqueue.out",
    "record.in",
    "record.out",
)
I2T_STAGES = (
    "irc.read",
    "router.in",
    "enqueue.in",
    "store.in",
    "outbox.send",
    "tg.send",
    "tg.http",
    "enqueue.out",
    "record.in",
    "record.out",
)


async def profile(count: int, period: float) -> str:
    with tempfile.TemporaryDirectory(prefix="tgirc-profile-") as tmp:
        trace = Path(tmp) / "trace.txt"
        os.environ["BENCH_TRACE"] = str(trace)
        raw: dict[str, Stream] = {}
        run = 1000
        async with world(Path(tmp), "profile", module="bench.trace_bridge") as w, baselines() as b:
            c = await _clients(w)
            await measure(w, c, b, 900, 3, 0.5, ("tg_irc", "irc_tg"))
            await asyncio.sleep(period)
            await measure(w, c, b, run, count, period, ("tg_irc", "irc_tg"), raw)
        lines = trace.read_text().splitlines()
    stamps: dict[tuple[str, str], tuple[float, int]] = {}
    collections_ms: list[tuple[str, float, float]] = []  # generation, start, duration
    for line in lines:
        stage, mark, ns, hops = line.split()
        if stage.startswith("gc"):
            collections_ms.append((stage, int(ns) / 1e6, int(hops) / 1e6))
            continue
        stamps.setdefault((stage, mark), (int(ns) / 1e6, int(hops)))
    out = [_gc_summary(collections_ms, raw)]
    for name, offset, stages, stream in (
        ("Telegram → IRC", T2I, T2I_STAGES, raw["tg_irc"]),
        ("IRC → Telegram", I2T, I2T_STAGES, raw["irc_tg"]),
    ):
        e2e = stream.ms()
        out.append(f"{name}: end to end p50 {percentile(list(e2e.values()), 50):.3f} ms")
        # every stage as time since the bench sent the message (one clock, two processes)
        rel: dict[str, list[float]] = collections.defaultdict(list)
        hops: dict[str, list[int]] = collections.defaultdict(list)
        for seq in e2e:
            mark = f"b{run + offset}x{seq}y"
            sent_ms = stream.sent[seq] * 1000.0
            first = stamps.get((stages[0], mark))
            for stage in stages:
                got = stamps.get((stage, mark))
                if got is not None:
                    rel[stage].append(got[0] - sent_ms)
                    hops[stage].append(got[1] - (first[1] if first else got[1]))
            rel["arrived"].append(stream.arrived[seq] * 1000.0 - sent_ms)
        for stage in (*stages, "arrived"):
            if rel[stage]:
                out.append(
                    f"  sent → {stage}: p50 {percentile(rel[stage], 50):.3f} ms, "
                    f"p99 {percentile(rel[stage], 99):.3f} ms"
                    + (
                        f", aiosqlite calls since {stages[0]} {percentile(hops[stage], 50):.0f}"
                        if hops[stage]
                        else ""
                    )
                )
    return "\n".join(out)


def _gc_summary(found: list[tuple[str, float, float]], raw: dict[str, Stream]) -> str:
    """How many garbage collections of each generation ran, how long the longest took, and
    how many began while a measured message was in flight."""
    parts = []
    for gen in ("gc0", "gc1", "gc2"):
        took = [d for g, _, d in found if g == gen]
        if took:
            each = "" if len(took) > 5 else ": " + ", ".join(f"{d:.2f}" for d in took)
            parts.append(
                f"{gen} {len(took)}× (p50 {percentile(took, 50):.2f}, longest {max(took):.2f} ms"
                f"{each})"
            )
    flights = [
        (s.sent[k] * 1000.0, s.arrived[k] * 1000.0)
        for s in (raw["tg_irc"], raw["irc_tg"])
        for k in s.sent
        if k in s.arrived
    ]
    during = sum(any(a <= t <= b for a, b in flights) for _, t, _ in found)
    return f"garbage collections: {', '.join(parts) or 'none'}; {during} while a message flew"


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    period = float(sys.argv[2]) if len(sys.argv) > 2 else 4.0
    print(asyncio.run(profile(count, period)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
