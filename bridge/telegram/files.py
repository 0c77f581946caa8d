"""Fetching a file's bytes through the Bot API for the web face's media links.

getFile answers with a path that, joined to the file URL, contains the bot token: the path
stays inside this module (never logged, never in an error), and only the bytes leave it.
"""

from __future__ import annotations

import logging

import telegram
from telegram import error as tg_error

from bridge.media_links import FetchError

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = 60.0
"""20 MB on a slow link; the IRC user's browser waits this long at most."""


class TelegramFiles:
    """A FileSource (bridge/media_links.py) backed by the bot's own HTTP client."""

    def __init__(self, bot: telegram.Bot) -> None:
        self._bot = bot
        self.fetched = 0
        """Files downloaded from Telegram (for /metrics: cache misses)."""

    async def fetch(self, file_id: str, max_bytes: int) -> bytes:
        try:
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


def _first_line(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text if "/file/bot" not in text and "/bot" not in text else "(details withheld)"
