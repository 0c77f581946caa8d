"""Telegram side of the render layer: entities to spans, spans to HTML, lengths and splitting.

Telegram counts offsets and its 4096 message limit in UTF-16 code units of the visible text
(after HTML parsing), so every length here is measured that way.
"""

from __future__ import annotations

import html
import itertools
import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from bridge.display_names import CONTROLS
from bridge.model import Span, SpanKind
from bridge.render.text import (
    LINE_BREAK_RE,
    cut_back_to_cluster,
    last_cluster_boundary,
    utf16_len,
)

TELEGRAM_LIMIT: Final = 4096

_ENTITY_KINDS: Final = {
    "bold": SpanKind.BOLD,
    "italic": SpanKind.ITALIC,
    "underline": SpanKind.UNDERLINE,
    "strikethrough": SpanKind.STRIKE,
    "code": SpanKind.CODE,
    "pre": SpanKind.PRE,
    "text_link": SpanKind.LINK,
    "url": SpanKind.LINK,
    "spoiler": SpanKind.SPOILER,
}
_TAGS: Final = {
    SpanKind.BOLD: "b",
    SpanKind.ITALIC: "i",
    SpanKind.UNDERLINE: "u",
    SpanKind.STRIKE: "s",
    SpanKind.CODE: "code",
    SpanKind.PRE: "pre",
    SpanKind.SPOILER: "tg-spoiler",
    SpanKind.LINK: "a",
}
_NESTING: Final = (
    SpanKind.LINK,
    SpanKind.SPOILER,
    SpanKind.BOLD,
    SpanKind.ITALIC,
    SpanKind.UNDERLINE,
    SpanKind.STRIKE,
)
"""Kinds that may nest, outermost first when two start and end together."""
_RUN_ORDER: Final = (SpanKind.PRE, SpanKind.CODE, *_NESTING)
"""The order _runs lists its runs in (spans_to_html's tie-breaks keep it)."""
_SAFE_SCHEMES: Final = frozenset({"http", "https", "tg", "mailto"})
_TAG_RE: Final = re.compile(r"<[^>]*>")
_BAD_URL_CHARS: Final = re.compile(rf"[\s{CONTROLS}]")


def entities_to_spans(
    text: str, entities: Sequence[tuple[str, int, int, str | None]]
) -> tuple[Span, ...]:
    """Convert Telegram entities (type, UTF-16 offset, UTF-16 length, url) to code-point spans.

    Unknown types, text_mention and empty results are dropped; "url" becomes a LINK whose url
    is its own text. Offsets inside a surrogate pair round outwards.
    """
    bounds = [0]
    for ch in text:
        bounds.append(bounds[-1] + (2 if ord(ch) > 0xFFFF else 1))
    total = bounds[-1]

    def to_index(offset: int, round_up: bool) -> int:
        """Code-point index of a UTF-16 offset, rounding out of a surrogate pair."""
        offset = min(max(offset, 0), total)
        i = bisect_left(bounds, offset)
        return i if bounds[i] == offset or round_up else i - 1

    spans: list[Span] = []
    for etype, offset, length, url in entities:
        kind = _ENTITY_KINDS.get(etype)
        if kind is None:
            continue
        start, end = to_index(offset, False), to_index(offset + length, True)
        if start >= end:
            continue
        if etype == "url":
            url = text[start:end]
        elif kind is SpanKind.LINK and not url:
            continue
        spans.append(Span(kind, start, end, url if kind is SpanKind.LINK else None))
    return tuple(spans)


