"""An outbox with recording senders, for the outbox's tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from bridge.outbox import NewItem, Outbox
from bridge.payloads import IrcLines, Payload
from bridge.sending import Outgoing, Progress, Queued, Sent


class RecordingSender:
    """A destination that records what it got and fails on demand."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.failures: list[Exception] = []
        self.arrived = asyncio.Event()
        self.ready = asyncio.Event()
        self.ready.set()

    async def wait_ready(self, chat: str) -> None:
        await self.ready.wait()

    async def deliver(self, chat: str, items: list[Queued], progress: Progress) -> Sent:
        if self.failures:
            raise self.failures.pop(0)
        self.received.append(text_of(items[0]))
        self.arrived.set()
        return Sent(1)

    async def wait_count(self, n: int, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.received) < n:
                self.arrived.clear()
                await self.arrived.wait()


def item(text: str, key: str | None = None, **kw: object) -> Outgoing:
    return NewItem("irc", "#c", key or text, "relay", IrcLines((text,)), **kw)  # type: ignore[arg-type]


def text_of(queued: Queued) -> str:
    """The first line of a queued test item (every item here is IrcLines)."""
    assert isinstance(queued.payload, IrcLines)
    return queued.payload.lines[0]


@contextlib.asynccontextmanager
async def running(outbox: Outbox) -> AsyncIterator[None]:
    task = asyncio.create_task(outbox.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def summary(network: str, chat: str, count: int, hours: float) -> Payload:
    return IrcLines((f"{count} lost in {hours:g} h",))


class SteppedSender:
    """A destination that takes one message at a time and holds it until released."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.on_wire = asyncio.Event()
        self.release = asyncio.Event()

    async def wait_ready(self, chat: str) -> None:
        return None

    async def deliver(self, chat: str, items: list[Queued], progress: Progress) -> Sent:
        self.received.append(text_of(items[0]))
        self.on_wire.set()
        await self.release.wait()
        self.release.clear()
        return Sent(1)
