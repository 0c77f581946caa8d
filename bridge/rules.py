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

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase

from bridge.casemap import irc_casefold
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
    """IRC-casefolded."""


@dataclass(frozen=True, slots=True)
class IrcMask:
    glob: str
    """A nick!user@host glob, IRC-casefolded."""


@dataclass(frozen=True, slots=True)
class IrcNick:
    glob: str
    """A nick glob, IRC-casefolded."""


Rule = TelegramUser | TelegramUsername | IrcAccount | IrcMask | IrcNick


class RuleError(ValueError):
    """Why a rule's text is refused; the reader puts the key in front."""


def matches(rule: Rule, author: Author) -> bool:
    """The one matcher: whether rule names author."""
    if author.network is Network.TELEGRAM:
        if isinstance(rule, TelegramUser):
            return author.user_id == rule.user_id
        if isinstance(rule, TelegramUsername):
            return (author.nick or "").lower() == rule.username
        return False
    if isinstance(rule, IrcAccount):
        return bool(author.account) and irc_casefold(author.account or "") == rule.account
    if isinstance(rule, IrcMask):
        return bool(author.mask) and fnmatchcase(irc_casefold(author.mask or ""), rule.glob)
    if isinstance(rule, IrcNick):
        return fnmatchcase(irc_casefold(author.nick or ""), rule.glob)
    return False


def matches_any(rules: tuple[Rule, ...], author: Author) -> bool:
    return any(matches(rule, author) for rule in rules)


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
        return IrcMask(irc_casefold(value)) if "!" in value else IrcNick(irc_casefold(value))
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
        return IrcAccount(irc_casefold(account))
    glob = value.removeprefix(MASK_PREFIX).strip()
    if not glob:
        raise RuleError(f"{_quoted(text)} matches nobody: give a nick!user@host glob")
    return IrcMask(irc_casefold(glob))


def _quoted(text: str) -> str:
    """The value as written in TOML: "telegram:"."""
    return json.dumps(text, ensure_ascii=False)
