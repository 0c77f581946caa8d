"""IRC side of the render layer: parse and emit mIRC formatting, sanitize, split, anti-highlight.

Formats chosen here (the router relies on them):
- spoiler: ``||`` + black-on-black colour + text + colour reset + ``||`` (plain: ``||text||``);
- link: ``text (url)`` unless the url is the visible text;
- reply: ``[re Alice: "first words…"] `` before the text; edit: ``[edit] `` before that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final, Literal

from bridge.casemap import irc_casefold
from bridge.model import Attachment, ReplyRef, Span, SpanKind
from bridge.render.media import describe_attachment
from bridge.render.text import (
    IRC_CODE_RE,
    LINE_BREAK_RE,
    clip_spans,
    cluster_end,
    iter_clusters,
    one_line,
    strip_controls,
    truncate_words,
    utf8_len,
)

BOLD: Final = "\x02"
ITALIC: Final = "\x1d"
UNDERLINE: Final = "\x1f"
STRIKE: Final = "\x1e"
MONO: Final = "\x11"
COLOR: Final = "\x03"
HEX_COLOR: Final = "\x04"
REVERSE: Final = "\x16"
RESET: Final = "\x0f"

SPOILER_ON: Final = "||\x0301,01"
SPOILER_OFF: Final = "\x03||"
EDIT_PREFIX: Final = "[edit] "
ZWSP: Final = "\u200b"

_TOGGLE_KINDS: Final = {
    BOLD: SpanKind.BOLD,
    ITALIC: SpanKind.ITALIC,
    UNDERLINE: SpanKind.UNDERLINE,
    STRIKE: SpanKind.STRIKE,
    MONO: SpanKind.CODE,
}
_STYLE_CODES: Final = {
    SpanKind.BOLD: BOLD,
    SpanKind.ITALIC: ITALIC,
    SpanKind.UNDERLINE: UNDERLINE,
    SpanKind.STRIKE: STRIKE,
    SpanKind.CODE: MONO,
    SpanKind.PRE: MONO,
}
_TOGGLE_ORDER: Final = (BOLD, ITALIC, UNDERLINE, STRIKE, MONO, REVERSE)
_COLOR_RE: Final = re.compile(r"\x03(\d{1,2})?(?:,(\d{1,2}))?")
_HEX_RE: Final = re.compile(r"\x04([0-9A-Fa-f]{6})?(?:,([0-9A-Fa-f]{6}))?")


def parse_irc_formatting(text: str) -> tuple[str, tuple[Span, ...]]:
    """Turn an IRC line into plain text plus spans so Telegram can show its bold/italic/etc."""
    out: list[str] = []
    pos = 0
    opened: dict[SpanKind, int] = {}
    spans: list[Span] = []

    def close(kind: SpanKind) -> None:
        """End an open span at pos, merged into a same-kind span that ends where it starts."""
        start = opened.pop(kind)
        if start >= pos:
            return
        prev = next((i for i, sp in enumerate(spans) if sp.kind is kind and sp.end == start), None)
        if prev is None:
            spans.append(Span(kind, start, pos))
        else:
            spans[prev] = Span(kind, spans[prev].start, pos)

    last = 0
    for m in IRC_CODE_RE.finditer(text):
        plain = text[last : m.start()]
        out.append(plain)
        pos += len(plain)
        last = m.end()
        code = m.group()
        kind = _TOGGLE_KINDS.get(code)
        if kind is not None:
            if kind in opened:
                close(kind)
            else:
                opened[kind] = pos
        elif code == RESET:
            for k in list(opened):
                close(k)
        elif code == "\t":
            out.append(" ")
            pos += 1
    out.append(text[last:])
    pos += len(text) - last
    for k in list(opened):
        close(k)
    spans.sort(key=lambda sp: (sp.start, -sp.end, sp.kind))
    return "".join(out), tuple(spans)


def _link_suffix(visible: str, url: str | None) -> str:
    """The ' (url)' shown after a link, empty when the url adds nothing to the visible text."""
    if not url:
        return ""
    url = one_line(url)
    base = visible.strip().rstrip("/")
    if url.rstrip("/") in (base, f"http://{base}", f"https://{base}", f"mailto:{base}"):
        return ""
    return f" ({url})" if url else ""


def spans_to_irc(text: str, spans: Sequence[Span], *, formatting: bool = True) -> str:
    """Render one line with spans as mIRC codes; controls in text are dropped, breaks become spaces.

    All codes are closed at the end so the result can be concatenated safely. With
    formatting=False only the readable parts remain (``||spoiler||``, ``text (url)``).
    """
    text, spans = strip_controls(text, spans, breaks_to_space=True)
    n = len(text)
    bounds = sorted({0, n} | {sp.start for sp in spans} | {sp.end for sp in spans})
    out: list[str] = []
    cur: set[str] = set()
    spoiler = False
    for idx, p in enumerate(bounds):
        covering = [sp for sp in spans if sp.start <= p < sp.end]
        want = {_STYLE_CODES[sp.kind] for sp in covering if sp.kind in _STYLE_CODES}
        want_spoiler = any(sp.kind is SpanKind.SPOILER for sp in covering)
        for code in _TOGGLE_ORDER:
            if code in cur and code not in want and formatting:
                out.append(code)
        for sp in spans:
            if sp.kind is SpanKind.LINK and sp.end == p:
                out.append(_link_suffix(text[sp.start : sp.end], sp.url))
        if spoiler and not want_spoiler:
            out.append(SPOILER_OFF if formatting else "||")
        if want_spoiler and not spoiler:
            out.append(SPOILER_ON if formatting else "||")
        for code in _TOGGLE_ORDER:
            if code in want and code not in cur and formatting:
                out.append(code)
        cur, spoiler = want, want_spoiler
        if idx + 1 < len(bounds):
            out.append(text[p : bounds[idx + 1]])
    return "".join(out)


def render_lines(text: str, spans: Sequence[Span] = (), *, formatting: bool = True) -> list[str]:
    """Turn a Telegram text with spans into IRC lines: one per non-blank line, spans re-opened."""
    lines: list[str] = []
    start = 0
    ends = [(m.start(), m.end()) for m in LINE_BREAK_RE.finditer(text)] + [(len(text), len(text))]
    for brk_start, brk_end in ends:
        clean, moved = strip_controls(text[start:brk_start], clip_spans(spans, start, brk_start))
        start = brk_end
        if clean.strip():
            lines.append(spans_to_irc(clean, moved, formatting=formatting))
    return lines


def sanitize_for_irc(text: str) -> list[str]:
    """Split user text into safe IRC lines: no CR/LF/NUL or other controls, blank lines dropped."""
    return render_lines(text, (), formatting=False)


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
        if code in _TOGGLE_ORDER:
            self.toggles ^= {code}
        elif code == RESET:
            self.reset()
        elif code[0] == COLOR:
            m = _COLOR_RE.fullmatch(code)
            fg, bg = (m.group(1), m.group(2)) if m else (None, None)
            if fg is None:
                self.color = ""
            else:
                old_bg = self.color.partition(",")[2]
                bg = bg.zfill(2) if bg else old_bg
                self.color = COLOR + fg.zfill(2) + (f",{bg}" if bg else "")
        elif code[0] == HEX_COLOR:
            h = _HEX_RE.fullmatch(code)
            if h is None or h.group(1) is None:
                self.hex_color = ""
            else:
                old_bg = self.hex_color.partition(",")[2]
                bg = h.group(2) or old_bg
                self.hex_color = HEX_COLOR + h.group(1) + (f",{bg}" if bg else "")

    def reopen(self) -> str:
        """Codes that recreate this state at the start of a fresh line (colours first)."""
        return self.color + self.hex_color + "".join(c for c in _TOGGLE_ORDER if c in self.toggles)


def _tokenize(payload: str, max_bytes: int) -> tuple[list[tuple[str, str, str]], str]:
    """Cut a payload into (codes before, state to re-open, visible cluster) and trailing codes."""
    items: list[tuple[str, str, str]] = []
    state = _CodeState()
    pending: list[str] = []
    last = 0

    def add_text(chunk: str) -> None:
        """Queue visible text as clusters (code points when one cluster alone is too big)."""
        for cluster in iter_clusters(chunk):
            units = [cluster] if utf8_len(cluster) < max_bytes else list(cluster)
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
    if reopen and reopen[-1] not in _TOGGLE_ORDER and unit.startswith(","):
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


def anti_highlight(
    name: str, nicks_in_channel: Iterable[str], mode: Literal["auto", "always", "never"]
) -> str:
    """Insert U+200B into a relayed name so IRC users with that nick are not pinged by every line.

    "never": unchanged. "auto": after the first character of every whole-word occurrence of a
    channel nick in the name (IRC case-folded, word = not next to a letter/digit). "always":
    like auto, plus after the first character of the name. A one-character match gets the
    space after it (cannot be split).
    """
    if mode == "never" or not name:
        return name
    folded = irc_casefold(name)
    cuts: set[int] = set()
    if mode == "always":
        cuts.add(cluster_end(name, 0))
    for nick in {irc_casefold(n) for n in nicks_in_channel if n}:
        at = folded.find(nick)
        while at >= 0:
            end = at + len(nick)
            before_ok = at == 0 or not folded[at - 1].isalnum()
            after_ok = end == len(folded) or not folded[end].isalnum()
            if before_ok and after_ok:
                cuts.add(min(cluster_end(name, at), end))
            at = folded.find(nick, at + 1)
    out = name
    for cut in sorted(cuts, reverse=True):
        out = out[:cut] + ZWSP + out[cut:]
    return out


def _plain_line(text: str) -> str:
    """One trimmed line of visible text: breaks become spaces, IRC codes and controls go."""
    return one_line(parse_irc_formatting(LINE_BREAK_RE.sub(" ", text))[0])


def format_reply_prefix(reply: ReplyRef, max_quote_chars: int = 50) -> str:
    """``[re Alice: "quote…"] `` (or ``[re Alice] `` without text) shown before an IRC reply."""
    name = _plain_line(reply.author_name) or "?"
    quote = _plain_line(reply.text)
    if not quote:
        return f"[re {name}] "
    return f'[re {name}: "{truncate_words(quote, max_quote_chars)}"] '


def message_to_irc_lines(
    text: str,
    spans: Sequence[Span] = (),
    *,
    attachments: Sequence[Attachment] = (),
    reply: ReplyRef | None = None,
    is_edit: bool = False,
    formatting: bool = True,
) -> list[str]:
    """All IRC lines for one Telegram message (without the name prefix), ready to split.

    The first line starts with ``[edit] ``, then the reply prefix, then attachment
    descriptions; a message with none of these and no text gives [].
    """
    head = (EDIT_PREFIX if is_edit else "") + (format_reply_prefix(reply) if reply else "")
    head += "".join(describe_attachment(att) + " " for att in attachments)
    lines = render_lines(text, spans, formatting=formatting)
    if lines:
        lines[0] = head + lines[0]
    elif head.strip():
        lines = [head.rstrip()]
    return lines
