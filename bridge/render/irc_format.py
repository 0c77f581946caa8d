"""IRC side of the render layer: parse and emit mIRC formatting, sanitize, anti-highlight.

Splitting to the wire limit is in irc_split.py, the control codes in irc_codes.py.

Formats chosen here (the router relies on them):
- spoiler: ``||`` + black-on-black colour + text + colour reset + ``||`` (plain: ``||text||``);
- link: ``text (url)`` unless the url is the visible text;
- reply: ``[re Alice: "first words…"] `` before the text; edit: ``[edit] `` before that;
- forward: ``[fwd from Carol] `` after the edit mark (the sender passes on Carol's words).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from typing import Final, Literal

from bridge.casemap import irc_casefold
from bridge.display_names import clean_name
from bridge.model import Attachment, ReplyRef, Span, SpanKind
from bridge.render.irc_codes import (
    BOLD,
    ITALIC,
    MONO,
    RESET,
    STRIKE,
    TOGGLE_ORDER,
    UNDERLINE,
)
from bridge.render.media import describe_attachment
from bridge.render.text import (
    IRC_CODE_RE,
    LINE_BREAK_RE,
    clip_spans,
    cluster_end,
    one_line,
    strip_controls,
    truncate_words,
)

SPOILER_ON: Final = "||\x0301,01"
SPOILER_OFF: Final = "\x03||"
EDIT_PREFIX: Final = "[edit] "
ZWSP: Final = "\u200b"
MAX_FORWARD_NAME: Final = 64
"""A forward's origin may be a long chat title (and signature); the text matters more."""

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
        for code in TOGGLE_ORDER:
            if code in cur and code not in want and formatting:
                out.append(code)
        for sp in spans:
            if sp.kind is SpanKind.LINK and sp.end == p:
                out.append(_link_suffix(text[sp.start : sp.end], sp.url))
        if spoiler and not want_spoiler:
            out.append(SPOILER_OFF if formatting else "||")
        if want_spoiler and not spoiler:
            out.append(SPOILER_ON if formatting else "||")
        for code in TOGGLE_ORDER:
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


def anti_highlight(
    name: str,
    folded_nicks: AbstractSet[str],
    mode: Literal["auto", "always", "never"],
    fold: Callable[[str], str] = irc_casefold,
) -> str:
    """Insert U+200B into a relayed name so IRC users with that nick are not pinged by every line.

    "never": unchanged. "auto": after the first character of every whole-word occurrence of a
    channel nick in the name (IRC case-folded, word = not next to a letter/digit). "always":
    like auto, plus after the first character of the name. A one-character match gets the
    space after it (cannot be split). folded_nicks: the channel's nicks, already
    IRC-case-folded (ChannelState keeps them so; folding hundreds for each message cost ms)
    by fold, the server's case rule, which folds the name too.
    """
    if mode == "never" or not name:
        return name
    folded = fold(name)
    cuts: set[int] = set()
    if mode == "always":
        cuts.add(cluster_end(name, 0))
    for at, end in _whole_word_matches(folded, folded_nicks):
        cuts.add(min(cluster_end(name, at), end))
    out = name
    for cut in sorted(cuts, reverse=True):
        out = out[:cut] + ZWSP + out[cut:]
    return out


def _whole_word_matches(folded: str, nicks: AbstractSet[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of every nick found in folded as a whole word. Whichever is fewer is
    tried: each nick of the channel, or each stretch of the name between word boundaries
    (looked up in the set), so a channel of thousands costs no more than its name."""
    starts = [i for i in range(len(folded)) if i == 0 or not folded[i - 1].isalnum()]
    ends = [j for j in range(1, len(folded) + 1) if j == len(folded) or not folded[j].isalnum()]
    if len(starts) * len(ends) < len(nicks):
        for at in starts:
            for end in ends:
                if end > at and folded[at:end] in nicks:
                    yield at, end
        return
    for nick in nicks:
        at = folded.find(nick) if nick else -1
        while at >= 0:
            end = at + len(nick)
            if (at == 0 or not folded[at - 1].isalnum()) and (
                end == len(folded) or not folded[end].isalnum()
            ):
                yield at, end
            at = folded.find(nick, at + 1)


def _plain_line(text: str) -> str:
    """One trimmed line of visible text: breaks become spaces, IRC codes and controls go."""
    return one_line(parse_irc_formatting(LINE_BREAK_RE.sub(" ", text))[0])


def format_reply_prefix(
    reply: ReplyRef, max_quote_chars: int = 50, shield: Callable[[str], str] | None = None
) -> str:
    """``[re Alice: "quote…"] `` (or ``[re Alice] `` without text) shown before an IRC reply.

    shield (the anti-highlight) goes over the quote and over a Telegram author's name, which
    nobody meant to ping; the nick of an IRC author (a reply to the bridge's own message,
    named as recorded) stays whole: the reply is meant for them."""
    name = clean_name(_plain_line(reply.author_name)) or "?"
    quote = _plain_line(reply.text)
    if shield is not None and not reply.by_bridge:
        name = shield(name)
    if not quote:
        return f"[re {name}] "
    quote = truncate_words(quote, max_quote_chars)
    return f'[re {name}: "{quote if shield is None else shield(quote)}"] '


def format_forward_prefix(origin: str) -> str:
    """``[fwd from Carol] `` shown before a forwarded message: who wrote it first."""
    name = truncate_words(clean_name(_plain_line(origin)), MAX_FORWARD_NAME) or "?"
    return f"[fwd from {name}] "


def message_to_irc_lines(
    text: str,
    spans: Sequence[Span] = (),
    *,
    attachments: Sequence[Attachment] = (),
    reply: ReplyRef | None = None,
    shield: Callable[[str], str] | None = None,
    is_edit: bool = False,
    forwarded_from: str | None = None,
    formatting: bool = True,
) -> list[str]:
    """All IRC lines for one Telegram message (without the name prefix), ready to split.

    The first line starts with ``[edit] ``, then the forward and reply prefixes, then
    attachment descriptions; a message with none of these and no text gives [].
    """
    head = EDIT_PREFIX if is_edit else ""
    head += format_forward_prefix(forwarded_from) if forwarded_from is not None else ""
    head += format_reply_prefix(reply, shield=shield) if reply else ""
    head += "".join(describe_attachment(att) + " " for att in attachments)
    lines = render_lines(text, spans, formatting=formatting)
    if lines:
        lines[0] = head + lines[0]
    elif head.strip():
        lines = [head.rstrip()]
    return lines
