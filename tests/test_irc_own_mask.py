"""The bot's own mask (welcome, own JOIN, 396, CHGHOST, NICK) and the line budget it leaves.

Lines are fed through the irc library's parser, so every form is covered (396 with a host or
user@host, our own CHGHOST or a neighbour's); test_e2e_irc_gaps covers CHGHOST on the wire.
"""

from __future__ import annotations

from bridge.irc.inbound import EventTable
from bridge.irc.link import Link
from bridge.irc.own_mask import OwnMask
from tests.support.irc_wire import NICK, USERNAME, Wire, library_connection


async def _own_mask() -> tuple[OwnMask, Wire]:
    link = Link(NICK)
    own = OwnMask(USERNAME, lambda: link.nick)
    table = EventTable()
    table.add(own.handlers())
    wire = await library_connection(table)
    link.conn = wire.conn
    return own, wire


async def test_own_mask_follows_welcome_396_chghost_nick_and_join() -> None:
    own, wire = await _own_mask()
    wire.feed(f":srv 001 {NICK} :Welcome to the test network tgbridge!~tgircbrid@127.0.0.1")
    assert own.mask == "tgbridge!~tgircbrid@127.0.0.1"
    # ":tgbridge!~tgircbrid@127.0.0.1 PRIVMSG #chan :" and CR LF take 48 of 512 bytes.
    assert own.budget("#chan") == 464
    assert own.budget("#chan", action=True) == 464 - len("\x01ACTION \x01")

    wire.feed(f":srv 396 {NICK} {'a' * 40} :is now your displayed host")
    assert own.mask == "tgbridge!~tgircbrid@" + "a" * 40
    assert own.budget("#chan") == 464 - (40 - len("127.0.0.1"))

    wire.feed(f":srv 396 {NICK} vu@v.host :is now your displayed host")
    assert own.mask == "tgbridge!vu@v.host"

    wire.feed(":tgbridge!vu@v.host CHGHOST newuser new.host.example")
    assert own.mask == "tgbridge!newuser@new.host.example"
    wire.feed(f":bob!b@bob.host CHGHOST x {'y' * 60}")  # a neighbour's
    assert own.mask == "tgbridge!newuser@new.host.example"

    wire.feed(":tgbridge!newuser@new.host.example NICK tgbridge_")  # the library follows
    assert own.mask == "tgbridge_!newuser@new.host.example"
    wire.feed(":bob!b@bob.host NICK bob2")
    assert own.mask == "tgbridge_!newuser@new.host.example"

    wire.feed(":tgbridge_!~t@relayed.example JOIN #chan")  # exactly as others see us
    assert own.mask == "tgbridge_!~t@relayed.example"
    wire.feed(":bob2!b@bob.host JOIN #chan")
    assert own.mask == "tgbridge_!~t@relayed.example"


async def test_until_the_mask_is_known_the_budget_assumes_a_long_one() -> None:
    own, wire = await _own_mask()
    wire.feed(f":srv 001 {NICK} :Welcome to the test network")  # no mask in it
    assert own.mask is None
    guess = f"{NICK}_!~{USERNAME[:10]}@{'h' * 63}"
    assert own.budget("#chan") == 512 - len(f":{guess} PRIVMSG #chan :\r\n")
    wire.feed(f":srv 396 {NICK} cloak.example :is now your displayed host")
    assert own.mask == f"{NICK}_!~{USERNAME[:10]}@cloak.example"  # the rest stays long


async def test_linelen_from_isupport_is_used_only_when_longer() -> None:
    own, wire = await _own_mask()
    budget = own.budget("#chan")
    wire.feed(f":srv 005 {NICK} LINELEN=1024 :are supported by this server")
    assert own.linelen == 1024
    assert own.budget("#chan") == budget + 512
    short, wire = await _own_mask()
    wire.feed(f":srv 005 {NICK} LINELEN=400 :are supported by this server")
    assert short.linelen == 512
