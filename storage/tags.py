"""Interest tags: one normal form (NFKC, case-folded, trimmed, inner spaces to "-").

Kept apart from the store so handlers can validate what people type before any SQL, and
so the same rules (and reasons for refusing a tag) apply everywhere.
"""

from __future__ import annotations

import os.path
import unicodedata
from collections.abc import Iterable

from bridge.display_names import is_invisible
from bridge.i18n import N_, TranslatableError

MAX_TAG_LENGTH = 32
_TAG_PUNCTUATION = frozenset("-+#._")


class TagError(TranslatableError, ValueError):
    """A tag the roster will not store; exc.said(tr) is the reason shown to the user."""


def fold(text: str) -> str:
    """Case-insensitive comparison key for names and handles."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold()).strip()


def normalise_tag(raw: str) -> str:
    """NFKC + casefold + trim + inner whitespace to "-", or TagError naming why not."""
    if any(is_invisible(c) and c != "\t" for c in raw):
        # Translators: why an interest tag is refused (after "Not accepted: "tag": ").
        raise TagError(N_("contains control characters"))
    text = raw
    for _ in range(3):  # NFKC and casefold can feed each other; stop at the fixpoint
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
        if folded == text:
            break
        text = folded
    tag = "-".join(text.split())
    if not tag:
        # Translators: why an interest tag is refused: there is nothing in it.
        raise TagError(N_("empty"))
    if len(tag) > MAX_TAG_LENGTH:
        # Translators: why an interest tag is refused; %(max)d is a number of characters.
        raise TagError(N_("longer than %(max)d characters"), max=MAX_TAG_LENGTH)
    for c in tag:
        if not (_is_word_char(c) or c in _TAG_PUNCTUATION):
            raise TagError(
                # Translators: why an interest tag is refused; %(char)s is the character, quoted.
                N_("%(char)s is not allowed (only letters, digits and - + # . _)"),
                char=repr(c),
            )
    if not any(_is_word_char(c) for c in tag):
        # Translators: why an interest tag is refused: it is all punctuation.
        raise TagError(N_("needs a letter or digit"))
    return tag


def _is_word_char(c: str) -> bool:
    category = unicodedata.category(c)
    return category[0] in "LM" or category == "Nd"


def prefix_successor(prefix: str) -> str:
    """The smallest string greater than every string starting with prefix (code point order)."""
    while prefix:
        last = ord(prefix[-1]) + 1
        if 0xD800 <= last <= 0xDFFF:
            last = 0xE000
        if last <= 0x10FFFF:
            return prefix[:-1] + chr(last)
        prefix = prefix[:-1]
    return "\U0010ffff"


def shared_prefixes(tags: Iterable[str]) -> dict[str, str | None]:
    """Each tag's longest common prefix with the next tag in code point order, None if empty.

    What interests.shared holds: a member lists two tags starting with P exactly when one
    of these starts with P, which lets /whois find such members without grouping them all.
    """
    ordered = sorted(set(tags))
    following = [*ordered[1:], ""] if ordered else []
    # commonprefix compares characters, not path parts: what a tag prefix needs
    common = os.path.commonprefix
    return {t: common([t, n]) or None for t, n in zip(ordered, following, strict=True)}
