"""A python-telegram-bot Bot pointed at the fake Bot API."""

from __future__ import annotations

import telegram
from telegram.request import HTTPXRequest

from tests.support.fake_telegram import FakeTelegram


def make_bot(
    fake: FakeTelegram, token: str | None = None, read_timeout: float = 5.0
) -> telegram.Bot:
    request = HTTPXRequest(read_timeout=read_timeout, connect_timeout=2.0, write_timeout=2.0)
    return telegram.Bot(
        token or fake.token,
        base_url=fake.api_url,
        base_file_url=fake.file_url,
        request=request,
        get_updates_request=HTTPXRequest(read_timeout=5.0, connect_timeout=2.0),
    )
