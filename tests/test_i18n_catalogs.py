"""The catalogs (issue 26): complete, their placeholders those of the source, documented
for translators, and each shipped .mo compiled from its .po as it is now."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bridge.i18n import DOMAIN, LOCALE_DIR, SOURCE_LANGUAGE, match, shipped, translations
from handlers.context import IRC_FILE_MAX_LINES
from handlers.moderation import SPECS as MODERATION_SPECS

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = [lang for lang in shipped() if lang != SOURCE_LANGUAGE]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")
"""A named placeholder: %(name)s or %(name)d, or {p} (the command prefix in details)."""


def extracted() -> Catalog:
    """The messages in the code now, as scripts/i18n.sh extract finds them."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "N_": None, "n_": (1, 2)}
    catalog = Catalog()
    for _file, _line, message, comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords, comment_tags=("Translators:",)
    ):
        catalog.add(message, None, auto_comments=comments)
    return catalog


def po(language: str) -> Catalog:
    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as f:
        return read_po(f, locale=language)


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


def _frozen(value: object) -> object:
    """read_mo gives plural ids and strings as lists, read_po as tuples."""
    return tuple(value) if isinstance(value, list) else value


def ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id for m in catalog if m.id}


def test_the_languages_shipped() -> None:
    assert shipped() == ("de", "en", "es", "fr")


def test_the_template_holds_every_message_of_the_code() -> None:
    with open(LOCALE_DIR / f"{DOMAIN}.pot", "rb") as f:
        template = read_po(f)
    assert ids(template) == ids(extracted()), "run ./scripts/i18n.sh extract"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_is_complete(language: str) -> None:
    catalog = po(language)
    assert ids(catalog) == ids(extracted()), "run ./scripts/i18n.sh extract, then update"
    for m in catalog:
        if not m.id:
            continue
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        assert all(forms) and len(forms) == (catalog.num_plurals if m.pluralizable else 1), m.id
        assert not m.fuzzy, m.id
    assert not catalog.obsolete


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_translation_uses_exactly_its_sources_placeholders(language: str) -> None:
    for m in po(language):
        if not m.id:
            continue
        sources = m.id if isinstance(m.id, tuple) else (m.id,)
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        for i, form in enumerate(forms):
            source = sources[min(i, len(sources) - 1)]
            assert placeholders(form) == placeholders(source), (language, m.id, form)
        assert not list(m.check(po(language))), m.id  # Babel's python-format check


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_shipped_mo_is_compiled_from_the_po(language: str) -> None:
    """Contents, not mtimes (a checkout sets those): the .mo must say what the .po says."""
    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as f:
        shipped_mo = read_mo(f)
    expected = {m.id: m.string for m in po(language) if m.id and not m.fuzzy}
    compiled = {_frozen(m.id): _frozen(m.string) for m in shipped_mo if m.id}
    assert compiled == expected, "run ./scripts/i18n.sh compile"


def test_translators_are_told_about_every_placeholder() -> None:
    """The Translators: comments become translatewiki's message documentation (qqq)."""
    undocumented = [
        m.id
        for m in extracted()
        if m.id
        and placeholders(" ".join(m.id if isinstance(m.id, tuple) else (m.id,)))
        and not m.auto_comments
    ]
    assert undocumented == []


def test_a_number_written_into_a_message_is_the_codes() -> None:
    [export] = [s for s in MODERATION_SPECS if s.name == "export"]
    assert f"longer than {IRC_FILE_MAX_LINES} lines" in export.details


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("fr-CA", "fr"),
        ("es-MX", "es"),
        ("ES_es", "es"),
        ("en-GB", "en"),
        ("pt-br", None),  # not shipped: neither pt_BR nor pt
        ("xx", None),
        ("", None),
        (None, None),
    ],
)
def test_a_language_tag_matches_a_shipped_language(tag: str | None, language: str | None) -> None:
    assert match(tag) == language


def test_an_unknown_language_speaks_english() -> None:
    assert translations("xx").gettext("Nothing changed.") == "Nothing changed."
    assert translations("de").gettext("Nothing changed.") == "Nichts geändert."
