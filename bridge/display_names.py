"""The one sanitiser for names people chose: the relay, the roster and the web all show its form.

A name is shown inside someone else's text (``<name> hello`` on IRC, a card on the web), so
nothing in it may change how the rest is shown: bidi controls (an RLO reverses everything
after it), other invisible format characters (zero-width space, word joiner, soft hyphen,
stray tag characters), controls and lone surrogates are taken out; line breaks and tabs
become spaces. Whatever draws a name stays: the joiners (ZWJ builds 👨‍👩‍👧; ZWNJ is part of
Persian and Indic spelling), variation selectors and skin tones (marks and symbols, never
format characters), an emoji's tag sequence (🏴 + tags + cancel tag: the flags of England,
Scotland and Wales), private-use characters, and unassigned code points, which are the
newest emoji on an older Python (🫨 U+1FAE8 is unassigned in Python 3.11's Unicode 14).

It also holds the one definition of a control character (CONTROLS, is_control) and of an
invisible one (is_invisible), which the renderers, the config checks, the answers and the
roster's tags use too. Lives beside bridge.model because storage, handlers and the web may
all import it (the import-linter contracts in pyproject.toml name it); it imports nothing of
the bridge.
"""

from __future__ import annotations

import re
import unicodedata

CONTROLS = "\x00-\x1f\x7f-\x9f\ud800-\udfff"
"""Control characters (category Cc: C0, tab and line breaks too, DEL, C1) and lone surrogates
(Cs), as the inside of a regex character class: no line the bridge writes carries one."""
_CONTROL_CATEGORIES = frozenset(("Cc", "Cs"))
_INVISIBLE_CATEGORIES = _CONTROL_CATEGORIES | {"Cf"}


def is_control(ch: str) -> bool:
    """True for a character of CONTROLS."""
    return unicodedata.category(ch) in _CONTROL_CATEGORIES


def is_invisible(ch: str) -> bool:
    """True for a control character or an invisible format character (category Cf: bidi
    controls, zero-width space and joiners, soft hyphen, tags): what an echo must not show
    as it is."""
    return unicodedata.category(ch) in _INVISIBLE_CATEGORIES


JOINERS = frozenset("\u200c\u200d")
"""ZWNJ and ZWJ: the only format characters a name keeps everywhere."""

_DROPPED = _CONTROL_CATEGORIES | {"Zl", "Zp"}
"""Controls, lone surrogates and the Unicode line and paragraph separators."""

_TAGS = "\U000e0000-\U000e007f"
_TAG_SEQUENCE = re.compile(
    # an emoji (symbols, pictographs), maybe with its emoji style or skin tone, then a
    # tag spec (lower-case letters and digits, as in gbsct) closed by the cancel tag
    "([\u2190-\u2bff\U0001f000-\U0001ffff][\ufe0f\U0001f3fb-\U0001f3ff]?"
    "[\U000e0030-\U000e0039\U000e0061-\U000e007a]{1,7}\U000e007f)"
    f"|[{_TAGS}]"
)
"""A whole emoji tag sequence (kept), or one tag character outside of one (dropped)."""


def clean_name(text: str) -> str:
    """text without the characters that would change how the text around it is shown.

    Idempotent, and ordinary text (letters, marks, digits, punctuation, symbols, spaces,
    emoji with their joiners) comes back unchanged.

    >>> clean_name("Eve \\u202eevil")
    'Eve evil'
    >>> clean_name("a\\u200bb\\u2068c\\u2069\\nd") == "abc d"
    True
    >>> family = "\\U0001f468\\u200d\\U0001f469\\u200d\\U0001f467 \\U0001fae8"
    >>> clean_name(family) == family
    True
    """
    if text.isprintable():  # nearly every name: one pass in C
        return text
    out: list[str] = []
    tags = False
    for ch in text:
        category = unicodedata.category(ch)
        if category in _DROPPED:
            if ch.isspace():
                out.append(" ")
        elif category != "Cf" or ch in JOINERS:
            out.append(ch)
        elif "\U000e0000" <= ch <= "\U000e007f":
            out.append(ch)  # judged below, with the characters around it
            tags = True
    cleaned = "".join(out)
    return _TAG_SEQUENCE.sub(_whole_sequence, cleaned) if tags else cleaned


def _whole_sequence(match: re.Match[str]) -> str:
    return match.group(1) or ""
