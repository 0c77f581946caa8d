"""End to end over HTTP, issue 21: what the members directory must not publish.

A real bridge with [web] (ngircd, the fake Bot API): a member's card names only the bridged
channels the member was seen in, never one marked `directory = false`; an identity added by
/link to a listed member takes the member off /members and /members.json until they say
/listed yes again, and the bot says so in the private chat where the code was redeemed
(both directions).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CAROL,
    CHANNEL,
    GROUP,
    RunningBridge,
    human,
    noting,
    running_bridge,
    toml_table,
    write_config,
)
from tests.support.ircd import IrcServer
from tests.support.ports import free_port
from tests.support.roster import in_chat, irc_one, link_code, tg_one
from tests.support.web import PUBLIC, base, bridge_with_web

SECRET = "#staff-secret"
RANDOM = "#random"


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


async def test_cards_name_only_channels_the_member_was_seen_in_and_never_a_hidden_one(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    staff, other = -1002000000002, -1002000000003
    fake_tg.add_chat(staff, title="Staff")
    fake_tg.add_chat(other, title="Random")
    path = write_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        pairs=((GROUP, CHANNEL), (staff, SECRET), (other, RANDOM)),
        telegram={"messages_per_minute": 600.0},
    )
    text = path.read_text(encoding="utf-8")
    hidden = f'irc_channel = "{SECRET}"\n'
    assert text.count(hidden) == 1
    text = text.replace(hidden, hidden + "directory = false\n")
    web = {"public_url": PUBLIC, "listen": f"127.0.0.1:{free_port()}"}
    path.write_text(text + "\n" + toml_table("web", web), encoding="utf-8")
    routed: asyncio.Queue[str] = asyncio.Queue()
    async with running_bridge(path, wrap_router=noting(routed)) as b:
        bob = await human(ngircd, "bob", CHANNEL)
        carol = await human(ngircd, "carol", CHANNEL, SECRET)
        try:
            # bob is only in #bridge; carol is in both and speaks in both.
            assert (await irc_one(bob, CHANNEL, "!listed yes")).startswith("Done: you are listed")
            carol.privmsg(SECRET, "!listed yes")
            [done] = await carol.expect_privmsgs(SECRET, 1, source_nick=BOT_NICK)
            assert done.text.startswith("Done: you are listed")
            carol.privmsg(SECRET, "only staff read this")
            carol.privmsg(CHANNEL, "hello all")
            waiting = {"only staff read this", "hello all"}
            async with asyncio.timeout(10):
                while waiting:  # routed: where carol spoke is noted
                    waiting.discard(await routed.get())
                await b.app.router.lanes.idle()  # so is where each command was typed
            async with aiohttp.ClientSession() as http:
                async with http.get(base(b) + "/members.json") as resp:
                    assert resp.status == 200
                    body = await resp.text()
                    data = await resp.json()
                async with http.get(base(b) + "/members") as resp:
                    html = await resp.text()
            cards = {m["irc"]["nick"]: m["irc"]["channels"] for m in data["members"]}
            assert cards == {"bob": [CHANNEL], "carol": [CHANNEL]}
            assert f"<dd><bdi>bob</bdi> on {CHANNEL}</dd>" in html
            assert f"<dd><bdi>carol</bdi> on {CHANNEL}</dd>" in html
            for page in (html, body):
                assert "staff-secret" not in page and RANDOM not in page
        finally:
            await bob.close()
            await carol.close()


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
