"""Issue 19: does anything else stall the relay? Four scenarios, each one run, each bounded.

Each runs the bridge as a subprocess (bench/relay.py world) on ngircd with the fake Bot API,
as the other scenarios do; the people are raw IRC clients and pushes into the fake, all in
this process (time.monotonic() here for every send and arrival).

- lookup: the Bot API answers getChatMember and getChatAdministrators after 15 s (the bridge's
  request_timeout raised to 20 s, so a slow answer is an answer, not a failure). Three
  members send a private `/whois python` and a moderator (a group administrator, with
  `roster.telegram_admins_are_moderators`) a private `/export` while the group says one line a
  second for 30 s. Figure: Telegram → IRC latency (push → line at an IRC client).
- clones: 8 IRC clients in the channel type `!whois python` at once (ngircd: no account-tag,
  so each asker is looked up with WHOIS) while a person says one line a second for 30 s; the
  bot's IRC side at the default pacing, which its WHOIS and answers share.
  Figure: IRC → Telegram latency of the person's lines (client writes → sendMessage accepted).
- downloads: [web] on; 16 photos posted in the group give 16 media links (read from the IRC
  lines the bridge posted), the fake's file downloads are held 60 s, the 16 links are opened
  at once (16 distinct files: GETs of one link share one fetch), then a person says one line
  a second for 20 s. Figure: IRC → Telegram latency.
- flood: the default IRC pacing (send_burst 4, send_rate 1.0); one member posts six
  3,800-character messages, a second later another member one short line. Figures: how long
  the short line waits (push → line at an IRC client) and whether every word of the flood
  arrived, in order.

`python -m bench --only stall` runs the four (or `--only stall_lookup`, `stall_clones`,
`stall_downloads`, `stall_flood`); their rows are merged into bench/results.json and .md,
the other sections' figures kept.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import BOT_NICK, ROOT, percentile
from bench.relay import (
    ALICE,
    CHANNEL,
    GROUP,
    World,
    _until,
    irc_arrivals,
    text_for,
    tg_arrivals,
    world,
)
from tests.support.fake_telegram import TgUser
from tests.support.harness import toml_table
from tests.support.irc_client import IrcClient, connect
from tests.support.ports import free_port

SECTIONS = ("stall_lookup", "stall_clones", "stall_downloads", "stall_flood")
ALIAS = "stall"
"""`--only stall` runs every section above."""
IRCD = "ngircd"
"""The server the issue's figures were taken on (it throttles, it does not disconnect)."""

MOD = TgUser(2001, "Mona", "Mod", username="mona_mod")
ASKERS = tuple(TgUser(2100 + i, f"Asker{i}", username=f"asker{i}") for i in range(1, 4))
BOB = TgUser(1002, "Bob", "Flood", username="bob_flood")
CAROL = TgUser(1003, "Carol", "Short", username="carol_s")
WARM, RUN = 1, 2
"""Markers (bench.relay.text_for) of the warm-up lines and of the measured ones."""
DEFAULT_IRC_PACING = (4, 1.0)
"""The bridge's default [irc] send_burst and send_rate."""
FLOOD_WORD = re.compile(r"\bf(\d+)n(\d+)\b")


def measured_code() -> dict[str, Any]:
    """The last commit of the bridge's code and whether the tree differs from it there."""

    def git(*args: str) -> str:
        try:
            out = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return ""
        return out.stdout.rstrip("\n")

    paths = ("bridge", "handlers", "storage")
    changed = git("status", "--porcelain", "--", *paths).splitlines()
    return {"commit": git("log", "-1", "--format=%h", "--", *paths), "uncommitted": changed}


def latency(sent: dict[int, float], arrived: dict[int, float]) -> dict[str, Any]:
    """p50/p99/max in ms of what arrived, and how many of those sent did."""
    ms = [(arrived[k] - t) * 1000.0 for k, t in sent.items() if k in arrived]
    return {
        "p50_ms": percentile(ms, 50) if ms else None,
        "p99_ms": percentile(ms, 99) if ms else None,
        "max_ms": max(ms) if ms else None,
        "sent": len(sent),
        "delivered": len(ms),
    }


async def play(events: Iterable[tuple[float, Callable[[], None]]]) -> float:
    """Fire each (seconds from now, action) at its time, in time order; returns the start."""
    start = time.monotonic() + 0.05
    for at, fire in sorted(events, key=lambda e: e[0]):
        delay = start + at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        fire()
    return start


