"""End to end: mentions that notify (issue 24, items 2 and 3), through the real bridge, a
real ngircd and the fake Bot API (which refuses any markup Telegram would refuse).

IRC → Telegram: a line naming a recent Telegram speaker reaches Telegram with a real mention
(her @username, or a tg://user link for one without). Telegram → IRC: a reply's nick and
an @nick stay whole on IRC, while a nick nobody meant (in a quote, in a Telegram name) is
still broken by the anti-highlight.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    human,
    running_bridge,
    write_config,
)
from tests.support.ircd import IrcServer

ZWSP = "\u200b"
UNPACED = {"messages_per_minute": 600.0, "burst": 30}
"""Telegram's group pace lifted: each IRC line goes as a message of its own, unmerged."""
HOUR = 3600.0

CAROL = TgUser(2001, "Carol")  # no username: mentioned by id
DAVE = TgUser(2002, "Dave", username="dave_tg")
SAM_A = TgUser(2003, "Sam")
SAM_B = TgUser(2004, "sam")  # the same name to a reader: neither Sam is linked
OLGA = TgUser(2005, "Olga")  # spoke 24 h and a second ago: too long
ANN, BEN, EVE, FAY = (TgUser(2010 + i, name) for i, name in enumerate(("Ann", "Ben", "Eve", "Fay")))


def link(user: TgUser, name: str) -> str:
    return f'<a href="tg://user?id={user.id}">{name}</a>'


@pytest.mark.slow
async def test_irc_lines_mention_recent_telegram_speakers(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd, telegram=UNPACED)
    async with running_bridge(config) as b:
        now = [time.time()]
        b.app.router.relay.speakers.clock = lambda: now[0]
        bob = await human(ngircd, "bob", CHANNEL)
        carol_irc = await human(ngircd, "carol", CHANNEL)  # so Carol shows as C\u200barol
        try:
            fake_tg.push_text(GROUP, OLGA, "morning")
            await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            now[0] += 23 * HOUR
            for user in (CAROL, DAVE, SAM_A, SAM_B, ANN, BEN, EVE, FAY):
                fake_tg.push_text(GROUP, user, "here")
            lines = await bob.expect_privmsgs(CHANNEL, 8, source_nick=BOT_NICK)
            assert lines[0].text == f"<C{ZWSP}arol> here"
            now[0] += HOUR + 1  # Olga spoke 24 h and 1 s ago, the others 1 h and 1 s ago

            said = [
                "Carol: see the patch",
                "dave, can you review it?",
                f"thanks C{ZWSP}arol",  # her name as the bridge showed it, pasted back
                "Sam: and Olga: ping",
                "not \x11Carol\x11 nor `Dave` nor https://example.org/carol",
                "Ann Ben Carol Dave Eve Fay: meeting",
            ]
            for text in said:
                bob.privmsg(CHANNEL, text)
            sent = await fake_tg.wait_sent(count=len(said))
            assert [m.text for m in sent] == [
                f"<b>bob</b>: {link(CAROL, 'Carol')}: see the patch",
                "<b>bob</b>: @dave_tg, can you review it?",
                f"<b>bob</b>: thanks {link(CAROL, f'C{ZWSP}arol')}",
                "<b>bob</b>: Sam: and Olga: ping",
                "<b>bob</b>: not <code>Carol</code> nor `Dave` nor https://example.org/carol",
                f"<b>bob</b>: {link(ANN, 'Ann')} {link(BEN, 'Ben')} {link(CAROL, 'Carol')} "
                f"@dave_tg {link(EVE, 'Eve')} Fay: meeting",
            ]
            assert sent[0].entities[-1] == {
                "type": "text_link",
                "offset": 5,
                "length": 5,
                "url": f"tg://user?id={CAROL.id}",
            }
        finally:
            await bob.close()
            await carol_irc.close()


@pytest.mark.slow
async def test_telegram_mentions_of_irc_nicks_stay_whole(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    erin_tg = TgUser(3001, "Erin")  # a Telegram name that is also a nick in the channel
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd, telegram=UNPACED)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        dave = await human(ngircd, "dave", CHANNEL)
        erin = await human(ngircd, "erin", CHANNEL)
        try:
            bob.privmsg(CHANNEL, "erin says the build is broken")
            [relayed] = await fake_tg.wait_sent()
            fake_tg.push_text(GROUP, ALICE, "@dave can you look?", reply_to=relayed.message_id)
            said = fake_tg.push_text(GROUP, erin_tg, "@dave ping")
            fake_tg.push_text(GROUP, ALICE, "on it", reply_to=said.message_id)
            lines = await dave.expect_privmsgs(CHANNEL, 3, source_nick=BOT_NICK)
            assert [ln.text for ln in lines] == [
                # bob's nick whole (the reply is to him), @dave whole (typed as meant),
                # erin broken: she is only quoted
                f'<Alice Smith> [re bob: "e{ZWSP}rin says the build is broken"] '
                "@dave can you look?",
                f"<E{ZWSP}rin> @dave ping",
                # a reply to a Telegram member named like a nick pings nobody on IRC
                f'<Alice Smith> [re E{ZWSP}rin: "@d{ZWSP}ave ping"] on it',
            ]
        finally:
            await bob.close()
            await dave.close()
            await erin.close()
