"""The bot's own nick!user@host as others see it, and the payload bytes that leaves per line.

The server relays our PRIVMSG to others prefixed with our full mask and cuts it at its
LINELEN, so the budget depends on that exact mask. It is learned from the welcome line, our
own JOIN, 396 (cloak, vhost), CHGHOST and NICK; until then a deliberately long guess keeps
every line short enough.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from bridge.casemap import Fold, irc_casefold
from bridge.irc.channels import updated_mask
from bridge.irc.link import Handlers
from bridge.render.irc_split import irc_line_budget

log = logging.getLogger(__name__)

DEFAULT_LINELEN = 512


def server_linelen(features: Mapping[str, Any]) -> int:
    """ISUPPORT LINELEN from the server's features: servers that accept longer lines say so;
    never below 512."""
    linelen = features.get("linelen")
    return linelen if isinstance(linelen, int) and linelen >= DEFAULT_LINELEN else DEFAULT_LINELEN


class OwnMask:
    """What the server shows as our prefix, and its LINELEN (ISUPPORT, at least 512)."""

    def __init__(
        self, username: str, current_nick: Callable[[], str], fold: Fold = irc_casefold
    ) -> None:
        self.mask: str | None = None
        self._fold = fold
        self.linelen = DEFAULT_LINELEN
        self._username = username
        self._nick = current_nick

    def guess(self) -> tuple[str, str, str]:
        """A long guess (nick!~user@63-char host) so lines fit before the real mask is known."""
        return (self._nick() + "_", "~" + self._username[:10], "h" * 63)

    def budget(self, target: str, *, action: bool = False) -> int:
        """Bytes a payload may use so the line as relayed to others fits the server's limit."""
        mask = self.mask or "{}!{}@{}".format(*self.guess())
        return irc_line_budget(mask, target, self.linelen, action=action)

    def update(
        self, *, nick: str | None = None, user: str | None = None, host: str | None = None
    ) -> None:
        """Change the named parts; the others keep their learned (or guessed) value."""
        self.mask = updated_mask(self.mask, self.guess(), nick=nick, user=user, host=host)

    def welcomed(self, text: str) -> None:
        """001 usually ends with our full mask ("Welcome ... nick!user@host")."""
        words = text.split()
        if words and "!" in words[-1] and "@" in words[-1]:
            self.mask = words[-1]

    def displayed_host(self, shown: str) -> None:
        """396 RPL_HOSTHIDDEN: ``host`` or ``user@host`` others now see (cloak, vhost)."""
        if not shown or " " in shown:
            return
        user, _, host = shown.rpartition("@")
        self.update(user=user or None, host=host)
        log.info("IRC: our displayed host is now %s", self.mask)

    def _is_me(self, nick: str) -> bool:
        return self._fold(nick) == self._fold(self._nick())

    # ------------------------------------------------------------- event handlers

    def handlers(self) -> Handlers:
        return {
            "welcome": self._on_welcome,
            "featurelist": self._on_features,
            "396": self._on_displayed_host,
            "chghost": self._on_chghost,
            "join": self._on_join,
            "nick": self._on_nick,
        }

    def _on_welcome(self, conn: Any, event: Any) -> None:
        self.welcomed(event.arguments[-1] if event.arguments else "")

    def _on_features(self, conn: Any, event: Any) -> None:
        self.linelen = server_linelen(vars(conn.features))

    def _on_displayed_host(self, conn: Any, event: Any) -> None:
        self.displayed_host(event.arguments[0] if event.arguments else "")

    def _on_chghost(self, conn: Any, event: Any) -> None:
        """IRCv3 CHGHOST (``:old!u@h CHGHOST newuser newhost``), about us or a neighbour."""
        if event.source and event.target and event.arguments and self._is_me(event.source.nick):
            self.update(user=event.target, host=event.arguments[0])
            log.info("IRC: our mask is now %s", self.mask)

    def _on_join(self, conn: Any, event: Any) -> None:
        """Our own JOIN carries our mask exactly as the server relays it."""
        if self._is_me(event.source.nick):
            self.mask = str(event.source)

    def _on_nick(self, conn: Any, event: Any) -> None:
        """The library already follows our nick; the mask must too."""
        if self._is_me(event.target):
            self.update(nick=event.target)