async def client(w: World, nick: str) -> IrcClient:
    c = await connect(w.ircd.host, w.ircd.port, nick, prompt_ack=True)
    await c.join(CHANNEL)
    return c


async def warm_tg_irc(w: World, observer: IrcClient) -> None:
    """Two Telegram lines through, so every connection on the way is open."""
    for i in range(2):
        w.fake.push_text(GROUP, ALICE, text_for(WARM, i))
    if not await _until(lambda: len(irc_arrivals(observer, WARM)) >= 2, 20.0):
        raise RuntimeError("warm-up: Telegram → IRC lines did not arrive")


async def warm_irc_tg(w: World, speaker: IrcClient) -> None:
    for i in range(2):
        speaker.privmsg(CHANNEL, text_for(WARM, i))
    if not await _until(lambda: len(tg_arrivals(w.fake, WARM)) >= 2, 20.0):
        raise RuntimeError("warm-up: IRC → Telegram lines did not arrive")


def _with_code(out: dict[str, Any]) -> dict[str, Any]:
    return {**out, "code": measured_code(), "loadavg": [round(x, 2) for x in os.getloadavg()]}


# ------------------------------------------------------------------------- 1. lookups


async def lookup_section(
    tmp: Path,
    *,
    slow: float = 15.0,
    count: int = 30,
    period: float = 1.0,
    commands_at: tuple[float, ...] = (2.0, 4.0, 6.0, 8.0),
) -> dict[str, Any]:
    """Group lines Telegram → IRC while private commands wait on slow lookups. The commands
    at commands_at are, in turn: an asker's /whois, the moderator's /export, then the other
    askers' /whois (each asker is new, so each costs a getChatMember; the first command also
    a getChatAdministrators)."""
    who = [ASKERS[0], MOD, *ASKERS[1:]][: len(commands_at)]
    roster = toml_table("roster", {"telegram_admins_are_moderators": True})
    async with world(
        tmp,
        "stall-lookup",
        ircd=IRCD,
        telegram={"request_timeout": slow + 5.0},
        extra_toml=roster,
    ) as w:
        fake = w.fake
        fake.chats[GROUP].administrators = [MOD]
        for user in (MOD, *ASKERS):
            fake.add_private_chat(user)
            fake.add_member(GROUP, user)
        observer = await client(w, "observer")
        await warm_tg_irc(w, observer)
        fake.slow("getChatMember", slow)
        fake.slow("getChatAdministrators", slow)
        mark = len(observer.lines)
        sent: dict[int, float] = {}

        def group_line(i: int) -> None:
            sent[i] = time.monotonic()
            fake.push_text(GROUP, ALICE, text_for(RUN, i))

        def command(user: TgUser) -> None:
            fake.push_text(user.id, user, "/export" if user is MOD else "/whois python")

        events = [(i * period, functools.partial(group_line, i)) for i in range(count)]
        events += [
            (at, functools.partial(command, u))
            for at, u in zip(commands_at[: len(who)], who, strict=True)
        ]
        await play(events)

        def answered() -> int:
            return sum(any(s.chat_id == u.id for s in fake.sent) for u in who)

        bound = count * period + 2 * slow * len(who) + 30.0
        await _until(
            lambda: len(irc_arrivals(observer, RUN, mark)) >= count and answered() >= len(who),
            bound,
        )
        out = latency(sent, irc_arrivals(observer, RUN, mark))
        out.update(
            commands=len(who),
            answered=answered(),
            lookups={m: fake.calls.count(m) for m in ("getChatMember", "getChatAdministrators")},
            slow_s=slow,
            count=count,
            period_s=period,
            bound_s=bound,
        )
        fake.slow("getChatMember", 0)
        fake.slow("getChatAdministrators", 0)
        await observer.close()
    return _with_code(out)


# -------------------------------------------------------------------------- 2. clones


