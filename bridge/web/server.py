"""The embedded aiohttp server: one Application, shared security headers, bind and stop.

Other modules (media links, health, metrics, the members directory) add their routes to
``WebServer.app`` before ``start()``; every response, error pages included, passes the
header middleware here, so no page can forget nosniff, the CSP or the Referrer-Policy.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bridge.config_checks import listen_address
from bridge.config_model import WebConfig
from bridge.errors import ConfigError

log = logging.getLogger(__name__)

CSP = "default-src 'none'; img-src 'self'; style-src 'self'; frame-ancestors 'none'"
"""Strict by default: no scripts, no frames, images and styles from this origin only."""
SHARED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Adds the shared headers to every answer, errors too; a route may set its own
    (stricter) Content-Security-Policy, which is kept."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _apply(exc)
        raise
    _apply(response)
    return response


def _apply(response: web.StreamResponse) -> None:
    if response.prepared:  # a streamed answer has sent its headers already (set them first)
        return
    for name, value in SHARED_HEADERS.items():
        response.headers[name] = value
    response.headers.setdefault("Content-Security-Policy", CSP)


class WebServer:
    """The bridge's web face; built only when [web] is configured."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.app = web.Application(middlewares=[security_headers], client_max_size=64 * 1024)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        """The bound port (useful with port 0 in tests)."""

    async def start(self) -> None:
        """Bind web.listen; an address in use or not ours is a configuration error (exit 2),
        found at start, not at the first click."""
        address = listen_address(self.config.listen)
        if address is None:
            raise ConfigError([f"web.listen: not host:port ({self.config.listen!r})"])
        host, port = address
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            if exc.errno == errno.EADDRINUSE:
                reason = "the address is already in use (another bridge or program?)"
            else:
                reason = exc.strerror or str(exc)
            problem = f"web.listen: cannot listen on {self.config.listen}: {reason}"
            raise ConfigError([problem]) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1]) if runner.addresses else port
        log.info("web: listening on %s:%d", host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
