"""Table and property tests for the IRC renderer: parsing, emitting, sanitizing, splitting."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.casemap import irc_casefold
from bridge.model import Attachment, ReplyRef, Span, SpanKind
from bridge.render.irc_format import (
    anti_highlight,
    format_reply_prefix,
    message_to_irc_lines,
    parse_irc_formatting,
    render_lines,
    sanitize_for_irc,
    spans_to_irc,
)
from bridge.render.irc_split import (
    _split_tokens,
    format_relay_lines,
    irc_line_budget,
    split_irc_payload,
)
from bridge.render.text import cluster_end
from tests.support.spans import IT, SP, B, C, L, P, S, U

CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def strip(text: str) -> str:
    """Visible text of an IRC line."""
    return parse_irc_formatting(text)[0]


@pytest.mark.parametrize(
    ("raw", "text", "spans"),
    [
        ("plain", "plain", ()),
        ("\x02bold\x02 rest", "bold rest", (Span(B, 0, 4),)),
        (
            "\x1dit\x1d \x1fun\x1f \x1est\x1e",
            "it un st",
            (Span(IT, 0, 2), Span(U, 3, 5), Span(S, 6, 8)),
        ),
        ("\x11mono\x11", "mono", (Span(C, 0, 4),)),
        ("\x02unterminated", "unterminated", (Span(B, 0, 12),)),
        ("\x02a\x1db\x0fc", "abc", (Span(B, 0, 2), Span(IT, 1, 2))),
        ("\x02a\x02\x02b\x02", "ab", (Span(B, 0, 2),)),
        ("\x02\x02empty", "empty", ()),
        ("\x0304,12red", "red", ()),
        ("\x031,2x", "x", ()),
        ("\x03", "", ()),
        ("a\x03b", "ab", ()),
        ("\x0399ok", "ok", ()),
        ("\x034,x", ",x", ()),
        ("\x03,5", ",5", ()),
        ("\x03123", "3", ()),
        ("\x0304,123", "3", ()),
        ("\x04FF00AAhex", "hex", ()),
        ("\x04FF00AA,000000hex", "hex", ()),
        ("\x04FF00", "FF00", ()),
        ("\x16rev\x16", "rev", ()),
        ("tab\there", "tab here", ()),
        ("nul\x00\x01\x7fx", "nulx", ()),
        ("\x02b\x0304,05\x02", "b", (Span(B, 0, 1),)),
    ],
)
def test_parse_irc_formatting(raw: str, text: str, spans: tuple[Span, ...]) -> None:
    assert parse_irc_formatting(raw) == (text, spans)


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        ("plain", [], "plain"),
        ("hello world", [Span(B, 0, 5)], "\x02hello\x02 world"),
        ("abc", [Span(IT, 0, 3), Span(U, 1, 2)], "\x1da\x1fb\x1fc\x1d"),
        ("abcd", [Span(B, 0, 3), Span(IT, 1, 4)], "\x02a\x1dbc\x02d\x1d"),
        ("x code", [Span(C, 2, 6)], "x \x11code\x11"),
        ("x pre", [Span(P, 2, 5), Span(C, 2, 3)], "x \x11pre\x11"),
        ("s!", [Span(S, 0, 1)], "\x1es\x1e!"),
        ("a secret b", [Span(SP, 2, 8)], "a ||\x0301,01secret\x03|| b"),
        ("12", [Span(SP, 0, 1)], "||\x0301,011\x03||2"),
        ("click", [Span(L, 0, 5, "https://x.org")], "click (https://x.org)"),
        ("https://x.org", [Span(L, 0, 13, "https://x.org")], "https://x.org"),
        ("x.org", [Span(L, 0, 5, "https://x.org/")], "x.org"),
        ("go here", [Span(L, 3, 7, "http://a"), Span(B, 3, 7)], "go \x02here\x02 (http://a)"),
        ("a\nb\x00c", [Span(B, 0, 5)], "\x02a bc\x02"),
        ("see", [Span(L, 0, 3, "http://a\r\nb")], "see (http://a b)"),
    ],
)
def test_spans_to_irc(text: str, spans: list[Span], expected: str) -> None:
    assert spans_to_irc(text, spans) == expected


def test_spans_to_irc_plain_mode() -> None:
    spans = [Span(B, 0, 1), Span(SP, 2, 3), Span(L, 4, 5, "http://u")]
    assert spans_to_irc("a b c", spans, formatting=False) == "a ||b|| c (http://u)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("one", ["one"]),
        ("a\r\nb\nc\rd\u2028e\u2029f\x85g", ["a", "b", "c", "d", "e", "f", "g"]),
        ("a\n\n   \n\tb", ["a", " b"]),
        ("x\x00y\x07z\x7f", ["xyz"]),
        ("PRIVMSG\rQUIT :bye", ["PRIVMSG", "QUIT :bye"]),
        ("\x02not bold\x03", ["not bold"]),
        ("", []),
        ("\n\n", []),
    ],
)
def test_sanitize_for_irc(text: str, expected: list[str]) -> None:
    assert sanitize_for_irc(text) == expected


def test_render_lines_reopens_spans_per_line() -> None:
    text = "bold\nstill bold\n\nnot"
    assert render_lines(text, [Span(B, 0, 15)]) == ["\x02bold\x02", "\x02still bold\x02", "not"]


def test_render_lines_shifts_spans_after_removed_controls() -> None:
    text = "a\x00\x01b\tc\r\nd"
    assert render_lines(text, [Span(B, 3, 6), Span(IT, 8, 9)]) == ["a\x02b c\x02", "\x1dd\x1d"]


@pytest.mark.parametrize(
    ("payload", "max_bytes", "expected"),
    [
        ("hello world", 100, ["hello world"]),
        ("hello world", 8, ["hello ", "world"]),
        ("hello  world", 7, ["hello  ", "world"]),
        ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
        ("aé€😀", 4, ["aé", "€", "😀"]),
        ("e\u0301e\u0301", 4, ["e\u0301", "e\u0301"]),
        ("", 10, []),
        ("\x02\x02", 10, []),
        ("\x02bold text\x02", 8, ["\x02bold ", "\x02text\x02"]),
        ("\x0304,12red text", 10, ["\x0304,12red ", "\x0304,12text"]),
        ("\x034red ,5", 7, ["\x034red ", "\x0304\x02\x02,5"]),
        ("\x040\x02\x02a1a52", 4, ["\x040", "\x0fa1a", "52"]),
    ],
)
def test_split_irc_payload(payload: str, max_bytes: int, expected: list[str]) -> None:
    assert split_irc_payload(payload, max_bytes) == expected


def test_split_irc_payload_rejects_tiny_budget() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        split_irc_payload("abc", 3)


def test_split_never_cuts_colour_code() -> None:
    assert split_irc_payload("ab\x0304,12cd", 8) == ["ab", "\x0304,12cd"]
    # when the colour cannot fit with its text, it is dropped rather than cut
    assert split_irc_payload("ab\x0304,12cd", 6) == ["ab", "\x0fcd"]


@pytest.mark.parametrize(
    ("mask", "target", "action", "expected"),
    [
        ("n!u@h", "#c", False, 512 - len(":n!u@h PRIVMSG #c :\r\n")),
        ("n!u@h", "#c", True, 512 - len(":n!u@h PRIVMSG #c :\r\n") - 9),
        ("ü!u@h", "#c", False, 512 - len(":n!u@h PRIVMSG #c :\r\n") - 1),
        ("n" * 600, "#c", False, 0),
    ],
)
def test_irc_line_budget(mask: str, target: str, action: bool, expected: int) -> None:
    assert irc_line_budget(mask, target, action=action) == expected


def test_format_relay_lines() -> None:
    prefix = "<Ali\u200bce> "
    out = format_relay_lines(prefix, ["hello world!", "second"], 22)
    assert out == [prefix + "hello ", prefix + "world!", prefix + "second"]
    assert all(len(x.encode()) <= 22 for x in out)


def test_format_relay_lines_cuts_huge_prefix() -> None:
    out = format_relay_lines("<" + "x" * 100 + "> ", ["hi"], 40)
    assert out == ["<" + "x" * 19 + "hi"]


@pytest.mark.parametrize(
    ("name", "nicks", "mode", "expected"),
    [
        ("Alice", ["alice"], "auto", "A\u200blice"),
        ("Alice", ["bob"], "auto", "Alice"),
        ("Alice", ["bob"], "always", "A\u200blice"),
        ("Alice", ["alice"], "never", "Alice"),
        ("Bob Smith", ["bob"], "auto", "B\u200bob Smith"),
        ("Mr Bob", ["BOB"], "auto", "Mr B\u200bob"),
        ("Bobby", ["bob"], "auto", "Bobby"),
        ("[x]", ["{X}"], "auto", "[\u200bx]"),
        ("X", ["x"], "auto", "X\u200b"),
        ("😀Al", [], "always", "😀\u200bAl"),
        ("", ["a"], "always", ""),
    ],
)
def test_anti_highlight(name: str, nicks: list[str], mode: str, expected: str) -> None:
    folded = {irc_casefold(n) for n in nicks}
    assert anti_highlight(name, folded, mode) == expected  # type: ignore[arg-type]


NAME_CHARS = st.sampled_from("ab AB_-[]{}|.é😀")


@settings(max_examples=300)
@given(st.text(NAME_CHARS, max_size=12), st.sets(st.text(NAME_CHARS, max_size=4), max_size=60))
def test_anti_highlight_cuts_every_whole_word_nick_however_many_there_are(
    name: str, nicks: set[str]
) -> None:
    """Small channels are searched nick by nick, big ones by the name's words: the same cuts."""
    folded_nicks = {irc_casefold(n) for n in nicks}
    folded = irc_casefold(name)
    expected = set()
    for nick in filter(None, folded_nicks):
        for at in range(len(folded) - len(nick) + 1):
            end = at + len(nick)
            if folded[at:end] != nick:
                continue
            if (at == 0 or not folded[at - 1].isalnum()) and (
                end == len(folded) or not folded[end].isalnum()
            ):
                expected.add(min(cluster_end(name, at), end))
    out = name
    for cut in sorted(expected, reverse=True):
        out = out[:cut] + "\u200b" + out[cut:]
    assert anti_highlight(name, folded_nicks, "auto") == out


