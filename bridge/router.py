"""The relay core: decides what happens to each neutral Message. No network imports.

A message is dropped (own echo, ignored sender, no-relay prefix, unbridged chat), run as a
command, or rendered for the other side of its pair and stored in the outbox.
"""

from __future__ import annotations

import html
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import replace
from fnmatch import fnmatchcase
from itertools import islice
from typing import TYPE_CHECKING, Protocol

from bridge.casemap import irc_casefold
from bridge.config import Config
from bridge.identity import irc_key
from bridge.model import Author, ChatId, ChatRef, Message, MessageKind, Network, ReplyRef
from bridge.outbox import NewItem, Outbox, Outgoing
from bridge.payloads import IrcLines, TelegramHtml
from bridge.render.irc_format import (
    anti_highlight,
    format_relay_lines,
    message_to_irc_lines,
    sanitize_for_irc,
    split_irc_payload,
)
from bridge.render.telegram_html import irc_to_telegram_html, split_plain_text
from bridge.roles import is_moderator
from handlers.context import IRC_FILE_MAX_LINES, CommandContext
from handlers.registry import CommandRegistry
from storage.message_map import MessageMap
from storage.roster_store import RosterStore, identity_from_author

if TYPE_CHECKING:
    from bridge.irc_state import ChannelState

log = logging.getLogger(__name__)
HINT_INTERVAL = 3600.0
SEEN_NAMES_MAX = 10_000
"""Identities whose last seen names the router remembers; the oldest are forgotten first."""


class IrcSide(Protocol):
    """What the router needs to know about the IRC connection."""

    @property
    def nick(self) -> str: ...

    def nicks(self, channel: str) -> list[str]: ...

    def payload_budget(self, target: str, *, action: bool = False) -> int: ...

    state: ChannelState
    """Known services accounts (a NICK line rarely carries its account tag)."""

    async def resolve_account(self, nick: str, timeout: float = 3.0) -> str | None: ...


class TelegramSide(Protocol):
    """What the router needs to know about the Telegram bot."""

    bot_id: int | None
    username: str
    titles: dict[str, str]

    async def send_document(self, chat: int, file_name: str, data: bytes, caption: str) -> bool: ...

    async def send_text_now(self, chat: int, text: str) -> bool: ...

    async def member_count(self, chat: str) -> int | None: ...

    async def admin_ids(self, chat: str, max_age: float = 600.0) -> frozenset[int]: ...


