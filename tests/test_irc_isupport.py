"""The server's own rules from its 005 lines: the case rule, PREFIX, CHANTYPES, NICKLEN,
CHANNELLEN and the JOIN targets, as each server family advertises them (observed on ngircd
26.1, InspIRCd 3.15 and ircd-hybrid 8.2), and the connector's parts following them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest
from irc.features import FeatureSet

from bridge.config import IrcConfig
from bridge.irc.caps import CapNegotiation
from bridge.irc.channels import ChannelState
from bridge.irc.delivery import CommandQueue
from bridge.irc.inbound import EventTable, Inbound, Inbox
from bridge.irc.isupport import ServerRules
from bridge.irc.joins import Joins, join_limits
from bridge.irc.link import Link
from bridge.pacing import TokenBucket
from tests.support.irc_wire import NICK, Wire, library_connection

NGIRCD = "CASEMAPPING=ascii PREFIX=(qaohv)~&@%+ CHANTYPES=#&+ CHANNELLEN=50 NICKLEN=30"
INSPIRCD = "CASEMAPPING=rfc1459 CHANNELLEN=64 CHANTYPES=# MAXTARGETS=20 NICKLEN=30 PREFIX=(ov)@+"
HYBRID = "CASEMAPPING=ascii NICKLEN=30 MAXTARGETS=4 CHANTYPES=# CHANNELLEN=50 PREFIX=(ohv)@%+"


def learned(tokens: str) -> ServerRules:
    features = FeatureSet()
    features.load([NICK, *tokens.split(), "are supported by this server"])
    rules = ServerRules()
    rules.learn(vars(features))
    return rules


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (NGIRCD, ("ascii", "~&@%+", "#&+", 30, 50, 10)),
        (INSPIRCD, ("rfc1459", "@+", "#", 30, 64, 20)),
        (HYBRID, ("ascii", "@%+", "#", 30, 50, 4)),
        # a server that names neither PREFIX nor CHANTYPES: RFC 1459's @+, every type
        (
            "TARGMAX=JOIN:3,PRIVMSG:4 CASEMAPPING=rfc1459-strict",
            ("rfc1459-strict", "@+", "#&+!", None, None, 3),
        ),
    ],
)
def test_each_servers_005_as_observed(tokens: str, expected: tuple[object, ...]) -> None:
    rules = learned(tokens)
    features = FeatureSet()
    features.load([NICK, *tokens.split(), "are supported"])
    targets, _ = join_limits(vars(features))
    got = (
        rules.case.mapping,
        "".join(rules.prefix),
        rules.chantypes,
        rules.nicklen,
        rules.channellen,
        targets,
    )
    assert got == expected


def test_before_005_the_rules_are_rfc1459s() -> None:
    rules = ServerRules()
    assert (rules.case.mapping, rules.fold("[A]"), rules.nicklen, rules.channellen) == (
        "rfc1459",
        "{a}",
        None,
        None,
    )
    assert rules.is_channel("#c") and rules.is_channel("&c") and not rules.is_channel("bob")


def test_names_with_more_status_modes_than_op_and_voice_parse() -> None:
    # InspIRCd with customprefix: a founder mode shown as "*", above owner and admin
    rules = learned("PREFIX=(Fqaohv)*~&@%+")
    state = ChannelState(rules)
    state.add_names("#c", "*~&@carol ~dave &erin %frank +gina @%+hank ivan")
    assert state.nicks("#c") == ["carol", "dave", "erin", "frank", "gina", "hank", "ivan"]
    assert rules.split_status("*@carol") == ("*@", "carol")
    assert rules.split_status("%frank") == ("%", "frank")


@pytest.mark.parametrize(("mapping", "members"), [("ascii", 2), ("rfc1459", 1)])
def test_bracket_nicks_are_one_or_two_as_the_server_says(mapping: str, members: int) -> None:
    state = ChannelState(learned(f"CASEMAPPING={mapping}"))
    state.add_names("#c", "al[x] al{x}")
    assert len(state.nicks("#c")) == members
    assert ("al[x]" in state.folded_nicks("#C")) is (mapping == "ascii")


@contextlib.asynccontextmanager
async def _connector_parts(channels: list[str]) -> AsyncIterator[tuple[Wire, Joins, ChannelState]]:
    """ServerRules, Joins and Inbound wired as the connector wires them, on a library
    connection fed raw lines."""
    config = IrcConfig("h", NICK)
    rules = ServerRules()
    link, state = Link(NICK, rules.fold), ChannelState(rules)
    queue = CommandQueue(TokenBucket(100, 1000.0), link.usable)
    part = Joins(config, channels, link, state, queue)
    table = EventTable()
    for handlers in (
        rules.handlers(),
        part.handlers(),
        Inbound(channels, state, link, CapNegotiation(config), Inbox()).handlers(),
    ):
        table.add(handlers)
    wire = await library_connection(table)
    link.conn, link.registered = wire.conn, True
    sender = asyncio.create_task(queue.run())
    try:
        yield wire, part, state
    finally:
        part.reset()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def test_the_connector_follows_the_005_it_reads(caplog: pytest.LogCaptureFixture) -> None:
    long_name = "#" + "x" * 60
    async with _connector_parts(["#Chan[1]", "#b", "#c", "#d", "#e", long_name]) as (
        wire,
        joins,
        state,
    ):
        wire.feed(f":srv 005 {NICK} {HYBRID} :are supported by this server")
        with caplog.at_level(logging.ERROR, "bridge.irc.joins"):
            joins.join_all()
            sent = await wire.wait_sent(2)
        # MAXTARGETS=4: four channels a line; the one over CHANNELLEN=50 is never joined
        assert sent == ["JOIN #Chan[1],#b,#c,#d", "JOIN #e"]
        assert joins.status()[long_name] == (
            "not joined: the name is longer than the server's CHANNELLEN (50 bytes)"
        )
        assert [r.getMessage() for r in caplog.records] == [
            f"IRC: not joining {long_name}: the name is longer than the server's CHANNELLEN"
            " (50 bytes); set another irc_channel"
        ]
        # ascii: the server's #chan[1] is the configured #Chan[1]; #chan{1} is another channel
        wire.feed(f":{NICK}!u@h JOIN #chan[1]", f":srv 353 {NICK} = #chan[1] :%al[x] al{{x}}")
        assert state.is_joined("#CHAN[1]") and not state.is_joined("#chan{1}")
        assert state.nicks("#chan[1]") == ["al[x]", "al{x}"]
        assert joins.status()["#Chan[1]"] == "joined"
