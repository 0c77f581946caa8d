"""Channel membership and accounts follow joins, parts, quits and nick changes."""

from __future__ import annotations

from bridge.casemap import irc_casefold
from bridge.irc.channels import AllBut, ChannelState, split_mask, updated_mask


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
    assert set(state.folded_nicks("#C")) == {"op", "plain2"}


def test_folded_nicks_follow_the_channel_and_copy_nothing() -> None:
    state = ChannelState()
    seen = state.folded_nicks("#c")
    assert set(seen) == set()  # not joined yet: nobody
    state.add_names("#c", "[Bot] Zed")
    now = state.folded_nicks("#C")
    assert set(now) == {"{bot}", "zed"}
    state.rename("Zed", "Amy")
    assert set(now) == {"{bot}", "amy"}  # the same view, still current


def test_our_own_channels_and_what_leaving_forgets() -> None:
    state = ChannelState()
    state.joined("#Chan")
    state.joined("#other")
    state.add_names("#chan", "bob carol")
    state.add_names("#other", "bob")
    assert state.is_joined("#CHAN") and not state.is_joined("#never")
    state.left("#chan")  # parted or kicked: nobody there is visible any more
    assert not state.is_joined("#chan") and state.nicks("#chan") == []
    assert state.is_joined("#other") and state.nicks("#other") == ["bob"]
    state.set_account("bob", "b")
    state.reset()  # the connection is lost
    assert not state.is_joined("#other") and state.nicks("#other") == []
    assert not state.knows_account("bob")


def test_own_mask_follows_host_and_nick_changes() -> None:
    guess = ("bot_", "~bot", "h" * 63)
    assert split_mask("nick!~user@host.example") == ("nick", "~user", "host.example")
    mask = updated_mask("bot!~bot@127.0.0.1", guess, host="cloak.example")
    assert mask == "bot!~bot@cloak.example"
    assert updated_mask(mask, guess, user="vuser", host="v.host") == "bot!vuser@v.host"
    assert updated_mask(mask, guess, nick="bot2") == "bot2!~bot@cloak.example"
    assert updated_mask(None, guess, host="known") == "bot_!~bot@known"  # the rest stays long


def test_all_but_leaves_the_bots_nick_out_of_the_live_view() -> None:
    state = ChannelState()
    state.add_names("#c", "CollabBot amy zed")
    view = AllBut(state.folded_nicks("#c"), "collabbot")
    assert "collabbot" not in view and "amy" in view
    assert (len(view), set(view)) == (2, {"amy", "zed"})
    state.add("#c", "New")
    assert "new" in view and len(view) == 3
    assert len(AllBut(state.folded_nicks("#c"), "absent")) == 4
