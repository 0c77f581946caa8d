"""Logging set-up: one format, quiet libraries, and no secret ever written to a log."""

from __future__ import annotations

import base64
import binascii
import logging
import re
import sys
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from bridge.config_model import BOT_TOKEN

# Bot API URLs carry the token: /bot123456:ABC.../method and /file/bot123456:ABC.../path
_TOKEN_IN_URL = re.compile(rf"(/(?:file/)?bot){BOT_TOKEN}")
# A SASL response (any mechanism, any chunk of a long one) is a credential by definition;
# the mechanism names and the empty "+" / abort "*" lines are not.
_SASL_RESPONSE = re.compile(
    r"(\bAUTHENTICATE )(?!(?:PLAIN|EXTERNAL|SCRAM-SHA-\d+(?:-PLUS)?|\+|\*)(?:\s|$))\S+"
)
# A run of base64 long enough to hide a secret; decoded to look inside (a SASL PLAIN blob
# puts the password after "authzid\0authcid\0", at any byte alignment).
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")


def encoded_forms(secret: str) -> set[str]:
    """The secret as libraries may log it: plain, URL-quoted (httpx URLs, form bodies) and
    base64 (auth headers)."""
    return {
        secret,
        quote(secret),
        quote(secret, safe=""),
        quote_plus(secret),
        base64.b64encode(secret.encode()).decode(),
    }


class RedactingFilter(logging.Filter):
    """Replaces configured secrets (in every encoding above, and inside base64), SASL
    responses and anything shaped like a bot token with ***."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._raw = [s.encode() for s in self.secrets]
        forms = sorted({f for s in self.secrets for f in encoded_forms(s)}, key=len, reverse=True)
        self._forms = re.compile("|".join(map(re.escape, forms))) if forms else None

    def _hides_secret(self, match: re.Match[str]) -> str:
        run = match.group()
        try:
            data = base64.b64decode(run + "=" * (-len(run) % 4))
        except (binascii.Error, ValueError):
            return run
        return "***" if any(raw in data for raw in self._raw) else run

    def redact(self, text: str) -> str:
        text = _SASL_RESPONSE.sub(r"\1***", text)
        if self._forms is not None:
            text = self._forms.sub("***", text)
            text = _BASE64_RUN.sub(self._hides_secret, text)
        return _TOKEN_IN_URL.sub(r"\1***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def setup_logging(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr; httpx/irc internals stay at WARNING (their lines contain the token).

    ``secrets`` are the config's (Config.secrets()): every line of every logger, the irc
    library's raw ``AUTHENTICATE``/``PASS`` lines at DEBUG included, passes the filter.
    """
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
