"""The CLI's tests' configuration and logging fixture."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.support.configs import MINIMAL

CONFIG = MINIMAL + '[storage]\npath = "roster.sqlite3"\n'


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The CLI configures the root logger for its process; give pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
