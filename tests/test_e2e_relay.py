"""End to end: Telegram ⇄ IRC through the real bridge, a real ngircd and the fake Bot API.

Each test asserts what a person sees: the exact IRC lines and the exact Bot API messages. One
scenario per direction shows every relay rule once on the wire; each rule's corners are unit
tested in test_relay.py (and the commands' in test_commands.py / test_e2e_roster.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fake_telegram import FakeTelegram, TgUser
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
from tests.support.irc_client import Line
from tests.support.ircd import IrcServer

ZWSP = "\u200b"
OPS = "#ops"
"""A channel the test creates, so its first member is a channel operator (#bridge is
predefined on the test server)."""
UNPACED = {"messages_per_minute": 600.0, "burst": 30}
"""Telegram's group pace lifted: these scenarios are about what is relayed, not when."""
POLL = {
    "id": "p1",
    "question": "Meet when?",
    "total_voter_count": 0,
    "is_closed": False,
    "is_anonymous": True,
    "type": "regular",
    "allows_multiple_answers": False,
    "allows_revoting": False,
    "members_only": False,
    "options": [
        {"persistent_id": "o1", "text": "Mon", "voter_count": 0},
        {"persistent_id": "o2", "text": "Tue", "voter_count": 0},
    ],
}
STICKER = {
    "file_id": "s1",
    "file_unique_id": "us1",
    "type": "regular",
    "width": 1,
    "height": 1,
    "is_animated": False,
    "is_video": False,
    "emoji": "😀",
}


def from_bot(ln: Line) -> bool:
    return ln.command == "PRIVMSG" and ln.source_nick == BOT_NICK


def seen(ln: Line) -> str:
    """A relayed line as an IRC client shows it: "* nick text" for an action."""
    return f"* {ln.action_text}" if ln.action_text is not None else ln.text


@pytest.mark.slow
async def test_telegram_to_irc(tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer) -> None:
    """What people on IRC see of the Telegram group: escaping, formatting, an action, the
    group itself as author, a name that is an IRC nick, media, replies (to a relayed IRC
    line and to a Telegram message), join/leave notices, an edit burst sent once; and what
    stays on Telegram (the no-relay prefix, an ignored user)."""
    mallory = TgUser(1066, "Mallory", username="Mallory")
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        relay={"edit_debounce": 1.0, "ignore": ["telegram:@mallory"]},
    )
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        carol = await human(ngircd, "Carol", CHANNEL)
        try:
            fake_tg.push_text(GROUP, ALICE, "hello <b>from</b> & telegram")
            bold_link = [
                {"type": "bold", "offset": 0, "length": 4},
                {"type": "text_link", "offset": 13, "length": 4, "url": "https://example.org/d"},
            ]
            fake_tg.push_text(GROUP, ALICE, "bold and see docs", entities=bold_link)
            bold = [{"type": "bold", "offset": 10, "length": 6}]
            fake_tg.push_text(GROUP, ALICE, "/me waves boldly", entities=bold)
            fake_tg.push_text(GROUP, ALICE, "// only for telegram")
            fake_tg.push_text(GROUP, mallory, "ignored")
            lunch = fake_tg.push_text(GROUP, CAROL, "lunch?")
            anonymous = TgUser(1087968824, "Group", username="GroupAnonymousBot", is_bot=True)
            as_group = {"id": GROUP, "type": "supergroup", "title": "Bridge group"}
            fake_tg.push_message(GROUP, anonymous, sender_chat=as_group, text="announcement")
            fake_tg.push_photo(GROUP, ALICE, b"x" * 2048, caption="our meetup")
            fake_tg.push_document(GROUP, ALICE, b"y" * 10, "notes.pdf")
            fake_tg.push_message(GROUP, ALICE, sticker=STICKER)
            fake_tg.push_message(GROUP, ALICE, location={"latitude": 52.52, "longitude": 13.405})
            fake_tg.push_message(GROUP, ALICE, poll=POLL)
            lines = await bob.expect_privmsgs(CHANNEL, 10, source_nick=BOT_NICK)
            assert [seen(ln) for ln in lines[:5]] == [
                "<Alice Smith> hello <b>from</b> & telegram",
                "<Alice Smith> \x02bold\x02 and see docs (https://example.org/d)",
                "* Alice Smith waves \x02boldly\x02",
                f"<C{ZWSP}arol> lunch?",
                "<Bridge group> announcement",
            ]
            media = [ln.text for ln in lines[5:]]
            assert media[0].startswith("<Alice Smith> [photo") and media[0].endswith("] our meetup")
            assert media[1].startswith("<Alice Smith> [document: notes.pdf")
            assert media[2] == "<Alice Smith> [sticker 😀]"
            assert media[3].startswith("<Alice Smith> [location 52.52")
            assert media[4].startswith("<Alice Smith> [poll: Meet when?")
            assert all(fake_tg.token not in t and "http" not in t for t in media)

            bob.privmsg(CHANNEL, "who wants to review the patch for the translation tool?")
            [sent] = await fake_tg.wait_sent()
            fake_tg.push_text(GROUP, ALICE, "me!", reply_to=sent.message_id)
            fake_tg.push_text(GROUP, ALICE, "yes", reply_to=lunch.message_id)
            newbie = TgUser(1010, "Newbie")
            fake_tg.push_message(GROUP, newbie, new_chat_members=[newbie.to_json()])
            fake_tg.push_message(GROUP, newbie, left_chat_member=newbie.to_json())
            original = fake_tg.push_text(GROUP, ALICE, "helo")
            lines = await bob.expect_privmsgs(CHANNEL, 5, source_nick=BOT_NICK)
            assert [ln.text for ln in lines] == [
                '<Alice Smith> [re bob: "who wants to review the patch for the…"] me!',
                f'<Alice Smith> [re C{ZWSP}arol: "lunch?"] yes',  # Telegram's Carol: no ping
                "* Newbie joined the Telegram group",
                "* Newbie left the Telegram group",
                "<Alice Smith> helo",
            ]
            for text in ("hell", "hello", "hello!"):
                fake_tg.push_edit(GROUP, original.message_id or 0, text)
            [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert line.text == "<Alice Smith> [edit] hello!"
            await bob.assert_no_line(from_bot, within=1.5)  # one edit line, nothing else
        finally:
            await bob.close()
            await carol.close()


@pytest.mark.slow
async def test_irc_to_telegram(tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer) -> None:
    """What the Telegram group sees of the channel: escaping, formatting, an action, bytes
    that are not UTF-8, join/kick/quit notices (parts stay off by default); and what stays
    on IRC (the no-relay prefix, an ignored nick)."""
    op = await human(ngircd, "op", OPS)  # first in the channel: op gets channel operator
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        pairs=((GROUP, OPS),),
        telegram=UNPACED,
        relay={"irc_joins": True, "irc_quits": True, "ignore": ["irc:spam*"]},
    )
    async with running_bridge(config):
        bob = await human(ngircd, "bob", OPS)
        spammer = await human(ngircd, "spammer", OPS)  # ignored: not even its join
        try:
            bob.privmsg(OPS, "hi <b>&amp; back")
            bob.privmsg(OPS, "\x02loud\x02 \x0304,12red\x03 \x1ditalic\x1d \x16rev\x16 done")
            bob.action(OPS, "nods <slowly>")
            spammer.privmsg(OPS, "buy now")
            bob.privmsg(OPS, "// irc only")
            bob.send_bytes(f"PRIVMSG {OPS} :caf\xe9 cr\xe8me\r\n".encode("latin-1"))
            sent = await fake_tg.wait_sent(count=5)
            assert [m.visible_text for m in sent] == [
                "bob joined #ops",
                "bob: hi <b>&amp; back",
                "bob: loud red italic rev done",
                "* bob nods <slowly>",
                "bob: café crème",
            ]
            assert all(m.method == "sendMessage" and m.parse_mode == "HTML" for m in sent)
            assert [e["type"] for e in sent[1].entities] == ["bold"]  # the nick
            assert sorted(e["type"] for e in sent[2].entities) == ["bold", "bold", "italic"]
            assert any(e["type"] == "italic" for e in sent[3].entities)

            await bob.part(OPS)  # parts are not relayed by default
            await bob.join(OPS)
            op.send_raw(f"KICK {OPS} bob :too loud")
            erin = await human(ngircd, "erin", OPS)
            await erin.quit()
            sent = await fake_tg.wait_sent(count=4)
            assert [m.visible_text for m in sent] == [
                "bob joined #ops",
                "bob was kicked from #ops by op (too loud)",
                "erin joined #ops",
                "erin quit IRC",
            ]
            assert len(fake_tg.sent) == 9
            await erin.close()
        finally:
            await bob.close()
            await spammer.close()
    await op.close()