def safe_href(url: str | None) -> bool:
    """True when a link target may go into href: http(s)/tg/mailto, no spaces or controls."""
    if not url or _BAD_URL_CHARS.search(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme.lower() not in _SAFE_SCHEMES:
        return False
    return bool(parts.netloc) or parts.scheme.lower() not in ("http", "https")


@dataclass(frozen=True, slots=True)
class _Run:
    """A maximal stretch of one attribute: what spans_to_html opens and closes as one tag."""

    kind: SpanKind
    start: int
    end: int
    url: str | None = None


def _runs(text: str, spans: Sequence[Span]) -> list[_Run]:
    """Per-character attributes made into runs Telegram accepts: code/pre contain nothing else,
    links do not overlap (the first wins), links with unsafe schemes are dropped.

    Worked out per segment between span edges, not per character: every line relayed to
    Telegram passes here, and a loop over its characters cost 0.3 ms for one IRC line."""
    n = len(text)
    clipped = [(sp, max(sp.start, 0), min(sp.end, n)) for sp in spans]
    clipped = [(sp, lo, hi) for sp, lo, hi in clipped if lo < hi]
    edges = sorted({0, n, *(lo for _, lo, _ in clipped), *(hi for _, _, hi in clipped)})
    # per kind, the value of each segment: "" for a flag, the URL for a link, None for none
    values: dict[SpanKind, list[str | None]] = {kind: [] for kind in _RUN_ORDER}
    for a, b in itertools.pairwise(edges):
        covering = [sp for sp, lo, hi in clipped if lo <= a and b <= hi]
        kinds = {sp.kind for sp in covering}
        mono = (
            SpanKind.PRE
            if SpanKind.PRE in kinds
            else SpanKind.CODE
            if SpanKind.CODE in kinds
            else None
        )
        link = None
        if mono is None:
            link = next(
                (sp.url for sp in covering if sp.kind is SpanKind.LINK and safe_href(sp.url)), None
            )
        values[SpanKind.PRE].append("" if mono is SpanKind.PRE else None)
        values[SpanKind.CODE].append("" if mono is SpanKind.CODE else None)
        values[SpanKind.LINK].append(link)
        for kind in _NESTING[1:]:
            values[kind].append("" if mono is None and kind in kinds else None)
    runs: list[_Run] = []
    for kind in _RUN_ORDER:
        seen = values[kind]
        i = 0
        while i < len(seen):  # one run per maximal stretch of equal values
            if seen[i] is None:
                i += 1
                continue
            j = i + 1
            while j < len(seen) and seen[j] == seen[i]:
                j += 1
            runs.append(_Run(kind, edges[i], edges[j], seen[i] if kind is SpanKind.LINK else None))
            i = j
    return runs


def _open_tag(run: _Run) -> str:
    """The opening HTML tag of a run, with an escaped href for links."""
    if run.kind is SpanKind.LINK:
        return f'<a href="{html.escape(run.url or "", quote=True)}">'
    return f"<{_TAGS[run.kind]}>"


def spans_to_html(text: str, spans: Sequence[Span]) -> str:
    """Render text with spans as Telegram HTML, escaping all user text and nesting tags properly.

    Overlapping spans are split so tags nest; formatting inside code/pre is dropped (Telegram
    refuses it); links with other than http(s)/tg/mailto targets are shown as plain text.
    """
    runs = _runs(text, spans)
    bounds = sorted({0, len(text)} | {r.start for r in runs} | {r.end for r in runs})
    order = {kind: i for i, kind in enumerate(_NESTING)}
    out: list[str] = []
    stack: list[_Run] = []
    for idx, p in enumerate(bounds):
        closing = {id(r) for r in stack if r.end == p}
        reopen: list[_Run] = []
        while closing:
            top = stack.pop()
            out.append(f"</{_TAGS[top.kind]}>")
            if id(top) in closing:
                closing.discard(id(top))
            else:
                reopen.append(top)
        starting = reopen + [r for r in runs if r.start == p]
        starting.sort(key=lambda r: (-r.end, order.get(r.kind, len(order))))
        for r in starting:
            out.append(_open_tag(r))
            stack.append(r)
        if idx + 1 < len(bounds):
            out.append(html.escape(text[p : bounds[idx + 1]], quote=False))
    out.extend(f"</{_TAGS[r.kind]}>" for r in reversed(stack))
    return "".join(out)


def irc_to_telegram_html(nick: str, text: str, spans: Sequence[Span], *, action: bool) -> str:
    """An IRC line as Telegram shows it: ``<b>nick</b>: text``; /me gives ``<i>* nick text</i>``."""
    if action:
        head = f"* {nick} "
        extra = [Span(SpanKind.ITALIC, 0, len(head) + len(text))]
    else:
        head = f"{nick}: "
        extra = [Span(SpanKind.BOLD, 0, len(nick))]
    shifted = [Span(sp.kind, sp.start + len(head), sp.end + len(head), sp.url) for sp in spans]
    return spans_to_html(head + text, extra + shifted)


def irc_to_telegram_parts(
    nick: str, text: str, spans: Sequence[Span], *, action: bool, limit: int = TELEGRAM_LIMIT
) -> list[tuple[str, str]]:
    """An IRC line as Telegram messages of at most limit visible characters, each naming
    nick (a server with a large LINELEN sends lines longer than Telegram takes):
    (html, the part of text it shows) pairs, in order."""
    head = utf16_len(f"* {nick} " if action else f"{nick}: ")
    parts = []
    start = 0
    for chunk in split_plain_text(text, max(limit - head, 2)):
        end = start + len(chunk)
        inside = [
            Span(sp.kind, max(sp.start, start) - start, min(sp.end, end) - start, sp.url)
            for sp in spans
            if sp.start < end and sp.end > start
        ]
        parts.append((irc_to_telegram_html(nick, chunk, inside, action=action), chunk))
        start = end
    return parts


def split_plain_text(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Cut plain text (before escaping) into chunks of at most limit UTF-16 units.

    Cuts go after the last line break that fits, else after the last whitespace, else at a
    grapheme boundary; separators stay at the end of the earlier chunk, so
    ``"".join(chunks) == text``. Empty text gives []. Raises ValueError when limit < 2.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2 UTF-16 units")
    if len(text) * 2 <= limit or utf16_len(text) <= limit:  # nearly always: no loop
        return [text] if text else []
    chunks: list[str] = []
    start = 0
    n = len(text)
    while start < n:
        end = start
        used = 0
        while end < n:
            w = 2 if ord(text[end]) > 0xFFFF else 1
            if used + w > limit:
                break
            used += w
            end += 1
        if end < n:
            window = text[start:end]
            breaks = [
                m.end()
                for m in LINE_BREAK_RE.finditer(window)
                if not (m.group() == "\r" and text[start + m.end() : start + m.end() + 1] == "\n")
            ]
            space = max(
                (
                    i
                    for i, ch in enumerate(window)
                    if ch.isspace() and text[start + i : start + i + 2] != "\r\n"
                ),
                default=-1,
            )
            if breaks:
                end = start + breaks[-1]
            elif space >= 0 and (at := last_cluster_boundary(text, start, start + space + 1)):
                end = at  # after the space, or before it when a mark joins the next character
            else:
                end = cut_back_to_cluster(text, start, end)
        chunks.append(text[start:end])
        start = end
    return chunks


def visible_length(html_text: str) -> int:
    """UTF-16 length of what Telegram displays for an HTML message (tags stripped, unescaped)."""
    return utf16_len(html.unescape(_TAG_RE.sub("", html_text)))
