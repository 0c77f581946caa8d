"""Configurations the tests share: the minimal one and the filled-in example."""

from __future__ import annotations

from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


MINIMAL = """
[telegram]
token = "1:abc"
[irc]
host = "127.0.0.1"
nick = "bridge"
[[bridge]]
telegram_chat = -100
irc_channel = "#c"
"""


def filled_example() -> str:
    """config.example.toml with the values an operator must fill in filled in (untouched, it
    is refused: test_config_runtime)."""
    return (
        EXAMPLE.read_text(encoding="utf-8")
        .replace('"123456:ABC-replace-me"', '"987654321:AAH4x7r2Qw9sLkPz0Vb3NcUe5YtGd8Jm1iO"')
        .replace("-1001234567890", "-1009876543210")
        .replace('"#example-collab"', '"#our-project"')
    )


ZERO_ALLOWED = [
    ("relay", "edit_debounce"),  # 0 = relay every edit at once
    ("delivery", "shutdown_grace"),  # 0 = stop at once, the queue is kept for the next start
    ("relay", "reaction_debounce_s"),  # 0 = each reaction its own line, at once
    ("relay", "mention_window_hours"),  # 0 = IRC lines never mention Telegram members
    ("relay", "paste_over_lines"),  # 0 = no paste links, long posts split as before
]
