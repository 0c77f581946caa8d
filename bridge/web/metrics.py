"""GET /metrics: the bridge's counters in Prometheus text format.

One CollectorRegistry per web server (tests run many bridges in one process, so nothing is
global). A custom collector reads the parts' own counters at scrape time; what needs the
database (queue depths, roster size) is read just before, in the request. No label names a
person: every private destination of a network is summed under chat="private".
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bridge.model import Network
from bridge.web.health import QueueRow, QueueView, chat_label

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DIRECTIONS: dict[str, str] = {Network.IRC: "telegram_to_irc", Network.TELEGRAM: "irc_to_telegram"}
"""A relayed item delivered to a network went in this direction."""


class OutboxCounts(Protocol):
    @property
    def delivered(self) -> Mapping[tuple[str, str], int]: ...
    @property
    def retries(self) -> Mapping[str, int]: ...
    @property
    def rate_limited(self) -> Mapping[str, int]: ...
    @property
    def horizon_dropped(self) -> Mapping[str, int]: ...


class Connection(Protocol):
    @property
    def connection_state(self) -> str: ...


class MediaCounts(Protocol):
    @property
    def served(self) -> int: ...
    @property
    def fetched(self) -> int: ...
    @property
    def failed(self) -> int: ...


class CacheSize(Protocol):
    @property
    def size(self) -> int: ...
    @property
    def evicted(self) -> int: ...
    def __len__(self) -> int: ...


class DigestCounts(Protocol):
    @property
    def sent(self) -> int: ...
    @property
    def failures(self) -> int: ...
    @property
    def retrying(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class MetricsParts:
    outbox: OutboxCounts
    queues: QueueView
    connections: Mapping[str, Connection]
    reconnects: Callable[[], Mapping[str, int]]
    """Connections lost (and so re-made) per network."""
    commands: Callable[[], Mapping[str, int]]
    roster_size: Callable[[], Awaitable[int]]
    """Members in the roster (read per scrape)."""
    asks: Callable[[], Awaitable[Mapping[str, int]]] | None = None
    """/ask's totals by name (bridge/asking.py, storage.asks.AskCounts; read per scrape)."""
    nudges: Callable[[], Awaitable[Mapping[str, int]]] | None = None
    """The freshness task's totals by name (storage.freshness.NudgeCounts; read per scrape)."""
    media: MediaCounts | None = None
    cache: CacheSize | None = None
    digest: DigestCounts | None = None
    """The mailing-list digest's sends, with [digest] (bridge/mail/schedule.py)."""
    clock: Callable[[], float] = time.time


@dataclass
class _Snapshot:
    queues: Sequence[QueueRow] = ()
    members: int = 0
    asks: Mapping[str, int] | None = None
    nudges: Mapping[str, int] | None = None
    taken_at: float = 0.0


