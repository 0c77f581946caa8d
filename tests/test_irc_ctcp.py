"""A PRIVMSG or NOTICE is a CTCP only when it starts with \\x01 (bridge/irc/ctcp.py): the
library's own reading, which splits at every \\x01, never reaches the parts; every other
line still comes as the library reads it. Lines are fed through the library's parser."""

from __future__ import annotations

from typing import Any

from bridge.irc.ctcp import WholeMessages
from tests.support.irc_wire import NICK, library_connection


class Seen:
    """The events the parts are given: (type, target, arguments, tags)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str | None, list[str], list[Any]]] = []

    def __call__(self, conn: Any, event: Any) -> None:
        if event.type != "all_raw_messages":
            self.events.append((event.type, event.target, list(event.arguments), event.tags))


async def test_text_with_a_ctcp_inside_is_one_message_and_ctcps_stay_ctcps() -> None:
    seen = Seen()
    wire = await library_connection(WholeMessages(seen))
    wire.feed(
        ":bob!b@h PRIVMSG #bridge :before \x01PING 1\x01 after",
        ":bob!b@h PRIVMSG #bridge :\x01ACTION waves\x01",
        f":bob!b@h PRIVMSG {NICK} :\x01VERSION\x01",
        ":bob!b@h NOTICE #bridge :a \x01notice\x01 with a tail",
        f":bob!b@h NOTICE {NICK} :\x01PING 12\x01",
        "@account=bob;msgid=a\\sb :bob!b@h PRIVMSG #bridge :tagged",
    )
    assert seen.events == [
        ("pubmsg", "#bridge", ["before \x01PING 1\x01 after"], []),
        ("ctcp", "#bridge", ["ACTION", "waves"], []),
        ("action", "#bridge", ["waves"], []),
        ("ctcp", NICK, ["VERSION"], []),
        ("pubnotice", "#bridge", ["a \x01notice\x01 with a tail"], []),
        ("ctcpreply", NICK, ["PING", "12"], []),
        (
            "pubmsg",
            "#bridge",
            ["tagged"],
            [{"key": "account", "value": "bob"}, {"key": "msgid", "value": "a b"}],
        ),
    ]


async def test_other_lines_come_as_the_library_reads_them() -> None:
    seen = Seen()
    wire = await library_connection(WholeMessages(seen))
    wire.feed(
        ":bob!b@h PRIVMSG #bridge :\x01ACTION waves\x01",
        ":bob!b@h JOIN #bridge",
        ":bob!b@h NICK bobby",
        ":srv 001 tgbridge :Welcome",
    )
    assert [event[0] for event in seen.events] == ["ctcp", "action", "join", "nick", "welcome"]
    assert seen.events[2][1] == "#bridge"
    assert seen.events[3][1] == "bobby"