@given(st.text())
def test_irc_casefold_folds_each_character_alone(text: str) -> None:
    """The ASCII shortcut folds as the character-by-character rule does, length kept."""

    def fold(ch: str) -> str:
        if ch.isascii():
            return ch.translate(_RFC1459_UPPER)
        return low if len(low := ch.lower()) == 1 else ch

    one_by_one = "".join(fold(ch) for ch in text)
    assert irc_casefold(text) == one_by_one and len(one_by_one) == len(text)


_RFC1459_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\~", "abcdefghijklmnopqrstuvwxyz{}|^")


def test_irc_casefold() -> None:
    assert irc_casefold("Nick[]\\~") == "nick{}|^"
    assert irc_casefold("İx") == "İx"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (ReplyRef("Alice", "hi"), '[re Alice: "hi"] '),
        (ReplyRef("Alice", ""), "[re Alice] "),
        (ReplyRef("Al\nice", "line one\nline\ttwo"), '[re Al ice: "line one line two"] '),
        (
            ReplyRef("Alice", "first words of the quote that goes on and on and on forever"),
            '[re Alice: "first words of the quote that goes on and on and…"] ',
        ),
        (ReplyRef("Alice", "x" * 60), '[re Alice: "' + "x" * 49 + '…"] '),
        (ReplyRef("\x02Bob\x02", "\x0304red"), '[re Bob: "red"] '),
    ],
)
def test_format_reply_prefix(reply: ReplyRef, expected: str) -> None:
    assert format_reply_prefix(reply) == expected


