"""The mention matcher and the recent speakers (bridge/mentions.py, issue 24, items 2 and 3):
a table of what is linked and what is not, the speakers' window and bounds on an injected
clock, the reply prefix's shield, and property tests against hostile names (regex
metacharacters, bidi controls, names that are common words, empty and blank names): the
HTML is always what the strict fake Bot API accepts, and code is never linked."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.display_names import clean_name
from bridge.mentions import (
    MAX_LINKED,
    SPEAKERS_PER_GROUP,
    RecentSpeakers,
    Speaker,
    link_mentions,
    shield,
)
from bridge.model import Author, Network, ReplyRef, Span, SpanKind, UserId
from bridge.render.irc_format import format_reply_prefix, parse_irc_formatting
from bridge.render.telegram_html import irc_to_telegram_html, irc_to_telegram_parts
from tests.support.fake_telegram import parse_html

GROUP = "-100123"
CAROL = Speaker("11", "Carol")
DAVE = Speaker("12", "Dave Smith", "dave_tg")
LINK = "tg://user?id="
ZWSP = "\u200b"


def html_of(text: str, speakers: list[Speaker]) -> str:
    """What Telegram is sent for bob's IRC line text."""
    plain, spans = parse_irc_formatting(text)
    out, moved = link_mentions(plain, spans, speakers)
    return irc_to_telegram_html("bob", out, moved, action=False)[len("<b>bob</b>: ") :]


@pytest.mark.parametrize(
    ("text", "speakers", "expected"),
    [
        ("Carol: hi", [CAROL], f'<a href="{LINK}11">Carol</a>: hi'),
        ("carol, hi", [CAROL], f'<a href="{LINK}11">carol</a>, hi'),
        ("ask CAROL.", [CAROL], f'ask <a href="{LINK}11">CAROL</a>.'),
        ("dave smith: hi", [DAVE], "@dave_tg: hi"),
        ("Dave  Smith hi", [DAVE], "@dave_tg hi"),  # spaces collapsed as the name is shown
        (f"C{ZWSP}arol: hi", [CAROL], f'<a href="{LINK}11">C{ZWSP}arol</a>: hi'),
        ("Carolyn and Carol_ and xCarol", [CAROL], "Carolyn and Carol_ and xCarol"),
        ("Carol Carol", [CAROL], f'<a href="{LINK}11">Carol</a> Carol'),  # once each
        ("Carol: hi", [CAROL, Speaker("13", "carol")], "Carol: hi"),  # two Carols
        (
            "\x11Carol\x11 `Carol` https://x.org/Carol",
            [CAROL],
            "<code>Carol</code> `Carol` https://x.org/Carol",
        ),
        ("\x02Carol\x02: hi", [CAROL], f'<a href="{LINK}11"><b>Carol</b></a>: hi'),
        ("J: hi", [Speaker("14", "J")], f'<a href="{LINK}14">J</a>: hi'),
        ("hi j", [Speaker("14", "J")], "hi j"),  # a one-letter name only as the addressee
        ("a.b* c: hi", [Speaker("15", "a.b*")], f'<a href="{LINK}15">a.b*</a> c: hi'),
        ("axb: hi", [Speaker("15", "a.b")], "axb: hi"),  # "." is a dot, not any character
        ("Émile: salut", [Speaker("16", "émile")], f'<a href="{LINK}16">Émile</a>: salut'),
        (
            "Carol: hi",
            [Speaker("17", "Carol", "no spaces allowed")],
            f'<a href="{LINK}17">Carol</a>: hi',
        ),  # not a username Telegram allows: linked by id
        ("<Carol> & co", [CAROL], f'&lt;<a href="{LINK}11">Carol</a>&gt; &amp; co'),
        (
            "Carol Ann: hi",
            [CAROL, Speaker("18", "Carol Ann")],
            f'<a href="{LINK}18">Carol Ann</a>: hi',
        ),  # the longest name wins
    ],
)
def test_what_is_linked(text: str, speakers: list[Speaker], expected: str) -> None:
    assert html_of(text, speakers) == expected


def test_at_most_five_people_are_linked() -> None:
    speakers = [
        Speaker(str(i), name) for i, name in enumerate(["Ann", "Ben", "Cid", "Dan", "Eve", "Fay"])
    ]
    html = html_of("Ann Ben Cid Dan Eve Fay Ann: lunch", speakers)
    assert html.count("<a ") == MAX_LINKED == 5
    assert html.endswith("Fay Ann: lunch")


def test_a_username_keeps_the_spans_around_it() -> None:
    text, spans = link_mentions(
        "x dave smith y", (Span(SpanKind.BOLD, 0, 14), Span(SpanKind.ITALIC, 12, 14)), [DAVE]
    )
    assert text == "x @dave_tg y"
    assert spans == (Span(SpanKind.BOLD, 0, 12), Span(SpanKind.ITALIC, 10, 12))


def author(user_id: str, name: str, username: str | None = None, **kw: object) -> Author:
    return Author(Network.TELEGRAM, UserId(user_id), name, username, **kw)  # type: ignore[arg-type]


def test_speakers_are_recent_members_of_bridged_groups_only() -> None:
    now = [1_000_000.0]
    speakers = RecentSpeakers(24 * 3600, lambda group: group == GROUP, clock=lambda: now[0])
    speakers.note(f"{GROUP}/7", author("11", "Carol \u202eX"))  # a topic counts for its group
    speakers.note("-100999", author("12", "Dave"))  # not bridged
    speakers.note(GROUP, author("13", "Bot", is_bot=True))
    speakers.note(GROUP, author("14", "Group", posted_as="-100123"))  # anonymous admin
    assert speakers.recent(GROUP) == [Speaker("11", "Carol X", None, now[0])]
    assert speakers.linked(GROUP, "carol x: hi", ()) == (
        "carol x: hi",
        (Span(SpanKind.LINK, 0, 7, f"{LINK}11"),),
    )
    now[0] += 24 * 3600
    assert len(speakers.recent(GROUP)) == 1  # 24 h exactly: still in
    now[0] += 1
    assert speakers.recent(GROUP) == []
    assert speakers.linked(GROUP, "Carol X: hi", ()) == ("Carol X: hi", ())


