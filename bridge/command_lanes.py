"""Commands run beside the relay, never in its lane.

A command may wait on slow things: Telegram's getChatMember and getChatAdministrators, a
WHOIS paced behind the relay, Telegram's verdict on a private answer. The relay must not
wait with it, so the router hands each command to these lanes and goes on at once.

- A person's commands run one after another, in the order they were typed.
- At most `in_flight` commands run at once per network; the others wait their turn in the
  order they came (asyncio's semaphore wakes waiters first in, first out).
- At most `max_waiting` commands wait per network; beyond that a new one is refused (the
  caller says so): a crowd of clones cannot grow memory without bound.

Nothing here knows what a command does: a job is a coroutine function.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class CommandLanes:
    """Per-person ordered, per-network bounded execution of command jobs."""

    def __init__(self, in_flight: int, max_waiting: int) -> None:
        self.in_flight = max(1, in_flight)
        self.max_waiting = max(1, max_waiting)
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._queues: dict[Hashable, deque[Job]] = {}
        self._waiting: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.running: dict[str, int] = {}
        """Commands running now, by network (for tests and /metrics)."""

    def waiting(self, network: str) -> int:
        """Commands of network accepted and not finished (running or waiting)."""
        return self._waiting.get(network, 0)

    def submit(self, network: str, person: Hashable, job: Job) -> bool:
        """Queue job behind person's earlier commands; False (nothing queued) when network
        already has max_waiting commands in the lanes."""
        if self.waiting(network) >= self.max_waiting:
            return False
        self._waiting[network] = self.waiting(network) + 1
        key = (network, person)
        queue = self._queues.get(key)
        if queue is not None:  # the person's worker is running: it takes this one next
            queue.append(job)
            return True
        self._queues[key] = deque([job])
        task = asyncio.create_task(self._person(network, key), name=f"commands of {person}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _person(self, network: str, key: Hashable) -> None:
        """Run one person's commands in order, each in a slot of its network."""
        queue = self._queues[key]
        slots = self._slots.setdefault(network, asyncio.Semaphore(self.in_flight))
        try:
            while queue:
                job = queue[0]
                try:
                    async with slots:
                        self.running[network] = self.running.get(network, 0) + 1
                        try:
                            await job()
                        finally:
                            self.running[network] -= 1
                except Exception:
                    log.exception("a command of %s failed", key)
                finally:
                    queue.popleft()
                    self._waiting[network] -= 1
        finally:
            self._waiting[network] -= len(queue)
            del self._queues[key]

    async def idle(self) -> None:
        """Return once every command accepted so far (and any accepted meanwhile) is done."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def drain(self, timeout: float) -> bool:
        """Wait (at most timeout) for every accepted command to finish; True if they did.
        Those still running are then cancelled (a stored command runs again at the next
        start)."""
        pending = set(self._tasks)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=max(0.0, timeout))
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return not pending
