"""The notice that replaces messages too old to deliver, in the language of the pair whose
group or channel sees it.

The outbox knows only a destination (network, chat); the pairs' `language` keys say which
language each group, forum topic and channel hears.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

from bridge.casemap import irc_casefold
from bridge.config_model import BridgePair
from bridge.i18n import translations
from bridge.model import Network, telegram_chat_key
from bridge.payloads import IrcLines, Payload, TelegramHtml


def chat_languages(bridges: Iterable[BridgePair], default: str) -> dict[tuple[str, str], str]:
    """(network, chat key) → the language its pair's notices are in. An IRC channel's key is
    folded by RFC 1459, as the outbox's discard folds it."""
    languages: dict[tuple[str, str], str] = {}
    for pair in bridges:
        language = pair.language or default
        topic = telegram_chat_key(pair.telegram_chat, pair.telegram_topic)
        languages[(Network.TELEGRAM.value, str(topic))] = language
        languages[(Network.IRC.value, irc_casefold(pair.irc_channel))] = language
    return languages


class HorizonNotices:
    """Renders the outbox's horizon summary for one destination."""

    def __init__(self, languages: Mapping[tuple[str, str], str], default: str) -> None:
        self._languages = dict(languages)
        self._default = default

    def __call__(self, network: str, chat: str, count: int, hours: float) -> Payload:
        key = irc_casefold(chat) if network == Network.IRC.value else chat
        language = self._languages.get((network, key), self._default)
        return horizon_summary(network, count, hours, language)


def horizon_summary(network: str, count: int, hours: float, language: str) -> Payload:
    """The line that replaces messages too old to deliver, so their loss is not silent."""
    # Translators: a notice in a group or channel; %(n)d messages of the last %(hours)s
    # hours were dropped while the bridge was down.
    text = translations(language).ngettext(
        "%(n)d message from the last %(hours)s h was not delivered (the bridge was down).",
        "%(n)d messages from the last %(hours)s h were not delivered (the bridge was down).",
        count,
    ) % {"n": count, "hours": f"{hours:g}"}
    if network == Network.TELEGRAM:
        return TelegramHtml(f"<i>{html.escape(text, quote=False)}</i>")
    return IrcLines((text,), notice=True)
