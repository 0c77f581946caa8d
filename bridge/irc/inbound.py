"""IRC events → neutral Messages: what other people say and do in the bridged channels.

The library calls handlers synchronously from its protocol callback and lets exceptions
escape into it (which drops the connection): handlers here only translate, update the
channel state and queue; the router is called later, from the inbox task. A line whose
translation or routing raises is logged with the line and offered to Inbox.next_failure(),
where the App sets it aside; the lines after it go on as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.identity import account_now, irc_key
from bridge.irc.caps import CapNegotiation
from bridge.irc.channels import ChannelState
from bridge.irc.link import Handler, Handlers, Link
from bridge.model import (
    Author,
    ChatId,
    ChatRef,
    Departure,
    Detail,
    Kick,
    Message,
    MessageKind,
    Network,
    NickChange,
)
from bridge.render.irc_format import parse_irc_formatting

log = logging.getLogger(__name__)

OnMessage = Callable[[Message], Awaitable[None]]
"""Where read messages go (the router); returns once the message is stored durably."""

_ids = itertools.count(1)
FAILURES_KEPT = 100
"""Failed lines waiting to be set aside; beyond this they are only logged."""
LIVE_WITHIN = 10.0
"""A line whose server-time is older than this (seconds) may be a replay (a bouncer's
playback): its Message is marked replay_possible."""


def replayed(tags: dict[str, str | None]) -> bool:
    """Part of a batch (chathistory, playback) or stamped well in the past."""
    if "batch" in tags:
        return True
    stamp = tags.get("time")
    if not stamp:
        return False
    try:
        at = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return False
    return time.time() - at > LIVE_WITHIN


class EventTable:
    """Event type → the parts' handlers, run in the order the parts were added; one
    failing handler is logged and neither stops the others nor reaches the library."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def add(self, handlers: Handlers) -> None:
        for kind, handler in handlers.items():
            self._handlers.setdefault(kind, []).append(handler)

    def __call__(self, conn: Any, event: Any) -> None:
        for handler in self._handlers.get(event.type, ()):
            try:
                handler(conn, event)
            except Exception:
                log.exception("IRC: error handling %s", event.type)


@dataclass(frozen=True, slots=True)
class Failure:
    """An IRC line whose handling raised: the connector does not know storage, the App
    sets it aside."""

    line: str
    error: Exception


