"""The IRC connector package: the only place that imports the irc (jaraco) library."""

from __future__ import annotations

import bridge.irc.library  # noqa: F401  (first: the library's quick import)
from bridge.irc.connector import IrcConnector

__all__ = ["IrcConnector"]
