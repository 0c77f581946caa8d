"""One table of identity cases, run against the real `Accounts` (bridge/irc/accounts.py, on the
wire) and the tests' `FakeIrc` (tests/support/handlers.py), so the fake the handler tests
trust cannot drift from the rule the bridge applies.

Each row: the author line as read (bob!~b@b.host, maybe with an account tag), what the bot saw
of bob's connection (account-notify, extended-join), what a WHOIS would say → the account
believed, and whether a WHOIS had to be asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from bridge.config import IrcConfig
from bridge.identity import irc_key
from bridge.irc import accounts as accounts_module
from bridge.irc.accounts import Accounts, Holder
from bridge.irc.caps import CapNegotiation
from bridge.irc.channels import ChannelState
from bridge.irc.inbound import EventTable
from bridge.irc.lanes import LineBudget
from bridge.irc.link import Link
from bridge.model import Author
from tests.support.handlers import FakeIrc, irc_author
from tests.support.irc_wire import NICK, library_connection

BOB_MASK = "bob!~b@b.host"
OTHER_MASK = "bob!~mod@mod.host"  # the nick held by another connection


@dataclass(frozen=True)
class Case:
    tag: str | None
    """The account tag on the line as read."""
    account_tag: bool
    """account-tag negotiated."""
    saw: Holder | None
    """What the bot saw of the nick: its connection and account (None: not logged in)."""
    whois: Holder | None
    """What a WHOIS says (None: nobody holds the nick); only read when asked."""
    believed: str | None
    asked: bool


TABLE = {
    "the line's tag stands": Case("bobacct", False, None, None, "bobacct", False),
    "with account-tag, untagged is logged out": Case(None, True, None, None, None, False),
    "seen logged in": Case(None, False, Holder(BOB_MASK, "bobacct"), None, "bobacct", False),
    "seen logged out": Case(None, False, Holder(BOB_MASK, None), None, None, False),
    "seen another connection, WHOIS": Case(
        None, False, Holder(OTHER_MASK, "modacct"), Holder(BOB_MASK, "bobacct"), "bobacct", True
    ),
    "unseen, WHOIS same connection": Case(
        None, False, None, Holder(BOB_MASK, "bobacct"), "bobacct", True
    ),
    "unseen, WHOIS another connection": Case(
        None, False, None, Holder(OTHER_MASK, "modacct"), None, True
    ),
    "unseen, WHOIS not logged in": Case(None, False, None, Holder(BOB_MASK, None), None, True),
    "unseen, nobody holds the nick": Case(None, False, None, None, None, True),
}


def author(case: Case) -> Author:
    return irc_author("bob", account=case.tag, user="~b", host="b.host")


async def with_fake_irc(case: Case) -> tuple[Author, bool]:
    irc = FakeIrc(account_tag=case.account_tag)
    if case.saw is not None:
        irc.accounts["bob"] = case.saw.account
        irc.masks["bob"] = case.saw.mask
    if case.whois is not None:
        irc.services["bob"] = case.whois.account
        irc.whois_masks["bob"] = case.whois.mask
    believed = await irc.identify(author(case))
    return believed, irc.whois == ["bob"]


def whois_answer(holder: Holder | None) -> list[str]:
    if holder is None:
        return [f":srv 401 {NICK} bob :No such nick", f":srv 318 {NICK} bob :End"]
    nick, _, rest = holder.mask.partition("!")
    user, _, host = rest.partition("@")
    lines = [f":srv 311 {NICK} {nick} {user} {host} * :Real Name"]
    if holder.account is not None:
        lines.append(f":srv 330 {NICK} {nick} {holder.account} :is logged in as")
    return [*lines, f":srv 318 {NICK} {nick} :End of /WHOIS list."]


async def with_accounts(case: Case) -> tuple[Author, bool]:
    link, state = Link(NICK), ChannelState()
    negotiation = CapNegotiation(IrcConfig("h", NICK))
    accounts = Accounts(link, state, negotiation, LineBudget(100, 1000.0))
    table = EventTable()
    table.add(negotiation.handlers())
    table.add(accounts.handlers())
    wire = await library_connection(table)
    link.conn, link.registered = wire.conn, True
    if case.account_tag:
        wire.feed(":srv CAP * LS :account-tag", f":srv CAP {NICK} ACK :account-tag")
        wire.sent.clear()
    if case.saw is not None:
        state.add("#c", "bob")
        state.note_mask(case.saw.mask)
        state.set_account("bob", case.saw.account or "*")  # "*": account-notify's logged out
    asking = asyncio.create_task(accounts.identify(author(case)))
    if case.asked:
        await wire.wait_sent(1)
        wire.feed(*whois_answer(case.whois))
    believed = await asyncio.wait_for(asking, 2)
    return believed, wire.sent == ["WHOIS bob"]


@pytest.mark.parametrize(
    "implementation", [with_accounts, with_fake_irc], ids=["Accounts", "FakeIrc"]
)
@pytest.mark.parametrize("case", TABLE.values(), ids=TABLE.keys())
async def test_identity(
    case: Case,
    implementation: Callable[[Case], Awaitable[tuple[Author, bool]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(accounts_module, "ANSWER_TIMEOUT", 0.5)  # bounds a WHOIS asked wrongly
    believed, asked = await implementation(case)
    assert (believed.account, asked) == (case.believed, case.asked)
    read = author(case)
    expected = irc_key(case.believed, BOB_MASK) if case.believed else read.user_id
    assert believed.user_id == expected
