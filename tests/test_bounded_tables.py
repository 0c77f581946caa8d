"""Every per-person or per-chat table kept in memory has a bound (issue 21, item 9): a flood of
distinct keys — clones on IRC, private chats, groups the bot is added to, forum topics —
leaves each at its bound, forgetting the least recently used first.

(Recent speakers per forum topic: tests/test_presence.py. Already bounded before, with
their own tests: handlers/rate_limit.py, bridge/presence.py SeenNames,
bridge/telegram/membership.py, bridge/web/directory.py.)
"""

from __future__ import annotations

import asyncio
import doctest
from dataclasses import replace
from typing import Any

import pytest
import telegram
from hypothesis import given, settings
from hypothesis import strategies as st

import bridge.commands
import bridge.lru
import bridge.telegram.connector
import bridge.telegram.delivery
from bridge.commands import CommandGateway
from bridge.config import parse_config
from bridge.irc.channels import MEMBERS_MAX, ChannelState
from bridge.lru import Lru
from bridge.model import ChatId, ChatRef, Network
from bridge.pairs import Pairs
from bridge.telegram.connector import TelegramConnector
from bridge.telegram.delivery import TelegramDelivery
from handlers.registry import CommandRegistry
from storage.roster_store import RosterStore
from tests.support.configs import MINIMAL
from tests.support.fake_telegram import FakeTelegram
from tests.support.handlers import make_rig, said, tg_author
from tests.support.harness import ALICE, telegram_only_config

# ------------------------------------------------------------------------ Lru

OPS = st.lists(
    st.tuples(st.sampled_from(["set", "get", "del"]), st.integers(0, 12), st.integers()),
    max_size=200,
)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), OPS)
def test_an_lru_keeps_the_most_recently_written_keys_up_to_its_bound(
    limit: int, ops: list[tuple[str, int, int]]
) -> None:
    lru: Lru[int, int] = Lru(limit)
    model: list[tuple[int, int]] = []  # oldest first
    for op, key, value in ops:
        if op == "set":
            model = [(k, v) for k, v in model if k != key] + [(key, value)]
            model = model[-limit:]
            lru[key] = value
        elif op == "get":
            assert lru.get(key) == dict(model).get(key)
            assert (key in lru) == (key in dict(model))
        else:
            assert lru.pop(key, None) == dict(model).get(key)
            model = [(k, v) for k, v in model if k != key]
        assert list(lru.items()) == model
        assert len(lru) <= limit


def test_lru_doctests() -> None:
    assert doctest.testmod(bridge.lru).failed == 0


def test_an_lru_needs_room_for_one_key() -> None:
    with pytest.raises(ValueError, match="at least one key"):
        Lru[str, int](0)


# -------------------------------------------------------- /help hints (commands)


async def test_the_hints_remembered_are_bounded_under_a_flood_of_private_chats(
    store: RosterStore, registry: CommandRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bridge.commands, "HINTED_MAX", 50)
    rig = make_rig(store, registry)
    gateway = CommandGateway(
        rig.config,
        rig.router.commands.registry,
        rig.router.commands.roster,
        rig.outbox,
        Pairs(rig.config.bridges),
        rig.router.presence,
        rig.irc,
        rig.telegram,
        clock=lambda: 1000.0,
    )
    hint = "I relay the bridged group and answer commands: try /help."
    people = [tg_author(5000 + i, f"Clone {i}", None) for i in range(500)]

    def private(i: int) -> ChatRef:
        return ChatRef(Network.TELEGRAM, ChatId(people[i].user_id), is_private=True)

    for i in range(len(people)):
        await gateway.hint(said(people[i], "hi", chat=private(i)))
    assert len(gateway._hinted) == 50
    # the latest are still remembered (no second hint within the hour) ...
    await gateway.hint(said(people[-1], "hi again", chat=private(len(people) - 1)))
    assert rig.outbox.telegram_texts(people[-1].user_id) == [hint]
    # ... the first were forgotten: a second pointer, not a table without end
    await gateway.hint(said(people[0], "hi again", chat=private(0)))
    assert rig.outbox.telegram_texts(people[0].user_id) == [hint, hint]
    assert len(gateway._hinted) == 50


