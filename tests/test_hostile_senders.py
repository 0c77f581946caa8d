"""Senders who are not simply a person (issue 9, cases 3 and 4), fast.

Posts sent as a channel or as the anonymous group admin (sender_chat) run no command: any
of the chat's admins can post so, under one placeholder user id shared by every channel.
A forwarded message (forward_origin) is someone else's words passed on: never a command,
and shown on IRC as `<Bob> [fwd from Carol] …`. End to end: test_e2e_hostile_senders.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bridge.model import ChatId, ChatRef, Network, ReplyRef
from bridge.render.irc_format import format_forward_prefix, message_to_irc_lines
from handlers.registry import CommandRegistry
from storage.roster_store import RosterStore
from tests.support.handlers import TG_GROUP, handled, make_ctx, make_rig, said, tg_author
from tests.support.updates import GROUP_CHAT, message_json, relayed, update

CHANNEL_BOT: dict[str, Any] = {
    "id": 136817688,
    "is_bot": True,
    "first_name": "Channel",
    "username": "Channel_Bot",
}
ANONYMOUS: dict[str, Any] = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
NEWS: dict[str, Any] = {"id": -1002000000001, "type": "channel", "title": "News"}
DATE = 1_690_000_000
CAROL: dict[str, Any] = {"id": 1003, "is_bot": False, "first_name": "Carol", "last_name": "Chen"}


# ------------------------------------------------------------ case 3: sent as a chat


def test_a_post_as_a_channel_is_that_channel_not_the_placeholder_user() -> None:
    msg = relayed(update(message=message_json("/join", **{"from": CHANNEL_BOT}, sender_chat=NEWS)))
    author = msg.author
    assert (author.display_name, author.nick, author.posted_as) == ("News", None, str(NEWS["id"]))
    anonymous = relayed(
        update(message=message_json("/join", **{"from": ANONYMOUS}, sender_chat=GROUP_CHAT))
    )
    assert anonymous.author.posted_as == str(GROUP_CHAT["id"])
    assert relayed(update(message=message_json("/join"))).author.posted_as is None


async def test_no_command_runs_for_a_post_as_a_chat(
    registry: CommandRegistry, store: RosterStore
) -> None:
    channel = replace(tg_author(136817688, "News", None), posted_as=ChatId("-1002000000001"))
    for command in ("join", "leave", "interests", "whois", "help", "export", "frob"):
        ctx, rec = make_ctx(store, channel, moderator=True)
        await registry.dispatch(ctx, command, "x" if command == "whois" else "")
        assert rec.replies == [
            "You are posting as News, which any of its admins can do, so I cannot tell who "
            "you are: send commands from your own account."
        ], command
        assert rec.private == [] and rec.files == []
    assert (await store.stats()).member_count == 0


async def test_each_chat_has_its_own_command_budget(store: RosterStore) -> None:
    """One channel flooding commands does not silence another that shares its user id."""
    strict = CommandRegistry([], commands_per_minute=1)
    news = replace(tg_author(136817688, "News", None), posted_as=ChatId("-1002000000001"))
    blog = replace(news, display_name="Blog", posted_as=ChatId("-1002000000002"))
    for author in (news, news, blog):
        ctx, rec = make_ctx(store, author)
        await strict.dispatch(ctx, "join", "")
    ctx, rec = make_ctx(store, blog)
    await strict.dispatch(ctx, "join", "")
    assert rec.replies == ["Slow down, please: at most 1 command a minute."]


# ------------------------------------------------------------ case 4: forwards


@pytest.mark.parametrize(
    ("origin", "name"),
    [
        ({"type": "user", "date": DATE, "sender_user": CAROL}, "Carol Chen"),
        ({"type": "hidden_user", "date": DATE, "sender_user_name": "Dan D."}, "Dan D."),
        ({"type": "chat", "date": DATE, "sender_chat": GROUP_CHAT}, "Bridge group"),
        (
            {"type": "chat", "date": DATE, "sender_chat": GROUP_CHAT, "author_signature": "Ed"},
            "Bridge group (Ed)",
        ),
        (
            {"type": "channel", "date": DATE, "chat": NEWS, "message_id": 5},
            "News",
        ),
        (
            {
                "type": "channel",
                "date": DATE,
                "chat": NEWS,
                "message_id": 5,
                "author_signature": "Fay",
            },
            "News (Fay)",
        ),
    ],
)
def test_every_forward_origin_names_who_wrote_it(origin: dict[str, Any], name: str) -> None:
    msg = relayed(update(message=message_json("/join", forward_origin=origin)))
    assert (msg.forwarded_from, msg.author.display_name, msg.text) == (
        name,
        "Alice Smith",
        "/join",
    )


def test_a_forwarded_me_is_not_the_forwarders_action() -> None:
    origin = {"type": "user", "date": DATE, "sender_user": CAROL}
    msg = relayed(update(message=message_json("/me waves", forward_origin=origin)))
    assert (msg.kind.value, msg.text, msg.forwarded_from) == ("text", "/me waves", "Carol Chen")


def test_a_linked_channels_automatic_forward_is_the_channels_own_post() -> None:
    origin = {"type": "channel", "date": DATE, "chat": NEWS, "message_id": 5}
    telegram = {"id": 777000, "is_bot": False, "first_name": "Telegram"}
    msg = relayed(
        update(
            message=message_json(
                "new post",
                **{"from": telegram},
                sender_chat=NEWS,
                forward_origin=origin,
                is_automatic_forward=True,
            )
        )
    )
    assert (msg.forwarded_from, msg.author.display_name, msg.author.posted_as) == (
        None,
        "News",
        str(NEWS["id"]),
    )


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("Carol", "[fwd from Carol] "),
        ("\x02Ca\x02rol\nChen\r", "[fwd from Carol Chen] "),  # codes and breaks cannot pass
        ("", "[fwd from ?] "),
        ("N" * 100, "[fwd from " + "N" * 63 + "…] "),
    ],
)
def test_format_forward_prefix(origin: str, expected: str) -> None:
    assert format_forward_prefix(origin) == expected


def test_the_forward_prefix_comes_after_the_edit_mark_and_before_the_reply() -> None:
    assert message_to_irc_lines("hello\nagain", forwarded_from="Carol") == [
        "[fwd from Carol] hello",
        "again",
    ]
    assert message_to_irc_lines(
        "hi", forwarded_from="Carol", is_edit=True, reply=ReplyRef("Al", "q")
    ) == ['[edit] [fwd from Carol] [re Al: "q"] hi']
    assert message_to_irc_lines("", forwarded_from="Carol") == ["[fwd from Carol]"]


async def test_a_forward_is_never_a_command(store: RosterStore, registry: CommandRegistry) -> None:
    rig = make_rig(store, registry)
    alice = tg_author()
    private = ChatRef(Network.TELEGRAM, ChatId(alice.user_id), is_private=True)
    for chat in (TG_GROUP, private):
        forwarded = replace(said(alice, "/join", chat=chat), forwarded_from="Carol")
        assert rig.router.commands.parse(forwarded) is None
        assert rig.router.commands.parse(replace(forwarded, forwarded_from=None)) is not None
    await handled(rig.router, replace(said(alice, "/join"), forwarded_from="Carol Chen"))
    assert rig.outbox.irc_lines("#collab") == ["<Alice Liddell> [fwd from Carol Chen] /join"]
    assert rig.outbox.telegram_texts(TG_GROUP.chat_id) == []
    assert await store.get_member_by_identity(Network.TELEGRAM, alice.user_id) is None
