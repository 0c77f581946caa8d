"""Grapheme clusters are regex's \\X: the splitters cut between clusters as \\X finds them.

A Hangul syllable written in jamo and a Devanagari conjunct are one cluster each; the old
hand-written rule cut both (a jamo and a consonant after a virama are letters, not marks).
"""

from __future__ import annotations

import itertools

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.render.irc_split import split_irc_payload
from bridge.render.telegram_html import split_plain_text
from bridge.render.text import (
    cluster_end,
    cut_back_to_cluster,
    iter_clusters,
    utf8_len,
    utf16_len,
)

JAMO = "\u1100\u1161\u11a8"
"""각 written as three jamo (choseong, jungseong, jongseong): one cluster, 9 UTF-8 bytes."""
KSSA = "\u0915\u094d\u0937"
"""क्ष: ka, virama, ssa, one conjunct and one cluster, 9 UTF-8 bytes."""

PIECES = st.sampled_from(
    [
        "a",
        "b",
        " ",
        "\u00e9",  # é, below the shortcut's limit
        "\u0301",  # combining acute
        "\u1100",
        "\u1161",
        "\u11a8",  # jamo L, V, T
        "\uac00",
        "\uac01",  # 가 (LV) and 각 (LVT)
        "\u0915",
        "\u0937",
        "\u094d",
        "\u093f",  # ka, ssa, virama, vowel sign i
        "\u200d",
        "\ufe0f",
        "\U0001f468",
        "\U0001f469",
        "\U0001f3fd",  # ZWJ, VS16, 👨 👩 and a skin tone
        "\U0001f1eb",
        "\U0001f1f7",  # regional indicators F, R
        "\u0600",  # a prepended mark
        "\u3000",  # ideographic space
    ]
)
CHARS = st.one_of(PIECES, PIECES, PIECES, st.characters())
TEXT = st.lists(CHARS, max_size=40).map("".join)
PLAIN = st.lists(
    st.one_of(PIECES, PIECES, st.characters(blacklist_categories=["Cc", "Cs"])), max_size=40
).map("".join)
"""Text the IRC splitter cuts as is: no control character (an IRC code) and no surrogate."""


def x_clusters(text: str) -> list[str]:
    return [m.group() for m in regex.finditer(r"\X", text)]


def boundaries(text: str) -> set[int]:
    """Every \\X boundary of text, its two ends included."""
    ends, at = {0}, 0
    for cluster in x_clusters(text):
        at += len(cluster)
        ends.add(at)
    return ends


def cuts(chunks: list[str]) -> list[int]:
    """Where chunks that join into one text were cut, as offsets into it."""
    out, at = [], 0
    for chunk in chunks[:-1]:
        at += len(chunk)
        out.append(at)
    return out


@settings(max_examples=500)
@given(TEXT)
def test_clusters_are_those_of_regex_x(text: str) -> None:
    assert list(iter_clusters(text)) == x_clusters(text)
    ends = sorted(boundaries(text))
    for start, end in itertools.pairwise(ends):
        assert cluster_end(text, start) == end


@settings(max_examples=300)
@given(TEXT, st.data())
def test_cutting_back_lands_on_the_last_x_boundary(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(start, len(text)))
    inside = [b for b in boundaries(text) if start < b <= cut]
    assert cut_back_to_cluster(text, start, cut) == (max(inside) if inside else cut)


@settings(max_examples=300)
@given(PLAIN, st.integers(0, 40))
def test_irc_split_cuts_only_between_x_clusters(text: str, spare: int) -> None:
    """With room for the biggest cluster, every cut of an IRC payload is an \\X boundary."""
    budget = max([4, *(utf8_len(c) for c in x_clusters(text))]) + spare
    chunks = split_irc_payload(text, budget)
    assert "".join(chunks) == text
    assert set(cuts(chunks)) <= boundaries(text)
    assert all(utf8_len(c) <= budget for c in chunks)


@settings(max_examples=300)
@given(TEXT, st.integers(0, 20))
def test_telegram_split_cuts_only_between_x_clusters(text: str, spare: int) -> None:
    """With room for the biggest cluster, every cut of a Telegram text is an \\X boundary,
    a cut after a space included (a combining mark after it belongs to it)."""
    limit = max([2, *(utf16_len(c) for c in x_clusters(text))]) + spare
    chunks = split_plain_text(text, limit)
    assert "".join(chunks) == text
    assert set(cuts(chunks)) <= boundaries(text)
    assert all(utf16_len(c) <= limit for c in chunks)


def test_a_jamo_syllable_and_a_conjunct_are_never_cut_to_a_byte_budget() -> None:
    assert split_irc_payload("a" + JAMO * 2, 9) == ["a", JAMO, JAMO]
    assert split_irc_payload("a" + KSSA * 2, 9) == ["a", KSSA, KSSA]
    assert split_irc_payload(f"x {JAMO}{KSSA}", 11) == ["x ", JAMO, KSSA]


def test_a_jamo_syllable_and_a_conjunct_are_never_cut_to_a_telegram_limit() -> None:
    assert split_plain_text("a" + JAMO, 3) == ["a", JAMO]
    assert split_plain_text("a" + KSSA, 3) == ["a", KSSA]
    assert split_plain_text("ab \u0301cd", 4) == ["ab", " \u0301cd"]
