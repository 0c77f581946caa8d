"""python-telegram-bot's requests sent with aiohttp instead of httpx.

PTB lets a bot bring its own networking (`telegram.request.BaseRequest`); this one is aiohttp's
client, whose HTTP parser is C (llhttp). On an idle bridge, httpx's pure-Python request and
response handling was the largest part of both relay paths: about 1 ms of every getUpdates
answer and 2 ms of every sendMessage on the benchmark's machine (bench/PROFILE.md, issue 12).

Behaviour kept from PTB's HTTPXRequest: proxies from the environment (HTTP(S)_PROXY,
NO_PROXY), one shared TLS context, a bounded pool, timeouts per request, errors as PTB's
TimedOut and NetworkError. The proxy is looked up once per host: aiohttp's own trust_env reads
the environment and ~/.netrc on every request, 1 ms each at idle. An error's text never
carries the bot token: URLs name it, and some aiohttp errors repeat their URL.
"""

from __future__ import annotations

import re
import ssl
import urllib.parse
import urllib.request
from typing import Any

import aiohttp
import telegram
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bridge.compat import request_data as request_data  # the calls posted by hand
from bridge.config_model import BOT_TOKEN, TelegramConfig

_TOKEN_IN_URL = re.compile(rf"/bot{BOT_TOKEN}")
FORM = "application/x-www-form-urlencoded"
DEFAULT_POOL_TIMEOUT = 1.0
"""Seconds a request waits for a free connection (HTTPXRequest's default)."""


def redact(text: str) -> str:
    """text with any Bot API URL's token replaced (…/bot<token>/method → …/bot<token>/…)."""
    return _TOKEN_IN_URL.sub("/bot<token>", text)


class AiohttpRequest(BaseRequest):
    """A BaseRequest for python-telegram-bot on one aiohttp ClientSession."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        connection_pool_size: int = 1,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._ssl = ssl_context
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], tuple[str | None, str | None]] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ssl=self._ssl)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _proxy(self, url: str) -> tuple[str | None, str | None]:
        """The environment's proxy for url's scheme and host, and its Proxy-Authorization;
        looked up once."""
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            named = urllib.request.getproxies().get(parts.scheme)
            if not named or (parts.hostname and urllib.request.proxy_bypass(parts.hostname)):
                self._proxies[key] = (None, None)
            else:
                proxy = urllib.parse.urlsplit(named if "://" in named else f"http://{named}")
                login = None
                if proxy.username is not None:
                    user, password = proxy.username, proxy.password or ""
                    login = aiohttp.encode_basic_auth(
                        urllib.parse.unquote(user), urllib.parse.unquote(password)
                    )
                bare = proxy._replace(netloc=proxy.netloc.rpartition("@")[2])
                self._proxies[key] = (bare.geturl(), login)
        return self._proxies[key]

    def _timeout(
        self, has_files: bool, read: Any, write: Any, connect: Any, pool: Any
    ) -> aiohttp.ClientTimeout:
        """aiohttp has no write timeout: the whole request is bounded by the sum of the
        four instead, and the answer's reading by the read timeout alone."""
        unset = BaseRequest.DEFAULT_NONE  # PTB: "use `is BaseRequest.DEFAULT_NONE`"
        if read is unset:
            read = self._read_timeout
        if write is unset:
            write = self._media_write_timeout if has_files else self._write_timeout
        if connect is unset:
            connect = self._connect_timeout
        if pool is unset:
            pool = self._pool_timeout
        parts = (read, write, connect, pool)
        total = None if any(p is None for p in parts) else sum(parts)
        waiting = None if connect is None or pool is None else connect + pool
        return aiohttp.ClientTimeout(
            total=total, connect=waiting, sock_connect=connect, sock_read=read
        )

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        data: aiohttp.FormData | aiohttp.BytesPayload | None = None
        if files:
            data = aiohttp.FormData(fields or {})
            for name, (filename, content, mime) in files.items():
                data.add_field(name, content, filename=filename, content_type=mime)
        elif fields:  # encoded here: aiohttp's FormData costs twice as much for a few fields
            body = urllib.parse.urlencode(fields).encode()
            data = aiohttp.BytesPayload(body, content_type=FORM)
        timeout = self._timeout(
            bool(files), read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        proxy, login = self._proxy(url)
        # A TLS request's credentials go on the proxy's CONNECT, a plain one's on itself.
        auth = None if login is None else {"Proxy-Authorization": login}
        tunnel = url.startswith("https:")
        try:
            async with self._session.request(
                method,
                url,
                data=data,
                timeout=timeout,
                proxy=proxy,
                proxy_headers=auth if tunnel else None,
                headers=None if tunnel else auth,
            ) as resp:
                return resp.status, await resp.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as err:
            raise TimedOut(redact(str(err)) or None) from None
        except aiohttp.ClientError as err:
            raise NetworkError(redact(f"aiohttp.{type(err).__name__}: {err}")) from None


def bot_of_its_own(
    config: TelegramConfig, ssl_context: ssl.SSLContext, pool_size: int
) -> tuple[AiohttpRequest, telegram.Bot]:
    """A Bot on the same token with an HTTP client of its own (its own aiohttp session and
    connections), for calls that must never wait for the main bot's pool (lookups, file
    downloads). The request serves both slots: this Bot never polls, and a Bot left to make
    its own getUpdates request would build an httpx client for nothing."""
    request = AiohttpRequest(
        ssl_context=ssl_context,
        connection_pool_size=pool_size,
        read_timeout=config.request_timeout,
        write_timeout=config.request_timeout,
        connect_timeout=config.request_timeout,
    )
    bot = telegram.Bot(
        config.token,
        base_url=config.api_url,
        base_file_url=config.file_url,
        request=request,
        get_updates_request=request,
    )
    return request, bot
