"""Relay latency, end to end, with the baselines measured beside each message in the same run.

Every message through the bridge has baseline samples taken in the same period, a fixed
fraction of it later: an IRC client-to-client PRIVMSG through the same ircd, the fake Bot
API's long-poll hand-off to a bare aiohttp poller (a second fake, so it never meets the
bridge's poll) and a bare aiohttp sendMessage. (aiohttp, the bridge's own HTTP client since
issue 12, is the faster: with httpx these baselines were 0.2–0.5 ms longer.) "Added by the
bridge" is computed per message (its end-to-end time minus the baselines of its own period
for the same path), then its percentiles are taken; percentiles are never subtracted.

All timestamps are time.monotonic() in this process (the fakes and IRC clients live here).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import ROOT, Figure, percentile
from bench.relay import (
    ALICE,
    CHANNEL,
    GROUP,
    MARK,
    World,
    _until,
    irc_arrivals,
    text_for,
    tg_arrivals,
    world,
)
from tests.support.fake_telegram import FakeTelegram
from tests.support.irc_client import IrcClient, connect
from tests.support.ircd import IrcServer
from tests.support.ports import free_port

BASE_CHANNEL = "#base"
NULL_CHANNEL, NULL_GROUP = "#null", GROUP - 1
# run-number offsets that keep each stream's markers apart
T2I, I2T, IRC_BASE, POLL_BASE, SEND_BASE, NULL_T2I, NULL_I2T = 0, 100, 200, 300, 400, 500, 600
PATHS = {"tg_irc": ("irc_base", "poll_base"), "irc_tg": ("irc_base", "send_base")}


@dataclass
class Stream:
    """One kind of sample: when each was sent; arrivals are read back at the end."""

    sent: dict[int, float] = field(default_factory=dict)
    arrived: dict[int, float] = field(default_factory=dict)

    def ms(self) -> dict[int, float]:
        return {
            k: (self.arrived[k] - t) * 1000.0 for k, t in self.sent.items() if k in self.arrived
        }


class Baselines:
    """A second fake Bot API with a bare aiohttp long-poller and sender: the Telegram halves
    of both paths without the bridge."""

    def __init__(self, fake: FakeTelegram, http: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.http = http
        self.poll = Stream()
        self.send = Stream()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._poller: asyncio.Task[None] | None = None

    async def _poll(self) -> None:
        url = f"{self.fake.api_url}{self.fake.token}/getUpdates"
        offset = 0
        while True:
            try:
                async with self.http.post(url, data={"timeout": "10", "offset": str(offset)}) as r:
                    answer = await r.json()
            except aiohttp.ClientError:  # the fake is going away
                return
            now = time.monotonic()
            for update in answer["result"]:
                offset = update["update_id"] + 1
                m = MARK.search(update.get("message", {}).get("text", ""))
                if m and int(m.group(1)) >= POLL_BASE:
                    self.poll.arrived.setdefault(int(m.group(2)), now)

    def push(self, run: int, seq: int) -> None:
        self.poll.sent[seq] = time.monotonic()
        self.fake.push_text(GROUP, ALICE, text_for(run, seq))

    def post(self, run: int, seq: int) -> None:
        url = f"{self.fake.api_url}{self.fake.token}/sendMessage"
        data = {"chat_id": str(GROUP), "text": f"<b>alice</b>: {text_for(run, seq)}"}
        data["parse_mode"] = "HTML"
        self.send.sent[seq] = time.monotonic()
        task = asyncio.create_task(self._post(url, data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, url: str, data: dict[str, str]) -> None:
        async with self.http.post(url, data=data) as r:
            await r.read()

    def sent_arrivals(self, run: int) -> dict[int, float]:
        return tg_arrivals(self.fake, run)


@contextlib.asynccontextmanager
async def baselines() -> AsyncIterator[Baselines]:
    async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
        fake.add_chat(GROUP, "supergroup", title="Baseline")
        b = Baselines(fake, http)
        b._poller = asyncio.create_task(b._poll())
        await asyncio.sleep(0.2)
        # warm both connections (the first request pays for the TCP handshake)
        b.post(SEND_BASE + 99, 0)
        b.push(POLL_BASE + 99, 0)
        await asyncio.sleep(0.2)
        b.poll, b.send = Stream(), Stream()
        try:
            yield b
        finally:
            b._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                await b._poller


@dataclass
class NullWorld:
    """bench.null_relay running beside the bridge, with its own fake Bot API."""

    fake: FakeTelegram


@contextlib.asynccontextmanager
async def null_relay(ircd: IrcServer) -> AsyncIterator[NullWorld]:
    """Start the store-nothing relay on the bridge's ircd (bounded wait for its "ready")."""
    async with FakeTelegram() as fake:
        fake.add_chat(NULL_GROUP, "supergroup", title="Null")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.null_relay",
            ircd.host,
            str(ircd.port),
            NULL_CHANNEL,
            fake.api_url,
            fake.token,
            str(NULL_GROUP),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 20.0)
            if line.strip() != b"ready":
                raise RuntimeError(f"bench.null_relay did not start: {line!r}")
            yield NullWorld(fake)
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()