async def clones_section(
    tmp: Path,
    *,
    clones: int = 8,
    count: int = 30,
    period: float = 1.0,
    command_at: float = 2.0,
    pacing: tuple[int, float] = DEFAULT_IRC_PACING,
) -> dict[str, Any]:
    """A person's lines IRC → Telegram while `clones` clients type `!whois python` at once;
    the bot's IRC side at the given pacing (send_burst, send_rate): its WHOIS and its answers
    share that line budget, as they would for a new user."""
    burst, rate = pacing
    irc = {"send_burst": burst, "send_rate": rate}
    async with world(tmp, "stall-clones", ircd=IRCD, irc=irc) as w:
        speaker = await client(w, "speaker")
        crowd = await asyncio.gather(*(client(w, f"clone{i}") for i in range(1, clones + 1)))
        await warm_irc_tg(w, speaker)
        mark = len(speaker.lines)
        sent: dict[int, float] = {}

        def line(i: int) -> None:
            sent[i] = time.monotonic()
            speaker.privmsg(CHANNEL, text_for(RUN, i))

        def commands() -> None:
            for c in crowd:
                c.privmsg(CHANNEL, "!whois python")

        events = [(i * period, functools.partial(line, i)) for i in range(count)]
        await play([*events, (command_at, commands)])
        bound = count * period + 90.0
        await _until(lambda: len(tg_arrivals(w.fake, RUN)) >= count, bound)
        out = latency(sent, tg_arrivals(w.fake, RUN))
        answers = sum(
            ln.command == "PRIVMSG" and ln.source_nick == BOT_NICK and ln.target == CHANNEL
            for ln in speaker.lines[mark:]
        )
        out.update(
            clones=clones,
            pacing=irc,
            bot_lines_in_channel=answers,
            count=count,
            period_s=period,
            bound_s=bound,
        )
        for c in (speaker, *crowd):
            await c.close()
    return _with_code(out)


# ----------------------------------------------------------------------- 3. downloads


