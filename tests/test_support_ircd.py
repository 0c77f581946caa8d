"""Self-tests of the real-IRC-server test infrastructure (tests/support/ircd.py, irc_client.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.irc_client import IrcClientError, Line, connect
from tests.support.ircd import IrcServer, inspircd_server, ngircd_server

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def ngircd(tmp_path: Path) -> AsyncIterator[IrcServer]:
    async with ngircd_server(tmp_path) as srv:
        yield srv


@pytest.fixture
async def inspircd(tmp_path: Path) -> AsyncIterator[IrcServer]:
    async with inspircd_server(tmp_path) as srv:
        yield srv


def test_line_parse_tags_prefix_params() -> None:
    raw = (
        b"@time=2026-01-02T03:04:05.678Z;msgid=abc;x=a\\sb\\:c;flag "
        b":ann!u@h PRIVMSG #c :hi there\r\n"
    )
    line = Line.parse(raw)
    assert line.tags == {
        "time": "2026-01-02T03:04:05.678Z",
        "msgid": "abc",
        "x": "a b;c",
        "flag": "",
    }
    assert (line.prefix, line.source_nick, line.command) == ("ann!u@h", "ann", "PRIVMSG")
    assert line.params == ("#c", "hi there")
    assert line.text == "hi there"
    assert line.raw_len == len(raw)
    assert line.server_time is not None and line.server_time.year == 2026
    action = Line.parse(b":a!b@c PRIVMSG #c :\x01ACTION waves\x01\r\n")
    assert action.action_text == "waves"
    bad = Line.parse(b":a!b@c PRIVMSG #c :caf\xe9\r\n")
    assert bad.text == "caf\ufffd" and bad.raw.endswith(b"caf\xe9\r\n")


async def test_servers_start_fast(tmp_path: Path) -> None:
    for factory in (ngircd_server, inspircd_server):
        srv = factory(tmp_path)
        async with srv:
            assert srv.running
            assert srv.startup_seconds is not None and srv.startup_seconds < 3.0
        assert not srv.running


async def test_two_clients_talk_through_ngircd(ngircd: IrcServer) -> None:
    alice = await connect(ngircd.host, ngircd.port, "alice_the_long_nick", caps=("message-tags",))
    bob = await connect(ngircd.host, ngircd.port, "bob")
    try:
        assert alice.enabled_caps == set()  # ngircd does not offer message-tags
        assert alice.nickname == "alice_the_long_nick"  # MaxNickLength raised from 9
        await alice.join("#bridge")
        names = await bob.join("#bridge")
        assert "alice_the_long_nick" in names and "bob" in names
        alice.privmsg("#bridge", "hello ünïcode")
        alice.action("#bridge", "waves")
        alice.notice("#bridge", "a notice")
        first, second = await bob.expect_privmsgs("#bridge", 2, timeout=5)
        assert (first.source_nick, first.text, first.tags) == (
            "alice_the_long_nick",
            "hello ünïcode",
            {},
        )
        assert first.raw_len == len(first.raw) and first.raw.endswith(b"\r\n")
        assert second.action_text == "waves"
        notice = await bob.wait_command("NOTICE", timeout=5)
        assert notice.text == "a notice"
        await alice.nick("alice2")
        renamed = await bob.wait_for(lambda ln: ln.command == "NICK", timeout=5)
        assert renamed.params[0] == "alice2" and alice.nickname == "alice2"
        await alice.part("#bridge", "bye")
        await bob.wait_for(lambda ln: ln.command == "PART" and ln.source_nick == "alice2")
    finally:
        await alice.quit()
        await bob.quit()


async def test_nick_in_use_is_an_error(ngircd: IrcServer) -> None:
    async with await connect(ngircd.host, ngircd.port, "dup"):
        with pytest.raises(IrcClientError, match="433"):
            await connect(ngircd.host, ngircd.port, "dup", timeout=5)


async def test_inspircd_tags_server_time_and_bot_token(inspircd: IrcServer) -> None:
    caps = ("message-tags", "server-time", "echo-message", "not-a-real-cap")
    alice = await connect(inspircd.host, inspircd.port, "alice", caps=caps)
    bob = await connect(inspircd.host, inspircd.port, "bob", caps=caps)
    plain = await connect(inspircd.host, inspircd.port, "carol")
    try:
        assert {"message-tags", "server-time", "echo-message"} <= alice.enabled_caps
        assert "not-a-real-cap" not in alice.enabled_caps
        assert alice.isupport.get("BOT") == "B"
        for c in (alice, bob, plain):
            await c.join("#bridge")
        alice.privmsg("#bridge", "tagged")
        [got] = await bob.expect_privmsgs("#bridge", 1, timeout=5)
        assert got.text == "tagged" and "msgid" in got.tags
        assert got.server_time is not None
        assert abs(got.server_time.timestamp() - time.time()) < 60
        [echo] = await alice.expect_privmsgs("#bridge", 1, timeout=5, source_nick="alice")
        assert echo.tags["msgid"] == got.tags["msgid"]
        [untagged] = await plain.expect_privmsgs("#bridge", 1, timeout=5)
        assert untagged.tags == {} and untagged.text == "tagged"
        # Client-only tags reach tag-capable clients only.
        alice.send_raw("@+draft/react=x PRIVMSG #bridge :with client tag")
        [ct] = await bob.expect_privmsgs("#bridge", 1, timeout=5)
        assert ct.tags.get("+draft/react") == "x"
    finally:
        for c in (alice, bob, plain):
            await c.close()


async def test_inspircd_disconnects_a_flood_with_recvq_exceeded(inspircd: IrcServer) -> None:
    """What the bridge's pacing must avoid: 100 x 400-byte lines written at once."""
    flooder = await connect(inspircd.host, inspircd.port, "flooder")
    watcher = await connect(inspircd.host, inspircd.port, "watcher")
    try:
        await flooder.join("#bridge")
        await watcher.join("#bridge")
        prefix = b"PRIVMSG #bridge :"
        line = prefix + b"x" * (400 - len(prefix) - 2) + b"\r\n"
        assert len(line) == 400
        flooder.send_bytes(line * 100)
        error = await flooder.wait_command("ERROR", timeout=10)
        assert "RecvQ exceeded" in error.text
        await flooder.wait_closed(5)
        quit_line = await watcher.wait_for(
            lambda ln: ln.command == "QUIT" and ln.source_nick == "flooder", timeout=5
        )
        assert "RecvQ exceeded" in quit_line.text
        assert not [ln for ln in watcher.lines if ln.command == "PRIVMSG"]
    finally:
        await flooder.close()
        await watcher.close()


