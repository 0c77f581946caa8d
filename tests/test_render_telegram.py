"""Table and property tests for the Telegram renderer: entities, HTML, lengths, splitting."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.model import Span, SpanKind
from bridge.render.telegram_html import (
    _NESTING,
    _Run,
    _runs,
    entities_to_spans,
    irc_to_telegram_html,
    safe_href,
    spans_to_html,
    split_plain_text,
    visible_length,
)
from bridge.render.text import utf16_len
from tests.support.spans import IT, SP, B, C, L, P, S, U

TAG_RE = re.compile(r"<(/?)([a-z-]+)[^>]*>")


def unrender(markup: str) -> str:
    """What Telegram would display for our HTML."""
    return html.unescape(re.sub(r"<[^>]*>", "", markup))


def balanced(markup: str) -> bool:
    """True when every tag is closed in the reverse order it was opened."""
    stack: list[str] = []
    for m in TAG_RE.finditer(markup):
        if m.group(1):
            if not stack or stack.pop() != m.group(2):
                return False
        else:
            stack.append(m.group(2))
    return not stack


def utf16_offset(text: str, index: int) -> int:
    """Reference UTF-16 offset computed by the codec, independent of the code under test."""
    return len(text[:index].encode("utf-16-le")) // 2


@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        ("hello", [("bold", 0, 5, None)], (Span(B, 0, 5),)),
        ("😀 bold", [("bold", 3, 4, None)], (Span(B, 2, 6),)),
        ("a😀b", [("italic", 1, 2, None)], (Span(IT, 1, 2),)),
        ("a😀b", [("italic", 2, 2, None)], (Span(IT, 1, 3),)),
        ("x😀😀y", [("underline", 5, 1, None)], (Span(U, 3, 4),)),
        ("see x.org", [("url", 4, 5, None)], (Span(L, 4, 9, "x.org"),)),
        ("click", [("text_link", 0, 5, "https://a.b")], (Span(L, 0, 5, "https://a.b"),)),
        ("click", [("text_link", 0, 5, None)], ()),
        ("s c p", [("strikethrough", 0, 1, None), ("code", 2, 1, None), ("pre", 4, 1, None)],
         (Span(S, 0, 1), Span(C, 2, 3), Span(P, 4, 5))),
        ("shh", [("spoiler", 0, 3, None)], (Span(SP, 0, 3),)),
        ("@bob #tag /cmd", [("mention", 0, 4, None), ("hashtag", 5, 4, None),
                            ("bot_command", 10, 4, None), ("text_mention", 0, 4, None)], ()),
        ("q", [("blockquote", 0, 1, None), ("custom_emoji", 0, 1, None)], ()),
        ("ab", [("bold", 1, 0, None), ("bold", 5, 3, None)], ()),
    ],
)  # fmt: skip
def test_entities_to_spans(
    text: str, entities: list[tuple[str, int, int, str | None]], expected: tuple[Span, ...]
) -> None:
    assert entities_to_spans(text, entities) == expected


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        ("plain", [], "plain"),
        ("a<b>&c", [], "a&lt;b&gt;&amp;c"),
        ('say "hi"', [], 'say "hi"'),
        ("bold", [Span(B, 0, 4)], "<b>bold</b>"),
        ("abcd", [Span(B, 0, 3), Span(IT, 1, 4)], "<b>a<i>bc</i></b><i>d</i>"),
        ("abc", [Span(IT, 0, 3), Span(B, 1, 2)], "<i>a<b>b</b>c</i>"),
        ("us", [Span(U, 0, 1), Span(S, 1, 2)], "<u>u</u><s>s</s>"),
        ("x=1", [Span(C, 0, 3), Span(B, 0, 3)], "<code>x=1</code>"),
        ("a code b", [Span(B, 0, 8), Span(C, 2, 6)], "<b>a </b><code>code</code><b> b</b>"),
        ("pre", [Span(P, 0, 3), Span(C, 0, 3)], "<pre>pre</pre>"),
        ("shh", [Span(SP, 0, 3)], "<tg-spoiler>shh</tg-spoiler>"),
        ("go", [Span(L, 0, 2, "https://x.org/?a=1&b=\"")],
         '<a href="https://x.org/?a=1&amp;b=&quot;">go</a>'),
        ("go", [Span(L, 0, 2, "javascript:alert(1)")], "go"),
        ("go", [Span(L, 0, 2, "tg://user?id=1")], '<a href="tg://user?id=1">go</a>'),
        ("ab", [Span(L, 0, 2, "http://a"), Span(L, 1, 2, "http://b")],
         '<a href="http://a">ab</a>'),
        ("link", [Span(L, 0, 4, "http://a"), Span(B, 2, 4)], '<a href="http://a">li<b>nk</b></a>'),
        ("xy", [Span(B, 0, 5)], "<b>xy</b>"),
        ("😀<", [Span(B, 1, 2)], "😀<b>&lt;</b>"),
    ],
)  # fmt: skip
def test_spans_to_html(text: str, spans: list[Span], expected: str) -> None:
    assert spans_to_html(text, spans) == expected


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://x.org", True),
        ("HTTP://x.org", True),
        ("mailto:a@b.c", True),
        ("tg://resolve?domain=x", True),
        ("http:/nohost", False),
        ("ftp://x.org", False),
        ("javascript:alert(1)", False),
        ("https://x.org/a b", False),
        ("", False),
        (None, False),
    ],
)
def test_safe_href(url: str | None, ok: bool) -> None:
    assert safe_href(url) is ok


@pytest.mark.parametrize(
    ("nick", "text", "spans", "action", "expected"),
    [
        ("bob", "hi <all>", [], False, "<b>bob</b>: hi &lt;all&gt;"),
        ("bob", "waves", [], True, "<i>* bob waves</i>"),
        ("bob", "is bold", [Span(B, 3, 7)], False, "<b>bob</b>: is <b>bold</b>"),
        ("bob", "runs x", [Span(C, 5, 6)], True, "<i>* bob runs </i><code>x</code>"),
        ("b&b", "x", [Span(IT, 0, 1)], True, "<i>* b&amp;b x</i>"),
    ],
)
def test_irc_to_telegram_html(
    nick: str, text: str, spans: list[Span], action: bool, expected: str
) -> None:
    assert irc_to_telegram_html(nick, text, spans, action=action) == expected


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 4096, ["short"]),
        ("", 10, []),
        ("line one\nline two is longer\nx", 12, ["line one\n", "line two is ", "longer\nx"]),
        ("aaaa bbbb", 6, ["aaaa ", "bbbb"]),
        ("abcdefgh", 3, ["abc", "def", "gh"]),
        ("😀😀😀", 4, ["😀😀", "😀"]),
        ("a😀", 2, ["a", "😀"]),
        ("ab\r\ncd", 3, ["ab", "\r\n", "cd"]),
        ("e\u0301e\u0301e", 3, ["e\u0301", "e\u0301e"]),
    ],
)
def test_split_plain_text(text: str, limit: int, expected: list[str]) -> None:
    assert split_plain_text(text, limit) == expected


def test_split_plain_text_rejects_tiny_limit() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        split_plain_text("abc", 1)


def test_lengths() -> None:
    assert utf16_len("a😀") == 3
    assert visible_length("<b>a&lt;</b>😀 &amp;") == 6
    assert visible_length('<a href="http://x">go</a>') == 2


# --- properties -------------------------------------------------------------------------

EMOJI_TEXT = st.lists(
    st.sampled_from(["a", " ", "\n", "\r\n", "<", "&", ">", '"', "é", "😀", "👍🏽", "\u0301", "ß"])
    | st.characters(exclude_categories=["Cs"]),
    max_size=120,
).map("".join)


@st.composite
def text_with_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    """Random emoji-rich text with random spans, including unsafe link targets."""
    text = draw(EMOJI_TEXT)
    spans = []
    for _ in range(draw(st.integers(0, 6))):
        a = draw(st.integers(0, len(text)))
        b = draw(st.integers(a, len(text)))
        kind = draw(st.sampled_from(list(SpanKind)))
        url = draw(st.sampled_from(["http://a/?x=<&>", "javascript:x", "tg://u"]))
        spans.append(Span(kind, a, b, url if kind is SpanKind.LINK else None))
    return text, spans


@settings(deadline=None, max_examples=300)
@given(text_with_spans())
def test_html_round_trips_and_balances(case: tuple[str, list[Span]]) -> None:
    text, spans = case
    markup = spans_to_html(text, spans)
    assert unrender(markup) == text
    assert balanced(markup)
    assert visible_length(markup) == utf16_len(text)


@settings(deadline=None, max_examples=300)
@given(text_with_spans())
def test_entities_round_trip_utf16(case: tuple[str, list[Span]]) -> None:
    text, spans = case
    kinds = {B: "bold", IT: "italic", U: "underline", S: "strikethrough", C: "code", P: "pre"}
    kinds |= {SP: "spoiler", L: "text_link"}
    entities = [
        (
            kinds[sp.kind],
            utf16_offset(text, sp.start),
            utf16_offset(text, sp.end) - utf16_offset(text, sp.start),
            sp.url,
        )
        for sp in spans
    ]
    expected = tuple(sp for sp in spans if sp.start < sp.end)
    assert entities_to_spans(text, entities) == expected


@settings(deadline=None, max_examples=300)
@given(EMOJI_TEXT, st.integers(2, 40))
def test_split_plain_text_rejoins_within_limit(text: str, limit: int) -> None:
    chunks = split_plain_text(text, limit)
    assert "".join(chunks) == text
    for chunk in chunks:
        assert chunk
        assert utf16_len(chunk) <= limit


def _runs_by_character(text: str, spans: list[Span]) -> list[_Run]:
    """The rule as first written, one character at a time: the reference for _runs."""
    n = len(text)
    mono: list[SpanKind | None] = [None] * n
    link: list[str | None] = [None] * n
    flags: list[set[SpanKind]] = [set() for _ in range(n)]
    for sp in spans:
        lo, hi = max(sp.start, 0), min(sp.end, n)
        for i in range(lo, hi):
            if sp.kind is SpanKind.PRE or (sp.kind is SpanKind.CODE and mono[i] is None):
                mono[i] = sp.kind
            elif sp.kind is SpanKind.LINK:
                if link[i] is None and safe_href(sp.url):
                    link[i] = sp.url
            elif sp.kind in _NESTING:
                flags[i].add(sp.kind)
    runs: list[_Run] = []

    def collect(kind: SpanKind, values: list[str | None]) -> None:
        """Append one run per maximal stretch of equal non-None values."""
        i = 0
        while i < n:
            if values[i] is None:
                i += 1
                continue
            j = i + 1
            while j < n and values[j] == values[i]:
                j += 1
            runs.append(_Run(kind, i, j, values[i] if kind is SpanKind.LINK else None))
            i = j

    for kind in (SpanKind.PRE, SpanKind.CODE):
        collect(kind, ["" if m is kind else None for m in mono])
    collect(SpanKind.LINK, [u if mono[i] is None else None for i, u in enumerate(link)])
    for kind in _NESTING[1:]:
        collect(kind, ["" if kind in f and mono[i] is None else None for i, f in enumerate(flags)])
    return runs


@settings(max_examples=400)
@given(text_with_spans())
def test_runs_by_segment_are_the_runs_by_character(case: tuple[str, list[Span]]) -> None:
    """_runs works per stretch between span edges; it must give exactly the runs, in the
    order, that the per-character rule gives (precedence of pre, code, the first safe link)."""
    text, spans = case
    assert _runs(text, spans) == _runs_by_character(text, spans)
