"""Is a Telegram user in a bridged group now? getChatMember, remembered for a short while.

A private /whois or /members is answered only for people of the community (bridge.audience);
this is how a private asker on Telegram is found to be one. Answers are cached briefly so a
few commands in a row cost one request, and a person who left is a stranger again soon.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

import telegram
from telegram import error as tg_error

from bridge.model import split_telegram_chat

log = logging.getLogger(__name__)

MEMBERSHIP_TTL = 120.0
"""Seconds an answer of getChatMember is believed."""
CACHE_MAX = 10_000
IN_THE_GROUP = frozenset({"creator", "administrator", "member"})
"""Statuses of people in the group; "restricted" counts only with is_member."""


class Membership:
    """getChatMember answers by (group, user), each believed for MEMBERSHIP_TTL seconds."""

    def __init__(
        self,
        bot: telegram.Bot,
        ttl: float = MEMBERSHIP_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._ttl = ttl
        self._clock = clock
        self._known: OrderedDict[tuple[str, str], tuple[float, bool]] = OrderedDict()

    async def is_member(self, chat: str, user_id: str) -> bool:
        """True when Telegram says the user is in chat; False when not, or when it cannot
        say (default deny: a network fault is not remembered, so the next command asks).
        A forum topic's key counts as its group: members are the group's."""
        chat = split_telegram_chat(chat)[0]
        key = (chat, user_id)
        cached = self._known.get(key)
        if cached is not None and self._clock() - cached[0] < self._ttl:
            return cached[1]
        try:
            member = await self._bot.get_chat_member(int(chat), int(user_id))
        except (tg_error.BadRequest, tg_error.Forbidden) as exc:
            log.debug("Telegram: %s is not in %s (%s)", user_id, chat, exc)
            found = False  # "user not found", or the bot cannot see the group: an answer
        except tg_error.TelegramError as exc:
            log.info("Telegram: cannot tell whether %s is in %s: %s", user_id, chat, exc)
            return False
        except (TypeError, KeyError, ValueError) as exc:
            # an older self-hosted Bot API leaves out fields PTB requires
            log.warning("Telegram: cannot read getChatMember's answer (%s); refusing", exc)
            return False
        else:
            found = member.status in IN_THE_GROUP or (
                member.status == "restricted" and bool(getattr(member, "is_member", False))
            )
        self._known[key] = (self._clock(), found)
        self._known.move_to_end(key)
        while len(self._known) > CACHE_MAX:
            self._known.popitem(last=False)
        return found
