"""The command gateway: recognise a command, identify who asked, and give the handlers a
CommandContext whose answers are queued in the outbox like any relayed message.

Group answers go to where the command was typed. Private answers and files go to the invoker:
on IRC as lines queued to their nick, on Telegram to their private chat with the bot, waiting
(bounded) for Telegram's verdict so a user who never pressed Start is told so.
"""

from __future__ import annotations

import html
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import islice

from bridge.config import Config
from bridge.identity import irc_key
from bridge.model import Author, Message, MessageKind, Network
from bridge.outbox import NewItem, Outgoing
from bridge.pairs import Pairs
from bridge.payloads import IrcLines, TelegramDocument, TelegramHtml
from bridge.presence import Presence
from bridge.render.irc_format import sanitize_for_irc
from bridge.render.irc_split import split_irc_payload
from bridge.render.telegram_html import split_plain_text
from bridge.roles import is_moderator
from bridge.sides import IrcSide, OutboxQueue, TelegramSide
from handlers.context import IRC_FILE_MAX_LINES, CommandContext
from handlers.registry import CommandRegistry
from storage.roster_store import RosterStore

log = logging.getLogger(__name__)

HINT_INTERVAL = 3600.0
"""Chatter in a private chat gets one pointer to /help this often, not one per message."""
PRIVATE_ANSWER_TIMEOUT = 30.0
"""How long a command waits for the fate of its private Telegram answer or file. Telegram
refuses a user who never pressed Start in one request (bounded by telegram.request_timeout,
15 s by default), and a private chat's pace lets the first parts out at once, so 30 s sees
the refusal with margin. It is not longer because the Telegram intake waits with the
command (as it did for the direct send, whose retries took about as long). Past it the
answer counts as sent: it stays queued and goes out when Telegram is back."""


@dataclass(frozen=True, slots=True)
class Command:
    """A command as typed: its name (lower case) and the rest of the line."""

    name: str
    args: str


