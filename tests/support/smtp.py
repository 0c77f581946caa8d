"""A real SMTP server on loopback for the digest's tests: aiosmtpd in a thread of its own.

It keeps every mail as it arrived (envelope and bytes), can answer the next DATA or RCPT
with a reply of the test's choosing (a 4xx, a 5xx), and with a certificate offers STARTTLS
and refuses AUTH before it; with a password it checks AUTH PLAIN/LOGIN against it.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.ircd import self_signed_cert
from tests.support.ports import free_port

USER = "bridge"
PASSWORD = "mail pa$$ w0rd/ü"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    """The message exactly as the server received it."""

    @property
    def message(self) -> EmailMessage:
        return cast(EmailMessage, message_from_bytes(self.data, policy=policy.default))

    @property
    def text(self) -> str:
        """The plain-text body, decoded, with the wire's CRLF line ends as \\n."""
        part = self.message.get_body(("plain",))
        assert part is not None
        return cast(str, cast(EmailMessage, part).get_content()).replace("\r\n", "\n")


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    """Replies for the next DATA commands, in order, instead of accepting the mail."""
    rcpt_replies: list[str] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(  # aiosmtpd calls its hooks by these names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        content = envelope.original_content or b""
        with self.changed:
            self.received.append(
                Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(content))
            )
            self.changed.notify_all()
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: Handler
    cert: Path | None = None
    """The server's certificate with STARTTLS (the client's CA file)."""

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    async def wait_mails(self, count: int = 1, timeout: float = 15.0) -> list[Received]:
        """Wait until count mails arrived in all (bounded), and return them all."""

        def wait() -> bool:
            with self.handler.changed:
                return self.handler.changed.wait_for(
                    lambda: len(self.handler.received) >= count, timeout
                )

        assert await asyncio.to_thread(wait), f"{len(self.received)} mail(s), not {count}"
        return list(self.received)

    def mail_table(self, **keys: Any) -> str:
        """A [mail] table for this server."""
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "tls": "starttls" if self.cert else "none",
            "from": "Collab Bridge <bridge@example.org>",
            "timeout": 5,
            **({"tls_ca_file": str(self.cert)} if self.cert else {}),
            **keys,
        }
        body = "".join(f"{k} = {_toml(v)}\n" for k, v in values.items())
        return f"[mail]\n{body}"


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def start_smtp(
    folder: Path, *, tls: bool = False, implicit_tls: bool = False, password: str | None = None
) -> tuple[SmtpServer, Controller]:
    """tls: STARTTLS, required; implicit_tls: TLS from the first byte (port 465's way)."""
    handler = Handler()
    kwargs: dict[str, Any] = {}
    cert = None
    if tls or implicit_tls:
        cert, key = self_signed_cert(folder / "smtp-cert")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        if implicit_tls:
            kwargs.update(ssl_context=context)
        else:
            kwargs.update(tls_context=context, require_starttls=True, auth_require_tls=True)
    if password is not None:

        def authenticate(
            server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
        ) -> AuthResult:
            assert isinstance(data, LoginPassword)
            login, given = data.login.decode(), data.password.decode()
            handler.logins.append((login, given))
            return AuthResult(success=(login, given) == (USER, password), handled=False)

        kwargs.update(authenticator=authenticate, auth_require_tls=tls)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return SmtpServer("127.0.0.1", port, handler, cert), controller


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    """A plain SMTP server (tls = "none"), no AUTH."""
    server, controller = start_smtp(tmp_path)
    yield server
    controller.stop()


@pytest.fixture
def smtp_tls(tmp_path: Path) -> Iterator[SmtpServer]:
    """STARTTLS with a test certificate, required before AUTH, which checks PASSWORD."""
    server, controller = start_smtp(tmp_path, tls=True, password=PASSWORD)
    yield server
    controller.stop()
