"""relay.ignore and roster.moderators, parsed once at load (bridge/rules.py): a table of rules
and authors, and check-config refusing a rule that matches nobody.

The table was written against the code before the rules were parsed at load (router.py's
_ignored and roles.py's is_moderator parsing each rule at each match) and gave the same
results there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.casemap import casefold_for
from bridge.cli import main
from bridge.config import parse_config
from bridge.errors import ConfigError
from bridge.identity import irc_key
from bridge.model import Author, Network, UserId
from bridge.roles import is_moderator
from bridge.rules import matches_any

CONFIG = """
[telegram]
token = "1:abc"
[irc]
host = "127.0.0.1"
nick = "bridge"
[[bridge]]
telegram_chat = -100
irc_channel = "#c"
"""

ALICE = Author(Network.TELEGRAM, UserId("1001"), "Alice", nick="Alice_L")
NAMELESS = Author(Network.TELEGRAM, UserId("1002"), "No Username")
_BOB_MASK = "Bob[x]!~bob@Host.Example"
BOB = Author(
    Network.IRC, irc_key("Bob", _BOB_MASK), "Bob[x]", nick="Bob[x]", account="Bob", mask=_BOB_MASK
)
_SPAM_MASK = "spam!~spambot@127.0.0.5"
SPAM = Author(Network.IRC, irc_key(None, _SPAM_MASK), "spam", nick="spam", mask=_SPAM_MASK)
AUTHORS = {"alice": ALICE, "nameless": NAMELESS, "bob": BOB, "spam": SPAM}


def ignores(rule: str, author: Author) -> bool:
    config = parse_config(CONFIG + f"[relay]\nignore = [{json.dumps(rule)}]\n")
    return matches_any(config.relay.ignore, author)


def moderates(rule: str, author: Author) -> bool:
    config = parse_config(CONFIG + f"[roster]\nmoderators = [{json.dumps(rule)}]\n")
    return is_moderator(author, config.roster.moderators)


# rule -> the authors it names (every other author of AUTHORS: not named)
IGNORE_TABLE = [
    ("telegram:1001", {"alice"}),
    ("telegram:1002", {"nameless"}),
    ("telegram:@alice_l", {"alice"}),  # usernames: case-insensitive
    ("telegram:@ALICE_L", {"alice"}),
    ("telegram:alice_l", {"alice"}),  # the @ may be left out
    ("telegram:@1001", set()),  # a username, not the id
    ("telegram:999", set()),
    ("irc:bob{X}", {"bob"}),  # IRC casemapping: [ ] are { }
    ("irc:Bob[x]", {"bob"}),
    ("irc:bob", set()),  # a glob of the whole nick
    ("irc:b*", {"bob"}),
    ("irc:*", {"bob", "spam"}),  # every IRC nick, no Telegram user
    ("irc:SPAM", {"spam"}),
    ("irc:*!*spambot@127.0.0.*", {"spam"}),  # a '!' makes it a nick!user@host glob
    ("irc:*!~BOB@host.example", {"bob"}),
    ("irc:spam!*", {"spam"}),
    ("irc:*!*@other.example", set()),
]

MODERATOR_TABLE = [
    ("telegram:1001", {"alice"}),
    ("telegram:1002", {"nameless"}),
    ("irc:account:BOB", {"bob"}),  # case-insensitive
    ("irc:account:bob", {"bob"}),
    ("irc:account:spam", set()),  # the nick is spam, but not logged in
    ("irc:mask:*!~bob@host.EXAMPLE", {"bob"}),
    ("irc:mask:bob{x}!*@*", {"bob"}),
    ("irc:mask:spam!*@127.0.0.*", {"spam"}),
    ("irc:mask:*", {"bob", "spam"}),
]


@pytest.mark.parametrize(("rule", "named"), IGNORE_TABLE)
def test_ignore_rules_name_exactly(rule: str, named: set[str]) -> None:
    assert {name for name, author in AUTHORS.items() if ignores(rule, author)} == named


@pytest.mark.parametrize(("rule", "named"), MODERATOR_TABLE)
def test_moderator_rules_name_exactly(rule: str, named: set[str]) -> None:
    assert {name for name, author in AUTHORS.items() if moderates(rule, author)} == named


@pytest.mark.parametrize(
    ("rule", "named"),
    [("irc:account:BOB", {"bob"}), ("irc:mask:*!*spambot@*", {"spam"})],
)
def test_ignore_takes_the_moderators_irc_identities_too(rule: str, named: set[str]) -> None:
    """Before, "irc:account:bob" in relay.ignore was a nick glob no nick can match."""
    assert {name for name, author in AUTHORS.items() if ignores(rule, author)} == named


@pytest.mark.parametrize(
    ("key", "rule", "problem"),
    [
        ("relay.ignore", "telegram:", "matches nobody: give a user id or @username"),
        ("relay.ignore", "telegram:@", "matches nobody: give a user id or @username"),
        ("relay.ignore", "telegram: ", "matches nobody: give a user id or @username"),
        ("relay.ignore", "irc:", "matches nobody: give a nick or nick!user@host glob"),
        ("relay.ignore", "irc:account:", "matches nobody: give a services account"),
        ("relay.ignore", "irc:mask:", "matches nobody: give a nick!user@host glob"),
        ("roster.moderators", "telegram:", "matches nobody: give a numeric user id"),
        ("roster.moderators", "telegram:@mod", "matches nobody: give a numeric user id"),
        ("roster.moderators", "irc:account:", "matches nobody: give a services account"),
        ("roster.moderators", "irc:mask: ", "matches nobody: give a nick!user@host glob"),
    ],
)
def test_a_rule_that_matches_nobody_is_refused(key: str, rule: str, problem: str) -> None:
    table, name = key.split(".")
    with pytest.raises(ConfigError) as info:
        parse_config(CONFIG + f"[{table}]\n{name} = [{json.dumps(rule)}]\n")
    [found] = info.value.problems
    assert found.startswith(f"{key}: {json.dumps(rule)} {problem}")


def test_check_config_names_the_key_and_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG + '[relay]\nignore = ["telegram:", "irc:*!*@spam.example"]\n')
    assert main(["check-config", "--config", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        'config error: relay.ignore: "telegram:" matches nobody: give a user id or @username'
    ]


def test_rules_compare_under_the_servers_case_rule() -> None:
    """Under CASEMAPPING=ascii (ngircd, ircd-hybrid: OFTC) Bob[x] and Bob{x} are two people:
    a moderator rule for one must not make the other a moderator, nor an ignore rule silence
    him; under rfc1459 (InspIRCd, Libera) they are one nick. A rule's [ is a literal, not a
    character class."""
    ascii_fold, rfc1459_fold = casefold_for("ascii"), casefold_for("rfc1459")
    mask = "Bob{x}!~bob@Host.Example"
    impostor = Author(Network.IRC, irc_key(None, mask), "Bob{x}", nick="Bob{x}", mask=mask)
    config = parse_config(
        CONFIG
        + '[relay]\nignore = ["irc:bob[x]"]\n'
        + '[roster]\nmoderators = ["irc:mask:bob[x]!~bob@host.example"]\n'
    )
    assert not is_moderator(impostor, config.roster.moderators, (), ascii_fold)
    assert not matches_any(config.relay.ignore, impostor, ascii_fold)
    assert is_moderator(BOB, config.roster.moderators, (), ascii_fold)
    assert matches_any(config.relay.ignore, BOB, ascii_fold)
    assert is_moderator(impostor, config.roster.moderators, (), rfc1459_fold)
    assert matches_any(config.relay.ignore, impostor, rfc1459_fold)
