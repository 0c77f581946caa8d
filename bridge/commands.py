"""The command gateway: recognise a command, identify who asked, and give the handlers a
CommandContext whose answers are queued in the outbox like any relayed message.

Group answers go to where the command was typed. Private answers and files go to the invoker:
on IRC as lines queued to their nick for their nick!user@host only (dropped when the nick's
holder quits or changes nick), on Telegram to their private chat with the bot, waiting
(bounded) for Telegram's verdict so a user who never pressed Start is told so.

What a stranger can make the bot do is bounded before it costs anything: a command counts
against the per-person limit (an IRC user who is not logged in is their user@host, so a new
nick is no new person) before a WHOIS or a Telegram lookup is spent, private words that are no
command get no answer on IRC, and private answers per person are capped.
"""

from __future__ import annotations

import html
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import islice

from bridge.audience import Audience
from bridge.casemap import irc_casefold
from bridge.config import Config
from bridge.i18n import Translations, match, translations
from bridge.identity import limit_key
from bridge.lru import Lru
from bridge.model import Author, ChatRef, Message, MessageKind, Network, split_telegram_chat
from bridge.outbox import NewItem
from bridge.pairs import Pairs
from bridge.payloads import IrcLines, TelegramDocument, TelegramHtml
from bridge.presence import Presence
from bridge.render.irc_format import sanitize_for_irc
from bridge.render.irc_split import split_irc_payload
from bridge.render.telegram_html import split_plain_text
from bridge.roles import is_moderator
from bridge.sending import Outgoing
from bridge.sides import IrcSide, OutboxQueue, TelegramSide
from handlers.context import IRC_FILE_MAX_LINES, CommandContext
from handlers.courier import Courier
from handlers.rate_limit import PerMinute
from handlers.registry import CommandRegistry
from storage.languages import LanguageStore
from storage.roster_store import RosterStore

log = logging.getLogger(__name__)

