"""A loopback TCP relay in front of an IRC server that keeps every line its clients write.

Why: some of the bridge's lines never reach another user (a refused JOIN, a NICK the
server turns down), yet how many it writes, and how fast, is exactly what a test of
pacing must count. The relay passes bytes through unchanged in both directions.

Usage::

    async with TcpTap(ircd.host, ircd.port) as tap:   # point the bridge at tap.port
        await tap.wait_lines(lambda ln: ln.startswith("JOIN "), 3)
        joins = tap.lines_matching(lambda ln: ln.startswith("JOIN "))
"""

# bounded `timeout=` parameters are this helper's API

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class TappedLine:
    connection: int
    """1 for the first client connection, 2 for the next (a reconnect), ..."""
    at: float
    """time.monotonic() when the relay read it."""
    text: str


class TcpTap:
    """Listens on 127.0.0.1:port and relays each connection to host:upstream_port."""

    def __init__(self, host: str, upstream_port: int) -> None:
        self.host = host
        self.upstream_port = upstream_port
        self.port = 0
        self.lines: list[TappedLine] = []
        self.connections = 0
        self._grew = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> TcpTap:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task
        await self._server.wait_closed()

    def lines_matching(self, predicate: Callable[[str], bool]) -> list[TappedLine]:
        return [line for line in self.lines if predicate(line.text)]

    async def wait_lines(
        self, predicate: Callable[[str], bool], count: int, timeout: float = 10.0
    ) -> list[TappedLine]:
        """Wait (event-driven, bounded) until clients wrote count lines matching predicate."""
        async with asyncio.timeout(timeout):
            while len(found := self.lines_matching(predicate)) < count:
                self._grew.clear()
                await self._grew.wait()
        return found

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        self._writers.append(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.upstream_port)
        except OSError:
            writer.close()
            return
        self._writers.append(up_writer)
        for task in (
            asyncio.create_task(self._pump(reader, up_writer, number)),
            asyncio.create_task(self._pump(up_reader, writer, None)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: int | None
    ) -> None:
        """Copy one direction line by line; record what the client wrote."""
        try:
            while line := await reader.readline():
                if record is not None:
                    text = line.rstrip(b"\r\n").decode("utf-8", errors="replace")
                    self.lines.append(TappedLine(record, time.monotonic(), text))
                    self._grew.set()
                writer.write(line)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
