"""End to end (issue 9, cases 3–6): the real bridge, a real ngircd, the strict fake Bot API.

Posts as a channel run no command; a forward is shown as one and never runs; the roster
answers only the community; moderators clean it on both networks; clones from one host
cannot fill it. Each test asserts what people see: exact IRC lines, exact Bot API calls.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.registry import build_registry
from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import ALICE, BOT_NICK, CAROL, CHANNEL, GROUP, human, running_bridge
from tests.support.irc_client import QUIET, IrcClient
from tests.support.ircd import IrcServer
from tests.support.roster import (
    config_for,
    from_bot,
    in_chat,
    irc_ask,
    irc_one,
    query,
    tg_one,
)

CHANNEL_BOT = TgUser(136817688, "Channel", username="Channel_Bot", is_bot=True)
NEWS = {"id": -1002000000001, "type": "channel", "title": "News"}
BLOG = {"id": -1002000000002, "type": "channel", "title": "Blog"}
DAVE = TgUser(1004, "Dave", username="dave_tg")
ERIN = TgUser(1005, "Erin")
OTHER_GROUP = -1003000000003
NOT_A_PERSON = (
    "You are posting as {title}, which any of its admins can do, so I cannot tell who you "
    "are: send commands from your own account."
)
REFUSED = (
    "Sorry, I answer {p}{name} only in the bridged group or channel, "
    "or privately to the people in it."
)


async def as_channel(fake: FakeTelegram, channel: dict[str, object], text: str) -> str:
    """A post in the group sent as channel; the bot's answer there."""
    fake.push_message(GROUP, CHANNEL_BOT, sender_chat=channel, text=text)
    [answer] = await fake.wait_sent(in_chat(GROUP))
    return answer.visible_text or ""


# ------------------------------------------------------------- case 3: sent as a chat