def test_message_to_irc_lines() -> None:
    lines = message_to_irc_lines(
        "look\nhere",
        [Span(B, 0, 4)],
        attachments=[Attachment("photo")],
        reply=ReplyRef("Al", "q"),
        is_edit=True,
    )
    assert lines == ['[edit] [re Al: "q"] [photo] \x02look\x02', "here"]
    assert message_to_irc_lines("", attachments=[Attachment("sticker", detail="😀")]) == [
        "[sticker 😀]"
    ]
    assert message_to_irc_lines("\n") == []


# --- properties -------------------------------------------------------------------------

IRC_CODES = st.sampled_from(
    [
        *["\x02", "\x1d", "\x1f", "\x1e", "\x11", "\x16", "\x0f", "\x03", "\x0304", "\x033,12"],
        *["\x04", "\x04A0B0C0", "\x04a0b0c0,000000", "\x00", "\x01", "\r", "\n", "\x7f"],
    ]
)
PLAIN = st.text(
    alphabet=st.characters(exclude_categories=["Cs", "Cc"]) | st.sampled_from(" ,0123456789"),
    max_size=200,
)
FORMATTED = st.lists(PLAIN | IRC_CODES, max_size=30).map("".join)


@settings(deadline=None, max_examples=300)
@given(FORMATTED)
def test_parse_never_leaves_controls(raw: str) -> None:
    text, spans = parse_irc_formatting(raw)
    assert not CONTROL_RE.search(text)
    assert all(0 <= sp.start < sp.end <= len(text) for sp in spans)


