"""Writing to the server: relayed lines and the bot's own commands, paced and confirmed.

Both go behind one line budget (lanes.LineBudget) so the server never sees a burst it would
punish; with echo-message a relayed line counts as delivered only when the server sends it
back. Lines to one person wait behind the channels' lines, and go only to the person they
were queued for: a nick that changed hands since gets none of them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from bridge.casemap import Fold, irc_casefold
from bridge.irc.accounts import Accounts, LookupFailed
from bridge.irc.caps import CapNegotiation
from bridge.irc.channels import ChannelState, same_mask
from bridge.irc.lanes import Lane, LineBudget
from bridge.irc.link import Handlers, Link
from bridge.irc.own_mask import OwnMask
from bridge.pacing import TokenBucket
from bridge.payloads import IrcLines
from bridge.sending import PermanentError, Progress, Queued, Sent, TransientError

log = logging.getLogger(__name__)

ECHO_TIMEOUT = 15.0


def strip_unsafe(text: str) -> str:
    """Last line of defence: no CR, LF or NUL ever reaches the wire inside a payload."""
    return text.replace("\r", " ").replace("\n", " ").replace("\0", "")


def wire_line(line: str, linelen: int) -> bytes:
    """One protocol line as written, cut to the server's LINELEN (the library assumes 512);
    a line holding CR, LF or NUL is refused, since the server would run what follows."""
    data = line.encode("utf-8", errors="replace")
    if any(c in data for c in b"\r\n\0"):
        raise ValueError("refusing to send a line with CR, LF or NUL")
    return data[: linelen - 2] + b"\r\n"


class EchoTracker:
    """Lines written and not yet sent back by the server (echo-message), oldest first."""

    def __init__(
        self, is_me: Callable[[str], bool], timeout: float = ECHO_TIMEOUT, fold: Fold = irc_casefold
    ) -> None:
        self.timeout = timeout
        self._fold = fold
        self._is_me = is_me
        self._waiting: collections.deque[tuple[str, asyncio.Future[None]]] = collections.deque()

    async def wait(self, target: str) -> None:
        """Return when our line to target comes back, or after the timeout (counted as sent);
        raises TransientError if the connection is lost first."""
        entry = (self._fold(target), asyncio.get_running_loop().create_future())
        self._waiting.append(entry)
        try:
            await asyncio.wait_for(asyncio.shield(entry[1]), self.timeout)
        except TimeoutError:
            log.warning("IRC: no echo within %.0fs; counting the line as sent", self.timeout)
            with contextlib.suppress(ValueError):
                self._waiting.remove(entry)

    def echoed(self, target: str) -> None:
        """Our own line came back: the oldest line to that target waiting for it is confirmed."""
        key = self._fold(target)
        for entry in self._waiting:
            if entry[0] == key and not entry[1].done():
                self._waiting.remove(entry)
                entry[1].set_result(None)
                return

    def fail_all(self) -> None:
        """The connection is lost: lines never confirmed will be sent again."""
        while self._waiting:
            _, echo = self._waiting.popleft()
            if not echo.done():
                echo.set_exception(TransientError("IRC connection lost before the echo"))

    def handlers(self) -> Handlers:
        own_line = self._on_line
        return {t: own_line for t in ("pubmsg", "privmsg", "action", "pubnotice", "privnotice")}

    def _on_line(self, conn: Any, event: Any) -> None:
        if event.source and self._is_me(event.source.nick):
            self.echoed(event.target)


class CommandQueue:
    """The bot's own commands (JOIN, MODE, IDENTIFY) behind the token bucket that paces
    relayed lines; a command is dropped if its connection is lost before its turn."""

    def __init__(self, bucket: TokenBucket, usable: Callable[[], bool]) -> None:
        self._bucket = bucket
        self._usable = usable
        self._session = 0
        self._queue: asyncio.Queue[tuple[int, Callable[[], None]]] = asyncio.Queue()

    def send(self, command: Callable[[], None]) -> None:
        """Queue command for the current connection (never written from a callback)."""
        self._queue.put_nowait((self._session, command))

    def drop_pending(self) -> None:
        """The connection is lost: what is queued belongs to it."""
        self._session += 1

    async def run(self) -> None:
        while True:
            session, command = await self._queue.get()
            if session != self._session:
                continue
            await self._bucket.take()
            if session == self._session and self._usable():
                try:
                    command()
                except Exception:
                    log.exception("IRC: could not send a queued command")


class Recipients:
    """Whether a private item's nick is still held by the nick!user@host it was queued for."""

    def __init__(self, channels: ChannelState, accounts: Accounts) -> None:
        self._channels = channels
        self._accounts = accounts

    def seen(self, nick: str, mask: str) -> bool | None:
        """What the bot sees (it shares a channel with nick): same holder or not; None when
        it does not see nick, or never learned its mask."""
        current = self._channels.mask_of(nick)
        return None if current is None else same_mask(current, mask, self._channels.rules.fold)

    async def ask(self, nick: str, mask: str) -> bool:
        """The server's answer (WHOIS); TransientError when none comes."""
        try:
            holder = await self._accounts.lookup(nick)
        except LookupFailed as exc:
            raise TransientError(f"could not check who holds {nick}: {exc}") from exc
        return holder is not None and same_mask(holder.mask, mask, self._channels.rules.fold)


