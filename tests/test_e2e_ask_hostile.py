"""/ask from a hostile name (issue 23, item 2): the private question names who asks inside the
bot's own sentence, so nothing in that name may change how the rest is shown. Bidi controls
and other invisible format characters go (an RLO would reverse "(how to reach them): the
question" for the reader), markup stays text, and on IRC it is one line. Real ngircd and the
fake Bot API, whose strict HTML parser refuses unescaped markup."""

from __future__ import annotations

from pathlib import Path

from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CAROL,
    CHANNEL,
    GROUP,
    human,
    running_bridge,
)
from tests.support.irc_client import QUIET, connect
from tests.support.ircd import IrcServer
from tests.support.roster import config_for, from_bot, irc_one, tg_one

EVE = TgUser(1011, "Eve\u202e<b>x</b>\u200b", last_name="\u2066Admin\u2069", username="eve_h")
"""Right-to-left override, markup, a zero-width space and an isolate in the name."""


async def test_the_askers_name_cannot_reorder_or_mark_up_the_question(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with running_bridge(config_for(tmp_path, fake_tg, ngircd)):
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            fake_tg.add_private_chat(CAROL)
            fake_tg.add_member(GROUP, CAROL)
            for command in ("/interests python", "/askme yes"):
                await tg_one(fake_tg, CAROL, command, chat=CAROL.id)
            for command in ("interests python", "askme yes"):
                await irc_one(bob, BOT_NICK, command)
            assert await tg_one(fake_tg, EVE, "/ask python a <i>b</i> & c?") == (
                "Your question on python went to 2 members now."
            )
            asked = (
                "Question on python from Eve<b>x</b> Admin (Telegram @eve_h): "
                "\u201ca <i>b</i> & c?\u201d"
            )
            [to_carol] = [m.visible_text for m in fake_tg.sent if m.chat_id == CAROL.id][-1:]
            assert (to_carol or "").split("\n")[0] == asked
            lines = await bob.expect_privmsgs("bob", 2, source_nick=BOT_NICK)
            assert lines[0].text == asked
        finally:
            await bob.close()


async def test_a_question_is_kept_from_someone_else_holding_the_members_nick(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    """bob (known by nick!user@host, no services) is away and another connection holds
    "bob" on the channel: the question is not sent to that nick (the delivery would drop it
    and it would be lost, counted as sent); it is kept and reaches bob when he is back."""
    async with running_bridge(config_for(tmp_path, fake_tg, ngircd)):
        bob = await human(ngircd, "bob", CHANNEL)
        for command in ("interests python", "askme yes"):
            await irc_one(bob, BOT_NICK, command)
        await bob.close()
        impostor = await connect(ngircd.host, ngircd.port, "bob", user="mallory")
        try:
            await impostor.join(CHANNEL)
            impostor.privmsg(CHANNEL, "hello")  # the bot has seen this bob's mask
            await fake_tg.wait_sent(
                lambda m: m.chat_id == GROUP and "hello" in (m.visible_text or "")
            )
            assert await tg_one(fake_tg, ALICE, "/ask python anyone?") == (
                "Your question on python will reach 1 member when next seen on IRC."
            )
            await impostor.assert_no_line(from_bot, within=QUIET)
        finally:
            await impostor.close()
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            lines = await bob.expect_privmsgs("bob", 2, source_nick=BOT_NICK)
            assert lines[0].text == (
                "Question on python from Alice Smith (Telegram @alice_s): \u201canyone?\u201d"
            )
        finally:
            await bob.close()
