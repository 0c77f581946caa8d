"""The IRC line of Telegram reactions to one message:
``* Alice, Bob reacted 🎉👍 to human: "the new release is out"``."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.display_names import clean_name
from bridge.render.irc_format import parse_irc_formatting
from bridge.render.text import one_line, truncate_words

QUOTE_CHARS = 50
"""As a reply's quote (irc_format.format_reply_prefix)."""
CUSTOM = "a custom emoji"
MAX_NAMES = 5
"""Reactors named in one line; the others are counted ("and 3 others"), so a crowd's
reactions stay one line."""


def _plain(text: str) -> str:
    """One line of visible text: IRC codes, controls and breaks gone."""
    return one_line(parse_irc_formatting(one_line(text))[0])


def shown_emoji(emojis: Sequence[str | None]) -> str:
    """The emoji side by side; a custom emoji whose fallback is unknown (None) in words.

    >>> shown_emoji(["🎉", "👍"]), shown_emoji([None]), shown_emoji(["🎉", None, None])
    ('🎉👍', 'a custom emoji', '🎉 and 2 custom emoji')
    """
    known = "".join(clean_name(_plain(e)) for e in emojis if e is not None)  # no bidi
    unknown = sum(e is None for e in emojis)
    if not unknown:
        return known or "?"
    words = CUSTOM if unknown == 1 else f"{unknown} custom emoji"
    return f"{known} and {words}" if known else words


def reaction_line(
    reactors: Sequence[str], emojis: Sequence[str | None], author: str, quote: str
) -> str:
    """The line without a relay prefix; the names as they are to be shown (cleaned by
    display_names.clean_name and anti-highlighted by the caller), the quote shortened.

    >>> reaction_line(["Alice"], ["🎉"], "human", "the new\\nrelease is out")
    '* Alice reacted 🎉 to human: "the new release is out"'
    >>> reaction_line(["Alice", "Bob"], ["🎉", "👍"], "Carol", "")
    "* Alice, Bob reacted 🎉👍 to Carol's message"
    >>> reaction_line([f"P{i}" for i in range(8)], ["👍"], "Carol", "hi")
    '* P0, P1, P2, P3, P4 and 3 others reacted 👍 to Carol: "hi"'
    """
    who = ", ".join(one_line(r) or "?" for r in reactors[:MAX_NAMES])
    if len(reactors) > MAX_NAMES:
        others = len(reactors) - MAX_NAMES
        who += f" and {others} other{'s' if others > 1 else ''}"
    name = one_line(author) or "?"
    text = _plain(quote)
    target = f'{name}: "{truncate_words(text, QUOTE_CHARS)}"' if text else f"{name}'s message"
    return f"* {who} reacted {shown_emoji(emojis)} to {target}"
