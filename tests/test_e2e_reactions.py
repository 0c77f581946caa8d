"""End to end: Telegram reactions seen on IRC (issue 24, item 4), through the real bridge, a
real ngircd and the fake Bot API, which sends message_reaction updates only to a bot that
asks for them and administers the group.

Where a test shows that something is not relayed, it pushes a reaction that is relayed right
after it: updates are handled in order and each reaction line waits the same debounce, so the
first line IRC sees would be the one that should not exist.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.fake_telegram import FakeTelegram, TgChat, TgUser
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CAROL,
    CHANNEL,
    GROUP,
    human,
    running_bridge,
    write_config,
)
from tests.support.irc_client import IrcClient, Line
from tests.support.ircd import IrcServer
from tests.support.topics import FORUM, in_topic, texts, topic_config

DAVE = TgUser(1004, "Dave")
MALLORY = TgUser(1066, "Mallory", username="Mallory")
DEBOUNCE = 0.5
FIRE = {"type": "custom_emoji", "custom_emoji_id": "5368324170671202286"}
UNKNOWN = {"type": "custom_emoji", "custom_emoji_id": "5999999999999999999"}


def from_bot(ln: Line) -> bool:
    return ln.command == "PRIVMSG" and ln.source_nick == BOT_NICK


def administered(fake: FakeTelegram) -> None:
    """Make the bot an administrator of the group: Telegram sends reactions only then."""
    fake.chats[GROUP].administrators.append(fake.bot_user)


async def next_line(client: IrcClient) -> str:
    [line] = await client.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
    return line.text


async def test_reactions_reach_irc(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    """Who reacted, the emoji and whose message it was, on an IRC line relayed to Telegram
    and on a Telegram message; merged within the debounce; removals, ignored people and
    messages never relayed stay off IRC; custom emoji and anonymous reactions."""
    administered(fake_tg)
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        relay={"reaction_debounce_s": DEBOUNCE, "ignore": ["telegram:@mallory"]},
    )
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            bob.privmsg(CHANNEL, "the new release is out, with the fixes for the translation tool")
            [posted] = await fake_tg.wait_sent()
            assert fake_tg.allowed_updates is not None
            assert "message_reaction" in fake_tg.allowed_updates

            fake_tg.push_reaction(GROUP, posted.message_id or 0, ALICE, ["🎉"])
            assert await next_line(bob) == (
                '* Alice Smith reacted 🎉 to bob: "the new release is out, with the fixes for the…"'
            )

            lunch = fake_tg.push_text(GROUP, ALICE, "lunch?")
            assert await next_line(bob) == "<Alice Smith> lunch?"
            lunch_id = lunch.message_id or 0
            fake_tg.push_reaction(GROUP, lunch_id, CAROL, ["👍"])
            fake_tg.push_reaction(GROUP, lunch_id, DAVE, ["🎉"])
            fake_tg.push_reaction(GROUP, lunch_id, CAROL, ["👍", "🎉"], ["👍"])
            assert await next_line(bob) == '* Carol, Dave reacted 👍🎉 to Alice Smith: "lunch?"'

            # a removal, an ignored person, a message never relayed: nothing; then a change
            # from 👍 to 😂, which relays only the 😂
            fake_tg.push_reaction(GROUP, lunch_id, DAVE, [], ["🎉"])
            fake_tg.push_reaction(GROUP, lunch_id, MALLORY, ["💩"])
            hidden = fake_tg.push_text(GROUP, ALICE, "// telegram only")
            fake_tg.push_reaction(GROUP, hidden.message_id or 0, CAROL, ["👍"])
            fake_tg.push_reaction(GROUP, lunch_id, DAVE, ["😂"], ["👍"])
            assert await next_line(bob) == '* Dave reacted 😂 to Alice Smith: "lunch?"'

            # a custom emoji seen in a message is shown as its emoji, another one in words
            fire = [{"type": "custom_emoji", "offset": 5, "length": 2, **FIRE}]
            hot = fake_tg.push_text(GROUP, DAVE, "hot! 🔥", entities=fire)
            assert await next_line(bob) == "<Dave> hot! 🔥"
            fake_tg.push_reaction(GROUP, hot.message_id or 0, CAROL, [FIRE, UNKNOWN])
            assert (
                await next_line(bob) == '* Carol reacted 🔥 and a custom emoji to Dave: "hot! 🔥"'
            )

            # an anonymous admin reacts as the group
            as_group = TgChat(GROUP, title="Bridge group")
            fake_tg.push_reaction(GROUP, hot.message_id or 0, None, ["👀"], actor_chat=as_group)
            assert await next_line(bob) == '* Bridge group reacted 👀 to Dave: "hot! 🔥"'
            await bob.assert_no_line(from_bot)
        finally:
            await bob.close()


async def test_reactions_off(tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer) -> None:
    """relay.reactions = false: a reaction is not relayed, the message after it is (with no
    debounce, a relayed reaction would come first)."""
    administered(fake_tg)
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        relay={"reactions": False, "reaction_debounce_s": 0},
    )
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            lunch = fake_tg.push_text(GROUP, ALICE, "lunch?")
            assert await next_line(bob) == "<Alice Smith> lunch?"
            fake_tg.push_reaction(GROUP, lunch.message_id or 0, CAROL, ["👍"])
            fake_tg.push_text(GROUP, ALICE, "anyone?")
            assert await next_line(bob) == "<Alice Smith> anyone?"
            await bob.assert_no_line(from_bot)
        finally:
            await bob.close()


async def test_a_reaction_in_a_topic_goes_to_its_channel(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    """A reaction names no topic: it goes to the channel of the topic its message was in,
    for a Telegram message and for an IRC line the bridge posted in the topic."""
    forum = fake_tg.add_chat(FORUM, title="Forum", is_forum=True)
    forum.administrators.append(fake_tg.bot_user)
    help_, events = (fake_tg.create_topic(FORUM, n, ALICE) for n in ("Help", "Events"))
    pairs = [(FORUM, help_, "#help"), (FORUM, events, "#events")]
    config = topic_config(tmp_path / "config.toml", fake_tg, ngircd, pairs)
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "[relay]\n", f"[relay]\nreaction_debounce_s = {DEBOUNCE}\n"
        ),
        encoding="utf-8",
    )
    async with running_bridge(config):
        bob = await human(ngircd, "bob", "#help", "#events")
        try:
            asked = fake_tg.push_text(FORUM, ALICE, "how do I build it?", topic=help_)
            assert await texts(bob, "#help", 1) == ["<Alice Smith> how do I build it?"]
            bob.privmsg("#events", "meetup on Monday")
            [posted] = await fake_tg.wait_sent(in_topic(events, FORUM))
            fake_tg.push_reaction(FORUM, asked.message_id or 0, CAROL, ["🙏"])
            fake_tg.push_reaction(FORUM, posted.message_id or 0, CAROL, ["👍"])
            assert await texts(bob, "#help", 1) == [
                '* Carol reacted 🙏 to Alice Smith: "how do I build it?"'
            ]
            assert await texts(bob, "#events", 1) == [
                '* Carol reacted 👍 to bob: "meetup on Monday"'
            ]
            await bob.assert_no_line(from_bot)
        finally:
            await bob.close()


async def test_a_restart_during_the_debounce_keeps_the_merged_line(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    """The line merged so far is stored: stopped within the window, the bridge sends it when
    started again; a reaction after the restart makes a line of its own."""
    administered(fake_tg)
    debounce = 3.0
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        relay={"reaction_debounce_s": debounce},
        delivery={"shutdown_grace": 0},
    )
    bob = await human(ngircd, "bob", CHANNEL)
    try:
        async with running_bridge(config) as bridge:
            lunch = fake_tg.push_text(GROUP, ALICE, "lunch?")
            assert await next_line(bob) == "<Alice Smith> lunch?"
            fake_tg.push_reaction(GROUP, lunch.message_id or 0, CAROL, ["👍"])
            pushed = fake_tg.push_reaction(GROUP, lunch.message_id or 0, DAVE, ["🎉"])
            assert pushed is not None
            await fake_tg.wait_confirmed(pushed.update_id)
            await bridge.stop()
        async with running_bridge(config):
            fake_tg.push_reaction(GROUP, lunch.message_id or 0, ALICE, ["😂"])
            lines = await bob.expect_privmsgs(CHANNEL, 2, debounce * 3, source_nick=BOT_NICK)
            assert [ln.text for ln in lines] == [
                '* Carol, Dave reacted 👍🎉 to Alice Smith: "lunch?"',
                '* Alice Smith reacted 😂 to Alice Smith: "lunch?"',
            ]
    finally:
        await bob.close()