HINT_INTERVAL = 3600.0
"""Chatter in a private chat gets one pointer to /help this often, not one per message."""
HINTED_MAX = 10_000
"""People remembered as pointed to /help lately; the longest ago are forgotten first (a
forgotten one may get a second pointer within the hour)."""
PRIVATE_ANSWER_TIMEOUT = 30.0
"""How long a command waits for the fate of its private Telegram answer or file. Telegram
refuses a user who never pressed Start in one request (bounded by telegram.request_timeout,
15 s by default), and a private chat's pace lets the first parts out at once, so 30 s sees
the refusal with margin. It is not longer because the command holds one of its network's
roster.commands_in_flight places meanwhile (the relay never waits for it: see
bridge/command_lanes.py). Past it the answer counts as sent: it stays queued and goes out
when Telegram is back."""
PRIVATE_ANSWERS_PER_MINUTE = 20
"""Private answers (messages or files) one person may get a minute; beyond, they are dropped
and logged. A command answers privately at most twice (/export's two files), so at the
default roster.commands_per_minute (6) nobody reaches it: it bounds what one person can make
the bot send where an operator raised that limit."""


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
        self._hinted: Lru[str, float] = Lru(HINTED_MAX)
        self._asked = PerMinute(config.roster.commands_per_minute, clock)
        self._warned = PerMinute(1, clock)
        self._private_answers = PerMinute(PRIVATE_ANSWERS_PER_MINUTE, clock)
        self.runs: Counter[str] = Counter()
        """Commands handed to the registry, by network (for /metrics)."""
        self.courier: Courier | None = None
        """/ask's private messages to other members (bridge/asking.py, set by the router)."""
        channels = [b.irc_channel for b in config.bridges]
        self.audience = Audience(pairs, channels, roster, irc, telegram)
        self.languages = LanguageStore(roster.db)
        self._default_language = config.i18n.default_language
        self._pair_languages = {
            irc_casefold(b.irc_channel): b.language or self._default_language
            for b in config.bridges
        }

    # ----------------------------------------------------------------- parsing

    def parse(self, msg: Message) -> Command | None:
        """The command in msg, or None when it is a message for the other side.

        Telegram: "/name args", or "/name@OurBot args" (another bot's command is relayed).
        IRC: the configured prefix in a channel; in a private message the prefix is optional,
        but a word that is no command is chatter there, left unanswered (on Telegram an
        unknown /word gets the registry's answer).
        A forward is someone else's words passed on: never a command."""
        if msg.kind is not MessageKind.TEXT or msg.attachments or msg.forwarded_from is not None:
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
            prefixed = bool(prefix) and text.startswith(prefix)
            name, _, args = (text[len(prefix) :] if prefixed else text).partition(" ")
            if not (prefixed or self.registry.knows(name)):
                return None
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

    def admit(self, msg: Message) -> bool | None:
        """Count a command against its person's limit before it may cost anything (a WHOIS,
        a Telegram lookup, a place in the command lanes). True: run it. False: over the
        limit, say so once (slow_down). None: over the limit, stay quiet. A person is who
        limit_key() says: an IRC user who is not logged in is their user@host, whatever
        the nick."""
        key = limit_key(msg.author)
        if self._asked.allow(key):
            return True
        log.info("rate limit: dropped a command from %s before identifying", key)
        return False if self._warned.allow(key) else None

    async def slow_down(self, msg: Message) -> None:
        n = self.config.roster.commands_per_minute
        tr = self._where_typed(msg, await self.person_language(msg.author))
        # Translators: the answer to a person who sends commands too fast.
        text = tr.ngettext(
            "Slow down, please: at most %(n)d command a minute.",
            "Slow down, please: at most %(n)d commands a minute.",
            n,
        )
        await self._reply(msg, text % {"n": n})

    async def person_language(self, author: Author) -> str:
        """The language a person is answered in privately: their /language choice, else
        what their Telegram app is set to, else [i18n] default_language."""
        chosen = await self.languages.chosen(author)
        return chosen or match(author.language_code) or self._default_language

    def chat_language(self, chat: ChatRef) -> str:
        """The language of answers everyone in a bridged group or channel sees: the pair's
        (bridge.language), else the default."""
        if chat.network is Network.TELEGRAM:
            route = self.pairs.route(chat)
            channel = route.channel if route is not None else None
        else:
            channel = chat.chat_id
        if channel is None:
            return self._default_language
        return self._pair_languages.get(irc_casefold(channel), self._default_language)

    def _where_typed(self, msg: Message, person: str) -> Translations:
        """Answers in a private chat speak the person's language, in a group the pair's."""
        return translations(person if msg.chat.is_private else self.chat_language(msg.chat))

    async def run(self, msg: Message, command: Command) -> None:
        """Run an admitted command (unknown names go to the registry too, which answers)."""
        author = await self._identify(msg.author)
        paired = self.pairs.paired(msg.chat)
        if paired is not None and paired.network is Network.TELEGRAM:
            group = split_telegram_chat(paired.chat_id)[0]  # a topic has its group's title
            paired = replace(paired, title=self.telegram.titles.get(group))
        moderator = await self._is_moderator(author)
        language = await self.person_language(author)
        ctx = CommandContext(
            invoker=author,
            chat=msg.chat,
            paired_chat=paired,
            is_moderator=moderator,
            bot_name=self.telegram.username
            if msg.chat.network is Network.TELEGRAM
            else self.irc.nick,
            roster=self.roster,
            presence=self.presence,
            reply=lambda text: self._reply(msg, text),
            reply_private=lambda text: self._reply_private(msg, text),
            send_file=lambda name, data, caption: self._send_file(msg, name, data, caption),
            in_community=lambda: self.audience.includes(msg.chat, author, moderator=moderator),
            irc_prefix=self.config.irc.command_prefix,
            directory_url=self.config.web.public_url if self.config.web else None,
            courier=self.courier,
            tr=self._where_typed(msg, language),
            tr_private=translations(language),
            language=language,
            languages=self.languages,
            default_language=self._default_language,
        )
        self.runs[msg.chat.network.value] += 1  # read by /metrics
        await self.registry.dispatch(ctx, command.name, command.args)

    async def _identify(self, author: Author) -> Author:
        """An IRC invoker is who the server vouches for now (bridge.irc.accounts): a bare
        nick, or what a nick was once, grants nothing."""
        if author.network is not Network.IRC:
            return author
        return await self.irc.identify(author)

    async def _is_moderator(self, author: Author) -> bool:
        admins: frozenset[int] = frozenset()
        if author.network is Network.TELEGRAM and self.config.roster.telegram_admins_are_moderators:
            for chat in self.pairs.telegram_chats:
                admins |= await self.telegram.admin_ids(chat)
        return is_moderator(author, self.config.roster.moderators, admins, self.irc.casefold)

    async def hint(self, msg: Message) -> None:
        """Chatter (not a command) in a private Telegram chat: a pointer to /help, at most
        once an hour per user. On IRC it gets nothing: a crowd of clones saying hello must
        not cost the channel's line budget."""
        if msg.chat.network is not Network.TELEGRAM or msg.kind is not MessageKind.TEXT:
            return
        now = self._clock()
        if now - self._hinted.get(msg.author.user_id, -HINT_INTERVAL) < HINT_INTERVAL:
            return
        self._hinted[msg.author.user_id] = now
        tr = translations(await self.person_language(msg.author))
        await self._reply(
            msg, tr.gettext("I relay the bridged group and answer commands: try /help.")
        )

    # ---------------------------------------------------------------- answers

    async def forget_nick(self, nick: str) -> None:
        """nick's holder quit or changed nick: what is still queued to the nick is dropped
        (a delivery in progress stops between two lines), so its next holder gets none."""
        folded = irc_casefold(nick)
        dropped = await self.outbox.discard(Network.IRC, lambda chat: irc_casefold(chat) == folded)
        if dropped:
            log.info("IRC: %s left; %d private answers to it dropped", nick, dropped)

    def _may_answer(self, msg: Message) -> bool:
        """Private answers per person are capped; beyond the cap they are dropped (logged)."""
        person = (msg.author.network.value, msg.author.user_id)
        if self._private_answers.allow(person):
            return True
        limit = self._private_answers.limit
        log.warning("private answers to %s: over %d a minute, one dropped", person, limit)
        return False

    async def _reply(self, msg: Message, text: str) -> None:
        if msg.chat.is_private and not self._may_answer(msg):
            return
        if msg.chat.network is Network.TELEGRAM:
            await self.outbox.enqueue(telegram_text(msg.chat.chat_id, text))
        elif msg.chat.is_private:
            await self.outbox.enqueue(self._irc_text(msg.chat.chat_id, text, msg.author.mask))
        else:
            await self.outbox.enqueue(self._irc_text(msg.chat.chat_id, text))

    async def _reply_private(self, msg: Message, text: str) -> bool:
        if not self._may_answer(msg):
            return True
        if msg.chat.network is Network.TELEGRAM:
            items = telegram_text(msg.author.user_id, text)
            return await self.outbox.enqueue_and_wait(items, PRIVATE_ANSWER_TIMEOUT)
        await self.outbox.enqueue(self._irc_text(msg.author.nick or "", text, msg.author.mask))
        return True

    async def _send_file(self, msg: Message, name: str, data: bytes, caption: str) -> bool:
        if not self._may_answer(msg):
            return True
        if msg.chat.network is Network.TELEGRAM:
            document = TelegramDocument(name, data, caption)
            key = f"file:{uuid.uuid4().hex}"
            items: list[Outgoing] = [
                NewItem(Network.TELEGRAM, msg.author.user_id, key, "reply", document)
            ]
            return await self.outbox.enqueue_and_wait(items, PRIVATE_ANSWER_TIMEOUT)
        nick = msg.author.nick or ""
        content = data.decode("utf-8", errors="replace").lstrip("\ufeff")
        budget = self.irc.payload_budget(nick)
        if next(islice(irc_lines(content, budget), IRC_FILE_MAX_LINES, None), None) is not None:
            tr = translations(await self.person_language(msg.author))
            # Translators: in place of a file on IRC; %(name)s is its name, %(max)d lines at
            # most; %(command)s is a shell command, kept as it is.
            note = tr.gettext(
                "--- %(name)s: too long for IRC (more than %(max)d lines). Send /export to me "
                "in a private chat on Telegram, or ask someone with shell access to run: "
                "%(command)s"
            )
            command = "tgirc-bridge export --config FILE --format " + name.rpartition(".")[2]
            body = note % {"name": name, "max": IRC_FILE_MAX_LINES, "command": command}
        else:
            body = f"--- {name}: {caption}\n{content}"
        await self.outbox.enqueue(self._irc_text(nick, body, msg.author.mask))
        return True

    def _irc_text(self, target: str, text: str, recipient: str | None = None) -> list[Outgoing]:
        """A plain-text answer as one queued item of IRC lines (none for empty text); to one
        person, only for their nick!user@host (recipient)."""
        lines = tuple(irc_lines(text, self.irc.payload_budget(target)))
        key = f"reply:{uuid.uuid4().hex}"
        payload = IrcLines(lines, recipient=recipient)
        return [NewItem(Network.IRC, target, key, "reply", payload)] if lines else []


def telegram_text(chat: str, text: str) -> list[Outgoing]:
    """A plain-text answer as Telegram messages: split to the length limit, then escaped."""
    key = f"reply:{uuid.uuid4().hex}"
    return [
        NewItem(
            Network.TELEGRAM,
            chat,
            f"{key}:{i}",
            "reply",
            TelegramHtml(html.escape(part, quote=False)),
        )
        for i, part in enumerate(split_plain_text(text))
    ]


def irc_lines(text: str, budget: int) -> Iterator[str]:
    """Plain text as the IRC lines it goes out as: made safe, each line split to budget."""
    for line in sanitize_for_irc(text):
        yield from split_irc_payload(line, budget)
