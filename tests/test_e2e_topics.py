"""End to end: Telegram forum topics ⇄ IRC channels through the real bridge, a real ngircd and
the fake Bot API's forum groups.

What a person sees: each topic's talk in its own channel and back in its topic, a topic
nobody bridged staying quiet, a whole-group pair naming topics, names and per-topic order
kept across a restart, the bot answering in the topic it was asked in, and a closed or
deleted topic reported by `tgirc-bridge status` while its messages wait.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import (
    ALICE,
    human,
    noting,
    running_bridge,
    watching_logs,
)
from tests.support.ircd import IrcServer
from tests.support.topics import FORUM, WHOLE, in_topic, texts, topic_config

"""A forum whose topics have pairs of their own."""
"""A forum bridged whole to one channel."""


async def status(config: Path) -> str:
    """`tgirc-bridge status` as the operator runs it, in its own process."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        "status",
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_two_topics_two_channels_both_ways_and_an_unmapped_topic_stays_quiet(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    fake_tg.add_chat(FORUM, title="Forum", is_forum=True)
    help_, events = (fake_tg.create_topic(FORUM, n, ALICE) for n in ("Help", "Events"))
    offtopic = fake_tg.create_topic(FORUM, "Off topic", ALICE)
    config = topic_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        [(FORUM, help_, "#help"), (FORUM, events, "#events")],
    )
    async with running_bridge(config):
        bob = await human(ngircd, "bob", "#help", "#events")
        try:
            fake_tg.push_text(FORUM, ALICE, "how do I build it?", topic=help_)
            fake_tg.push_text(FORUM, ALICE, "chatter", topic=offtopic)
            fake_tg.push_text(FORUM, ALICE, "in General")
            fake_tg.push_text(FORUM, ALICE, "meetup on Monday", topic=events)
            assert await texts(bob, "#help", 1) == ["<Alice Smith> how do I build it?"]
            assert await texts(bob, "#events", 1) == ["<Alice Smith> meetup on Monday"]

            bob.privmsg("#help", "run make")
            bob.privmsg("#events", "I'll be there")
            [answer] = await fake_tg.wait_sent(in_topic(help_))
            [going] = await fake_tg.wait_sent(in_topic(events))
            assert answer.visible_text == "bob: run make"
            assert going.visible_text == "bob: I'll be there"

            # a reply in a topic to a relayed line names its IRC author
            fake_tg.push_text(FORUM, ALICE, "thanks!", topic=help_, reply_to=answer.message_id)
            assert await texts(bob, "#help", 1) == ['<Alice Smith> [re bob: "run make"] thanks!']
            await bob.assert_no_line(lambda ln: ln.command == "PRIVMSG", within=1.0)
            assert len(fake_tg.sent) == 2  # nothing went to General or elsewhere
        finally:
            await bob.close()


