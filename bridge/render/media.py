"""Describe Telegram media in words for IRC, which cannot show files.

Descriptions never contain a URL from the message or the Bot API (file URLs carry the bot
token: PITFALLS 2). The only URL is the bridge's own signed media link, set on the
attachment by the relay when [web] is on, which follows the description.
"""

from __future__ import annotations

import re
from typing import Final

from bridge.config_model import BOT_TOKEN_IN_TEXT
from bridge.model import Attachment
from bridge.render.text import one_line, truncate_words

_URL_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S*")
_TOKEN_RE: Final = re.compile(BOT_TOKEN_IN_TEXT)
_LABELS: Final = {"video_note": "video note"}
_NAMED: Final = frozenset({"document", "audio", "poll", "video", "animation"})
"""Kinds shown as ``[kind: name, ...]`` when they have a name."""
_TIMED: Final = frozenset({"voice", "video", "video_note", "animation"})
"""Kinds whose numeric detail is a duration in seconds."""
_SIZED: Final = frozenset(
    {"photo", "document", "audio", "video", "animation", "voice", "video_note"}
)
"""Kinds that are files: their size tells IRC whether opening them on Telegram is worth it."""
_PLAIN: Final = frozenset({"photo"})
"""Kinds shown without any detail (only the size)."""
MAX_DETAIL_CHARS: Final = 120


def format_size(size: int) -> str:
    """Human-readable size with SI units (B, kB, MB, GB), one decimal above bytes."""
    if size < 1000:
        return f"{max(size, 0)} B"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if round(value, 1) < 1000 or unit == "TB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def format_duration(seconds: int) -> str:
    """m:ss (or h:mm:ss) the way players show a clip's length."""
    seconds = max(seconds, 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _clean(value: str | None) -> str:
    """One line of user-supplied words with URLs and anything token-like removed, shortened."""
    if not value:
        return ""
    text = _TOKEN_RE.sub("<redacted>", one_line(value))
    text = one_line(_URL_RE.sub("<link>", text))
    return truncate_words(text, MAX_DETAIL_CHARS)


def describe_attachment(att: Attachment) -> str:
    """``[document: report.pdf, 1.2 MB]``, then the bridge's own link when it has one
    (``[photo, 1.2 MB] https://bridge.example/m/…/photo.jpg``); no other URL."""
    words = _describe(att)
    link = one_line(att.link or "")
    return f"{words} {link}" if link else words


def _describe(att: Attachment) -> str:
    """One bracketed line such as ``[document: report.pdf, 1.2 MB]``; never a URL."""
    kind = one_line(att.kind).lower() or "file"
    label = _LABELS.get(kind, _clean(kind.replace("_", " ")))
    detail = _clean(att.detail)
    size = format_size(att.size) if att.size is not None and kind in _SIZED else ""
    if kind in _TIMED and detail.isascii() and detail.isdigit():
        detail = format_duration(int(detail))
    if kind in _PLAIN:
        detail = ""
    if kind in _NAMED:
        file_name = _clean(att.file_name)
        if kind in _TIMED:  # video, animation: the file's name, then its length and size
            name, rest = file_name, (detail, size)
        else:
            name = (file_name or detail) if kind == "document" else (detail or file_name)
            rest = ("", size)
        if name:
            return "[" + label + ": " + ", ".join(p for p in (name, *rest) if p) + "]"
        if kind not in _TIMED:
            return f"[{label}, {size}]" if size else f"[{label}]"
    words = f"{label} {detail}" if detail else label
    return f"[{words}, {size}]" if size else f"[{words}]"
