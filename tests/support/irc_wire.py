"""The irc library's own connection with a recording transport, for unit tests of the parts
of bridge/irc/.

The library parses the lines a test feeds exactly as it parses a server's (tags, prefixes,
numerics, CTCP), and the commands the parts write come out as the bytes a server would
read. No socket, no server: each test says what the server said and reads what the bot
answered.

    table = EventTable(); table.add(caps.handlers())
    wire = await library_connection(table)
    wire.feed(":srv CAP * LS :chghost echo-message")
    assert wire.sent == ["CAP REQ :chghost echo-message"]
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import irc.client_aio
from jaraco.stream.buffer import LenientDecodingLineBuffer

NICK = "tgbridge"
USERNAME = "tgircbridge"


class RecordingTransport(asyncio.Transport):
    """The socket side: keeps every line the bot writes."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []
        self.raw: list[bytes] = []
        self.closed = False
        self.grew = asyncio.Event()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        data = bytes(data)
        self.raw.append(data)
        self.sent.extend(data.decode("utf-8", errors="replace").split("\r\n")[:-1])
        self.grew.set()

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


class Wire:
    """A registered-looking library connection: feed server lines, read the bot's."""

    def __init__(self, conn: Any, transport: RecordingTransport) -> None:
        self.conn = conn
        self.transport = transport

    @property
    def sent(self) -> list[str]:
        return self.transport.sent

    def feed(self, *lines: str) -> None:
        """Lines from the server, as the socket would deliver them."""
        self.conn.protocol.data_received("".join(f"{ln}\r\n" for ln in lines).encode())

    async def wait_sent(self, count: int, timeout: float = 5.0) -> list[str]:
        """Wait until the bot has written at least count lines (event-driven, bounded)."""
        async with asyncio.timeout(timeout):
            while len(self.sent) < count:
                self.transport.grew.clear()
                await self.transport.grew.wait()
        return self.sent


async def library_connection(on_event: Callable[[Any, Any], None], nick: str = NICK) -> Wire:
    """A library connection whose every event goes to on_event (an EventTable, usually);
    what it wrote while connecting (NICK, USER) is already cleared."""
    reactor = irc.client_aio.AioReactor(loop=asyncio.get_running_loop())
    reactor.add_global_handler("all_events", on_event, 0)
    conn = reactor.server()
    conn.buffer_class = LenientDecodingLineBuffer
    transport = RecordingTransport()

    async def factory(protocol: Any, address: tuple[str, int]) -> Any:
        return transport, protocol

    await conn.connect("irc.test", 6667, nick, username=USERNAME, connect_factory=factory)
    transport.sent.clear()
    transport.raw.clear()
    return Wire(conn, transport)
