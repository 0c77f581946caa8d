"""End to end: /askme and /ask from both networks, through the real bridge (issue 23).

A real ngircd, the fake Bot API and the bridge in-process. Each test asserts what people
see: the question reaches exactly the members who list the interest and said /askme yes,
privately, on the network they were last active on; the asker is told how many, never who.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.bridge_state import status
from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import ALICE, BOT_NICK, CAROL, CHANNEL, GROUP, human, running_bridge
from tests.support.irc_client import QUIET, IrcClient, Line
from tests.support.ircd import IrcServer
from tests.support.roster import config_for, from_bot, irc_ask, irc_one, query, tg_one

DAVE = TgUser(1004, "Dave", username="dave_tg")
ERIN = TgUser(1005, "Erin")
"""In the group, never pressed Start: Telegram refuses the bot's private messages to her."""
STRANGER = TgUser(1009, "Mallory", username="mallory")
TG_STOP = "Answer them there if you can. You get this because you said /askme yes; " + (
    "/askme no stops these."
)
IRC_STOP = "Answer them there if you can. You get this because you said !askme yes; " + (
    "!askme no stops these."
)


def question(tag: str, who: str, text: str) -> str:
    return f"Question on {tag} from {who}: \u201c{text}\u201d"


def sent_to(fake: FakeTelegram, user: TgUser) -> list[str]:
    return [m.visible_text or "" for m in fake.sent if m.chat_id == user.id]


async def private_lines(client: IrcClient, count: int) -> list[str]:
    lines = await client.expect_privmsgs(client.nickname, count, source_nick=BOT_NICK)
    return [ln.text for ln in lines]


async def member_privately(fake: FakeTelegram, user: TgUser, *commands: str) -> None:
    """user pressed Start and types commands in the private chat, one answer each."""
    fake.add_private_chat(user)
    fake.add_member(GROUP, user)
    for command in commands:
        await tg_one(fake, user, command, chat=user.id)


async def irc_member(client: IrcClient, *commands: str) -> None:
    for command in commands:
        await irc_one(client, BOT_NICK, command)


def not_the_bot_to_me(nick: str) -> Callable[[Line], bool]:
    def check(ln: Line) -> bool:
        return ln.command == "PRIVMSG" and ln.source_nick == BOT_NICK and ln.target == nick

    return check


@pytest.mark.slow
async def test_ask_reaches_exactly_who_agreed_and_knows_the_topic_from_both_networks(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with running_bridge(config_for(tmp_path, fake_tg, ngircd)):
        bob = await human(ngircd, "bob", CHANNEL)  # takes questions, on IRC
        eve = await human(ngircd, "eve", CHANNEL)  # lists python, never said /askme
        zed = await human(ngircd, "zed", CHANNEL)  # a bystander
        try:
            await member_privately(fake_tg, CAROL, "/interests python, go", "/askme yes")
            await member_privately(fake_tg, DAVE, "/interests python")  # no /askme
            await tg_one(fake_tg, ERIN, "/interests python")  # in the group, no Start
            await tg_one(fake_tg, ERIN, "/askme yes")
            await irc_member(bob, "interests python", "askme yes")
            await irc_member(eve, "interests python")
            assert await irc_one(bob, BOT_NICK, "askme") == (
                "You take questions on your interests (!ask). !askme no stops them."
            )
            assert await tg_one(fake_tg, DAVE, "/askme", chat=DAVE.id) == (
                "You take no questions. /askme yes lets members who /ask about one of your "
                "interests reach you privately."
            )

            # From Telegram, in the group: Carol on Telegram, bob on IRC; Erin unreachable.
            answer = await tg_one(fake_tg, ALICE, "/ask Python How do I\nprofile\tasyncio?")
            assert answer == (
                "Your question on python went to 2 members now; 1 member could not be "
                "reached (no private chat with me yet)."
            )
            asked = question(
                "python", "Alice Smith (Telegram @alice_s)", "How do I profile asyncio?"
            )
            assert sent_to(fake_tg, CAROL)[-1] == f"{asked}\n{TG_STOP}"
            assert await private_lines(bob, 2) == [asked, IRC_STOP]
            assert sent_to(fake_tg, DAVE)[-1].startswith("You take no questions")  # only that
            assert sent_to(fake_tg, ERIN) == []
            assert "Carol" not in answer and "bob" not in answer
            await eve.assert_no_line(not_the_bot_to_me("eve"), within=QUIET)
            await zed.assert_no_line(not_the_bot_to_me("zed"), within=0)

            # From IRC, in the channel: Carol only (the asker is never asked), one line each.
            assert await irc_one(bob, CHANNEL, "!ask python Who knows generators?") == (
                "Your question on python went to 1 member now; 1 member could not be "
                "reached (no private chat with me yet)."
            )
            assert sent_to(fake_tg, CAROL)[-1] == (
                question("python", "bob (IRC nick bob on #bridge)", "Who knows generators?")
                + f"\n{TG_STOP}"
            )
            # Nobody takes questions on it: say so, point to /whois.
            await zed.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)  # the answer to bob
            assert await irc_one(zed, CHANNEL, "!ask cobol anyone?") == (
                "Nobody who takes questions on cobol can be asked now. !whois cobol shows who "
                "lists it."
            )
            await bob.assert_no_line(not_the_bot_to_me("bob"), within=QUIET)
            await eve.assert_no_line(not_the_bot_to_me("eve"), within=0)
            assert len(sent_to(fake_tg, CAROL)) == 2 + 2
            assert query(tmp_path, "SELECT value FROM ask_counts WHERE name = 'asks'") == [(2,)]
        finally:
            for client in (bob, eve, zed):
                await client.close()


