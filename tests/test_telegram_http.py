"""The bot's requests on aiohttp (bridge/telegram/http.py), against the fake Bot API.

What PTB's HTTPXRequest did must still hold: the environment's proxy is used (with its
credentials, and not for hosts in NO_PROXY), files upload, a hung answer is a timeout, and no
error names the token.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram.error import NetworkError, TimedOut

from bridge.telegram.http import AiohttpRequest, redact
from tests.support.fake_telegram import FakeTelegram
from tests.support.ports import free_port

GROUP = -100123


def bot_for(url: str, token: str, **timeouts: float) -> telegram.Bot:
    request = AiohttpRequest(ssl_context=ssl.create_default_context(), **timeouts)
    return telegram.Bot(token, base_url=url, request=request)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_chat(GROUP, "supergroup", title="Bridge")
        yield fake


class ForwardProxy:
    """A plain-HTTP forward proxy on loopback that notes what it forwarded."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.port = free_port()
        self._runner: web.AppRunner | None = None

    async def _forward(self, request: web.Request) -> web.Response:
        self.seen.append((str(request.url), request.headers.get("Proxy-Authorization")))
        body = await request.read()
        headers = {"Content-Type": request.headers.get("Content-Type", "")}
        async with (
            aiohttp.ClientSession() as session,
            session.request(request.method, str(request.url), data=body, headers=headers) as r,
        ):
            return web.Response(
                status=r.status, body=await r.read(), content_type="application/json"
            )

    async def __aenter__(self) -> ForwardProxy:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


async def test_requests_use_the_environment_proxy_with_its_credentials(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://user:secret@127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with bot_for(fake.api_url, fake.token) as bot:
            await bot.send_message(GROUP, "via the proxy")
        assert [m.text for m in fake.sent] == ["via the proxy"]
        assert len(proxy.seen) == 2  # getMe (initialize) and sendMessage
        assert all(url.startswith(fake.api_url) for url, _ in proxy.seen)
        assert all(auth == aiohttp.encode_basic_auth("user", "secret") for _, auth in proxy.seen)


async def test_no_proxy_hosts_are_reached_directly(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with bot_for(fake.api_url, fake.token) as bot:
            await bot.send_message(GROUP, "direct")
        assert [m.text for m in fake.sent] == ["direct"]
        assert proxy.seen == []


async def test_a_file_uploads_with_its_name_and_bytes(fake: FakeTelegram) -> None:
    async with bot_for(fake.api_url, fake.token) as bot:
        await bot.send_document(GROUP, b"name,interests\nada,math\n", filename="roster.csv")
    (sent,) = fake.sent
    assert (sent.method, sent.file_name, sent.file_bytes) == (
        "sendDocument",
        "roster.csv",
        b"name,interests\nada,math\n",
    )


async def test_an_unreachable_api_is_a_network_error_that_does_not_name_the_token() -> None:
    token = "123456:SECRET-token-never-shown"
    bot = bot_for(f"http://127.0.0.1:{free_port()}/bot", token, connect_timeout=2.0)
    with pytest.raises(NetworkError) as caught:
        await bot.initialize()
    assert "SECRET" not in str(caught.value)
    await bot.shutdown()


async def test_an_answer_that_never_comes_is_a_timeout() -> None:
    release = asyncio.Event()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await release.wait()
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    bot = bot_for(f"http://127.0.0.1:{port}/bot", "1:x", read_timeout=0.3)
    try:
        async with asyncio.timeout(10):
            with pytest.raises(TimedOut):
                await bot.initialize()
    finally:
        await bot.shutdown()
        release.set()
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0.05)  # the handler closes its side


def test_redact_hides_the_token_of_any_bot_api_url() -> None:
    text = "Cannot connect: http://h/bot12:AbC/getMe and http://h/file/bot12:AbC/photos/x.jpg"
    assert redact(text) == (
        "Cannot connect: http://h/bot<token>/getMe and http://h/file/bot<token>/photos/x.jpg"
    )
