"""GET/HEAD /m/{token}/{name}: the bytes behind a signed media link.

A link is checked (404 when tampered, 410 when expired), the file taken from the disk cache
or fetched once from the Bot API (concurrent requests for one file share that fetch; a Bot
API failure is a 502 and caches nothing) and served by aiohttp's FileResponse, which does
Content-Length, ETag, Range and HEAD. Nothing under /m/ lists anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from bridge.media_links import (
    FetchError,
    FileSource,
    LinkExpired,
    LinkInvalid,
    MediaLinks,
    MediaRef,
)
from bridge.web.cache import MediaCache, cache_key

log = logging.getLogger(__name__)

MEDIA_CSP = "default-src 'none'; img-src 'self'; style-src 'self'; sandbox"
"""Even a file a browser would render as a page runs nothing and reaches nothing."""
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
"""Shown in the browser; everything else is a download."""
RISKY_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
    }
)
"""Types a browser would run or parse as a page: served as plain bytes instead."""
SECRET_REFRESH = 30.0
"""How often the signing secret is read again, so `rotate-web-secret` takes effect on a
running bridge within half a minute."""
PAGES = {
    404: ("Not found", "There is no file at this address."),
    410: ("Link expired", "This media link has expired; ask for the file again on Telegram."),
    502: ("File unavailable", "Telegram did not hand out this file; try again later."),
}


def page(status: int) -> web.Response:
    """A short HTML page for an error, the same for every cause (nothing to probe)."""
    title, words = PAGES[status]
    body = (
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{title}</title>'
        f"<h1>{title}</h1><p>{words}</p></html>\n"
    )
    return web.Response(status=status, text=body, content_type="text/html")


def content_type(name: str) -> str:
    guessed = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
    return "application/octet-stream" if guessed in RISKY_TYPES else guessed


def disposition(name: str, ctype: str) -> str:
    """RFC 6266: the name is already ASCII letters, digits and ``._-`` (safe_name), so the
    plain form and the ``filename*`` form say the same."""
    how = "inline" if ctype in INLINE_TYPES else "attachment"
    return f"{how}; filename=\"{name}\"; filename*=UTF-8''{name}"


class MediaService:
    """Serves media links; one per web server."""

    def __init__(
        self,
        links: MediaLinks,
        source: FileSource,
        cache: MediaCache,
        *,
        load_secret: Callable[[], Awaitable[bytes]] | None = None,
    ) -> None:
        self.links = links
        self.source = source
        self.cache = cache
        self._load_secret = load_secret
        self._secret_read = time.monotonic()
        self._fetching: dict[str, asyncio.Task[Path | bytes]] = {}
        self.served = 0
        self.fetched = 0
        self.failed = 0

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/m/{token}/{name}", self.serve)
        for listing in ("/m", "/m/", "/m/{token}", "/m/{token}/"):
            app.router.add_get(listing, self.nothing)

    async def nothing(self, request: web.Request) -> web.Response:
        return page(404)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        await self._refresh_secret()
        name = request.match_info["name"]
        try:
            ref = self.links.verify(request.match_info["token"], name)
        except LinkExpired:
            return page(410)
        except LinkInvalid:
            return page(404)
        try:
            got = await self._file(ref)
        except FetchError as exc:
            self.failed += 1
            log.warning("web: %s could not be fetched from Telegram: %s", ref.kind, exc)
            return page(502)
        ctype = content_type(ref.name)
        headers = {
            "Content-Type": ctype,
            "Content-Disposition": disposition(ref.name, ctype),
            "Content-Security-Policy": MEDIA_CSP,
            "Cache-Control": f"private, max-age={max(0, int(ref.expires - self.links.clock()))}",
        }
        self.served += 1
        if isinstance(got, bytes):  # larger than the whole cache: from memory, whole
            return web.Response(body=got, headers=headers)
        return web.FileResponse(got, headers=headers)

    async def _file(self, ref: MediaRef) -> Path | bytes:
        """The cached file, or the bytes fetched once for every request waiting on them; a
        browser that gives up does not cancel the fetch the others wait for."""
        key = cache_key(ref.file_id)
        path = self.cache.get(key)
        if path is not None:
            return path
        task = self._fetching.get(key)
        if task is None:
            task = asyncio.create_task(self._fetch(ref, key), name=f"fetch {ref.kind}")
            self._fetching[key] = task
            task.add_done_callback(lambda done: self._fetched(key, done))
        return await asyncio.shield(task)

    async def _fetch(self, ref: MediaRef, key: str) -> Path | bytes:
        data = await self.source.fetch(ref.file_id, self.links.max_bytes)
        self.fetched += 1
        stored = await self.cache.put(key, data)
        return stored if stored is not None else data

    def _fetched(self, key: str, task: asyncio.Task[Path | bytes]) -> None:
        self._fetching.pop(key, None)
        if not task.cancelled():
            task.exception()  # seen by every waiter; retrieved here for when none is left

    async def close(self) -> None:
        """Stop fetches still running (their browsers get the server's own stop)."""
        tasks = list(self._fetching.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _refresh_secret(self) -> None:
        now = time.monotonic()
        if self._load_secret is None or now - self._secret_read < SECRET_REFRESH:
            return
        self._secret_read = now
        self.links.secret = await self._load_secret()
