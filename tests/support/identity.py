"""What the identity and budget tests (issue 9, cases 1, 2 and 15) share: a server without
account-tag, how to recognise the bot's lines, and the refusal a stranger gets."""

from __future__ import annotations

import pytest

from tests.support import ircd as ircd_module
from tests.support.harness import BOT_NICK
from tests.support.irc_client import Line

REFUSED_EXPORT = (
    "Sorry, I answer !export only in the bridged group or channel, or privately to the "
    "people in it."
)
"""What someone who is neither in the channel, a member nor a moderator gets for !export."""


def from_bot(line: Line) -> bool:
    return line.command in ("PRIVMSG", "NOTICE") and line.source_nick == BOT_NICK


def without_account_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    """InspIRCd servers started from here on offer no account-tag: every account the bridge
    believes then comes from what it sees (extended-join, account-notify) or from WHOIS."""
    modules = tuple(m for m in ircd_module.INSPIRCD_WANTED_MODULES if m != "ircv3_accounttag")
    monkeypatch.setattr(ircd_module, "INSPIRCD_WANTED_MODULES", modules)