@dataclass
class Clients:
    observer: IrcClient
    speaker: IrcClient


async def _clients(w: World) -> Clients:
    observer = await connect(w.ircd.host, w.ircd.port, "observer", prompt_ack=True)
    speaker = await connect(w.ircd.host, w.ircd.port, "speaker", prompt_ack=True)
    for c in (observer, speaker):
        await c.join(CHANNEL)
        await c.join(BASE_CHANNEL)
        await c.join(NULL_CHANNEL)
    return Clients(observer, speaker)


Fire = Callable[[int], None]


async def _schedule(streams: list[Fire], count: int, period: float) -> None:
    """Sample i of stream k goes out at start + i·period + k·period/len(streams)."""
    start = time.monotonic() + 0.05
    step = period / len(streams)
    for i in range(count):
        for k, fire in enumerate(streams):
            delay = start + i * period + k * step - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            fire(i)


async def measure(
    w: World,
    c: Clients,
    b: Baselines,
    run: int,
    count: int,
    period: float,
    directions: tuple[str, ...],
    raw: dict[str, Stream] | None = None,
    null: NullWorld | None = None,
) -> dict[str, dict[int, float]]:
    """Send `count` samples of each direction and their baselines, one of each per period;
    returns stream name → {seq: ms} (and the streams' own times in raw, if given). With
    null, the store-nothing relay carries one message each way per period too."""
    mark_o = len(c.observer.lines)
    streams: dict[str, Stream] = {"irc_base": Stream()}
    plan: list[tuple[str, Fire]] = []
    if "tg_irc" in directions:
        streams["tg_irc"] = Stream()

        def t2i(i: int) -> None:
            streams["tg_irc"].sent[i] = time.monotonic()
            w.fake.push_text(GROUP, ALICE, text_for(run + T2I, i))

        plan += [("tg_irc", t2i), ("poll_base", lambda i: b.push(run + POLL_BASE, i))]

    def irc_base(i: int) -> None:
        streams["irc_base"].sent[i] = time.monotonic()
        c.speaker.privmsg(BASE_CHANNEL, text_for(run + IRC_BASE, i))

    plan.append(("irc_base", irc_base))
    if "irc_tg" in directions:
        streams["irc_tg"] = Stream()

        def i2t(i: int) -> None:
            streams["irc_tg"].sent[i] = time.monotonic()
            c.speaker.privmsg(CHANNEL, text_for(run + I2T, i))

        plan += [("irc_tg", i2t), ("send_base", lambda i: b.post(run + SEND_BASE, i))]
    if null is not None:
        streams["null_tg_irc"], streams["null_irc_tg"] = Stream(), Stream()

        def null_t2i(i: int) -> None:
            streams["null_tg_irc"].sent[i] = time.monotonic()
            null.fake.push_text(NULL_GROUP, ALICE, text_for(run + NULL_T2I, i))

        def null_i2t(i: int) -> None:
            streams["null_irc_tg"].sent[i] = time.monotonic()
            c.speaker.privmsg(NULL_CHANNEL, text_for(run + NULL_I2T, i))

        plan += [("null_tg_irc", null_t2i), ("null_irc_tg", null_i2t)]
    b.poll, b.send = Stream(), Stream()
    await _schedule([fire for _, fire in plan], count, period)

    def collect() -> None:
        if "tg_irc" in streams:
            streams["tg_irc"].arrived = irc_arrivals(c.observer, run + T2I, mark_o)
        streams["irc_base"].arrived = irc_arrivals(c.observer, run + IRC_BASE, mark_o)
        if "irc_tg" in streams:
            streams["irc_tg"].arrived = tg_arrivals(w.fake, run + I2T)
            b.send.arrived = b.sent_arrivals(run + SEND_BASE)
        if null is not None:
            streams["null_tg_irc"].arrived = irc_arrivals(c.observer, run + NULL_T2I, mark_o)
            streams["null_irc_tg"].arrived = tg_arrivals(null.fake, run + NULL_I2T)

    def complete() -> bool:
        collect()
        return all(len(s.arrived) >= count for s in streams.values())

    await _until(complete, 30.0)
    collect()
    if raw is not None:
        raw.update(streams)
    out = {name: s.ms() for name, s in streams.items()}
    if "tg_irc" in streams:
        out["poll_base"] = b.poll.ms()
    if "irc_tg" in streams:
        out["send_base"] = b.send.ms()
    return out


