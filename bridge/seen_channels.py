"""Which bridged channels an IRC member is in, as the web directory's card names them.

A member's card used to name every bridged channel (issue 21); now it names those where the
member was seen speaking, acting or joining. A channel whose [[bridge]] table says
`directory = false` is never recorded (nor shown: bridge/web/directory.py). The store is
asked once per person and channel, and again only after RECHECK or after a command of theirs
(/join, /leave, /link change what they are), so a busy channel costs one dict lookup a line.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bridge.config_model import BridgePair
from bridge.model import Message, MessageKind, Network
from storage.seen_channels import Seen

log = logging.getLogger(__name__)

REMEMBERED = 10_000
"""People whose answer is remembered; the least recently seen are forgotten first."""
RECHECK = 600.0
"""Seconds after which a remembered answer is asked again (someone may have joined or left
by a way this process did not see: another process, a moderator's /remove)."""
SEEN_KINDS = frozenset({MessageKind.TEXT, MessageKind.ACTION, MessageKind.JOIN})


class Recorder(Protocol):
    """storage.seen_channels.SeenChannelStore, as this module uses it."""

    async def record(self, key: str, channel: str) -> Seen: ...


@dataclass(slots=True)
class _Known:
    at: float
    member: bool
    channels: set[str]
    """The channels recorded for this member (empty for a stranger)."""

    def answers(self, channel: str, now: float) -> bool:
        """Whether this memory still says all there is to do in channel: nothing."""
        return now - self.at < RECHECK and (not self.member or channel in self.channels)


class SeenChannels:
    """Records where IRC members were seen, with a bounded memory of what is stored."""

    def __init__(
        self,
        store: Recorder,
        bridges: Sequence[BridgePair],
        clock: Callable[[], float] = time.monotonic,
        limit: int = REMEMBERED,
    ) -> None:
        self.store = store
        self.channels = frozenset(b.irc_channel for b in bridges if b.directory)
        self._clock = clock
        self.limit = limit
        self._known: OrderedDict[str, _Known] = OrderedDict()

    async def note(self, msg: Message) -> None:
        """msg's IRC author was seen in its channel: record it if they are a member."""
        chat = msg.chat
        if chat.network is not Network.IRC or chat.is_private or msg.kind not in SEEN_KINDS:
            return
        channel = str(chat.chat_id)
        if channel not in self.channels or msg.author.is_bot:
            return
        key = str(msg.author.user_id)  # bridge.identity's key: the roster's, too
        now = self._clock()
        known = self._known.get(key)
        if known is not None and known.answers(channel, now):
            self._known.move_to_end(key)  # the hot path
            return
        try:
            seen = await self.store.record(key, channel)
        except Exception:
            log.exception("could not record where an IRC member was seen")
            return
        if seen is Seen.STRANGER:
            known = _Known(now, False, set())
        elif known is None or not known.member or now - known.at >= RECHECK:
            known = _Known(now, True, {channel})
        else:
            known.channels.add(channel)
        self._known[key] = known
        self._known.move_to_end(key)
        while len(self._known) > self.limit:
            self._known.popitem(last=False)

    def forget(self, msg: Message) -> None:
        """msg's author ran a command, which may have made or ended their membership."""
        if msg.author.network is Network.IRC:
            self._known.pop(str(msg.author.user_id), None)

    def __len__(self) -> int:
        return len(self._known)
