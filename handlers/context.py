"""What a command handler gets: who called, from where, and how to answer, on any network."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bridge.i18n import ENGLISH, SOURCE_LANGUAGE, Translations
from bridge.model import Author, ChatId, ChatRef, Network
from handlers.courier import Courier
from storage.languages import LanguageStore
from storage.roster_store import RosterStore

IRC_FILE_MAX_LINES = 200
"""send_file on IRC replaces a file longer than this many IRC lines (counted as sent, so the
one-line JSON counts by its length) with a note: at a safe pace it would take many minutes."""


class Presence(Protocol):
    """Who is on the other side of a pair right now; the bridge answers from its connectors."""

    def irc_nicks(self, channel: ChatId) -> list[str]:
        """Nicks now in a bridged IRC channel (empty when not joined)."""

    async def telegram_member_count(self, chat: ChatId) -> int | None:
        """Members of a bridged Telegram group, or None when Telegram does not say."""

    def telegram_recent_speakers(self, channel: ChatId) -> list[str]:
        """Display names of who spoke recently, newest first, in what the bridged IRC
        channel carries: its one forum topic, or its whole Telegram group."""


@dataclass(frozen=True, slots=True)
class CommandContext:
    """One command invocation. Handlers never import a connector; they answer through this."""

    invoker: Author
    chat: ChatRef
    """Where the command was typed (a group/channel, or a private chat with the bot)."""
    paired_chat: ChatRef | None
    """The other side of the bridged pair when typed in a bridged group/channel."""
    is_moderator: bool
    bot_name: str
    roster: RosterStore
    presence: Presence
    reply: Callable[[str], Awaitable[None]]
    """Answer in the chat where the command was typed (not relayed to the other side)."""
    reply_private: Callable[[str], Awaitable[bool]]
    """Answer the invoker privately; False when the network would not let us (Telegram:
    the user never started a chat with the bot)."""
    send_file: Callable[[str, bytes, str], Awaitable[bool]]
    """send_file(file_name, data, caption) privately to the invoker; False if impossible.
    On IRC a file over IRC_FILE_MAX_LINES arrives as a note saying how to get it instead."""
    in_community: Callable[[], Awaitable[bool]]
    """Whether the invoker may see the roster here: typed in a bridged group or channel, or
    privately by someone in one, a member or a moderator (never in an unbridged group).
    Asked only when a command needs it: on Telegram it may cost a getChatMember."""
    irc_prefix: str = "!"
    """irc.command_prefix: every answer that tells someone what to type on IRC uses it."""
    directory_url: str | None = None
    """web.public_url when [web] is on: answers that list members end with the directory's
    link (handlers.listing.directory_link); None without a web server."""
    courier: Courier | None = None
    """Private messages to other members, for /ask (bridge/asking.py); None where the
    bridge offers none."""

    tr: Translations = ENGLISH
    """The language of answers where the command was typed (reply): the invoker's in a
    private chat, the pair's in a bridged group or channel (bridge/i18n.py)."""
    tr_private: Translations = ENGLISH
    """The invoker's own language, for answers sent privately (reply_private, send_file)."""
    language: str = SOURCE_LANGUAGE
    """The invoker's language code (their /language choice, their app's, or the default)."""
    languages: LanguageStore | None = None
    """Where /language keeps a choice; None where choices are not kept."""
    default_language: str = SOURCE_LANGUAGE
    """[i18n] default_language: for people whose language is not known (/ask's recipients
    who made no choice)."""

    @property
    def network(self) -> Network:
        return self.chat.network

    @property
    def in_group(self) -> bool:
        return not self.chat.is_private
