"""The bridge's own exceptions, so callers can tell a user's mistake from a network fault."""

from __future__ import annotations

EXIT_CONFIG = 2
"""The exit status of a process stopped by a ConfigError (run and check-config alike)."""


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""


class ConfigError(BridgeError):
    """The configuration file is missing, unreadable or invalid; carries every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class UsageError(BridgeError):
    """A command was called with arguments it cannot use; the text is shown to the user."""


class PermissionDenied(BridgeError):
    """The invoker may not run this command; the text is shown to the user."""
