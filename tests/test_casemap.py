"""The server's case rule (005 CASEMAPPING): each mapping's ASCII shortcut folds as its
character-by-character rule does, and the bridge takes `[a]` and `{a}` for one nick only
where the server does (rfc1459: InspIRCd), two where it does not (ascii: ngircd, hybrid)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.casemap import CASEMAPPINGS, ServerCase, casefold_for, irc_casefold

UPPER_OF = {
    "ascii": ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"),
    "rfc1459": ("ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\~", "abcdefghijklmnopqrstuvwxyz{}|^"),
    "rfc1459-strict": ("ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\", "abcdefghijklmnopqrstuvwxyz{}|"),
}
"""Each mapping as its definition states it (draft-hardy-irc-isupport, "CASEMAPPING")."""


def slow_fold(mapping: str, text: str) -> str:
    upper, lower = UPPER_OF[mapping]
    table = str.maketrans(upper, lower)

    def one(ch: str) -> str:
        if ch.isascii():
            return ch.translate(table)
        return low if len(low := ch.lower()) == 1 else ch

    return "".join(one(ch) for ch in text)


NICKISH = st.text(st.sampled_from("aZ09[]{}\\|~^`_-éÉİ😀 "), max_size=20)


@pytest.mark.parametrize("mapping", CASEMAPPINGS)
@given(text=st.one_of(st.text(), NICKISH))
def test_each_mapping_folds_as_its_rule_character_by_character(mapping: str, text: str) -> None:
    folded = casefold_for(mapping)(text)
    assert folded == slow_fold(mapping, text) and len(folded) == len(text)


def test_brackets_are_one_nick_under_rfc1459_and_two_under_ascii() -> None:
    rfc, ascii_, strict = (casefold_for(m) for m in ("rfc1459", "ascii", "rfc1459-strict"))
    assert rfc("Al[x]\\~") == rfc("al{x}|^") == "al{x}|^"
    assert ascii_("Al[x]\\~") == "al[x]\\~" != ascii_("al{x}|^")
    assert strict("[]\\~") == "{}|~" != strict("{}|^")  # ~ and ^ stay two under strict
    assert irc_casefold is casefold_for("rfc1459")


def test_server_case_is_rfc1459_until_told_and_for_what_it_does_not_know() -> None:
    case = ServerCase()
    assert (case.mapping, case("[A]")) == ("rfc1459", "{a}")
    case.learn("ascii")
    assert (case.mapping, case("[A]"), case("{a}")) == ("ascii", "[a]", "{a}")
    case.learn("RFC1459-Strict")
    assert (case.mapping, case("[A]~"), case("{a}^")) == ("rfc1459-strict", "{a}~", "{a}^")
    case.learn("rfc7613")  # a mapping the bridge does not know: the common rule
    assert case.mapping == "rfc1459"