class Delivery:
    """The outbox's Sender for IRC: IrcLines written one paced line at a time."""

    def __init__(
        self,
        link: Link,
        budget: LineBudget,
        channels: ChannelState,
        own: OwnMask,
        caps: CapNegotiation,
        echoes: EchoTracker,
        recipients: Recipients,
    ) -> None:
        self._link = link
        self._budget = budget
        self._channels = channels
        self._own = own
        self._caps = caps
        self._echoes = echoes
        self._recipients = recipients

    def ready_for(self, chat: str) -> bool:
        """Channels need a join, private targets only a registered connection."""
        if not self._link.usable():
            return False
        return not self._channels.rules.is_channel(chat) or self._channels.is_joined(chat)

    async def wait_ready(self, chat: str) -> None:
        while not self.ready_for(chat):
            await self._link.wait_changed()

    async def deliver(self, chat: str, items: list[Queued], progress: Progress) -> Sent:
        """Write the first item's remaining lines, one paced line at a time."""
        item = items[0]
        payload = item.payload
        if not isinstance(payload, IrcLines):
            raise PermanentError(f"IRC cannot deliver {type(payload).__name__}")
        lines, action, notice = payload.lines, payload.action, payload.notice
        private = not self._channels.rules.is_channel(chat)
        ask_if_unseen = True  # before the first line, and again if the recipient leaves sight
        for index in range(item.progress, len(lines)):
            await self._budget.take_for(Lane.PRIVATE if private else Lane.RELAY)
            if not self.ready_for(chat):
                raise TransientError("not connected to IRC")
            if payload.recipient is not None:
                ask_if_unseen = await self._check_recipient(chat, payload.recipient, ask_if_unseen)
            text = strip_unsafe(lines[index])
            if action:
                self.write(f"PRIVMSG {chat} :\x01ACTION {text}\x01")
            else:
                self.write(f"{'NOTICE' if notice else 'PRIVMSG'} {chat} :{text}")
            if "echo-message" in self._caps.enabled:
                await self._echoes.wait(chat)
            if index + 1 < len(lines):
                await progress(item, index + 1)
        return Sent(1)

    async def _check_recipient(self, nick: str, mask: str, ask_if_unseen: bool) -> bool:
        """Stop (PermanentError) if nick is no longer held by mask. A recipient the bot sees
        costs nothing to check, line by line; one it does not see is asked about before the
        first line (and when it leaves sight). Returns whether to ask before the next line."""
        seen = self._recipients.seen(nick, mask)
        if seen is None and ask_if_unseen:
            seen = await self._recipients.ask(nick, mask)
        if seen is False:
            raise PermanentError(f"{nick} is no longer {mask}: its private lines are dropped")
        return self._recipients.seen(nick, mask) is not None

    def write(self, line: str) -> None:
        """Write one protocol line straight to the transport, within the server's LINELEN."""
        data = wire_line(line, self._own.linelen)
        transport = getattr(self._link.conn, "transport", None)
        if transport is None or transport.is_closing():
            raise TransientError("IRC connection lost while sending")
        transport.write(data)
