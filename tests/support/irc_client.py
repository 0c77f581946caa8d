"""A minimal IRC client that plays the humans in end-to-end tests.

Written on raw asyncio streams on purpose: it shares no code with the bridge (which uses the
``irc`` library), so a parsing bug in the bridge cannot be masked by the same bug here.

Every received line is parsed into a :class:`Line` and kept in :attr:`IrcClient.lines`
together with its raw bytes.  Waiting helpers (:meth:`IrcClient.wait_for`,
:meth:`IrcClient.expect_privmsgs`) are bounded and event-driven: they never sleep-poll.

Consumption rule: a waiter returns the *earliest not yet consumed* line matching its
predicate and marks that line consumed; lines that do not match stay available for later
waiters.  So ``await a.expect_privmsgs("#c", 2)`` followed by another call returns the next
two, and unrelated NOTICEs are not lost.

Usage::

    alice = await connect(srv.host, srv.port, "alice", caps=("message-tags", "server-time"))
    await alice.join("#bridge")
    alice.privmsg("#bridge", "hello")
    [line] = await bob.expect_privmsgs("#bridge", 1)
    assert (line.source_nick, line.text) == ("alice", "hello")
    await alice.close()
"""

# bounded `timeout=` parameters are this helper's API

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType

from bridge.irc.tcp import PromptAcks

DEFAULT_TIMEOUT = 10.0
QUIET = 1.0
"""How long a test watches to see that nothing happens: the one fixed wait, kept short."""
MAX_LINE_BYTES = 512  # RFC 1459 limit incl. CRLF (tags have their own budget)

_TAG_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}

# Numerics that end a JOIN attempt with an error.
_JOIN_ERRORS = {"403", "405", "471", "473", "474", "475", "476", "477", "479", "437"}


class IrcClientError(RuntimeError):
    """Registration/join failed or the connection closed while waiting."""


def _unescape_tag_value(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            out.append(_TAG_UNESCAPE.get(value[i + 1], value[i + 1]))
            i += 2
            continue
        if ch != "\\":  # a trailing lone backslash is dropped (IRCv3 spec)
            out.append(ch)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Line:
    """One parsed IRC line as received.

    ``raw`` is the exact bytes read from the socket including the trailing CRLF and
    ``raw_len == len(raw)``; text fields are decoded UTF-8 with ``errors="replace"``.
    ``tags`` maps tag keys to unescaped values ("" when a tag has no value).
    """

    raw: bytes
    tags: dict[str, str]
    prefix: str | None
    command: str
    params: tuple[str, ...]
    received_at: float = field(default_factory=time.monotonic)

    @classmethod
    def parse(cls, raw: bytes, received_at: float | None = None) -> Line:
        text = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
        tags: dict[str, str] = {}
        if text.startswith("@"):
            tag_part, _, text = text[1:].partition(" ")
            for item in tag_part.split(";"):
                if not item:
                    continue
                key, _, value = item.partition("=")
                tags[key] = _unescape_tag_value(value)
            text = text.lstrip(" ")
        prefix: str | None = None
        if text.startswith(":"):
            prefix, _, text = text[1:].partition(" ")
            text = text.lstrip(" ")
        params: list[str] = []
        while text:
            if text.startswith(":"):
                params.append(text[1:])
                break
            param, _, text = text.partition(" ")
            params.append(param)
            text = text.lstrip(" ")
        command = params.pop(0).upper() if params else ""
        return cls(
            raw=raw,
            tags=tags,
            prefix=prefix,
            command=command,
            params=tuple(params),
            received_at=time.monotonic() if received_at is None else received_at,
        )

    @property
    def raw_len(self) -> int:
        """Length in bytes of the full line as received, including CRLF."""
        return len(self.raw)

    @property
    def source_nick(self) -> str | None:
        """Nick (or server name) from the prefix ``nick!user@host``."""
        if self.prefix is None:
            return None
        return self.prefix.split("!", 1)[0].split("@", 1)[0]

    @property
    def target(self) -> str | None:
        return self.params[0] if self.params else None

    @property
    def text(self) -> str:
        """The trailing parameter (message text for PRIVMSG/NOTICE), "" if none."""
        return self.params[-1] if self.params else ""

    @property
    def action_text(self) -> str | None:
        """Text of a CTCP ACTION (``/me``), else None."""
        if self.command == "PRIVMSG" and self.text.startswith("\x01ACTION"):
            body = self.text[len("\x01ACTION") :].rstrip("\x01")
            return body[1:] if body.startswith(" ") else body
        return None

    @property
    def server_time(self) -> dt.datetime | None:
        """The IRCv3 ``time`` tag as an aware datetime, if present."""
        value = self.tags.get("time")
        if not value:
            return None
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))

    def __str__(self) -> str:
        return self.raw.decode("utf-8", errors="replace").rstrip("\r\n")


