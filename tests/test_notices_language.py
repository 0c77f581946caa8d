"""The notice a chat gets for messages too old to deliver speaks [i18n] default_language
(issue 26): everyone in the group or channel sees it."""

from __future__ import annotations

from bridge.app import horizon_summary
from bridge.model import Network
from bridge.payloads import IrcLines, TelegramHtml


def test_the_horizon_notice_in_the_default_language() -> None:
    assert horizon_summary(Network.TELEGRAM, 3, 24.0, "de") == TelegramHtml(
        "<i>3 Nachrichten der letzten 24 Std. wurden nicht zugestellt (die Brücke war aus).</i>"
    )
    assert horizon_summary(Network.IRC, 1, 0.5, "fr") == IrcLines(
        ("1 message des dernières 0.5 h n’a pas été remis (la passerelle était arrêtée).",),
        notice=True,
    )
    assert horizon_summary(Network.IRC, 2, 24.0) == IrcLines(
        ("2 messages from the last 24 h were not delivered (the bridge was down).",), notice=True
    )
