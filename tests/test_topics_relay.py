"""Forum topics through a real Router over in-memory fakes: which topic goes where, the
labels a whole-group pair shows on IRC, answers to commands typed in a topic, and the
topic names the bridge remembers (storage/topics.py)."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.audience import Audience
from bridge.config import parse_config
from bridge.model import (
    ChatId,
    ChatRef,
    Message,
    MessageKind,
    Network,
    TopicChange,
    TopicEvent,
)
from bridge.pairs import Pairs
from bridge.payloads import IrcLines, TelegramHtml
from bridge.presence import Presence
from bridge.router import Router
from handlers.registry import CommandRegistry
from storage.message_map import MessageMap
from storage.pending_commands import PendingCommands
from storage.roster_store import RosterStore
from storage.topics import Topic, TopicStore
from tests.support.handlers import (
    FakeIrc,
    FakeOutbox,
    FakeTelegramSide,
    handled,
    irc_author,
    tg_author,
)

G = "-1001234"
"""A forum whose topics 16 and 20 have pairs of their own."""
H = "-1005678"
"""A forum bridged whole."""
CONFIG = f"""
[telegram]
token = "1:abc"
[irc]
host = "127.0.0.1"
nick = "CollabBot"
[[bridge]]
telegram_chat = {G}
telegram_topic = 16
irc_channel = "#help"
[[bridge]]
telegram_chat = {G}
telegram_topic = 20
irc_channel = "#events"
[[bridge]]
telegram_chat = {H}
irc_channel = "#all"
"""
ALICE = tg_author(1001, "Alice Liddell", "alice")
BOB = irc_author("bob", account="bob")


@pytest.fixture
def rig(store: RosterStore, registry: CommandRegistry) -> tuple[Router, FakeOutbox]:
    outbox = FakeOutbox()
    router = Router(
        parse_config(CONFIG),
        outbox,
        registry,
        store,
        MessageMap(store.db),
        irc=FakeIrc(),
        telegram=FakeTelegramSide(),
        topics=TopicStore(store.db),
        pending=PendingCommands(store.db),
    )
    return router, outbox


def tg(key: str, text: str, n: int = 0, **fields: Any) -> Message:
    chat = ChatRef(Network.TELEGRAM, ChatId(key), is_forum=True)
    return Message(f"tg:{key.partition('/')[0]}:{n}", ALICE, chat, text, **fields)


def topic_event(key: str, event: str, name: str | None = None, n: int = 0) -> Message:
    detail = TopicChange(TopicEvent(event), name)
    return tg(key, name or "", n, kind=MessageKind.TOPIC, detail=detail)


def irc_lines(outbox: FakeOutbox) -> list[tuple[str, str]]:
    return [
        (i.chat, line)
        for i in outbox.items
        if isinstance(i.payload, IrcLines)
        for line in i.payload.lines
    ]


async def test_each_topic_goes_to_its_channel_and_the_others_stay(
    rig: tuple[Router, FakeOutbox],
) -> None:
    router, outbox = rig
    await handled(router, tg(f"{G}/16", "a question", 1))
    await handled(router, tg(f"{G}/20", "a meetup", 2))
    await handled(router, tg(f"{G}/30", "off topic", 3))  # no pair, no whole-group pair
    await handled(router, tg(G, "in General", 4))
    assert irc_lines(outbox) == [
        ("#help", "<Alice Liddell> a question"),
        ("#events", "<Alice Liddell> a meetup"),
    ]


async def test_irc_goes_to_the_pairs_topic_or_the_whole_group(
    rig: tuple[Router, FakeOutbox],
) -> None:
    router, outbox = rig
    for n, channel in enumerate(("#help", "#EVENTS", "#all")):
        await handled(router, Message(f"irc:{n}", BOB, ChatRef(Network.IRC, ChatId(channel)), "hi"))
    assert [(i.chat, i.dedup_key) for i in outbox.items] == [
        (f"{G}/16", f"irc:0>tg:{G}/16"),
        (f"{G}/20", f"irc:1>tg:{G}/20"),
        (H, f"irc:2>tg:{H}"),
    ]
    assert all(isinstance(i.payload, TelegramHtml) for i in outbox.items)


async def test_a_whole_group_pair_names_each_topic(
    rig: tuple[Router, FakeOutbox], store: RosterStore
) -> None:
    router, outbox = rig
    await handled(router, topic_event(f"{H}/7", "created", "Help", 7))
    await handled(router, tg(f"{H}/7", "hi", 8))
    await handled(router, tg(f"{H}/9", "unknown topic", 10))
    await handled(router, tg(H, "in General", 11))
    await handled(router, tg(f"{H}/7", "/me waves", 12, kind=MessageKind.ACTION))
    await handled(router, topic_event(f"{H}/7", "edited", "Support", 13))
    await handled(router, tg(f"{H}/7", "renamed", 14))
    assert irc_lines(outbox) == [
        ("#all", "<Alice Liddell> [Help] hi"),
        ("#all", "<Alice Liddell> [#9] unknown topic"),
        ("#all", "<Alice Liddell> [General] in General"),
        ("#all", "Alice Liddell [Help] /me waves"),
        ("#all", "<Alice Liddell> [Support] renamed"),
    ]
    # learned for good: a new process reads it back
    assert await TopicStore(store.db).get(H, 7) == Topic(H, 7, "Support", False)


async def test_a_group_without_topics_is_not_labelled(
    rig: tuple[Router, FakeOutbox],
) -> None:
    router, outbox = rig
    plain = ChatRef(Network.TELEGRAM, ChatId(H), is_forum=False)
    await handled(router, Message(f"tg:{H}:1", ALICE, plain, "hello"))
    assert irc_lines(outbox) == [("#all", "<Alice Liddell> hello")]


async def test_topic_events_are_never_relayed_even_from_a_topic_with_a_pair(
    rig: tuple[Router, FakeOutbox], store: RosterStore
) -> None:
    router, outbox = rig
    await handled(router, topic_event(f"{G}/16", "created", "Help", 16))
    await handled(router, topic_event(f"{G}/16", "closed", n=17))
    await handled(router, topic_event(G, "edited", "Lobby", 18))  # General renamed
    assert outbox.items == []
    topics = TopicStore(store.db)
    assert await topics.closed() == [Topic(G, 16, "Help", True)]
    assert await topics.label(G, 1) == "Lobby"
    await handled(router, topic_event(f"{G}/16", "reopened", n=19))
    assert await TopicStore(store.db).closed() == []


async def test_topics_of_a_group_that_is_not_bridged_are_not_stored(
    rig: tuple[Router, FakeOutbox], store: RosterStore
) -> None:
    """Anyone can add the bot to a group of theirs: its topics take no room here."""
    router, outbox = rig
    for n in range(1, 4):
        await handled(router, topic_event(f"-1009999/{n}", "created", f"Spam {n}", n))
    assert outbox.items == []
    assert await store.db.fetchall("SELECT chat FROM telegram_topics") == []


async def test_a_command_in_a_topic_is_answered_in_that_topic(
    rig: tuple[Router, FakeOutbox],
) -> None:
    router, outbox = rig
    await handled(router, tg(f"{G}/30", "/help", 1))  # even a topic without a pair
    in_chat = [i for i in outbox.items if i.chat != ALICE.user_id]  # the rest is private
    assert [(i.chat, i.kind) for i in in_chat] == [(f"{G}/30", "reply")]
    assert in_chat[0].payload == TelegramHtml("I sent you the list of commands privately.")


async def test_unknown_names_fall_back_to_the_topic_id(store: RosterStore) -> None:
    topics = TopicStore(store.db)
    assert await topics.label(G, 5) == "#5"
    assert await topics.label(G, 1) == "General"
    await topics.learn(G, 5, closed=True)  # closed before its name was seen
    assert await topics.label(G, 5) == "#5"
    await topics.learn(G, 5, name="Late")
    assert await TopicStore(store.db).get(G, 5) == Topic(G, 5, "Late", True)


async def test_people_in_any_topic_of_a_bridged_group_are_the_community(
    store: RosterStore,
) -> None:
    pairs = Pairs(parse_config(CONFIG).bridges)
    who = Audience(pairs, ["#help"], store, FakeIrc(), FakeTelegramSide())
    for key in (f"{G}/16", f"{G}/30", G, H, f"{H}/7"):
        assert await who.includes(tg(key, "").chat, ALICE, moderator=False)
    assert not await who.includes(tg("-1009999/16", "").chat, ALICE, moderator=False)


def test_recent_speakers_are_the_topics_of_a_topic_pair_and_the_groups_of_a_whole_pair() -> None:
    ticks = iter(range(100))
    pairs = Pairs(parse_config(CONFIG).bridges)
    presence = Presence(FakeIrc(), FakeTelegramSide(), pairs, clock=lambda: float(next(ticks)))
    presence.note_speaker(f"{G}/16", "Alice")
    presence.note_speaker(f"{G}/30", "Staff")  # a topic without a pair
    presence.note_speaker(G, "Bob")  # General
    presence.note_speaker(f"{H}/7", "Carol")
    presence.note_speaker(H, "Dan")
    presence.note_speaker("-1009999/3", "Stranger")  # a group nobody bridged: not kept
    assert presence.telegram_recent_speakers(ChatId("#HELP")) == ["Alice"]
    assert presence.telegram_recent_speakers(ChatId("#events")) == []
    assert presence.telegram_recent_speakers(ChatId("#all")) == ["Dan", "Carol"]
    assert presence.telegram_recent_speakers(ChatId("#elsewhere")) == []
    assert presence.recent_speakers(G, whole_group=True) == ["Bob", "Staff", "Alice"]
    assert presence.recent_speakers("-1009999/3", whole_group=True) == []