Predicate = Callable[[Line], bool]


class IrcClient:
    """A connected (or connecting) test client; construct via :func:`connect`."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        nick: str,
        *,
        auto_pong: bool = True,
    ) -> None:
        self.nickname = nick
        self.auto_pong = auto_pong
        self.lines: list[Line] = []
        self.sent: list[bytes] = []
        self.available_caps: dict[str, str] = {}
        self.enabled_caps: set[str] = set()
        self.isupport: dict[str, str] = {}
        self.closed = asyncio.Event()
        self.close_reason: str | None = None
        self._reader = reader
        self._writer = writer
        self._consumed: set[int] = set()
        self._first_unconsumed = 0
        self._changed = asyncio.Condition()
        self._task = asyncio.create_task(self._read_loop(), name=f"irc-test-client-{nick}")

    # ------------------------------------------------------------------ reading

    async def _read_loop(self) -> None:
        try:
            while True:
                try:
                    raw = await self._reader.readuntil(b"\n")
                except asyncio.IncompleteReadError as exc:
                    if exc.partial:
                        await self._record(exc.partial)
                    self.close_reason = "EOF"
                    return
                except asyncio.LimitOverrunError:
                    raw = await self._reader.read(65536)
                await self._record(raw)
        except (ConnectionError, OSError) as exc:
            self.close_reason = repr(exc)
        finally:
            self.closed.set()
            async with self._changed:
                self._changed.notify_all()

    async def _record(self, raw: bytes) -> None:
        line = Line.parse(raw)
        if line.command == "PING" and self.auto_pong:
            self._write(b"PONG :" + line.text.encode() + b"\r\n")
        elif line.command == "NICK" and line.source_nick == self.nickname and line.params:
            self.nickname = line.params[0]
        elif line.command == "005":
            for token in line.params[1:-1]:
                key, _, value = token.partition("=")
                self.isupport[key.upper()] = value
        async with self._changed:
            self.lines.append(line)
            self._changed.notify_all()

    def _find(self, predicate: Predicate, consume: bool) -> Line | None:
        for index in range(self._first_unconsumed, len(self.lines)):
            if index in self._consumed:
                continue
            line = self.lines[index]
            if predicate(line):
                if consume:
                    self._consumed.add(index)
                    while self._first_unconsumed in self._consumed:
                        self._first_unconsumed += 1
                return line
        return None

    async def wait_for(
        self,
        predicate: Predicate,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        consume: bool = True,
        description: str = "",
    ) -> Line:
        """Return the earliest unconsumed received line matching ``predicate``.

        Raises ``TimeoutError`` after ``timeout`` s (message lists recent lines) and
        ``IrcClientError`` if the connection closed without a match.
        """
        try:
            async with asyncio.timeout(timeout), self._changed:
                while True:
                    line = self._find(predicate, consume)
                    if line is not None:
                        return line
                    if self.closed.is_set():
                        raise IrcClientError(
                            f"{self.nickname}: connection closed ({self.close_reason}) while "
                            f"waiting for {description or predicate}; last lines:\n" + self._tail()
                        )
                    await self._changed.wait()
        except TimeoutError:
            raise TimeoutError(
                f"{self.nickname}: no line matching {description or predicate} within {timeout}s; "
                f"last lines:\n{self._tail()}"
            ) from None

    async def wait_command(
        self, command: str, timeout: float = DEFAULT_TIMEOUT, **kwargs: bool
    ) -> Line:
        """Wait for a line with this command or numeric (e.g. ``"001"``, ``"ERROR"``)."""
        command = command.upper()
        return await self.wait_for(
            lambda ln: ln.command == command, timeout, description=command, **kwargs
        )

    async def expect_privmsgs(
        self,
        channel: str,
        count: int,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        source_nick: str | None = None,
    ) -> list[Line]:
        """Return the next ``count`` PRIVMSGs to ``channel`` (optionally from one nick),
        in the order received.  The timeout bounds the whole wait, not each line."""
        chan = channel.lower()

        def is_msg(ln: Line) -> bool:
            return (
                ln.command == "PRIVMSG"
                and (ln.target or "").lower() == chan
                and (source_nick is None or ln.source_nick == source_nick)
            )

        got: list[Line] = []
        deadline = time.monotonic() + timeout
        try:
            for _ in range(count):
                remaining = max(0.0, deadline - time.monotonic())
                got.append(await self.wait_for(is_msg, remaining, description=f"PRIVMSG {channel}"))
        except TimeoutError:
            raise TimeoutError(
                f"{self.nickname}: got {len(got)}/{count} PRIVMSGs to {channel} in {timeout}s: "
                f"{[ln.text for ln in got]}; last lines:\n{self._tail()}"
            ) from None
        return got

    async def assert_no_line(self, predicate: Predicate, within: float = QUIET) -> None:
        """Fail if a matching unconsumed line arrives within ``within`` seconds.

        This is the one deliberate fixed-length wait: proving absence needs a window.
        """
        with contextlib.suppress(TimeoutError):
            line = await self.wait_for(predicate, within, consume=False)
            raise AssertionError(f"{self.nickname}: unexpected line {line}")

    async def wait_closed(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until the server closed the connection."""
        await asyncio.wait_for(self.closed.wait(), timeout)

    def _tail(self, n: int = 15) -> str:
        return "\n".join(f"  {ln}" for ln in self.lines[-n:])

    # ------------------------------------------------------------------ writing

    def _write(self, data: bytes) -> None:
        if self._writer.is_closing():
            return
        self.sent.append(data)
        self._writer.write(data)

    def send_bytes(self, data: bytes) -> None:
        """Write raw bytes unchecked (for invalid UTF-8, floods, injection tests)."""
        self._write(data)

    def send_raw(self, line: str) -> None:
        """Send one protocol line; CRLF is appended.  Refuses embedded CR/LF/NUL and
        lines over 512 bytes, because a human's client would never send those."""
        if any(ch in line for ch in "\r\n\0"):
            raise ValueError(f"control character in IRC line: {line!r}")
        data = line.encode("utf-8") + b"\r\n"
        if len(data) > MAX_LINE_BYTES and not line.startswith("@"):
            raise ValueError(f"IRC line is {len(data)} bytes > {MAX_LINE_BYTES}")
        self._write(data)

    async def drain(self) -> None:
        await self._writer.drain()

    def privmsg(self, target: str, text: str) -> None:
        self.send_raw(f"PRIVMSG {target} :{text}")

    def action(self, target: str, text: str) -> None:
        self.send_raw(f"PRIVMSG {target} :\x01ACTION {text}\x01")

    def notice(self, target: str, text: str) -> None:
        self.send_raw(f"NOTICE {target} :{text}")

    def tagmsg(self, target: str, tags: dict[str, str]) -> None:
        tag_str = ";".join(f"{k}={v}" if v else k for k, v in tags.items())
        self.send_raw(f"@{tag_str} TAGMSG {target}")

    async def nick(self, new: str, timeout: float = DEFAULT_TIMEOUT) -> Line:
        """Change nick and wait for the server's NICK confirmation."""
        old = self.nickname
        self.send_raw(f"NICK {new}")
        return await self.wait_for(
            lambda ln: (
                (ln.command == "NICK" and ln.source_nick == old)
                or ln.command in {"432", "433", "436", "437"}
            ),
            timeout,
            description=f"NICK {new}",
        )

    async def join(
        self, channel: str, timeout: float = DEFAULT_TIMEOUT, *, key: str | None = None
    ) -> list[str]:
        """JOIN and wait for end of NAMES (366); returns the nicks listed (prefixes kept)."""
        chan = channel.lower()
        self.send_raw(f"JOIN {channel}" + (f" {key}" if key else ""))
        end = await self.wait_for(
            lambda ln: (
                (ln.command == "366" and len(ln.params) > 1 and ln.params[1].lower() == chan)
                or (
                    ln.command in _JOIN_ERRORS
                    and len(ln.params) > 1
                    and ln.params[1].lower() == chan
                )
            ),
            timeout,
            description=f"366 for {channel}",
        )
        if end.command != "366":
            raise IrcClientError(f"{self.nickname}: JOIN {channel} failed: {end}")
        names: list[str] = []
        while (
            ln := self._find(
                lambda x: x.command == "353" and len(x.params) > 2 and x.params[2].lower() == chan,
                consume=True,
            )
        ) is not None:
            names.extend(ln.text.split())
        return names

    async def part(self, channel: str, reason: str = "", timeout: float = DEFAULT_TIMEOUT) -> Line:
        chan = channel.lower()
        self.send_raw(f"PART {channel}" + (f" :{reason}" if reason else ""))
        me = self.nickname
        return await self.wait_for(
            lambda ln: (
                ln.command == "PART" and ln.source_nick == me and (ln.target or "").lower() == chan
            ),
            timeout,
            description=f"PART {channel}",
        )

    async def quit(self, reason: str = "bye", timeout: float = 5.0) -> None:
        """Send QUIT and wait (bounded) for the server to close the link."""
        self.send_raw(f"QUIT :{reason}")
        with contextlib.suppress(TimeoutError, ConnectionError):
            await self.drain()
            await self.wait_closed(timeout)
        await self.close()

    async def close(self) -> None:
        """Cancel the reader and close the socket (idempotent)."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        self._writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer.wait_closed(), 2.0)

    async def __aenter__(self) -> IrcClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------- registration

    async def _negotiate_caps(self, caps: Iterable[str], timeout: float) -> None:
        wanted = list(caps)
        while True:
            ls = await self.wait_for(
                lambda ln: ln.command == "CAP" and len(ln.params) > 2 and ln.params[1] == "LS",
                timeout,
                description="CAP LS",
            )
            for item in ls.text.split():
                name, _, value = item.partition("=")
                self.available_caps[name] = value
            if not (len(ls.params) > 3 and ls.params[2] == "*"):
                break  # last line of a multiline LS
        request = [c for c in wanted if c in self.available_caps]
        if request:
            self.send_raw("CAP REQ :" + " ".join(request))
            reply = await self.wait_for(
                lambda ln: (
                    ln.command == "CAP" and len(ln.params) > 2 and ln.params[1] in {"ACK", "NAK"}
                ),
                timeout,
                description="CAP ACK/NAK",
            )
            if reply.params[1] == "ACK":
                self.enabled_caps.update(c.lstrip("-=~") for c in reply.text.split())
        self.send_raw("CAP END")

    @property
    def server_name(self) -> str | None:
        welcome = next((ln for ln in self.lines if ln.command == "001"), None)
        return welcome.prefix if welcome else None


class _PromptAckStream(PromptAcks, asyncio.StreamReaderProtocol):
    """asyncio's stream protocol, acknowledging every read at once."""


