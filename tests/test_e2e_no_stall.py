"""End to end: commands wait in their own lanes, never in the relay's (issue 19).

A real ngircd or InspIRCd and the fake Bot API, with the bridge in-process (or, for the crash,
as a subprocess). Each test makes a command wait on something slow and measures what a person
sees of the relay meanwhile; on the code before the lanes each of them failed (a group message
waited ~15 s behind a slow getChatMember, a line ~20 s behind eight clones' WHOIS).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import ALICE, BOT_NICK, CAROL, CHANNEL, GROUP, human, running_bridge
from tests.support.harness import write_config as write_test_config
from tests.support.irc_client import Line
from tests.support.ircd import IrcServer
from tests.support.proc_harness import bridge_process

LOOKUP_DELAY = 15.0
"""How long the slow Bot API holds getChatMember / getChatAdministrators (the issue's case)."""
DAVE = TgUser(1004, "Dave", username="dave_tg")


def relayed_to(channel: str, text: str):  # type: ignore[no-untyped-def]
    def match(line: Line) -> bool:
        return line.command == "PRIVMSG" and line.target == channel and line.text.endswith(text)

    return match


def in_chat(chat_id: int):  # type: ignore[no-untyped-def]
    return lambda m: m.chat_id == chat_id


async def test_a_slow_lookup_holds_no_group_message(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    fake_tg.chats[GROUP].administrators = [ALICE]
    fake_tg.add_member(GROUP, CAROL)
    fake_tg.add_private_chat(CAROL)
    fake_tg.add_private_chat(ALICE)
    config = write_test_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        roster={"telegram_admins_are_moderators": True},
        telegram={"request_timeout": 20},
    )
    fake_tg.slow("getChatMember", LOOKUP_DELAY)
    fake_tg.slow("getChatAdministrators", LOOKUP_DELAY)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.push_text(CAROL.id, CAROL, "/whois python")  # private: is Carol a member?
        fake_tg.push_text(GROUP, ALICE, "/export")  # is Alice a moderator?
        # Both ask first whether their sender is an administrator (then Carol's, whether
        # she is a member): each waits 15 s for each answer.
        await fake_tg.wait_call("getChatAdministrators", 2, timeout=5)
        began = time.monotonic()
        fake_tg.push_text(GROUP, DAVE, "still here?")
        line = await bob.wait_for(relayed_to(CHANNEL, "still here?"), timeout=2.0)
        assert line.text == "<Dave> still here?"
        assert time.monotonic() - began < 2.0
        began = time.monotonic()  # and the other way: lookups have connections of their own
        bob.privmsg(CHANNEL, "yes")
        [sent] = await fake_tg.wait_sent(in_chat(GROUP), timeout=2.0)
        assert sent.visible_text == "bob: yes"
        assert time.monotonic() - began < 2.0
        # The commands were not dropped: once the lookups answer, both are answered.
        fake_tg.slow("getChatMember", 0)
        fake_tg.slow("getChatAdministrators", 0)
        [carol_answer] = await fake_tg.wait_sent(in_chat(CAROL.id), timeout=LOOKUP_DELAY + 10)
        assert "python" in (carol_answer.visible_text or "")
        await fake_tg.wait_sent(in_chat(ALICE.id), timeout=LOOKUP_DELAY + 10)  # the export
        await bob.close()


async def test_clones_typing_a_command_hold_no_line_of_the_channel(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_test_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        irc={"send_burst": 4, "send_rate": 1.0},  # the default pacing: WHOIS waits its turn
        telegram={"messages_per_minute": 600.0, "burst": 30},
    )
    async with running_bridge(config):
        clones = [await human(ngircd, f"clone{i}", CHANNEL) for i in range(8)]
        erin = await human(ngircd, "erin", CHANNEL)
        for clone in clones:
            clone.privmsg(CHANNEL, "!whois python")
        await asyncio.sleep(0.2)  # the commands are read before erin speaks
        began = time.monotonic()
        erin.privmsg(CHANNEL, "is the build green?")
        [sent] = await fake_tg.wait_sent(in_chat(GROUP), timeout=3.0)
        assert sent.visible_text == "erin: is the build green?"
        assert time.monotonic() - began < 3.0
        for client in (*clones, erin):
            await client.close()


async def test_a_new_nick_is_no_new_allowance(
    tmp_path: Path, fake_tg: FakeTelegram, inspircd: IrcServer
) -> None:
    config = write_test_config(
        tmp_path / "config.toml",
        fake_tg,
        inspircd,
        roster={"commands_per_minute": 3},
    )
    async with running_bridge(config):
        mallory = await human(inspircd, "mallory", CHANNEL)
        watcher = await human(inspircd, "watcher", CHANNEL)
        for i in range(8):
            await mallory.nick(f"mallory{i}")
            mallory.privmsg(CHANNEL, "!members")
        answers = await watcher.expect_privmsgs(CHANNEL, 4, source_nick=BOT_NICK)
        assert [ln.text for ln in answers] == [
            *["No members yet. Be the first: !join"] * 3,
            "Slow down, please: at most 3 commands a minute.",
        ]
        await watcher.assert_no_line(
            lambda ln: ln.command == "PRIVMSG" and ln.source_nick == BOT_NICK, within=1.5
        )
        for client in (mallory, watcher):
            await client.close()


@pytest.mark.slow
async def test_a_command_in_flight_at_a_crash_runs_after_the_restart(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    fake_tg.add_member(GROUP, CAROL)
    fake_tg.add_private_chat(CAROL)
    config = write_test_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with bridge_process(config) as bot:
        await bot.start()
        fake_tg.slow("getChatMember", 60)
        asked = fake_tg.push_text(CAROL.id, CAROL, "/members")
        await fake_tg.wait_call("getChatMember", timeout=10)
        await fake_tg.wait_confirmed(asked.update_id, timeout=10)  # acknowledged: kept
        await bot.kill()
        assert [m for m in fake_tg.sent if m.chat_id == CAROL.id] == []
        fake_tg.slow("getChatMember", 0)
        await bot.start()
        [answer] = await fake_tg.wait_sent(in_chat(CAROL.id), timeout=20)
        assert answer.visible_text == "No members yet. Be the first: /join"
        await asyncio.sleep(1.0)  # nothing more comes: the command ran once after the crash
        assert [m.visible_text for m in fake_tg.sent if m.chat_id == CAROL.id] == [
            "No members yet. Be the first: /join"
        ]
        assert await bot.terminate() == 0
