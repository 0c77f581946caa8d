"""Telegram reactions decoded (bridge/telegram/reactions.py) and rendered for IRC
(bridge/render/reactions.py): only what was added, custom emoji by their fallback, the
anonymous chat named, and a line that stays one safe IRC line whatever the names hold."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bridge.config import BridgePair, RelayConfig
from bridge.model import (
    Author,
    ChatId,
    ChatRef,
    Message,
    MessageKind,
    Network,
    Reaction,
    UserId,
)
from bridge.pairs import Pairs
from bridge.payloads import IrcLines
from bridge.reactions import Reactions
from bridge.render.reactions import reaction_line
from bridge.telegram.inbound import decode
from bridge.telegram.plain import plain_text
from bridge.telegram.reactions import learn_custom_emoji, reaction_of
from storage.db import Database
from storage.message_map import RECORD_SQL
from storage.reactions import ReactedMessage, ReactionStore
from tests.support.configs import MINIMAL
from tests.support.handlers import FakeIrc, FakeOutbox
from tests.support.proc_harness import PYTHON, REPO
from tests.support.updates import ALICE, DATE, GROUP_CHAT, GROUP_ID, message_json

CUSTOM = {"type": "custom_emoji", "custom_emoji_id": "77"}


def emoji(e: str) -> dict[str, str]:
    return {"type": "emoji", "emoji": e}


def reaction_update(old: list[Any], new: list[Any], **who: Any) -> dict[str, Any]:
    event = {
        "chat": GROUP_CHAT,
        "message_id": 7,
        "date": DATE,
        "old_reaction": old,
        "new_reaction": new,
        **(who or {"user": ALICE}),
    }
    return {"update_id": 500, "message_reaction": event}


def decoded(raw: dict[str, Any], fallbacks: dict[str, str] | None = None) -> Any:
    update = decode(raw, None)
    assert update is not None
    return reaction_of(update, fallbacks or {})


def test_a_reaction_is_what_was_added() -> None:
    raw = reaction_update([emoji("👍")], [emoji("👍"), emoji("🎉"), {"type": "paid"}])
    assert plain_text(raw) is None  # not the plain shape: PTB's path
    msg = decoded(raw)
    assert msg.kind is MessageKind.REACTION
    assert msg.detail == Reaction("7", ("🎉", "⭐"))
    assert msg.source_id == f"tg:{GROUP_ID}:7:r500"
    assert (msg.chat.network, msg.chat.chat_id) == (Network.TELEGRAM, str(GROUP_ID))
    assert (msg.author.user_id, msg.author.display_name) == (UserId("1001"), "Alice Smith")


@pytest.mark.parametrize(
    ("old", "new"),
    [([emoji("👍")], []), ([emoji("👍"), emoji("🎉")], [emoji("🎉")]), ([CUSTOM], [CUSTOM])],
)
def test_a_removal_is_not_relayed(old: list[Any], new: list[Any]) -> None:
    assert decoded(reaction_update(old, new)) is None


def test_custom_emoji_by_their_fallback() -> None:
    text = "hot 🔥"
    entity = {"type": "custom_emoji", "offset": 4, "length": 2, "custom_emoji_id": "77"}
    learned: dict[str, str] = {}
    update = decode({"update_id": 1, "message": message_json(text, entities=[entity])}, None)
    assert update is not None
    learn_custom_emoji(update, learned)
    assert learned == {"77": "🔥"}
    other = {"type": "custom_emoji", "custom_emoji_id": "78"}
    msg = decoded(reaction_update([], [CUSTOM, other]), learned)
    assert msg.detail == Reaction("7", ("🔥", None))


def test_an_anonymous_reaction_names_the_chat() -> None:
    msg = decoded(reaction_update([], [emoji("👀")], actor_chat=GROUP_CHAT))
    assert msg.author.display_name == "Bridge group"
    assert msg.author.posted_as == ChatId(str(GROUP_ID))


@pytest.mark.parametrize(
    ("reactors", "emojis", "author", "quote", "line"),
    [
        (["Alice"], ["🎉"], "human", "the release", '* Alice reacted 🎉 to human: "the release"'),
        (["Alice", "Bob"], ["🎉", "👍"], "Carol", "hi", '* Alice, Bob reacted 🎉👍 to Carol: "hi"'),
        (["Alice"], [None], "Carol", "", "* Alice reacted a custom emoji to Carol's message"),
        (
            ["A", "B", "C", "D", "E", "F"],
            ["👍"],
            "C",
            "x",
            '* A, B, C, D, E and 1 other reacted 👍 to C: "x"',
        ),
        (
            ["Al"],
            ["👍", None, None],
            "Carol",
            "x",
            '* Al reacted 👍 and 2 custom emoji to Carol: "x"',
        ),
        (
            ["Al\r\nice"],
            ["🎉\r\nQUIT"],
            "bo\x00b",
            "line one\r\nPRIVMSG #x :hi \x02bold\x02 and a long tail of words after it",
            '* Al ice reacted 🎉 QUIT to bob: "line one PRIVMSG #x :hi bold and a long tail of…"',
        ),
    ],
)
def test_reaction_line(
    reactors: list[str], emojis: list[str | None], author: str, quote: str, line: str
) -> None:
    assert reaction_line(reactors, emojis, author, quote) == line


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        (
            "reaction_debounce_s = 3601",
            "relay.reaction_debounce_s: must be at most 3600 (an hour); allowed: 0 to 3600",
        ),
        ('reactions = "yes"', "relay.reactions: expected true or false, got str"),
    ],
)
async def test_check_config_names_the_reaction_keys(
    tmp_path: Path, keys: str, problem: str
) -> None:
    """As an operator runs it: exit 2 and one line naming the key."""
    path = tmp_path / "config.toml"
    path.write_text(f"{MINIMAL}\n[relay]\n{keys}\n", encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        *("-m", "bridge", "check-config", "--config", str(path)),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    assert (proc.returncode, out, err.decode()) == (2, b"", f"config error: {problem}\n")


async def test_the_store_finds_relayed_and_posted_messages_and_forgets_old_ones(
    tmp_path: Path,
) -> None:
    """A Telegram message the bridge relayed, or one it posted in any topic of the group
    (message_map), by group and message id; another group whose id starts the same is not
    the group; after a week the notes go."""
    now = [1_700_000_000.0]
    db = await Database.open(tmp_path / "reactions.sqlite3")
    try:
        store = ReactionStore(db, clock=lambda: now[0])
        await store.note("-100", "7", "-100/16", "Alice", "x" * 300)
        for chat, message_id in (("-100/16", "8"), ("-100", "9"), ("-1001/16", "10")):
            await db.write(RECORD_SQL, ("telegram", chat, message_id, "bob", "hi", now[0]))
        assert await store.lookup("-100", "7") == ReactedMessage(
            "-100/16", "Alice", "x" * 100, False
        )
        assert await store.lookup("-100", "8") == ReactedMessage("-100/16", "bob", "hi", True)
        assert await store.lookup("-100", "9") == ReactedMessage("-100", "bob", "hi", True)
        assert await store.lookup("-100", "10") is None
        now[0] += 8 * 86400
        await store.note("-100", "11", "-100", "Carol", "later")
        assert await store.lookup("-100", "7") is None
        assert await store.lookup("-100", "11") == ReactedMessage("-100", "Carol", "later", False)
    finally:
        await db.close()


def tg_message(text: str, message_id: int, user: int = 1, **fields: Any) -> Message:
    author = Author(Network.TELEGRAM, UserId(str(user)), f"P{user}")
    chat = ChatRef(Network.TELEGRAM, ChatId("-100"))
    return Message(
        **{"source_id": f"tg:-100:{message_id}", **fields}, author=author, chat=chat, text=text
    )


def reacted(message_id: int, user: int, *emojis: str) -> Message:
    return tg_message(
        "",
        message_id,
        user,
        source_id=f"tg:-100:{message_id}:r{user}{len(emojis)}",
        kind=MessageKind.REACTION,
        detail=Reaction(str(message_id), emojis),
    )


async def test_the_window_merges_from_the_first_reaction_on(tmp_path: Path) -> None:
    """Each reaction replaces the waiting line of its message's window, due when the window
    that the first one opened ends; a reaction after it opens a new window; a message that
    was not relayed, or was never seen, gets none."""
    now = [100.0]
    db = await Database.open(tmp_path / "reactions.sqlite3")
    try:
        outbox = FakeOutbox()
        config = RelayConfig(reaction_debounce_s=10.0)
        pairs = Pairs([BridgePair(-100, "#c")])
        reactions = Reactions(
            config, pairs, outbox, ReactionStore(db), FakeIrc(), clock=lambda: now[0]
        )
        await reactions.note(tg_message("lunch?", 7))
        await reactions.note(tg_message("// not for IRC", 8))
        await reactions.relay(reacted(7, 2, "👍"))
        now[0] += 4
        await reactions.relay(reacted(7, 3, "🎉", "👍"))
        await reactions.relay(reacted(8, 2, "👍"))
        await reactions.relay(reacted(9, 2, "👍"))
        now[0] += 6
        await reactions.relay(reacted(7, 4, "😂"))
        lines = [i.payload.lines for i in outbox.items if isinstance(i.payload, IrcLines)]
        assert lines == [
            ('* P2 reacted 👍 to P1: "lunch?"',),
            ('* P2, P3 reacted 👍🎉 to P1: "lunch?"',),
            ('* P4 reacted 😂 to P1: "lunch?"',),
        ]
        assert [(i.delay, i.chat) for i in outbox.items] == [
            (10.0, "#c"),
            (6.0, "#c"),
            (10.0, "#c"),
        ]
        first, merged, later = (i.replace_key for i in outbox.items)
        assert first == merged != later
    finally:
        await db.close()
