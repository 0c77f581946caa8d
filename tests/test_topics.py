"""Forum topics, fast: chat keys, which pair a topic's message goes to, the config of topic
pairs, and how a forum group's updates are read (bridge/telegram/inbound.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.cli import main
from bridge.config import BridgePair, parse_config
from bridge.errors import ConfigError
from bridge.model import (
    ChatId,
    ChatRef,
    MessageKind,
    Network,
    TopicChange,
    TopicEvent,
    split_telegram_chat,
    telegram_chat_key,
)
from bridge.pairs import Pairs, Route
from bridge.telegram.inbound import translate
from tests.support.updates import ALICE, DATE, update

C = -1001000000001
FORUM_CHAT: dict[str, Any] = {"id": C, "type": "supergroup", "title": "Forum", "is_forum": True}
PLAIN_CHAT: dict[str, Any] = {"id": C, "type": "supergroup", "title": "Plain"}


def tg_chat(key: str, *, forum: bool = True) -> ChatRef:
    return ChatRef(Network.TELEGRAM, ChatId(key), is_forum=forum)


# ------------------------------------------------------------------ chat keys


@pytest.mark.parametrize(
    ("group", "topic", "key"),
    [
        (C, None, f"{C}"),
        (C, 16, f"{C}/16"),
        (str(C), 16, f"{C}/16"),
        (C, 1, f"{C}"),  # General is the group itself
        (42, None, "42"),  # a private chat
    ],
)
def test_a_chat_key_names_the_group_and_its_topic(group: Any, topic: Any, key: str) -> None:
    assert telegram_chat_key(group, topic) == key
    assert split_telegram_chat(key) == (str(group), None if topic in (None, 1) else topic)


def test_a_key_that_is_no_topic_key_is_a_group() -> None:
    assert split_telegram_chat("-100/abc") == ("-100/abc", None)
    assert split_telegram_chat("-100/") == ("-100/", None)


# ------------------------------------------------------------------ pairs


def pairs(*bridges: tuple[int, int | None, str]) -> Pairs:
    return Pairs(BridgePair(chat, channel, topic) for chat, topic, channel in bridges)


def test_a_topic_goes_to_its_own_pair_and_an_unmapped_one_nowhere() -> None:
    two = pairs((C, 16, "#help"), (C, 20, "#events"))
    assert two.route(tg_chat(f"{C}/16")) == Route("#help")
    assert two.route(tg_chat(f"{C}/20")) == Route("#events")
    assert two.route(tg_chat(f"{C}/30")) is None
    assert two.route(tg_chat(f"{C}")) is None  # General has no pair
    assert two.group_for("#HELP") == f"{C}/16"
    assert two.paired(ChatRef(Network.IRC, ChatId("#events"))) == tg_chat(f"{C}/20", forum=False)
    assert two.telegram_chats == (str(C),)  # one group, whatever its topics
    assert two.is_bridged_group(f"{C}/30") and not two.is_bridged_group("-1005")


def test_a_whole_group_pair_takes_the_other_topics_and_names_them() -> None:
    mixed = pairs((C, 16, "#help"), (C, None, "#all"))
    assert mixed.route(tg_chat(f"{C}/16")) == Route("#help")
    assert mixed.route(tg_chat(f"{C}/30")) == Route("#all", 30)
    assert mixed.route(tg_chat(f"{C}")) == Route("#all", 1)  # General, named on a forum
    assert mixed.route(tg_chat(f"{C}", forum=False)) == Route("#all")  # no topics: no label
    assert mixed.group_for("#all") == f"{C}"


def test_topic_1_is_general() -> None:
    general = pairs((C, 1, "#general"), (C, None, "#all"))
    assert general.route(tg_chat(f"{C}")) == Route("#general")
    assert general.route(tg_chat(f"{C}/9")) == Route("#all", 9)
    assert general.group_for("#general") == f"{C}"  # sent without message_thread_id


# ------------------------------------------------------------------ config

MINIMAL = """
[telegram]
token = "1:abc"
[irc]
host = "127.0.0.1"
nick = "bridge"
"""


def bridges(*tables: str) -> str:
    return MINIMAL + "".join(f"[[bridge]]\n{t}\n" for t in tables)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return info.value.problems


def test_one_group_in_several_pairs_one_per_topic_and_one_whole() -> None:
    config = parse_config(
        bridges(
            'telegram_chat = -100\ntelegram_topic = 16\nirc_channel = "#help"',
            'telegram_chat = -100\ntelegram_topic = 1\nirc_channel = "#general"',
            'telegram_chat = -100\nirc_channel = "#all"',
        )
    )
    assert [(b.telegram_chat, b.telegram_topic, b.irc_channel) for b in config.bridges] == [
        (-100, 16, "#help"),
        (-100, 1, "#general"),
        (-100, None, "#all"),
    ]


def test_a_repeated_topic_group_or_channel_is_refused_by_key() -> None:
    assert problems(
        bridges(
            'telegram_chat = -100\ntelegram_topic = 16\nirc_channel = "#a"',
            'telegram_chat = -100\ntelegram_topic = 16\nirc_channel = "#b"',
            'telegram_chat = -100\nirc_channel = "#c"',
            'telegram_chat = -100\nirc_channel = "#d"',
            'telegram_chat = -200\nirc_channel = "#A"',
        )
    ) == [
        "bridge[1].telegram_topic: topic 16 of telegram_chat -100 is bridged by bridge[0] already",
        "bridge[3].telegram_chat: -100 is bridged whole by bridge[2] already; a group in "
        "several pairs needs a telegram_topic in each",
        "bridge[4].irc_channel: #A is bridged by bridge[0] already; each irc_channel may "
        "appear in one pair only",
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            "0",
            "bridge[0].telegram_topic: expected a topic's message_thread_id (1 or more; "
            "1 is General)",
        ),
        ('"16"', "bridge[0].telegram_topic: expected an integer, got str"),
    ],
)
def test_a_topic_must_be_a_thread_id(value: str, problem: str) -> None:
    text = bridges(f'telegram_chat = -100\ntelegram_topic = {value}\nirc_channel = "#a"')
    assert problems(text) == [problem]


def test_check_config_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        bridges(
            'telegram_chat = -100\ntelegram_topic = 3\nirc_channel = "#a"',
            'telegram_chat = -100\ntelegram_topic = 3\nirc_channel = "#b"',
        )
    )
    assert main(["check-config", "--config", str(path)]) == 2
    assert "config error: bridge[1].telegram_topic: topic 3" in capsys.readouterr().err


# ------------------------------------------------------------------ inbound


def forum_message(text: str | None = None, **fields: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {"message_id": 40, "date": DATE, "chat": FORUM_CHAT, "from": ALICE}
    if text is not None:
        msg["text"] = text
    msg.update(fields)
    return msg


CREATED = forum_message(
    message_id=16,
    message_thread_id=16,
    is_topic_message=True,
    forum_topic_created={"name": "Help", "icon_color": 7322096},
)


def test_a_topics_message_is_in_the_topics_chat() -> None:
    msg = translate(
        update(
            message=forum_message(
                "hi", message_thread_id=16, is_topic_message=True, reply_to_message=CREATED
            )
        ),
        None,
    )
    assert msg is not None and msg.kind is MessageKind.TEXT
    assert msg.chat == ChatRef(Network.TELEGRAM, ChatId(f"{C}/16"), title="Forum", is_forum=True)
    assert msg.reply_to is None  # the topic's first message is no reply
    assert msg.source_id == f"tg:{C}:40"


def test_general_is_the_group_itself() -> None:
    msg = translate(update(message=forum_message("hi")), None)
    assert msg is not None and msg.chat.chat_id == f"{C}" and msg.chat.is_forum


def test_a_reply_in_a_topic_is_a_reply() -> None:
    asked = forum_message("why?", message_id=30, message_thread_id=16, is_topic_message=True)
    msg = translate(
        update(
            message=forum_message(
                "because", message_thread_id=16, is_topic_message=True, reply_to_message=asked
            )
        ),
        None,
    )
    assert msg is not None and msg.reply_to is not None and msg.reply_to.text == "why?"


def test_a_reply_to_the_topic_root_without_its_service_fields_is_no_reply() -> None:
    """Telegram may send the root shortened; its id is the topic's."""
    root = forum_message("", message_id=16)
    del root["text"]
    msg = translate(
        update(
            message=forum_message(
                "hi", message_thread_id=16, is_topic_message=True, reply_to_message=root
            )
        ),
        None,
    )
    assert msg is not None and msg.reply_to is None


