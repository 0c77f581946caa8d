"""Any translated answer, its placeholders filled with hostile values, still goes out as
valid Telegram HTML and as IRC lines without CR, LF or NUL (issue 26): a translation can
move a placeholder, never let what fills it become markup or protocol."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.commands import irc_lines, telegram_text
from bridge.i18n import DOMAIN, LOCALE_DIR, shipped, translations
from bridge.payloads import TelegramHtml
from tests.support.fake_telegram import parse_html

PLACEHOLDER = re.compile(r"%\(([a-z_]+)\)([sd])")
IRC_BUDGET = 400
"""Bytes of an IRC line's payload, about what a channel leaves after the prefix."""


def messages() -> list[tuple[str, str | None]]:
    """(msgid, msgid_plural or None) of every message the bot says."""
    with open(LOCALE_DIR / f"{DOMAIN}.pot", "rb") as f:
        template = read_po(f)
    return [
        (m.id[0], m.id[1]) if isinstance(m.id, tuple) else (m.id, None) for m in template if m.id
    ]


MESSAGES = messages()
HOSTILE = st.text(
    st.sampled_from(list("<>&\"'/;\r\n\x00\x01\x02\x03\x1b\x7f\u0085\u2028\u202e\u200b a#é💥"))
    | st.characters(codec="utf-8"),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(
    language=st.sampled_from(shipped()),
    message=st.sampled_from(MESSAGES),
    n=st.integers(0, 10**9),
    values=st.lists(HOSTILE, min_size=12, max_size=12),
    prefix=st.sampled_from(["/", "!", "<b>", "&amp;", "\r\nQUIT"]),
)
def test_translated_answers_filled_with_hostile_values_stay_safe(
    language: str,
    message: tuple[str, str | None],
    n: int,
    values: list[str],
    prefix: str,
) -> None:
    tr = translations(language)
    singular, plural = message
    text = tr.ngettext(singular, plural, n) if plural else tr.gettext(singular)
    names = dict.fromkeys(name for name, _kind in PLACEHOLDER.findall(text))
    filled: dict[str, object] = {
        name: n if f"%({name})d" in text else values[i % len(values)]
        for i, name in enumerate(names)
    }
    answer = (text % filled if names else text).replace("{p}", prefix)
    items = telegram_text("42", answer)
    assert items or not answer.strip()
    for item in items:
        assert isinstance(item.payload, TelegramHtml)
        parse_html(item.payload.html)  # raises on any markup the text did not mean
    for line in irc_lines(answer, IRC_BUDGET):
        assert not set(line) & {"\r", "\n", "\x00"}, line
        assert len(line.encode("utf-8")) <= IRC_BUDGET
