"""End to end, a fair share per sender (issue 19, item 3): one member's flood delays another
member's line by one message at most, and all of the flood still arrives, in order.

The bridge runs in-process against a real ngircd and the fake Bot API, at the default IRC
pacing (send_burst 4, send_rate 1.0 line/s). Six 3,800-character messages are 54 IRC lines,
close to a minute of sending: before senders took turns, a line written after them waited
for all of it (50 s in the issue's measurement).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bridge.outbox import NewItem
from bridge.payloads import IrcLines
from bridge.sending import payload_store
from storage.db import Database
from tests.support.delivery import from_bridge
from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import ALICE, CHANNEL, GROUP, human, running_bridge, write_config
from tests.support.ircd import IrcServer

FLOOD_MESSAGES = 6
FLOOD_CHARS = 3800
BOUND = 15.0
"""The issue's bar: another member's line reaches IRC within this many seconds."""
BOB = TgUser(1002, "Bob", "Jones", username="bob_j")
FLOODER_PREFIX = "<Alice Smith> "


def flood_text(n: int) -> str:
    """Message n of the flood: FLOOD_CHARS characters of numbered words, so a line that went
    missing, came twice or out of order shows."""
    words: list[str] = []
    size = -1
    i = 0
    while size + len(f" m{n}w{i:04d}") <= FLOOD_CHARS:
        words.append(f"m{n}w{i:04d}")
        size += len(words[-1]) + 1
        i += 1
    text = " ".join(words)
    return text + "x" * (FLOOD_CHARS - len(text))


@pytest.mark.timeout(180)
@pytest.mark.slow
async def test_a_line_behind_a_flood_arrives_within_15s_and_the_flood_arrives_whole(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(
        tmp_path / "config.toml", fake_tg, ngircd, irc={"send_burst": 4, "send_rate": 1.0}
    )
    floods = [flood_text(n) for n in range(FLOOD_MESSAGES)]
    assert all(len(text) == FLOOD_CHARS for text in floods)
    async with running_bridge(config):
        carol = await human(ngircd, "carol", CHANNEL)
        try:
            bridged = from_bridge(CHANNEL)
            loop = asyncio.get_running_loop()

            pushed = [fake_tg.push_text(GROUP, ALICE, text) for text in floods]
            await fake_tg.wait_confirmed(pushed[-1].update_id, timeout=20)  # the flood is queued
            fake_tg.push_text(GROUP, BOB, "is the meeting at 5?")
            asked = loop.time()
            await carol.wait_for(
                lambda ln: bridged(ln) and ln.text == "<Bob Jones> is the meeting at 5?",
                timeout=BOUND + 30,
                consume=False,
                description="Bob's line",
            )
            waited = loop.time() - asked
            print(f"\nBob's line behind the flood: {waited:.1f} s")  # for the closing note
            assert waited <= BOUND, f"Bob's line waited {waited:.1f} s behind the flood"

            # All of Alice's text arrives, in order, each line once: her lines joined again are
            # her six messages back to back. Each cut falls at a space, which ends the earlier
            # line, and IRC drops a line's trailing space: the lines are joined with one.
            chunks: list[str] = []
            want = " ".join(floods)
            async with asyncio.timeout(120):
                while len(" ".join(chunks)) < len(want):
                    line = await carol.wait_for(bridged, timeout=120, description="Alice's lines")
                    if line.text.startswith(FLOODER_PREFIX):
                        chunks.append(line.text.removeprefix(FLOODER_PREFIX).rstrip(" "))
            assert " ".join(chunks) == want
            assert len(chunks) > 6 * FLOOD_MESSAGES  # it was a flood: several lines a message
        finally:
            await carol.close()


async def test_what_a_sender_now_ignored_left_queued_is_not_sent_after_a_restart(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    """relay.ignore is read at start: what an earlier run stored from someone it now names
    is dropped before anything is sent; everyone else's still goes, in order."""
    config = write_config(
        tmp_path / "config.toml", fake_tg, ngircd, relay={"ignore": [f"telegram:{ALICE.id}"]}
    )
    db = await Database.open(tmp_path / "bridge.sqlite3")  # as a run that stopped left it
    try:
        await payload_store(db).enqueue(
            [
                NewItem(
                    "irc",
                    CHANNEL,
                    f"tg:{n}>irc",
                    "relay",
                    IrcLines((text,)),
                    sender=f"telegram:{user.id}",
                    sender_name=user.username,
                )
                for n, (user, text) in enumerate(
                    [(ALICE, "<Alice Smith> buy now"), (BOB, "<Bob Jones> hello")]
                )
            ]
        )
    finally:
        await db.close()
    carol = await human(ngircd, "carol", CHANNEL)
    try:
        async with running_bridge(config):
            bridged = from_bridge(CHANNEL)
            line = await carol.wait_for(bridged, timeout=15, description="the first relayed line")
            assert line.text == "<Bob Jones> hello"
    finally:
        await carol.close()
