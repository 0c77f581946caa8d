"""GET/HEAD /p/{token}: the whole text of a long post relayed to IRC as a paste link.

The token is checked as media links are (404 when tampered or unknown, 410 when expired;
bridge/paste.py), then the stored text is served as ``text/plain; charset=utf-8``, byte for
byte what was written (code blocks included): a browser shows it as text, never as a page.
The shared security headers come from the server's middleware; the CSP here is stricter.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bridge.media_links import LinkExpired, LinkInvalid
from bridge.paste import PasteLinks
from bridge.web.media import MEDIA_CSP, SECRET_REFRESH, page
from storage.pastes import PasteStore


class PasteService:
    """Serves paste links; one per web server."""

    def __init__(
        self,
        links: PasteLinks,
        store: PasteStore,
        *,
        load_secret: Callable[[], Awaitable[bytes]] | None = None,
    ) -> None:
        self.links = links
        self.store = store
        self._load_secret = load_secret
        self._secret_read = time.monotonic()
        self.served = 0

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/p/{token}", self.serve)
        for listing in ("/p", "/p/"):
            app.router.add_get(listing, self.nothing)

    async def nothing(self, request: web.Request) -> web.Response:
        return page(404, request=request)

    async def serve(self, request: web.Request) -> web.Response:
        await self._refresh_secret()
        try:
            paste_id = self.links.verify(request.match_info["token"])
        except LinkExpired:
            return page(410, request=request)
        except LinkInvalid:
            return page(404, request=request)
        paste = await self.store.get(paste_id)
        if paste is None:  # a genuine token for a row gone (a database restored from before)
            return page(404, request=request)
        self.served += 1
        left = max(0, int(paste.expires - self.links.now()))
        headers = {
            "Content-Security-Policy": MEDIA_CSP,
            "Cache-Control": f"private, max-age={left}",
        }
        return web.Response(
            text=paste.body, content_type="text/plain", charset="utf-8", headers=headers
        )

    async def _refresh_secret(self) -> None:
        """`rotate-web-secret` takes effect here within half a minute, as for media."""
        now = time.monotonic()
        if self._load_secret is None or now - self._secret_read < SECRET_REFRESH:
            return
        self._secret_read = now
        self.links.media.secret = await self._load_secret()
