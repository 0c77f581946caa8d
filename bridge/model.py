"""The neutral message model: both connectors translate into and out of these types.

Nothing here knows about python-telegram-bot or irc; the router, renderers, outbox and
handlers see only these frozen dataclasses.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NewType

ChatId = NewType("ChatId", str)
"""A chat on one network: a Telegram chat id as text ("-1001234") or an IRC target ("#chan")."""

UserId = NewType("UserId", str)
"""A stable user key: Telegram numeric id as text, IRC account or nick!user@host."""

GENERAL_TOPIC = 1
"""The General topic of a Telegram forum group: its messages carry no message_thread_id, so
its chat key is the group's own."""


def telegram_chat_key(group: str | int, topic: int | None) -> ChatId:
    """The ChatId of a Telegram group ("-100123"), or of one forum topic in it ("-100123/16",
    as matterbridge writes it). General is the group itself: it has no key of its own.

    >>> telegram_chat_key(-100123, 16), telegram_chat_key("-100123", None)
    ('-100123/16', '-100123')
    >>> telegram_chat_key(-100123, GENERAL_TOPIC)
    '-100123'
    """
    if topic is None or topic == GENERAL_TOPIC:
        return ChatId(str(group))
    return ChatId(f"{group}/{topic}")


def split_telegram_chat(key: str) -> tuple[str, int | None]:
    """(group, topic or None) of a Telegram chat key: Bot API calls take the group, and the
    topic as message_thread_id.

    >>> split_telegram_chat("-100123/16"), split_telegram_chat("42")
    (('-100123', 16), ('42', None))
    """
    group, sep, topic = key.partition("/")
    return (group, int(topic)) if sep and topic.isdigit() else (key, None)


class Network(enum.StrEnum):
    TELEGRAM = "telegram"
    IRC = "irc"


class SpanKind(enum.StrEnum):
    """Formatting both networks can express (or at least describe)."""

    BOLD = "bold"
    ITALIC = "italic"
    UNDERLINE = "underline"
    STRIKE = "strike"
    CODE = "code"
    PRE = "pre"
    LINK = "link"
    SPOILER = "spoiler"


@dataclass(frozen=True, slots=True)
class Span:
    """Formatting over text[start:end], offsets in Python code points."""

    kind: SpanKind
    start: int
    end: int
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Author:
    network: Network
    user_id: UserId
    display_name: str
    nick: str | None = None
    """The IRC nick, or the Telegram @username (without @)."""
    account: str | None = None
    """The IRC services account when the server told us; None when unknown."""
    mask: str | None = None
    """IRC nick!user@host."""
    is_bot: bool = False
    language_code: str | None = None
    """Telegram: the language the person's app is set to (an IETF tag such as "de-AT"), a
    hint for the bot's own answers (bridge/i18n.py); None on IRC or when not sent."""
    posted_as: ChatId | None = None
    """Telegram: the chat this was sent as (a channel, or the group itself for an anonymous
    admin). Any of its admins can post so, and all share one placeholder user id: no one
    person can be named, so such an author is never identified as anyone."""

    @property
    def verified(self) -> bool:
        """Telegram ids and IRC services accounts are trustworthy; a bare IRC mask is not."""
        return self.network is Network.TELEGRAM or self.account is not None


@dataclass(frozen=True, slots=True)
class ChatRef:
    network: Network
    chat_id: ChatId
    is_private: bool = False
    title: str | None = None
    is_forum: bool = False
    """A Telegram group with topics: lines from it are labelled with their topic on IRC
    where one pair carries the whole group."""


class MessageKind(enum.StrEnum):
    TEXT = "text"
    ACTION = "action"
    JOIN = "join"
    PART = "part"
    QUIT = "quit"
    KICK = "kick"
    NICK = "nick"
    TOPIC = "topic"
    """A Telegram forum topic was created, renamed, closed or reopened (detail: a
    TopicChange): never relayed, it teaches the topic's name and state."""
    REACTION = "reaction"
    """A Telegram member reacted to a message (detail: a Reaction); only what was added."""


class TopicEvent(enum.StrEnum):
    CREATED = "created"
    EDITED = "edited"
    CLOSED = "closed"
    REOPENED = "reopened"


@dataclass(frozen=True, slots=True)
class Departure:
    """The detail of an IRC PART or QUIT."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class Kick:
    """The detail of an IRC KICK: the author kicked target."""

    target: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class NickChange:
    """The detail of an IRC NICK: the author is now new_nick."""

    new_nick: str


@dataclass(frozen=True, slots=True)
class TopicChange:
    """The detail of a TOPIC message; name is None when the event gives none (closed,
    reopened, or only the icon edited)."""

    event: TopicEvent
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Reaction:
    """The detail of a REACTION: the reactions added to message message_id of the chat's
    group (a removal carries none and is not decoded), each an emoji, its fallback for a
    custom emoji, or None for a custom emoji whose fallback is unknown."""

    message_id: str
    added: tuple[str | None, ...]


Detail = Departure | Kick | NickChange | TopicChange | Reaction
"""What a kind of message carries beside its text, typed per kind."""


@dataclass(frozen=True, slots=True)
class ReplyRef:
    """What a message answers: enough to show "re <name>: <quote>" on the other side."""

    author_name: str
    text: str
    source_id: str | None = None
    """The answered message's id on its own network."""
    by_bridge: bool = False
    """The answered message was posted by the bridge (look up its real author)."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A media item described in words for networks that cannot show it."""

    kind: str
    """photo, video, animation, document, audio, voice, video_note, sticker, location, ..."""
    file_name: str | None = None
    size: int | None = None
    detail: str | None = None
    """Kind-specific words: a sticker's emoji, a poll's question, coordinates, ..."""
    file_id: str | None = None
    """Telegram's file_id, to fetch the bytes through the Bot API (never a URL: a file URL
    carries the bot token)."""
    mime_type: str | None = None
    link: str | None = None
    """Set by the relay when [web] is on: the bridge's own signed link to the bytes (or
    "(too large to fetch)"), shown right after the description on IRC."""


@dataclass(frozen=True, slots=True)
class Message:
    """One event from one network, ready to be routed."""

    source_id: str
    """Unique per network and stable across re-delivery (dedup key for the outbox)."""
    author: Author
    chat: ChatRef
    text: str = ""
    spans: tuple[Span, ...] = ()
    kind: MessageKind = MessageKind.TEXT
    reply_to: ReplyRef | None = None
    edit_of: str | None = None
    """An edit: the source_id of the message it changes (its own source_id stays unique
    per edit, for de-duplication)."""
    attachments: tuple[Attachment, ...] = ()
    timestamp: float = 0.0
    detail: Detail | None = None
    """Kind-specific details: Kick for KICK, Departure for PART and QUIT, NickChange for
    NICK, TopicChange for TOPIC, Reaction for REACTION; None for the others."""
    forwarded_from: str | None = None
    """A forward: who wrote it first (a name). The sender only passes it on, so it is shown
    as such and never run as a command."""
    replay_possible: bool = False
    """Its source may be giving it again, relayed before a restart (set by the decoder:
    Telegram's first poll after a start, an IRC line of a batch or stamped in the past):
    what it causes is de-duplicated by the store before anything is sent."""

    @property
    def is_edit(self) -> bool:
        return self.edit_of is not None


@dataclass(frozen=True, slots=True)
class Posted:
    """A message the bridge posted for someone, remembered (with its delivery, atomically)
    so that a reply to it can name its real author."""

    network: str
    chat: str
    message_id: str
    author_name: str
    text: str
