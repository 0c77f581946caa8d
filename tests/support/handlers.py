"""Fakes for handler and router tests: a real RosterStore, recording callables, and the
connector and outbox views (bridge.sides) as small in-memory classes, no network."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bridge.casemap import casefold_for
from bridge.config import Config, parse_config
from bridge.identity import irc_key
from bridge.irc.accounts import Holder, believe
from bridge.model import Author, ChatId, ChatRef, Message, Network, UserId
from bridge.payloads import IrcLines, TelegramDocument, TelegramHtml
from bridge.router import Router
from bridge.sending import Outgoing
from handlers.context import CommandContext
from handlers.registry import CommandRegistry
from storage.db import Database
from storage.message_map import MessageMap
from storage.pending_commands import PendingCommands
from storage.roster_store import RosterStore
from storage.topics import TopicStore

TG_GROUP = ChatRef(Network.TELEGRAM, ChatId("-1001234"), is_private=False, title="Collab")
IRC_CHANNEL = ChatRef(Network.IRC, ChatId("#collab"))
PAIR = {TG_GROUP.chat_id: IRC_CHANNEL, IRC_CHANNEL.chat_id: TG_GROUP}


@asynccontextmanager
async def open_store(path: Path) -> AsyncIterator[RosterStore]:
    """A migrated database in a temp file, always closed (warnings are errors)."""
    db = await Database.open(path)
    try:
        yield RosterStore(db)
    finally:
        await db.close()


def tg_author(
    user_id: int = 1001, name: str = "Alice Liddell", username: str | None = "alice"
) -> Author:
    return Author(Network.TELEGRAM, UserId(str(user_id)), name, nick=username)


def irc_author(
    nick: str = "bob", account: str | None = "bob", user: str = "~bob", host: str = "example.org"
) -> Author:
    mask = f"{nick}!{user}@{host}"
    return Author(Network.IRC, irc_key(account, mask), nick, nick=nick, account=account, mask=mask)


@dataclass
class Recorder:
    """What a command said, where; private_ok/files_ok play a user who never opened a chat."""

    replies: list[str] = field(default_factory=list)
    private: list[str] = field(default_factory=list)
    files: list[tuple[str, bytes, str]] = field(default_factory=list)
    private_ok: bool = True
    files_ok: bool = True
    community_checks: int = 0
    """How often a command asked whether the invoker is of the community."""

    async def reply(self, text: str) -> None:
        self.replies.append(text)

    async def reply_private(self, text: str) -> bool:
        if self.private_ok:
            self.private.append(text)
        return self.private_ok

    async def send_file(self, name: str, data: bytes, caption: str) -> bool:
        if self.files_ok:
            self.files.append((name, data, caption))
        return self.files_ok

    @property
    def last(self) -> str:
        return self.replies[-1]

    async def ask_community(self, answer: bool) -> bool:
        self.community_checks += 1
        return answer

    def clear(self) -> None:
        self.replies.clear()
        self.private.clear()
        self.files.clear()


@dataclass
class FakePresence:
    nicks: list[str] = field(default_factory=list)
    member_count: int | None = None
    speakers: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    def irc_nicks(self, channel: ChatId) -> list[str]:
        self.asked.append(channel)
        return list(self.nicks)

    async def telegram_member_count(self, chat: ChatId) -> int | None:
        self.asked.append(chat)
        return self.member_count

    def telegram_recent_speakers(self, channel: ChatId) -> list[str]:
        return list(self.speakers)


def make_ctx(
    store: RosterStore,
    author: Author,
    *,
    private: bool = False,
    moderator: bool = False,
    recorder: Recorder | None = None,
    presence: FakePresence | None = None,
    irc_prefix: str = "!",
    community: bool = True,
) -> tuple[CommandContext, Recorder]:
    """A context as the router would build it, in the bridged group/channel or in private;
    community=False plays a stranger (bridge.audience said no)."""
    rec = recorder or Recorder()
    if private:
        chat = ChatRef(author.network, ChatId(author.nick or author.user_id), is_private=True)
        paired = None
    else:
        chat = TG_GROUP if author.network is Network.TELEGRAM else IRC_CHANNEL
        paired = PAIR[chat.chat_id]
    ctx = CommandContext(
        invoker=author,
        chat=chat,
        paired_chat=paired,
        is_moderator=moderator,
        bot_name="CollabBot",
        roster=store,
        presence=presence or FakePresence(),
        reply=rec.reply,
        reply_private=rec.reply_private,
        send_file=rec.send_file,
        in_community=lambda: rec.ask_community(community),
        irc_prefix=irc_prefix,
    )
    return ctx, rec


ROUTER_CONFIG = """
[telegram]
token = "1:abc"
[irc]
host = "127.0.0.1"
nick = "CollabBot"
{irc}
[[bridge]]
telegram_chat = {group}
irc_channel = "{channel}"
[relay]
{relay}
[roster]
{roster}
"""


@dataclass
class FakeOutbox:
    """Records what the router queued, instead of delivering it; accepts=False plays a
    Telegram user who never pressed Start (enqueue_and_wait is refused)."""

    items: list[Outgoing] = field(default_factory=list)
    accepts: bool = True
    waited: list[float] = field(default_factory=list)
    """The timeout of each enqueue_and_wait, in call order."""

    async def enqueue(self, items: list[Outgoing]) -> int:
        self.items.extend(items)
        return len(items)

    async def enqueue_and_wait(self, items: list[Outgoing], timeout: float) -> bool:
        self.waited.append(timeout)
        if self.accepts:
            self.items.extend(items)
        return self.accepts

    async def discard(self, network: str, matches: Callable[[str], bool]) -> int:
        kept = [i for i in self.items if i.network != network or not matches(i.chat)]
        dropped, self.items = len(self.items) - len(kept), kept
        return dropped

    def irc_lines(self, chat: str) -> list[str]:
        return [
            ln
            for i in self.items
            if i.chat == chat and isinstance(i.payload, IrcLines)
            for ln in i.payload.lines
        ]

    def telegram_html(self, chat: str) -> list[str]:
        return [
            i.payload.html
            for i in self.items
            if i.chat == chat and isinstance(i.payload, TelegramHtml)
        ]

    def telegram_texts(self, chat: str) -> list[str]:
        """What Telegram shows for each queued HTML message to chat (tags dropped, unescaped)."""
        return [html.unescape(re.sub(r"<[^>]+>", "", h)) for h in self.telegram_html(chat)]

    def documents(self, chat: str) -> list[TelegramDocument]:
        return [
            i.payload
            for i in self.items
            if i.chat == chat and isinstance(i.payload, TelegramDocument)
        ]


@dataclass
class FakeIrc:
    """The IRC side as the router sees it: a nick, channel members and known accounts."""

    nick: str = "CollabBot"
    members: dict[str, list[str]] = field(default_factory=dict)
    accounts: dict[str, str | None] = field(default_factory=dict)
    """What the connection knows (account-notify, extended-join): nick → account (None: logged
    out)."""
    services: dict[str, str | None] = field(default_factory=dict)
    """What a WHOIS would answer beyond that: nick → account (None: not logged in)."""
    whois: list[str] = field(default_factory=list)
    """Nicks identify had to ask the server about."""
    masks: dict[str, str] = field(default_factory=dict)
    """The connection (nick!user@host) the bot saw behind a nick in accounts, where it is not
    the author's own."""
    whois_masks: dict[str, str] = field(default_factory=dict)
    """The connection a WHOIS names for a nick in services, where it is not the author's own."""
    account_tag: bool = False
    """Whether the server tags each line with its sender's account."""
    casemapping: str = "rfc1459"
    """The server's 005 CASEMAPPING, which casefold() and folded_nicks() follow."""

    def nicks(self, channel: str) -> list[str]:
        return list(self.members.get(channel, []))

    def folded_nicks(self, channel: str) -> set[str]:
        return {self.casefold(n) for n in self.nicks(channel)}

    def casefold(self, text: str) -> str:
        return casefold_for(self.casemapping)(text)

    def payload_budget(self, target: str, *, action: bool = False) -> int:
        return 400

    async def identify(self, author: Author) -> Author:
        """The real rule (bridge.irc.accounts.believe) over these tables."""
        nick = author.nick or ""
        own = author.mask or ""
        seen = (
            Holder(self.masks.get(nick, own), self.accounts[nick])
            if nick in self.accounts
            else None
        )

        async def ask(nick: str) -> Holder | None:
            self.whois.append(nick)
            if nick not in self.services:
                return None  # nobody holds the nick
            return Holder(self.whois_masks.get(nick, own), self.services[nick])

        return await believe(author, account_tag=self.account_tag, seen=seen, ask=ask)

    def account_of(self, nick: str) -> str | None:
        return self.accounts.get(nick)

    def mask_of(self, nick: str) -> str | None:
        return self.masks.get(nick)