def test_a_reply_thread_in_a_group_without_topics_is_no_topic() -> None:
    asked = {"message_id": 5, "date": DATE, "chat": PLAIN_CHAT, "from": ALICE, "text": "q"}
    raw = {**forum_message("a", message_thread_id=5, reply_to_message=asked), "chat": PLAIN_CHAT}
    msg = translate(update(message=raw), None)
    assert msg is not None and msg.chat.chat_id == f"{C}" and not msg.chat.is_forum
    assert msg.reply_to is not None and msg.reply_to.text == "q"


@pytest.mark.parametrize(
    ("fields", "event", "name"),
    [
        ({"forum_topic_created": {"name": "Help", "icon_color": 1}}, "created", "Help"),
        ({"forum_topic_edited": {"name": "Support"}}, "edited", "Support"),
        ({"forum_topic_edited": {"icon_custom_emoji_id": "5"}}, "edited", None),
        ({"forum_topic_closed": {}}, "closed", None),
        ({"forum_topic_reopened": {}}, "reopened", None),
    ],
)
def test_a_topics_service_messages_become_topic_messages(
    fields: dict[str, Any], event: str, name: str | None
) -> None:
    raw = forum_message(message_id=16, message_thread_id=16, is_topic_message=True, **fields)
    msg = translate(update(message=raw), None)
    assert msg is not None and msg.kind is MessageKind.TOPIC
    assert msg.chat.chat_id == f"{C}/16"
    assert msg.detail == TopicChange(TopicEvent(event), name)


def test_renaming_general_is_about_topic_1() -> None:
    msg = translate(update(message=forum_message(forum_topic_edited={"name": "Lobby"})), None)
    assert msg is not None and msg.kind is MessageKind.TOPIC and msg.chat.chat_id == f"{C}"
