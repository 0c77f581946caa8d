"""/ask from a hostile name (issue 23, item 2): the private question names who asks inside the
bot's own sentence, so nothing in that name may change how the rest is shown. Bidi controls
and other invisible format characters go (an RLO would reverse "(how to reach them): the
question" for the reader), markup stays text, and on IRC it is one line. Real ngircd and the
fake Bot API, whose strict HTML parser refuses unescaped markup."""

from __future__ import annotations

from pathlib import Path

from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import BOT_NICK, CAROL, CHANNEL, GROUP, human, running_bridge
from tests.support.ircd import IrcServer
from tests.support.roster import config_for, irc_one, tg_one

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
