"""The bot's own words in the member's language: gettext catalogs shipped in bridge/locale.

English is the source language, written in the code; every other language is a compiled
catalog, bridge/locale/<lang>/LC_MESSAGES/tgirc_bridge.mo, made by Babel from its .po (see
README "Languages"). Relayed messages are never translated: only what the bot itself says.

A domain module (beside display_names): handlers and the connectors both choose and use a
language, and it imports nothing of the bridge.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

DOMAIN = "tgirc_bridge"
LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en"
LANGUAGE_NAMES = {
    "de": "Deutsch",
    "en": "English",
    "es": "español",
    "fr": "français",
    "pt_BR": "português (Brasil)",
}
"""Each language's name in itself, as written inside a sentence of that language ("en
français", "auf Deutsch"), for /language; a language missing here is named by its code."""

Translations = gettext.NullTranslations
"""What a translated answer is written with: .gettext(text) and .ngettext(one, many, n)."""
ENGLISH: Translations = gettext.NullTranslations()
"""The source language: the text as written in the code."""


def N_(text: str) -> str:
    """Marks a string for extraction (gettext tools look for N_) where it is declared; it is
    translated where shown."""
    return text


@cache
def shipped() -> tuple[str, ...]:
    """The languages the bot speaks: English and each language with a compiled catalog."""
    found = {p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return tuple(sorted({SOURCE_LANGUAGE, *found}))


@cache
def translations(language: str) -> Translations:
    """The catalog of a shipped language (English for the source or anything unknown),
    read once per process."""
    if language == SOURCE_LANGUAGE or language not in shipped():
        return ENGLISH
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])


def match(code: str | None) -> str | None:
    """The shipped language for a language tag (Telegram's language_code, a /language
    argument, an Accept-Language entry), or None when none fits.

    >>> match("de-AT"), match("pt-br"), match("FR"), match("xx"), match(None)
    ('de', None, 'fr', None, None)
    """
    if not code:
        return None
    parts = code.strip().replace("-", "_").split("_")
    base = parts[0].lower()
    if len(parts) > 1:
        regional = f"{base}_{parts[1].upper()}"
        if regional in shipped():
            return regional
    return base if base in shipped() else None


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, language)


class TranslatableError(Exception):
    """An error whose message is shown to a person: kept as its English template (marked
    with N_ where raised) and named values, so the answer can be given in their language.
    str(exc) is the English text, for logs and the CLI."""

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)

    def said(self, tr: Translations) -> str:
        """The message in tr's language."""
        text = tr.gettext(self.template)
        return text % self.params if self.params else text
