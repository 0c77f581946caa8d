"""The only place a library's private name may appear (docs/DESIGN: libraries through their
public doors).

Each entry says why no public call serves, and on which versions it was checked; those
versions are the ones pinned in pyproject.toml, and tests/test_compat.py fails when the
library changes under an entry (and when a pin moves to a version not listed in CHECKED_ON
here, so that the entry is looked at again). scripts/check_private.py refuses a private name
of these libraries anywhere else in bridge/, handlers/ and storage/.

This module imports nothing of the bridge, and each library only where its entry needs it:
storage imports it, and must not pull python-telegram-bot in with it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

import aiosqlite

if TYPE_CHECKING:
    from telegram.request import RequestData

T = TypeVar("T")

CHECKED_ON = {"aiosqlite": ("0.22.1",), "python-telegram-bot": ("22.8",)}
"""Distribution → the versions every entry below was checked on."""


async def in_db_thread(conn: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run work(the sqlite3 connection) in aiosqlite's database thread, in turn with the
    connection's other calls, and return what it returns (or raise what it raises).

    Why: storage/db.py in_one_trip runs BEGIN, several statements and COMMIT as one call in
    that thread; with aiosqlite's public calls each statement is one more round trip to the
    thread, which at idle is mostly the thread waking up. aiosqlite has no public call that
    runs a function there (it has them only for the sqlite3 methods it wraps), so this uses
    what its own methods use: ``Connection._execute(fn)`` queues fn to the thread and awaits
    its result, and ``Connection._conn`` is the sqlite3 connection, to be touched only there.
    Checked on aiosqlite 0.22.1.
    """
    return await conn._execute(lambda: work(conn._conn))


def request_data(params: Mapping[str, object]) -> RequestData:
    """A Bot API call's parameters as python-telegram-bot's ``BaseRequest.post`` takes them
    (each value JSON-encoded as PTB's own calls encode it, strings as they are).

    Why: the bridge posts getUpdates (raw JSON, so that one update PTB cannot parse does not
    hold up the others) and sendMessage (only the message id is read back) itself, through
    PTB's request so that PTB still maps every error answer to its exceptions. PTB builds
    ``RequestData`` from its private ``RequestParameter`` and documents how instances are
    made as an implementation detail; the public ``Bot.do_api_request`` warns for every
    method PTB implements (getUpdates, sendMessage), and the tests turn warnings into errors.
    Checked on python-telegram-bot 22.8.
    """
    from telegram.request import RequestData
    from telegram.request._requestparameter import RequestParameter

    return RequestData([RequestParameter.from_input(k, v) for k, v in params.items()])
