"""Telegram updates → neutral Messages: the only place that reads python-telegram-bot's types
on the way in, so the relay core sees a Message whichever network it came from.

A group text starting with "/me " becomes an ACTION here (as a CTCP ACTION does on IRC), so
the relay and the command gateway never look for it; in a private chat it stays text, which
the command gateway answers as it always has.

In a forum group a message of topic T is in chat "<group>/T" (bridge.model.telegram_chat_key),
General's in the group itself; the topics' service messages (created, edited, closed,
reopened) become TOPIC messages, which teach names and are never relayed.
"""

from __future__ import annotations

import datetime as dtm
import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import telegram

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
    TopicChange,
    TopicEvent,
    UserId,
    telegram_chat_key,
)
from bridge.render.telegram_html import entities_to_spans

log = logging.getLogger(__name__)

ME = "/me "


class UnreadableUpdate(ValueError):
    """python-telegram-bot cannot build an Update from this JSON (a field of a shape it does
    not expect): the poller sets the update aside with its raw JSON, like any poison input."""


def decode(raw: dict[str, Any], bot: telegram.Bot | None) -> telegram.Update | None:
    """PTB's Update from getUpdates JSON; raises UnreadableUpdate when PTB cannot read it, so
    the update is kept for a person to look at while the ones behind it go on."""
    try:
        return telegram.Update.de_json(raw, bot)
    except Exception as exc:
        raise UnreadableUpdate(
            f"python-telegram-bot cannot parse it ({type(exc).__name__}: {exc})"
        ) from exc


def _handled(update: telegram.Update) -> tuple[telegram.Message, telegram.User] | None:
    """The new or edited message an update carries and its sender, if it has one."""
    msg = update.message or update.edited_message
    return None if msg is None or msg.from_user is None else (msg, msg.from_user)


def group_title(update: telegram.Update) -> tuple[str, str] | None:
    """(chat id, title) of the titled chat a handled update comes from: a title change is seen
    even in a service message that is not relayed."""
    handled = _handled(update)
    if handled is None or not handled[0].chat.title:
        return None
    return str(handled[0].chat.id), handled[0].chat.title


def translate(update: telegram.Update, bot_id: int | None) -> Message | None:
    """Turn an update into a neutral Message; None for kinds the bridge does not relay.
    bot_id marks replies to the bridge's own posts (their real author is looked up)."""
    handled = _handled(update)
    if handled is None:
        log.debug("Telegram: skipping update %d of an unhandled kind", update.update_id)
        return None
    msg, user = handled
    private = msg.chat.type == "private"
    chat = ChatRef(
        Network.TELEGRAM,
        telegram_chat_key(msg.chat.id, topic_of(msg)),
        is_private=private,
        title=msg.chat.title,
        is_forum=bool(msg.chat.is_forum),
    )
    source_id = f"tg:{msg.chat.id}:{msg.message_id}"
    edit_of = None
    if update.edited_message is not None:
        edit_of = source_id
        source_id += f":e{update.update_id}"  # edit_date has 1 s resolution; ids are unique
    author = _author(user)
    if msg.sender_chat is not None:
        # anonymous group admins and channels post as the chat, under a shared placeholder id
        as_chat = msg.sender_chat
        author = replace(
            author,
            display_name=as_chat.title or author.display_name,
            nick=None,
            posted_as=ChatId(str(as_chat.id)),
        )
    stamp = msg.date.timestamp()
    event = _topic_event(msg)
    if event is not None:
        return Message(
            source_id,
            author,
            chat,
            event.name or "",
            kind=MessageKind.TOPIC,
            timestamp=stamp,
            detail=event,
        )
    if msg.new_chat_members:
        names = ", ".join(display_name(u) for u in msg.new_chat_members)
        return Message(source_id, author, chat, names, kind=MessageKind.JOIN, timestamp=stamp)
    if msg.left_chat_member:
        name = display_name(msg.left_chat_member)
        return Message(source_id, author, chat, name, kind=MessageKind.PART, timestamp=stamp)
    text = msg.text if msg.text is not None else (msg.caption or "")
    entities = msg.entities if msg.text is not None else msg.caption_entities
    attachments = attachments_of(msg)
    if not text and not attachments:
        log.debug("Telegram: skipping message %s with nothing to relay", source_id)
        return None
    spans = entities_to_spans(text, _entities(entities))
    kind = MessageKind.TEXT
    forwarded_from = _forwarded_from(msg)
    if text.startswith(ME) and not private and forwarded_from is None:
        kind, text, spans = MessageKind.ACTION, text[len(ME) :], after_me(spans)
    return Message(
        source_id=source_id,
        author=author,
        chat=chat,
        text=text,
        spans=spans,
        kind=kind,
        reply_to=_reply_ref(msg, bot_id),
        edit_of=edit_of,
        attachments=attachments,
        timestamp=stamp,
        forwarded_from=forwarded_from,
    )


def topic_of(msg: telegram.Message) -> int | None:
    """The forum topic a message is in; None for General and for groups without topics (a
    reply chain in an ordinary group has a message_thread_id too, but is no topic)."""
    if not msg.chat.is_forum or not msg.is_topic_message or not msg.message_thread_id:
        return None
    return msg.message_thread_id


def _topic_event(msg: telegram.Message) -> TopicChange | None:
    """What a topic service message says: created, edited, closed or reopened, and the name
    it gives."""
    if msg.forum_topic_created is not None:
        return TopicChange(TopicEvent.CREATED, msg.forum_topic_created.name)
    if msg.forum_topic_edited is not None:  # no name when only the icon changed
        return TopicChange(TopicEvent.EDITED, msg.forum_topic_edited.name)
    if msg.forum_topic_closed is not None:
        return TopicChange(TopicEvent.CLOSED)
    if msg.forum_topic_reopened is not None:
        return TopicChange(TopicEvent.REOPENED)
    return None


