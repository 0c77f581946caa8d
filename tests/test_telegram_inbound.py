"""Telegram inbound: Bot API update JSON → neutral Message, through PTB's own parser."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.model import (
    Attachment,
    Author,
    ChatId,
    ChatRef,
    Message,
    MessageKind,
    Network,
    ReplyRef,
    Span,
    SpanKind,
    UserId,
)
from bridge.telegram.inbound import UnreadableUpdate, decode, group_title, translate
from tests.support.updates import (
    ALICE,
    BOT_ID,
    DATE,
    GROUP_CHAT,
    GROUP_ID,
    message_json,
    relayed,
    update,
)

PRIVATE_CHAT: dict[str, Any] = {"id": 1001, "type": "private", "first_name": "Alice"}
BRIDGE_BOT: dict[str, Any] = {"id": BOT_ID, "is_bot": True, "first_name": "Bridge"}


def entity(kind: str, offset: int, length: int) -> dict[str, Any]:
    return {"type": kind, "offset": offset, "length": length}


ALICE_AUTHOR = Author(Network.TELEGRAM, UserId("1001"), "Alice Smith", nick="alice_s")


def test_group_text_with_entities() -> None:
    text = "hi 😀 bold https://example.org"
    msg = relayed(
        update(
            message=message_json(
                text,
                # UTF-16 offsets: the emoji counts twice
                entities=[entity("bold", 6, 4), entity("url", 11, 19)],
            )
        )
    )
    assert msg == Message(
        source_id=f"tg:{GROUP_ID}:7",
        author=ALICE_AUTHOR,
        chat=ChatRef(Network.TELEGRAM, ChatId(str(GROUP_ID)), title="Bridge group"),
        text=text,
        spans=(
            Span(SpanKind.BOLD, 5, 9),
            Span(SpanKind.LINK, 10, 29, "https://example.org"),
        ),
        timestamp=float(DATE),
    )


def test_me_becomes_an_action_with_its_spans_moved() -> None:
    """The offsets the router used to fix up: "/me " cut, spans shifted by four, a span over
    "/me" alone dropped, one starting inside "/me " clipped to the start."""
    text = "/me 😀 waves boldly"
    msg = relayed(
        update(
            message=message_json(
                text,
                entities=[
                    entity("code", 0, 3),  # over "/me" only
                    entity("italic", 2, 9),  # "e 😀 wave" (the emoji is 2 UTF-16 units)
                    entity("bold", 13, 6),  # "boldly"
                ],
            )
        )
    )
    assert msg.kind is MessageKind.ACTION
    assert msg.text == "😀 waves boldly"
    assert msg.spans == (Span(SpanKind.ITALIC, 0, 6), Span(SpanKind.BOLD, 8, 14))
    assert (msg.text[0:6], msg.text[8:14]) == ("😀 wave", "boldly")
    assert not msg.is_edit


def test_bare_me_and_words_starting_with_me_stay_text() -> None:
    for text in ("/me", "/meow at you", "/me@bridge_bot waves"):
        msg = relayed(update(message=message_json(text, entities=[entity("bot_command", 0, 3)])))
        assert (msg.kind, msg.text) == (MessageKind.TEXT, text)


def test_an_edited_me_is_an_edited_action() -> None:
    upd = update(
        update_id=555,
        edited_message=message_json(
            "/me waves again", edit_date=DATE + 5, entities=[entity("italic", 10, 5)]
        ),
    )
    msg = relayed(upd)
    assert (msg.kind, msg.text, msg.is_edit) == (MessageKind.ACTION, "waves again", True)
    assert msg.source_id == f"tg:{GROUP_ID}:7:e555"
    assert msg.spans == (Span(SpanKind.ITALIC, 6, 11),)


def test_me_in_a_private_chat_stays_text() -> None:
    """In a private chat "/me" is what it always was there: text the command gateway answers."""
    msg = relayed(update(message=message_json("/me waves", chat=PRIVATE_CHAT)))
    assert (msg.kind, msg.text, msg.chat.is_private) == (MessageKind.TEXT, "/me waves", True)


def test_me_in_a_photo_caption_is_an_action_with_the_photo() -> None:
    photo = [
        {"file_id": "s", "file_unique_id": "s1", "width": 90, "height": 60, "file_size": 900},
        {"file_id": "l", "file_unique_id": "l1", "width": 1280, "height": 853, "file_size": 99000},
    ]
    msg = relayed(
        update(
            message=message_json(
                photo=photo, caption="/me shows a cat", caption_entities=[entity("bold", 12, 3)]
            )
        )
    )
    assert (msg.kind, msg.text) == (MessageKind.ACTION, "shows a cat")
    assert msg.spans == (Span(SpanKind.BOLD, 8, 11),)
    assert msg.attachments == (Attachment("photo", size=99000, file_id="l"),)


def test_reply_to_the_bridge_and_to_a_person() -> None:
    ours = {**message_json("<bob> hi"), "from": BRIDGE_BOT}
    msg = relayed(update(message=message_json("ok", reply_to_message=ours)))
    assert msg.reply_to == ReplyRef("Bridge", "<bob> hi", source_id="7", by_bridge=True)
    to_alice = message_json("ok", reply_to_message=message_json(caption="a caption"))
    msg = relayed(update(message=to_alice))
    assert msg.reply_to == ReplyRef("Alice Smith", "a caption", source_id="7", by_bridge=False)


def test_reply_to_a_topics_first_message_is_no_reply() -> None:
    created = {"name": "Ideas", "icon_color": 7322096}
    first = message_json(forum_topic_created=created, message_thread_id=7)
    msg = relayed(
        update(
            message=message_json(
                "in the topic", is_topic_message=True, message_thread_id=7, reply_to_message=first
            )
        )
    )
    assert msg.reply_to is None


def test_sent_as_the_chat_takes_the_chats_title() -> None:
    anonymous = {
        "id": 1087968824,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    msg = relayed(
        update(
            message=message_json("from the admins", **{"from": anonymous}, sender_chat=GROUP_CHAT)
        )
    )
    assert (msg.author.display_name, msg.author.nick, msg.author.user_id) == (
        "Bridge group",
        None,
        "1087968824",
    )


def test_joins_and_parts() -> None:
    bob = {"id": 1002, "is_bot": False, "first_name": "Bob"}
    joined = relayed(update(message=message_json(new_chat_members=[ALICE, bob])))
    assert (joined.kind, joined.text) == (MessageKind.JOIN, "Alice Smith, Bob")
    left = relayed(update(message=message_json(left_chat_member=bob)))
    assert (left.kind, left.text) == (MessageKind.PART, "Bob")


def test_a_title_change_is_noted_though_nothing_is_relayed() -> None:
    renamed = {**GROUP_CHAT, "title": "New name"}
    upd = update(message=message_json(chat=renamed, new_chat_title="New name"))
    assert translate(upd, BOT_ID) is None
    assert group_title(upd) == (str(GROUP_ID), "New name")
    assert group_title(update(message=message_json("hi", chat=PRIVATE_CHAT))) is None


def test_unhandled_and_unreadable_updates() -> None:
    member = {"status": "member", "user": BRIDGE_BOT}
    odd = update(
        my_chat_member={
            "chat": GROUP_CHAT,
            "from": ALICE,
            "date": DATE,
            "old_chat_member": {"status": "left", "user": BRIDGE_BOT},
            "new_chat_member": member,
        }
    )
    assert translate(odd, BOT_ID) is None
    assert group_title(odd) is None
    # unreadable: raised for the poller to set aside (tests/test_e2e_unparsable_update.py)
    with pytest.raises(UnreadableUpdate, match=r"^python-telegram-bot cannot parse it \(\w+"):
        decode({"update_id": 9, "message": {"message_id": 1}}, None)
