"""Telegram's message_reaction updates → neutral REACTION Messages, and the custom emoji
fallbacks that let a custom reaction show as an emoji on IRC.

An update says who reacted (a user, or anonymously a chat), to which message id of the group,
and the reactions before and after; only what was added is relayed, so a removal gives
nothing. It names no topic: the relay finds it from the message reacted to.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

import telegram

from bridge.display_names import clean_name
from bridge.model import (
    Author,
    ChatId,
    ChatRef,
    Message,
    MessageKind,
    Network,
    Reaction,
    UserId,
    telegram_chat_key,
)
from bridge.telegram.inbound import author_of

PAID_REACTION = "⭐"
CUSTOM_EMOJI_KEPT = 2_000
FALLBACK_MAX = 16
"""Code points a custom emoji's fallback may have: an emoji, even a family joined by ZWJs,
has a few; a sentence under the entity (a crafted message) is not one."""
"""Custom emoji fallbacks remembered (an Lru in the connector): the latest seen."""


def reaction_of(update: telegram.Update, fallbacks: Mapping[str, str]) -> Message | None:
    """A message_reaction update as a REACTION of what it adds; None for anything else and
    for a removal. fallbacks: custom emoji ids → the emoji they stand for
    (learn_custom_emoji)."""
    event = update.message_reaction
    if event is None:
        return None
    before = {_key(r) for r in event.old_reaction}
    added = tuple(_shown(r, fallbacks) for r in event.new_reaction if _key(r) not in before)
    if not added:
        return None
    if event.user is not None:
        user = event.user
        author = author_of(user.id, user.first_name, user.last_name, user.username, user.is_bot)
    elif event.actor_chat is not None:  # anonymous: the chat reacted, no person is named
        actor = event.actor_chat
        author = Author(
            Network.TELEGRAM,
            UserId(str(actor.id)),
            actor.title or str(actor.id),
            posted_as=ChatId(str(actor.id)),
        )
    else:
        return None
    chat = event.chat
    return Message(
        f"tg:{chat.id}:{event.message_id}:r{update.update_id}",
        author,
        ChatRef(
            Network.TELEGRAM,
            telegram_chat_key(chat.id, None),
            is_private=chat.type == "private",
            title=chat.title,
            is_forum=bool(chat.is_forum),
        ),
        kind=MessageKind.REACTION,
        timestamp=event.date.timestamp(),
        detail=Reaction(str(event.message_id), added),
    )


def _key(reaction: telegram.ReactionType) -> tuple[str, str]:
    """What makes two reactions the same one (a custom emoji by its id)."""
    if isinstance(reaction, telegram.ReactionTypeEmoji):
        return ("emoji", reaction.emoji)
    if isinstance(reaction, telegram.ReactionTypeCustomEmoji):
        return ("custom", reaction.custom_emoji_id)
    return (str(reaction.type), "")


def _shown(reaction: telegram.ReactionType, fallbacks: Mapping[str, str]) -> str | None:
    """The emoji a reaction shows; None for a custom emoji whose fallback is not known."""
    if isinstance(reaction, telegram.ReactionTypeEmoji):
        return reaction.emoji
    if isinstance(reaction, telegram.ReactionTypeCustomEmoji):
        return fallbacks.get(reaction.custom_emoji_id)
    return PAID_REACTION


def learn_custom_emoji(update: telegram.Update, into: MutableMapping[str, str]) -> None:
    """Remember the emoji each custom emoji of a message stands for (the text under its
    entity is its fallback), so a reaction with it can be shown on IRC."""
    msg = update.effective_message
    if msg is None or not (msg.entities or msg.caption_entities):
        return
    kinds: list[str | None] = [telegram.MessageEntity.CUSTOM_EMOJI]
    found = {**msg.parse_entities(kinds), **msg.parse_caption_entities(kinds)}
    for entity, text in found.items():
        shown = clean_name(text).strip() if len(text) <= FALLBACK_MAX else ""
        if entity.custom_emoji_id and shown:  # no bidi control to turn the line around
            into[entity.custom_emoji_id] = shown