@pytest.mark.slow
async def test_ask_limits_per_asker_a_day_and_per_recipient(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd, asks_received_per_day=4)
    async with running_bridge(config):
        await member_privately(fake_tg, CAROL, "/interests python", "/askme yes")
        for n in (1, 2, 3):
            assert await tg_one(fake_tg, ALICE, f"/ask python question {n}") == (
                "Your question on python went to 1 member now."
            )
        [(first,)] = query(tmp_path, "SELECT min(asked_at) FROM asks_made")
        when = datetime.fromtimestamp(first + 86_400, UTC).strftime("%Y-%m-%d %H:%M UTC")
        assert await tg_one(fake_tg, ALICE, "/ask python question 4") == (
            "You asked 3 questions in the last 24 hours, the most there is; your next is "
            f"possible from {when}. Nobody was asked."
        )
        # Another asker: Carol's fourth question of the day reaches her, her fifth does not.
        long = "question 5 " + "x" * 600  # quoted up to 500 characters
        assert await tg_one(fake_tg, DAVE, f"/ask python {long}") == (
            "Your question on python went to 1 member now."
        )
        assert await tg_one(fake_tg, DAVE, "/ask python question 6") == (
            "Nobody who takes questions on python can be asked now. /whois python shows who "
            "lists it."
        )
        got = [t.split("\n")[0] for t in sent_to(fake_tg, CAROL)[2:]]
        who = "Alice Smith (Telegram @alice_s)"
        assert got == [
            *(question("python", who, f"question {n}") for n in (1, 2, 3)),
            question("python", "Dave (Telegram @dave_tg)", long[:499] + "…"),
        ]


