"""Who holds a nick now: the line's tag, what the bot sees, else one paced WHOIS that must
answer for the same connection (issue 9, case 1)."""

from __future__ import annotations

import asyncio

import pytest

from bridge.config import IrcConfig
from bridge.irc import accounts as accounts_module
from bridge.irc.accounts import Accounts, Holder, LookupFailed
from bridge.irc.caps import CapNegotiation
from bridge.irc.channels import ChannelState
from bridge.irc.inbound import EventTable
from bridge.irc.lanes import LineBudget
from bridge.irc.link import Link
from tests.support.handlers import irc_author
from tests.support.irc_wire import NICK, Wire, library_connection

BOB = irc_author("bob", account=None, user="~b", host="b.host")  # bob!~b@b.host, as read


async def _accounts(*caps: str) -> tuple[Accounts, ChannelState, Wire]:
    link = Link(NICK)
    state = ChannelState()
    negotiation = CapNegotiation(IrcConfig("h", NICK))
    accounts = Accounts(link, state, negotiation, LineBudget(100, 1000.0))
    table = EventTable()
    table.add(negotiation.handlers())
    table.add(accounts.handlers())
    wire = await library_connection(table)
    link.conn = wire.conn
    link.registered = True
    if caps:
        wire.feed(f":srv CAP * LS :{' '.join(caps)}", f":srv CAP {NICK} ACK :{' '.join(caps)}")
        wire.sent.clear()
    return accounts, state, wire


def _whois(nick: str, user: str, host: str, account: str | None) -> list[str]:
    """The server's answer to WHOIS nick (311, maybe 330, 318)."""
    lines = [f":srv 311 {NICK} {nick} {user} {host} * :Real Name"]
    if account:
        lines.append(f":srv 330 {NICK} {nick} {account} :is logged in as")
    return [*lines, f":srv 318 {NICK} {nick} :End of /WHOIS list."]


async def test_what_the_bot_sees_needs_no_whois() -> None:
    accounts, state, wire = await _accounts()
    state.add("#c", "bob")
    state.note_mask("bob!~b@b.host")
    state.set_account("bob", "bobacct")
    known = await accounts.identify(BOB)
    assert (known.account, known.user_id) == ("bobacct", "account:bobacct")
    state.set_account("bob", "*")  # account-notify: logged out
    assert await accounts.identify(BOB) == BOB
    assert wire.sent == []


async def test_with_account_tag_an_untagged_line_is_from_someone_logged_out() -> None:
    accounts, _, wire = await _accounts("account-tag")
    assert await accounts.identify(BOB) == BOB
    assert wire.sent == []


async def test_a_nick_out_of_sight_is_asked_and_must_answer_for_the_same_connection() -> None:
    accounts, state, wire = await _accounts()
    first = asyncio.create_task(accounts.identify(BOB))
    second = asyncio.create_task(accounts.identify(BOB))
    await wire.wait_sent(1)
    wire.feed(*_whois("bob", "~b", "b.host", "bobacct"))
    assert (await first).account == (await second).account == "bobacct"
    assert wire.sent == ["WHOIS bob"]  # one question for both askers
    assert not state.knows_account("bob")  # not kept: bob may change hands unseen
    # The nick changed hands between the command and the answer: nothing is granted.
    asked = asyncio.create_task(accounts.identify(BOB))
    await wire.wait_sent(2)
    wire.feed(*_whois("bob", "~mod", "mod.host", "modacct"))
    assert await asked == BOB


async def test_nobody_holding_the_nick_and_no_answer_are_told_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    accounts, _, wire = await _accounts()
    gone = asyncio.create_task(accounts.lookup("carol"))
    await wire.wait_sent(1)
    wire.feed(f":srv 401 {NICK} carol :No such nick", f":srv 318 {NICK} carol :End")
    assert await gone is None
    monkeypatch.setattr(accounts_module, "ANSWER_TIMEOUT", 0.05)
    with pytest.raises(LookupFailed):
        await accounts.lookup("dave")
    lost = asyncio.create_task(accounts.lookup("erin"))
    await wire.wait_sent(3)
    accounts.fail_pending()  # the connection is lost
    with pytest.raises(LookupFailed):
        await asyncio.wait_for(lost, 1)
    assert wire.sent == ["WHOIS carol", "WHOIS dave", "WHOIS erin"]


async def test_a_failed_lookup_grants_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    accounts, _, _ = await _accounts()
    monkeypatch.setattr(accounts_module, "ANSWER_TIMEOUT", 0.05)
    assert await accounts.identify(BOB) == BOB


async def test_whois_of_a_nick_the_bot_sees_is_kept_with_its_mask() -> None:
    accounts, state, wire = await _accounts()
    state.add("#c", "bob")  # from NAMES: neither mask nor account known yet
    lookup = asyncio.create_task(accounts.lookup("bob"))
    await wire.wait_sent(1)
    wire.feed(*_whois("bob", "~b", "b.host", "bobacct"))
    assert await lookup == Holder("bob!~b@b.host", "bobacct")
    assert (state.mask_of("BOB"), state.account("bob")) == ("bob!~b@b.host", "bobacct")
    assert (await accounts.identify(BOB)).account == "bobacct"
    assert wire.sent == ["WHOIS bob"]
