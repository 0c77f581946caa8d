"""The server's own rules, read from its 005 (ISUPPORT) lines: how it compares names
(CASEMAPPING), which prefixes mark a member's channel status (PREFIX), which names are
channels (CHANTYPES), how long a nick or channel may be (NICKLEN, CHANNELLEN) and how many
targets one command may name (TARGMAX, MAXTARGETS).

The connector owns one `ServerRules` and hands it, or its folding function, to every part
that compares names; until 005 arrives (and for what a server does not say) the rules are
RFC 1459's. Measured: ngircd 26 and ircd-hybrid 8.2 say CASEMAPPING=ascii, InspIRCd 3
rfc1459; ngircd PREFIX=(qaohv)~&@%+, hybrid (ohv)@%+, InspIRCd (ov)@+ unless modules add more.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bridge.casemap import ServerCase
from bridge.irc.link import Handlers

log = logging.getLogger(__name__)

DEFAULT_PREFIX = {"~": "q", "&": "a", "@": "o", "%": "h", "+": "v"}
"""Before 005: every status symbol in common use, so a NAMES line read early parses."""
DEFAULT_CHANTYPES = "#&+!"
"""Before 005, or when a server names none: every channel type a config may name."""


class ServerRules:
    """What the server told us of its rules; RFC 1459's until then."""

    def __init__(self) -> None:
        self.case = ServerCase()
        self.prefix: dict[str, str] = dict(DEFAULT_PREFIX)
        """Status symbol → mode letter, highest rank first (PREFIX=(ov)@+ → {"@": "o", ...})."""
        self.chantypes = DEFAULT_CHANTYPES
        self.nicklen: int | None = None
        self.channellen: int | None = None

    def learn(self, features: Mapping[str, Any]) -> None:
        """Take what the library parsed of the 005 lines so far (irc.features.FeatureSet's
        attributes: casemapping, prefix as symbol → mode, chantypes, nicklen, ...)."""
        casemapping = features.get("casemapping")
        if isinstance(casemapping, str):
            self.case.learn(casemapping)
        prefix = features.get("prefix")
        if isinstance(prefix, Mapping) and prefix:
            self.prefix = {str(symbol): str(mode) for symbol, mode in prefix.items()}
        chantypes = features.get("chantypes")
        if isinstance(chantypes, str) and chantypes:
            self.chantypes = chantypes
        for name in ("nicklen", "channellen"):
            value = features.get(name)
            if isinstance(value, int) and value > 0:
                setattr(self, name, value)

    def fold(self, text: str) -> str:
        """Fold a nick or channel name as the server does."""
        return self.case(text)

    def split_status(self, name: str) -> tuple[str, str]:
        """A NAMES entry ("@+nick", multi-prefix) → (its status symbols, the nick)."""
        nick = name.lstrip("".join(self.prefix))
        return name[: len(name) - len(nick)], nick

    def is_channel(self, name: str) -> bool:
        """Whether name is a channel on this server (CHANTYPES), not a nick."""
        return bool(name) and name[0] in self.chantypes

    def handlers(self) -> Handlers:
        return {"featurelist": self._on_features}

    def _on_features(self, conn: Any, event: Any) -> None:
        self.learn(vars(conn.features))
        log.debug(
            "IRC: the server's rules: CASEMAPPING=%s PREFIX=%s CHANTYPES=%s",
            self.case.mapping,
            "".join(self.prefix),
            self.chantypes,
        )
