"""Runs the real bridge in-process against a real IRC server and the fake Bot API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.app import App
from bridge.config import Config, load_config, parse_config
from bridge.model import Message
from storage.db import Database
from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.irc_client import IrcClient, connect
from tests.support.ircd import IrcServer

os.environ.setdefault("PTB_TIMEDELTA", "true")

GROUP = -1001000000001
CHANNEL = "#bridge"
BOT_NICK = "tgbridge"
ALICE = TgUser(1001, "Alice", "Smith", username="alice_s")
CAROL = TgUser(1003, "Carol", username="carol")

Handle = Callable[[Message], Awaitable[None]]
RouterWrap = Callable[[Handle], Handle]
"""Wraps the router's entry point: how a test injects a fault or watches what was routed."""


def telegram_only_config(fake: FakeTelegram) -> Config:
    """A config for a TelegramConnector alone against the fake (the IRC part is never used)."""
    return parse_config(
        f"""
[telegram]
token = "{fake.token}"
api_url = "{fake.api_url}"
poll_timeout = 1
[irc]
host = "127.0.0.1"
nick = "bridge"
[[bridge]]
telegram_chat = {GROUP}
irc_channel = "#c"
"""
    )


def toml_value(value: Any) -> str:
    """A TOML literal for a test config value (also used by bench/)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(value)


def toml_table(name: str, values: Mapping[str, Any]) -> str:
    body = "".join(f"{k} = {toml_value(v)}\n" for k, v in values.items())
    return f"[{name}]\n{body}"


def write_config(
    path: Path,
    fake: FakeTelegram,
    ircd: IrcServer,
    *,
    pairs: tuple[tuple[int, str], ...] = ((GROUP, CHANNEL),),
    telegram: Mapping[str, Any] | None = None,
    irc: Mapping[str, Any] | None = None,
    relay: Mapping[str, Any] | None = None,
    roster: Mapping[str, Any] | None = None,
    delivery: Mapping[str, Any] | None = None,
) -> Path:
    """Write a config.toml for the test servers; tests override any key they care about."""
    sections = [
        toml_table(
            "telegram",
            {
                "token": fake.token,
                "api_url": fake.api_url,
                "file_url": fake.file_url,
                "poll_timeout": 5,
                "request_timeout": 3,
                **(telegram or {}),
            },
        ),
        toml_table(
            "irc",
            {
                "host": ircd.host,
                "port": ircd.port,
                "tls": False,
                "nick": BOT_NICK,
                "send_burst": 20,
                "send_rate": 50.0,
                "reconnect_min": 0.2,
                "reconnect_max": 1.0,
                **(irc or {}),
            },
        ),
        *(
            f"[[bridge]]\ntelegram_chat = {chat}\nirc_channel = {toml_value(chan)}\n"
            for chat, chan in pairs
        ),
        toml_table("relay", {"edit_debounce": 0.3, **(relay or {})}),
        toml_table("storage", {"path": str(path.parent / "bridge.sqlite3")}),
        toml_table("roster", dict(roster or {})),
        toml_table("delivery", {"shutdown_grace": 2, **(delivery or {})}),
        toml_table("logging", {"level": "DEBUG"}),
    ]
    path.write_text("\n".join(sections), encoding="utf-8")
    return path


@dataclass
class RunningBridge:
    app: App
    task: asyncio.Task[int]
    db: Database
    config: Config
    exit_code: int | None = None

    async def stop(self, timeout: float = 15.0) -> int:
        """Stop as SIGTERM would; returns the exit code run() gave."""
        if self.exit_code is None:
            self.app.stopping.set()
            async with asyncio.timeout(timeout):
                self.exit_code = await self.task
            await self.db.close()
        return self.exit_code


@contextlib.asynccontextmanager
async def running_bridge(
    config_path: Path,
    *,
    timeout: float = 15.0,
    wait_joined: bool = True,
    wrap_router: RouterWrap | None = None,
) -> AsyncIterator[RunningBridge]:
    """Start the bridge and (unless told not to) wait until it has joined every channel;
    stop it afterwards. ``wrap_router`` wraps what both connectors hand their input to."""
    config = load_config(config_path)
    db = await Database.open(config.storage.path)
    app = App(config, db)
    if wrap_router is not None:
        app.router.handle = wrap_router(app.router.handle)  # type: ignore[method-assign]
    task = asyncio.create_task(app.run())
    bridge = RunningBridge(app, task, db, config)
    try:
        if wait_joined:
            async with asyncio.timeout(timeout):
                for pair in config.bridges:
                    await app.irc.wait_ready(pair.irc_channel)
        yield bridge
    finally:
        await bridge.stop()


def noting(routed: asyncio.Queue[str], *, before: bool = False) -> RouterWrap:
    """Puts each text message's text on ``routed`` once the router handled it (stored what
    it asks for), or as it starts (``before``): a test learns what was routed, unpolled."""

    def wrap(handle: Handle) -> Handle:
        async def noted(message: Message) -> None:
            if before and message.text:
                routed.put_nowait(message.text)
            await handle(message)
            if not before and message.text:
                routed.put_nowait(message.text)

        return noted

    return wrap


def fail_on(text: str) -> RouterWrap:
    """A router that raises on one message text: a bug met by one input, injected."""

    def wrap(handle: Handle) -> Handle:
        async def handle_or_fail(message: Message) -> None:
            if message.text == text:
                raise RuntimeError(f"injected router fault on {text!r}")
            await handle(message)

        return handle_or_fail

    return wrap


class LogWatch(logging.Handler):
    """The bridge's log lines (this process), awaitable: a test waits for a line, unpolled."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []
        self._loop = loop
        self._changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(record.getMessage())
        self._loop.call_soon_threadsafe(self._changed.set)  # some lines come from threads

    def found(self, text: str) -> list[str]:
        return [line for line in self.lines if text in line]

    async def wait_for(self, text: str, timeout: float = 10.0, *, count: int = 1) -> str:
        """The ``count``-th line containing ``text``, once logged (at most timeout)."""
        async with asyncio.timeout(timeout):
            while len(self.found(text)) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.found(text)[count - 1]


@contextlib.contextmanager
def watching_logs() -> Iterator[LogWatch]:
    """Collect every log line (DEBUG and up) while the block runs."""
    root = logging.getLogger()
    watch = LogWatch(asyncio.get_running_loop())
    level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(watch)
    try:
        yield watch
    finally:
        root.removeHandler(watch)
        root.setLevel(level)


async def human(
    ircd: IrcServer, nick: str, *channels: str, caps: tuple[str, ...] = ()
) -> IrcClient:
    """A person on IRC, joined to the given channels."""
    client = await connect(ircd.host, ircd.port, nick, caps=caps)
    try:
        for channel in channels:
            await client.join(channel)
    except BaseException:  # a JOIN refused or timed out: the socket is not left to the GC
        await client.close()
        raise
    return client
