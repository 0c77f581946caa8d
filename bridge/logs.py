"""Logging set-up: one format, quiet libraries, and no secret ever written to a log."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

# Bot API URLs carry the token: /bot123456:ABC.../method and /file/bot123456:ABC.../path
_TOKEN_IN_URL = re.compile(r"(/(?:file/)?bot)\d+:[A-Za-z0-9_-]+")


class RedactingFilter(logging.Filter):
    """Replaces configured secrets and anything shaped like a bot token with ***."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _TOKEN_IN_URL.sub(r"\1***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def setup_logging(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr; httpx/irc internals stay at WARNING (their lines contain the token)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # At DEBUG the protocol libraries speak too (their lines pass the redaction filter);
    # otherwise only their warnings. aiosqlite would log every statement: never below INFO.
    library_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for library in ("httpx", "httpcore", "irc", "telegram"):
        logging.getLogger(library).setLevel(library_level)
    for noisy in ("aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(max(library_level, logging.INFO))