class BridgeCollector(Collector):
    """Builds every metric family from the parts as they are now."""

    def __init__(self, parts: MetricsParts) -> None:
        self.parts = parts
        self.snapshot = _Snapshot()

    async def refresh(self) -> None:
        """The values that need the database, read before generate_latest() runs."""
        self.snapshot = _Snapshot(
            queues=list(await self.parts.queues.stats()),
            members=await self.parts.roster_size(),
            asks=await self.parts.asks() if self.parts.asks is not None else None,
            nudges=await self.parts.nudges() if self.parts.nudges is not None else None,
            taken_at=self.parts.clock(),
        )

    def collect(self) -> Iterator[Metric]:
        p, snap = self.parts, self.snapshot
        relayed = CounterMetricFamily(
            "tgirc_messages_relayed", "Messages relayed and delivered", labels=["direction"]
        )
        delivered = CounterMetricFamily(
            "tgirc_items_delivered", "Queued items delivered, by kind", labels=["network", "kind"]
        )
        for network, direction in DIRECTIONS.items():
            relayed.add_metric([direction], p.outbox.delivered.get((network, "relay"), 0))
        for (network, kind), n in sorted(p.outbox.delivered.items()):
            delivered.add_metric([network, kind], n)
        yield relayed
        yield delivered
        yield _per_network(
            "tgirc_delivery_retries", "Deliveries that failed and were retried", p.outbox.retries
        )
        yield _per_network(
            "tgirc_rate_limited", "Deliveries refused with retry-after (429)", p.outbox.rate_limited
        )
        yield _per_network(
            "tgirc_horizon_dropped",
            "Messages dropped for being older than the delivery horizon",
            p.outbox.horizon_dropped,
        )
        yield _per_network("tgirc_reconnects", "Connections lost and re-made", p.reconnects())
        yield _per_network("tgirc_commands", "Commands run", p.commands())
        depth = GaugeMetricFamily(
            "tgirc_queue_depth", "Items waiting per destination", labels=["network", "chat"]
        )
        age = GaugeMetricFamily(
            "tgirc_queue_oldest_age_seconds",
            "Age of the oldest waiting item per destination",
            labels=["network", "chat"],
        )
        queues: dict[tuple[str, str], tuple[int, float]] = {}  # summed per label
        for row in snap.queues:
            dest = (row.network, chat_label(row.network, row.chat))
            count, oldest = queues.get(dest, (0, row.oldest_created_at))
            queues[dest] = (count + row.depth, min(oldest, row.oldest_created_at))
        for (network, chat), (count, oldest) in queues.items():
            depth.add_metric([network, chat], count)
            age.add_metric([network, chat], max(0.0, snap.taken_at - oldest))
        yield depth
        yield age
        up = GaugeMetricFamily("tgirc_connected", "1 when the network is ready", labels=["network"])
        for network, conn in sorted(p.connections.items()):
            up.add_metric([network], 1.0 if conn.connection_state == "ready" else 0.0)
        yield up
        yield GaugeMetricFamily("tgirc_roster_members", "Members in the roster", value=snap.members)
        if snap.asks is not None:
            yield from _ask_metrics(snap.asks)
        if snap.nudges is not None:
            yield from _nudge_metrics(snap.nudges)
        if p.media is not None:
            yield CounterMetricFamily(
                "tgirc_media_served", "Media files served", value=p.media.served
            )
            yield CounterMetricFamily(
                "tgirc_media_fetched", "Media files fetched from Telegram", value=p.media.fetched
            )
            yield CounterMetricFamily(
                "tgirc_media_fetch_failures", "Media fetches Telegram refused", value=p.media.failed
            )
        if p.digest is not None:
            yield CounterMetricFamily(
                "tgirc_digest_sent", "Mailing-list digests sent", value=p.digest.sent
            )
            yield CounterMetricFamily(
                "tgirc_digest_failures",
                "Digest sends that failed (retried, or at the next period after a 5xx)",
                value=p.digest.failures,
            )
            yield GaugeMetricFamily(
                "tgirc_digest_retrying",
                "1 while the last digest send failed and waits to be tried again",
                value=1.0 if p.digest.retrying else 0.0,
            )
        if p.cache is not None:
            yield GaugeMetricFamily(
                "tgirc_media_cache_bytes", "Bytes in the media cache", value=p.cache.size
            )
            yield GaugeMetricFamily(
                "tgirc_media_cache_files", "Files in the media cache", value=len(p.cache)
            )
            yield CounterMetricFamily(
                "tgirc_media_cache_evictions", "Files evicted from the cache", value=p.cache.evicted
            )


def _ask_metrics(asks: Mapping[str, int]) -> Iterator[Metric]:
    """/ask: questions asked, recipients notified now or when next seen, questions dropped."""
    yield CounterMetricFamily("tgirc_asks", "Questions asked with /ask", value=asks["asks"])
    notified = CounterMetricFamily(
        "tgirc_ask_recipients_notified",
        "Members a question was sent to: at once, or kept and sent when next seen on IRC",
        labels=["when"],
    )
    notified.add_metric(["now"], asks["notified_now"])
    notified.add_metric(["later"], asks["notified_later"])
    yield notified
    yield CounterMetricFamily(
        "tgirc_ask_expired",
        "Kept questions dropped after roster.ask_ttl_days",
        value=asks["expired"],
    )
    yield GaugeMetricFamily(
        "tgirc_ask_waiting", "Questions kept for IRC members not seen yet", value=asks["waiting"]
    )


def _nudge_metrics(nudges: Mapping[str, int]) -> Iterator[Metric]:
    """The roster's freshness: nudges sent per network, members who lapsed, nudges that
    found no way to the member."""
    sent = CounterMetricFamily(
        "tgirc_nudges_sent", "Private nudges to confirm a profile, sent", labels=["network"]
    )
    sent.add_metric([Network.IRC], nudges["nudged_irc"])
    sent.add_metric([Network.TELEGRAM], nudges["nudged_telegram"])
    yield sent
    yield CounterMetricFamily(
        "tgirc_nudges_unreachable",
        "Nudges due that found no private way to the member",
        value=nudges["unreachable"],
    )
    yield CounterMetricFamily(
        "tgirc_roster_lapsed",
        "Members who left the public lists, unconfirmed a grace period after their nudge",
        value=nudges["lapsed"],
    )


def _per_network(name: str, documentation: str, values: Mapping[str, int]) -> Metric:
    family = CounterMetricFamily(name, documentation, labels=["network"])
    for network in sorted({Network.IRC, Network.TELEGRAM, *values}):
        family.add_metric([network], values.get(network, 0))
    return family


def add_metrics(app: web.Application, parts: MetricsParts) -> CollectorRegistry:
    """GET /metrics on app, from a registry of its own (returned for tests)."""
    registry = CollectorRegistry(auto_describe=False)
    collector = BridgeCollector(parts)
    registry.register(collector)

    async def metrics(request: web.Request) -> web.Response:
        await collector.refresh()
        return web.Response(
            body=generate_latest(registry),
            headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"},
        )

    app.router.add_get("/metrics", metrics)
    return registry
