"""Moderator rules: ids and services accounts count, a bare IRC nick never does."""

from __future__ import annotations

import pytest

from bridge.casemap import irc_casefold
from bridge.roles import is_moderator
from bridge.rules import RuleError, parse_moderator
from tests.support.handlers import irc_author, tg_author

RULES = tuple(
    map(
        parse_moderator,
        (
            "telegram:123456789",
            "irc:account:SomeAccount",
            "irc:mask:*!~mod@trusted.example",
            "irc:mask:Op[away]!*@*",
        ),
    )
)


def test_telegram_by_numeric_id() -> None:
    assert is_moderator(tg_author(123456789, "Mod", "mod"), RULES)
    assert not is_moderator(tg_author(987, "Mod", "123456789"), RULES)  # username is not an id


def test_telegram_admins_only_for_telegram() -> None:
    assert is_moderator(tg_author(555), (), telegram_admin_ids={555})
    assert not is_moderator(tg_author(556), (), telegram_admin_ids={555})
    irc = irc_author("555", account="555")
    assert not is_moderator(irc, (), telegram_admin_ids={555})


def test_irc_account_case_insensitive() -> None:
    assert is_moderator(irc_author("whatever", account="someaccount"), RULES)
    assert is_moderator(irc_author("x", account="SOMEACCOUNT"), RULES)
    assert not is_moderator(irc_author("x", account="OtherAccount"), RULES)


def test_nick_equal_to_moderator_account_without_login_is_refused() -> None:
    impostor = irc_author("SomeAccount", account=None, user="~evil", host="evil.example")
    assert not is_moderator(impostor, RULES)


def test_irc_mask_glob_with_irc_casefolding() -> None:
    assert is_moderator(irc_author("anyone", None, "~mod", "TRUSTED.example"), RULES)
    assert not is_moderator(irc_author("anyone", None, "~mod", "untrusted.example"), RULES)
    # [ ] are nick characters on IRC (case variants of { }), not fnmatch classes
    assert is_moderator(irc_author("op{AWAY}", None, "u", "h"), RULES)
    assert not is_moderator(irc_author("opa", None, "u", "h"), RULES)


@pytest.mark.parametrize("rule", ["irc:account:", "irc:mask:", "telegram:", "irc:nick:bob", "bob"])
def test_malformed_or_empty_rules_are_refused(rule: str) -> None:
    with pytest.raises(RuleError):
        parse_moderator(rule)


def test_irc_casefold() -> None:
    assert irc_casefold("Nick[A]\\~") == "nick{a}|^"
