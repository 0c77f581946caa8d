"""The IRC connector package: the only place that imports the irc (jaraco) library."""

from __future__ import annotations

from bridge.irc.connector import IrcConnector

__all__ = ["IrcConnector"]
