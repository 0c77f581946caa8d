"""Relay decisions: what a group or channel message becomes on the other side of its pair.

A message is dropped (no-relay prefix, unbridged chat, a notice switched off, nothing to
say) or rendered for the other network and queued in the outbox. Edits of a Telegram message
replace the rendering still waiting for its debounce, so a burst of fixes goes out once.
Each queued item names its author as its sender: within a destination senders take turns.
"""

from __future__ import annotations

import html
import logging
from dataclasses import replace

from bridge.config import RelayConfig
from bridge.display_names import clean_name
from bridge.media_links import MediaLinks
from bridge.mentions import RecentSpeakers, shield
from bridge.model import (
    Attachment,
    Kick,
    Message,
    MessageKind,
    Network,
    NickChange,
    ReplyRef,
    split_telegram_chat,
)
from bridge.outbox import NewItem, sender_of
from bridge.pairs import Pairs
from bridge.paste import Paster
from bridge.payloads import IrcLines, TelegramHtml
from bridge.render.irc_format import anti_highlight, message_to_irc_lines
from bridge.render.irc_split import format_relay_lines
from bridge.render.telegram_html import irc_to_telegram_parts
from bridge.sides import IrcSide, OutboxQueue
from storage.message_map import MessageMap
from storage.topics import TopicStore

log = logging.getLogger(__name__)