@pytest.mark.slow
async def test_two_channels_posting_join_and_leave_touch_no_membership(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with running_bridge(config_for(tmp_path, fake_tg, ngircd)):
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            assert await as_channel(fake_tg, NEWS, "/join") == NOT_A_PERSON.format(title="News")
            assert await as_channel(fake_tg, BLOG, "/join") == NOT_A_PERSON.format(title="Blog")
            assert await as_channel(fake_tg, BLOG, "/leave") == NOT_A_PERSON.format(title="Blog")
            assert query(tmp_path, "SELECT COUNT(*) FROM members") == [(0,)]
            # A member's own /join is untouched by a channel's /leave.
            assert (await tg_one(fake_tg, ALICE, "/join")).startswith("Welcome, Alice Smith")
            assert await as_channel(fake_tg, NEWS, "/leave") == NOT_A_PERSON.format(title="News")
            assert query(tmp_path, "SELECT network, key FROM identities") == [
                ("telegram", str(ALICE.id))
            ]
            # What a channel says that is not a command is relayed under its title.
            fake_tg.push_message(GROUP, CHANNEL_BOT, sender_chat=NEWS, text="new issue out")
            [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert line.text == "<News> new issue out"
            await bob.assert_no_line(from_bot, within=QUIET)
        finally:
            await bob.close()


# ------------------------------------------------------------------ case 4: forwards


@pytest.mark.slow
async def test_a_forward_shows_who_wrote_it_and_never_runs(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    carol_wrote = {"type": "user", "date": 1_690_000_000, "sender_user": CAROL.to_json()}
    from_news = {"type": "channel", "date": 1_690_000_000, "chat": NEWS, "message_id": 9}
    async with running_bridge(config_for(tmp_path, fake_tg, ngircd)):
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            fake_tg.push_message(GROUP, ALICE, text="/join", forward_origin=carol_wrote)
            fake_tg.push_message(GROUP, ALICE, text="big news", forward_origin=from_news)
            lines = await bob.expect_privmsgs(CHANNEL, 2, source_nick=BOT_NICK)
            assert [ln.text for ln in lines] == [
                "<Alice Smith> [fwd from Carol] /join",
                "<Alice Smith> [fwd from News] big news",
            ]
            # Privately too: a forwarded /join joins no one.
            fake_tg.push_message(ALICE.id, ALICE, text="/join", forward_origin=carol_wrote)
            fake_tg.push_text(ALICE.id, ALICE, "/members")
            [answer] = await fake_tg.wait_sent(
                lambda m: m.chat_id == ALICE.id and "member" in (m.visible_text or "")
            )
            assert answer.visible_text == "No members yet. Be the first: /join"
            assert [m.method for m in fake_tg.sent if m.chat_id == GROUP] == []
            assert query(tmp_path, "SELECT COUNT(*) FROM members") == [(0,)]
            await bob.assert_no_line(from_bot, within=QUIET)
        finally:
            await bob.close()


# -------------------------------------------------------- case 5: who may query the roster


@pytest.mark.slow
async def test_telegram_strangers_and_unbridged_groups_get_one_sentence(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    fake_tg.add_chat(OTHER_GROUP, title="Elsewhere")
    fake_tg.add_member(GROUP, ERIN)  # in the bridged group, has never spoken there
    async with running_bridge(config_for(tmp_path, fake_tg, ngircd)):
        await tg_one(fake_tg, ALICE, "/interests python")  # a member, in the group
        for command in ("/whois python", "/members", "/join"):
            name = command.split()[0][1:]
            assert await tg_one(fake_tg, DAVE, command, chat=DAVE.id) == REFUSED.format(
                p="/", name=name
            )
        assert fake_tg.calls.count("getChatMember") == 1  # remembered between commands
        listing = await tg_one(fake_tg, DAVE, "/help", chat=DAVE.id)
        assert listing.startswith("/help [command] — list the commands, or explain one")
        # In a group the bot was added to but that is not bridged: no one, not even Alice.
        assert await tg_one(fake_tg, ALICE, "/whois python", chat=OTHER_GROUP) == (
            REFUSED.format(p="/", name="whois")
        )
        # Erin is in the bridged group: her private questions are answered.
        assert await tg_one(fake_tg, ERIN, "/whois python", chat=ERIN.id) == (
            '1 listing "python":\nAlice Smith'
        )
        # And a member is answered wherever she asks privately, without a lookup.
        calls = fake_tg.calls.count("getChatMember")
        assert await tg_one(fake_tg, ALICE, "/members", chat=ALICE.id) == (
            "1 member (1 on Telegram, 0 on IRC). Most common interests: python (1)"
        )
        assert fake_tg.calls.count("getChatMember") == calls
        assert query(tmp_path, "SELECT COUNT(*) FROM members") == [(1,)]


@pytest.mark.slow
async def test_irc_strangers_are_answered_once_they_share_the_channel(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with running_bridge(config_for(tmp_path, fake_tg, ngircd)):
        mallory = await human(ngircd, "mallory")
        try:
            for command in ("whois python", "members", "!join"):
                name = command.lstrip("!").split()[0]
                assert await irc_one(mallory, BOT_NICK, command) == REFUSED.format(p="!", name=name)
            listing = await irc_ask(mallory, BOT_NICK, "help", len(build_registry(1).specs) + 1)
            assert listing[0].startswith("!help [command]")
            await mallory.join(CHANNEL)
            assert await irc_one(mallory, BOT_NICK, "members") == (
                "No members yet. Be the first: !join"
            )
            await mallory.assert_no_line(from_bot, within=QUIET)
        finally:
            await mallory.close()


# ------------------------------------------------------ case 6: cleaning, and clones


@pytest.mark.slow
async def test_a_telegram_moderator_removes_a_member_and_a_tag(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd, moderators=[f"telegram:{ALICE.id}"])
    async with running_bridge(config):
        await tg_one(fake_tg, CAROL, "/interests spam-link, python")
        await tg_one(fake_tg, DAVE, "/interests spam-link")
        [(carol_id,)] = query(
            tmp_path, "SELECT member_id FROM identities WHERE key = ?", (str(CAROL.id),)
        )
        assert await tg_one(fake_tg, DAVE, "/remove @carol") == (
            "Sorry, /remove is for moderators only."
        )
        assert await tg_one(fake_tg, ALICE, "/untag spam-link") == (
            'Removed "spam-link" from 2 members.'
        )
        assert await tg_one(fake_tg, ALICE, "/remove @carol") == (
            f"Removed Carol (#{carol_id}): 1 identity and 1 interest."
        )
        assert query(tmp_path, "SELECT key FROM identities") == [(str(DAVE.id),)]
        assert query(tmp_path, "SELECT COUNT(*) FROM interests") == [(0,)]
        actor = f"telegram:{ALICE.id}"
        assert query(tmp_path, "SELECT actor, action, target, affected FROM roster_cleaning") == [
            (actor, "untag", "spam-link", 2),
            (actor, "remove", f"member {carol_id}", 1),
        ]


@pytest.mark.slow
async def test_irc_clones_from_one_host_cannot_fill_the_roster_and_a_moderator_cleans_up(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    """Every client here comes from 127.0.0.1: one host, however many nicks."""
    config = config_for(
        tmp_path, fake_tg, ngircd, moderators=["irc:mask:mod!*@*"], unverified_per_host_per_hour=3
    )
    async with running_bridge(config):
        clones = [await human(ngircd, f"clone{n}", CHANNEL) for n in range(1, 5)]
        mod = await human(ngircd, "mod", CHANNEL)

        async def in_channel(client: IrcClient, text: str) -> str:
            """client says text in the channel; the bot's answer there, as mod sees it."""
            client.privmsg(CHANNEL, text)
            [answer] = await mod.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            return answer.text

        try:
            for clone in clones[:3]:
                assert (await in_channel(clone, "!join")).startswith(
                    f"Welcome, {clone.nickname}: you are on the roster."
                )
            assert await in_channel(clones[3], "!interests spam") == (
                "Too many people from your host joined without logging in this hour: log in "
                "to IRC services and try again (or wait an hour)."
            )
            assert query(tmp_path, "SELECT COUNT(*) FROM members") == [(3,)]
            assert (await in_channel(mod, "!remove clone2")).startswith("Removed clone2 (#")
            assert (await in_channel(clones[3], "!join")).startswith("Welcome, clone4")
            assert await irc_one(mod, BOT_NICK, "untag nothing-here") == (
                'No one lists "nothing-here".'
            )
            assert [r[0].split("!")[0] for r in query(tmp_path, "SELECT key FROM identities")] == [
                "mask:clone1",
                "mask:clone3",
                "mask:clone4",
            ]
            await mod.assert_no_line(from_bot, within=QUIET)
            [(actor, action)] = query(tmp_path, "SELECT actor, action FROM roster_cleaning")
            assert (actor.split("!")[0], action) == ("irc:mask:mod", "remove")
        finally:
            for client in (*clones, mod):
                await client.close()
