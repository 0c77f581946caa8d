"""The commonest update, a plain new text message, read straight from getUpdates' JSON.

python-telegram-bot's Update.de_json builds a whole object tree for every update: ~0.1 ms
warm and 0.3–0.5 ms on an idle bridge's cold caches, the largest cost between Telegram's
answer and the IRC line (bench/PROFILE.md, issue 12). An update of exactly the plain shape
(a new message with text and simple entities, no reply, forward, topic, media or sender
chat) becomes the same Message that inbound.translate() makes from PTB's objects; any other
shape, or a field of an unexpected type, returns None and takes PTB's path. A property test
holds the two paths equal.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from bridge.model import ChatRef, Message, MessageKind, Network, telegram_chat_key
from bridge.render.telegram_html import entities_to_spans
from bridge.telegram.inbound import ME, after_me, author_of

_MESSAGE_KEYS = frozenset(
    {"message_id", "date", "chat", "from", "text", "entities", "link_preview_options"}
)
_CHAT_KEYS = frozenset({"id", "type", "title", "username", "first_name", "last_name", "is_forum"})
_USER_KEYS = frozenset(
    {
        "id",
        "is_bot",
        "first_name",
        "last_name",
        "username",
        "language_code",
        "is_premium",
        "added_to_attachment_menu",
    }
)
_ENTITY_KEYS = frozenset({"type", "offset", "length", "url"})
_SIMPLE_ENTITIES = frozenset(
    {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "url",
        "text_link",
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "email",
        "phone_number",
    }
)


def plain_text(raw: dict[str, Any]) -> Message | None:
    """The Message of a plain new text message, or None when the update has another shape."""
    if len(raw) != 2 or not isinstance(raw.get("update_id"), int):
        return None
    msg = raw.get("message")
    if not isinstance(msg, dict) or not msg.keys() <= _MESSAGE_KEYS:
        return None
    chat, user, text = msg.get("chat"), msg.get("from"), msg.get("text")
    message_id, date = msg.get("message_id"), msg.get("date")
    if not (_is_int(message_id) and _is_int(date) and isinstance(text, str) and text):
        return None
    if not (_is_chat(chat) and _is_user(user)):
        return None
    entities = _entities(msg.get("entities", []))
    if entities is None:
        return None
    private = chat["type"] == "private"
    ref = ChatRef(
        Network.TELEGRAM,
        telegram_chat_key(chat["id"], None),
        is_private=private,
        title=chat.get("title"),
        is_forum=bool(chat.get("is_forum")),
    )
    spans = entities_to_spans(text, entities)
    kind = MessageKind.TEXT
    if text.startswith(ME) and not private:
        kind, text, spans = MessageKind.ACTION, text[len(ME) :], after_me(spans)
    return Message(
        source_id=f"tg:{chat['id']}:{message_id}",
        author=author_of(
            user["id"],
            user["first_name"],
            user.get("last_name"),
            user.get("username"),
            user["is_bot"],
            user.get("language_code"),
        ),
        chat=ref,
        text=text,
        spans=spans,
        kind=kind,
        timestamp=float(date),
    )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _opt_str(value: object) -> bool:
    return value is None or isinstance(value, str)


def _is_chat(chat: object) -> TypeGuard[dict[str, Any]]:
    return (
        isinstance(chat, dict)
        and chat.keys() <= _CHAT_KEYS
        and _is_int(chat.get("id"))
        and chat.get("type") in ("private", "group", "supergroup")
        and all(_opt_str(chat.get(k)) for k in ("title", "username", "first_name", "last_name"))
        and isinstance(chat.get("is_forum", False), bool)
    )


def _is_user(user: object) -> TypeGuard[dict[str, Any]]:
    return (
        isinstance(user, dict)
        and user.keys() <= _USER_KEYS
        and _is_int(user.get("id"))
        and isinstance(user.get("is_bot"), bool)
        and isinstance(user.get("first_name"), str)
        and _opt_str(user.get("last_name"))
        and _opt_str(user.get("username"))
        and _opt_str(user.get("language_code"))
    )


def _entities(raw: object) -> list[tuple[str, int, int, str | None]] | None:
    if not isinstance(raw, list):
        return None
    out: list[tuple[str, int, int, str | None]] = []
    for e in raw:
        if not (isinstance(e, dict) and e.keys() <= _ENTITY_KEYS):
            return None
        kind, offset, length, url = e.get("type"), e.get("offset"), e.get("length"), e.get("url")
        if kind not in _SIMPLE_ENTITIES or not (_is_int(offset) and _is_int(length)):
            return None
        if url is not None and not isinstance(url, str):
            return None
        out.append((str(kind), offset, length, url))
    return out
