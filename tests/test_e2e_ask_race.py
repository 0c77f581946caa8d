"""/ask's per-recipient cap holds when two people ask at the same moment (issue 23, item 2):
each ask counts its recipients against roster.asks_received_per_day as it chooses them, not
once their Telegram verdict came back, so the second ask finds the member already at the cap.
Real ngircd, the fake Bot API with sendMessage held a second (a slow Bot API), and one ask
from each network at once."""

from __future__ import annotations

from pathlib import Path

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import ALICE, BOT_NICK, CAROL, CHANNEL, GROUP, human, running_bridge
from tests.support.ircd import IrcServer
from tests.support.roster import config_for, tg_one

NOBODY = "Nobody who takes questions on python can be asked now."
REACHED = "Your question on python went to 1 member now."


async def test_two_asks_at_once_cannot_both_pass_the_recipients_cap(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with running_bridge(config_for(tmp_path, fake_tg, ngircd, asks_received_per_day=1)):
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            fake_tg.add_private_chat(CAROL)
            fake_tg.add_member(GROUP, CAROL)
            for command in ("/interests python", "/askme yes"):
                await tg_one(fake_tg, CAROL, command, chat=CAROL.id)
            fake_tg.slow("sendMessage", 1.0)  # each verdict takes a second
            fake_tg.push_text(GROUP, ALICE, "/ask python one?")
            bob.privmsg(CHANNEL, "!ask python two?")
            (on_irc,) = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK, timeout=15)
            (on_tg,) = await fake_tg.wait_sent(
                lambda m: m.chat_id == GROUP and "python" in (m.visible_text or ""), timeout=15
            )
            answers = sorted([on_irc.text.split(" !whois")[0], on_tg.visible_text or ""])
            answers = [a.split(" /whois")[0] for a in answers]
            assert answers == [NOBODY, REACHED]
            fake_tg.slow("sendMessage", 0)
            asked = [
                m for m in fake_tg.sent if (m.visible_text or "").startswith("Question on python")
            ]
            assert [m.chat_id for m in asked] == [CAROL.id]
        finally:
            await bob.close()
