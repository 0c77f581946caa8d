"""The IRC connector's own mask (welcome, 396, CHGHOST, NICK), reconnect backoff and pacing.

Events are fed straight into the connector so every form is covered (396 with a host or
user@host, our own CHGHOST or a neighbour's); test_e2e_irc_gaps covers CHGHOST on the wire.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from bridge.config import IrcConfig
from bridge.irc import IrcConnector
from bridge.model import Message
from bridge.pacing import TokenBucket


class _Mask(str):
    """Stands in for the library's NickMask (a str with .nick)."""

    @property
    def nick(self) -> str:
        return self.split("!", 1)[0]


def _event(kind: str, source: str | None, target: str | None, *args: str) -> Any:
    return SimpleNamespace(
        type=kind,
        source=_Mask(source) if source else None,
        target=target,
        arguments=list(args),
        tags=[],
    )


async def _ignore(message: Message) -> None:
    return None


def _connector(nick: str = "tgbridge") -> tuple[IrcConnector, Any]:
    irc = IrcConnector(IrcConfig(host="127.0.0.1", nick=nick, tls=False), ["#chan"], _ignore)
    sent: list[tuple[str, str]] = []
    grew = asyncio.Event()

    def record(command: str, rest: str) -> None:
        sent.append((command, rest))
        grew.set()

    conn = SimpleNamespace(
        real_nickname=nick,
        connected=True,
        features=SimpleNamespace(),
        join=lambda channel: record("JOIN", channel),
        privmsg=lambda target, text: record("PRIVMSG", f"{target} {text}"),
        mode=lambda target, modes: record("MODE", f"{target} {modes}"),
        sent=sent,
        grew=grew,
    )
    irc._conn = conn
    return irc, conn


async def test_own_mask_follows_welcome_396_chghost_and_nick() -> None:
    irc, conn = _connector()
    irc._on_event(
        conn, _event("welcome", "srv", "tgbridge", "Welcome tgbridge!~tgircbrid@127.0.0.1")
    )
    assert irc.own_mask == "tgbridge!~tgircbrid@127.0.0.1"
    short = irc.payload_budget("#chan")

    irc._on_event(conn, _event("396", "srv", "tgbridge", "a" * 40, "is now your displayed host"))
    assert irc.own_mask == "tgbridge!~tgircbrid@" + "a" * 40
    assert irc.payload_budget("#chan") == short - (40 - len("127.0.0.1"))

    irc._on_event(conn, _event("396", "srv", "tgbridge", "vu@v.host", "is now your displayed host"))
    assert irc.own_mask == "tgbridge!vu@v.host"

    irc._on_event(conn, _event("chghost", "tgbridge!vu@v.host", "newuser", "new.host.example"))
    assert irc.own_mask == "tgbridge!newuser@new.host.example"
    irc._on_event(conn, _event("chghost", "bob!b@bob.host", "x", "y" * 60))  # a neighbour
    assert irc.own_mask == "tgbridge!newuser@new.host.example"

    conn.real_nickname = "tgbridge_"  # the library renames itself before handlers run
    irc._on_event(conn, _event("nick", "tgbridge!newuser@new.host.example", "tgbridge_"))
    assert irc.own_mask == "tgbridge_!newuser@new.host.example"


async def test_chghost_is_requested_when_offered() -> None:
    irc, conn = _connector()
    requested: list[tuple[str, ...]] = []
    conn.cap = lambda *args: requested.append(args)
    irc._on_event(conn, _event("cap", "srv", "*", "LS", "chghost echo-message sasl"))
    assert requested == [("REQ", ":chghost echo-message")]


async def test_joins_and_identify_wait_for_the_bucket() -> None:
    irc, conn = _connector()
    irc.config = IrcConfig(host="h", nick="tgbridge", tls=False, nickserv_password="pw")
    irc.bucket = TokenBucket(1, 1000.0)
    conn.features.bot = "B"
    irc._registered = True
    irc._on_event(conn, _event("endofmotd", "srv", "tgbridge", "End of MOTD"))
    assert conn.sent == []  # nothing written straight from the handler
    sender = asyncio.create_task(irc._paced_sender())
    try:
        async with asyncio.timeout(5):
            while len(conn.sent) < 3:
                conn.grew.clear()
                await conn.grew.wait()
    finally:
        sender.cancel()
    assert conn.sent == [
        ("MODE", "tgbridge +B"),
        ("PRIVMSG", "NickServ IDENTIFY tgbridge pw"),
        ("JOIN", "#chan"),
    ]


async def test_queued_commands_of_a_lost_connection_are_dropped() -> None:
    irc, conn = _connector()
    irc._registered = True
    irc._send_paced(lambda: conn.join("#old"))
    irc._on_lost()
    irc._registered = True  # a new connection registered before the queue got its turn
    irc._send_paced(lambda: conn.join("#new"))
    sender = asyncio.create_task(irc._paced_sender())
    try:
        async with asyncio.timeout(5):
            while not conn.sent:
                conn.grew.clear()
                await conn.grew.wait()
    finally:
        sender.cancel()
    assert conn.sent == [("JOIN", "#new")]
