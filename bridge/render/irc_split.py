"""Cutting IRC payloads to the wire limit in bytes, formatting kept across the cuts.

A server relays `:nick!user@host PRIVMSG #chan :payload` to others and truncates beyond its
line length, so every payload is sized here, counting the relay prefix, before it is queued.
"""

from __future__ import annotations

from bridge.render.irc_codes import (
    BOLD,
    COLOR,
    COLOR_RE,
    HEX_COLOR,
    HEX_RE,
    RESET,
    TOGGLE_ORDER,
)
from bridge.render.text import IRC_CODE_RE, iter_clusters, utf8_len


class _CodeState:
    """Formatting active at a point of an IRC line, so a split can re-open it in the next chunk."""

    def __init__(self) -> None:
        """Start with nothing active, as at the beginning of every IRC line."""
        self.toggles: set[str] = set()
        self.color = ""
        self.hex_color = ""

    def reset(self) -> None:
        """Forget all formatting, as ^O does."""
        self.toggles = set()
        self.color = self.hex_color = ""

    def apply(self, code: str) -> None:
        """Update the state with one control sequence as returned by IRC_CODE_RE."""
        if code in TOGGLE_ORDER:
            self.toggles ^= {code}
        elif code == RESET:
            self.reset()
        elif code[0] == COLOR:
            m = COLOR_RE.fullmatch(code)
            fg, bg = (m.group(1), m.group(2)) if m else (None, None)
            if fg is None:
                self.color = ""
            else:
                old_bg = self.color.partition(",")[2]
                bg = bg.zfill(2) if bg else old_bg
                self.color = COLOR + fg.zfill(2) + (f",{bg}" if bg else "")
        elif code[0] == HEX_COLOR:
            h = HEX_RE.fullmatch(code)
            if h is None or h.group(1) is None:
                self.hex_color = ""
            else:
                old_bg = self.hex_color.partition(",")[2]
                bg = h.group(2) or old_bg
                self.hex_color = HEX_COLOR + h.group(1) + (f",{bg}" if bg else "")

    def reopen(self) -> str:
        """Codes that recreate this state at the start of a fresh line (colours first)."""
        return self.color + self.hex_color + "".join(c for c in TOGGLE_ORDER if c in self.toggles)


def _tokenize(payload: str, max_bytes: int) -> tuple[list[tuple[str, str, str]], str]:
    """Cut a payload into (codes before, state to re-open, visible cluster) and trailing codes."""
    items: list[tuple[str, str, str]] = []
    state = _CodeState()
    pending: list[str] = []
    last = 0

    def add_text(chunk: str) -> None:
        """Queue visible text as clusters (code points when one cluster alone is too big)."""
        for cluster in iter_clusters(chunk):
            units = [cluster] if utf8_len(cluster) <= max_bytes else list(cluster)
            for unit in units:
                items.append(("".join(pending), state.reopen(), unit))
                pending.clear()

    for m in IRC_CODE_RE.finditer(payload):
        add_text(payload[last : m.start()])
        last = m.end()
        pending.append(m.group())
        state.apply(m.group())
    add_text(payload[last:])
    return items, "".join(pending)


def _start_piece(codes: str, reopen: str, unit: str, max_bytes: int, *, first: bool) -> str:
    """The first piece of a chunk: original codes, else re-opened state, else the bare text.

    When codes were dropped at the cut, a ^O (no-op on a fresh line) still separates the
    text from the previous chunk, so joined chunks never merge digits into a colour code.
    """
    if reopen and reopen[-1] not in TOGGLE_ORDER and unit.startswith(","):
        reopen += BOLD + BOLD  # keep "," from being read as a background colour
    candidates = [codes + unit] if first else []
    candidates += [reopen + unit] if reopen else []
    candidates += [RESET + unit] if codes and not first else []
    return next((c for c in candidates if utf8_len(c) <= max_bytes), unit)


def split_irc_payload(payload: str, max_bytes: int) -> list[str]:
    """Cut one line into chunks of at most max_bytes UTF-8 bytes that still read well on IRC.

    Cuts fall after the last whitespace that fits (the space ends the earlier chunk), else
    between grapheme clusters; never inside a UTF-8 character or a colour code. Formatting
    active at a cut is re-opened at the start of the next chunk (dropped only when even that
    does not fit; a ^O starts the chunk when codes were dropped at the cut). Plain text:
    ``"".join(chunks) == payload``. No chunk is empty; a payload without visible text
    gives []. Raises ValueError when max_bytes < 4.
    """
    if max_bytes < 4:
        raise ValueError("max_bytes must be at least 4 (one UTF-8 character)")
    if utf8_len(payload) <= max_bytes:  # the common case, without the per-character walk
        return [payload] if IRC_CODE_RE.sub("", payload) else []
    return _split_tokens(payload, max_bytes)


def _split_tokens(payload: str, max_bytes: int) -> list[str]:
    """split_irc_payload for a payload that does not fit: walk it cluster by cluster."""
    items, trailing = _tokenize(payload, max_bytes)
    chunks: list[str] = []
    i = 0
    while i < len(items):
        parts: list[str] = []
        used = 0
        brk = -1
        j = i
        while j < len(items):
            codes, reopen, unit = items[j]
            if j == i:
                piece = _start_piece(codes, reopen, unit, max_bytes, first=not chunks)
            else:
                piece = codes + unit
            size = utf8_len(piece)
            if used + size > max_bytes:
                break
            parts.append(piece)
            used += size
            j += 1
            if unit.isspace():
                brk = j
        cut = brk if j < len(items) and brk > i else j
        chunks.append("".join(parts[: cut - i]))
        i = cut
    if chunks and utf8_len(chunks[-1] + trailing) <= max_bytes:
        chunks[-1] += trailing
    return chunks


def irc_line_budget(
    prefix_mask: str, target: str, linelen: int = 512, *, action: bool = False
) -> int:
    """Payload bytes left so ``:{mask} PRIVMSG {target} :{payload}\\r\\n`` fits in linelen."""
    overhead = utf8_len(f":{prefix_mask} PRIVMSG {target} :\r\n")
    if action:
        overhead += utf8_len("\x01ACTION \x01")
    return max(0, linelen - overhead)


def format_relay_lines(name_prefix: str, lines: list[str], max_payload_bytes: int) -> list[str]:
    """Split every line so that name_prefix + chunk fits max_payload_bytes; each chunk is prefixed.

    A prefix longer than half the budget is cut down to half (keeps room for text).
    Raises ValueError when max_payload_bytes < 8.
    """
    if max_payload_bytes < 8:
        raise ValueError("max_payload_bytes must be at least 8")
    half = max_payload_bytes // 2
    if utf8_len(name_prefix) > half:
        name_prefix = split_irc_payload(name_prefix, half)[0]
    budget = max_payload_bytes - utf8_len(name_prefix)
    return [name_prefix + chunk for line in lines for chunk in split_irc_payload(line, budget)]
