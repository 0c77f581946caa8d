"""The relay rules, fast: a real Router over in-memory fakes, asserting what it queues.

End-to-end tests (test_e2e_relay.py) show the same rules once on a real ircd; here every
branch gets its own small case: filters, notices, replies, edits, rendering per side.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from bridge.model import (
    Attachment,
    Author,
    ChatId,
    ChatRef,
    Departure,
    Detail,
    Kick,
    Message,
    MessageKind,
    Network,
    NickChange,
    Posted,
    ReplyRef,
)
from bridge.payloads import IrcLines, TelegramHtml
from handlers.registry import CommandRegistry
from storage.message_map import RECORD_SQL, posted_row
from storage.roster_store import RosterStore
from tests.support.handlers import (
    IRC_CHANNEL,
    TG_GROUP,
    Rig,
    handled,
    irc_author,
    make_rig,
    tg_author,
)

ALICE = tg_author(1001, "Alice Liddell", "alice")
BOB = irc_author("bob", account="bob")
ZWSP = "\u200b"


def tg(text: str, n: int = 0, **fields: Any) -> Message:
    """Alice says text in the bridged Telegram group (message id n)."""
    return Message(f"tg:{TG_GROUP.chat_id}:{n}", ALICE, TG_GROUP, text, **fields)


def irc(text: str, n: int = 0, **fields: Any) -> Message:
    """bob says text in the bridged IRC channel."""
    return Message(f"irc:{n}", BOB, IRC_CHANNEL, text, **fields)


@pytest.fixture
def rig(store: RosterStore, registry: CommandRegistry) -> Rig:
    return make_rig(store, registry)


def irc_payloads(rig: Rig) -> list[IrcLines]:
    return [i.payload for i in rig.outbox.items if isinstance(i.payload, IrcLines)]


# ------------------------------------------------------------------ rendering


async def test_text_goes_to_the_other_side_of_its_pair_rendered_for_it(rig: Rig) -> None:
    await handled(rig.router, tg("hello <b> & x"))
    await handled(rig.router, irc("hi <b>&amp; back"))
    to_irc, to_tg = rig.outbox.items
    assert (to_irc.network, to_irc.chat, to_irc.kind) == ("irc", "#collab", "relay")
    assert to_irc.payload == IrcLines(("<Alice Liddell> hello <b> & x",))
    assert to_irc.dedup_key == f"tg:{TG_GROUP.chat_id}:0>irc:#collab"
    assert (to_tg.network, to_tg.chat, to_tg.dedup_key) == (
        "telegram",
        TG_GROUP.chat_id,
        f"irc:0>tg:{TG_GROUP.chat_id}",
    )
    assert to_tg.payload == TelegramHtml(
        "<b>bob</b>: hi &lt;b&gt;&amp;amp; back",
        mergeable=True,
        author="bob",
        text="hi <b>&amp; back",
    )


async def test_channels_match_in_any_case_and_unbridged_chats_are_dropped(rig: Rig) -> None:
    shouting = ChatRef(Network.IRC, ChatId("#COLLAB"))
    await handled(rig.router, Message("irc:1", BOB, shouting, "hi"))
    assert [i.chat for i in rig.outbox.items] == [TG_GROUP.chat_id]
    rig.outbox.items.clear()
    elsewhere = ChatRef(Network.TELEGRAM, ChatId("-100999"))
    await handled(rig.router, Message("tg:x:1", ALICE, elsewhere, "hi"))
    await handled(rig.router, Message("irc:2", BOB, ChatRef(Network.IRC, ChatId("#other")), "hi"))
    assert rig.outbox.items == []


async def test_actions_both_ways(rig: Rig) -> None:
    await handled(rig.router, tg("waves", kind=MessageKind.ACTION))
    await handled(rig.router, irc("nods <slowly>", kind=MessageKind.ACTION))
    assert irc_payloads(rig) == [IrcLines(("Alice Liddell waves",), action=True)]
    assert rig.outbox.telegram_html(TG_GROUP.chat_id) == ["<i>* bob nods &lt;slowly&gt;</i>"]


async def test_empty_text_is_not_relayed(rig: Rig) -> None:
    await handled(rig.router, irc("   "))
    await handled(rig.router, tg(""))
    assert rig.outbox.items == []
    await handled(rig.router, tg("", attachments=(Attachment("sticker", detail="😀"),)))
    assert rig.outbox.irc_lines("#collab") == ["<Alice Liddell> [sticker 😀]"]


async def test_a_telegram_name_that_is_an_irc_nick_does_not_highlight(rig: Rig) -> None:
    rig.irc.members["#collab"] = ["bob", "Carol"]
    carol = tg_author(1003, "Carol", "carol")
    await handled(rig.router, Message("tg:c:1", carol, TG_GROUP, "ping?"))
    await handled(rig.router, tg("pong"))
    assert rig.outbox.irc_lines("#collab") == [f"<C{ZWSP}arol> ping?", "<Alice Liddell> pong"]


# --------------------------------------------------------------------- replies


async def remember(rig: Rig, message_id: str, author: str, text: str) -> None:
    """What the outbox records when it posts a relayed message (OutboxStore.complete)."""
    posted = Posted("telegram", TG_GROUP.chat_id, message_id, author, text)
    async with rig.router.relay.message_map.db.transaction() as conn:
        await conn.execute(RECORD_SQL, posted_row(posted, time.time()))


def answering(text: str, message_id: str = "77", *, by_bridge: bool = True) -> ReplyRef:
    return ReplyRef("CollabBot", text, message_id, by_bridge=by_bridge)


async def test_a_reply_to_a_relayed_message_names_its_recorded_author(rig: Rig) -> None:
    await remember(rig, "77", "carol", "who reviews the patch?")
    await handled(rig.router, tg("me!", reply_to=answering("carol: who reviews the patch?")))
    assert rig.outbox.irc_lines("#collab") == [
        '<Alice Liddell> [re carol: "who reviews the patch?"] me!'
    ]


@pytest.mark.parametrize(
    ("shown", "quoted"),
    [
        (
            "bob: who wants to review\nthe patch",
            '[re CollabBot: "bob: who wants to review the patch"]',
        ),
        ("* bob nods slowly", '[re CollabBot: "* bob nods slowly"]'),
        ("no author here", '[re CollabBot: "no author here"]'),
        (": no nick", '[re CollabBot: ": no nick"]'),
    ],
)
async def test_an_unrecorded_reply_is_quoted_as_telegram_shows_it(
    rig: Rig, shown: str, quoted: str
) -> None:
    await handled(rig.router, tg("yes", reply_to=answering(shown)))
    assert rig.outbox.irc_lines("#collab") == [f"<Alice Liddell> {quoted} yes"]


async def test_a_reply_to_a_person_is_left_as_telegram_said(rig: Rig) -> None:
    await remember(rig, "5", "someone else", "not this")
    await handled(rig.router, tg("yes", reply_to=ReplyRef("Carol", "lunch?", "5")))
    assert rig.outbox.irc_lines("#collab") == ['<Alice Liddell> [re Carol: "lunch?"] yes']


# --------------------------------------------------------------------- filters


@pytest.mark.parametrize(
    "message",
    [
        tg("// only for telegram"),
        tg("// waves", kind=MessageKind.ACTION),
        irc("// irc only"),
        irc("// nods", kind=MessageKind.ACTION),
    ],
    ids=["telegram text", "telegram action", "irc text", "irc action"],
)
async def test_the_no_relay_prefix_keeps_a_message_on_its_side(rig: Rig, message: Message) -> None:
    await handled(rig.router, message)
    assert rig.outbox.items == []


async def test_the_no_relay_prefix_counts_only_at_the_start_and_is_configurable(
    store: RosterStore, registry: CommandRegistry
) -> None:
    rig = make_rig(store, registry, relay='no_relay_prefix = "~"')
    await handled(rig.router, tg("~ private"))
    await handled(rig.router, tg("// relayed now", n=1))
    await handled(rig.router, irc("a ~ b"))
    await handled(rig.router, tg("~Newbie", n=2, kind=MessageKind.JOIN))  # a name, not text
    assert rig.outbox.irc_lines("#collab") == [
        "<Alice Liddell> // relayed now",
        "* ~Newbie joined the Telegram group",
    ]
    assert rig.outbox.telegram_texts(TG_GROUP.chat_id) == ["bob: a ~ b"]


IGNORE = 'ignore = ["telegram:1002", "telegram:@Mallory", "irc:spam*", "irc:*!*@bad.example"]'


@pytest.mark.parametrize(
    ("author", "ignored"),
    [
        (tg_author(1002, "Dave", "dave"), True),  # by id
        (tg_author(1004, "Mal", "mallory"), True),  # by @username, any case
        (tg_author(1003, "Carol", "carol"), False),
        (tg_author(1005, "Spammy", "spammer"), False),  # irc: rules are for IRC only
        (irc_author("spammer", account=None), True),  # nick glob
        (irc_author("SPAMBOT", account="x"), True),  # IRC case rules
        (irc_author("eve", account=None, host="bad.example"), True),  # mask glob
        (irc_author("eve", account=None, host="good.example"), False),
        (irc_author("bob"), False),
    ],
)
async def test_the_ignore_list(
    store: RosterStore, registry: CommandRegistry, author: Author, ignored: bool
) -> None:
    rig = make_rig(store, registry, relay=IGNORE)
    chat, prefix = (TG_GROUP, "/") if author.network is Network.TELEGRAM else (IRC_CHANNEL, "!")
    await handled(rig.router, Message("m:1", author, chat, "hello"))
    await handled(rig.router, Message("m:2", author, chat, f"{prefix}members"))
    assert len(rig.outbox.items) == (0 if ignored else 2)  # relayed, and answered


async def test_the_bridges_own_messages_are_never_relayed(rig: Rig) -> None:
    bot = tg_author(999, "CollabBot", "CollabBot")
    await handled(rig.router, Message("tg:b:1", bot, TG_GROUP, "echo"))
    own_nick = irc_author("collabBOT", account=None)  # the server folds case
    await handled(rig.router, Message("irc:b:1", own_nick, IRC_CHANNEL, "echo"))
    assert rig.outbox.items == []


# --------------------------------------------------------------------- notices


def irc_event(kind: MessageKind, detail: Detail | None = None) -> Message:
    dave = irc_author("dave", account=None)
    return Message(f"irc:{kind}", dave, IRC_CHANNEL, kind=kind, detail=detail)


EVENTS = [
    irc_event(MessageKind.JOIN),
    irc_event(MessageKind.PART, Departure()),
    irc_event(MessageKind.QUIT, Departure()),
    irc_event(MessageKind.KICK, Kick("erin", "too loud")),
    irc_event(MessageKind.KICK, Kick("erin")),
    irc_event(MessageKind.NICK, NickChange("david")),
]


async def test_irc_notices_by_default_only_kicks(rig: Rig) -> None:
    for event in EVENTS:
        await handled(rig.router, event)
    assert rig.outbox.telegram_html(TG_GROUP.chat_id) == [
        "<i>erin was kicked from #collab by dave (too loud)</i>",
        "<i>erin was kicked from #collab by dave</i>",
    ]


async def test_irc_notices_each_switched_by_the_config(
    store: RosterStore, registry: CommandRegistry
) -> None:
    on = "irc_joins = true\nirc_parts = true\nirc_quits = true\nirc_nick_changes = true"
    rig = make_rig(store, registry, relay=on + "\nirc_kicks = false")
    for event in EVENTS:
        await handled(rig.router, event)
    assert rig.outbox.telegram_texts(TG_GROUP.chat_id) == [
        "dave joined #collab",
        "dave left #collab",
        "dave quit IRC",
        "dave is now known as david",
    ]
    [item, *_] = rig.outbox.items
    assert item.payload == TelegramHtml(
        "<i>dave joined #collab</i>", mergeable=True, author="dave", text="dave joined #collab"
    )


@pytest.mark.parametrize("enabled", [True, False])
async def test_telegram_joins_and_leaves_follow_the_config(
    store: RosterStore, registry: CommandRegistry, enabled: bool
) -> None:
    rig = make_rig(store, registry, relay=f"telegram_joins = {str(enabled).lower()}")
    await handled(rig.router, tg("Newbie, Other", kind=MessageKind.JOIN))
    await handled(rig.router, tg("Newbie", n=1, kind=MessageKind.PART))
    expected = [
        IrcLines(("* Newbie, Other joined the Telegram group",)),
        IrcLines(("* Newbie left the Telegram group",)),
    ]
    assert irc_payloads(rig) == (expected if enabled else [])


# ----------------------------------------------------------------------- edits


async def test_edits_replace_what_still_waits_for_the_debounce(
    store: RosterStore, registry: CommandRegistry
) -> None:
    rig = make_rig(store, registry, relay="edit_debounce = 2.5")
    await handled(rig.router, tg("helo", n=5))
    for update, text in ((81, "hell"), (82, "hello!")):
        edit = Message(
            f"tg:{TG_GROUP.chat_id}:5:e{update}",
            ALICE,
            TG_GROUP,
            text,
            edit_of=f"tg:{TG_GROUP.chat_id}:5",
        )
        await handled(rig.router, edit)
    original, *edits = rig.outbox.items
    assert (original.replace_key, original.delay) == (None, 0.0)
    assert [(e.dedup_key, e.replace_key, e.delay) for e in edits] == [
        (
            f"tg:{TG_GROUP.chat_id}:5:e{u}>irc:#collab",
            f"edit:tg:{TG_GROUP.chat_id}:5>irc:#collab",
            2.5,
        )
        for u in (81, 82)
    ]
    assert rig.outbox.irc_lines("#collab")[1:] == [
        "<Alice Liddell> [edit] hell",
        "<Alice Liddell> [edit] hello!",
    ]


async def test_a_private_message_is_never_relayed(rig: Rig) -> None:
    alone = ChatRef(Network.TELEGRAM, ChatId(ALICE.user_id), is_private=True)
    to_bot = ChatRef(Network.IRC, ChatId("CollabBot"), is_private=True)
    await handled(rig.router, Message("tg:p:1", ALICE, alone, "waves", kind=MessageKind.ACTION))
    await handled(rig.router, Message("irc:p:1", BOB, to_bot, "nods", kind=MessageKind.ACTION))
    assert rig.outbox.items == []
