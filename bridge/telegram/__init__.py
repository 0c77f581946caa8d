"""The Telegram side: the only package that imports python-telegram-bot.

connector.py logs in, polls and answers chat questions; inbound.py turns updates into neutral
Messages; delivery.py writes the outbox's payloads, paced, and sorts PTB's errors.
"""

from __future__ import annotations

import os

# before PTB is imported: durations come as timedelta, not the deprecated int seconds
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bridge.telegram.connector import FatalTelegramError, OnMessage, TelegramConnector

__all__ = ["FatalTelegramError", "OnMessage", "TelegramConnector"]
