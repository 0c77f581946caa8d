"""Text helpers shared by the renderers: UTF-16 lengths, grapheme cuts, control stripping, spans.

Pure functions over ``str`` and ``bridge.model`` types; no network library is imported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import regex

from bridge.display_names import CONTROLS, is_control
from bridge.model import Span

LINE_BREAK_RE = re.compile(r"\r\n|[\n\r\x0b\x0c\x85\u2028\u2029]")
"""Everything a client may show as a new line; CR LF counts as one break."""

IRC_CODE_RE = re.compile(
    r"\x03(?:\d{1,2}(?:,\d{1,2})?)?"
    r"|\x04(?:[0-9A-Fa-f]{6}(?:,[0-9A-Fa-f]{6})?)?"
    f"|[{CONTROLS}]"
)
"""One IRC control sequence (colour codes with their digits) or any other control character."""

ELLIPSIS = "…"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for offsets and its 4096 limit."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def utf8_len(text: str) -> int:
    """Length in UTF-8 bytes, the unit of the IRC 512-byte line limit (lone surrogates count 3)."""
    return len(text.encode("utf-8", "surrogatepass"))


_CONTROL_RE = re.compile(f"[{CONTROLS}]")


_CLUSTER_RE = regex.compile(r"\X")
"""One extended grapheme cluster (UAX #29, as the regex module implements it): Hangul
syllables written in jamo, Indic conjuncts, emoji ZWJ sequences, flags and CR LF stay whole."""
_SIMPLE = "\u0300"
"""Below U+0300 no character joins the next one into a cluster and none is joined to the
previous one (the first extenders, prepends, jamo and regional indicators come later), so
between two such characters there is always a cluster boundary, CR LF excepted."""


def _simple_boundary(text: str, i: int) -> bool:
    """True when i (0 < i < len(text)) is a boundary found without the regex: both
    neighbours below U+0300 and not CR LF. The shortcut that keeps Latin text cheap."""
    before, after = text[i - 1], text[i]
    return before < _SIMPLE and after < _SIMPLE and not (before == "\r" and after == "\n")


def cluster_end(text: str, i: int) -> int:
    """Index just after the grapheme cluster (regex's \\X) starting at i, so cuts keep marks."""
    j = i + 1
    if j >= len(text) or _simple_boundary(text, j):
        return j
    match = _CLUSTER_RE.match(text, i)
    return match.end() if match else j


def iter_clusters(text: str) -> Iterator[str]:
    """Yield grapheme clusters (regex's \\X) so splitters never cut a cluster in two."""
    if text.isascii() and "\r\n" not in text:  # one character each: no regex needed
        return iter(text)
    return (m.group() for m in _CLUSTER_RE.finditer(text))


def last_cluster_boundary(text: str, start: int, cut: int) -> int | None:
    """Largest cluster boundary in (start, cut], counting clusters from start; None if none."""
    if cut > start and (cut >= len(text) or _simple_boundary(text, cut)):
        return cut
    best = None
    for m in _CLUSTER_RE.finditer(text, start):
        if m.end() > cut:
            break
        best = m.end()
    return best


def cut_back_to_cluster(text: str, start: int, cut: int) -> int:
    """Largest cluster boundary in (start, cut]; cut itself when no boundary lies in range."""
    best = last_cluster_boundary(text, start, cut)
    return cut if best is None else best


def clip_spans(spans: Sequence[Span], start: int, end: int) -> list[Span]:
    """Spans cut to text[start:end] and shifted to start at 0, so a slice keeps its formatting."""
    out: list[Span] = []
    for sp in spans:
        s, e = max(sp.start, start), min(sp.end, end)
        if s < e:
            out.append(Span(sp.kind, s - start, e - start, sp.url))
    return out


def strip_controls(
    text: str, spans: Sequence[Span] = (), *, breaks_to_space: bool = False
) -> tuple[str, tuple[Span, ...]]:
    """Drop control characters (tab becomes a space) and move spans so they still fit the text.

    With breaks_to_space, line breaks become one space (CR LF too) instead of vanishing.
    Nearly every message has nothing to change: one regex search tells, before the loop
    over every character (30 µs for a line, paid twice per relayed message).
    """
    if not _CONTROL_RE.search(text) and not (breaks_to_space and LINE_BREAK_RE.search(text)):
        return text, tuple(clip_spans(spans, 0, len(text)))
    return _strip_each(text, spans, breaks_to_space)


def _strip_each(
    text: str, spans: Sequence[Span], breaks_to_space: bool
) -> tuple[str, tuple[Span, ...]]:
    """strip_controls, character by character."""
    n = len(text)
    out: list[str] = []
    pos = [0] * (n + 1)
    k = 0
    for i, ch in enumerate(text):
        pos[i] = k
        keep: str | None = None
        if ch == "\t":
            keep = " "
        elif breaks_to_space and LINE_BREAK_RE.fullmatch(ch):
            if not (ch == "\r" and text[i + 1 : i + 2] == "\n"):
                keep = " "
        elif not is_control(ch):
            keep = ch
        if keep is not None:
            out.append(keep)
            k += 1
    pos[n] = k
    moved = []
    for sp in clip_spans(spans, 0, n):
        s, e = pos[sp.start], pos[sp.end]
        if s < e:
            moved.append(Span(sp.kind, s, e, sp.url))
    return "".join(out), tuple(moved)


def one_line(text: str) -> str:
    """Collapse text to one trimmed line: breaks and runs of whitespace become single spaces."""
    flat, _ = strip_controls(text, breaks_to_space=True)
    return " ".join(flat.split())


def truncate_words(text: str, max_chars: int) -> str:
    """Shorten to at most max_chars code points, at a word boundary when one is near, with '…'."""
    if len(text) <= max_chars:
        return text
    if max_chars < 2:
        return ELLIPSIS[:max_chars]
    cut = cut_back_to_cluster(text, 0, max_chars - 1)
    cut = min(cut, max_chars - 1)
    head = text[:cut]
    space = head.rfind(" ")
    if space >= max_chars // 2:
        head = head[:space]
    return head.rstrip() + ELLIPSIS