@dataclass
class FakeTelegramSide:
    """The Telegram bot as the router sees it: its id and name, titles, group admins."""

    bot_id: int | None = 999
    username: str = "CollabBot"
    titles: dict[str, str] = field(default_factory=lambda: {TG_GROUP.chat_id: "Collab"})
    admins: dict[str, frozenset[int]] = field(default_factory=dict)
    members: int | None = 7
    in_group: dict[str, set[str]] = field(default_factory=dict)
    """Who getChatMember would find in each group: chat id → user ids."""
    membership_asked: list[tuple[str, str]] = field(default_factory=list)

    async def member_count(self, chat: str) -> int | None:
        return self.members

    async def admin_ids(self, chat: str, max_age: float = 600.0) -> frozenset[int]:
        return self.admins.get(chat, frozenset())

    async def is_member(self, chat: str, user_id: str) -> bool:
        self.membership_asked.append((chat, user_id))
        return user_id in self.in_group.get(chat, set())


@dataclass
class Rig:
    """A real Router over a real store, with the fakes it talks to."""

    router: Router
    outbox: FakeOutbox
    irc: FakeIrc
    telegram: FakeTelegramSide
    config: Config


def make_rig(
    store: RosterStore,
    registry: CommandRegistry,
    *,
    irc: str = "",
    relay: str = "",
    roster: str = "",
) -> Rig:
    """irc/relay/roster are extra TOML lines for those tables."""
    config = parse_config(
        ROUTER_CONFIG.format(
            irc=irc, relay=relay, roster=roster, group=TG_GROUP.chat_id, channel=IRC_CHANNEL.chat_id
        )
    )
    outbox, fake_irc, fake_tg = FakeOutbox(), FakeIrc(), FakeTelegramSide()
    router = Router(
        config,
        outbox,
        registry,
        store,
        MessageMap(store.db),
        irc=fake_irc,
        telegram=fake_tg,
        topics=TopicStore(store.db),
        pending=PendingCommands(store.db),
    )
    return Rig(router, outbox, fake_irc, fake_tg, config)


def make_router(
    store: RosterStore, registry: CommandRegistry, *, irc: str = "", roster: str = ""
) -> tuple[Router, FakeOutbox]:
    """A real Router over a real store; irc/roster are extra TOML lines for those tables."""
    rig = make_rig(store, registry, irc=irc, roster=roster)
    return rig.router, rig.outbox


async def handled(router: Router, msg: Message) -> None:
    """router.handle(msg), and then whatever command it queued in the lanes, run to its end."""
    await router.handle(msg)
    await router.lanes.idle()


def said(author: Author, text: str, chat: ChatRef | None = None, n: int = 0) -> Message:
    """author says text in chat (default: their side of the bridged pair)."""
    where = chat or (TG_GROUP if author.network is Network.TELEGRAM else IRC_CHANNEL)
    return Message(f"{author.network.value}:{author.user_id}:{n}:{text}", author, where, text)
