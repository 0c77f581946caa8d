"""The bridge's web face (aiohttp): signed media links, /healthz, /metrics, the directory.

Imported only when [web] is configured, so a bridge without it never loads aiohttp or
prometheus-client. ``WebFace`` is what bridge/app.py builds, starts and stops; other parts
(the members directory) add their routes to ``face.server.app`` before ``start()``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bridge.config_model import WebConfig
from bridge.media_links import MIB, FileSource, MediaLinks
from bridge.web.cache import MediaCache, cache_folder
from bridge.web.health import HealthParts, add_health
from bridge.web.media import MediaService
from bridge.web.metrics import MetricsParts, add_metrics
from bridge.web.server import WebServer
from storage.web_secret import WebSecretStore

__all__ = ["WebFace", "WebServer"]


class WebFace:
    """The server with media links, health and metrics, as the running bridge uses it."""

    def __init__(
        self,
        config: WebConfig,
        *,
        links: MediaLinks,
        files: FileSource,
        secrets: WebSecretStore,
        db_path: Path,
        health: HealthParts,
        metrics: MetricsParts,
    ) -> None:
        self.server = WebServer(config)
        self.links = links
        self.secrets = secrets
        self.cache = MediaCache(cache_folder(db_path), config.media_cache_mb * MIB)
        self.media = MediaService(
            links,
            files,
            self.cache,
            load_secret=secrets.get_or_create,
            fetches=config.media_fetches,
        )
        self.media.add_routes(self.server.app)
        add_health(self.server.app, health)
        metrics = replace(metrics, media=self.media, cache=self.cache)
        self.registry = add_metrics(self.server.app, metrics)

    async def start(self) -> None:
        """Secret, cache, then the socket; ConfigError (exit 2) when web.listen cannot bind."""
        self.links.secret = await self.secrets.get_or_create()
        await self.cache.open()
        await self.server.start()

    async def stop(self) -> None:
        # Fetches first: the requests waiting on them are answered 503 at once, so the
        # server's stop does not wait out a slow download (or a wait for a slot) for them.
        await self.media.close()
        await self.server.stop()