class Router:
    """Routes every incoming Message; one instance serves every bridged pair."""

    def __init__(
        self,
        config: Config,
        outbox: Outbox,
        registry: CommandRegistry,
        roster: RosterStore,
        message_map: MessageMap,
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.registry = registry
        self.roster = roster
        self.message_map = message_map
        self.irc: IrcSide | None = None
        self.telegram: TelegramSide | None = None
        self._tg_to_irc = {str(b.telegram_chat): b.irc_channel for b in config.bridges}
        self._irc_to_tg = {
            irc_casefold(b.irc_channel): str(b.telegram_chat) for b in config.bridges
        }
        self._speakers: dict[str, OrderedDict[str, float]] = {}
        self._hinted: dict[str, float] = {}
        # the author as last seen, per (network, user id): names are compared, not stored
        self._seen_names: OrderedDict[tuple[Network, str], Author] = OrderedDict()

    def attach(self, irc: IrcSide, telegram: TelegramSide) -> None:
        self.irc = irc
        self.telegram = telegram

    # -------------------------------------------------------------- entry point

    async def handle(self, msg: Message) -> None:
        """Route one message; returns once whatever it caused is stored durably."""
        if self._is_own(msg.author) or self._ignored(msg.author):
            return
        if msg.chat.network is Network.TELEGRAM and not msg.chat.is_private:
            self._note_speaker(msg.chat.chat_id, msg.author.display_name)
        command = self._parse_command(msg)
        if command is not None:
            await self._note_names(msg)  # first, so the command sees the current name
            if not msg.is_edit:
                await self._run_command(msg, *command)
            return
        await self._route(msg)
        await self._note_names(msg)  # after the relay: a rename costs no relay latency

    async def _route(self, msg: Message) -> None:
        """Everything that is not a command: relayed, hinted at, or dropped."""
        if msg.chat.is_private:
            await self._private_hint(msg)
            return
        if msg.kind in (MessageKind.TEXT, MessageKind.ACTION) and msg.text.startswith(
            self.config.relay.no_relay_prefix
        ):
            return
        if msg.chat.network is Network.TELEGRAM:
            channel = self._tg_to_irc.get(msg.chat.chat_id)
            if channel is None:
                log.debug("Telegram chat %s is not bridged; ignoring", msg.chat.chat_id)
                return
            await self._relay_to_irc(msg, channel)
        else:
            chat = self._irc_to_tg.get(irc_casefold(msg.chat.chat_id))
            if chat is None:
                return
            await self._relay_to_telegram(msg, chat)

    def paired(self, chat: ChatRef) -> ChatRef | None:
        if chat.network is Network.TELEGRAM:
            channel = self._tg_to_irc.get(chat.chat_id)
            return None if channel is None else ChatRef(Network.IRC, ChatId(channel))
        tg = self._irc_to_tg.get(irc_casefold(chat.chat_id))
        if tg is None:
            return None
        title = self.telegram.titles.get(tg) if self.telegram else None
        return ChatRef(Network.TELEGRAM, ChatId(tg), title=title)

    # ---------------------------------------------------------------- filtering

    def _is_own(self, author: Author) -> bool:
        if author.network is Network.TELEGRAM:
            bot_id = self.telegram.bot_id if self.telegram else None
            return bot_id is not None and author.user_id == str(bot_id)
        return self.irc is not None and irc_casefold(author.nick or "") == irc_casefold(
            self.irc.nick
        )

    def _ignored(self, author: Author) -> bool:
        for rule in self.config.relay.ignore:
            kind, _, value = rule.partition(":")
            if kind == "telegram" and author.network is Network.TELEGRAM:
                if (
                    value == author.user_id
                    or value.lstrip("@").lower() == (author.nick or "").lower()
                ):
                    return True
            elif kind == "irc" and author.network is Network.IRC:
                pattern = irc_casefold(value)
                target = (
                    irc_casefold(author.mask or "")
                    if "!" in value
                    else irc_casefold(author.nick or "")
                )
                if fnmatchcase(target, pattern):
                    return True
        return False

    async def _note_names(self, msg: Message) -> None:
        """Keep a member's stored names current ("display name from the network, updated
        when it changes") without a database write per message: the last names seen per
        identity are remembered, and the store is asked only when they differ."""
        if msg.kind in (MessageKind.TEXT, MessageKind.ACTION):
            author = msg.author
        elif msg.kind is MessageKind.NICK and msg.author.network is Network.IRC:
            renamed = self._renamed(msg)
            if renamed is None:
                return
            author = renamed
        else:
            return
        if author.is_bot:
            return
        key = (author.network, author.user_id)
        if self._seen_names.get(key) == author:  # the hot path: one dict lookup
            self._seen_names.move_to_end(key)
            return
        try:
            await self.roster.refresh_identity(identity_from_author(author))
        except Exception:
            log.exception("could not refresh the stored names of %s", key)
            return
        self._seen_names[key] = author
        self._seen_names.move_to_end(key)
        while len(self._seen_names) > SEEN_NAMES_MAX:
            self._seen_names.popitem(last=False)

    def _renamed(self, msg: Message) -> Author | None:
        """The author of an IRC NICK under the new nick, when keyed by a services account.

        A member known only by nick!user@host cannot be followed: the key is the old mask.
        """
        new = msg.get("new_nick")
        if not new:
            return None
        account = msg.author.account
        if account is None and self.irc is not None:
            account = self.irc.state.account(new)
        if account is None:
            return None
        mask = msg.author.mask or ""
        host = mask.partition("!")[2]
        return replace(
            msg.author,
            user_id=irc_key(account, ""),
            display_name=new,
            nick=new,
            account=account,
            mask=f"{new}!{host}" if host else None,
        )

    def _note_speaker(self, chat: str, name: str) -> None:
        speakers = self._speakers.setdefault(chat, OrderedDict())
        speakers.pop(name, None)
        speakers[name] = time.time()
        while len(speakers) > 20:
            speakers.popitem(last=False)

    def recent_speakers(self, chat: ChatId, window: float = 3600.0) -> list[str]:
        cutoff = time.time() - window
        speakers = self._speakers.get(chat, OrderedDict())
        return [name for name, at in reversed(speakers.items()) if at >= cutoff]

    # ----------------------------------------------------------------- commands

    def _parse_command(self, msg: Message) -> tuple[str, str] | None:
        if msg.kind is not MessageKind.TEXT or msg.attachments:
            return None
        text = msg.text.strip()
        if msg.chat.network is Network.TELEGRAM:
            if not text.startswith("/"):
                return None
            head, _, args = text[1:].partition(" ")
            name, _, target = head.partition("@")
            username = self.telegram.username if self.telegram else ""
            if target and target.lower() != username.lower():
                return None
        elif msg.chat.is_private:
            prefix = self.config.irc.command_prefix
            text = text[len(prefix) :] if prefix and text.startswith(prefix) else text
            name, _, args = text.partition(" ")
        else:
            prefix = self.config.irc.command_prefix
            if not text.startswith(prefix):
                return None
            name, _, args = text[len(prefix) :].partition(" ")
        name = name.lower()
        if self.registry.knows(name) or msg.chat.is_private:
            return name, args.strip()
        return None

    async def _run_command(self, msg: Message, name: str, args: str) -> None:
        """Unknown names go to the registry too: it rate-limits before it answers."""
        author = msg.author
        if author.network is Network.IRC and author.account is None and self.irc is not None:
            account = await self.irc.resolve_account(author.nick or "")
            if account:
                author = replace(author, account=account, user_id=irc_key(account, ""))
        ctx = CommandContext(
            invoker=author,
            chat=msg.chat,
            paired_chat=self.paired(msg.chat),
            is_moderator=await self._is_moderator(author),
            bot_name=self.telegram.username
            if self.telegram and msg.chat.network is Network.TELEGRAM
            else (self.irc.nick if self.irc else ""),
            roster=self.roster,
            presence=_Presence(self),
            reply=lambda text: self._reply(msg, text),
            reply_private=lambda text: self._reply_private(msg, text),
            send_file=lambda name, data, caption: self._send_file(msg, name, data, caption),
            irc_prefix=self.config.irc.command_prefix,
        )
        await self.registry.dispatch(ctx, name, args)

    async def _is_moderator(self, author: Author) -> bool:
        admins: frozenset[int] = frozenset()
        if (
            author.network is Network.TELEGRAM
            and self.config.roster.telegram_admins_are_moderators
            and self.telegram is not None
        ):
            for chat in self._tg_to_irc:
                admins |= await self.telegram.admin_ids(chat)
        return is_moderator(author, self.config.roster.moderators, admins)

    async def _private_hint(self, msg: Message) -> None:
        """Chatter in a private chat gets one pointer to /help an hour, not one per message."""
        if msg.chat.network is not Network.TELEGRAM or msg.kind is not MessageKind.TEXT:
            return
        now = time.monotonic()
        if now - self._hinted.get(msg.author.user_id, -HINT_INTERVAL) < HINT_INTERVAL:
            return
        self._hinted[msg.author.user_id] = now
        await self._reply(msg, "I relay the bridged group and answer commands: try /help.")

    async def _reply(self, msg: Message, text: str) -> None:
        await self._send_text(msg.chat.network, msg.chat.chat_id, text)

    async def _reply_private(self, msg: Message, text: str) -> bool:
        if msg.chat.network is Network.TELEGRAM:
            assert self.telegram is not None
            return await self.telegram.send_text_now(int(msg.author.user_id), text)
        await self._send_text(Network.IRC, msg.author.nick or "", text)
        return True

    async def _send_file(self, msg: Message, name: str, data: bytes, caption: str) -> bool:
        if msg.chat.network is Network.TELEGRAM:
            assert self.telegram is not None
            return await self.telegram.send_document(int(msg.author.user_id), name, data, caption)
        nick = msg.author.nick or ""
        content = data.decode("utf-8", errors="replace").lstrip("\ufeff")
        beyond_limit = islice(irc_lines(content, self._irc_budget(nick)), IRC_FILE_MAX_LINES, None)
        if next(beyond_limit, None) is not None:
            body = (
                f"--- {name}: too long for IRC (more than {IRC_FILE_MAX_LINES} lines). "
                "Send /export to me in a private chat on Telegram, or ask someone with shell "
                "access to run: tgirc-bridge export --config FILE --format "
                + name.rpartition(".")[2]
            )
        else:
            body = f"--- {name}: {caption}\n{content}"
        await self._send_text(Network.IRC, nick, body)
        return True

    def _irc_budget(self, target: str, *, action: bool = False) -> int:
        return self.irc.payload_budget(target, action=action) if self.irc else 400

    async def _send_text(self, network: Network, chat: str, text: str) -> None:
        """Queue a command answer: plain text, escaped/split for the destination."""
        key = f"reply:{uuid.uuid4().hex}"
        items: list[Outgoing]
        if network is Network.TELEGRAM:
            items = [
                NewItem(
                    "telegram",
                    chat,
                    f"{key}:{i}",
                    "reply",
                    TelegramHtml(html.escape(part, quote=False)),
                )
                for i, part in enumerate(split_plain_text(text))
            ]
        else:
            lines = tuple(irc_lines(text, self._irc_budget(chat)))
            items = [NewItem("irc", chat, key, "reply", IrcLines(lines))] if lines else []
        await self.outbox.enqueue(items)

    # -------------------------------------------------------------------- relay

    async def _relay_to_irc(self, msg: Message, channel: str) -> None:
        relay = self.config.relay
        nicks = self.irc.nicks(channel) if self.irc else []
        name = anti_highlight(msg.author.display_name, nicks, relay.anti_highlight)
        action = msg.kind is MessageKind.ACTION
        if msg.kind is MessageKind.JOIN:
            if not relay.telegram_joins:
                return
            lines = [f"* {msg.text} joined the Telegram group"]
            prefix = ""
        elif msg.kind is MessageKind.PART:
            if not relay.telegram_joins:
                return
            lines = [f"* {msg.text} left the Telegram group"]
            prefix = ""
        else:
            text, spans = msg.text, msg.spans
            if text.startswith("/me ") and msg.kind is MessageKind.TEXT:
                action = True
                text = text[4:]
                spans = tuple(
                    replace(s, start=max(0, s.start - 4), end=s.end - 4) for s in spans if s.end > 4
                )
            reply = await self._resolve_reply(msg.reply_to, msg.chat.chat_id)
            lines = message_to_irc_lines(
                text, spans, attachments=msg.attachments, reply=reply, is_edit=msg.is_edit
            )
            if not lines:
                return
            prefix = f"{name} " if action else relay.name_format.format(name=name) + " "
        budget = self._irc_budget(channel, action=action)
        payload = IrcLines(tuple(format_relay_lines(prefix, lines, budget)), action=action)
        base = msg.source_id.split(":e", 1)[0]
        await self.outbox.enqueue(
            [
                NewItem(
                    network="irc",
                    chat=channel,
                    dedup_key=f"{msg.source_id}>irc:{channel}",
                    kind="relay",
                    payload=payload,
                    replace_key=f"edit:{base}>irc:{channel}" if msg.is_edit else None,
                    delay=relay.edit_debounce if msg.is_edit else 0.0,
                )
            ]
        )

    async def _resolve_reply(self, reply: ReplyRef | None, chat: str) -> ReplyRef | None:
        """A reply to a relayed message names the IRC author, not the bot."""
        if reply is None or not reply.by_bridge or reply.source_id is None:
            return reply
        mapped = await self.message_map.lookup("telegram", chat, reply.source_id)
        if mapped is not None:
            return replace(reply, author_name=mapped.author_name, text=mapped.text)
        # Not (yet) recorded: read the author back from our own "nick: text" rendering.
        first_line = reply.text.split("\n", 1)[0]
        nick, sep, text = first_line.removeprefix("* ").partition(
            ": " if not first_line.startswith("* ") else " "
        )
        return replace(reply, author_name=nick, text=text) if sep and nick else reply

    async def _relay_to_telegram(self, msg: Message, chat: str) -> None:
        relay = self.config.relay
        nick = msg.author.nick or msg.author.display_name
        channel = msg.chat.chat_id
        notices: dict[MessageKind, tuple[bool, Callable[[], str]]] = {
            MessageKind.JOIN: (relay.irc_joins, lambda: f"{nick} joined {channel}"),
            MessageKind.PART: (relay.irc_parts, lambda: f"{nick} left {channel}"),
            MessageKind.QUIT: (relay.irc_quits, lambda: f"{nick} quit IRC"),
            MessageKind.KICK: (
                relay.irc_kicks,
                lambda: (
                    f"{msg.get('target')} was kicked from {channel} by {nick}"
                    + (f" ({msg.get('reason')})" if msg.get("reason") else "")
                ),
            ),
            MessageKind.NICK: (
                relay.irc_nick_changes,
                lambda: f"{nick} is now known as {msg.get('new_nick')}",
            ),
        }
        if msg.kind in notices:
            enabled, words = notices[msg.kind]
            if not enabled:
                return
            text = words()
            body = f"<i>{html.escape(text, quote=False)}</i>"
        else:
            text = msg.text
            if not text.strip():
                return
            body = irc_to_telegram_html(
                nick, msg.text, msg.spans, action=msg.kind is MessageKind.ACTION
            )
        payload = TelegramHtml(body, mergeable=True, author=nick, text=text)
        await self.outbox.enqueue(
            [NewItem("telegram", chat, f"{msg.source_id}>tg:{chat}", "relay", payload)]
        )


def irc_lines(text: str, budget: int) -> Iterator[str]:
    """Plain text as the IRC lines it goes out as: made safe, each line split to budget."""
    for line in sanitize_for_irc(text):
        yield from split_irc_payload(line, budget)


class _Presence:
    """Answers /names from the connectors' live state."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def irc_nicks(self, channel: ChatId) -> list[str]:
        return self.router.irc.nicks(channel) if self.router.irc else []

    async def telegram_member_count(self, chat: ChatId) -> int | None:
        return await self.router.telegram.member_count(chat) if self.router.telegram else None

    def telegram_recent_speakers(self, chat: ChatId) -> list[str]:
        return self.router.recent_speakers(chat)