class CommandGateway:
    """Turns a command message into a handler call; one serves both networks."""

    def __init__(
        self,
        config: Config,
        registry: CommandRegistry,
        roster: RosterStore,
        outbox: OutboxQueue,
        pairs: Pairs,
        presence: Presence,
        irc: IrcSide,
        telegram: TelegramSide,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.registry = registry
        self.roster = roster
        self.outbox = outbox
        self.pairs = pairs
        self.presence = presence
        self.irc = irc
        self.telegram = telegram
        self._clock = clock
        self._hinted: dict[str, float] = {}

    # ----------------------------------------------------------------- parsing

    def parse(self, msg: Message) -> Command | None:
        """The command in msg, or None when it is a message for the other side.

        Telegram: "/name args", or "/name@OurBot args" (another bot's command is relayed).
        IRC: the configured prefix in a channel; in a private message the prefix is optional.
        In a private chat any word is a command (unknown ones get the registry's answer)."""
        if msg.kind is not MessageKind.TEXT or msg.attachments:
            return None
        text = msg.text.strip()
        if msg.chat.network is Network.TELEGRAM:
            if not text.startswith("/"):
                return None
            head, _, args = text[1:].partition(" ")
            name, _, target = head.partition("@")
            if target and target.lower() != self.telegram.username.lower():
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
            return Command(name, args.strip())
        return None

    # ---------------------------------------------------------------- running

    async def run(self, msg: Message, command: Command) -> None:
        """Unknown names go to the registry too: it rate-limits before it answers."""
        author = await self._identify(msg.author)
        paired = self.pairs.paired(msg.chat)
        if paired is not None and paired.network is Network.TELEGRAM:
            paired = replace(paired, title=self.telegram.titles.get(paired.chat_id))
        ctx = CommandContext(
            invoker=author,
            chat=msg.chat,
            paired_chat=paired,
            is_moderator=await self._is_moderator(author),
            bot_name=self.telegram.username
            if msg.chat.network is Network.TELEGRAM
            else self.irc.nick,
            roster=self.roster,
            presence=self.presence,
            reply=lambda text: self._reply(msg, text),
            reply_private=lambda text: self._reply_private(msg, text),
            send_file=lambda name, data, caption: self._send_file(msg, name, data, caption),
            irc_prefix=self.config.irc.command_prefix,
        )
        await self.registry.dispatch(ctx, command.name, command.args)

    async def _identify(self, author: Author) -> Author:
        """An IRC invoker without an account tag is looked up (WHOIS): a bare nick grants
        nothing, but a logged-in user should not be treated as a stranger."""
        if author.network is not Network.IRC or author.account is not None:
            return author
        account = await self.irc.resolve_account(author.nick or "")
        if not account:
            return author
        return replace(author, account=account, user_id=irc_key(account, ""))

    async def _is_moderator(self, author: Author) -> bool:
        admins: frozenset[int] = frozenset()
        if author.network is Network.TELEGRAM and self.config.roster.telegram_admins_are_moderators:
            for chat in self.pairs.telegram_chats:
                admins |= await self.telegram.admin_ids(chat)
        return is_moderator(author, self.config.roster.moderators, admins)

    async def hint(self, msg: Message) -> None:
        """Chatter (not a command) in a private Telegram chat: a pointer to /help, at most
        once an hour per user; IRC private chatter is always a command, so never lands here."""
        if msg.chat.network is not Network.TELEGRAM or msg.kind is not MessageKind.TEXT:
            return
        now = self._clock()
        if now - self._hinted.get(msg.author.user_id, -HINT_INTERVAL) < HINT_INTERVAL:
            return
        self._hinted[msg.author.user_id] = now
        await self._reply(msg, "I relay the bridged group and answer commands: try /help.")

    # ---------------------------------------------------------------- answers

    async def _reply(self, msg: Message, text: str) -> None:
        if msg.chat.network is Network.TELEGRAM:
            await self.outbox.enqueue(telegram_text(msg.chat.chat_id, text))
        else:
            await self.outbox.enqueue(self._irc_text(msg.chat.chat_id, text))

    async def _reply_private(self, msg: Message, text: str) -> bool:
        if msg.chat.network is Network.TELEGRAM:
            items = telegram_text(msg.author.user_id, text)
            return await self.outbox.enqueue_and_wait(items, PRIVATE_ANSWER_TIMEOUT)
        await self.outbox.enqueue(self._irc_text(msg.author.nick or "", text))
        return True

    async def _send_file(self, msg: Message, name: str, data: bytes, caption: str) -> bool:
        if msg.chat.network is Network.TELEGRAM:
            document = TelegramDocument(name, data, caption)
            key = f"file:{uuid.uuid4().hex}"
            items: list[Outgoing] = [
                NewItem("telegram", msg.author.user_id, key, "reply", document)
            ]
            return await self.outbox.enqueue_and_wait(items, PRIVATE_ANSWER_TIMEOUT)
        nick = msg.author.nick or ""
        content = data.decode("utf-8", errors="replace").lstrip("\ufeff")
        budget = self.irc.payload_budget(nick)
        if next(islice(irc_lines(content, budget), IRC_FILE_MAX_LINES, None), None) is not None:
            body = (
                f"--- {name}: too long for IRC (more than {IRC_FILE_MAX_LINES} lines). "
                "Send /export to me in a private chat on Telegram, or ask someone with shell "
                "access to run: tgirc-bridge export --config FILE --format "
                + name.rpartition(".")[2]
            )
        else:
            body = f"--- {name}: {caption}\n{content}"
        await self.outbox.enqueue(self._irc_text(nick, body))
        return True

    def _irc_text(self, target: str, text: str) -> list[Outgoing]:
        """A plain-text answer as one queued item of IRC lines (none for empty text)."""
        lines = tuple(irc_lines(text, self.irc.payload_budget(target)))
        key = f"reply:{uuid.uuid4().hex}"
        return [NewItem("irc", target, key, "reply", IrcLines(lines))] if lines else []


def telegram_text(chat: str, text: str) -> list[Outgoing]:
    """A plain-text answer as Telegram messages: split to the length limit, then escaped."""
    key = f"reply:{uuid.uuid4().hex}"
    return [
        NewItem(
            "telegram", chat, f"{key}:{i}", "reply", TelegramHtml(html.escape(part, quote=False))
        )
        for i, part in enumerate(split_plain_text(text))
    ]


def irc_lines(text: str, budget: int) -> Iterator[str]:
    """Plain text as the IRC lines it goes out as: made safe, each line split to budget."""
    for line in sanitize_for_irc(text):
        yield from split_irc_payload(line, budget)
