"""One line of `tgirc-bridge doctor`'s report: what each network's probe returns.

Neutral and dependency-free, so the connectors' probes (bridge/irc/probe.py,
bridge/telegram/probe.py) and the doctor (bridge/doctor/) share it without importing
each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Check:
    """One thing checked: passed or not, and the line saying what was found or what to do."""

    ok: bool
    text: str


def passed(text: str) -> Check:
    return Check(True, text)


def failed(text: str) -> Check:
    return Check(False, text)
