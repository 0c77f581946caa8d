"""Secrets never reach a log line, whatever the library logs."""

from __future__ import annotations

import logging

import pytest

from bridge.logs import RedactingFilter

TOKEN = "123456:AAHsecretTOKENvalue_-x"


def test_redacts_configured_secrets_and_token_urls(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redact")
    filt = RedactingFilter([TOKEN, "hunter2"])
    logger.addFilter(filt)
    try:
        with caplog.at_level(logging.INFO, logger="test.redact"):
            logger.info("POST https://api.telegram.org/bot%s/getMe", TOKEN)
            logger.info("password is %s", "hunter2")
            logger.info("other token https://x/file/bot999:ZZZ_other/photos/1.jpg")
    finally:
        logger.removeFilter(filt)
    text = caplog.text
    assert TOKEN not in text and "hunter2" not in text and "999:ZZZ_other" not in text
    assert "/bot***/getMe" in text and "/file/bot***/photos" in text


def test_redacts_exception_text() -> None:
    filt = RedactingFilter([TOKEN])
    try:
        raise RuntimeError(f"failed for {TOKEN}")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    filt.filter(record)
    assert record.exc_text is not None and TOKEN not in record.exc_text