def added_per_message(samples: dict[str, dict[int, float]], path: str) -> list[float]:
    """Each message's end-to-end time minus the baselines measured in its own period."""
    bases = PATHS[path]
    return [
        e2e - sum(samples[b][i] for b in bases)
        for i, e2e in samples[path].items()
        if all(i in samples[b] for b in bases)
    ]


class Figures:
    """p50/p99 per stream and of the per-message added time, one value per run."""

    def __init__(self) -> None:
        self.figs: dict[str, Figure] = {}
        self.delivered: dict[str, list[int]] = {}

    def add(self, samples: dict[str, dict[int, float]]) -> None:
        for name, values in samples.items():
            self._add(name, list(values.values()))
            if name in PATHS:
                self.delivered.setdefault(name, []).append(len(values))
                self._add(f"{name}_added", added_per_message(samples, name))

    def _add(self, name: str, values: list[float]) -> None:
        if not values:
            return
        for q in (50, 99):
            self.figs.setdefault(f"{name}_p{q}", Figure()).add(percentile(values, q))

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: f.summary() for k, f in self.figs.items()}
        out["delivered"] = self.delivered
        return out


async def latency_section(
    tmp: Path, runs: int, count: int, rate: float, *, web: bool = False
) -> dict[str, Any]:
    """The busy rate: `runs` × `count` messages at `rate`/s, one direction after the other
    (as before issue 12), each with its baselines interleaved at the same rate. With web,
    the bridge also runs its web server (issue 10: relay latency within noise of off)."""
    figs = Figures()
    extra = ""
    if web:
        extra = f'[web]\npublic_url = "https://bench.example"\nlisten = "127.0.0.1:{free_port()}"\n'
    name = "latency-web" if web else "latency"
    async with world(tmp, name, extra_toml=extra) as w, baselines() as b:
        c = await _clients(w)
        await measure(w, c, b, 900, 20, 1.0 / rate, ("tg_irc", "irc_tg"))  # warm-up
        for run in range(1, runs + 1):
            figs.add(await measure(w, c, b, run * 1000, count, 1.0 / rate, ("tg_irc",)))
            figs.add(await measure(w, c, b, run * 1000 + 500, count, 1.0 / rate, ("irc_tg",)))
        await c.observer.close()
        await c.speaker.close()
    return {**figs.summary(), "messages_per_run": count, "rate_per_s": rate}


async def idle_section(tmp: Path, runs: int, count: int, period: float) -> dict[str, Any]:
    """The rate a real group has: one message every `period` seconds in each direction,
    the two directions interleaved, baselines and the store-nothing relay between them."""
    figs = Figures()
    both = ("tg_irc", "irc_tg")
    async with world(tmp, "idle") as w, baselines() as b, null_relay(w.ircd) as null:
        c = await _clients(w)
        await measure(w, c, b, 900, 3, 0.5, both, null=null)  # warm-up
        await asyncio.sleep(period)
        for run in range(1, runs + 1):
            figs.add(await measure(w, c, b, run * 1000, count, period, both, null=null))
        await c.observer.close()
        await c.speaker.close()
    return {**figs.summary(), "messages_per_run": count, "period_s": period}
