"""IRCv3 capability negotiation and SASL (PLAIN, or EXTERNAL with the client certificate the
TLS connection presented), before the server registers us.

CAP LS must reach the server before NICK/USER or SASL comes too late, so the connect
factory writes it first. The rest is a small state machine fed by the server's CAP,
AUTHENTICATE and 90x replies; every path ends in CAP END, or registration would hang.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from collections.abc import Sequence
from typing import Any

from bridge.config import IrcConfig
from bridge.irc.link import Handlers

log = logging.getLogger(__name__)

WANTED_CAPS = frozenset(
    {
        "message-tags",
        "server-time",
        "account-tag",
        "extended-join",
        "account-notify",
        "multi-prefix",
        "echo-message",
        "chghost",
    }
)


class CapFirstFactory:
    """Opens the socket and asks for capabilities before the library sends NICK/USER."""

    def __init__(self, ssl_context: ssl.SSLContext | None) -> None:
        self.kwargs: dict[str, Any] = {"ssl": ssl_context} if ssl_context else {}

    async def __call__(self, protocol: Any, address: tuple[str, int]) -> Any:
        loop = asyncio.get_running_loop()
        transport, proto = await loop.create_connection(lambda: protocol, *address, **self.kwargs)
        transport.write(b"CAP LS 302\r\n")
        return transport, proto


class CapNegotiation:
    """What the server offered and granted on this connection; each step returns the
    lines to answer with."""

    def __init__(self, config: IrcConfig) -> None:
        self.offered: set[str] = set()
        self.enabled: set[str] = set()
        self._sasl_username = config.sasl_username
        self._sasl_password = config.sasl_password
        self._mechanism = (
            config.sasl_mechanism
            if config.sasl_mechanism == "EXTERNAL" or config.sasl_username
            else None
        )
        """The SASL mechanism to log in with; None: no SASL (a client certificate alone
        is still presented, and services that know its fingerprint log the bot in)."""

    def reset(self) -> None:
        """A new connection negotiates from scratch."""
        self.offered = set()
        self.enabled = set()

    def on_cap(self, arguments: Sequence[str]) -> list[str]:
        """``CAP <me> LS|ACK|NAK [*] :caps`` (the library drops ``<me>``)."""
        sub = arguments[0].upper() if arguments else ""
        caps = arguments[-1].split() if len(arguments) > 1 else []
        if sub == "LS":
            self.offered.update(c.split("=", 1)[0] for c in caps)
            if len(arguments) > 2 and arguments[1] == "*":
                return []  # more LS lines follow
            wanted = set(WANTED_CAPS)
            if self._mechanism:
                wanted.add("sasl")
            request = sorted(wanted & self.offered)
            return ["CAP REQ :" + " ".join(request)] if request else ["CAP END"]
        if sub == "ACK":
            self.enabled.update(c.lstrip("-=~") for c in caps)
            if "sasl" in self.enabled and self._mechanism:
                return [f"AUTHENTICATE {self._mechanism}"]
            return ["CAP END"]
        if sub == "NAK":
            return ["CAP END"]
        return []

    def on_authenticate(self, challenge: str) -> list[str]:
        """``AUTHENTICATE +``: the server is ready for our credentials: PLAIN's, or for
        EXTERNAL the account to log in to (``+``: the one the certificate belongs to)."""
        if challenge == "+" and self._mechanism == "EXTERNAL":
            user = self._sasl_username
            return ["AUTHENTICATE " + (base64.b64encode(user.encode()).decode() if user else "+")]
        if challenge == "+" and self._sasl_username and self._sasl_password:
            user = self._sasl_username
            blob = f"{user}\0{user}\0{self._sasl_password}".encode()
            return ["AUTHENTICATE " + base64.b64encode(blob).decode()]
        return []

    def on_sasl_result(self, kind: str) -> list[str]:
        """903 success, or 904-906 failure: either way registration goes on."""
        if kind != "saslsuccess" and self._mechanism == "EXTERNAL":
            log.error(
                "IRC: SASL EXTERNAL refused (%s): the services know no account with the "
                "fingerprint of irc.tls_client_cert (add it with NickServ CERT ADD while "
                "logged in); continuing without",
                kind,
            )
        elif kind != "saslsuccess":
            log.error("IRC: SASL authentication failed (%s); continuing without", kind)
        return ["CAP END"]

    # ------------------------------------------------------------- event handlers

    def handlers(self) -> Handlers:
        return {
            "cap": self._on_cap,
            "authenticate": self._on_authenticate,
            "saslsuccess": self._on_sasl_result,
            "saslfail": self._on_sasl_result,
            "sasltoolong": self._on_sasl_result,
            "saslaborted": self._on_sasl_result,
        }

    def _on_cap(self, conn: Any, event: Any) -> None:
        _send(conn, self.on_cap(event.arguments))

    def _on_authenticate(self, conn: Any, event: Any) -> None:
        _send(conn, self.on_authenticate(event.target))

    def _on_sasl_result(self, conn: Any, event: Any) -> None:
        _send(conn, self.on_sasl_result(event.type))


def _send(conn: Any, lines: list[str]) -> None:
    for line in lines:
        conn.send_raw(line)
