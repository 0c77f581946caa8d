"""The CLI's tests' configuration (the logging fixture is tests/conftest.py's)."""

from __future__ import annotations

from tests.support.configs import MINIMAL

CONFIG = MINIMAL + '[storage]\npath = "roster.sqlite3"\n'
