"""GET/HEAD /m/{token}/{name}: the bytes behind a signed media link.

A link is checked (404 when tampered, 410 when expired), the file taken from the disk cache
or fetched once from the Bot API (concurrent requests for one file share that fetch; a Bot
API failure is a 502 and caches nothing) and served by aiohttp's FileResponse, which does
Content-Length, ETag, Range and HEAD. A cached file is served from the descriptor the cache
opened it with, so an eviction meanwhile cannot turn a valid link into a 404. Nothing under
/m/ lists anything.

At most ``fetches`` downloads ([web] media_fetches) run at once; a fetch past that waits for
a slot, and a request whose fetch has had none for ``slot_wait`` seconds is answered 503
with Retry-After (a fetch nobody waits for any more gives its place up). Anyone holding a
link can open it, so many opened at once must not crowd out anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import math
import mimetypes
import os
import time
import weakref
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from bridge.i18n import N_, translations
from bridge.media_links import (
    FetchError,
    FileSource,
    LinkExpired,
    LinkInvalid,
    MediaLinks,
    MediaRef,
)
from bridge.web.cache import MediaCache, cache_key
from bridge.web.language import accepted, language_tag

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
SLOT_WAIT = 30.0
"""Seconds a request waits for its fetch to get a download slot before a 503."""
SECRET_REFRESH = 30.0
"""How often the signing secret is read again, so `rotate-web-secret` takes effect on a
running bridge within half a minute."""
PAGES = {
    # Translators: the title and text of the page behind a media or paste link that is wrong.
    404: (N_("Not found"), N_("There is no file at this address.")),
    # Translators: the title and text of the page behind a media or paste link past its time.
    410: (
        N_("Link expired"),
        N_("This media link has expired; ask for the file again on Telegram."),
    ),
    # Translators: the title and text of the page when Telegram does not give out a file.
    502: (N_("File unavailable"), N_("Telegram did not hand out this file; try again later.")),
    # Translators: the title and text of the page when too many files are being fetched.
    503: (N_("Busy"), N_("Too many files are being fetched right now; try again in a minute.")),
}


def page(
    status: int, headers: dict[str, str] | None = None, request: web.Request | None = None
) -> web.Response:
    """A short HTML page for an error, the same for every cause (nothing to probe), in the
    best shipped language of the browser's Accept-Language (else English)."""
    language = accepted(request.headers.get("Accept-Language", "") if request else "", "en")
    _ = translations(language).gettext
    title, words = (html.escape(_(text)) for text in PAGES[status])
    body = (
        f'<!doctype html><html lang="{language_tag(language)}"><meta charset="utf-8">'
        f"<title>{title}</title><h1>{title}</h1><p>{words}</p></html>\n"
    )
    more = {"Content-Language": language_tag(language), "Vary": "Accept-Language"}
    return web.Response(
        status=status, text=body, content_type="text/html", headers={**(headers or {}), **more}
    )


class Busy(Exception):
    """No download slot came in time, or the service is closing: 503, try again later."""


class _Fetch:
    """One file's fetch and the requests waiting for it."""

    __slots__ = ("begun", "task", "waiters")

    def __init__(self) -> None:
        self.begun = asyncio.Event()
        """Set once the fetch has a slot (or ended without one)."""
        self.waiters = 0
        self.task: asyncio.Task[bytes] | None = None


def content_type(name: str) -> str:
    guessed = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
    return "application/octet-stream" if guessed in RISKY_TYPES else guessed


def disposition(name: str, ctype: str) -> str:
    """RFC 6266: the name is already ASCII letters, digits and ``._-`` (safe_name), so the
    plain form and the ``filename*`` form say the same."""
    how = "inline" if ctype in INLINE_TYPES else "attachment"
    return f"{how}; filename=\"{name}\"; filename*=UTF-8''{name}"


FD_FOLDER = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
"""Where an open descriptor has a name that opens the same file, unlinked or not."""


class OpenFileResponse(web.FileResponse):
    """FileResponse for a file the cache has already opened: aiohttp opens it again by its
    descriptor's name, which reaches the same file even once evicted; the descriptor is
    closed once the response is prepared (or, never prepared, when it is dropped)."""

    def __init__(self, fd: int, *, headers: dict[str, str]) -> None:
        super().__init__(f"{FD_FOLDER}/{fd}", headers=headers)
        self._close = weakref.finalize(self, os.close, fd)

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        try:
            return await super().prepare(request)
        finally:
            self._close()


