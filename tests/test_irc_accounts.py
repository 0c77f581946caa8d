"""Services accounts: known ones answered at once, others asked once with WHOIS."""

from __future__ import annotations

import asyncio

from bridge.irc.accounts import Accounts
from bridge.irc.channels import ChannelState
from bridge.irc.inbound import EventTable
from bridge.irc.link import Link
from tests.support.irc_wire import NICK, Wire, library_connection


async def _accounts() -> tuple[Accounts, ChannelState, Wire]:
    link = Link(NICK)
    state = ChannelState()
    accounts = Accounts(link, state)
    table = EventTable()
    table.add(accounts.handlers())
    wire = await library_connection(table)
    link.conn = wire.conn
    return accounts, state, wire


async def test_a_known_account_needs_no_whois() -> None:
    accounts, state, wire = await _accounts()
    state.set_account("Bob", "bobacct")
    state.set_account("carol", "*")  # known to be logged out
    assert await accounts.resolve("bob") == "bobacct"
    assert await accounts.resolve("carol") is None
    assert accounts.account_of("BOB") == "bobacct" and accounts.account_of("dave") is None
    assert wire.sent == []


async def test_concurrent_lookups_share_one_whois_and_fill_the_cache() -> None:
    accounts, state, wire = await _accounts()
    first = asyncio.create_task(accounts.resolve("bob"))
    second = asyncio.create_task(accounts.resolve("Bob"))
    await wire.wait_sent(1)
    wire.feed(f":srv 330 {NICK} bob bobacct :is logged in as", f":srv 318 {NICK} bob :End")
    assert await first == await second == "bobacct"
    assert wire.sent == ["WHOIS bob"]
    assert accounts.account_of("bob") == "bobacct"
    dave = asyncio.create_task(accounts.resolve("dave"))
    await wire.wait_sent(2)
    wire.feed(f":srv 318 {NICK} dave :End of WHOIS")  # no 330: not logged in
    assert await dave is None and state.knows_account("dave")


async def test_no_answer_is_none_after_the_timeout_or_the_connection() -> None:
    accounts, state, wire = await _accounts()
    assert await accounts.resolve("bob", timeout=0.05) is None
    assert not state.knows_account("bob")
    lookup = asyncio.create_task(accounts.resolve("carol"))
    await wire.wait_sent(2)
    accounts.fail_pending()  # the connection is lost
    assert await asyncio.wait_for(lookup, 1) is None
    assert wire.sent == ["WHOIS bob", "WHOIS carol"]
