"""The command gateway, fast: what counts as a command, who asked, and where answers go.

A real Router over in-memory fakes (tests/helpers_handlers.py); the handlers themselves are
tested in test_handlers.py, and once per network end to end in test_e2e_roster.py.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bridge.commands import PRIVATE_ANSWER_TIMEOUT, Command, CommandGateway, telegram_text
from bridge.model import Attachment, ChatId, ChatRef, Message, MessageKind, Network
from bridge.pairs import Pairs
from bridge.payloads import TelegramHtml
from handlers.registry import CommandRegistry
from storage.roster_store import RosterStore
from tests.support.handlers import (
    IRC_CHANNEL,
    TG_GROUP,
    Rig,
    handled,
    irc_author,
    make_rig,
    said,
    tg_author,
)

ALICE = tg_author(1001, "Alice Liddell", "alice")
BOB = irc_author("bob", account="bob")
ALICE_PRIVATE = ChatRef(Network.TELEGRAM, ChatId(ALICE.user_id), is_private=True)
BOB_PRIVATE = ChatRef(Network.IRC, ChatId("bob"), is_private=True)
NEED_START = (
    "I cannot write to you privately yet: open a private chat with @CollabBot, press Start, "
    "then try again."
)


@pytest.fixture
def rig(store: RosterStore, registry: CommandRegistry) -> Rig:
    return make_rig(store, registry)


# -------------------------------------------------------------------- parsing

TG, IRC = Network.TELEGRAM, Network.IRC


@pytest.mark.parametrize(
    ("network", "private", "text", "command"),
    [
        (TG, False, "/help", Command("help", "")),
        (TG, False, "  /HELP   whois  ", Command("help", "whois")),
        (TG, False, "/help@collabbot whois", Command("help", "whois")),  # our own name, any case
        (TG, False, "/help@OtherBot", None),  # another bot's command: relayed
        (TG, False, "/frobnicate", None),  # not ours: relayed
        (TG, False, "help", None),
        (TG, True, "/frobnicate x", Command("frobnicate", "x")),  # privately: answered
        (TG, True, "hello", None),  # private chatter: a hint, not a command
        (IRC, False, "!whois py", Command("whois", "py")),
        (IRC, False, "whois py", None),
        (IRC, False, "!frobnicate", None),
        (IRC, True, "whois py", Command("whois", "py")),  # the prefix is optional privately
        (IRC, True, "!whois py", Command("whois", "py")),
        (IRC, True, "hello there", None),  # private chatter on IRC: no answer (case 15)
        (IRC, True, "!hello there", Command("hello", "there")),  # meant as one: answered
    ],
)
def test_what_is_a_command(
    rig: Rig, network: Network, private: bool, text: str, command: Command | None
) -> None:
    author = ALICE if network is TG else BOB
    chat = (ALICE_PRIVATE if private else TG_GROUP) if network is TG else IRC_CHANNEL
    if network is IRC and private:
        chat = BOB_PRIVATE
    assert rig.router.commands.parse(said(author, text, chat=chat)) == command


def test_only_plain_text_can_be_a_command(rig: Rig) -> None:
    parse = rig.router.commands.parse
    assert parse(replace(said(ALICE, "/help"), kind=MessageKind.ACTION)) is None
    photo = (Attachment("photo"),)
    assert parse(replace(said(ALICE, "/help"), attachments=photo)) is None  # a caption


def test_the_configured_irc_prefix(store: RosterStore, registry: CommandRegistry) -> None:
    parse = make_rig(store, registry, irc='command_prefix = "."').router.commands.parse
    assert parse(said(BOB, ".whois py")) == Command("whois", "py")
    assert parse(said(BOB, "!whois py")) is None
    assert parse(said(BOB, ".whois py", chat=BOB_PRIVATE)) == Command("whois", "py")
    assert parse(said(BOB, "!whois py", chat=BOB_PRIVATE)) is None  # chatter, unanswered


# ------------------------------------------------------------------- answers


async def test_answers_stay_where_the_command_was_typed(rig: Rig) -> None:
    await handled(rig.router, said(ALICE, "/members"))
    await handled(rig.router, said(BOB, "!members"))
    assert rig.outbox.telegram_texts(TG_GROUP.chat_id) == ["No members yet. Be the first: /join"]
    assert rig.outbox.irc_lines("#collab") == ["No members yet. Be the first: !join"]
    assert {(i.network, i.kind) for i in rig.outbox.items} == {
        ("telegram", "reply"),
        ("irc", "reply"),
    }


async def test_an_edited_command_is_not_run_again(rig: Rig, store: RosterStore) -> None:
    await handled(rig.router, replace(said(ALICE, "/join"), edit_of="tg:-1001:0"))
    assert rig.outbox.items == []
    assert await store.get_member_by_identity(Network.TELEGRAM, ALICE.user_id) is None


async def test_unknown_commands_are_answered_privately_and_never_in_the_group(rig: Rig) -> None:
    await handled(rig.router, said(BOB, "frob", chat=BOB_PRIVATE))  # chatter: no answer
    await handled(rig.router, said(BOB, "!frob", chat=BOB_PRIVATE))
    await handled(rig.router, said(ALICE, "/frob", chat=ALICE_PRIVATE))
    assert rig.outbox.irc_lines("bob") == ['There is no command "frob". !help lists them all.']
    assert rig.outbox.telegram_texts(ALICE.user_id) == [
        'There is no command "frob". /help lists them all.'
    ]


async def test_private_telegram_answers_wait_for_telegrams_verdict(rig: Rig) -> None:
    await handled(rig.router, said(ALICE, "/help"))
    private, _pointer = rig.outbox.items
    assert (private.network, private.chat, private.kind) == ("telegram", ALICE.user_id, "reply")
    assert isinstance(private.payload, TelegramHtml) and "/whois" in private.payload.html
    assert rig.outbox.telegram_texts(TG_GROUP.chat_id) == [
        "I sent you the list of commands privately."
    ]
    assert rig.outbox.waited == [PRIVATE_ANSWER_TIMEOUT]
    # Someone who never pressed Start: Telegram refuses, and the group is told what to do.
    rig.outbox.items.clear()
    rig.outbox.accepts = False
    await handled(rig.router, said(ALICE, "/help", n=1))
    assert rig.outbox.telegram_texts(TG_GROUP.chat_id) == [NEED_START]
    assert rig.outbox.telegram_texts(ALICE.user_id) == []


def test_a_long_telegram_answer_is_split_then_escaped() -> None:
    items = telegram_text("1001", "<b>" + "x" * 9000)
    assert [(i.network, i.chat, i.kind) for i in items] == [("telegram", "1001", "reply")] * 3
    html = [i.payload.html for i in items if isinstance(i.payload, TelegramHtml)]
    assert html[0].startswith("&lt;b&gt;xxx") and len(html) == 3
    assert len({i.dedup_key for i in items}) == 3


async def test_irc_private_answers_are_lines_queued_to_the_nick(rig: Rig) -> None:
    await handled(rig.router, said(BOB, "!help"))
    assert rig.outbox.irc_lines("#collab") == ["I sent you the list of commands privately."]
    lines = rig.outbox.irc_lines("bob")
    assert lines[0] == "!help [command] — list the commands, or explain one"
    assert rig.outbox.waited == []  # IRC cannot refuse: nothing to wait for


# ------------------------------------------------------------- who is asking


async def test_an_irc_invoker_without_an_account_tag_is_looked_up(
    store: RosterStore, registry: CommandRegistry
) -> None:
    rig = make_rig(store, registry, roster='moderators = ["irc:account:carolacc"]')
    rig.irc.services["carol"] = "carolacc"
    carol = irc_author("carol", account=None)
    await handled(
        rig.router, said(carol, "!export", chat=replace(BOB_PRIVATE, chat_id=ChatId("carol")))
    )
    assert rig.irc.whois == ["carol"]
    assert rig.outbox.irc_lines("carol")[0].startswith("--- roster.csv: Members roster: 0 members")
    # With an account tag the server already said who it is: no lookup.
    await handled(rig.router, said(BOB, "!members"))
    assert rig.irc.whois == ["carol"]


async def test_an_irc_lookup_that_finds_no_account_grants_nothing(
    store: RosterStore, registry: CommandRegistry
) -> None:
    rig = make_rig(store, registry, roster='moderators = ["irc:account:carol"]')
    carol = irc_author("carol", account=None)
    await handled(rig.router, said(carol, "!export"))
    assert rig.outbox.irc_lines("#collab") == ["Sorry, !export is for moderators only."]


@pytest.mark.parametrize("configured", [True, False])
async def test_telegram_group_admins_are_moderators_only_when_configured(
    store: RosterStore, registry: CommandRegistry, configured: bool
) -> None:
    setting = f"telegram_admins_are_moderators = {str(configured).lower()}"
    rig = make_rig(store, registry, roster=setting)
    rig.telegram.admins[TG_GROUP.chat_id] = frozenset({1005})
    rig.telegram.in_group[TG_GROUP.chat_id] = {"1005"}  # an admin is in the group
    dave = tg_author(1005, "Dave", "dave")
    await handled(
        rig.router, said(dave, "/export", chat=replace(ALICE_PRIVATE, chat_id=ChatId("1005")))
    )
    files = rig.outbox.documents("1005")
    if configured:
        assert [f.file_name for f in files] == ["roster.csv", "roster.json"]
        assert rig.outbox.waited == [PRIVATE_ANSWER_TIMEOUT] * 2
    else:
        assert files == []
        assert rig.outbox.telegram_texts("1005") == ["Sorry, /export is for moderators only."]


async def test_a_file_telegram_refuses_is_reported(
    store: RosterStore, registry: CommandRegistry
) -> None:
    rig = make_rig(store, registry, roster=f'moderators = ["telegram:{ALICE.user_id}"]')
    rig.outbox.accepts = False
    await handled(rig.router, said(ALICE, "/export"))
    assert rig.outbox.telegram_texts(TG_GROUP.chat_id) == [NEED_START]


# ------------------------------------------------------- private-chat chatter


async def test_private_chatter_gets_one_hint_an_hour(rig: Rig) -> None:
    now = [1000.0]
    gateway = CommandGateway(
        rig.config,
        rig.router.commands.registry,
        rig.router.commands.roster,
        rig.outbox,
        Pairs(rig.config.bridges),
        rig.router.presence,
        rig.irc,
        rig.telegram,
        clock=lambda: now[0],
    )
    hint = "I relay the bridged group and answer commands: try /help."
    for text in ("hello", "anyone?"):
        await gateway.hint(said(ALICE, text, chat=ALICE_PRIVATE))
    now[0] += 3599
    await gateway.hint(said(ALICE, "still there?", chat=ALICE_PRIVATE))
    assert rig.outbox.telegram_texts(ALICE.user_id) == [hint]
    now[0] += 1
    await gateway.hint(said(ALICE, "hello again", chat=ALICE_PRIVATE))
    carol = tg_author(1003, "Carol", "carol")
    await gateway.hint(said(carol, "hi", chat=replace(ALICE_PRIVATE, chat_id=ChatId("1003"))))
    assert rig.outbox.telegram_texts(ALICE.user_id) == [hint, hint]
    assert rig.outbox.telegram_texts("1003") == [hint]


async def test_private_chatter_reaches_the_hint_through_the_router(rig: Rig) -> None:
    await handled(rig.router, said(ALICE, "hello", chat=ALICE_PRIVATE))
    await handled(rig.router, said(ALICE, "hello?", chat=ALICE_PRIVATE, n=1))
    photo = Message("tg:p:2", ALICE, ALICE_PRIVATE, attachments=(Attachment("photo"),))
    await handled(rig.router, photo)
    assert rig.outbox.telegram_texts(ALICE.user_id) == [
        "I relay the bridged group and answer commands: try /help."
    ]
    assert [i.network for i in rig.outbox.items] == ["telegram"]
