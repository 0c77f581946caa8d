"""The relay core folds names by the server's case rule (IrcSide.casefold), not RFC 1459's:
under `ascii` (ngircd, ircd-hybrid) the Telegram name `al[x]` is not the channel nick `al{x}`,
neither as the sender's name nor inside a reply's quote; under `rfc1459` (InspIRCd) it is."""

from __future__ import annotations

import pytest

from bridge.model import Message, ReplyRef
from handlers.registry import CommandRegistry
from storage.roster_store import RosterStore
from tests.support.handlers import TG_GROUP, handled, make_rig, tg_author

ZWSP = "\u200b"
AL = tg_author(1201, "al[x]", None)


@pytest.mark.parametrize(
    ("casemapping", "expected"),
    [
        ("ascii", '<al[x]> [re Carol: "al[x]: lunch?"] yes'),
        ("rfc1459", f'<a{ZWSP}l[x]> [re Carol: "a{ZWSP}l[x]: lunch?"] yes'),
    ],
)
async def test_the_anti_highlight_folds_as_the_server_does(
    store: RosterStore, registry: CommandRegistry, casemapping: str, expected: str
) -> None:
    rig = make_rig(store, registry)
    rig.irc.casemapping = casemapping
    rig.irc.members["#collab"] = ["al{x}"]
    quote = ReplyRef("Carol", "al[x]: lunch?", "5", by_bridge=False)
    await handled(rig.router, Message("tg:a:1", AL, TG_GROUP, "yes", reply_to=quote))
    assert rig.outbox.irc_lines("#collab") == [expected]
