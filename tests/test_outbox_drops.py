"""What a member said and the bridge has not sent yet goes when a moderator removes them, or
when the ignore list names them at start (issue 19, item 3). A message partly written to IRC
finishes; nobody else's messages are touched."""

from __future__ import annotations

import asyncio

from bridge.outbox import NewItem, Outbox, sender_of
from bridge.payloads import IrcLines
from bridge.sending import Outgoing, payload_store
from handlers.registry import CommandRegistry
from storage.roster_store import RosterStore, identity_from_author
from tests.support.handlers import irc_author, make_ctx, make_rig, tg_author
from tests.support.outbox import SteppedSender, running, summary, text_of

MOD = tg_author(1001, "Alice Liddell", "alice")
ANN = tg_author(2001, "Ann Lee", "ann")
ANN_IRC = irc_author("annie", account="ann")
CAROL = tg_author(3001, "Carol", "carol")


def said(author_sender: tuple[str, str | None], text: str, chat: str = "#c") -> Outgoing:
    sender, name = author_sender
    return NewItem("irc", chat, text, "relay", IrcLines((text,)), sender=sender, sender_name=name)


async def queued(store: RosterStore) -> list[str]:
    rows = await store.db.fetchall("SELECT dedup_key FROM outbox ORDER BY id")
    return [r[0] for r in rows]


async def remove_ann(registry: CommandRegistry, store: RosterStore) -> list[str]:
    """Ann (Telegram, linked to IRC annie) joins; a moderator removes her."""
    await store.join(identity_from_author(ANN))
    code = await store.create_link_code(identity_from_author(ANN))
    await store.redeem_link_code(code.code, identity_from_author(ANN_IRC))
    ctx, rec = make_ctx(store, MOD, moderator=True)
    await registry.dispatch(ctx, "remove", "@ann")
    return rec.replies


async def test_remove_drops_the_members_unsent_messages_on_every_network(
    registry: CommandRegistry, store: RosterStore
) -> None:
    outbox = payload_store(store.db)
    await outbox.enqueue(
        [
            said(sender_of(ANN), "ann 1"),
            said(sender_of(CAROL), "carol 1"),
            said(sender_of(ANN), "ann 2", chat="#other"),
            NewItem(
                "telegram",
                "-100",
                "annie 1",
                "relay",
                IrcLines(("x",)),
                sender=sender_of(ANN_IRC)[0],
            ),
            NewItem("irc", "#c", "answer", "reply", IrcLines(("an answer",))),  # the bridge's
        ]
    )
    partly = (await outbox.due("irc", "#c", 1))[0]
    assert text_of(partly) == "ann 1"
    await outbox.set_progress(partly.id, 1)  # its first line is out: it finishes
    await outbox.enqueue([said(sender_of(ANN), "ann 3")])

    replies = await remove_ann(registry, store)
    assert replies and replies[0].startswith("Removed Ann Lee")
    assert await queued(store) == ["ann 1", "carol 1", "answer"]


async def test_a_removed_members_backlog_stops_behind_the_message_on_the_wire(
    registry: CommandRegistry, store: RosterStore
) -> None:
    sender = SteppedSender()
    outbox = Outbox(payload_store(store.db), {"irc": sender}, horizon_hours=24, summary=summary)
    async with running(outbox):
        await outbox.enqueue([said(sender_of(ANN), f"ann {i}") for i in range(5)])
        await outbox.enqueue([said(sender_of(CAROL), "carol 1")])
        await asyncio.wait_for(sender.on_wire.wait(), 2)
        await remove_ann(registry, store)  # while "ann 0" is on the wire
        sender.on_wire.clear()
        sender.release.set()
        await asyncio.wait_for(sender.on_wire.wait(), 2)
        sender.release.set()
        assert await outbox.wait_idle(2)
    assert sender.received == ["ann 0", "carol 1"]
    assert await queued(store) == []


async def test_at_start_the_ignore_list_drops_what_an_earlier_run_queued(
    registry: CommandRegistry, store: RosterStore
) -> None:
    rig = make_rig(
        store,
        registry,
        relay='ignore = ["telegram:2001", "telegram:@mallory", "irc:spam*", "irc:*!*@bad.host"]',
    )
    mallory = tg_author(4001, "Mallory", "Mallory")  # matched by @username, any case
    spammer = irc_author("spambot", account=None)
    logged_in = irc_author("spam2", account="acct")  # an account, and a nick on the list
    from_bad_host = irc_author("eve", account="eve", host="bad.host")
    store_ = payload_store(store.db)
    await store_.enqueue(
        [
            said(sender_of(ANN), "ann 1"),
            said(sender_of(mallory), "mallory 1"),
            said(sender_of(spammer), "spam 1"),
            said(sender_of(logged_in), "spam 2"),
            said(sender_of(from_bad_host), "eve 1"),
            said(sender_of(CAROL), "carol 1"),
            said(sender_of(irc_author("bob")), "bob 1"),
            NewItem("irc", "#c", "notice", "notice", IrcLines(("a notice",))),
            said(sender_of(ANN), "ann 2"),
        ]
    )
    partly = next(i for i in await store_.due("irc", "#c", 20) if text_of(i) == "ann 2")
    await store_.set_progress(partly.id, 1)
    outbox = Outbox(store_, {}, horizon_hours=24, summary=summary)
    assert await outbox.drop_senders(rig.router.ignores) == 5
    assert await queued(store) == ["carol 1", "bob 1", "notice", "ann 2"]
    assert await outbox.drop_senders(rig.router.ignores) == 0
