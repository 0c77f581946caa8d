"""The Telegram connector's HTTP clients are all closed by close(), whenever the stop came:
a bridge stopped at once after its start must not leave an aiohttp session open (its
ResourceWarning, at some later garbage collection, failed an unrelated test)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bridge.config_model import TelegramConfig
from bridge.telegram.connector import TelegramConnector
from bridge.telegram.http import AiohttpRequest


def open_sessions(connector: TelegramConnector) -> list[str]:
    requests = {
        "main": connector.bot.request,
        "poll": connector._poll_request,
        "lookups": connector._lookup_request,
        "files": connector.files._request,
    }
    out = []
    for name, request in requests.items():
        assert isinstance(request, AiohttpRequest)
        session = request._session
        if session is not None and not session.closed:
            out.append(name)
    return out


@pytest.mark.parametrize("steps", range(6))
async def test_close_closes_every_client_when_the_login_was_cut_off(steps: int) -> None:
    """The login (getMe) is cancelled after `steps` turns of the loop, while Bot.initialize()
    is at any of its awaits; close() then leaves no session open."""
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accepts, never answers: getMe waits

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connector = TelegramConnector(
        TelegramConfig(
            token="1:abc",
            api_url=f"http://127.0.0.1:{port}/bot",
            file_url=f"http://127.0.0.1:{port}/file/bot",
        )
    )
    try:
        login = asyncio.create_task(connector.start())
        for _ in range(steps):
            await asyncio.sleep(0)
        login.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await login
        await connector.close()
        assert open_sessions(connector) == []
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