@settings(deadline=None, max_examples=300)
@given(st.text(max_size=300))
def test_sanitize_never_leaves_cr_lf_nul(text: str) -> None:
    for line in sanitize_for_irc(text):
        assert line.strip()
        assert not CONTROL_RE.search(line)
        line.encode("utf-8")


SPAN_KINDS = st.sampled_from(list(SpanKind))


@st.composite
def text_with_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    """Random text with random (possibly overlapping or empty) spans of every kind."""
    text = draw(st.text(max_size=80))
    spans = []
    for _ in range(draw(st.integers(0, 5))):
        a = draw(st.integers(0, len(text)))
        b = draw(st.integers(a, len(text)))
        kind = draw(SPAN_KINDS)
        spans.append(Span(kind, a, b, "http://u" if kind is SpanKind.LINK else None))
    return text, spans


@settings(deadline=None, max_examples=300)
@given(text_with_spans())
def test_render_lines_keeps_text_and_is_safe(case: tuple[str, list[Span]]) -> None:
    text, spans = case
    lines = render_lines(text, spans)
    plain = sanitize_for_irc(text)
    assert len(lines) == len(plain)
    for line in lines:
        assert not re.search(r"[\r\n\x00]", line)
    if not any(sp.kind in (SpanKind.LINK, SpanKind.SPOILER) for sp in spans):
        assert [strip(x) for x in lines] == plain


@settings(deadline=None, max_examples=400)
@given(PLAIN, st.integers(4, 60))
def test_split_plain_rejoins_within_budget(payload: str, max_bytes: int) -> None:
    chunks = split_irc_payload(payload, max_bytes)
    assert "".join(chunks) == payload
    for chunk in chunks:
        assert chunk
        assert len(chunk.encode("utf-8")) <= max_bytes


@settings(deadline=None, max_examples=400)
@given(FORMATTED, st.integers(4, 60))
def test_split_formatted_keeps_visible_text(payload: str, max_bytes: int) -> None:
    chunks = split_irc_payload(payload, max_bytes)
    assert strip("".join(chunks)) == strip(payload)
    for chunk in chunks:
        assert chunk
        assert len(chunk.encode("utf-8")) <= max_bytes


@settings(deadline=None, max_examples=300)
@given(st.one_of(PLAIN, FORMATTED), st.integers(0, 8))
def test_split_shortcut_for_a_fitting_line_matches_the_full_walk(payload: str, spare: int) -> None:
    """A line that fits is returned without the cluster walk; it must be what the walk gives."""
    budget = max(4, len(payload.encode("utf-8")) + spare)
    assert split_irc_payload(payload, budget) == _split_tokens(payload, budget)


@settings(deadline=None, max_examples=200)
@given(FORMATTED, st.integers(30, 80))
def test_split_chunks_parse_like_their_slice(payload: str, max_bytes: int) -> None:
    """Each chunk shows exactly its slice of visible text (no colour digit eaten or added)."""
    chunks = split_irc_payload(payload, max_bytes)
    assert "".join(strip(c) for c in chunks) == strip(payload)


@settings(deadline=None, max_examples=200)
@given(st.lists(PLAIN, max_size=4), st.integers(30, 120))
def test_format_relay_lines_bounds(lines: list[str], budget: int) -> None:
    prefix = "<Ali\u200bce> "
    out = format_relay_lines(prefix, lines, budget)
    assert all(x.startswith(prefix) and len(x.encode()) <= budget for x in out)
