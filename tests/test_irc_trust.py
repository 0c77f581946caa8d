"""Issue 9, cases 1, 2 and 15, fast: what the bot believes about an IRC nick (only what it
sees now), the order lines share the server's budget in, and what a stranger's private
words cost. End to end on real servers: test_e2e_identity.py and test_e2e_budgets.py."""

from __future__ import annotations

import asyncio

from bridge.commands import PRIVATE_ANSWERS_PER_MINUTE
from bridge.config import IrcConfig
from bridge.irc.caps import CapNegotiation
from bridge.irc.channels import ChannelState
from bridge.irc.inbound import EventTable, Inbound, Inbox
from bridge.irc.lanes import RELAY_RUN, Lane, LineBudget
from bridge.irc.link import Link
from bridge.model import ChatId, ChatRef, Message, MessageKind, Network
from bridge.outbox import NewItem
from bridge.payloads import IrcLines, decode_payload, encode_payload
from handlers.registry import CommandRegistry
from storage.roster_store import RosterStore
from tests.support.handlers import handled, irc_author, make_rig, said
from tests.support.irc_wire import NICK, library_connection

# ------------------------------------------------------- what the bot sees


def test_an_account_is_believed_only_while_the_bot_sees_the_nick() -> None:
    state = ChannelState()
    state.add_names("#a", "mod")
    state.add_names("#b", "mod")
    state.note_mask("mod!~m@m.host")
    state.set_account("mod", "Mod")
    state.remove("#a", "mod")  # parted one channel: still in sight in #b
    assert (state.account("MOD"), state.mask_of("mod")) == ("Mod", "mod!~m@m.host")
    state.remove("#b", "mod")  # parted (or was kicked from) the last one
    assert not state.knows_account("mod") and state.mask_of("mod") is None
    state.set_account("mod", "Mod")  # a WHOIS answer or ACCOUNT about a nick out of sight
    state.note_mask("mod!~m@m.host")
    assert not state.knows_account("mod") and state.mask_of("mod") is None


def test_a_nick_change_moves_what_is_known_and_our_own_part_forgets_it() -> None:
    state = ChannelState()
    state.add_names("#a", "mod other")
    state.note_mask("mod!~m@m.host")
    state.set_account("mod", "Mod")
    state.set_account("other", "*")
    state.rename("mod", "mod_away")  # the same connection under a new nick
    assert (state.account("mod_away"), state.mask_of("mod_away")) == ("Mod", "mod_away!~m@m.host")
    assert not state.knows_account("mod") and state.mask_of("mod") is None
    state.quit("mod_away")
    assert not state.knows_account("mod_away")
    assert state.knows_account("other")
    state.left("#a")  # the bot left: it sees nobody there any more
    assert not state.knows_account("other")


async def _read(caps: str, *lines: str) -> tuple[list[Message], list[Message]]:
    """Feed lines to Inbound after CAP ACK of caps; what the channel inbox and the private
    one handed the router, in the order the router got them."""
    link = Link(NICK)
    state = ChannelState()
    negotiation = CapNegotiation(IrcConfig("h", NICK))
    inbox = Inbox()
    private = Inbox(behind=inbox)
    table = EventTable()
    table.add(negotiation.handlers())
    table.add(Inbound(["#bridge"], state, link, negotiation, inbox, private).handlers())
    wire = await library_connection(table)
    link.conn = wire.conn
    wire.feed(f":srv CAP * LS :{caps}", f":srv CAP {NICK} ACK :{caps}", *lines)
    got: dict[bool, list[Message]] = {False: [], True: []}

    async def take(message: Message) -> None:
        got[message.chat.is_private].append(message)

    readers = [asyncio.create_task(box.run(take)) for box in (private, inbox)]
    try:
        await private.drain(2)
        await inbox.drain(2)
    finally:
        for reader in readers:
            reader.cancel()
    return got[False], got[True]


