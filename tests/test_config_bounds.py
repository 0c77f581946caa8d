"""Every duration, size, count and rate of the config has bounds that check-config enforces
(issue 21, item 1), and whatever it accepts runs: no value it lets through overflows a
packed field, a token bucket or the outbox's horizon arithmetic at run time."""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from dataclasses import Field, dataclass, fields
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from bridge.app import App, prune_old
from bridge.config import Config, parse_config
from bridge.config_model import (
    BOUND,
    Bound,
    DeliveryConfig,
    DigestConfig,
    IrcConfig,
    MailConfig,
    RelayConfig,
    RosterConfig,
    TelegramConfig,
    WebConfig,
)
from bridge.errors import ConfigError
from bridge.irc.lanes import LineBudget
from bridge.media_links import MIB, LinkExpired
from bridge.model import Attachment
from bridge.outbox import Outbox
from bridge.pacing import TokenBucket, backoff_delay
from bridge.sending import payload_store
from handlers.rate_limit import PerMinute
from storage.db import Database
from tests.support.configs import ZERO_ALLOWED
from tests.support.harness import toml_table
from tests.support.outbox import RecordingSender, item, running, summary
from tests.support.proc_harness import PYTHON, REPO

SECTIONS = {
    "telegram": TelegramConfig,
    "irc": IrcConfig,
    "relay": RelayConfig,
    "roster": RosterConfig,
    "delivery": DeliveryConfig,
    "web": WebConfig,
    "mail": MailConfig,
    "digest": DigestConfig,
}
NOT_BOUNDED = {"irc.port", "mail.port"}
"""Checked on its own: a port number, 1 to 65535."""
PUBLIC_URL = "https://bridge.test"
FILE_ID = "AgACAgIAAxkBAAIBZ2Vx-_AAAAA"
TINY = math.ulp(0.0)
"""The smallest number above 0: what "greater than 0" lets through."""


def plain(number: float) -> str:
    """8760 and 0.01, as a person writes them."""
    return str(int(number)) if float(number).is_integer() else str(number)