def test_the_speakers_are_bounded_and_zero_turns_mentions_off() -> None:
    speakers = RecentSpeakers(3600, lambda group: True, clock=lambda: 5.0)
    for i in range(SPEAKERS_PER_GROUP + 10):
        speakers.note(GROUP, author(str(i), f"n{i}"))
    recent = speakers.recent(GROUP)
    assert len(recent) == SPEAKERS_PER_GROUP and recent[0].user_id == "10"
    off = RecentSpeakers(0, lambda group: True, clock=lambda: 5.0)
    off.note(GROUP, author("11", "Carol"))
    assert off.linked(GROUP, "Carol: hi", ()) == ("Carol: hi", ())


def test_a_reply_shields_the_quote_and_a_telegram_name_not_the_irc_nick() -> None:
    guard = shield(frozenset({"erin", "bob", "dave"}), "auto")
    to_irc = ReplyRef("bob", "erin says hi", by_bridge=True)
    to_telegram = ReplyRef("Erin", "ask dave", by_bridge=False)
    assert format_reply_prefix(to_irc, shield=guard) == f'[re bob: "e{ZWSP}rin says hi"] '
    assert format_reply_prefix(to_telegram, shield=guard) == f'[re E{ZWSP}rin: "ask d{ZWSP}ave"] '
    never = shield(frozenset({"erin"}), "never")
    assert format_reply_prefix(to_telegram, shield=never) == '[re Erin: "ask dave"] '
    always = shield(frozenset(), "always")  # no nick to protect: the quote stays as it is
    assert format_reply_prefix(to_telegram, shield=always) == '[re Erin: "ask dave"] '


HOSTILE = st.one_of(
    st.text(alphabet=".*+?()[]{}|^$\\-#&<>\"' \t", max_size=6),  # regex and HTML metacharacters
    st.text(alphabet="\u202e\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u200bab", max_size=6),
    st.sampled_from(["the", "a", "I", "is", "and", "to", "on", "it", "Carol", "ok"]),
    st.sampled_from(["", " ", "\t", "  \u3000 ", "\u200b"]),
    st.text(max_size=8),
)
WORDS = st.one_of(HOSTILE, st.sampled_from([":", ",", " ", "https://x.org/", "www.a.b/", "`"]))


@st.composite
def lines(draw: st.DrawFn) -> tuple[str, list[Speaker]]:
    """An IRC line made of hostile names, words and separators, some of it in code (a
    monospace span or backticks), and the speakers with those names."""
    names = draw(st.lists(HOSTILE, max_size=8))
    speakers = [
        Speaker(
            str(i),
            clean_name(name) if draw(st.booleans()) else name,
            draw(st.one_of(st.none(), st.sampled_from(["carol_tg", "x", "a b", "<b>"]))),
        )
        for i, name in enumerate(names)
    ]
    pieces = draw(st.lists(st.one_of(st.sampled_from(names or [""]), WORDS), max_size=20))
    out = []
    for piece in pieces:
        wrap = draw(st.sampled_from(["", "", "mono", "tick"]))
        out.append(
            f"\x11{piece}\x11" if wrap == "mono" else f"`{piece}`" if wrap == "tick" else piece
        )
    return " ".join(out), speakers


def code_texts(text: str, spans: tuple[Span, ...] | list[Span]) -> list[str]:
    """The text of every code region, in order: monospace spans and backticked stretches."""
    regions = [(sp.start, sp.end) for sp in spans if sp.kind in (SpanKind.CODE, SpanKind.PRE)]
    regions += [(m.start(), m.end()) for m in re.finditer(r"`[^`]*`", text)]
    return sorted(text[a:b] for a, b in regions)


@settings(max_examples=400, deadline=None)
@given(lines())
def test_hostile_names_give_valid_html_and_never_link_code(
    line: tuple[str, list[Speaker]],
) -> None:
    raw, speakers = line
    text, spans = parse_irc_formatting(raw)
    out, moved = link_mentions(text, spans, speakers)
    links = [sp for sp in moved if sp.kind is SpanKind.LINK]
    added = len(links) + out.count("@carol_tg") - text.count("@carol_tg")
    assert added <= MAX_LINKED
    assert code_texts(out, moved) == code_texts(text, spans)  # code kept, nothing put in it
    code = [(sp.start, sp.end) for sp in moved if sp.kind in (SpanKind.CODE, SpanKind.PRE)]
    code += [(m.start(), m.end()) for m in re.finditer(r"`[^`]*`", out)]
    assert not any(ln.start < b and a < ln.end for ln in links for a, b in code)
    for html_text, _ in irc_to_telegram_parts("bob", out, moved, action=False, limit=40):
        _, entities = parse_html(html_text)  # raises as the Bot API would
        assert all(e["url"].startswith(LINK) for e in entities if e["type"] == "text_link")
    store = RecentSpeakers(3600, lambda group: True, clock=lambda: 0.0)
    for s in speakers:  # what the relay does: the store's index gives the same answer
        store.note(GROUP, author(s.user_id, s.shown, s.username))
    assert store.linked(GROUP, text, spans) == link_mentions(text, spans, store.recent(GROUP))
