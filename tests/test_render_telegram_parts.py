"""An IRC line longer than a Telegram message: parts within the limit, each naming the nick,
together all of the text, with its formatting where it was."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from bridge.model import Span, SpanKind
from bridge.render.telegram_html import irc_to_telegram_parts, visible_length


def test_a_short_line_is_one_part_and_a_long_one_is_cut_at_a_space() -> None:
    assert irc_to_telegram_parts("bob", "hi", (), action=False) == [("<b>bob</b>: hi", "hi")]
    parts = irc_to_telegram_parts("bob", "aaaa bbbb cc", (), action=False, limit=11)
    assert parts == [
        ("<b>bob</b>: aaaa ", "aaaa "),
        ("<b>bob</b>: bbbb ", "bbbb "),
        ("<b>bob</b>: cc", "cc"),
    ]
    bold = (Span(SpanKind.BOLD, 3, 7),)  # "a bb" across the cut
    assert irc_to_telegram_parts("bob", "aaaa bbbb", bold, action=True, limit=13) == [
        ("<i>* bob aaa<b>a </b></i>", "aaaa "),
        ("<i>* bob <b>bb</b>bb</i>", "bbbb"),
    ]


@given(
    nick=st.text(st.characters(categories=("L", "N")), min_size=1, max_size=16),
    text=st.text(min_size=1, max_size=600),
    limit=st.integers(min_value=30, max_value=200),
    action=st.booleans(),
)
def test_every_part_fits_names_the_nick_and_nothing_is_lost(
    nick: str, text: str, limit: int, action: bool
) -> None:
    parts = irc_to_telegram_parts(nick, text, (), action=action, limit=limit)
    assert "".join(part for _, part in parts) == text
    head = f"* {nick} " if action else f"{nick}: "
    for body, part in parts:
        assert part and visible_length(body) <= limit
        assert html.unescape(re.sub("<[^>]*>", "", body)) == head + part