class MediaService:
    """Serves media links; one per web server."""

    def __init__(
        self,
        links: MediaLinks,
        source: FileSource,
        cache: MediaCache,
        *,
        load_secret: Callable[[], Awaitable[bytes]] | None = None,
        fetches: int = 4,
        slot_wait: float = SLOT_WAIT,
    ) -> None:
        self.links = links
        self.source = source
        self.cache = cache
        self._load_secret = load_secret
        self._secret_read = time.monotonic()
        self._fetching: dict[str, _Fetch] = {}
        self._slots = asyncio.Semaphore(fetches)
        self.slot_wait = slot_wait
        """Seconds a request waits for its fetch to get a slot before a 503."""
        self._closing = False
        self.served = 0
        self.fetched = 0
        self.failed = 0
        self.busy = 0
        """Requests answered 503 (no slot in time, or stopping)."""
        self.running = 0
        """Fetches holding a slot now."""

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/m/{token}/{name}", self.serve)
        for listing in ("/m", "/m/", "/m/{token}", "/m/{token}/"):
            app.router.add_get(listing, self.nothing)

    async def nothing(self, request: web.Request) -> web.Response:
        return page(404, request=request)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        await self._refresh_secret()
        name = request.match_info["name"]
        try:
            ref = self.links.verify(request.match_info["token"], name)
        except LinkExpired:
            return page(410, request=request)
        except LinkInvalid:
            return page(404, request=request)
        try:
            got = await self._file(ref)
        except FetchError as exc:
            self.failed += 1
            log.warning("web: %s could not be fetched from Telegram: %s", ref.kind, exc)
            return page(502, request=request)
        except Busy:
            self.busy += 1
            return page(503, {"Retry-After": str(max(1, math.ceil(self.slot_wait)))}, request)
        ctype = content_type(ref.name)
        headers = {
            "Content-Type": ctype,
            "Content-Disposition": disposition(ref.name, ctype),
            "Content-Security-Policy": MEDIA_CSP,
            "Cache-Control": f"private, max-age={max(0, int(ref.expires - self.links.clock()))}",
        }
        self.served += 1
        if isinstance(got, bytes):  # not in the cache (larger than it, or already evicted)
            return web.Response(body=got, headers=headers)
        return OpenFileResponse(got, headers=headers)

    async def _file(self, ref: MediaRef) -> int | bytes:
        """The cached file opened, or the bytes fetched once for every request waiting on
        them (opened from the cache when it kept them); a browser that gives up does not
        cancel a fetch under way. Busy when the fetch had no slot within slot_wait (it is
        given up when no request waits for it any more)."""
        key = cache_key(ref.file_id)
        fd = self.cache.open_file(key)
        if fd is not None:
            return fd
        if self._closing:
            raise Busy("stopping")
        fetch = self._fetching.get(key)
        if fetch is None:
            fetch = self._fetching[key] = _Fetch()
            task = asyncio.create_task(self._fetch(ref, key, fetch), name=f"fetch {ref.kind}")
            fetch.task = task
            task.add_done_callback(lambda done: self._fetched(key, fetch, done))
        assert fetch.task is not None
        fetch.waiters += 1
        try:
            if not fetch.begun.is_set():
                try:
                    await asyncio.wait_for(fetch.begun.wait(), self.slot_wait)
                except TimeoutError:
                    raise Busy("no download slot") from None
            data = await asyncio.shield(fetch.task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if fetch.task.cancelled() and not (current and current.cancelling()):
                raise Busy("fetch stopped") from None  # closing: the fetch, not this request
            raise
        finally:
            fetch.waiters -= 1
            if fetch.waiters == 0 and not fetch.begun.is_set():
                # nobody waits for it: its place in the queue goes, and the next request
                # for this file starts a fetch of its own
                fetch.task.cancel()
                if self._fetching.get(key) is fetch:
                    del self._fetching[key]
        fd = self.cache.open_file(key)
        return data if fd is None else fd

    async def _fetch(self, ref: MediaRef, key: str, fetch: _Fetch) -> bytes:
        async with self._slots:
            fetch.begun.set()
            self.running += 1
            try:
                data = await self.source.fetch(ref.file_id, self.links.max_bytes)
            finally:
                self.running -= 1
        self.fetched += 1
        await self.cache.put(key, data)
        return data

    def _fetched(self, key: str, fetch: _Fetch, task: asyncio.Task[bytes]) -> None:
        if self._fetching.get(key) is fetch:
            del self._fetching[key]
        fetch.begun.set()  # a fetch that ended without a slot: its waiters see how it ended
        if not task.cancelled():
            task.exception()  # seen by every waiter; retrieved here for when none is left

    @property
    def waiting(self) -> int:
        """Fetches waiting for a slot now."""
        return sum(not fetch.begun.is_set() for fetch in self._fetching.values())

    async def close(self) -> None:
        """Stop fetches, running or waiting for a slot: their requests, and any that come
        after, are answered 503 at once, so the server's own stop waits for none of them."""
        self._closing = True
        tasks = [fetch.task for fetch in self._fetching.values() if fetch.task is not None]
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
