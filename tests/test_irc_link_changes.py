"""The connection's change signal loses no change to a waiter that was busy meanwhile."""

from __future__ import annotations

import asyncio

from bridge.irc.link import Link


async def test_a_change_while_the_waiter_was_busy_is_not_missed() -> None:
    link = Link("bot")
    seen = link.changes
    link.mark_changed()  # e.g. a channel joined while `status` was being written
    await asyncio.wait_for(link.wait_changed(after=seen), 1)


async def test_without_a_change_since_the_waiter_waits_for_the_next() -> None:
    link = Link("bot")
    waiting = asyncio.create_task(link.wait_changed(after=link.changes))
    await asyncio.sleep(0)
    assert not waiting.done()
    link.mark_changed()
    await asyncio.wait_for(waiting, 1)
