"""Who a config rule names ([relay] ignore, [roster] moderators): parsed once, at load, into
small typed rules that one matcher, matches(), compares with an Author.

Spellings (the IRC ones through bridge/identity.py's prefixes):
    telegram:<user id>               a Telegram user by numeric id
    telegram:@<username>             a Telegram user by @username (ignore only: usernames
                                     change hands, so they never make a moderator)
    irc:account:<services account>   an IRC user logged in to that account
    irc:mask:<nick!user@host glob>   an IRC user whose full mask matches (* and ?)
    irc:<nick glob>                  ignore only: an IRC nick (a nick proves nothing);
    irc:<nick!user@host glob>        ... or, with a '!', the full mask
IRC names and globs compare with IRC casemapping ([ ] are { }, never fnmatch classes). A rule
that could match nobody ("telegram:", "irc:account:") is refused, naming what to give.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

from bridge.casemap import Fold, irc_casefold
from bridge.identity import ACCOUNT_PREFIX, MASK_PREFIX
from bridge.model import Author, Network

TELEGRAM_PREFIX = "telegram:"
IRC_PREFIX = "irc:"


@dataclass(frozen=True, slots=True)
class TelegramUser:
    user_id: str


@dataclass(frozen=True, slots=True)
class TelegramUsername:
    username: str
    """Lower case, without the @."""


@dataclass(frozen=True, slots=True)
class IrcAccount:
    account: str
    """As written: compared under the server's case rule (CASEMAPPING)."""


@dataclass(frozen=True, slots=True)
class IrcMask:
    glob: str
    """A nick!user@host glob (only * and ? are wild), compared under the server's case rule."""


@dataclass(frozen=True, slots=True)
class IrcNick:
    glob: str
    """A nick glob (only * and ? are wild), compared under the server's case rule."""


Rule = TelegramUser | TelegramUsername | IrcAccount | IrcMask | IrcNick


class RuleError(ValueError):
    """Why a rule's text is refused; the reader puts the key in front."""


def matches(rule: Rule, author: Author, fold: Fold = irc_casefold) -> bool:
    """The one matcher: whether rule names author; IRC names compare under fold, the
    server's case rule (under CASEMAPPING=ascii, al[x] and al{x} are two people)."""
    if author.network is Network.TELEGRAM:
        if isinstance(rule, TelegramUser):
            return author.user_id == rule.user_id
        if isinstance(rule, TelegramUsername):
            return (author.nick or "").lower() == rule.username
        return False
    if isinstance(rule, IrcAccount):
        return bool(author.account) and fold(author.account or "") == fold(rule.account)
    if isinstance(rule, IrcMask):
        mask = fold(author.mask or "")
        return bool(mask) and _glob(fold(rule.glob)).fullmatch(mask) is not None
    if isinstance(rule, IrcNick):
        return _glob(fold(rule.glob)).fullmatch(fold(author.nick or "")) is not None
    return False


def matches_any(rules: tuple[Rule, ...], author: Author, fold: Fold = irc_casefold) -> bool:
    return any(matches(rule, author, fold) for rule in rules)


@functools.lru_cache(maxsize=256)
def _glob(glob: str) -> re.Pattern[str]:
    """An IRC glob as a pattern: * and ? are wild, everything else literal (a nick's [ and ]
    too, which fnmatch would take for a character class)."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile("".join(parts), re.DOTALL)


def parse_ignore(text: str) -> Rule:
    """One [relay] ignore entry; raises RuleError."""
    if text.startswith(TELEGRAM_PREFIX):
        value = text.removeprefix(TELEGRAM_PREFIX).strip()
        if not value.lstrip("@").strip():
            raise RuleError(f"{_quoted(text)} matches nobody: give a user id or @username")
        if not value.startswith("@") and value.lstrip("-").isdigit():
            return TelegramUser(value)
        return TelegramUsername(value.removeprefix("@").lower())
    if text.startswith(IRC_PREFIX):
        value = text.removeprefix(IRC_PREFIX).strip()
        if value.startswith((ACCOUNT_PREFIX, MASK_PREFIX)):
            return _irc_identity(text, value)
        if not value:
            raise RuleError(f"{_quoted(text)} matches nobody: give a nick or nick!user@host glob")
        return IrcMask(value) if "!" in value else IrcNick(value)
    raise RuleError(f"{text!r} must start with telegram: or irc:")


def parse_moderator(text: str) -> Rule:
    """One [roster] moderators entry: verified identities only; raises RuleError."""
    rule = text.strip()
    if rule.startswith(TELEGRAM_PREFIX):
        value = rule.removeprefix(TELEGRAM_PREFIX).strip()
        if not value.isdigit():
            raise RuleError(
                f"{_quoted(text)} matches nobody: give a numeric user id (usernames change hands)"
            )
        return TelegramUser(value)
    value = rule.removeprefix(IRC_PREFIX)
    if rule.startswith(IRC_PREFIX) and value.startswith((ACCOUNT_PREFIX, MASK_PREFIX)):
        return _irc_identity(text, value)
    raise RuleError(f"{text!r} must be telegram:<id>, irc:account:<name> or irc:mask:<glob>")


def _irc_identity(text: str, value: str) -> Rule:
    """irc:account:<name> or irc:mask:<glob>, value without the irc:."""
    if value.startswith(ACCOUNT_PREFIX):
        account = value.removeprefix(ACCOUNT_PREFIX).strip()
        if not account:
            raise RuleError(f"{_quoted(text)} matches nobody: give a services account")
        return IrcAccount(account)
    glob = value.removeprefix(MASK_PREFIX).strip()
    if not glob:
        raise RuleError(f"{_quoted(text)} matches nobody: give a nick!user@host glob")
    return IrcMask(glob)


def _quoted(text: str) -> str:
    """The value as written in TOML: "telegram:"."""
    return json.dumps(text, ensure_ascii=False)