async def _get(http: aiohttp.ClientSession, url: str) -> str:
    """The status of one GET read to the end, or the exception's name."""
    try:
        async with http.get(url) as resp:
            await resp.read()
            return str(resp.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return type(exc).__name__


async def downloads_section(
    tmp: Path,
    *,
    downloads: int = 16,
    slow: float = 60.0,
    count: int = 20,
    period: float = 1.0,
) -> dict[str, Any]:
    """A person's lines IRC → Telegram while `downloads` media links hang on the Bot API's
    file server (held `slow` seconds)."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    link = re.compile(re.escape(public) + r"/m/\S+")
    web = toml_table("web", {"public_url": public, "listen": f"127.0.0.1:{port}"})
    async with world(tmp, "stall-downloads", ircd=IRCD, extra_toml=web) as w:
        speaker = await client(w, "speaker")
        await warm_irc_tg(w, speaker)
        for i in range(downloads):
            w.fake.push_photo(GROUP, ALICE, os.urandom(20_000), caption=f"photo {i}")

        def links() -> list[str]:
            found = (link.search(ln.text) for ln in speaker.lines if ln.command == "PRIVMSG")
            return [m.group(0) for m in found if m]

        if not await _until(lambda: len(links()) >= downloads, 30.0):
            raise RuntimeError(f"only {len(links())} of {downloads} media links on IRC")
        get_files = w.fake.calls.count("getFile")
        w.fake.slow("file", slow)
        http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=slow + count * period + 60.0),
        )
        gets = [asyncio.create_task(_get(http, url)) for url in links()[:downloads]]
        try:
            # the downloads the bridge lets run are under way: their getFile was answered
            # (not slowed); with a cap on fetches the others wait in the bridge
            await _until(lambda: w.fake.calls.count("getFile") >= get_files + downloads, 5.0)
            await asyncio.sleep(0.5)
            fetching = w.fake.calls.count("getFile") - get_files
            sent: dict[int, float] = {}

            def line(i: int) -> None:
                sent[i] = time.monotonic()
                speaker.privmsg(CHANNEL, text_for(RUN, i))

            await play((i * period, functools.partial(line, i)) for i in range(count))
            bound = count * period + slow + 30.0
            await _until(lambda: len(tg_arrivals(w.fake, RUN)) >= count, bound)
            out = latency(sent, tg_arrivals(w.fake, RUN))
            done = [g.result() for g in gets if g.done()]
        finally:
            for g in gets:
                g.cancel()
            await asyncio.gather(*gets, return_exceptions=True)
            await http.close()
            w.fake.slow("file", 0)
        out.update(
            downloads=downloads,
            downloads_fetching=fetching,
            downloads_answered={s: done.count(s) for s in sorted(set(done))},
            file_slow_s=slow,
            count=count,
            period_s=period,
            bound_s=bound,
        )
        await speaker.close()
    return _with_code(out)


# --------------------------------------------------------------------------- 4. flood


def flood_text(message: int, size: int) -> str:
    """Exactly `size` characters: numbered words f<message>n<k>, then one filler word."""
    words: list[str] = []
    length = -1
    while True:
        word = f"f{message}n{len(words)}"
        if length + 1 + len(word) > size - 2:
            break
        words.append(word)
        length += 1 + len(word)
    text = " ".join(words)
    return text + " " + "z" * (size - len(text) - 1)


def flood_words(texts: Iterable[str]) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for t in texts for a, b in FLOOD_WORD.findall(t)]


async def flood_section(
    tmp: Path,
    *,
    messages: int = 6,
    size: int = 3800,
    gap: float = 1.0,
    pacing: tuple[int, float] = DEFAULT_IRC_PACING,
) -> dict[str, Any]:
    """One member's `messages` long messages, `gap` seconds later another member's short
    line; the bridge at the given IRC pacing (send_burst, send_rate)."""
    burst, rate = pacing
    async with world(
        tmp, "stall-flood", ircd=IRCD, irc={"send_burst": burst, "send_rate": rate}
    ) as w:
        observer = await client(w, "observer")
        await warm_tg_irc(w, observer)
        await asyncio.sleep(burst / rate + 1.0)  # the pacing's bucket full again
        mark = len(observer.lines)
        texts = [flood_text(m, size) for m in range(messages)]
        began = time.monotonic()
        for text in texts:
            w.fake.push_text(GROUP, BOB, text)
        await asyncio.sleep(gap)
        short_sent = time.monotonic()
        w.fake.push_text(GROUP, CAROL, text_for(RUN, 0))
        expected = flood_words(texts)

        def bot_lines() -> list[tuple[float, str]]:
            return [
                (ln.received_at, ln.text)
                for ln in observer.lines[mark:]
                if ln.command == "PRIVMSG" and ln.source_nick == BOT_NICK
            ]

        def complete() -> bool:
            lines = bot_lines()
            return bool(irc_arrivals(observer, RUN, mark)) and len(
                flood_words(t for _, t in lines)
            ) >= len(expected)

        bound = messages * size / 300.0 / rate + gap + 60.0
        await _until(complete, bound)
        lines = bot_lines()
        flood = [(at, t) for at, t in lines if FLOOD_WORD.search(t)]
        short_at = irc_arrivals(observer, RUN, mark).get(0)
        got = flood_words(t for _, t in flood)
        out: dict[str, Any] = {
            "short_wait_s": None if short_at is None else short_at - short_sent,
            "flood_lines": len(flood),
            "flood_lines_before_short": sum(at < (short_at or float("inf")) for at, _ in flood),
            "flood_drain_s": (flood[-1][0] - began) if flood else None,
            "flood_complete": got == expected,
            "flood_words": len(got),
            "flood_words_expected": len(expected),
            "in_order": got == sorted(got) and len(got) == len(set(got)),
            "messages": messages,
            "size": size,
            "gap_s": gap,
            "pacing": {"send_burst": burst, "send_rate": rate},
            "bound_s": bound,
        }
        await observer.close()
    return _with_code(out)


# ----------------------------------------------------------------------------- rows

Row = tuple[str, str, str, str]


def _ok(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _duration(ms: float) -> str:
    """Milliseconds under a second (the fixed relay's figures), seconds above (the stalls)."""
    return f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def _pair_s(d: dict[str, Any]) -> str:
    if d.get("p50_ms") is None:
        return "nothing arrived"
    text = " / ".join(_duration(d[k]) for k in ("p50_ms", "p99_ms"))
    if d["delivered"] < d["sent"]:
        text += f" ({d['delivered']} of {d['sent']} arrived within {d['bound_s']:.0f} s)"
    return text


def _latency_ok(d: dict[str, Any], bar_s: float) -> str:
    p99 = d.get("p99_ms")
    return _ok(p99 is not None and p99 <= bar_s * 1000 and d["delivered"] == d["sent"])


def _code(d: dict[str, Any]) -> str:
    code = d.get("code", {})
    dirty = " + uncommitted changes" if code.get("uncommitted") else ""
    return f"bridge {code.get('commit', '?')}{dirty}"


def stall_rows(r: dict[str, Any]) -> list[Row]:
    """The table's rows for the sections present (one run each); none when absent, and a
    section that failed says so."""
    rows: list[Row] = [
        (f"{name} (bench/stall.py)", f"failed: {r[name]['error'][:200]}", "", "**missed**")
        for name in SECTIONS
        if "error" in r.get(name, {})
    ]
    d = r.get("stall_lookup")
    if d is not None and "error" not in d:
        rows.append(
            (
                f"Telegram → IRC while {d['commands']} private commands (/whois, a moderator's "
                f"/export) wait on getChatMember/getChatAdministrators answered after "
                f"{d['slow_s']:g} s ({d['count']} group lines, 1 per {d['period_s']:g} s; "
                f"ngircd; one run, {_code(d)}), p50 / p99",
                _pair_s(d),
                "p99 ≤ 2 s",
                _latency_ok(d, 2.0),
            )
        )
    d = r.get("stall_clones")
    if d is not None and "error" not in d:
        p = d.get("pacing", {"send_burst": "off", "send_rate": 0})
        rows.append(
            (
                f"IRC → Telegram, a person's lines while {d['clones']} clones type "
                f"`!whois python` ({d['count']} lines, 1 per {d['period_s']:g} s; IRC "
                f"send_burst {p['send_burst']}, send_rate {p['send_rate']:g}; ngircd; one run, "
                f"{_code(d)}), p50 / p99",
                _pair_s(d),
                "p99 ≤ 3 s",
                _latency_ok(d, 3.0),
            )
        )
    d = r.get("stall_downloads")
    if d is not None and "error" not in d:
        rows.append(
            (
                f"IRC → Telegram while {d['downloads']} media links hang (Bot API file "
                f"server held {d['file_slow_s']:g} s; {d['count']} lines, 1 per "
                f"{d['period_s']:g} s; ngircd; one run, {_code(d)}), p50 / p99",
                _pair_s(d),
                "p99 ≤ 2 s",
                _latency_ok(d, 2.0),
            )
        )
    d = r.get("stall_flood")
    if d is not None and "error" not in d:
        wait = d["short_wait_s"]
        p = d["pacing"]
        rows.append(
            (
                f"another member's line behind {d['messages']} × {d['size']:,}-character "
                f"Telegram messages (IRC send_burst {p['send_burst']}, send_rate "
                f"{p['send_rate']:g}; ngircd; one run, {_code(d)}): its wait; the flood "
                "complete and in order",
                ("never arrived" if wait is None else f"{wait:.1f} s")
                + f"; {'yes' if d['flood_complete'] else 'no'} ({d['flood_lines']} lines, "
                f"{d['flood_lines_before_short']} before it, drained in "
                + ("n/a" if d["flood_drain_s"] is None else f"{d['flood_drain_s']:.0f} s")
                + ")",
                "≤ 15 s; yes",
                _ok(wait is not None and wait <= 15.0 and d["flood_complete"]),
            )
        )
    return rows


METHOD = """## Stall scenarios (issue 19)

`python -m bench --only stall` (or one of `stall_lookup`, `stall_clones`, `stall_downloads`,
`stall_flood`; bench/stall.py) runs four scenarios, one run each, on ngircd with the fake Bot
API and the bridge as a subprocess, and merges their rows into these files. Pacing is off
(as above) except on IRC in the clones and the flood, which use the default pacing
(send_burst 4, send_rate 1). Each stops by itself within a bound; what had not arrived by
then is counted as not arrived.
- Lookups: getChatMember and getChatAdministrators answered after 15 s (request_timeout
  20 s), three members' private `/whois python` and a group administrator's `/export`
  (`telegram_admins_are_moderators`) at 2, 4, 6 and 8 s, while the group says a line a second
  for 30 s; latency push → line at an IRC client.
- Clones: 8 IRC clients type `!whois python` at 2 s while a person says a line a second for
  30 s; the default IRC pacing (the bot's WHOIS and answers share its line budget);
  latency IRC client writes → Bot API accepts sendMessage.
- Downloads: [web] on; 16 photos give 16 links (GETs of one link share one fetch), the
  fake's file downloads are held 60 s, the 16 links opened at once, then a person says a line
  a second for 20 s; latency as for the clones.
- Flood: six 3,800-character messages from one member, a second later a short line from
  another; its wait is push → line at an IRC client; the flood's numbered words are checked
  all present, in order.
"""