async def test_a_whole_group_pair_names_the_topics(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    fake_tg.add_chat(WHOLE, title="Whole", is_forum=True)
    config = topic_config(tmp_path / "config.toml", fake_tg, ngircd, [(WHOLE, None, "#all")])
    async with running_bridge(config):
        bob = await human(ngircd, "bob", "#all")
        try:
            help_ = fake_tg.create_topic(WHOLE, "Help", ALICE)
            fake_tg.push_text(WHOLE, ALICE, "a question", topic=help_)
            fake_tg.push_text(WHOLE, ALICE, "hello all")
            fake_tg.edit_topic(WHOLE, help_, "Support", ALICE)
            fake_tg.push_text(WHOLE, ALICE, "renamed", topic=help_)
            assert await texts(bob, "#all", 3) == [
                "<Alice Smith> [Help] a question",
                "<Alice Smith> [General] hello all",
                "<Alice Smith> [Support] renamed",
            ]
            bob.privmsg("#all", "to everyone")
            [sent] = await fake_tg.wait_sent(lambda m: m.chat_id == WHOLE)
            assert sent.visible_text == "bob: to everyone"
            assert "message_thread_id" not in sent.params  # the whole group: General
        finally:
            await bob.close()


async def test_a_restart_keeps_per_topic_order_and_topic_names(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    """IRC talks to two topics while Telegram is unreachable; the bridge is restarted; each
    topic gets its lines in order. A topic named before the restart keeps its name after
    it, though Telegram never tells it again."""
    fake_tg.add_chat(FORUM, title="Forum", is_forum=True)
    fake_tg.add_chat(WHOLE, title="Whole", is_forum=True)
    one, two = (fake_tg.create_topic(FORUM, n, ALICE) for n in ("One", "Two"))
    config = topic_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        [(FORUM, one, "#one"), (FORUM, two, "#two"), (WHOLE, None, "#all")],
    )
    routed: asyncio.Queue[str] = asyncio.Queue()
    bob = await human(ngircd, "bob", "#one", "#two", "#all")
    try:
        async with running_bridge(config, wrap_router=noting(routed)) as bridge:
            named = fake_tg.create_topic(WHOLE, "Help", ALICE)
            fake_tg.push_text(WHOLE, ALICE, "before", topic=named)
            assert await texts(bob, "#all", 1) == ["<Alice Smith> [Help] before"]
            await fake_tg.stop()  # Telegram unreachable
            for i in range(3):
                bob.privmsg("#one", f"one {i}")
                bob.privmsg("#two", f"two {i}")
            want = {f"{t} {i}" for t in ("one", "two") for i in range(3)}
            seen: set[str] = set()
            async with asyncio.timeout(10):
                while not want <= seen:
                    seen.add(await routed.get())
            queued = {(q.chat, q.depth) for q in await bridge.app.store.stats()}
            assert queued == {(f"{FORUM}/{one}", 3), (f"{FORUM}/{two}", 3)}
        await fake_tg.start()
        async with running_bridge(config):
            lines: dict[int | None, list[str]] = {one: [], two: []}
            async with asyncio.timeout(20):
                while sum(map(len, lines.values())) < 6:  # merged or not
                    [m] = await fake_tg.wait_sent(lambda m: m.chat_id == FORUM, timeout=20)
                    lines[m.message_thread_id] += (m.visible_text or "").split("\n")
            assert lines[one] == ["bob: one 0", "bob: one 1", "bob: one 2"]
            assert lines[two] == ["bob: two 0", "bob: two 1", "bob: two 2"]
            fake_tg.push_text(WHOLE, ALICE, "after", topic=named)
            assert await texts(bob, "#all", 1) == ["<Alice Smith> [Help] after"]
    finally:
        await bob.close()


async def test_the_bot_answers_a_command_in_its_topic(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    fake_tg.add_chat(FORUM, title="Forum", is_forum=True)
    help_ = fake_tg.create_topic(FORUM, "Help", ALICE)
    unmapped = fake_tg.create_topic(FORUM, "Elsewhere", ALICE)
    fake_tg.add_private_chat(ALICE)
    config = topic_config(tmp_path / "config.toml", fake_tg, ngircd, [(FORUM, help_, "#help")])
    async with running_bridge(config):
        for topic in (help_, unmapped):
            fake_tg.push_text(FORUM, ALICE, "/help", topic=topic)
            [answer] = await fake_tg.wait_sent(in_topic(topic))
            assert answer.visible_text == "I sent you the list of commands privately."
        private = await fake_tg.wait_sent(lambda m: m.chat_id == ALICE.id, count=2)
        assert all(m.message_thread_id is None for m in private)


async def test_a_closed_or_deleted_topic_waits_and_is_reported_by_status(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    """Its messages wait (the other topics go on), `status` says why, and a reopened topic
    gets what waited."""
    fake_tg.add_chat(FORUM, title="Forum", is_forum=True)
    open_, closed, deleted = (
        fake_tg.create_topic(FORUM, n, ALICE) for n in ("Open", "Shut", "Gone")
    )
    config = topic_config(
        tmp_path / "config.toml",
        fake_tg,
        ngircd,
        [(FORUM, open_, "#open"), (FORUM, closed, "#shut"), (FORUM, deleted, "#gone")],
    )
    bob = await human(ngircd, "bob", "#open", "#shut", "#gone")
    try:
        with watching_logs() as watch:
            async with running_bridge(config) as bridge:
                shut = fake_tg.close_topic(FORUM, closed, ALICE)
                fake_tg.delete_topic(FORUM, deleted)
                await fake_tg.wait_confirmed(shut.update_id)  # the bridge knows it is closed
                bob.privmsg("#shut", "anyone?")
                bob.privmsg("#gone", "hello?")
                bob.privmsg("#open", "still here")
                [sent] = await fake_tg.wait_sent(in_topic(open_))
                assert sent.visible_text == "bob: still here"
                await watch.wait_for("refuses messages", count=2)
                await bridge.app._write_state()  # as the 5-second publisher would
                shown = await status(config)
                assert (
                    f"telegram topic {FORUM}/{closed}: refuses messages, which wait: "
                    "Topic_closed" in shown
                )
                assert (
                    f"telegram topic {FORUM}/{deleted}: refuses messages, which wait: "
                    "Message thread not found" in shown
                )
                assert f"telegram topic {FORUM}/{closed} (Shut): closed" in shown
                assert f"telegram {FORUM}/{closed}: 1 waiting" in shown
                fake_tg.reopen_topic(FORUM, closed, ALICE)
                [late] = await fake_tg.wait_sent(in_topic(closed), timeout=10)
                assert late.visible_text == "bob: anyone?"
                assert list(bridge.app.telegram.unavailable_topics) == [f"{FORUM}/{deleted}"]
            assert len(watch.found("refuses messages")) == 2  # once per topic
    finally:
        await bob.close()
