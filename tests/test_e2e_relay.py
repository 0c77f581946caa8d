"""End to end: Telegram ⇄ IRC through the real bridge, a real ngircd and the fake Bot API.

Each test asserts what a person sees: the exact IRC lines and the exact Bot API messages.
"""

from __future__ import annotations

from pathlib import Path

from tests.harness import (
    ALICE,
    BOT_NICK,
    CAROL,
    CHANNEL,
    GROUP,
    human,
    running_bridge,
    write_config,
)
from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.ircd import IrcServer

ZWSP = "\u200b"


def from_bot(line_source: str | None) -> bool:
    return line_source == BOT_NICK


async def test_text_both_ways_with_escaping(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.push_text(GROUP, ALICE, "hello <b>from</b> & telegram")
        [line] = await bob.expect_privmsgs(CHANNEL, 1)
        assert (line.source_nick, line.text) == (
            BOT_NICK,
            "<Alice Smith> hello <b>from</b> & telegram",
        )
        bob.privmsg(CHANNEL, "hi <b>&amp; back")
        [sent] = await fake_tg.wait_sent(lambda m: m.chat_id == GROUP)
        assert sent.method == "sendMessage" and sent.parse_mode == "HTML"
        assert sent.visible_text == "bob: hi <b>&amp; back"
        assert [e["type"] for e in sent.entities] == ["bold"]
        await bob.close()


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


async def test_actions_both_ways(tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.push_text(GROUP, ALICE, "/me waves")
        [line] = await bob.expect_privmsgs(CHANNEL, 1)
        assert line.action_text == "Alice Smith waves"
        bob.action(CHANNEL, "nods <slowly>")
        [sent] = await fake_tg.wait_sent()
        assert sent.visible_text == "* bob nods <slowly>"
        assert any(e["type"] == "italic" for e in sent.entities)
        await bob.close()


async def test_formatting_both_ways(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        text = "bold and see docs"
        entities = [
            {"type": "bold", "offset": 0, "length": 4},
            {"type": "text_link", "offset": 13, "length": 4, "url": "https://example.org/d"},
        ]
        fake_tg.push_text(GROUP, ALICE, text, entities=entities)
        [line] = await bob.expect_privmsgs(CHANNEL, 1)
        assert line.text == "<Alice Smith> \x02bold\x02 and see docs (https://example.org/d)"
        bob.privmsg(CHANNEL, "\x02loud\x02 \x0304,12red\x03 \x1ditalic\x1d \x16rev\x16 done")
        [sent] = await fake_tg.wait_sent()
        assert sent.visible_text == "bob: loud red italic rev done"
        kinds = sorted(e["type"] for e in sent.entities)
        assert kinds == ["bold", "bold", "italic"]  # the nick and "loud"; colours are stripped
        await bob.close()


async def test_reply_names_the_real_author(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        bob.privmsg(CHANNEL, "who wants to review the patch for the translation tool?")
        [sent] = await fake_tg.wait_sent()
        fake_tg.push_text(GROUP, ALICE, "me!", reply_to=sent.message_id)
        [line] = await bob.expect_privmsgs(CHANNEL, 1)
        assert line.text == '<Alice Smith> [re bob: "who wants to review the patch for the…"] me!'
        first = fake_tg.push_text(GROUP, CAROL, "lunch?")
        await bob.expect_privmsgs(CHANNEL, 1)
        fake_tg.push_text(GROUP, ALICE, "yes", reply_to=first.message_id)
        [line] = await bob.expect_privmsgs(CHANNEL, 1)
        assert line.text == '<Alice Smith> [re Carol: "lunch?"] yes'
        await bob.close()


async def test_edit_burst_is_sent_once_marked(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd, relay={"edit_debounce": 1.0})
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        original = fake_tg.push_text(GROUP, ALICE, "helo")
        await bob.expect_privmsgs(CHANNEL, 1)
        for text in ("hell", "hello", "hello!"):
            fake_tg.push_edit(GROUP, original.message_id or 0, text)
        [line] = await bob.expect_privmsgs(CHANNEL, 1)
        assert line.text == "<Alice Smith> [edit] hello!"
        await bob.assert_no_line(lambda ln: ln.command == "PRIVMSG", within=1.5)
        await bob.close()


async def test_media_is_described_without_token_urls(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.push_photo(GROUP, ALICE, b"x" * 2048, caption="our meetup")
        fake_tg.push_document(GROUP, ALICE, b"y" * 10, "notes.pdf")
        fake_tg.push_message(
            GROUP,
            ALICE,
            sticker={
                "file_id": "s1",
                "file_unique_id": "us1",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "emoji": "😀",
            },
        )
        fake_tg.push_message(GROUP, ALICE, location={"latitude": 52.52, "longitude": 13.405})
        fake_tg.push_message(
            GROUP,
            ALICE,
            poll={
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
            },
        )
        lines = [ln.text for ln in await bob.expect_privmsgs(CHANNEL, 5)]
        assert lines[0].startswith("<Alice Smith> [photo") and lines[0].endswith("] our meetup")
        assert lines[1].startswith("<Alice Smith> [document: notes.pdf")
        assert lines[2] == "<Alice Smith> [sticker 😀]"
        assert lines[3].startswith("<Alice Smith> [location 52.52")
        assert lines[4].startswith("<Alice Smith> [poll: Meet when?")
        assert all(fake_tg.token not in ln and "http" not in ln for ln in lines)
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


async def test_help_answers_on_both_networks_and_is_not_relayed(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.add_private_chat(ALICE)
        fake_tg.push_text(GROUP, ALICE, "/help@BridgeBot")
        answers = await fake_tg.wait_sent(count=2)
        by_chat = {m.chat_id: m.visible_text or "" for m in answers}
        assert "/whois" in by_chat[ALICE.id] and "/join" in by_chat[ALICE.id]
        assert "private" in by_chat[GROUP]
        bob.privmsg(CHANNEL, "!help")
        private = await bob.wait_for(
            lambda ln: ln.command == "PRIVMSG" and ln.target == "bob" and "whois" in ln.text
        )
        assert private.text.startswith("!whois")
        bob.privmsg(BOT_NICK, "help whois")
        detail = await bob.wait_for(
            lambda ln: ln.command == "PRIVMSG" and ln.target == "bob" and "whois" in ln.text
        )
        assert detail.source_nick == BOT_NICK
        fake_tg.push_text(GROUP, ALICE, "/help@OtherBot")  # another bot's command: relayed
        relayed = await bob.wait_for(
            lambda ln: ln.command == "PRIVMSG" and ln.target == CHANNEL and "Other" in ln.text
        )
        assert relayed.text == "<Alice Smith> /help@OtherBot"
        assert len(fake_tg.sent) == 2  # only the two answers to our own /help
        await bob.close()


async def test_no_relay_prefix_and_ignore_list(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        relay={"ignore": [f"telegram:{CAROL.id}", "irc:spammer"]},
    )
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        spammer = await human(ngircd, "spammer", CHANNEL)
        fake_tg.push_text(GROUP, ALICE, "// only for telegram")
        fake_tg.push_text(GROUP, CAROL, "ignored")
        fake_tg.push_text(GROUP, ALICE, "visible")
        [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
        assert line.text == "<Alice Smith> visible"
        spammer.privmsg(CHANNEL, "buy now")
        bob.privmsg(CHANNEL, "// irc only")
        bob.privmsg(CHANNEL, "for telegram")
        [sent] = await fake_tg.wait_sent()
        assert sent.visible_text == "bob: for telegram"
        assert len(fake_tg.sent) == 1
        await bob.close()
        await spammer.close()


async def test_anti_highlight_only_when_the_name_is_a_nick(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        carol = await human(ngircd, "Carol", CHANNEL)
        fake_tg.push_text(GROUP, CAROL, "ping?")
        fake_tg.push_text(GROUP, ALICE, "pong")
        lines = await bob.expect_privmsgs(CHANNEL, 2, source_nick=BOT_NICK)
        assert [ln.text for ln in lines] == [f"<C{ZWSP}arol> ping?", "<Alice Smith> pong"]
        await bob.close()
        await carol.close()


async def test_service_events(tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer) -> None:
    op = await human(ngircd, "op", "#ops")  # first in the channel: op gets channel operator
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd, pairs=((GROUP, "#ops"),))
    async with running_bridge(config):
        dave = await human(ngircd, "dave", "#ops")
        await dave.part("#ops")  # joins/parts are off by default
        await dave.join("#ops")
        op.send_raw("KICK #ops dave :too loud")
        [sent] = await fake_tg.wait_sent()
        assert sent.visible_text == "dave was kicked from #ops by op (too loud)"
        assert len(fake_tg.sent) == 1
        newbie = TgUser(1010, "Newbie")
        fake_tg.push_message(GROUP, newbie, new_chat_members=[newbie.to_json()])
        line = await op.wait_for(lambda ln: ln.command == "PRIVMSG" and ln.source_nick == BOT_NICK)
        assert line.text == "* Newbie joined the Telegram group"
        await dave.close()
    await op.close()


async def test_irc_joins_relayed_when_enabled(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(
        tmp_path / "config.toml", fake_tg, ngircd, relay={"irc_joins": True, "irc_quits": True}
    )
    async with running_bridge(config):
        erin = await human(ngircd, "erin", CHANNEL)
        [joined] = await fake_tg.wait_sent()
        assert joined.visible_text == f"erin joined {CHANNEL}"
        await erin.quit()
        [quit_] = await fake_tg.wait_sent()
        assert quit_.visible_text == "erin quit IRC"
        await erin.close()


async def test_undecodable_bytes_do_not_crash(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        bob.send_bytes(f"PRIVMSG {CHANNEL} :caf\xe9 cr\xe8me\r\n".encode("latin-1"))
        bob.privmsg(CHANNEL, "still here")
        first, second = await fake_tg.wait_sent(count=2)
        assert first.visible_text == "bob: café crème"
        assert second.visible_text == "bob: still here"
        await bob.close()


async def test_anonymous_admin_shows_as_the_group(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = write_config(tmp_path / "config.toml", fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        anonymous = TgUser(1087968824, "Group", username="GroupAnonymousBot", is_bot=True)
        chat = {"id": GROUP, "type": "supergroup", "title": "Bridge group"}
        fake_tg.push_message(GROUP, anonymous, sender_chat=chat, text="announcement")
        [line] = await bob.expect_privmsgs(CHANNEL, 1)
        assert line.text == "<Bridge group> announcement"
        await bob.close()
