"""Build a real CommandContext for handler tests: a real RosterStore, recording callables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from bridge.config import parse_config
from bridge.irc_state import ChannelState
from bridge.model import Author, ChatId, ChatRef, Message, Network, UserId
from bridge.outbox import Outbox, Outgoing
from bridge.payloads import IrcLines
from bridge.router import Router
from handlers.context import CommandContext
from handlers.registry import CommandRegistry
from storage.db import Database
from storage.message_map import MessageMap
from storage.roster_store import RosterStore

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
    user_id = UserId(f"account:{account}" if account else mask)
    return Author(Network.IRC, user_id, nick, nick=nick, account=account, mask=mask)


@dataclass
class Recorder:
    """What a command said, where; private_ok/files_ok play a user who never opened a chat."""

    replies: list[str] = field(default_factory=list)
    private: list[str] = field(default_factory=list)
    files: list[tuple[str, bytes, str]] = field(default_factory=list)
    private_ok: bool = True
    files_ok: bool = True

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

    def telegram_recent_speakers(self, chat: ChatId) -> list[str]:
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
) -> tuple[CommandContext, Recorder]:
    """A context as the router would build it, in the bridged group/channel or in private."""
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
[roster]
{roster}
"""


@dataclass
class FakeOutbox:
    """Records what the router queued, instead of delivering it."""

    items: list[Outgoing] = field(default_factory=list)

    async def enqueue(self, items: list[Outgoing]) -> int:
        self.items.extend(items)
        return len(items)

    def irc_lines(self, chat: str) -> list[str]:
        return [
            ln
            for i in self.items
            if i.chat == chat and isinstance(i.payload, IrcLines)
            for ln in i.payload.lines
        ]


@dataclass
class FakeIrc:
    """The IRC side as the router sees it: a nick, channel state, no network."""

    nick: str = "CollabBot"
    state: ChannelState = field(default_factory=ChannelState)

    def nicks(self, channel: str) -> list[str]:
        return []

    def payload_budget(self, target: str, *, action: bool = False) -> int:
        return 400

    async def resolve_account(self, nick: str, timeout: float = 3.0) -> str | None:
        return self.state.account(nick)


def make_router(
    store: RosterStore, registry: CommandRegistry, *, irc: str = "", roster: str = ""
) -> tuple[Router, FakeOutbox]:
    """A real Router over a real store; irc/roster are extra TOML lines for those tables."""
    config = parse_config(
        ROUTER_CONFIG.format(
            irc=irc, roster=roster, group=TG_GROUP.chat_id, channel=IRC_CHANNEL.chat_id
        )
    )
    outbox = FakeOutbox()
    router = Router(config, cast(Outbox, outbox), registry, store, MessageMap(store.db))
    router.irc = FakeIrc()
    return router, outbox


def said(author: Author, text: str, chat: ChatRef | None = None, n: int = 0) -> Message:
    """author says text in chat (default: their side of the bridged pair)."""
    where = chat or (TG_GROUP if author.network is Network.TELEGRAM else IRC_CHANNEL)
    return Message(f"{author.network.value}:{author.user_id}:{n}:{text}", author, where, text)
