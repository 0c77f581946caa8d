"""``python -m bench.trace_bridge run --config …``: the bridge, with hot-path timestamps.

Wraps a few functions on each relay path and appends ``stage marker monotonic_ns`` lines to
$BENCH_TRACE. time.monotonic_ns() reads CLOCK_MONOTONIC, which every process on the machine
shares, so the bench (which sends and receives) can line these up with its own times.
Only for profiling (bench/profile_idle.py); nothing of this is in the bridge.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any

MARK = re.compile(r"b\d+x\d+y")
_out = open(os.environ["BENCH_TRACE"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115
_aiosqlite_hops = 0


def _note(stage: str, where: object) -> None:
    for m in MARK.finditer(repr(where)):
        _out.write(f"{stage} {m.group(0)} {time.monotonic_ns()} {_aiosqlite_hops}\n")


def _async(owner: Any, name: str, stage: str, pick: Callable[..., object], after: str = "") -> None:
    real = getattr(owner, name)

    @functools.wraps(real)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        _note(stage, pick(*args, **kwargs))
        result = await real(*args, **kwargs)
        if after:
            _note(after, pick(*args, **kwargs))
        return result

    setattr(owner, name, wrapper)


def _sync(owner: Any, name: str, stage: str, pick: Callable[..., object]) -> None:
    real = getattr(owner, name)

    @functools.wraps(real)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _note(stage, pick(*args, **kwargs))
        return real(*args, **kwargs)

    setattr(owner, name, wrapper)


def _request_fields(self: object, *args: Any, **kwargs: Any) -> object:
    data = kwargs.get("request_data", args[2] if len(args) > 2 else None)
    return data.json_parameters if data is not None else None


def _trace_gc() -> None:
    """Each garbage collection as a "gc<generation> - <start ns> <duration ns>" line."""
    import gc

    began: list[int] = [0]

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.monotonic_ns()
        else:
            now = time.monotonic_ns()
            _out.write(f"gc{info['generation']} - {began[0]} {now - began[0]}\n")

    gc.callbacks.append(note)


def install() -> None:
    _trace_gc()
    import aiosqlite.core

    from bridge.irc.delivery import Delivery
    from bridge.irc.inbound import Inbox
    from bridge.outbox import Outbox
    from bridge.router import Router
    from bridge.telegram.delivery import TelegramDelivery
    from bridge.telegram.http import AiohttpRequest
    from bridge.telegram.polling import Poller
    from storage.outbox_store import OutboxStore

    real_execute = aiosqlite.core.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        global _aiosqlite_hops
        _aiosqlite_hops += 1
        return await real_execute(self, fn, *args, **kwargs)

    aiosqlite.core.Connection._execute = counted  # type: ignore[method-assign]

    real_fetch = Poller._fetch

    async def fetch(self: Poller) -> Any:
        result = await real_fetch(self)
        _note("tg.polled", result)
        return result

    Poller._fetch = fetch  # type: ignore[method-assign]
    _async(Router, "handle", "router.in", lambda self, msg: msg.text, "router.out")
    _async(Outbox, "enqueue", "enqueue.in", lambda self, items: items, "enqueue.out")
    _async(OutboxStore, "enqueue", "store.in", lambda self, items: items)
    _async(Outbox, "_send_and_record", "outbox.send", lambda self, dest, sender, items: items)
    _async(OutboxStore, "complete", "record.in", lambda self, items, *a: items, "record.out")
    _sync(Delivery, "write", "irc.write", lambda self, line: line)
    _sync(Inbox, "put", "irc.read", lambda self, message, *rest: message.text)
    _async(TelegramDelivery, "_send_html", "tg.send", lambda self, chat, text: text)
    _async(AiohttpRequest, "do_request", "tg.http", _request_fields)


if __name__ == "__main__":
    install()
    from bridge.cli import main

    if not os.environ.get("BENCH_CPROFILE"):
        sys.exit(main(sys.argv[1:]))
    import cProfile

    profiler = cProfile.Profile()
    try:
        sys.exit(profiler.runcall(main, sys.argv[1:]))
    finally:
        profiler.dump_stats(os.environ["BENCH_CPROFILE"])
