"""Who is a moderator: config rules matched against verified identities, never a bare nick.

Rules (from `[roster] moderators`, parsed at load by bridge/rules.py `parse_moderator`):
    telegram:<numeric user id>     a Telegram user, by id (usernames can change hands)
    irc:account:<services account> an IRC user logged in to that account (IRC case-insensitive)
    irc:mask:<nick!user@host glob> an IRC user whose full mask matches (* and ?)
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from bridge.casemap import Fold, irc_casefold
from bridge.model import Author, Network
from bridge.rules import Rule, matches_any

log = logging.getLogger(__name__)


def is_moderator(
    author: Author,
    moderators: tuple[Rule, ...],
    telegram_admin_ids: Collection[int] = (),
    fold: Fold = irc_casefold,
) -> bool:
    """True when a config rule names this author, or a Telegram author is a group admin."""
    if author.network is Network.TELEGRAM and telegram_admin_ids:
        try:
            if int(author.user_id) in telegram_admin_ids:
                return True
        except ValueError:
            log.warning("telegram author with non-numeric id %r", author.user_id)
    return matches_any(moderators, author, fold)  # the server's case rule for IRC names
