"""Relay benchmarks against a real IRC server and the fake Bot API, the bridge a subprocess.

Timestamps all come from time.monotonic() in this (the bench) process: the send time is
taken right before a message is pushed into the fake Bot API / written by an IRC client,
the arrival time is IrcClient's Line.received_at or the fake's SentMessage.time.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import BOT_NICK, MILESTONES, BridgeProcess, Figure, percentile, write_config
from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.irc_client import IrcClient, connect
from tests.support.ircd import IrcServer, inspircd_server, ngircd_server

GROUP = -1001000000001
CHANNEL = "#bridge"
ALICE = TgUser(1001, "Alice", "Smith", username="alice_s")
MARK = re.compile(r"b(\d+)x(\d+)y")
FILLER = "the quick brown fox jumps over the lazy dog while we talk about the bridge"
# InspIRCd without flood limits for latency runs (the bot is unpaced there).
OPEN_IRCD = {"commandrate": 10_000_000, "threshold": 100_000, "recvq": 65536}


def text_for(run: int, seq: int) -> str:
    return f"b{run}x{seq}y {FILLER}"


@dataclass
class World:
    """A running ircd, fake Bot API and bridge subprocess for one section."""

    ircd: IrcServer
    fake: FakeTelegram
    bridge: BridgeProcess
    pairs: list[tuple[int, str]]


@contextlib.asynccontextmanager
async def world(
    tmp: Path,
    name: str,
    *,
    pairs: list[tuple[int, str]] | None = None,
    ircd: str = "inspircd",
    ircd_opts: Mapping[str, Any] | None = None,
    irc: Mapping[str, Any] | None = None,
    db: Path | None = None,
    module: str = "bridge",
    extra_toml: str = "",
    telegram: Mapping[str, Any] | None = None,
) -> AsyncIterator[World]:
    """Start ircd + fake Telegram + bridge (subprocess) and stop them afterwards; irc and
    telegram override keys of the bench config's tables (bench.common.write_config)."""
    pairs = pairs or [(GROUP, CHANNEL)]
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    channels = tuple(c for _, c in pairs)
    server = (
        ngircd_server(folder, channels=channels)
        if ircd == "ngircd"
        else inspircd_server(folder, **(ircd_opts or OPEN_IRCD))
    )
    db_path = folder / "bridge.sqlite3"
    if db is not None:
        shutil.copyfile(db, db_path)
    async with server, FakeTelegram() as fake:
        for chat, _ in pairs:
            fake.add_chat(chat, "supergroup", title=f"Group {chat}")
        config = write_config(
            folder / "config.toml",
            api_url=fake.api_url,
            file_url=fake.file_url,
            token=fake.token,
            irc_host=server.host,
            irc_port=server.port,
            pairs=pairs,
            db_path=db_path,
            irc=irc,
            telegram=telegram,
        )
        if extra_toml:  # more tables, e.g. [web]
            config.write_text(config.read_text(encoding="utf-8") + "\n" + extra_toml)
        bridge = BridgeProcess(config, folder / "bridge.log", module)
        await bridge.start()
        try:
            yield World(server, fake, bridge, pairs)
        finally:
            await bridge.stop()


async def _pace(start: float, index: float, rate: float) -> None:
    delay = start + index / rate - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def _until(check: Callable[[], bool], timeout: float) -> bool:
    """Bounded wait for a condition that other tasks make true (checked every 20 ms)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def irc_arrivals(client: IrcClient, run: int, since: int = 0) -> dict[int, float]:
    """seq -> received_at of the first PRIVMSG carrying the run's marker."""
    got: dict[int, float] = {}
    for line in client.lines[since:]:
        if line.command != "PRIVMSG":
            continue
        m = MARK.search(line.text)
        if m and int(m.group(1)) == run:
            got.setdefault(int(m.group(2)), line.received_at)
    return got


def tg_arrivals(fake: FakeTelegram, run: int) -> dict[int, float]:
    """seq -> acceptance time of the bot's sendMessage carrying the run's marker."""
    got: dict[int, float] = {}
    for sent in fake.sent:
        for m in MARK.finditer(sent.text or ""):
            if int(m.group(1)) == run:
                got.setdefault(int(m.group(2)), sent.time)
    return got


def _latencies_ms(sent: dict[int, float], arrived: dict[int, float]) -> list[float]:
    return [(arrived[k] - t) * 1000.0 for k, t in sent.items() if k in arrived]


@dataclass
class LatencyRun:
    p50: float
    p99: float
    delivered: int


def _summarise(lat: list[float], expected: int) -> LatencyRun:
    if not lat:
        return LatencyRun(float("nan"), float("nan"), 0)
    return LatencyRun(percentile(lat, 50), percentile(lat, 99), len(lat))


# ------------------------------------------------------------------------------- burst


