"""Who is a moderator: config rules matched against verified identities, never a bare nick.

Rules (from `[roster] moderators`):
    telegram:<numeric user id>     a Telegram user, by id (usernames can change hands)
    irc:account:<services account> an IRC user logged in to that account (IRC case-insensitive)
    irc:mask:<nick!user@host glob> an IRC user whose full mask matches (* and ?)
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from fnmatch import fnmatchcase

from bridge.casemap import irc_casefold
from bridge.model import Author, Network

log = logging.getLogger(__name__)


def _matches(rule: str, author: Author) -> bool:
    kind, _, value = rule.partition(":")
    if kind == "telegram":
        return author.network is Network.TELEGRAM and bool(value) and value == author.user_id
    if kind != "irc" or author.network is not Network.IRC:
        return False
    sub, _, value = value.partition(":")
    if sub == "account":
        return bool(value and author.account) and irc_casefold(value) == irc_casefold(
            author.account or ""
        )
    if sub == "mask":
        # Folding also turns [ ] into { }, so fnmatch sees only the IRC wildcards * and ?.
        return bool(value and author.mask) and fnmatchcase(
            irc_casefold(author.mask or ""), irc_casefold(value)
        )
    return False


def is_moderator(
    author: Author,
    moderators: Sequence[str],
    telegram_admin_ids: Collection[int] = (),
) -> bool:
    """True when a config rule names this author, or a Telegram author is a group admin."""
    if author.network is Network.TELEGRAM and telegram_admin_ids:
        try:
            if int(author.user_id) in telegram_admin_ids:
                return True
        except ValueError:
            log.warning("telegram author with non-numeric id %r", author.user_id)
    return any(_matches(rule.strip(), author) for rule in moderators)
