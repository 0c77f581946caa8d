"""Who is where, fast: recent Telegram speakers, /names from both sides, names kept current.

(Refreshing stored names and following an IRC nick change are in test_handlers.py.)
"""

from __future__ import annotations

import pytest

from bridge.config import BridgePair
from bridge.model import ChatId, ChatRef, Network
from bridge.pairs import Pairs
from bridge.presence import SPEAKER_CHATS_MAX, SPEAKERS_MAX, Presence
from handlers.registry import CommandRegistry
from storage.roster_store import RosterStore
from tests.support.handlers import (
    IRC_CHANNEL,
    TG_GROUP,
    FakeIrc,
    FakeTelegramSide,
    Rig,
    handled,
    irc_author,
    make_rig,
    said,
    tg_author,
)

ALICE = tg_author(1001, "Alice Liddell", "alice")
CAROL = tg_author(1003, "Carol", "carol")
BOB = irc_author("bob", account="bob")


PAIRS = Pairs(
    [
        BridgePair(-1, "#one"),
        BridgePair(-2, "#two"),
        BridgePair(-3, "#lobby", telegram_topic=1),  # General of a forum
        BridgePair(-3, "#help", telegram_topic=16),
    ]
)


@pytest.fixture
def rig(store: RosterStore, registry: CommandRegistry) -> Rig:
    return make_rig(store, registry)


def test_recent_speakers_newest_first_within_the_hour() -> None:
    now = [0.0]
    presence = Presence(FakeIrc(), FakeTelegramSide(), PAIRS, clock=lambda: now[0])
    presence.note_speaker("-1", "Alice")
    now[0] = 1000.0
    presence.note_speaker("-1", "Carol")
    presence.note_speaker("-2", "Elsewhere")
    now[0] = 2000.0
    presence.note_speaker("-1", "Alice")  # again: moves to the front, not listed twice
    assert presence.recent_speakers("-1") == ["Alice", "Carol"]
    now[0] = 4601.0  # an hour after Carol spoke
    assert presence.recent_speakers("-1") == ["Alice"]
    assert presence.recent_speakers("-1", window=10_000) == ["Alice", "Carol"]
    assert presence.recent_speakers("-3") == []


def test_recent_speakers_are_bounded_per_group() -> None:
    presence = Presence(FakeIrc(), FakeTelegramSide(), PAIRS)
    for i in range(SPEAKERS_MAX + 5):
        presence.note_speaker("-1", f"user{i}")
    names = presence.recent_speakers("-1")
    assert len(names) == SPEAKERS_MAX and names[0] == f"user{SPEAKERS_MAX + 4}"


def test_a_general_pair_counts_general_only_and_a_flood_of_topics_is_bounded() -> None:
    """General's key is its group's: a pair of General must not count the other topics.
    A forum's members may open topics without end: the chats remembered are bounded, the
    least recently spoken in forgotten first, and unbridged groups are not kept at all."""
    presence = Presence(FakeIrc(), FakeTelegramSide(), PAIRS)
    presence.note_speaker("-3", "Gina")
    presence.note_speaker("-3/16", "Hal")
    presence.note_speaker("-3/99", "Ivy")
    assert presence.telegram_recent_speakers(ChatId("#lobby")) == ["Gina"]
    assert presence.telegram_recent_speakers(ChatId("#help")) == ["Hal"]
    for topic in range(1000, 1000 + 3 * SPEAKER_CHATS_MAX):
        presence.note_speaker(f"-3/{topic}", "Flooder")
        presence.note_speaker(f"-77/{topic}", "Elsewhere")  # a group nobody bridged
    presence.note_speaker("-3/16", "Hal")  # spoken in again: the newest
    assert len(presence._speakers) == SPEAKER_CHATS_MAX
    assert presence.telegram_recent_speakers(ChatId("#help")) == ["Hal"]
    assert presence.telegram_recent_speakers(ChatId("#lobby")) == []  # forgotten: oldest
    assert presence.recent_speakers("-77", whole_group=True) == []


async def test_names_from_both_sides(rig: Rig) -> None:
    rig.irc.members["#collab"] = ["bob", "erin"]
    await handled(rig.router, said(ALICE, "hello"))
    await handled(rig.router, said(CAROL, "hi"))
    private = ChatRef(Network.TELEGRAM, ChatId(CAROL.user_id), is_private=True)
    await handled(rig.router, said(tg_author(1009, "Quiet"), "psst", chat=private))
    await handled(rig.router, said(BOB, "not a Telegram speaker"))
    rig.outbox.items.clear()
    await handled(rig.router, said(BOB, "!names"))
    await handled(rig.router, said(ALICE, "/names", n=1))
    assert rig.outbox.irc_lines("#collab") == [
        "Collab has 7 members. Spoke there recently: Carol, Alice Liddell."
    ]
    assert rig.outbox.telegram_texts(TG_GROUP.chat_id) == ["2 on IRC in #collab: bob, erin"]


async def test_names_when_telegram_does_not_say(rig: Rig) -> None:
    rig.telegram.members = None
    rig.telegram.titles.clear()
    await handled(rig.router, said(BOB, "!names"))
    assert rig.outbox.irc_lines(IRC_CHANNEL.chat_id) == [
        "The Telegram group: member count unknown. No one spoke there recently."
    ]