class Relay:
    """Renders each relayed message for the other side of its pair; one serves every pair."""

    def __init__(
        self,
        config: RelayConfig,
        pairs: Pairs,
        outbox: OutboxQueue,
        message_map: MessageMap,
        irc: IrcSide,
        topics: TopicStore,
        links: MediaLinks | None = None,
        pastes: Paster | None = None,
    ) -> None:
        self.config = config
        self.pairs = pairs
        self.outbox = outbox
        self.message_map = message_map
        self.irc = irc
        self.topics = topics
        self.links = links
        """Signs media links when [web] is on; None: media described in words only."""
        window = config.mention_window_hours * 3600
        self.speakers = RecentSpeakers(window, pairs.is_bridged_group)
        """Telegram members an IRC line may mention (bridge/mentions.py)."""
        self.pastes = pastes
        """Paste links for long posts ([web] on, relay.paste_over_lines > 0), else None."""

    async def relay(self, msg: Message) -> None:
        """A group or channel message that is not a command: queued for the other side, or
        dropped; returns once what it caused is stored durably."""
        if msg.kind in (MessageKind.TEXT, MessageKind.ACTION) and msg.text.startswith(
            self.config.no_relay_prefix
        ):
            return
        if msg.kind is MessageKind.TOPIC:  # never relayed
            # learned for bridged groups only: anyone may add the bot to a group of theirs
            # and create topics there by the thousand
            if self.pairs.is_bridged_group(msg.chat.chat_id):
                await self.topics.note(msg)
            return
        if msg.chat.network is Network.TELEGRAM:
            route = self.pairs.route(msg.chat)
            if route is None:
                log.debug("Telegram chat %s is not bridged; ignoring", msg.chat.chat_id)
                return
            label = None
            if route.label is not None:  # the pair carries the whole forum: say which topic
                group = split_telegram_chat(msg.chat.chat_id)[0]
                label = await self.topics.label(group, route.label)
            await self._to_irc(msg, route.channel, label)
        else:
            chat = self.pairs.group_for(msg.chat.chat_id)
            if chat is None:
                return
            await self._to_telegram(msg, chat)

    async def _to_irc(self, msg: Message, channel: str, label: str | None = None) -> None:
        relay = self.config
        shown = clean_name(msg.author.display_name)  # an RLO in it would reverse the line
        nicks = self.irc.folded_nicks(channel)
        name = anti_highlight(shown, nicks, relay.anti_highlight, self.irc.casefold)
        action = msg.kind is MessageKind.ACTION
        if msg.kind in (MessageKind.JOIN, MessageKind.PART):
            if not relay.telegram_joins:
                return
            went = "joined" if msg.kind is MessageKind.JOIN else "left"
            lines = [f"* {clean_name(msg.text)} {went} the Telegram group"]  # their names
            prefix = ""
        else:
            # "/me " from Telegram arrives as an ACTION already (bridge/telegram/inbound.py)
            reply = await self._resolve_reply(msg.reply_to, msg.chat.chat_id)
            lines = message_to_irc_lines(
                msg.text,
                msg.spans,
                attachments=self._linked(msg),
                reply=reply,
                shield=shield(nicks, relay.anti_highlight, self.irc.casefold),
                is_edit=msg.is_edit,
                forwarded_from=msg.forwarded_from,
            )
            if not lines:
                return
            prefix = f"{name} " if action else relay.name_format.format(name=name) + " "
            if label is not None:
                prefix += f"[{label}] "
        budget = self.irc.payload_budget(channel, action=action)
        out = format_relay_lines(prefix, lines, budget)
        if self.pastes is not None and self.pastes.too_long(out):  # a len(), no more
            key = f"{msg.source_id}>irc:{channel}"
            out = await self.pastes.shorten(key, msg.text, prefix, out, budget)
        payload = IrcLines(tuple(out), action=action)
        sender, sender_name = sender_of(msg.author)
        edit_of = msg.edit_of
        await self.outbox.enqueue(
            [
                NewItem(
                    network=Network.IRC,
                    chat=channel,
                    dedup_key=f"{msg.source_id}>irc:{channel}",
                    kind="relay",
                    payload=payload,
                    replace_key=f"edit:{edit_of}>irc:{channel}" if edit_of else None,
                    delay=relay.edit_debounce if edit_of else 0.0,
                    sender=sender,
                    sender_name=sender_name,
                    replay_possible=msg.replay_possible,
                )
            ]
        )

    def _linked(self, msg: Message) -> tuple[Attachment, ...]:
        """The attachments, each file with the bridge's signed link when [web] is on."""
        links = self.links
        if links is None:
            return msg.attachments
        return tuple(replace(a, link=links.link_for(a)) for a in msg.attachments)

    async def _resolve_reply(self, reply: ReplyRef | None, chat: str) -> ReplyRef | None:
        """A reply to a relayed message names the IRC author, not the bot, as recorded when
        the message was posted; one not recorded (older than the record keeps) is quoted as
        Telegram shows it, never read back out of the bridge's own rendering."""
        if reply is None or not reply.by_bridge or reply.source_id is None:
            return reply
        mapped = await self.message_map.lookup(Network.TELEGRAM, chat, reply.source_id)
        if mapped is None:
            return reply
        return replace(reply, author_name=mapped.author_name, text=mapped.text)

    async def _to_telegram(self, msg: Message, chat: str) -> None:
        nick = clean_name(msg.author.nick or msg.author.display_name)
        notice = self._notice(msg, nick)
        if notice is not None:
            enabled, text = notice
            if not enabled:
                return
            parts = [(f"<i>{html.escape(text, quote=False)}</i>", text)]
        else:
            if not msg.text.strip():
                return
            # A line longer than Telegram takes (a large LINELEN) goes as several messages.
            action = msg.kind is MessageKind.ACTION
            text, spans = self.speakers.linked(chat, msg.text, msg.spans)  # mentions notify
            parts = irc_to_telegram_parts(nick, text, spans, action=action)
        key = f"{msg.source_id}>tg:{chat}"
        sender, sender_name = sender_of(msg.author)
        await self.outbox.enqueue(
            [
                NewItem(
                    Network.TELEGRAM,
                    chat,
                    f"{key}:{i}" if i else key,
                    "relay",
                    TelegramHtml(body, mergeable=True, author=nick, text=text),
                    sender=sender,
                    sender_name=sender_name,
                    replay_possible=msg.replay_possible,
                )
                for i, (body, text) in enumerate(parts)
            ]
        )

    def _notice(self, msg: Message, nick: str) -> tuple[bool, str] | None:
        """For an IRC join/part/quit/kick/nick: whether it is relayed, and its words."""
        relay, channel = self.config, msg.chat.chat_id
        match msg.kind:
            case MessageKind.JOIN:
                return relay.irc_joins, f"{nick} joined {channel}"
            case MessageKind.PART:
                return relay.irc_parts, f"{nick} left {channel}"
            case MessageKind.QUIT:
                return relay.irc_quits, f"{nick} quit IRC"
            case MessageKind.KICK:
                kick = msg.detail if isinstance(msg.detail, Kick) else Kick("")
                because = f" ({kick.reason})" if kick.reason else ""
                return (
                    relay.irc_kicks,
                    f"{kick.target} was kicked from {channel} by {nick}{because}",
                )
            case MessageKind.NICK:
                new = msg.detail.new_nick if isinstance(msg.detail, NickChange) else ""
                return relay.irc_nick_changes, f"{nick} is now known as {new}"
        return None