@pytest.mark.slow
async def test_a_question_kept_for_an_away_irc_member_survives_a_restart_and_expires(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd)
    async with running_bridge(config):
        for nick in ("gus", "hal"):
            client = await human(ngircd, nick, CHANNEL)
            await irc_member(client, "interests rust", "askme yes")
            await client.quit()
        assert await tg_one(fake_tg, ALICE, "/ask rust Borrow checker tips?") == (
            "Your question on rust will reach 2 members when next seen on IRC."
        )
        assert query(tmp_path, "SELECT COUNT(*) FROM pending_asks") == [(2,)]
    async with running_bridge(config) as running:
        gus = await human(ngircd, "gus", CHANNEL)  # seen joining: it is delivered
        try:
            asked = question("rust", "Alice Smith (Telegram @alice_s)", "Borrow checker tips?")
            assert await private_lines(gus, 2) == [asked, IRC_STOP]
            # Eight days later hal comes back: his question is dropped, not delivered.
            running.app.router.asking.store.clock = lambda: time.time() + 8 * 86_400
            hal = await human(ngircd, "hal", CHANNEL)
            await hal.assert_no_line(from_bot, within=QUIET)
            await hal.close()
            await gus.assert_no_line(from_bot, within=0)  # once only
        finally:
            await gus.close()
    counts = dict(query(tmp_path, "SELECT name, value FROM ask_counts"))
    assert counts == {"asks": 1, "notified_now": 0, "queued": 2, "notified_later": 1, "expired": 1}
    assert query(tmp_path, "SELECT COUNT(*) FROM pending_asks") == [(0,)]
    assert "asks: 1 made; recipients notified 0 now, 1 later; 0 waiting; 1 expired" in (
        (await status(config)).splitlines()
    )


@pytest.mark.slow
async def test_leave_deletes_questions_pending_to_and_from_the_person(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with running_bridge(config_for(tmp_path, fake_tg, ngircd)):
        ivy = await human(ngircd, "ivy", CHANNEL)
        await irc_member(ivy, "interests go", "askme yes")
        jon = await human(ngircd, "jon", CHANNEL)
        await irc_member(jon, "interests go", "askme yes")
        await jon.quit()
        await ivy.part(CHANNEL)  # on no bridged channel: questions for her wait
        try:
            await tg_one(fake_tg, ALICE, "/join")
            assert await tg_one(fake_tg, ALICE, "/ask go Generics?") == (
                "Your question on go will reach 2 members when next seen on IRC."
            )
            assert await tg_one(fake_tg, DAVE, "/ask go Modules?") == (
                "Your question on go will reach 2 members when next seen on IRC."
            )
            assert query(tmp_path, "SELECT COUNT(*) FROM pending_asks") == [(4,)]
            await tg_one(fake_tg, ALICE, "/leave")  # the asker: her two questions go
            rows = query(tmp_path, "SELECT body FROM pending_asks")
            assert len(rows) == 2 and all("Modules?" in body for (body,) in rows)
            await irc_ask(ivy, BOT_NICK, "leave")  # a recipient: the one for her goes
            [(body,)] = query(
                tmp_path,
                "SELECT body FROM pending_asks p JOIN identities d ON d.id = p.identity_id",
            )
            assert "Modules?" in body
            await ivy.join(CHANNEL)
            await ivy.assert_no_line(from_bot, within=QUIET)
        finally:
            await ivy.close()


@pytest.mark.slow
async def test_strangers_are_refused_and_a_forwarded_ask_is_never_a_command(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with running_bridge(config_for(tmp_path, fake_tg, ngircd)):
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            await irc_member(bob, "interests python", "askme yes")
            assert (await tg_one(fake_tg, ALICE, "/help askme")).startswith(
                "Usage: /askme [yes|no]\nOff by default. /askme yes lets anyone of the community "
                "who types /ask <interest> <question> about one of your interests reach you "
                "privately"
            )
            assert await tg_one(fake_tg, STRANGER, "/ask python hello?", chat=STRANGER.id) == (
                "Sorry, I answer /ask only in the bridged group or channel, or privately to "
                "the people in it."
            )
            carol_wrote = {"type": "user", "date": 1_690_000_000, "sender_user": CAROL.to_json()}
            fake_tg.push_message(
                GROUP, ALICE, text="/ask python forwarded?", forward_origin=carol_wrote
            )
            [relayed] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert relayed.text == "<Alice Smith> [fwd from Carol] /ask python forwarded?"
            await bob.assert_no_line(not_the_bot_to_me("bob"), within=QUIET)
            assert [m.visible_text for m in fake_tg.sent if m.chat_id == GROUP][1:] == []  # /help
            assert query(tmp_path, "SELECT value FROM ask_counts WHERE name = 'asks'") == [(0,)]
        finally:
            await bob.close()