@dataclass(frozen=True)
class Key:
    section: str
    name: str
    kind: type
    bound: Bound
    default: float

    @property
    def full(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def lowest(self) -> float:
        if self.kind is int:
            return 0 if (self.section, self.name) in ZERO_ALLOWED else 1
        if self.bound.least is not None:
            return self.bound.least
        if self.full == "irc.ping_timeout":  # must be greater than ping_interval's lowest
            return math.nextafter(TINY, math.inf)
        return 0.0 if (self.section, self.name) in ZERO_ALLOWED else TINY

    @property
    def highest(self) -> float:
        return float(self.bound.most) if self.kind is float else self.bound.most

    def admits(self, value: float) -> bool:
        kinds = (int,) if self.kind is int else (int, float)  # TOML's 3 is a number too
        return isinstance(value, kinds) and self.lowest <= value <= self.highest

    def above(self) -> float:
        """The first value past the bound."""
        return self.bound.most + 1 if self.kind is int else math.nextafter(self.highest, math.inf)

    def allowed(self) -> str:
        """The range as check-config names it."""
        most = plain(self.highest)
        if self.bound.least is not None:
            return f"{plain(self.bound.least)} to {most}"
        if self.kind is int or self.lowest == 0:
            return f"{plain(self.lowest)} to {most}"
        return f"above 0 up to {most}"


def numeric_fields() -> list[tuple[str, Field[Any]]]:
    """(section, field) of every int or float key of the config's tables."""
    return [
        (section, f)
        for section, model in SECTIONS.items()
        for f in fields(model)
        if f.type in ("int", "float")
    ]


KEYS = [
    Key(
        section,
        f.name,
        int if f.type == "int" else float,
        f.metadata[BOUND],
        cast(float, f.default),
    )
    for section, f in numeric_fields()
    if BOUND in f.metadata
]
BY_NAME = {key.full: key for key in KEYS}


def config_text(values: dict[str, float]) -> str:
    """A minimal config with [web] on, and each "section.key" set to its value."""
    tables: dict[str, dict[str, Any]] = {
        "telegram": {"token": "1:abc"},
        "irc": {"host": "127.0.0.1", "nick": "bridge"},
        "web": {"public_url": PUBLIC_URL},
        "mail": {"host": "127.0.0.1", "from": "bridge@example.org"},
        "digest": {"to": "list@example.org"},
    }
    for full, value in values.items():
        section, _, name = full.partition(".")
        tables.setdefault(section, {})[name] = value
    pair = '[[bridge]]\ntelegram_chat = -100\nirc_channel = "#c"\n'
    return pair + "".join(toml_table(name, table) for name, table in tables.items())


def at(which: str) -> dict[str, float]:
    """Every bounded key at its lowest or its highest value at once."""
    return {key.full: getattr(key, which) for key in KEYS}


def alone(full: str, value: float) -> dict[str, float]:
    """One key at value, and the key it is checked against (if any) out of its way."""
    partner = {
        "irc.ping_interval": ("irc.ping_timeout", math.nextafter(value, math.inf)),
        "irc.ping_timeout": ("irc.ping_interval", TINY),
        "irc.reconnect_min": ("irc.reconnect_max", value),
        "irc.reconnect_max": ("irc.reconnect_min", TINY),
    }.get(full)
    return {full: value} if partner is None else {full: value, partner[0]: partner[1]}


def consistent(values: dict[str, float]) -> bool:
    """The checks between two keys: the watchdog pings before it gives up, the backoff's
    ceiling is not below its floor."""
    merged = {
        "irc.ping_interval": 60.0,
        "irc.ping_timeout": 120.0,
        "irc.reconnect_min": 1.0,
        "irc.reconnect_max": 60.0,
        **values,
    }
    return (
        merged["irc.ping_timeout"] > merged["irc.ping_interval"]
        and merged["irc.reconnect_max"] >= merged["irc.reconnect_min"]
    )


def refused(values: dict[str, float]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(config_text(values))
    return info.value.problems


# ------------------------------------------------------------------------- the bounds


def test_every_numeric_key_has_its_bounds_beside_its_default() -> None:
    unbounded = [
        f"{section}.{f.name}"
        for section, f in numeric_fields()
        if BOUND not in f.metadata and f"{section}.{f.name}" not in NOT_BOUNDED
    ]
    assert unbounded == []
    assert {"roster.commands_in_flight", "web.media_fetches", "web.media_ttl_hours"} <= set(BY_NAME)
    for key in KEYS:
        assert key.admits(key.default), key


@pytest.mark.parametrize("key", KEYS, ids=lambda key: key.full)
def test_each_key_is_taken_at_its_bounds_and_refused_past_them(key: Key) -> None:
    for value in (key.lowest, key.highest):
        config = parse_config(config_text(alone(key.full, value)))
        assert getattr(getattr(config, key.section), key.name) == value
    expected = (
        f"{key.full}: must be at most {plain(key.highest)} ({key.bound.why}); "
        f"allowed: {key.allowed()}"
    )
    for value in (key.above(), 2**63 - 1, 10**30, *([math.inf] if key.kind is float else [])):
        assert refused({key.full: value}) == [expected], value


def test_the_bounds_read_as_the_issue_asked() -> None:
    assert refused({"web.media_ttl_hours": 1_000_000}) == [
        "web.media_ttl_hours: must be at most 8760 (a year); allowed: above 0 up to 8760"
    ]
    assert refused({"roster.commands_in_flight": 101}) == [
        "roster.commands_in_flight: must be at most 100 (25 times as many may wait besides); "
        "allowed: 1 to 100"
    ]
    assert refused({"delivery.shutdown_grace": 3601}) == [
        "delivery.shutdown_grace: must be at most 3600 (an hour); allowed: 0 to 3600"
    ]
    assert refused({"irc.send_rate": 0.001}) == [
        "irc.send_rate: must be at least 0.01 (a line in 100 s); allowed: 0.01 to 100000"
    ]
    assert refused({"telegram.messages_per_minute": math.nan}) == [
        "telegram.messages_per_minute: expected a number, got nan; allowed: 0.1 to 6000000"
    ]
    assert refused({"relay.paste_over_lines": 1001}) == [
        "relay.paste_over_lines: must be at most 1000 (more is a flood either way); "
        "allowed: 0 to 1000"
    ]
    assert refused({"relay.paste_over_lines": -1}) == [
        "relay.paste_over_lines: must not be negative"
    ]
    assert refused({"relay.mention_window_hours": 721}) == [
        "relay.mention_window_hours: must be at most 720 (30 days); allowed: 0 to 720"
    ]
    assert refused({"relay.mention_window_hours": -1}) == [
        "relay.mention_window_hours: must not be negative"
    ]


async def test_check_config_refuses_a_million_hours_for_media_links(tmp_path: Path) -> None:
    """End to end, as an operator runs it: exit 2 and one line naming the key and its range."""
    path = tmp_path / "config.toml"
    path.write_text(config_text({"web.media_ttl_hours": 1_000_000}), encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "bridge",
        "check-config",
        "--config",
        str(path),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    assert (proc.returncode, out, err.decode()) == (
        2,
        b"",
        "config error: web.media_ttl_hours: must be at most 8760 (a year); "
        "allowed: above 0 up to 8760\n",
    )


# ------------------------------------------------------------- nothing overflows at run time


def values_for(key: Key) -> st.SearchStrategy[float]:
    """Mostly in range (its edges often), sometimes anything TOML can hold."""
    edges = st.sampled_from([key.lowest, key.highest])
    if key.kind is int:
        inside: st.SearchStrategy[float] = st.integers(1, int(key.highest))
        anything: st.SearchStrategy[float] = st.integers(-(2**64), 2**64)
    else:
        inside = st.floats(key.lowest, key.highest)
        anything = st.floats() | st.integers(-(2**64), 2**64)
    return st.one_of(edges, edges, inside, anything)


chosen_values = st.one_of(
    st.sampled_from([at("lowest"), at("highest")]),
    st.lists(
        st.sampled_from(KEYS).flatmap(lambda key: st.tuples(st.just(key.full), values_for(key))),
        max_size=8,
        unique_by=lambda pair: pair[0],
    ).map(dict),
)


@settings(max_examples=60, deadline=None)
@given(values=chosen_values)
# What the bridge accepted before the bounds, each failing at run time: the link's expiry
# past 32 bits (struct.error), int(nan), a deque's length past ssize_t, a rate / 60 == 0.
@example(values={"web.media_ttl_hours": 1_000_000})
@example(values={"web.media_ttl_hours": math.nan})
@example(values={"roster.commands_per_minute": 2**64})
@example(values={"telegram.messages_per_minute": 1e-322})
@example(values=at("lowest"))
@example(values=at("highest"))
def test_what_check_config_accepts_runs_without_overflow(values: dict[str, float]) -> None:
    in_range = all(BY_NAME[full].admits(v) for full, v in values.items()) and consistent(values)
    try:
        config = parse_config(config_text(values))
    except ConfigError as exc:
        event("refused")
        assert not in_range, exc.problems
        assert all(p.partition(":")[0] in BY_NAME for p in exc.problems), exc.problems
        return
    event("accepted")
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run_parts(config, Path(folder)))
    assert in_range, f"accepted beyond a bound: {values}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def run_parts(config: Config, folder: Path) -> None:
    """Every part built from the config as the bridge builds it, then the arithmetic each
    does with these values, once."""
    tg, irc, web = config.telegram, config.irc, config.web
    assert web is not None
    db = await Database.open(folder / "bridge.sqlite3")
    try:
        app = App(config, db)
        # A media link signed now with the longest life still fits its 32-bit expiry.
        links = app.links
        assert links is not None
        now = time.time()
        links.secret, links.clock = b"k" * 32, lambda: now
        link = links.link_for(Attachment("photo", size=web.media_max_mb * MIB, file_id=FILE_ID))
        assert link is not None and link.startswith(f"{PUBLIC_URL}/m/"), link
        token, name = link.rsplit("/", 2)[1:]
        expires = int(now + web.media_ttl_hours * 3600)
        if expires > now:
            ref = links.verify(token, name)
            assert (ref.file_id, ref.size, ref.expires) == (
                FILE_ID,
                web.media_max_mb * MIB,
                expires,
            )
        else:  # shorter than a second: expired at once, as it should be
            with pytest.raises(LinkExpired):
                links.verify(token, name)
        assert app.web is not None and app.web.cache.cap_bytes == web.media_cache_mb * MIB
        # The pacing buckets: IRC's line budget, a Telegram group's (delivery.py's rate).
        clock = Clock()
        for bucket in (
            LineBudget(irc.send_burst, irc.send_rate, clock),
            TokenBucket(tg.burst, tg.messages_per_minute / 60.0, clock),
        ):
            async with asyncio.timeout(5):
                await bucket.take()  # a full bucket: no wait
            wait = bucket.delay()
            assert 0.0 <= wait <= 1 / bucket.rate, wait
            clock.now += 365 * 86400.0
            assert bucket.delay() == 0.0
        for attempt in (0, 1, 32, 10**6):
            delay = backoff_delay(attempt, 0.999, irc.reconnect_min, irc.reconnect_max)
            assert irc.reconnect_min <= delay <= irc.reconnect_max
        assert PerMinute(config.roster.commands_per_minute, clock).allow("bob")
        ran = asyncio.Event()

        async def job() -> None:
            ran.set()

        assert app.router.lanes.submit("irc", "bob", job)
        async with asyncio.timeout(5):
            await app.router.lanes.idle()
        assert ran.is_set()
        # The outbox's horizon: what is older is dropped and reported, and forgotten later.
        await horizon_drops(db, config.delivery.horizon_hours)
        await prune_old(app.store, app.message_map, config.delivery.horizon_hours)
        await app.telegram.close()
    finally:
        await db.close()


async def horizon_drops(db: Database, hours: float) -> None:
    clock = Clock()
    store = payload_store(db, clock=clock)
    await store.enqueue([item("ancient")])
    clock.now += hours * 3600 + 1
    await store.enqueue([item("fresh")])
    sender = RecordingSender()
    async with running(Outbox(store, {"irc": sender}, horizon_hours=hours, summary=summary)):
        await sender.wait_count(2)
    assert sender.received == ["fresh", f"1 lost in {hours:g} h"]