class Inbox:
    """Messages read from IRC, handed to the router in arrival order outside the callbacks;
    one that raises is a Failure, and the next goes on."""

    def __init__(self, behind: Inbox | None = None) -> None:
        """behind: the inbox this one waits for. Each message here is handled only once
        everything read into that one before it was, so it never overtakes what was said
        before it (the other inbox never waits for this one); failures are reported there."""
        self._queue: asyncio.Queue[tuple[Message, str, int]] = asyncio.Queue()
        self._failures: asyncio.Queue[Failure] = (
            behind._failures if behind is not None else asyncio.Queue(FAILURES_KEPT)
        )
        self._behind = behind
        self._read = 0  # messages put here so far
        self._handled = 0
        self._progress = asyncio.Event()

    def put(self, message: Message, line: str = "") -> None:
        """Queue a message read from ``line`` (the raw IRC line, kept for the error path)."""
        mark = self._behind._read if self._behind is not None else 0
        self._queue.put_nowait((message, line, mark))
        self._read += 1

    async def _handled_up_to(self, count: int) -> None:
        while self._handled < count:
            self._progress.clear()
            await self._progress.wait()

    def failed(self, line: str, error: Exception, what: str = "IRC: could not read") -> None:
        """A line could not be handled: logged with the line (never lost silently) and kept
        for next_failure()."""
        log.error("%s %r", what, line, exc_info=error)
        with contextlib.suppress(asyncio.QueueFull):
            self._failures.put_nowait(Failure(line, error))

    async def next_failure(self) -> Failure:
        return await self._failures.get()

    async def run(self, on_message: OnMessage) -> None:
        while True:
            message, line, mark = await self._queue.get()
            try:
                if self._behind is not None:
                    await self._behind._handled_up_to(mark)
                await on_message(message)
            except Exception as exc:
                who = f"IRC: failed to handle a message from {message.author.nick}:"
                self.failed(line or message.source_id, exc, who)
            finally:
                self._queue.task_done()
                self._handled += 1
                self._progress.set()

    async def drain(self, timeout: float) -> None:
        """Wait (at most timeout) until everything already read has been handled."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout)


class Inbound:
    """Translates other people's lines and channel events; keeps ChannelState current."""

    def __init__(
        self,
        channels: Sequence[str],
        state: ChannelState,
        link: Link,
        caps: CapNegotiation,
        inbox: Inbox,
        private_inbox: Inbox | None = None,
    ) -> None:
        self._channels = tuple(channels)
        self._bridged_names = {link.fold(c): c for c in channels}
        self._state = state
        self._link = link
        self._caps = caps
        self._inbox = inbox
        # Private lines wait on their own: a command that needs a WHOIS never holds up
        # what is said in the channels.
        self._private_inbox = private_inbox or inbox
        self._line = ""  # the raw line being handled, kept with what it became

    def handlers(self) -> Handlers:
        table: dict[str, Handler] = {
            "pubmsg": self._on_pubmsg,
            "privmsg": self._on_privmsg,
            "action": self._on_action,
            "join": self._on_join,
            "part": self._on_part,
            "kick": self._on_kick,
            "quit": self._on_quit,
            "nick": self._on_nick,
            "account": self._on_account,
            "namreply": self._on_names,
            "featurelist": self._on_features,
        }
        guarded = {kind: self._guarded(handler) for kind, handler in table.items()}
        return {"all_raw_messages": self._on_raw, **guarded}

    def _on_features(self, conn: Any, event: Any) -> None:
        """005: the bridged channels keyed again by the server's case rule (rfc1459 before)."""
        self._bridged_names = {self._link.fold(c): c for c in self._channels}

    def _on_raw(self, conn: Any, event: Any) -> None:
        self._line = event.arguments[0] if event.arguments else ""

    def _guarded(self, handler: Handler) -> Handler:
        """A line that breaks translation is a Failure to set aside, not the library's."""

        def guarded(conn: Any, event: Any) -> None:
            try:
                handler(conn, event)
            except Exception as exc:
                self._inbox.failed(self._line, exc)

        return guarded

    def _author(self, event: Any) -> Author:
        source = event.source
        nick = source.nick
        tags = {t["key"]: t.get("value") for t in (event.tags or [])}
        tagged, seen = "account-tag" in self._caps.enabled, self._state.account(nick)
        account = account_now(tagged=tagged, tag=tags.get("account"), seen=seen)
        mask = str(source)
        return Author(
            network=Network.IRC,
            user_id=irc_key(account, mask),
            display_name=nick,
            nick=nick,
            account=account,
            mask=mask,
        )

    def _emit(
        self,
        event: Any,
        channel: str,
        kind: MessageKind,
        text: str = "",
        *,
        private: bool = False,
        detail: Detail | None = None,
    ) -> None:
        tags = {t["key"]: t.get("value") for t in (event.tags or [])}
        self._state.note_mask(str(event.source))
        author = self._author(event)
        plain, spans = parse_irc_formatting(text)
        source_id = f"irc:{tags.get('msgid') or f'{time.time_ns()}-{next(_ids)}'}"
        if private:
            chat_id = author.nick
        else:
            chat_id = self._bridged_names.get(self._link.fold(channel), channel)
        (self._private_inbox if private else self._inbox).put(
            Message(
                source_id=source_id,
                author=author,
                chat=ChatRef(Network.IRC, ChatId(chat_id or ""), is_private=private),
                text=plain,
                spans=spans,
                kind=kind,
                timestamp=time.time(),
                detail=detail,
                replay_possible=replayed(tags),
            ),
            self._line,
        )

    def _bridged(self, channel: str | None) -> bool:
        return channel is not None and self._link.fold(channel) in self._bridged_names

    # Our own lines (echo-message) are the delivery side's: see EchoTracker.

    def _on_pubmsg(self, conn: Any, event: Any) -> None:
        if not self._link.is_me(event.source.nick) and self._bridged(event.target):
            self._emit(event, event.target, MessageKind.TEXT, event.arguments[0])

    def _on_privmsg(self, conn: Any, event: Any) -> None:
        if not self._link.is_me(event.source.nick):
            self._emit(event, event.source.nick, MessageKind.TEXT, event.arguments[0], private=True)

    def _on_action(self, conn: Any, event: Any) -> None:
        text = event.arguments[0] if event.arguments else ""
        if not self._link.is_me(event.source.nick) and self._bridged(event.target):
            self._emit(event, event.target, MessageKind.ACTION, text)

    def _on_join(self, conn: Any, event: Any) -> None:
        nick, channel = event.source.nick, event.target
        if self._link.is_me(nick):
            self._state.joined(channel)
            log.info("IRC: joined %s", channel)
            self._link.mark_changed()
            return
        self._state.add(channel, nick)
        if len(event.arguments) >= 1 and "extended-join" in self._caps.enabled:
            self._state.set_account(nick, event.arguments[0])
        if self._bridged(channel):
            self._emit(event, channel, MessageKind.JOIN)

    def _on_part(self, conn: Any, event: Any) -> None:
        nick, channel = event.source.nick, event.target
        if self._link.is_me(nick):
            self._state.left(channel)
            self._link.mark_changed()
            return
        self._state.remove(channel, nick)
        if self._bridged(channel):
            reason = event.arguments[0] if event.arguments else ""
            self._emit(event, channel, MessageKind.PART, detail=Departure(reason))

    def _on_kick(self, conn: Any, event: Any) -> None:
        channel, kicked = event.target, event.arguments[0]
        if self._link.is_me(kicked):  # the rejoin is Joins'
            self._state.left(channel)
            self._link.mark_changed()
            return
        self._state.remove(channel, kicked)
        if self._bridged(channel):
            reason = event.arguments[1] if len(event.arguments) > 1 else ""
            self._emit(event, channel, MessageKind.KICK, detail=Kick(kicked, reason))

    def _on_quit(self, conn: Any, event: Any) -> None:
        reason = event.arguments[0] if event.arguments else ""
        for channel in self._state.quit(event.source.nick):
            if self._bridged(channel):
                self._emit(event, channel, MessageKind.QUIT, detail=Departure(reason))

    def _on_nick(self, conn: Any, event: Any) -> None:
        new = event.target
        for channel in self._state.rename(event.source.nick, new):
            if self._bridged(channel):
                self._emit(event, channel, MessageKind.NICK, detail=NickChange(new))

    def _on_account(self, conn: Any, event: Any) -> None:
        self._state.set_account(event.source.nick, event.target)

    def _on_names(self, conn: Any, event: Any) -> None:
        if len(event.arguments) >= 3:
            self._state.add_names(event.arguments[1], event.arguments[2])
