"""A reaction's emoji cannot carry a bidi control or a sentence into the IRC line: the custom
emoji fallbacks are learned from message text anyone in the group writes."""

from __future__ import annotations

from bridge.model import Reaction
from bridge.render.reactions import reaction_line
from bridge.telegram.inbound import decode
from bridge.telegram.reactions import learn_custom_emoji, reaction_of
from tests.support.updates import ALICE, DATE, GROUP_CHAT, message_json

RLO = "\u202e"


def learned_from(text: str, custom_id: str = "77") -> dict[str, str]:
    entity = {"type": "custom_emoji", "offset": 0, "length": len(text.encode("utf-16-le")) // 2}
    raw = {
        "update_id": 1,
        "message": message_json(text, entities=[{**entity, "custom_emoji_id": custom_id}]),
    }
    update = decode(raw, None)
    assert update is not None
    learned: dict[str, str] = {}
    learn_custom_emoji(update, learned)
    return learned


def test_a_fallback_is_learned_without_bidi_controls_and_only_emoji_short() -> None:
    assert learned_from(f"{RLO}🔥") == {"77": "🔥"}
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # ZWJs kept
    assert learned_from(family) == {"77": family}
    # a sentence under the entity is not an emoji: the reaction shows "a custom emoji"
    assert learned_from("everyone: the admins moved to #elsewhere") == {}
    fallbacks = learned_from("everyone: the admins moved to #elsewhere")
    event = {
        "chat": GROUP_CHAT,
        "message_id": 7,
        "date": DATE,
        "old_reaction": [],
        "new_reaction": [{"type": "custom_emoji", "custom_emoji_id": "77"}],
        "user": ALICE,
    }
    update = decode({"update_id": 2, "message_reaction": event}, None)
    assert update is not None
    msg = reaction_of(update, fallbacks)
    assert msg is not None and msg.detail == Reaction("7", (None,))


def test_an_emoji_with_a_bidi_control_cannot_turn_the_line_around() -> None:
    # an RLO in the emoji would show "to Bob: ..." reversed, naming another message
    assert reaction_line(["Alice"], [f"{RLO}🔥", "👍\u2066"], "Bob", "hi") == (
        '* Alice reacted 🔥👍 to Bob: "hi"'
    )
