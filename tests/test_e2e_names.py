"""End to end: people's names, as IRC, Telegram and the directory show them (issue 21, 5 and 6).

A real ngircd, the fake Bot API and the bridge in-process. A bidi control in a Telegram
name never reaches IRC, wherever the name appears (the relayed line, a join, a reply, a
forward, !names); a name made of emoji (a ZWJ family and an emoji newer than Python 3.11's
Unicode) is stored, found and shown as it was written.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import ALICE, BOT_NICK, CAROL, CHANNEL, GROUP, human, running_bridge
from tests.support.ircd import IrcServer
from tests.support.roster import config_for, irc_ask, query, tg_one
from tests.support.web import PUBLIC, base, bridge_with_web

RLO = "\u202e"
EVE = TgUser(1066, f"Eve {RLO}evil")
FAMILY_NAME = "\U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001fae8"
"""👨‍👩‍👧 🫨: one family joined by ZWJs, and U+1FAE8, unassigned in Python 3.11's Unicode 14."""
FAMILY = TgUser(1077, FAMILY_NAME)


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


@pytest.mark.slow
async def test_bidi_controls_in_a_telegram_name_never_reach_irc(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with running_bridge(config_for(tmp_path, fake_tg, ngircd)):
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            fake_tg.push_message(GROUP, EVE, new_chat_members=[EVE.to_json()])
            hello = fake_tg.push_text(GROUP, EVE, "hello")
            fake_tg.push_text(GROUP, ALICE, "hi Eve", reply_to=hello.message_id)
            eve_wrote = {"type": "user", "date": 1_690_000_000, "sender_user": EVE.to_json()}
            fake_tg.push_message(GROUP, ALICE, text="look", forward_origin=eve_wrote)
            fake_tg.push_text(GROUP, FAMILY, "hi")
            lines = await bob.expect_privmsgs(CHANNEL, 5, source_nick=BOT_NICK)
            assert [ln.text for ln in lines] == [
                "* Eve evil joined the Telegram group",
                "<Eve evil> hello",
                '<Alice Smith> [re Eve evil: "hello"] hi Eve',
                "<Alice Smith> [fwd from Eve evil] look",
                f"<{FAMILY_NAME}> hi",
            ]
            assert await irc_ask(bob, CHANNEL, "!names") == [
                f"Bridge group has 7 members. Spoke there recently: {FAMILY_NAME}, "
                "Alice Smith, Eve evil."
            ]
            assert not [ln.raw for ln in lines if RLO.encode() in ln.raw]
        finally:
            await bob.close()


@pytest.mark.slow
async def test_an_emoji_name_is_stored_found_and_shown_as_written(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    async with bridge_with_web(tmp_path, fake_tg, ngircd) as (bridge, bob, http):
        assert await tg_one(fake_tg, FAMILY, "/join") == (
            f"Welcome, {FAMILY_NAME}: you are on the roster. "
            "Say what you work on: /interests python, translation"
        )
        await tg_one(fake_tg, FAMILY, "/interests python")
        await tg_one(fake_tg, FAMILY, "/listed yes")
        card = [
            f"{FAMILY_NAME} — Telegram: {FAMILY_NAME} — member since {today()}",
            "Interests: python",
        ]
        link = f"Listed members on the web: {PUBLIC}/members?q="
        # typed by others on both networks, the name with its joiners finds the member
        answer = await tg_one(fake_tg, CAROL, f"/whois {FAMILY_NAME}")
        assert answer.split("\n")[:2] == card and answer.split("\n")[2].startswith(link)
        lines = await irc_ask(bob, CHANNEL, f"!whois {FAMILY_NAME}", 3)
        assert lines[:2] == card and lines[2].startswith(link)
        assert query(tmp_path, "SELECT display_name FROM identities") == [(FAMILY_NAME,)]
        async with http.get(base(bridge) + "/members.json", params={"q": FAMILY_NAME}) as resp:
            found = json.loads(await resp.text())
        assert found["query"] == FAMILY_NAME
        assert [(m["name"], m["telegram"]["name"]) for m in found["members"]] == [
            (FAMILY_NAME, FAMILY_NAME)
        ]
