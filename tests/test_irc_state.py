"""Channel membership and accounts follow joins, parts, quits and nick changes."""

from __future__ import annotations

from bridge.casemap import irc_casefold
from bridge.irc_state import ChannelState


def test_rfc1459_casemapping() -> None:
    assert irc_casefold("Nick[A]\\~") == "nick{a}|^"


def test_membership_follows_events() -> None:
    state = ChannelState()
    state.add_names("#c", "@Op +Voice plain")
    assert state.nicks("#C") == ["Op", "plain", "Voice"]
    state.set_account("plain", "acct")
    assert state.rename("plain", "Plain2") == ["#c"]
    assert state.account("plain2") == "acct"
    assert state.quit("Voice") == ["#c"]
    state.set_account("Op", "*")
    assert state.account("op") is None and state.knows_account("op")
    assert state.nicks("#c") == ["Op", "Plain2"]