async def burst_section(
    tmp: Path, runs: int, count: int, rate: float, burst: int, db: Path | None
) -> dict[str, Any]:
    """`count` Telegram messages at once into an InspIRCd that enforces a commandrate.

    The bot's pacing (burst, rate/s) sits under InspIRCd's limits (threshold burst*2,
    commandrate rate*1.25 per second), as an operator would configure it.
    """
    ircd_opts = {
        "commandrate": int(rate * 1250),
        "threshold": burst * 2,
        "fakelag": True,
        "recvq": 8192,
    }
    pacing = {"send_burst": burst, "send_rate": rate}
    figs = {k: Figure() for k in ("drain_ratio", "drain_s", "rss_idle_mb", "rss_after_mb")}
    delivered: list[int] = []
    in_order: list[bool] = []
    disconnects: list[int] = []
    allowed = (count - burst) / rate
    for run in range(1, runs + 1):
        async with world(tmp, f"burst{run}", ircd_opts=ircd_opts, irc=pacing, db=db) as w:
            observer = await connect(w.ircd.host, w.ircd.port, "observer", prompt_ack=True)
            await observer.join(CHANNEL)
            await asyncio.sleep(2.0)  # idle: let start-up settle (and InspIRCd's penalty decay)
            figs["rss_idle_mb"].add(w.bridge.rss_mb())
            mark = len(observer.lines)
            start = time.monotonic()
            for i in range(count):
                w.fake.push_text(GROUP, ALICE, text_for(run, i))
            await _until(
                lambda: len(irc_arrivals(observer, run, mark)) >= count or observer.closed.is_set(),  # noqa: B023
                allowed * 2 + 30,
            )
            got = irc_arrivals(observer, run, mark)
            seqs = [
                int(m.group(2))
                for line in observer.lines[mark:]
                if line.command == "PRIVMSG" and (m := MARK.search(line.text))
            ]
            drain = (max(got.values()) - start) if got else float("nan")
            figs["drain_s"].add(drain)
            figs["drain_ratio"].add(drain / allowed)
            await asyncio.sleep(0.5)
            figs["rss_after_mb"].add(w.bridge.rss_mb())
            delivered.append(len(got))
            in_order.append(seqs == sorted(seqs) and len(seqs) == len(set(seqs)))
            quits = sum(
                1
                for line in observer.lines
                if line.command == "QUIT" and line.source_nick == BOT_NICK
            )
            disconnects.append(quits + w.bridge.count("connection lost"))
            await observer.close()
    out: dict[str, Any] = {k: f.summary() for k, f in figs.items()}
    out.update(
        delivered=delivered,
        in_order=in_order,
        flood_disconnects=disconnects,
        count=count,
        bot_pacing=pacing,
        ircd=ircd_opts,
        allowed_s=allowed,
        roster_members=100_000 if db else 0,
    )
    return out


# ----------------------------------------------------------------------------- start-up


async def startup_section(tmp: Path, runs: int) -> dict[str, Any]:
    """Spawn → 'ready: bridging' with a fresh database each time (created and migrated)."""
    figs = {"startup_s": Figure(), "startup_own_s": Figure(), "rss_idle_empty_mb": Figure()}
    for run in range(runs):
        async with world(tmp, f"startup{run}", ircd="ngircd") as w:
            assert w.bridge.ready_at is not None
            figs["startup_s"].add(w.bridge.ready_at - w.bridge.started_at)
            # the bridge's own part: registered on IRC and logged in to Telegram (what
            # follows is ngircd holding a new client's first command for 1 s)
            if len(w.bridge.seen_at) == len(MILESTONES):
                own = max(w.bridge.seen_at.values()) - w.bridge.started_at
                figs["startup_own_s"].add(own)
            await asyncio.sleep(1.0)
            figs["rss_idle_empty_mb"].add(w.bridge.rss_mb())
    return {k: f.summary() for k, f in figs.items()}


# ---------------------------------------------------------------------------- 50 pairs


async def pairs_section(
    tmp: Path, runs: int, npairs: int, per_direction: int, rate: float
) -> dict[str, Any]:
    """`npairs` pairs in one process, messages both ways on every pair at the same time."""
    pairs = [(GROUP - i, f"#pair{i}") for i in range(npairs)]
    figs = {k: Figure() for k in ("tg_irc_p50", "tg_irc_p99", "irc_tg_p50", "irc_tg_p99")}
    delivered: list[tuple[int, int]] = []
    async with world(tmp, "pairs", pairs=pairs) as w:
        human = await connect(w.ircd.host, w.ircd.port, "human", prompt_ack=True)
        for _, channel in pairs:
            await human.join(channel)
        for run in range(1, runs + 1):
            mark = len(human.lines)
            sent_t: dict[int, float] = {}
            sent_i: dict[int, float] = {}
            start = time.monotonic()
            for i in range(per_direction):
                chat, channel = pairs[i % npairs]
                await _pace(start, i, rate)
                sent_t[i] = time.monotonic()
                w.fake.push_text(chat, ALICE, text_for(run, i))
                await _pace(start, i + 0.5, rate)
                sent_i[i] = time.monotonic()
                human.privmsg(channel, text_for(100 + run, i))
            await _until(
                lambda: (
                    len(irc_arrivals(human, run, mark)) >= per_direction  # noqa: B023
                    and len(tg_arrivals(w.fake, 100 + run)) >= per_direction  # noqa: B023
                ),
                30.0,
            )
            t = _summarise(_latencies_ms(sent_t, irc_arrivals(human, run, mark)), per_direction)
            r = _summarise(_latencies_ms(sent_i, tg_arrivals(w.fake, 100 + run)), per_direction)
            figs["tg_irc_p50"].add(t.p50)
            figs["tg_irc_p99"].add(t.p99)
            figs["irc_tg_p50"].add(r.p50)
            figs["irc_tg_p99"].add(r.p99)
            delivered.append((t.delivered, r.delivered))
        await human.close()
    out: dict[str, Any] = {k: f.summary() for k, f in figs.items()}
    worst = Figure()
    for a, b in zip(figs["tg_irc_p99"].runs, figs["irc_tg_p99"].runs, strict=True):
        worst.add(max(a, b))
    out["p99_worst_direction"] = worst.summary()
    out.update(
        pairs=npairs, per_direction=per_direction, rate_per_direction=rate, delivered=delivered
    )
    return out
