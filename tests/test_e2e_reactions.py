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
