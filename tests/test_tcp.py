"""Prompt ACKs: every read re-arms TCP_QUICKACK and still reaches the protocol, and the
IRC library's connection gets them through its public ``protocol_class``."""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import irc.client_aio
import pytest

from bridge.irc.tcp import PromptAckIrcProtocol, PromptAcks


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


class AckedRecorder(PromptAcks, Recorder):
    """Recorder with prompt ACKs mixed in: it sees each read after they re-armed it."""


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
    transport, proto = await loop.create_connection(AckedRecorder, "127.0.0.1", port)
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


@pytest.mark.skipif(sys.platform != "linux", reason="TCP_QUICKACK is Linux-only")
async def test_the_irc_library_reads_through_prompt_acks() -> None:
    """What the supervisor sets: the library's connection built with PromptAckIrcProtocol
    re-arms the ACK before each read and parses every line the server wrote."""
    served = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"USER")  # the library's registration
            for line in (b":srv NOTICE * :one\r\n", b":srv NOTICE * :two\r\n"):
                writer.write(line)
                await writer.drain()
                await asyncio.sleep(0.05)
            await reader.read()  # until the client hangs up
        finally:
            writer.close()
            served.set()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    quickack: list[int] = []
    notices: list[str] = []
    got = asyncio.Event()

    def on_notice(conn: Any, event: Any) -> None:
        sock = transport.get_extra_info("socket")
        quickack.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)  # as the kernel may
        notices.append(event.arguments[0])
        got.set()

    reactor = irc.client_aio.AioReactor(loop=asyncio.get_running_loop())
    reactor.add_global_handler("privnotice", on_notice)
    conn = reactor.server()
    conn.protocol_class = PromptAckIrcProtocol
    await conn.connect("127.0.0.1", port, "acker")
    transport = conn.transport
    try:
        async with asyncio.timeout(5):
            while len(notices) < 2:
                got.clear()
                await got.wait()
    finally:
        conn.disconnect()
        await asyncio.wait_for(served.wait(), 5)  # the server's side closed too
        server.close()
        await server.wait_closed()
    assert isinstance(conn.protocol, PromptAckIrcProtocol)
    assert notices == ["one", "two"] and quickack == [1, 1]
