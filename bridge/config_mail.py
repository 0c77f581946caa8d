"""[mail] and [digest]: the SMTP server and the mailing-list digest, each problem naming its key.

Read here rather than by read_table() alone: [mail]'s "from" is a Python keyword (the field is
MailConfig.sender), the port follows tls, and the addresses are checked the way the digest
will use them (email.utils), so a typo is refused by check-config, not by the server a week
later.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import fields
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any, get_args

from bridge.config_model import MAIL_PORTS, DigestConfig, MailConfig, MailTls
from bridge.config_reader import Section, read_table

_LINE_BREAKS = ("\r", "\n", "\0")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """Whether host is this machine: a plain-text SMTP exchange with it never crosses a
    network."""
    if host.lower().rstrip(".") in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def address_problem(text: str) -> str | None:
    """Why text is not one mail address ("Name <a@b.org>" or "a@b.org"), or None."""
    if any(c in text for c in _LINE_BREAKS):
        return "must not contain line breaks or NUL"
    parsed = getaddresses([text])
    address = parsed[0][1] if len(parsed) == 1 else ""
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or "@" in local or any(c.isspace() for c in address):
        return f"expected one mail address such as name@example.org, got {text!r}"
    return None


def read_mail(data: dict[str, Any], problems: list[str]) -> MailConfig | None:
    """[mail], or None without it (no mail is ever sent)."""
    if "mail" not in data:
        return None
    sec = Section("mail", data["mail"], problems, MailConfig)
    tls = sec.choice("tls", "starttls", get_args(MailTls))
    port = sec.integer("port", MAIL_PORTS[tls])  # the default follows tls
    mail = MailConfig(
        host=sec.string("host", "", required=True),
        sender=sec.string("from", "", required=True),
        port=port,
        tls=tls,
        username=sec.string("username"),
        password=sec.string("password"),
        tls_ca_file=sec.string("tls_ca_file"),
        timeout=sec.number("timeout", _default(MailConfig, "timeout")),
    )
    if not 0 < mail.port < 65536:
        problems.append("mail.port: expected a port number from 1 to 65535")
    if mail.sender:
        problem = address_problem(mail.sender)
        if problem:
            problems.append(f"mail.from: {problem}")
    for key in ("host", "username", "password"):
        value = getattr(mail, key)
        if value and any(c in value for c in _LINE_BREAKS):
            problems.append(f"mail.{key}: must not contain line breaks or NUL")
    if mail.username is not None and mail.password is None:
        problems.append("mail.password: a username needs its password")
    if mail.password is not None and mail.username is None:
        problems.append("mail.username: a password needs its username")
    if mail.tls == "none" and mail.password and mail.host and not is_loopback(mail.host):
        problems.append(
            f'mail.tls: "none" would send the password in clear text to {mail.host}; use '
            '"starttls" or "tls" ("none" is for a relay on this machine: localhost, '
            "127.0.0.1, ::1)"
        )
    if mail.tls_ca_file is not None:
        _check_ca_file(mail.tls_ca_file, problems)
    sec.finish()
    return mail


def read_digest(
    data: dict[str, Any], mail: MailConfig | None, problems: list[str]
) -> DigestConfig | None:
    """[digest], or None without it; it needs [mail] to be sent through."""
    if "digest" not in data:
        return None
    if "mail" not in data:
        problems.append("digest: needs a [mail] table (the SMTP server to send it through)")
    raw = data["digest"]
    to = raw.get("to") if isinstance(raw, dict) else None
    if isinstance(to, str):  # one address or a list of them
        raw = {**raw, "to": [to]}
    sec = Section("digest", raw, problems, DigestConfig)
    digest = read_table(sec, DigestConfig)
    if "to" not in sec.data:
        problems.append("digest.to: missing required key")
    elif not digest.to and isinstance(to, list):
        problems.append("digest.to: expected at least one address")
    for address in digest.to:
        problem = address_problem(address)
        if problem:
            problems.append(f"digest.to: {problem}")
    sec.finish()
    return digest


def _default(model: type, key: str) -> Any:
    return next(f.default for f in fields(model) if f.name == key)


def sender_address(mail: MailConfig) -> str:
    """The bare address of [mail] from, for the SMTP envelope."""
    return parseaddr(mail.sender)[1]


def _check_ca_file(name: str, problems: list[str]) -> None:
    """Loaded the way the sender loads it, so a file that fails the first handshake fails
    here."""
    if not Path(name).exists():
        problems.append(f"mail.tls_ca_file: {name} does not exist")
        return
    try:
        ssl.create_default_context(cafile=name)
    except (ssl.SSLError, OSError) as exc:
        problems.append(f"mail.tls_ca_file: {name} holds no CA certificate (PEM) ({exc})")
