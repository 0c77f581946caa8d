"""End to end: the bridge compares names by the server's own case rule (005 CASEMAPPING).

ngircd and ircd-hybrid advertise `ascii`, so `tg[bridge]` and `tg{bridge}` are two people
there: the bridge must relay the second one's lines (not drop them as its own echo) and must
not break a Telegram name `al{x}` for a channel nick `al[x]`. InspIRCd advertises `rfc1459`,
where they are one nick, and the name is broken as before.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import CHANNEL, GROUP, running_bridge, write_config
from tests.support.hybrid import hybrid_server
from tests.support.irc_client import IrcClient, connect
from tests.support.ircd import IrcServer, inspircd_server, ngircd_server

ZWSP = "\u200b"
BOT = "tg[bridge]"
AL = TgUser(1201, "al{x}")


async def person(ircd: IrcServer, nick: str) -> IrcClient:
    """Someone in the bridged channel (a user name without brackets: servers refuse those)."""
    client = await connect(ircd.host, ircd.port, nick, user="person")
    await client.join(CHANNEL)
    return client


ASCII_SERVERS: dict[str, Callable[[Path], IrcServer]] = {
    "ngircd": ngircd_server,
    "hybrid": hybrid_server,
}


@pytest.mark.parametrize("kind", sorted(ASCII_SERVERS))
async def test_on_an_ascii_server_brackets_are_two_people(
    tmp_path: Path, fake_tg: FakeTelegram, kind: str
) -> None:
    async with ASCII_SERVERS[kind](tmp_path / kind) as ircd:
        config = write_config(tmp_path / "config.toml", fake_tg, ircd, irc={"nick": BOT})
        al = await person(ircd, "al[x]")  # there first: in the NAMES the bot reads
        other = await person(ircd, "tg{bridge}")  # not the bot, on this server
        try:
            async with running_bridge(config):
                fake_tg.push_text(GROUP, AL, "hi")
                [line] = await al.expect_privmsgs(CHANNEL, 1, source_nick=BOT)
                assert line.text == "<al{x}> hi"  # al{x} is nobody in the channel here

                other.privmsg(CHANNEL, "I am not the bot")
                [sent] = await fake_tg.wait_sent()
                assert sent.visible_text == "tg{bridge}: I am not the bot"
        finally:
            await al.close()
            await other.close()


async def test_on_an_rfc1459_server_brackets_are_one_nick(
    tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    async with inspircd_server(tmp_path / "inspircd") as ircd:
        config = write_config(tmp_path / "config.toml", fake_tg, ircd, irc={"nick": BOT})
        al = await person(ircd, "al[x]")
        try:
            async with running_bridge(config):
                fake_tg.push_text(GROUP, AL, "hi")
                [line] = await al.expect_privmsgs(CHANNEL, 1, source_nick=BOT)
                assert line.text == f"<a{ZWSP}l{{x}}> hi"  # al{x} is al[x] here: not pinged
        finally:
            await al.close()
