"""Which language a directory page speaks: ?lang=, else the browser's Accept-Language,
else [i18n] default_language (bridge/web/directory.py)."""

from __future__ import annotations

from bridge.i18n import match

MAX_LANGUAGES = 20
"""Accept-Language entries read at most (a browser sends a handful)."""

Language = tuple[str, str | None]
"""(the language a page is in, the language ?lang= chose or None)"""


def accepted(header: str, default: str) -> str:
    """The shipped language an Accept-Language header prefers most (q-values, then order),
    else default.

    >>> accepted("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "en")
    'fr'
    >>> accepted("xx, de;q=0.1, es;q=0", "en"), accepted("", "de")
    ('de', 'de')
    """
    best: tuple[float, int, str] | None = None
    for i, entry in enumerate(header.split(",")[:MAX_LANGUAGES]):
        tag, _, params = entry.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        language = match(tag.strip()) if tag.strip() != "*" else None
        if language is None or not 0 < weight <= 1:
            continue
        if best is None or (weight, -i) > (best[0], -best[1]):
            best = (weight, i, language)
    return best[2] if best is not None else default


def language_tag(language: str) -> str:
    """A gettext name as a language tag: pt_BR → pt-BR (for lang= and Content-Language)."""
    return language.replace("_", "-")
