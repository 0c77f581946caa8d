"""Telegram reactions shown on IRC: `* Alice, Bob reacted 🎉👍 to human: "the new release…"`.

A reaction names only the group and a message id, so each Telegram message relayed to IRC is
noted (storage/reactions.py: its author, first words and chat key; the bridge's own posts are
in message_map) and a reaction to anything else (never relayed, the no-relay prefix, older
than a week) is dropped. It goes to the channel its message's chat maps to (a forum topic's
own pair), through the outbox like any relayed line: paced, and under the ignore rules the
router applied to the one who reacted.

Merging: the reactions to one message within relay.reaction_debounce_s of the first make one
line. The first is queued with that delay and each next one replaces the waiting row
(replace_key), so the merged line is in the store all along. On a restart during the window
the line merged so far is kept and goes out when due; the window itself is in memory, so a
reaction after the restart starts a line of its own rather than replacing that one with less
(the replace key names this process's run).
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bridge.config import RelayConfig
from bridge.display_names import clean_name
from bridge.lru import Lru
from bridge.model import (
    ChatId,
    ChatRef,
    Message,
    MessageKind,
    Network,
    Reaction,
    UserId,
    split_telegram_chat,
)
from bridge.outbox import NewItem, sender_of
from bridge.pairs import Pairs
from bridge.payloads import IrcLines
from bridge.render.irc_format import anti_highlight
from bridge.render.irc_split import format_relay_lines
from bridge.render.reactions import reaction_line
from bridge.sides import IrcSide, OutboxQueue
from storage.reactions import ReactionStore

log = logging.getLogger(__name__)

WINDOWS_KEPT = 1_000
"""Messages whose merging window is kept in memory at once (an Lru: a flood of reactions to
old messages forgets the oldest window, whose line then stands alone)."""


@dataclass(slots=True)
class _Window:
    """The reactions to one message merged into its waiting line."""

    key: str
    until: float
    reactors: dict[UserId, str] = field(default_factory=dict)
    emojis: list[str | None] = field(default_factory=list)


class Reactions:
    """Notes the Telegram messages relayed to IRC and relays the reactions to them."""

    def __init__(
        self,
        config: RelayConfig,
        pairs: Pairs,
        outbox: OutboxQueue,
        store: ReactionStore,
        irc: IrcSide,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.pairs = pairs
        self.outbox = outbox
        self.store = store
        self.irc = irc
        self.clock = clock
        self._windows: Lru[tuple[str, str, str], _Window] = Lru(WINDOWS_KEPT)
        self._run = secrets.token_hex(4)
        """This process's run, in each replace key: see the module docstring."""
        self._count = itertools.count(1)

    async def note(self, msg: Message) -> None:
        """After the relay: remember a Telegram group message it sent to IRC (an edit
        updates the quote), so a reaction to it can name its author."""
        relay = self.config
        chat = msg.chat
        if not relay.reactions or chat.network is not Network.TELEGRAM or chat.is_private:
            return
        if msg.kind not in (MessageKind.TEXT, MessageKind.ACTION):
            return
        if msg.text.startswith(relay.no_relay_prefix) or self.pairs.route(chat) is None:
            return
        network, group, message_id, *_ = [*(msg.edit_of or msg.source_id).split(":"), "", ""]
        if network != "tg" or not message_id or group != split_telegram_chat(chat.chat_id)[0]:
            return
        quote = msg.text or "".join(f"[{a.kind}]" for a in msg.attachments[:1])
        name = clean_name(msg.author.display_name)
        await self.store.note(group, message_id, chat.chat_id, name, quote)

    async def relay(self, msg: Message) -> None:
        """A reaction (the router checked the one who reacted): merged into the line of its
        message's window and queued, or dropped (off, or its message unknown)."""
        reaction = msg.detail
        if not self.config.reactions or not isinstance(reaction, Reaction):
            return
        if msg.chat.network is not Network.TELEGRAM or msg.chat.is_private:
            return
        group = split_telegram_chat(msg.chat.chat_id)[0]
        reacted = await self.store.lookup(group, reaction.message_id)
        if reacted is None:
            log.debug("reaction to %s/%s: message not relayed", group, reaction.message_id)
            return
        route = self.pairs.route(ChatRef(Network.TELEGRAM, ChatId(reacted.chat)))
        if route is None:
            return
        channel = route.channel
        window = self._window((channel, group, reaction.message_id))
        window.reactors.setdefault(msg.author.user_id, msg.author.display_name)
        window.emojis += [e for e in reaction.added if e is None or e not in window.emojis]
        nicks = self.irc.folded_nicks(channel)
        mode = self.config.anti_highlight
        fold = self.irc.casefold
        names = [anti_highlight(clean_name(n), nicks, mode, fold) for n in window.reactors.values()]
        author = clean_name(reacted.author_name)
        if not reacted.by_bridge:  # a Telegram name; an IRC author is meant to see it
            author = anti_highlight(author, nicks, mode, fold)
        line = reaction_line(names, window.emojis, author, reacted.quote)
        budget = self.irc.payload_budget(channel)
        payload = IrcLines(tuple(format_relay_lines("", [line], budget)))
        sender, sender_name = sender_of(msg.author)
        await self.outbox.enqueue(
            [
                NewItem(
                    network=Network.IRC,
                    chat=channel,
                    dedup_key=f"{msg.source_id}>irc:{channel}",
                    kind="reaction",
                    payload=payload,
                    replace_key=f"{window.key}>irc:{channel}",
                    delay=max(0.0, window.until - self.clock()),
                    sender=sender,
                    sender_name=sender_name,
                    replay_possible=msg.replay_possible,
                )
            ]
        )

    def _window(self, key: tuple[str, str, str]) -> _Window:
        """The open window of a message's reactions, or a new one."""
        now = self.clock()
        window = self._windows.get(key)
        if window is None or now >= window.until:
            name = f"react:{self._run}:{next(self._count)}"
            window = _Window(name, now + self.config.reaction_debounce_s)
            self._windows[key] = window
        return window
