"""mIRC control codes: the bytes IRC clients read as bold, italic, colours, reset."""

from __future__ import annotations

import re
from typing import Final

BOLD: Final = "\x02"
ITALIC: Final = "\x1d"
UNDERLINE: Final = "\x1f"
STRIKE: Final = "\x1e"
MONO: Final = "\x11"
COLOR: Final = "\x03"
HEX_COLOR: Final = "\x04"
REVERSE: Final = "\x16"
RESET: Final = "\x0f"
TOGGLE_ORDER: Final = (BOLD, ITALIC, UNDERLINE, STRIKE, MONO, REVERSE)
COLOR_RE: Final = re.compile(r"\x03(\d{1,2})?(?:,(\d{1,2}))?")
HEX_RE: Final = re.compile(r"\x04([0-9A-Fa-f]{6})?(?:,([0-9A-Fa-f]{6}))?")
