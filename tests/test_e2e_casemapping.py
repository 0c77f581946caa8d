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


FOUNDER = (
    '<customprefix name="founder" letter="F" prefix="*" rank="50000" ranktoset="30000" '
    'ranktounset="30000">'
)
"""InspIRCd's customprefix: a status above op shown as "*", a symbol no fixed list knows."""


async def test_names_with_the_servers_own_status_symbols_parse(
    tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    async with inspircd_server(
        tmp_path / "inspircd", extra_modules=("customprefix",), extra_config=FOUNDER
    ) as ircd:
        carol = await person(ircd, "carol")  # first in: channel operator
        try:
            carol.send_raw(f"MODE {CHANNEL} +F carol")
            await carol.wait_for(lambda ln: ln.command == "MODE" and "+F" in ln.params, 5)
            config = write_config(tmp_path / "config.toml", fake_tg, ircd)
            async with running_bridge(config) as bridge:
                assert bridge.app.irc.nicks(CHANNEL) == ["carol"]  # read from "*@carol"
                fake_tg.push_text(GROUP, TgUser(1202, "Carol"), "hi")
                [line] = await carol.expect_privmsgs(CHANNEL, 1, source_nick="tgbridge")
                assert line.text == f"<C{ZWSP}arol> hi"  # carol is seen: not pinged
        finally:
            await carol.close()