def _forwarded_from(msg: telegram.Message) -> str | None:
    """Who wrote a forwarded message first (Bot API 7 forward_origin), as a name.

    A linked channel's post copied into its discussion group (is_automatic_forward) is not
    someone passing a message on: it is shown as the channel's own post."""
    origin = msg.forward_origin
    if origin is None or msg.is_automatic_forward:
        return None
    if isinstance(origin, telegram.MessageOriginUser):
        return display_name(origin.sender_user)
    if isinstance(origin, telegram.MessageOriginHiddenUser):
        return origin.sender_user_name or "a hidden user"
    if isinstance(origin, telegram.MessageOriginChat):
        return _signed(origin.sender_chat.title, origin.author_signature)
    if isinstance(origin, telegram.MessageOriginChannel):
        return _signed(origin.chat.title, origin.author_signature)
    return "unknown"  # a kind newer than this code: still a forward, never a command


def _signed(title: str | None, signature: str | None) -> str:
    name = title or "a chat"
    return f"{name} ({signature})" if signature else name


def after_me(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Spans moved to the text without its "/me " (those only over "/me " are gone)."""
    cut = len(ME)
    return tuple(
        replace(s, start=max(0, s.start - cut), end=s.end - cut) for s in spans if s.end > cut
    )


def display_name(user: telegram.User) -> str:
    return _name_of(user.first_name, user.last_name, user.username, user.id)


def _name_of(first: str, last: str | None, username: str | None, user_id: int) -> str:
    """How a Telegram user is named: full name, else @username's name, else the id."""
    name = " ".join(p for p in (first, last) if p).strip()
    return name or (username or str(user_id))


def _author(user: telegram.User) -> Author:
    return author_of(
        user.id, user.first_name, user.last_name, user.username, user.is_bot, user.language_code
    )


def author_of(
    user_id: int,
    first: str,
    last: str | None,
    username: str | None,
    is_bot: bool,
    language_code: str | None = None,
) -> Author:
    """The Author of a Telegram user, from PTB's object or straight from the JSON (plain.py)."""
    return Author(
        network=Network.TELEGRAM,
        user_id=UserId(str(user_id)),
        display_name=_name_of(first, last, username, user_id),
        nick=username,
        is_bot=is_bot,
        language_code=language_code,
    )


def _reply_ref(msg: telegram.Message, bot_id: int | None) -> ReplyRef | None:
    original = msg.reply_to_message
    if original is None or original.from_user is None:
        return None
    if msg.is_topic_message and (
        original.forum_topic_created is not None or original.message_id == msg.message_thread_id
    ):
        return None  # a reply to the topic's first message is just "in this topic"
    text = original.text or original.caption or ""
    return ReplyRef(
        author_name=display_name(original.from_user),
        text=text,
        source_id=str(original.message_id),
        by_bridge=original.from_user.id == bot_id,
    )


def _entities(entities: Iterable[telegram.MessageEntity]) -> list[tuple[str, int, int, str | None]]:
    return [(str(e.type), e.offset, e.length, e.url) for e in entities]


def _secs(value: int | float | dtm.timedelta) -> str:
    """A duration as whole seconds in words, for the renderer to show as m:ss."""
    return str(int(value.total_seconds() if isinstance(value, dtm.timedelta) else value))


def _file(kind: str, media: Any, detail: str | None = None) -> Attachment:
    """A media item that is a file: its name, size, type and file_id (the voice, video note
    and sticker objects have no file name; getattr keeps one path for all)."""
    return Attachment(
        kind,
        getattr(media, "file_name", None),
        media.file_size,
        detail,
        file_id=media.file_id,
        mime_type=getattr(media, "mime_type", None),
    )


def attachments_of(msg: telegram.Message) -> tuple[Attachment, ...]:
    """Describe every kind of media a message can carry, without any file URL."""
    found: list[Attachment] = []
    if msg.photo:
        # Telegram sends one PhotoSize per resolution; the largest is the photo as taken
        largest = max(msg.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        found.append(Attachment("photo", size=largest.file_size, file_id=largest.file_id))
    if msg.animation:
        anim = msg.animation
        found.append(_file("animation", anim, _secs(anim.duration)))
    elif msg.document:
        found.append(_file("document", msg.document))
    if msg.video:
        video = msg.video
        found.append(_file("video", video, _secs(video.duration)))
    if msg.audio:
        words = " – ".join(p for p in (msg.audio.performer, msg.audio.title) if p)
        found.append(_file("audio", msg.audio, words or None))
    if msg.voice:
        found.append(_file("voice", msg.voice, _secs(msg.voice.duration)))
    if msg.video_note:
        note = msg.video_note
        found.append(_file("video_note", note, _secs(note.duration)))
    if msg.sticker:
        found.append(_file("sticker", msg.sticker, msg.sticker.emoji))
    if msg.venue:
        venue = msg.venue
        found.append(
            Attachment("venue", detail=", ".join(p for p in (venue.title, venue.address) if p))
        )
    elif msg.location:
        found.append(
            Attachment(
                "location", detail=f"{msg.location.latitude:.5g}, {msg.location.longitude:.5g}"
            )
        )
    if msg.contact:
        contact = msg.contact
        name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
        found.append(Attachment("contact", detail=f"{name} {contact.phone_number}".strip()))
    if msg.poll:
        options = " / ".join(o.text for o in msg.poll.options)
        found.append(Attachment("poll", detail=f"{msg.poll.question} ({options})"))
    if msg.dice:
        found.append(Attachment("dice", detail=f"{msg.dice.emoji} {msg.dice.value}"))
    return tuple(found)
