"""Issue 9, cases 1 and 2, end to end: a person is who services say they are now, and
private answers follow the person, not the nick.

InspIRCd linked to Atheme (tests/support/services.py) gives real accounts, account-tag,
account-notify and extended-join; the bridge runs in-process with the fake Bot API. A
moderator is seen logged in, leaves the bot's sight and quits; a stranger who is not logged
in takes the nick and asks privately for what only the moderator may have.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

import pytest

from bridge.model import Network
from storage.roster_store import RosterStore
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    RunningBridge,
    running_bridge,
    write_config,
)
from tests.support.identity import REFUSED_EXPORT, from_bot, without_account_tag
from tests.support.irc_client import IrcClient, connect
from tests.support.ircd import IrcServer
from tests.support.services import ServicesStack, logout, register_account, services_stack

pytestmark = pytest.mark.slow

MOD = "Mod"  # the nick, and the services account it registers
MODERATORS = [f"irc:account:{MOD}"]
QUIET = 2.0
"""Seconds to watch a client to prove that the bot sent it nothing more."""


async def ask(client: IrcClient, text: str, count: int = 1, timeout: float = 20.0) -> list[str]:
    """client says text to the bot privately; the bot's next count private lines."""
    client.privmsg(BOT_NICK, text)
    got = await client.expect_privmsgs(client.nickname, count, timeout, source_nick=BOT_NICK)
    return [line.text for line in got]


def exports_recorded(tmp_path: Path) -> list[str]:
    """The audit log of exports, as an operator reads it."""
    with closing(sqlite3.connect(tmp_path / "bridge.sqlite3")) as conn:
        return [row[0] for row in conn.execute("SELECT actor FROM exports")]


@asynccontextmanager
async def bridge_on(
    tmp_path: Path, fake_tg: FakeTelegram, stack: ServicesStack
) -> AsyncIterator[RunningBridge]:
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        stack.ircd,
        roster={"moderators": MODERATORS, "commands_per_minute": 100},
    )
    async with running_bridge(config) as bridge:
        yield bridge


async def logged_in_moderator(stack: ServicesStack) -> IrcClient:
    mod = await connect(stack.host, stack.port, MOD)
    await register_account(mod, "moderator-secret")  # logged in to account "Mod" from now
    return mod


async def impostor(stack: ServicesStack) -> IrcClient:
    """A stranger, not logged in, under the moderator's nick (another ident, same host)."""
    return await connect(stack.host, stack.port, MOD, user="stranger")


async def test_with_account_tag_a_stale_account_grants_nothing(
    tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    async with services_stack(tmp_path / "irc") as stack, bridge_on(tmp_path, fake_tg, stack):
        fake_tg.push_text(GROUP, ALICE, "/join")  # the roster an impostor would get
        await fake_tg.wait_sent(lambda m: m.chat_id == GROUP)
        mod = await logged_in_moderator(stack)
        await mod.join(CHANNEL)  # the bot sees Mod logged in (extended-join, account tag)
        assert await ask(mod, "members") == ["1 member (1 on Telegram, 0 on IRC)."]
        await mod.part(CHANNEL)  # out of the bot's sight...
        await mod.quit()  # ...and gone, which the bot cannot see
        stranger = await impostor(stack)
        try:
            assert await ask(stranger, "export") == [REFUSED_EXPORT]
            await stranger.assert_no_line(from_bot, within=QUIET)  # no roster lines at all
        finally:
            await stranger.close()
    assert exports_recorded(tmp_path) == []


async def test_without_account_tag_one_whois_is_not_remembered_for_the_nick(
    tmp_path: Path, fake_tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_account_tag(monkeypatch)
    async with (
        services_stack(tmp_path / "irc") as stack,
        bridge_on(tmp_path, fake_tg, stack) as bridge,
    ):
        assert "account-tag" not in bridge.app.irc.caps
        mod = await logged_in_moderator(stack)  # never in the channel: asked with WHOIS
        assert await ask(mod, "interests python, moderation") == [
            "You are now a member. Your interests: python, moderation."
        ]
        await mod.quit()
        stranger = await impostor(stack)
        try:
            assert await ask(stranger, "export") == [REFUSED_EXPORT]
            assert await ask(stranger, "leave") == [REFUSED_EXPORT.replace("export", "leave")]
            assert await ask(stranger, "interests +spam") == [
                REFUSED_EXPORT.replace("export", "interests")
            ]
            await stranger.assert_no_line(from_bot, within=QUIET)
        finally:
            await stranger.close()
        member = await RosterStore(bridge.db).get_member_by_identity(Network.IRC, f"account:{MOD}")
        assert member is not None and member.interests == ("python", "moderation")
    assert exports_recorded(tmp_path) == []


async def test_without_account_tag_an_account_notify_logout_is_honoured(
    tmp_path: Path, fake_tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_account_tag(monkeypatch)
    async with services_stack(tmp_path / "irc") as stack, bridge_on(tmp_path, fake_tg, stack):
        mod = await logged_in_moderator(stack)
        await mod.join(CHANNEL)  # seen logged in as Mod (extended-join)
        try:
            assert (await ask(mod, "members"))[0].startswith("No members yet")
            await logout(mod)  # ACCOUNT * reaches the bot through account-notify
            assert await ask(mod, "export") == ["Sorry, !export is for moderators only."]
            await mod.assert_no_line(from_bot, within=QUIET)
        finally:
            await mod.close()
    assert exports_recorded(tmp_path) == []


@pytest.mark.parametrize("leaves_by", ["quit", "nick"])
async def test_a_long_private_answer_stops_when_its_recipient_leaves_the_nick(
    tmp_path: Path, fake_tg: FakeTelegram, inspircd: IrcServer, leaves_by: str
) -> None:
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        inspircd,
        irc={"send_burst": 1, "send_rate": 1.0},  # /help's ten lines take nine seconds
    )
    async with running_bridge(config):
        reader = await connect(inspircd.host, inspircd.port, "reader")
        next_holder = await connect(inspircd.host, inspircd.port, "waiting", user="someone")
        try:
            await reader.join(CHANNEL)  # in the bot's sight: it sees the QUIT or NICK
            reader.privmsg(BOT_NICK, "help")
            [first] = await reader.expect_privmsgs("reader", 1, 15, source_nick=BOT_NICK)
            assert first.text.startswith("!help [command]")
            if leaves_by == "quit":
                await reader.quit()
            else:
                await reader.nick("reader_away")
            await next_holder.nick("reader")  # within the second before the next line
            # The rest of /help would have taken eight more seconds.
            await next_holder.assert_no_line(from_bot, within=10.0)
        finally:
            await next_holder.close()
            await reader.close()