async def test_inspircd_small_burst_is_fine(inspircd: IrcServer) -> None:
    """Within the threshold (10) and recvq, a burst is delivered at once and in order."""
    alice = await connect(inspircd.host, inspircd.port, "alice")
    bob = await connect(inspircd.host, inspircd.port, "bob")
    try:
        await alice.join("#bridge")
        await bob.join("#bridge")
        for i in range(5):
            alice.privmsg("#bridge", f"line {i}")
        got = await bob.expect_privmsgs("#bridge", 5, timeout=5)
        assert [ln.text for ln in got] == [f"line {i}" for i in range(5)]
    finally:
        await alice.close()
        await bob.close()


async def test_ngircd_restart_on_same_port(ngircd: IrcServer) -> None:
    port = ngircd.port
    client = await connect(ngircd.host, port, "survivor")
    await client.join("#bridge")
    await ngircd.restart()
    assert ngircd.port == port and ngircd.running
    await client.wait_closed(5)
    await client.close()
    again = await connect(ngircd.host, port, "survivor")
    try:
        await again.join("#bridge")
    finally:
        await again.quit()


async def test_wait_for_timeout_is_bounded(ngircd: IrcServer) -> None:
    client = await connect(ngircd.host, ngircd.port, "waiter")
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError, match="no line matching"):
            await client.wait_for(lambda ln: ln.command == "NEVER", timeout=0.3)
        assert asyncio.get_running_loop().time() - started < 2
        with pytest.raises(ValueError):
            client.send_raw("PRIVMSG #x :a\rQUIT")
    finally:
        await client.close()