@pytest.mark.slow
async def test_multiline_long_and_multibyte_text_is_split_never_cut(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.push_text(GROUP, ALICE, "first line\n\n  \nsecond line")
        lines = await bob.expect_privmsgs(CHANNEL, 2)
        assert [ln.text for ln in lines] == [
            "<Alice Smith> first line",
            "<Alice Smith> second line",
        ]

        words = ["Привет", "мир", "🚀🚀", "ελληνικά", "日本語のテキスト", "plain"]
        text = " ".join(words[i % len(words)] for i in range(700))[:4096]
        fake_tg.push_text(GROUP, ALICE, text)
        prefix = "<Alice Smith> "
        pieces, pos = 0, 0
        while pos < len(text):  # servers strip the space a line ends with: allow one per cut
            [ln] = await bob.expect_privmsgs(CHANNEL, 1)
            assert ln.raw_len <= 512, ln.raw_len
            assert ln.text.startswith(prefix)
            piece = ln.text[len(prefix) :]
            if not text.startswith(piece, pos):
                assert text[pos].isspace() and text.startswith(piece, pos + 1), (pos, piece)
                pos += 1
            pos += len(piece)
            pieces += 1
        assert pieces > 10
        await bob.close()


async def test_cr_lf_nul_never_reach_the_wire(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.push_text(GROUP, ALICE, "a\rJOIN #evil\r\nPRIVMSG #bridge :pwned\x00x\nend")
        lines = await bob.expect_privmsgs(CHANNEL, 4)
        assert [ln.text for ln in lines] == [
            "<Alice Smith> a",
            "<Alice Smith> JOIN #evil",
            "<Alice Smith> PRIVMSG #bridge :pwnedx",
            "<Alice Smith> end",
        ]
        names = await bob.join("#evil")
        assert BOT_NICK not in " ".join(names)
        await bob.close()


async def test_several_pairs_stay_separate(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    other_group = -1002000000002
    fake_tg.add_chat(other_group, title="Second")
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        pairs=((GROUP, CHANNEL), (other_group, "#second")),
    )
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL, "#second")
        fake_tg.push_text(other_group, ALICE, "to second")
        fake_tg.push_text(GROUP, ALICE, "to first")
        got = {(ln.target, ln.text) for ln in await bob.expect_privmsgs("#second", 1)}
        got |= {(ln.target, ln.text) for ln in await bob.expect_privmsgs(CHANNEL, 1)}
        assert got == {("#second", "<Alice Smith> to second"), (CHANNEL, "<Alice Smith> to first")}
        bob.privmsg("#second", "back to second")
        [sent] = await fake_tg.wait_sent()
        assert (sent.chat_id, sent.visible_text) == (other_group, "bob: back to second")
        await bob.close()
