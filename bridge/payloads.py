"""What the outbox carries: output already rendered for its destination, one type per kind.

The relay and the command gateway build these; the connectors' delivery sides write them.
They are stored as JSON between the two (the outbox survives restarts), so each type has an
explicit encoding; the keys are those of the untyped dicts used before, so rows queued by an
older version still decode.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class IrcLines:
    """IRC lines for one target, each within the line budget, written in order."""

    lines: tuple[str, ...]
    action: bool = False
    """Each line goes out as a CTCP ACTION (/me)."""
    notice: bool = False
    """NOTICE instead of PRIVMSG (the bridge's own announcements)."""
    recipient: str | None = None
    """For lines to one person: the nick!user@host they are for. Nobody else holding the
    nick by the time they go out gets any of them."""


@dataclass(frozen=True, slots=True)
class TelegramHtml:
    """One Telegram message in parse_mode HTML (at most 4096 visible characters)."""

    html: str
    mergeable: bool = False
    """May be joined with the relayed lines queued behind it when the chat's pace holds it."""
    author: str | None = None
    """Who wrote the relayed text (remembered with the posted message, for replies)."""
    text: str = ""
    """The relayed text in plain form (remembered with the author)."""


@dataclass(frozen=True, slots=True)
class TelegramDocument:
    """A file sent as a Telegram document (a private /export)."""

    file_name: str
    data: bytes
    caption: str


Payload = IrcLines | TelegramHtml | TelegramDocument


def encode_payload(payload: Payload) -> str:
    """The JSON stored in the outbox row."""
    obj: dict[str, Any]
    if isinstance(payload, IrcLines):
        obj = {"lines": list(payload.lines)}
        if payload.action:
            obj["action"] = True
        if payload.notice:
            obj["notice"] = True
        if payload.recipient is not None:
            obj["recipient"] = payload.recipient
    elif isinstance(payload, TelegramHtml):
        obj = {"html": payload.html, "mergeable": payload.mergeable}
        if payload.author is not None:
            obj["author"] = payload.author
            obj["text"] = payload.text
    else:
        obj = {
            "document": payload.file_name,
            "data": base64.b64encode(payload.data).decode("ascii"),
            "caption": payload.caption,
        }
    return json.dumps(obj, ensure_ascii=False)


def decode_payload(raw: str) -> Payload:
    """The payload of a stored row; ValueError if the row holds none of the known kinds."""
    obj = json.loads(raw)
    if not isinstance(obj, dict):
        raise ValueError("outbox payload is not a JSON object")
    if "lines" in obj:
        return IrcLines(
            tuple(str(line) for line in obj["lines"]),
            action=bool(obj.get("action", False)),
            notice=bool(obj.get("notice", False)),
            recipient=str(obj["recipient"]) if obj.get("recipient") else None,
        )
    if "html" in obj:
        author = obj.get("author")
        return TelegramHtml(
            str(obj["html"]),
            mergeable=bool(obj.get("mergeable", False)),
            author=str(author) if author else None,
            text=str(obj.get("text", "")),
        )
    if "document" in obj:
        return TelegramDocument(
            str(obj["document"]), base64.b64decode(obj["data"]), str(obj.get("caption", ""))
        )
    raise ValueError(f"unknown outbox payload with keys {sorted(obj)}")
