"""The notice a chat gets for messages too old to deliver speaks its pair's language, else
[i18n] default_language (issue 26): everyone in the group or channel sees it."""

from __future__ import annotations

from bridge.config import parse_config
from bridge.model import Network
from bridge.notices import HorizonNotices, chat_languages, horizon_summary
from bridge.payloads import IrcLines, TelegramHtml


def test_the_horizon_notice_in_the_default_language() -> None:
    assert horizon_summary(Network.TELEGRAM, 3, 24.0, "de") == TelegramHtml(
        "<i>3 Nachrichten der letzten 24 Std. wurden nicht zugestellt (die Brücke war aus).</i>"
    )
    assert horizon_summary(Network.IRC, 1, 0.5, "fr") == IrcLines(
        ("1 message des dernières 0.5 h n’a pas été remis (la passerelle était arrêtée).",),
        notice=True,
    )
    assert horizon_summary(Network.IRC, 2, 24.0, "en") == IrcLines(
        ("2 messages from the last 24 h were not delivered (the bridge was down).",), notice=True
    )


PAIRS = """
[telegram]
token = "1:abc"
[irc]
host = "127.0.0.1"
nick = "bridge"
[i18n]
default_language = "fr"
[[bridge]]
telegram_chat = -100
irc_channel = "#Berlin"
language = "de"
[[bridge]]
telegram_chat = -200
telegram_topic = 7
irc_channel = "#topic"
language = "es"
[[bridge]]
telegram_chat = -300
irc_channel = "#other"
"""


def test_the_horizon_notice_speaks_the_language_of_the_pair_that_sees_it() -> None:
    config = parse_config(PAIRS)
    notices = HorizonNotices(chat_languages(config.bridges, "fr"), "fr")
    german = "1 Nachricht der letzten 24 Std. wurde nicht zugestellt (die Brücke war aus)."
    assert notices(Network.IRC, "#berlin", 1, 24.0) == IrcLines((german,), notice=True)
    assert notices(Network.TELEGRAM, "-100", 1, 24.0) == TelegramHtml(f"<i>{german}</i>")
    spanish = horizon_summary(Network.TELEGRAM, 1, 24.0, "es")
    assert notices(Network.TELEGRAM, "-200/7", 1, 24.0) == spanish
    french = horizon_summary(Network.IRC, 1, 24.0, "fr")
    assert notices(Network.IRC, "#other", 1, 24.0) == french
    assert notices(Network.IRC, "#unknown", 1, 24.0) == french
