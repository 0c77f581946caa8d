"""Telegram updates as the Bot API sends them, and what the inbound translation makes of them."""

from __future__ import annotations

from typing import Any

import telegram

from bridge.model import (
    Message,
)
from bridge.telegram.inbound import decode, translate

BOT_ID = 4242


GROUP_ID = -1001000000001


DATE = 1_700_000_000


ALICE: dict[str, Any] = {
    "id": 1001,
    "is_bot": False,
    "first_name": "Alice",
    "last_name": "Smith",
    "username": "alice_s",
}


GROUP_CHAT: dict[str, Any] = {"id": GROUP_ID, "type": "supergroup", "title": "Bridge group"}


def message_json(text: str | None = None, **fields: Any) -> dict[str, Any]:
    """A message object as the Bot API sends it (a group text from Alice by default)."""
    msg: dict[str, Any] = {"message_id": 7, "date": DATE, "chat": GROUP_CHAT, "from": ALICE}
    if text is not None:
        msg["text"] = text
    msg.update(fields)
    return msg


def update(update_id: int = 100, **kinds: Any) -> telegram.Update:
    """An Update parsed by PTB from its JSON (as the connector does), without a bot."""
    parsed = decode({"update_id": update_id, **kinds}, None)
    assert parsed is not None
    return parsed


def relayed(upd: telegram.Update) -> Message:
    message = translate(upd, BOT_ID)
    assert message is not None
    return message
