"""End to end over HTTP, issue 21: what the members directory must not publish.

A real bridge with [web] (ngircd, the fake Bot API): an identity added by /link to a listed
member takes the member off /members and /members.json until they say /listed yes again,
and the bot says so in the private chat where the code was redeemed; both directions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from tests.harness import ALICE, BOT_NICK, CAROL, CHANNEL, RunningBridge, human
from tests.support.fake_telegram import FakeTelegram
from tests.support.ircd import IrcServer
from tests.test_e2e_roster import in_chat, irc_one, link_code, tg_one
from tests.test_e2e_web import base, bridge_with_web


def unlisted_notice(prefix: str) -> str:
    return (
        "You are no longer listed in the members directory: linking took you out, so that "
        f"your new identity is not published without your say. {prefix}listed yes lists you "
        "again, with both identities."
    )


async def directory(bridge: RunningBridge, http: aiohttp.ClientSession) -> tuple[str, Any]:
    """(the /members page, the /members.json answer) as a visitor gets them."""
    async with http.get(base(bridge) + "/members") as resp:
        assert resp.status == 200
        html = await resp.text()
    async with http.get(base(bridge) + "/members.json") as resp:
        assert resp.status == 200
        return html, await resp.json()


async def test_irc_identity_linked_into_a_listed_telegram_member_unlists_it(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with bridge_with_web(tmp_path, fake_tg, ngircd) as (b, bob, http):
        fake_tg.add_private_chat(ALICE)
        listed = await tg_one(fake_tg, ALICE, "/listed yes")  # in the group: she is in it
        assert listed.startswith("Done: you are listed in the members directory")
        html, data = await directory(b, http)
        assert "1 member is listed" in html and data["total"] == 1
        assert [m["name"] for m in data["members"]] == ["Alice Smith"]

        code = link_code(await tg_one(fake_tg, ALICE, "/link", chat=ALICE.id))
        bob.privmsg(BOT_NICK, f"link {code}")
        [linked] = await bob.expect_privmsgs("bob", 1, source_nick=BOT_NICK)
        assert linked.text == (
            "Linked: Telegram: Alice Smith (@alice_s); IRC: bob (unverified) are now one member."
        )
        html, data = await directory(b, http)
        assert "0 members are listed" in html
        assert "Alice" not in html and "bob" not in html
        assert (data["total"], data["members"]) == (0, [])
        [told] = await bob.expect_privmsgs("bob", 1, source_nick=BOT_NICK)
        assert told.text == unlisted_notice("!")

        assert (await irc_one(bob, BOT_NICK, "listed yes")).startswith("Done: you are listed")
        html, data = await directory(b, http)
        assert [(m["name"], m["irc"]["nick"]) for m in data["members"]] == [("Alice Smith", "bob")]


async def test_telegram_identity_linked_into_a_listed_irc_member_unlists_it(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with bridge_with_web(tmp_path, fake_tg, ngircd) as (b, bob, http):
        dave = await human(ngircd, "dave", CHANNEL)
        try:
            listed = await irc_one(dave, CHANNEL, "!listed yes")
            assert listed.startswith("Done: you are listed in the members directory")
            await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)  # dave's answer
            html, data = await directory(b, http)
            assert [m["irc"]["nick"] for m in data["members"]] == ["dave"]

            code = link_code(await irc_one(dave, BOT_NICK, "link"))
            fake_tg.add_private_chat(CAROL)
            fake_tg.push_text(CAROL.id, CAROL, f"/link {code}")
            [answer] = await fake_tg.wait_sent(in_chat(CAROL.id))
            html, data = await directory(b, http)
            assert "0 members are listed" in html
            assert "dave" not in html and "Carol" not in html
            assert (data["total"], data["members"]) == (0, [])
            assert answer.visible_text == (
                "Linked: IRC: dave (unverified); Telegram: Carol (@carol) are now one member.\n"
                + unlisted_notice("/")
            )
            await bob.assert_no_line(lambda ln: ln.source_nick == BOT_NICK, within=0.5)
        finally:
            await dave.close()
