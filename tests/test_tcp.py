"""Prompt ACKs: every read re-arms TCP_QUICKACK and still reaches the protocol."""

from __future__ import annotations

import asyncio
import socket
import sys

import pytest

from bridge.irc.tcp import ack_promptly


class Recorder(asyncio.Protocol):
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.quickack: list[int] = []
        self.got = asyncio.Event()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        sock = self.transport.get_extra_info("socket")
        self.quickack.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)  # as the kernel may
        self.chunks.append(data)
        self.got.set()


@pytest.mark.skipif(sys.platform != "linux", reason="TCP_QUICKACK is Linux-only")
async def test_every_read_is_acknowledged_at_once_and_delivered() -> None:
    served = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for line in (b"one\r\n", b"two\r\n"):
            writer.write(line)
            await writer.drain()
            await asyncio.sleep(0.05)
        writer.close()
        await writer.wait_closed()
        served.set()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_connection(Recorder, "127.0.0.1", port)
    ack_promptly(transport, proto)
    try:
        async with asyncio.timeout(5):
            while b"".join(proto.chunks) != b"one\r\ntwo\r\n":
                proto.got.clear()
                await proto.got.wait()
        await asyncio.wait_for(served.wait(), 5)
    finally:
        transport.close()
        server.close()
        await server.wait_closed()
    assert proto.quickack and all(v == 1 for v in proto.quickack)
