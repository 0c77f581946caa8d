"""The plain-text fast path (bridge/telegram/plain.py) reads exactly what PTB's path reads.

For every update of the plain shape both give the same Message; every other shape, or a
field of an unexpected type, is refused by the fast path (None) and left to PTB.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.model import MessageKind
from bridge.telegram.inbound import decode, translate
from bridge.telegram.plain import plain_text

names = st.text(min_size=0, max_size=12)
ids = st.integers(min_value=1, max_value=2**40)
ENTITY_TYPES = ["bold", "italic", "code", "url", "text_link", "mention", "spoiler", "hashtag"]


@st.composite
def plain_updates(draw: st.DrawFn) -> dict[str, Any]:
    text = draw(st.one_of(st.text(min_size=1, max_size=40), st.just("/me waves")))
    if draw(st.booleans()):
        text = "/me " + text
    units = len(text.encode("utf-16-le")) // 2
    entities = []
    for _ in range(draw(st.integers(0, 3))):
        offset = draw(st.integers(0, units))
        entity: dict[str, Any] = {
            "type": draw(st.sampled_from(ENTITY_TYPES)),
            "offset": offset,
            "length": draw(st.integers(0, units - offset)),
        }
        if entity["type"] == "text_link":
            entity["url"] = draw(st.sampled_from(["https://example.org/", "http://a.b/c?d=e"]))
        entities.append(entity)
    user: dict[str, Any] = {
        "id": draw(ids),
        "is_bot": draw(st.booleans()),
        "first_name": draw(names),
    }
    for key in ("last_name", "username"):
        if draw(st.booleans()):
            user[key] = draw(names)
    private = draw(st.booleans())
    chat: dict[str, Any] = (
        {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        if private
        else {"id": -draw(ids), "type": draw(st.sampled_from(["group", "supergroup"]))}
    )
    if not private and draw(st.booleans()):
        chat["title"] = draw(names)
    if not private and draw(st.booleans()):
        chat["is_forum"] = draw(st.booleans())
    message: dict[str, Any] = {
        "message_id": draw(ids),
        "date": draw(st.integers(0, 2**31)),
        "chat": chat,
        "from": user,
        "text": text,
    }
    if entities:
        message["entities"] = entities
    return {"update_id": draw(ids), "message": message}


def by_ptb(raw: dict[str, Any]) -> Any:
    update = decode(raw, None)
    assert update is not None
    return translate(update, bot_id=12345)


@settings(max_examples=300, deadline=None)
@given(plain_updates())
def test_the_fast_path_reads_a_plain_update_as_ptb_does(raw: dict[str, Any]) -> None:
    fast = plain_text(raw)
    assert fast is not None
    assert fast == by_ptb(raw)


OTHER_SHAPES = [
    (
        "message",
        "reply_to_message",
        {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}},
    ),
    ("message", "sender_chat", {"id": -100, "type": "channel", "title": "C"}),
    ("message", "forward_origin", {"type": "hidden_user", "date": 0, "sender_user_name": "x"}),
    ("message", "message_thread_id", 5),
    ("message", "is_topic_message", True),
    ("message", "photo", [{"file_id": "a", "file_unique_id": "b", "width": 1, "height": 1}]),
    ("message", "edit_date", 5),
    ("chat", "type", "channel"),
    ("chat", "id", "not a number"),
    ("from", "id", True),
    ("from", "first_name", 5),
    ("update", "edited_message", {}),
]


@settings(max_examples=100, deadline=None)
@given(plain_updates(), st.sampled_from(OTHER_SHAPES))
def test_any_other_shape_is_left_to_ptb(raw: dict[str, Any], change: tuple[str, str, Any]) -> None:
    where, key, value = change
    target = {
        "update": raw,
        "message": raw["message"],
        "chat": raw["message"]["chat"],
        "from": raw["message"]["from"],
    }[where]
    target[key] = value
    assert plain_text(raw) is None


def group_update(text: str, chat_type: str = "supergroup", **fields: Any) -> dict[str, Any]:
    """A new text message in group -5 by Al (id 7)."""
    message = {
        "message_id": 2,
        "date": 3,
        "chat": {"id": -5, "type": chat_type, "title": "G"},
        "from": {"id": 7, "is_bot": False, "first_name": "Al"},
        "text": text,
        **fields,
    }
    return {"update_id": 1, "message": message}


def test_unusual_entities_are_left_to_ptb() -> None:
    mention = {"type": "text_mention", "offset": 0, "length": 2, "user": {"id": 1}}
    raw = group_update("hi there", entities=[mention])
    assert plain_text(raw) is None
    raw["message"]["entities"] = [{"type": "custom_emoji", "offset": 0, "length": 2}]
    assert plain_text(raw) is None
    raw["message"]["entities"] = [{"type": "bold", "offset": 0, "length": 2}]
    fast = plain_text(raw)
    assert fast is not None and fast == by_ptb(raw)
    assert fast.kind is MessageKind.TEXT and fast.chat.title == "G"


def test_me_in_a_group_is_an_action_and_in_private_text() -> None:
    raw = group_update("/me waves", chat_type="group")
    fast = plain_text(raw)
    assert fast is not None and (fast.kind, fast.text) == (MessageKind.ACTION, "waves")
    raw["message"]["chat"] = {"id": 7, "type": "private", "first_name": "Al"}
    fast = plain_text(raw)
    assert fast is not None and (fast.kind, fast.text) == (MessageKind.TEXT, "/me waves")
