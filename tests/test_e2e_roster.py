"""End to end: every roster command from both networks, through the real bridge.

A real ngircd, the fake Bot API and the bridge in-process. Each test asserts what a person
sees (the exact IRC lines and Bot API messages), that commands and the bot's answers stay
on the network they were typed on, and, where it matters, what the database holds.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bridge.model import Network
from storage.roster_model import Identity
from storage.roster_store import RosterStore
from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CAROL,
    CHANNEL,
    GROUP,
    human,
    running_bridge,
)
from tests.support.irc_client import QUIET, Line
from tests.support.ircd import IrcServer
from tests.support.roster import (
    config_for,
    from_bot,
    in_chat,
    irc_ask,
    irc_one,
    link_code,
    query,
    tg_one,
)

DAVE = TgUser(1004, "Dave", username="dave_tg")
MODERATORS = [f"telegram:{ALICE.id}", "irc:account:alice", "irc:mask:mod!*@*"]
ROSTER_TABLES = ("members", "identities", "interests", "link_codes")
"""Seconds to watch a network to prove that nothing arrived there."""


def today() -> str:
    """The date member cards show for someone who joined during the test (UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%d")


def table_rows(tmp_path: Path, table: str) -> list[tuple[Any, ...]]:
    """Every row of one table (a name from sqlite_master or ROSTER_TABLES, never user text)."""
    assert table.isidentifier(), table
    return query(tmp_path, f"SELECT * FROM {table}")  # noqa: S608


def bot_in_channel(ln: Line) -> bool:
    return ln.command == "PRIVMSG" and ln.target == CHANNEL and ln.source_nick == BOT_NICK


def bot_private(ln: Line) -> bool:
    return ln.command == "PRIVMSG" and ln.source_nick == BOT_NICK and ln.target != CHANNEL


async def seed(store: RosterStore, people: Mapping[str, list[str]]) -> None:
    """Members straight into the store (for numbers no one would type in a test)."""
    for i, (name, tags) in enumerate(people.items()):
        person = Identity(Network.TELEGRAM, str(5000 + i), name, None, True)
        await store.join_with_interests(person, tags, edit=False)


# ------------------------------------------------------------------------------ join


@pytest.mark.slow
async def test_join_from_both_networks_is_idempotent_and_not_relayed(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        dave = await human(ngircd, "dave", CHANNEL)  # privately answered: in the channel
        try:
            assert await tg_one(fake_tg, ALICE, "/join") == (
                "Welcome, Alice Smith: you are on the roster. "
                "Say what you work on: /interests python, translation"
            )
            assert await tg_one(fake_tg, ALICE, "/join@BridgeBot") == (
                f"Alice Smith, you are already a member (since {today()})."
            )
            unverified = (
                " (You are not logged in to IRC services, so you are listed by "
                "nick!user@host, marked unverified.)"
            )
            assert await irc_one(bob, CHANNEL, "!join") == (
                "Welcome, bob: you are on the roster. Say what you work on: "
                "!interests python, translation" + unverified
            )
            assert await irc_one(bob, BOT_NICK, "join") == (
                f"bob, you are already a member (since {today()})."
            )
            assert await irc_one(dave, BOT_NICK, "!join") == (
                "Welcome, dave: you are on the roster. Say what you work on: "
                "!interests python, translation" + unverified
            )
            # What Telegram sends first in a private chat, then /join there.
            fake_tg.add_private_chat(CAROL)
            fake_tg.add_member(GROUP, CAROL)  # the roster is for people in the group
            assert await tg_one(fake_tg, CAROL, "/start", chat=CAROL.id) == (
                "Hello Carol! I relay the bridged group and keep its members roster. "
                "/help lists the commands; /join puts you on the roster."
            )
            assert (await tg_one(fake_tg, CAROL, "/join", chat=CAROL.id)).startswith(
                "Welcome, Carol: you are on the roster."
            )
            # A changed Telegram name is picked up: same member, new display name.
            renamed = TgUser(ALICE.id, "Alicia", "Smith", username="alicia")
            assert await tg_one(fake_tg, renamed, "/join") == (
                f"Alicia Smith, you are already a member (since {today()})."
            )
            # Nothing of it crossed over: no "<Alice Smith> /join" on IRC, no "bob: !join".
            await bob.assert_no_line(from_bot, within=QUIET)
            assert [(m.chat_id, (m.visible_text or "")[:8]) for m in fake_tg.sent] == [
                (GROUP, "Welcome,"),
                (GROUP, "Alice Sm"),
                (CAROL.id, "Hello Ca"),
                (CAROL.id, "Welcome,"),
                (GROUP, "Alicia S"),
            ]
            rows = query(
                tmp_path, "SELECT network, key, display_name, handle, verified FROM identities"
            )
            assert [(n, k.split("!")[0], d, h, v) for n, k, d, h, v in rows] == [
                ("telegram", str(ALICE.id), "Alicia Smith", "alicia", 1),
                ("irc", "mask:bob", "bob", "bob", 0),
                ("irc", "mask:dave", "dave", "dave", 0),
                ("telegram", str(CAROL.id), "Carol", "carol", 1),
            ]
        finally:
            await bob.close()
            await dave.close()


# ------------------------------------------------------------------------- interests


@pytest.mark.slow
async def test_interests_from_both_networks_and_a_name_that_follows_telegram(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            assert await tg_one(fake_tg, ALICE, "/interests") == (
                "You are now a member. You list no interests yet: /interests python, translation"
            )
            assert (
                await tg_one(
                    fake_tg,
                    ALICE,
                    "/interests Python,  Übersetzung , machine   learning, ＧＡＤＧＥＴＳ",
                )
                == "Your interests: python, übersetzung, machine-learning, gadgets."
            )
            assert await tg_one(fake_tg, ALICE, "/interests +lua -gadgets +python") == (
                "Your interests: python, übersetzung, machine-learning, lua."
            )
            assert await tg_one(fake_tg, ALICE, "/interests") == (
                "Your interests: python, übersetzung, machine-learning, lua"
            )
            assert await irc_one(bob, CHANNEL, "!interests 日本語, Straße, C++, c#") == (
                "You are now a member. Your interests: 日本語, strasse, c++, c#."
            )
            assert await irc_one(bob, BOT_NICK, "interests -strasse +ελληνικά") == (
                "Your interests: 日本語, c++, c#, ελληνικά."
            )
            assert await irc_one(bob, BOT_NICK, "interests") == (
                "Your interests: 日本語, c++, c#, ελληνικά"
            )
            # Limits: 32 characters per tag, 25 tags; what is refused is named, with why.
            tags = ["y" * 32, *(f"t{i:02d}" for i in range(1, 28)), "x" * 33]
            kept = ", ".join(tags[:25])
            assert await tg_one(fake_tg, CAROL, "/interests " + ", ".join(tags)) == (
                f"You are now a member. Your interests: {kept}. "
                f'Not accepted: "{"x" * 23}…": longer than 32 characters. '
                "Over the limit of 25: t25, t26, t27."
            )
            assert await tg_one(fake_tg, CAROL, "/interests +extra") == (
                f"Your interests: {kept}. Over the limit of 25: extra."
            )
            assert all(m.chat_id == GROUP for m in fake_tg.sent) and len(fake_tg.sent) == 6
            rows = query(tmp_path, "SELECT tag FROM interests ORDER BY member_id, position")
            assert [r[0] for r in rows] == [
                "python",
                "übersetzung",
                "machine-learning",
                "lua",
                "日本語",
                "c++",
                "c#",
                "ελληνικά",
                *tags[:25],
            ]
            # A new Telegram name is picked up when the member speaks, not only by commands.
            renamed = TgUser(ALICE.id, "Alicia", "Jones", username="alicia_j")
            fake_tg.push_text(GROUP, renamed, "hello under my new name")
            [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert line.text == "<Alicia Jones> hello under my new name"
            expected = (
                "Alicia Jones — Telegram: Alicia Jones (@alicia_j) — "
                f"member since {today()}\nInterests: python, übersetzung, machine-learning, lua"
            )
            assert await tg_one(fake_tg, CAROL, "/whois alicia_j") == expected
            assert await tg_one(fake_tg, CAROL, "/whois Alicia Jones") == expected
            assert await tg_one(fake_tg, CAROL, "/whois alice_s") == 'No one lists "alice_s".'
            names = "SELECT display_name, handle FROM identities WHERE key = ?"
            assert query(tmp_path, names, (str(ALICE.id),)) == [("Alicia Jones", "alicia_j")]
            await bob.assert_no_line(from_bot, within=QUIET)
        finally:
            await bob.close()


@pytest.mark.slow
async def test_hostile_arguments_get_clear_answers_and_change_nothing(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            await tg_one(fake_tg, ALICE, "/interests python, snake_case")
            await irc_one(bob, CHANNEL, "!interests lua")
            before = {t: table_rows(tmp_path, t) for t in ROSTER_TABLES}
            allowed = "is not allowed (only letters, digits and - + # . _)"
            tg_cases = {
                '/interests "quotes"': (
                    f"""Nothing changed. Not accepted: ""quotes"": '"' {allowed}."""
                ),
                "/interests 100%": f"""Nothing changed. Not accepted: "100%": '%' {allowed}.""",
                "/interests _": 'Nothing changed. Not accepted: "_": needs a letter or digit.',
                "/interests '; DROP TABLE members; --": (
                    f'Nothing changed. Not accepted: "\'; DROP TABLE members; …": "\'" {allowed}.'
                ),
                "/interests <b>markup</b>": (
                    f"Nothing changed. Not accepted: \"<b>markup</b>\": '<' {allowed}."
                ),
                "/interests bell\x07ring": (
                    'Nothing changed. Not accepted: "bell?ring": contains control characters.'
                ),
                "/interests " + "x" * 10_000: (
                    f'Nothing changed. Not accepted: "{"x" * 23}…": longer than 32 characters.'
                ),
                "/interests , ,": "Usage: /interests [tag, tag, … | +tag -tag]",
                "/interests + -": 'Nothing changed. Not accepted: "+": empty; "-": empty.',
                "/whois": "Usage: /whois <name or interest>",
                "/whois %": (
                    f"""No member is called "%", and it is not an interest: '%' {allowed}."""
                ),
                # _ and % are plain characters, not LIKE wildcards: "_" finds only the one
                # handle that has an underscore (alice_s), "%" finds no one.
                "/whois _": (
                    f"Alice Smith — Telegram: Alice Smith (@alice_s) — member since {today()}\n"
                    "Interests: python, snake_case"
                ),
                "/whois '; DROP TABLE members; --": (
                    'No member is called "\'; DROP TABLE members; --", and it is not an '
                    f'interest: "\'" {allowed}.'
                ),
                "/whois <b>markup</b>": (
                    'No member is called "<b>markup</b>", and it is not an interest: '
                    f"'<' {allowed}."
                ),
                "/whois bell\x07ring": (
                    "Please search for plain text: control characters are not allowed."
                ),
                "/whois " + "x" * 10_000: (
                    "That is too long to search for (at most 64 characters)."
                ),
            }
            for text, expected in tg_cases.items():
                fake_tg.push_text(GROUP, ALICE, text)
                [sent] = await fake_tg.wait_sent()
                assert (sent.chat_id, sent.visible_text) == (GROUP, expected), text[:40]
                assert not sent.entities, text[:40]  # <b> shown as typed, never as bold
            irc_cases = {
                "!interests '; DROP TABLE members; --": (
                    f'Nothing changed. Not accepted: "\'; DROP TABLE members; …": "\'" {allowed}.'
                ),
                "!interests 50% off, _": (
                    f"""Nothing changed. Not accepted: "50% off": '%' {allowed}; """
                    '"_": needs a letter or digit.'
                ),
                "!whois %_": (
                    f"""No member is called "%_", and it is not an interest: '%' {allowed}."""
                ),
                "!whois": "Usage: !whois <name or interest>",
            }
            for text, expected in irc_cases.items():
                assert await irc_one(bob, CHANNEL, text) == expected, text
            assert await tg_one(fake_tg, ALICE, "/interests") == (
                "Your interests: python, snake_case"
            )
            assert {t: table_rows(tmp_path, t) for t in ROSTER_TABLES} == before
            await bob.assert_no_line(from_bot, within=QUIET)
            assert {m.chat_id for m in fake_tg.sent} == {GROUP}
        finally:
            await bob.close()


# ----------------------------------------------------------------------------- whois


@pytest.mark.slow
async def test_whois_by_name_and_interest_across_networks(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd)
    async with running_bridge(config) as bridge:
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            await tg_one(fake_tg, ALICE, "/interests python, translation")
            await irc_one(bob, CHANNEL, "!interests python-asyncio, lua")
            # A Telegram member found from IRC, and an IRC member found from Telegram.
            assert await irc_ask(bob, CHANNEL, "!whois Alice Smith", 2) == [
                f"Alice Smith — Telegram: Alice Smith (@alice_s) — member since {today()}",
                "Interests: python, translation",
            ]
            assert await irc_ask(bob, BOT_NICK, "whois @ALICE_S", 2) == [
                f"Alice Smith — Telegram: Alice Smith (@alice_s) — member since {today()}",
                "Interests: python, translation",
            ]
            assert await tg_one(fake_tg, CAROL, "/whois bob") == (
                f"bob — IRC: bob (unverified) — member since {today()}\n"
                "Interests: python-asyncio, lua"
            )
            assert await tg_one(fake_tg, CAROL, "/whois Python") == (
                '2 listing "python": Alice Smith, bob (python-asyncio).'
            )
            assert await irc_one(bob, CHANNEL, "!whois transl") == (
                '1 listing "transl": Alice Smith (translation).'
            )
            assert await tg_one(fake_tg, CAROL, "/whois lu") == '1 listing "lu": bob (lua).'
            assert await tg_one(fake_tg, CAROL, "/whois pythn") == (
                'No one lists "pythn". Closest interests: python, python-asyncio'
            )
            assert await irc_one(bob, CHANNEL, "!whois translatoin") == (
                'No one lists "translatoin". Closest interests: translation'
            )
            assert await irc_one(bob, CHANNEL, "!whois zzz") == 'No one lists "zzz".'
            assert {m.chat_id for m in fake_tg.sent} == {GROUP}
            # Beyond ten: how many more, and all of them privately.
            people = {f"Rustacean {i:02d}": ["rust"] for i in range(11)}
            await seed(RosterStore(bridge.db), people)
            await tg_one(fake_tg, ALICE, "/interests rust-embedded")
            names = [*people, "Alice Smith (rust-embedded)"]
            assert await tg_one(fake_tg, CAROL, "/whois rust") == (
                '12 listing "rust": '
                + ", ".join(names[:10])
                + ", and 2 more (ask me privately: /whois rust)"
            )
            assert await irc_one(bob, CHANNEL, "!whois rust") == (
                '12 listing "rust": '
                + ", ".join(names[:10])
                + ", and 2 more (ask me privately: !whois rust)"
            )
            assert await irc_ask(bob, BOT_NICK, "whois rust", 13) == [
                '12 listing "rust":',
                *names,
            ]
            fake_tg.add_private_chat(CAROL)
            assert await tg_one(fake_tg, CAROL, "/whois rust", chat=CAROL.id) == "\n".join(
                ['12 listing "rust":', *names]
            )
            # Several members by name: more than five lines go privately, with a pointer.
            fake_tg.push_text(GROUP, CAROL, "/whois rustacean")
            [cards] = await fake_tg.wait_sent(in_chat(CAROL.id))
            [pointer] = await fake_tg.wait_sent(in_chat(GROUP))
            assert pointer.visible_text == "I sent you the member cards privately."
            assert cards.visible_text == "\n".join(
                line
                for name in list(people)[:3]
                for line in (
                    f"{name} — Telegram: {name} — member since {today()}",
                    "Interests: rust",
                )
            )
            await bob.assert_no_line(from_bot, within=QUIET)
        finally:
            await bob.close()


# -------------------------------------------------------------------- members, names


@pytest.mark.slow
async def test_members_and_names_from_both_sides(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        erin = await human(ngircd, "erin", CHANNEL)
        try:
            assert await tg_one(fake_tg, ALICE, "/members") == (
                "No members yet. Be the first: /join"
            )
            assert await irc_one(bob, CHANNEL, "!members") == "No members yet. Be the first: !join"
            await tg_one(fake_tg, ALICE, "/interests python, lua")
            await tg_one(fake_tg, CAROL, "/interests python")
            await irc_one(bob, CHANNEL, "!interests python, go, lua")
            expected = (
                "3 members (2 on Telegram, 1 on IRC). "
                "Most common interests: python (3), lua (2), go (1)"
            )
            assert await tg_one(fake_tg, ALICE, "/members") == expected
            assert await irc_one(erin, BOT_NICK, "members") == expected

            assert await tg_one(fake_tg, CAROL, "/names") == f"2 on IRC in {CHANNEL}: bob, erin"
            assert await irc_one(bob, CHANNEL, "!names") == (
                "Bridge group has 7 members. Spoke there recently: Carol, Alice Smith."
            )
            assert await irc_one(erin, BOT_NICK, "names") == (
                "!names only works in a bridged group or channel: it tells who is on the "
                "other side."
            )
            await erin.quit()
            assert await tg_one(fake_tg, ALICE, "/names") == f"1 on IRC in {CHANNEL}: bob"
            await bob.assert_no_line(from_bot, within=QUIET)
            assert {m.chat_id for m in fake_tg.sent} == {GROUP}
        finally:
            await bob.close()
            await erin.close()


# ----------------------------------------------------------------------------- leave


@pytest.mark.slow
async def test_leave_from_both_networks_removes_every_trace(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd)
    async with running_bridge(config) as bridge:
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            # Alice on Telegram and bob on IRC are one member, with a fresh code pending.
            fake_tg.add_private_chat(ALICE)
            await tg_one(fake_tg, ALICE, "/interests leaving-soon, python")
            fake_tg.push_text(GROUP, ALICE, "/link")
            [private] = await fake_tg.wait_sent(in_chat(ALICE.id))
            await fake_tg.wait_sent(in_chat(GROUP))
            linked = await irc_one(bob, BOT_NICK, f"link {link_code(private.visible_text)}")
            assert linked.startswith("Linked: ")
            link_code(await tg_one(fake_tg, ALICE, "/link", chat=ALICE.id))
            await tg_one(fake_tg, CAROL, "/interests python")
            assert query(tmp_path, "SELECT COUNT(*) FROM link_codes") == [(1,)]

            assert await tg_one(fake_tg, ALICE, "/leave") == (
                "Done: I deleted your membership on both networks, your identities and "
                "your interests."
            )
            assert await irc_one(bob, CHANNEL, "!leave") == (
                "You are not a member, so there is nothing to forget."
            )
            async with asyncio.timeout(5):  # a command is kept until its answer is queued
                await bridge.app.router.lanes.idle()
            tables = [
                r[0] for r in query(tmp_path, "SELECT name FROM sqlite_master WHERE type='table'")
            ]
            assert set(ROSTER_TABLES) <= set(tables)
            for table in tables:  # every table, every column: no trace of Alice or bob
                for row in table_rows(tmp_path, table):
                    text = " ".join(map(str, row))
                    for trace in ("Alice", "alice_s", "leaving-soon", "bob!", "mask:bob"):
                        assert trace not in text, (table, row)
            assert query(tmp_path, "SELECT network, display_name FROM identities") == [
                ("telegram", "Carol")
            ]
            assert query(tmp_path, "SELECT tag FROM interests") == [("python",)]
            assert query(tmp_path, "SELECT COUNT(*) FROM link_codes") == [(0,)]
            assert query(tmp_path, "SELECT COUNT(*) FROM members") == [(1,)]
            assert await tg_one(fake_tg, CAROL, "/whois bob") == 'No one lists "bob".'
            assert await irc_one(bob, CHANNEL, "!whois python") == '1 listing "python": Carol.'

            assert await tg_one(fake_tg, CAROL, "/leave") == (
                "Done: I deleted your membership, your identities and your interests."
            )
            for table in ROSTER_TABLES:
                assert table_rows(tmp_path, table) == [], table

            before = len(fake_tg.sent)
            # bob exists only on IRC: joined, interests, and a link code pending.
            assert (await irc_one(bob, CHANNEL, "!join")).startswith("Welcome, bob: ")
            assert await irc_one(bob, BOT_NICK, "!interests irc-only, python") == (
                "Your interests: irc-only, python."
            )
            link_code(await irc_one(bob, BOT_NICK, "link"))
            await tg_one(fake_tg, CAROL, "/interests python")
            assert query(tmp_path, "SELECT COUNT(*) FROM link_codes") == [(1,)]
            assert query(tmp_path, "SELECT COUNT(*) FROM members") == [(2,)]

            assert await irc_one(bob, CHANNEL, "!leave") == (
                "Done: I deleted your membership, your identities and your interests."
            )
            async with asyncio.timeout(5):
                await bridge.app.router.lanes.idle()
            tables = [
                r[0] for r in query(tmp_path, "SELECT name FROM sqlite_master WHERE type='table'")
            ]
            assert set(ROSTER_TABLES) <= set(tables)
            for table in tables:  # every table, every column: no trace of bob's membership
                for row in table_rows(tmp_path, table):
                    text = " ".join(map(str, row))
                    for trace in ("irc-only", "bob!", "mask:bob"):
                        assert trace not in text, (table, row)
            assert query(tmp_path, "SELECT network, display_name FROM identities") == [
                ("telegram", "Carol")
            ]
            assert query(tmp_path, "SELECT tag FROM interests") == [("python",)]
            assert query(tmp_path, "SELECT COUNT(*) FROM link_codes") == [(0,)]
            assert query(tmp_path, "SELECT COUNT(*) FROM members") == [(1,)]
            assert await irc_one(bob, BOT_NICK, "leave") == (
                "You are not a member, so there is nothing to forget."
            )
            assert await irc_one(bob, CHANNEL, "!whois irc-only") == 'No one lists "irc-only".'
            await bob.assert_no_line(from_bot, within=QUIET)
            assert [m.chat_id for m in fake_tg.sent[before:]] == [GROUP]  # Carol's answer
        finally:
            await bob.close()


# ------------------------------------------------------------------------------ link


@pytest.mark.slow
async def test_link_merges_a_telegram_and_an_irc_identity_both_ways(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        dave = await human(ngircd, "dave", CHANNEL)
        try:
            # Telegram code, redeemed on IRC.
            fake_tg.add_private_chat(ALICE)
            await tg_one(fake_tg, ALICE, "/interests python")
            await irc_one(bob, CHANNEL, "!interests lua, python")
            await dave.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)  # bob's answer
            fake_tg.push_text(GROUP, ALICE, "/link")
            [private] = await fake_tg.wait_sent(in_chat(ALICE.id))
            [pointer] = await fake_tg.wait_sent(in_chat(GROUP))
            assert pointer.visible_text == "I sent you a link code privately."
            code = link_code(private.visible_text or "")
            assert private.visible_text == (
                f"Your link code is {code}. Within 10 minutes, send !link {code} to me in a "
                "private message on IRC. Keep it to yourself: whoever sends it becomes part "
                "of your membership."
            )
            fake_tg.add_private_chat(CAROL)
            assert await tg_one(fake_tg, CAROL, f"/link {code}", chat=CAROL.id) == (
                "That code was made on Telegram: send it from your other network."
            )
            assert await irc_one(bob, BOT_NICK, f"link {code.lower()}") == (
                "Linked: Telegram: Alice Smith (@alice_s); IRC: bob (unverified) are now one "
                "member."
            )
            assert await irc_one(bob, BOT_NICK, f"link {code}") == (
                "That code is unknown or has expired: ask for a new one."
            )
            assert await tg_one(fake_tg, CAROL, "/whois bob") == (
                "Alice Smith — Telegram: Alice Smith (@alice_s); IRC: bob (unverified) — "
                f"member since {today()}\nInterests: python, lua"
            )
            assert await tg_one(fake_tg, CAROL, "/members") == (
                "1 member (1 on Telegram, 1 on IRC). Most common interests: lua (1), python (1)"
            )

            # IRC code, redeemed on Telegram; a code typed in public is voided.
            dave.privmsg(CHANNEL, "!link")
            private_line = await dave.wait_for(bot_private)
            [pointer_line] = await dave.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert pointer_line.text == "I sent you a link code privately."
            [seen] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert seen.text == pointer_line.text  # the channel sees the pointer, not the code
            code = link_code(private_line.text)
            assert private_line.text == (
                f"Your link code is {code}. Within 10 minutes, send /link {code} to me in a "
                "private chat on Telegram. Keep it to yourself: whoever sends it becomes part "
                "of your membership."
            )
            assert await tg_one(fake_tg, CAROL, f"/link {code}") == (
                "Link codes only work in a private chat with me; that code is now void. "
                "Ask for a new one with !link on your other network."
            )
            assert await tg_one(fake_tg, CAROL, f"/link {code}", chat=CAROL.id) == (
                "That code is unknown or has expired: ask for a new one."
            )
            code = link_code(await irc_one(dave, BOT_NICK, "link"))
            assert await tg_one(fake_tg, CAROL, f"/link {code}", chat=CAROL.id) == (
                "Linked: IRC: dave (unverified); Telegram: Carol (@carol) are now one member."
            )
            assert await tg_one(fake_tg, CAROL, "/link NOPE!!", chat=CAROL.id) == (
                "That is not a link code: codes are 6 characters."
            )
            rows = query(
                tmp_path,
                "SELECT m.id, i.network, i.display_name FROM members m "
                "JOIN identities i ON i.member_id = m.id ORDER BY i.id",
            )
            assert len({r[0] for r in rows}) == 2
            assert [(r[1], r[2]) for r in rows] == [
                ("telegram", "Alice Smith"),
                ("irc", "bob"),
                ("irc", "dave"),
                ("telegram", "Carol"),
            ]
            await bob.assert_no_line(from_bot, within=QUIET)
        finally:
            await bob.close()
            await dave.close()


async def test_private_answers_need_a_private_chat_on_telegram(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd, moderators=MODERATORS)
    async with running_bridge(config):
        need = (
            "I cannot write to you privately yet: open a private chat with @BridgeBot, "
            "press Start, then try again."
        )
        assert await tg_one(fake_tg, CAROL, "/link") == need
        assert await tg_one(fake_tg, CAROL, "/help") == need
        assert await tg_one(fake_tg, ALICE, "/export") == need
        assert [m.chat_id for m in fake_tg.sent] == [GROUP, GROUP, GROUP]
        assert query(tmp_path, "SELECT COUNT(*) FROM exports") == [(0,)]


# ---------------------------------------------------------------------------- export


async def test_telegram_group_admins_are_moderators_when_configured(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    fake_tg.chats[GROUP].administrators = [DAVE]
    config = config_for(tmp_path, fake_tg, ngircd, telegram_admins_are_moderators=True)
    async with running_bridge(config):
        fake_tg.add_private_chat(DAVE)
        fake_tg.add_private_chat(CAROL)
        await tg_one(fake_tg, CAROL, "/interests python")
        assert await tg_one(fake_tg, CAROL, "/export", chat=CAROL.id) == (
            "Sorry, /export is for moderators only."
        )
        fake_tg.push_text(DAVE.id, DAVE, "/export")
        files = await fake_tg.wait_sent(in_chat(DAVE.id), count=2)
        assert [f.file_name for f in files] == ["roster.csv", "roster.json"]
        assert [r["display_name"] for r in parse_csv(files[0].file_bytes or b"")] == ["Carol"]
        assert query(tmp_path, "SELECT actor, row_count FROM exports") == [
            (f"telegram:{DAVE.id}", 1)
        ]
        assert len(fake_tg.sent) == 4  # no pointer: the export was asked for privately


def parse_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheets read UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def test_export_by_telegram_moderator_arrives_privately_as_csv_and_json(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd, moderators=MODERATORS)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            sneaky = TgUser(1005, '=HYPERLINK("http://x")', username="sneaky")
            await tg_one(fake_tg, ALICE, "/interests python, translation")
            await tg_one(fake_tg, sneaky, "/interests übersetzung")
            await irc_one(bob, CHANNEL, "!interests lua")
            assert await tg_one(fake_tg, CAROL, "/export") == (
                "Sorry, /export is for moderators only."
            )
            fake_tg.add_private_chat(ALICE)
            fake_tg.push_text(GROUP, ALICE, "/export")
            files = await fake_tg.wait_sent(in_chat(ALICE.id), count=2)
            [pointer] = await fake_tg.wait_sent(in_chat(GROUP))
            assert pointer.visible_text == "I sent you the roster privately (CSV and JSON)."
            assert [(f.method, f.file_name) for f in files] == [
                ("sendDocument", "roster.csv"),
                ("sendDocument", "roster.json"),
            ]
            assert (files[0].visible_text or "").startswith("Members roster: 3 members, ")
            rows = parse_csv(files[0].file_bytes or b"")
            assert [{k: v for k, v in r.items() if k != "joined_at"} for r in rows] == [
                {
                    "member_id": "1",
                    "display_name": "Alice Smith",
                    "telegram_id": str(ALICE.id),
                    "telegram_username": "alice_s",
                    "irc_account": "",
                    "irc_nick": "",
                    "verified": "yes",
                    "interests": "python;translation",
                },
                {
                    "member_id": "2",
                    "display_name": '\'=HYPERLINK("http://x")',
                    "telegram_id": str(sneaky.id),
                    "telegram_username": "sneaky",
                    "irc_account": "",
                    "irc_nick": "",
                    "verified": "yes",
                    "interests": "übersetzung",
                },
                {
                    "member_id": "3",
                    "display_name": "bob",
                    "telegram_id": "",
                    "telegram_username": "",
                    "irc_account": "",
                    "irc_nick": "bob",
                    "verified": "no",
                    "interests": "lua",
                },
            ]
            assert all(
                re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["joined_at"]) for r in rows
            )
            records = json.loads((files[1].file_bytes or b"").decode("utf-8"))
            assert [(r["display_name"], r["interests"], r["verified"]) for r in records] == [
                ("Alice Smith", ["python", "translation"], True),
                ('=HYPERLINK("http://x")', ["übersetzung"], True),
                ("bob", ["lua"], False),
            ]
            assert [r["joined_at"] for r in records] == [r["joined_at"] for r in rows]
            assert query(tmp_path, "SELECT actor, row_count FROM exports") == [
                (f"telegram:{ALICE.id}", 3)
            ]
            # Nothing reached IRC, and no file went to the group.
            await bob.assert_no_line(from_bot, within=QUIET)
            assert not [m for m in fake_tg.sent if m.chat_id == GROUP and m.file_name]
        finally:
            await bob.close()


@pytest.mark.slow
async def test_export_on_irc_by_mask_moderator_and_refusals(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd, moderators=MODERATORS)
    async with running_bridge(config):
        # "alice" is a moderator's services account name, but this alice is not logged in.
        alice = await human(ngircd, "alice", CHANNEL)
        mod = await human(ngircd, "mod", CHANNEL)
        try:
            await tg_one(fake_tg, ALICE, "/interests python")
            await irc_one(alice, CHANNEL, "!interests lua")
            assert await irc_one(alice, CHANNEL, "!export") == (
                "Sorry, !export is for moderators only."
            )
            assert await irc_one(alice, BOT_NICK, "export") == (
                "Sorry, !export is for moderators only."
            )
            seen = await mod.expect_privmsgs(CHANNEL, 2, source_nick=BOT_NICK)
            assert [ln.text for ln in seen][1] == "Sorry, !export is for moderators only."
            mod.privmsg(CHANNEL, "!export")
            [pointer] = await mod.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert pointer.text == "I sent you the roster privately (CSV and JSON)."
            lines = [
                ln.text for ln in await mod.expect_privmsgs("mod", 1 + 3 + 1, source_nick=BOT_NICK)
            ]
            assert lines[0].startswith("--- roster.csv: Members roster: 2 members, ")
            assert lines[4].startswith("--- roster.json: Members roster: 2 members, ")
            rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:4]).lstrip("\ufeff"))))
            assert [
                (r["display_name"], r["irc_nick"], r["verified"], r["interests"]) for r in rows
            ] == [
                ("Alice Smith", "", "yes", "python"),
                ("alice", "alice", "no", "lua"),
            ]
            [json_line] = await mod.expect_privmsgs("mod", 1, source_nick=BOT_NICK)
            records = json.loads(json_line.text)
            assert [r["display_name"] for r in records] == ["Alice Smith", "alice"]
            # Asked privately: the same, with no pointer in the channel.
            private = await irc_ask(mod, BOT_NICK, "export", 6)
            assert private[0].startswith("--- roster.csv: ")
            assert private[4].startswith("--- roster.json: ")
            exports = query(tmp_path, "SELECT actor, row_count FROM exports")
            assert [(actor.split("!")[0], count) for actor, count in exports] == [
                ("irc:mask:mod", 2),
                ("irc:mask:mod", 2),
            ]
            # alice got no roster privately, and nothing reached Telegram but Alice's answer.
            await alice.assert_no_line(bot_private, within=QUIET)
            assert [m.chat_id for m in fake_tg.sent] == [GROUP]
        finally:
            await alice.close()
            await mod.close()


# ------------------------------------------------------------------- rate limit, help


@pytest.mark.slow
async def test_command_rate_limit_makes_the_bot_go_quiet(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd, commands_per_minute=3)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        erin = await human(ngircd, "erin", CHANNEL)
        dave = await human(ngircd, "dave")
        try:
            for _ in range(6):
                bob.privmsg(CHANNEL, "!members")
            answers = await bob.expect_privmsgs(CHANNEL, 4, source_nick=BOT_NICK)
            assert [ln.text for ln in answers] == [
                "No members yet. Be the first: !join",
                "No members yet. Be the first: !join",
                "No members yet. Be the first: !join",
                "Slow down, please: at most 3 commands a minute.",
            ]
            assert await irc_one(erin, CHANNEL, "!members") == (
                "No members yet. Be the first: !join"
            )
            [seen] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert seen.text == "No members yet. Be the first: !join"  # erin's answer
            for _ in range(6):
                fake_tg.push_text(GROUP, ALICE, "/members")
            got = await fake_tg.wait_sent(count=4)
            assert [m.visible_text for m in got] == [
                "No members yet. Be the first: /join",
                "No members yet. Be the first: /join",
                "No members yet. Be the first: /join",
                "Slow down, please: at most 3 commands a minute.",
            ]
            bob.privmsg(BOT_NICK, "members")  # private messages count too
            # Unknown commands count too, and private chatter on Telegram gets one hint
            # (on IRC none: "hello" privately is chatter, not an unknown command).
            dave.privmsg(BOT_NICK, "hello")
            for i in range(8):
                dave.privmsg(BOT_NICK, f"!frob{i}")
            got_irc = await dave.expect_privmsgs("dave", 4, source_nick=BOT_NICK)
            assert [ln.text for ln in got_irc] == [
                *[f'There is no command "frob{i}". !help lists them all.' for i in range(3)],
                "Slow down, please: at most 3 commands a minute.",
            ]
            fake_tg.add_private_chat(CAROL)
            for i in range(6):
                fake_tg.push_text(CAROL.id, CAROL, f"hello {i}")
            await fake_tg.wait_sent(in_chat(CAROL.id))
            await dave.assert_no_line(from_bot, within=QUIET)
            await bob.assert_no_line(bot_private, within=0.1)
            await bob.assert_no_line(bot_in_channel, within=0.1)
            assert len(fake_tg.sent) == 5
        finally:
            await bob.close()
            await erin.close()
            await dave.close()


@pytest.mark.slow
async def test_help_on_both_networks(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd)
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            fake_tg.add_private_chat(ALICE)
            listing = await tg_one(fake_tg, ALICE, "/help", chat=ALICE.id)
            assert [line.split(" ", 1)[0] for line in listing.splitlines()] == [
                "/help",
                "/join",
                "/interests",
                "/whois",
                "/members",
                "/names",
                "/leave",
                "/link",
                "/listed",
                "/askme",
                "/ask",
                "/language",
                "/export",
                "/remove",
                "/untag",
                "Details:",
            ]
            assert "/export — the roster as CSV and JSON, sent privately (moderators)" in listing
            assert await tg_one(fake_tg, ALICE, "/help whois") == (
                "Usage: /whois <name or interest>\nA member's name or handle shows their card. "
                "Otherwise the members listing that interest or one starting with it, best "
                "match first: /whois py. At most 10 in the group and 100 privately, with how "
                "many more."
            )
            assert await tg_one(fake_tg, ALICE, "/help nope") == (
                'There is no command "nope". /help lists them all.'
            )
            assert await irc_ask(bob, CHANNEL, "!help !export", 3) == [
                "Usage: !export",
                "Sends roster.csv (opens in a spreadsheet) and roster.json to you privately, "
                "never in the group or channel. Every export is recorded. On IRC a file longer "
                "than 200 lines is replaced by a note: use /export on Telegram or tgirc-bridge "
                "export on the server.",
                "Moderators only.",
            ]
            bob.privmsg(CHANNEL, "!help")
            [pointer] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert pointer.text == "I sent you the list of commands privately."
            private = await bob.expect_privmsgs("bob", 16, source_nick=BOT_NICK)
            assert private[0].text == "!help [command] — list the commands, or explain one"
            assert private[-1].text == "Details: !help <command>"
            assert await irc_one(bob, BOT_NICK, "!frobnicate") == (
                'There is no command "frobnicate". !help lists them all.'
            )
            assert (await irc_ask(bob, BOT_NICK, "help whois", 2))[0] == (
                "Usage: !whois <name or interest>"
            )
            # Addressed to us by name in the group: the list privately, a pointer there.
            fake_tg.push_text(GROUP, ALICE, "/help@BridgeBot")
            [listed] = await fake_tg.wait_sent(in_chat(ALICE.id))
            [pointer] = await fake_tg.wait_sent(in_chat(GROUP))
            assert listed.visible_text == listing
            assert pointer.visible_text == "I sent you the list of commands privately."
            # Another bot's command is not ours: relayed like any other line.
            fake_tg.push_text(GROUP, ALICE, "/help@OtherBot")
            [relayed] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
            assert relayed.text == "<Alice Smith> /help@OtherBot"
            await bob.assert_no_line(from_bot, within=QUIET)
            assert {m.chat_id for m in fake_tg.sent} == {GROUP, ALICE.id}
        finally:
            await bob.close()


# ---------------------------------------------------------------- configured prefix


@pytest.mark.slow
async def test_configured_irc_prefix_is_what_every_answer_tells(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    config = config_for(tmp_path, fake_tg, ngircd, irc={"command_prefix": "."})
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        try:
            assert await irc_one(bob, CHANNEL, ".members") == "No members yet. Be the first: .join"
            assert await irc_ask(bob, CHANNEL, ".help .join", 2) == [
                "Usage: .join",
                "Adds you to the roster, keyed by your Telegram id or IRC services account "
                "(without one, by nick!user@host, marked unverified). Then: .interests.",
            ]
            assert await irc_one(bob, BOT_NICK, ".frob") == (
                'There is no command "frob". .help lists them all.'
            )
            # Telegram tells what to type on IRC with the same prefix (Alice is in the group).
            fake_tg.add_member(GROUP, ALICE)
            fake_tg.add_private_chat(ALICE)
            private = await tg_one(fake_tg, ALICE, "/link", chat=ALICE.id)
            code = link_code(private)
            assert f"send .link {code} to me in a private message on IRC" in private
            assert await irc_one(bob, BOT_NICK, f".link {code}") == (
                "Linked: Telegram: Alice Smith (@alice_s); IRC: bob (unverified) are now one "
                "member."
            )
            # "!" is not a command here: a line starting with it is relayed like any other.
            bob.privmsg(CHANNEL, "!members")
            [relayed] = await fake_tg.wait_sent(in_chat(GROUP))
            assert relayed.visible_text == "bob: !members"
            await bob.assert_no_line(from_bot, within=QUIET)
        finally:
            await bob.close()