# ------------------------------------------------------------- IRC channels


def test_a_flood_of_clones_in_a_channel_is_tracked_up_to_the_bound() -> None:
    state = ChannelState()
    state.joined("#c")
    state.add("#c", "alice")
    state.set_account("alice", "alice")
    state.note_mask("alice!a@example.org")
    for i in range(MEMBERS_MAX + 500):
        state.add("#c", f"clone{i}")
        state.note_mask(f"clone{i}!c@flood.example")
        state.set_account(f"clone{i}", f"account{i}")
    assert len(state.folded_nicks("#c")) == MEMBERS_MAX
    last = f"clone{MEMBERS_MAX + 499}"
    # an untracked clone is a stranger: nothing is believed about it, nothing is kept
    assert not state.sees(last)
    assert state.account(last) is None and state.mask_of(last) is None
    assert not state.knows_account(last)
    # those tracked keep what is known of them
    assert state.account("alice") == "alice"
    assert state.mask_of("alice") == "alice!a@example.org"
    # a tracked nick's change of nick stays tracked at the bound; one leaving frees a place
    state.rename("alice", "alice_")
    assert state.account("alice_") == "alice" and len(state.folded_nicks("#c")) == MEMBERS_MAX
    state.quit("clone0")
    state.add("#c", last)
    assert state.sees(last) and len(state.folded_nicks("#c")) == MEMBERS_MAX


# ------------------------------------------------------------------ Telegram


async def test_the_pace_of_a_flood_of_private_chats_is_bounded_and_a_busy_group_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bridge.telegram.delivery, "PACED_CHATS_MAX", 50)
    ready = asyncio.Event()
    ready.set()
    delivery = TelegramDelivery(telegram.Bot("1:abc"), parse_config(MINIMAL).telegram, ready)
    group = "-100"
    await delivery.wait_ready(f"{group}/16")  # a topic is paced with its group
    paced = delivery._buckets[group]
    for user in range(1, 1001):
        await delivery.wait_ready(str(user))
        if user % 10 == 0:
            await delivery.wait_ready(group)  # the group goes on talking meanwhile
    assert len(delivery._buckets) == 50
    assert delivery._buckets[group] is paced  # its pace was never reset
    assert "1" not in delivery._buckets


def plain_update(update_id: int, chat: int, title: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": chat, "type": "supergroup", "title": title},
            "from": {"id": ALICE.id, "is_bot": False, "first_name": ALICE.first_name},
            "text": "hello",
        },
    }


async def test_titles_and_admins_of_a_flood_of_groups_are_bounded(
    fake_tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anyone may add the bot to groups: their titles and administrators are kept for the
    latest ones only."""
    monkeypatch.setattr(bridge.telegram.connector, "GROUPS_MAX", 5)
    tg = TelegramConnector(telegram_only_config(fake_tg).telegram)
    try:
        await asyncio.wait_for(tg.start(), 10)
        groups = [-1009000000000 - i for i in range(20)]
        for i, chat in enumerate(groups):
            fake_tg.add_chat(chat, title=f"Group {i}", administrators=[ALICE])
            assert tg._parse(plain_update(i + 1, chat, f"Group {i}")) is not None
            assert await tg.admin_ids(str(chat)) == frozenset({ALICE.id})
        assert len(tg.titles) == 5 and len(tg._admins) == 5
        assert tg.titles.get(str(groups[-1])) == "Group 19"
        assert tg.titles.get(str(groups[0])) is None
        # a title written again is the newest: kept while a flood goes on
        assert tg._parse(plain_update(99, groups[-5], "Group 15, renamed")) is not None
        extra = replace(ALICE, id=ALICE.id + 1)
        fake_tg.add_chat(-1009100000000, title="One more", administrators=[extra])
        assert tg._parse(plain_update(100, -1009100000000, "One more")) is not None
        assert tg.titles.get(str(groups[-5])) == "Group 15, renamed"
        assert len(tg.titles) == 5
    finally:
        await tg.close()
