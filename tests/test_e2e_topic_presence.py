"""End to end: `!names` in a channel bridged to one forum topic lists who spoke in that topic
only, never in the group's other topics (issue 21, item 7); a whole-group pair lists who
spoke anywhere in its group. Real ngircd, the fake Bot API's forum groups."""

from __future__ import annotations

from pathlib import Path

from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import ALICE, BOT_NICK, CAROL, human, running_bridge
from tests.support.irc_client import IrcClient
from tests.support.ircd import IrcServer
from tests.support.topics import FORUM, WHOLE, texts, topic_config

DAN = TgUser(1004, "Dan")
ERIN = TgUser(1005, "Erin")


async def names_in(client: IrcClient, channel: str) -> str:
    client.privmsg(channel, "!names")
    [answer] = await client.expect_privmsgs(channel, 1, source_nick=BOT_NICK)
    return answer.text


async def test_names_in_a_topic_channel_lists_that_topics_speakers_only(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    fake_tg.add_chat(FORUM, title="Forum", is_forum=True)
    fake_tg.add_chat(WHOLE, title="Whole", is_forum=True)
    # opening a topic counts as being there: each is opened by who then speaks in it
    help_ = fake_tg.create_topic(FORUM, "Help", CAROL)
    staff = fake_tg.create_topic(FORUM, "Staff only", ALICE)
    chat = fake_tg.create_topic(WHOLE, "Chat", ERIN)
    config = topic_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        [(FORUM, help_, "#help"), (FORUM, 1, "#lobby"), (WHOLE, None, "#all")],
    )
    async with running_bridge(config):
        bob = await human(ngircd, "bob", "#help", "#lobby", "#all")
        try:
            # Updates are handled in order: once Carol's line is on IRC, Alice's in the
            # unbridged topic has been seen too.
            fake_tg.push_text(FORUM, ALICE, "staff business", topic=staff)
            fake_tg.push_text(FORUM, DAN, "hello everyone")  # General, paired on its own
            fake_tg.push_text(FORUM, CAROL, "how do I build it?", topic=help_)
            fake_tg.push_text(WHOLE, ERIN, "in a topic", topic=chat)
            fake_tg.push_text(WHOLE, ALICE, "in General")
            assert await texts(bob, "#lobby", 1) == ["<Dan> hello everyone"]
            assert await texts(bob, "#help", 1) == ["<Carol> how do I build it?"]
            assert await texts(bob, "#all", 2) == [
                "<Erin> [Chat] in a topic",
                "<Alice Smith> [General] in General",
            ]

            assert await names_in(bob, "#help") == (
                "Forum has 2 members. Spoke there recently: Carol."
            )
            assert await names_in(bob, "#lobby") == (
                "Forum has 2 members. Spoke there recently: Dan."
            )
            assert await names_in(bob, "#all") == (
                "Whole has 2 members. Spoke there recently: Alice Smith, Erin."
            )
            await bob.assert_no_line(lambda ln: ln.command == "PRIVMSG", within=0.5)
        finally:
            await bob.close()
