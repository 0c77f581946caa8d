"""Fetching a file's bytes through the Bot API for the web face's media links.

getFile answers with a path that, joined to the file URL, contains the bot token: the path
stays inside this module (never logged, never in an error), and only the bytes leave it.

Files come through an HTTP client of their own (its own aiohttp session and connections),
not the bot's: a download held by a slow file server never takes a connection that
sendMessage, getUpdates or a lookup is waiting for. How many run at once is the web face's
to bound ([web] media_fetches, bridge/web/media.py); this client adds no limit of its own.
"""

from __future__ import annotations

import logging
import ssl

from telegram import error as tg_error

from bridge.config import TelegramConfig
from bridge.media_links import FetchError
from bridge.telegram.http import bot_of_its_own

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = 60.0
"""20 MB on a slow link; the IRC user's browser waits this long at most."""
UNLIMITED = 0
"""aiohttp's TCPConnector limit meaning "no limit": the web face's slots are the limit."""


class TelegramFiles:
    """A FileSource (bridge/media_links.py) on its own HTTP client: getFile and the download
    both go through a Bot of its own, on the same token, so the bot's pool never sees them."""

    def __init__(self, config: TelegramConfig, ssl_context: ssl.SSLContext) -> None:
        self._request, self._bot = bot_of_its_own(config, ssl_context, UNLIMITED)
        self.fetched = 0
        """Files downloaded from Telegram (for /metrics: cache misses)."""

    async def fetch(self, file_id: str, max_bytes: int) -> bytes:
        try:
            await self._request.initialize()  # opens the session once; no getMe needed
            file = await self._bot.get_file(file_id)
            if file.file_size is not None and file.file_size > max_bytes:
                raise FetchError(f"file is {file.file_size} bytes, above {max_bytes}")
            data = await file.download_as_bytearray(
                read_timeout=DOWNLOAD_TIMEOUT, connect_timeout=DOWNLOAD_TIMEOUT
            )
        except tg_error.TelegramError as exc:
            # PTB's messages name the API's answer, not the URL; the class is enough anyway.
            raise FetchError(f"Bot API: {type(exc).__name__}: {_first_line(exc)}") from None
        except (OSError, ValueError, RuntimeError) as exc:
            raise FetchError(f"download failed: {type(exc).__name__}") from None
        if len(data) > max_bytes:
            raise FetchError(f"file is {len(data)} bytes, above {max_bytes}")
        self.fetched += 1
        return bytes(data)

    async def close(self) -> None:
        """Close the file client's connections (after the web face stopped)."""
        await self._request.shutdown()


def _first_line(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text if "/file/bot" not in text and "/bot" not in text else "(details withheld)"