async def _open_acking(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """asyncio.open_connection with _PromptAckStream as the protocol."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    protocol = _PromptAckStream(reader)
    transport, _ = await loop.create_connection(lambda: protocol, host, port)
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


async def connect(
    host: str,
    port: int,
    nick: str,
    *,
    caps: Iterable[str] = (),
    user: str | None = None,
    realname: str | None = None,
    password: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    wait_motd: bool = True,
    prompt_ack: bool = False,
) -> IrcClient:
    """Open a connection and register as ``nick``.

    With ``caps``, negotiates ``CAP LS 302`` / ``CAP REQ`` (only caps the server offers;
    see ``client.enabled_caps``) / ``CAP END``.  Waits for 001 and, if ``wait_motd``, for
    the end of the MOTD (376/422) so ISUPPORT is complete.  Raises ``IrcClientError`` on
    nick collision or registration error. ``prompt_ack`` acknowledges every read at once
    (see ``bridge.irc.tcp.PromptAcks``), so that what a benchmark measures is not the
    receiving kernel's delayed-ACK timer.
    """
    if prompt_ack:
        reader, writer = await asyncio.wait_for(_open_acking(host, port), timeout)
    else:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    client = IrcClient(reader, writer, nick)
    try:
        caps = tuple(caps)
        if caps:
            client.send_raw("CAP LS 302")
        if password:
            client.send_raw(f"PASS {password}")
        client.send_raw(f"NICK {nick}")
        client.send_raw(f"USER {user or nick} 0 * :{realname or nick}")
        if caps:
            await client._negotiate_caps(caps, timeout)
        first = await client.wait_for(
            lambda ln: ln.command in {"001", "431", "432", "433", "436", "437", "465", "ERROR"},
            timeout,
            description="001 (welcome)",
        )
        if first.command != "001":
            raise IrcClientError(f"registration as {nick} failed: {first}")
        client.nickname = first.params[0] if first.params else nick
        if wait_motd:
            await client.wait_for(
                lambda ln: ln.command in {"376", "422"}, timeout, description="end of MOTD"
            )
    except BaseException:
        await client.close()
        raise
    return client
