"""Build a real CommandContext for handler tests: a real RosterStore, recording callables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bridge.model import Author, ChatId, ChatRef, Network, UserId
from handlers.context import CommandContext
from storage.db import Database
from storage.roster import RosterStore

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
    )
    return ctx, rec
