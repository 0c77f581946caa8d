"""A command as it is kept until answered (storage/pending_commands.py): who typed it, where,
and what, as explicit JSON, so that it can run again after a restart.

Only what a command uses is kept: a command is plain text (never a forward, an edit or an
attachment), so its message needs its author, its chat, its id and its time.
"""

from __future__ import annotations

import json
from typing import Any

from bridge.commands import Command
from bridge.model import Author, ChatId, ChatRef, Message, Network, UserId


def encode_command(msg: Message, command: Command) -> str:
    a, c = msg.author, msg.chat
    return json.dumps(
        {
            "source_id": msg.source_id,
            "timestamp": msg.timestamp,
            "text": msg.text,
            "author": {
                "network": a.network.value,
                "user_id": a.user_id,
                "display_name": a.display_name,
                "nick": a.nick,
                "account": a.account,
                "mask": a.mask,
                "is_bot": a.is_bot,
                "language_code": a.language_code,
                "posted_as": a.posted_as,
            },
            "chat": {
                "network": c.network.value,
                "chat_id": c.chat_id,
                "is_private": c.is_private,
                "title": c.title,
                "is_forum": c.is_forum,
            },
            "name": command.name,
            "args": command.args,
        },
        ensure_ascii=False,
    )


def decode_command(body: str) -> tuple[Message, Command]:
    """The message and command encode_command() kept; raises ValueError (or KeyError,
    TypeError) on anything else."""
    data: dict[str, Any] = json.loads(body)
    a, c = data["author"], data["chat"]
    posted_as = a.get("posted_as")
    author = Author(
        network=Network(a["network"]),
        user_id=UserId(str(a["user_id"])),
        display_name=str(a["display_name"]),
        nick=_text(a.get("nick")),
        account=_text(a.get("account")),
        mask=_text(a.get("mask")),
        is_bot=bool(a.get("is_bot")),
        language_code=_text(a.get("language_code")),
        posted_as=ChatId(str(posted_as)) if posted_as is not None else None,
    )
    chat = ChatRef(
        network=Network(c["network"]),
        chat_id=ChatId(str(c["chat_id"])),
        is_private=bool(c.get("is_private")),
        title=_text(c.get("title")),
        is_forum=bool(c.get("is_forum")),
    )
    msg = Message(
        source_id=str(data["source_id"]),
        author=author,
        chat=chat,
        text=str(data["text"]),
        timestamp=float(data["timestamp"]),
    )
    return msg, Command(str(data["name"]), str(data["args"]))


def _text(value: object) -> str | None:
    return None if value is None else str(value)