async def test_with_account_tag_an_untagged_line_is_from_someone_logged_out() -> None:
    _, (untagged, tagged) = await _read(
        "account-tag extended-join message-tags",
        ":mod!~m@m.host JOIN #bridge Mod :Moderator",  # seen logged in as Mod
        f":mod!~m@m.host PRIVMSG {NICK} :export",  # no tag: logged out since
        f"@account=Mod :mod!~m@m.host PRIVMSG {NICK} :members",
    )
    assert (untagged.author.account, untagged.author.user_id) == (None, "mask:mod!~m@m.host")
    assert (tagged.author.account, tagged.author.user_id) == ("Mod", "account:Mod")
    assert untagged.chat == ChatRef(Network.IRC, ChatId("mod"), is_private=True)


async def test_without_account_tag_a_nick_that_left_sight_has_no_account() -> None:
    channel, (in_sight, out_of_sight) = await _read(
        "extended-join",
        ":mod!~m@m.host JOIN #bridge Mod :Moderator",
        f":mod!~m@m.host PRIVMSG {NICK} :members",  # in sight: Mod
        ":mod!~m@m.host PART #bridge :bye",
        f":mod!~x@elsewhere PRIVMSG {NICK} :export",  # whoever holds "mod" now
    )
    assert in_sight.author.account == "Mod"
    assert out_of_sight.author.account is None
    assert [m.kind.value for m in channel] == ["join", "part"]  # the channel's own inbox


async def test_a_private_line_waits_for_what_was_said_before_it_and_holds_up_nothing() -> None:
    inbox = Inbox()
    private = Inbox(behind=inbox)
    bob = irc_author("bob", account=None)
    to_bot = ChatRef(Network.IRC, ChatId("bob"), is_private=True)
    inbox.put(said(bob, "!join"))
    private.put(said(bob, "interests python", chat=to_bot))  # read after the !join
    inbox.put(said(bob, "said later"))
    channel_line_stored, lookup_answered = asyncio.Event(), asyncio.Event()
    handled: list[str] = []

    async def router(message: Message) -> None:
        if message.text == "!join":
            await channel_line_stored.wait()
        if message.text == "interests python":
            await lookup_answered.wait()  # a WHOIS, paced
        handled.append(message.text)

    readers = [asyncio.create_task(box.run(router)) for box in (private, inbox)]
    try:
        await asyncio.sleep(0.01)
        assert handled == []  # the private line does not overtake the channel's !join
        channel_line_stored.set()
        await asyncio.wait_for(inbox.drain(2), 2)
        assert handled == ["!join", "said later"]  # the channel does not wait for the WHOIS
        lookup_answered.set()
        await asyncio.wait_for(private.drain(2), 2)
        assert handled == ["!join", "said later", "interests python"]
    finally:
        for reader in readers:
            reader.cancel()


# ----------------------------------------------------------- the line budget


async def test_relayed_lines_go_before_lookups_and_lookups_before_private_answers() -> None:
    budget = LineBudget(1, 20.0)
    await budget.take()  # empty: everyone below waits for the next token
    served: list[str] = []

    async def take(name: str, lane: Lane, cost: int = 1) -> None:
        await budget.take_for(lane, cost)
        served.append(name)

    tasks = []
    for name, lane in (("answer", Lane.PRIVATE), ("whois", Lane.LOOKUP), ("relay", Lane.RELAY)):
        tasks.append(asyncio.create_task(take(name, lane, 2 if lane is Lane.LOOKUP else 1)))
        await asyncio.sleep(0)  # queued in this order
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert served == ["relay", "whois", "answer"]


async def test_a_long_relay_backlog_slows_answers_but_does_not_starve_them() -> None:
    budget = LineBudget(1, 200.0)
    await budget.take()
    served: list[str] = []

    async def take(name: str, lane: Lane) -> None:
        await budget.take_for(lane)
        served.append(name)

    tasks = [asyncio.create_task(take("answer", Lane.PRIVATE))]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(take(f"r{n}", Lane.RELAY)) for n in range(RELAY_RUN + 3)]
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert served == [
        *(f"r{n}" for n in range(RELAY_RUN)),
        "answer",
        *(f"r{n}" for n in range(RELAY_RUN, RELAY_RUN + 3)),
    ]


