"""[web] for `tgirc-bridge doctor`: the listen address is free (or the bridge holds it), and
public_url is well formed."""

from __future__ import annotations

import asyncio
import errno
import json
import socket

import aiohttp

from bridge.checks import Check, failed, passed
from bridge.config_checks import listen_address, public_url_problem
from bridge.config_model import WebConfig

HEALTH_KEYS = frozenset({"status", "irc", "telegram", "oldest_queued_seconds"})
"""What /healthz (bridge/web/health.py) answers: a bridge, not another program."""


async def probe_web(web: WebConfig, step: float) -> list[Check]:
    checks = [_public_url(web.public_url), await _listen(web.listen, step)]
    return checks


def _public_url(url: str) -> Check:
    problem = public_url_problem(url)
    if problem:
        return failed(f"web: public_url {problem}")
    return passed(f"web: public_url {url} is well formed")


def _bind(host: str, port: int) -> None:
    """Bind and let go at once, as the web server would bind (SO_REUSEADDR, like aiohttp)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1)


async def _listen(listen: str, step: float) -> Check:
    address = listen_address(listen)
    if address is None:
        return failed(f"web: listen {listen!r} is not host:port")
    host, port = address
    try:
        await asyncio.to_thread(_bind, host, port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            return failed(f"web: cannot listen on {listen} ({exc.strerror}): change web.listen")
    else:
        return passed(f"web: {listen} is free")
    if await _is_bridge(host, port, step):
        return passed(f"web: {listen} is held by this bridge, which is running (/healthz)")
    return failed(f"web: {listen} is in use by another program: change web.listen, or stop it")


async def _is_bridge(host: str, port: int, step: float) -> bool:
    url = f"http://[{host}]:{port}/healthz" if ":" in host else f"http://{host}:{port}/healthz"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=step)) as session,
            session.get(url) as resp,
        ):
            body = json.loads(await resp.read())
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False
    return isinstance(body, dict) and set(body) >= HEALTH_KEYS
