"""The doctor's lines: one per check, ✓ or ✗, never a secret, and the exit status."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bridge.checks import Check

BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Bidi controls a server's text may hold (a registration's source, an account, an error):
an RLO would show the rest of the line reversed, so they go like control characters."""
OK_MARK = "✓"
FAIL_MARK = "✗"


def render(checks: Sequence[Check], secrets: Iterable[str]) -> list[str]:
    """One line per check; any configured secret that a server's text echoed is hidden."""
    hidden = sorted((s for s in secrets if s), key=len, reverse=True)
    lines = []
    for check in checks:
        text = check.text
        for secret in hidden:
            text = text.replace(secret, "<secret>")
        text = "".join(" " if c < " " or "\x7f" <= c <= "\x9f" or c in BIDI else c for c in text)
        lines.append(f"{OK_MARK if check.ok else FAIL_MARK} {text}")
    return lines


def exit_status(checks: Sequence[Check]) -> int:
    """0 when every check passed, 1 otherwise."""
    return 0 if all(check.ok for check in checks) else 1