async def test_answers_leave_the_relay_its_burst() -> None:
    budget = LineBudget(3, 20.0)
    await budget.take_for(Lane.PRIVATE)  # a full bucket: one answer goes at once
    answer = asyncio.create_task(budget.take_for(Lane.PRIVATE))
    await asyncio.sleep(0)
    # Two tokens left, both the relay's: the second answer waits for a full bucket again.
    await asyncio.wait_for(budget.take(), 0.01)
    await asyncio.wait_for(budget.take(), 0.01)
    assert not answer.done()
    await asyncio.wait_for(answer, 5)


# --------------------------------------------------- what a stranger may cost


def test_a_private_irc_item_names_its_recipient_and_survives_a_restart() -> None:
    lines = IrcLines(("one", "two"), recipient="bob!~b@b.host")
    assert decode_payload(encode_payload(lines)) == lines
    assert decode_payload('{"lines": ["old row"]}') == IrcLines(("old row",))


async def test_a_command_counts_before_it_costs_a_whois(
    store: RosterStore, registry: CommandRegistry
) -> None:
    rig = make_rig(store, registry, roster="commands_per_minute = 2")
    stranger = irc_author("clone", account=None, user="~c", host="c.host")
    private = ChatRef(Network.IRC, ChatId("clone"), is_private=True)
    for n in range(5):
        await handled(rig.router, said(stranger, "members", chat=private, n=n))
    assert rig.irc.whois == ["clone", "clone"]  # the third and later: no lookup at all
    assert rig.outbox.irc_lines("clone")[-1] == "Slow down, please: at most 2 commands a minute."
    assert len(rig.outbox.items) == 3  # two answers and one warning, then silence


async def test_private_chatter_on_irc_gets_no_answer_and_no_lookup(
    store: RosterStore, registry: CommandRegistry
) -> None:
    rig = make_rig(store, registry)
    stranger = irc_author("clone", account=None, user="~c", host="c.host")
    private = ChatRef(Network.IRC, ChatId("clone"), is_private=True)
    await handled(rig.router, said(stranger, "hello there", chat=private))
    assert (rig.outbox.items, rig.irc.whois) == ([], [])


async def test_private_answers_are_for_the_asker_and_capped(
    store: RosterStore, registry: CommandRegistry
) -> None:
    rig = make_rig(store, registry, roster="commands_per_minute = 1000")
    bob = irc_author("bob", account="bob", user="~b", host="b.host")
    private = ChatRef(Network.IRC, ChatId("bob"), is_private=True)
    for n in range(PRIVATE_ANSWERS_PER_MINUTE + 5):
        await handled(rig.router, said(bob, "members", chat=private, n=n))
    answers = [i for i in rig.outbox.items if i.chat == "bob"]
    assert len(answers) == PRIVATE_ANSWERS_PER_MINUTE  # then dropped, though allowed to ask
    assert {i.payload.recipient for i in answers if isinstance(i.payload, IrcLines)} == {
        "bob!~b@b.host"
    }


async def test_what_is_queued_to_a_nick_is_dropped_when_its_holder_leaves(
    store: RosterStore, registry: CommandRegistry
) -> None:
    rig = make_rig(store, registry)
    rig.outbox.items += [
        NewItem("irc", "Bob", "k1", "reply", IrcLines(("for bob",))),
        NewItem("irc", "carol", "k2", "reply", IrcLines(("for carol",))),
    ]
    bob = irc_author("bob", account="bob")
    where = ChatRef(Network.IRC, ChatId("#collab"))
    await handled(rig.router, Message("irc:q", bob, where, kind=MessageKind.QUIT))
    assert [i.chat for i in rig.outbox.items] == ["carol"]


async def test_a_waiter_that_gives_up_does_not_hold_up_the_others() -> None:
    budget = LineBudget(1, 20.0)
    await budget.take()
    gone = asyncio.create_task(budget.take_for(Lane.PRIVATE))  # an answer being discarded
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.wait_for(budget.take_for(Lane.PRIVATE), 5)
    assert gone.cancelled()
