"""[mail] for `tgirc-bridge doctor`: connect, EHLO, STARTTLS and AUTH as configured, through
the digest's own client (bridge/mail/send.py probe()), sending nothing."""

from __future__ import annotations

from bridge.checks import Check, failed, passed
from bridge.config_model import MailConfig
from bridge.mail.send import MailError, probe

HOW = {"none": "no TLS", "starttls": "STARTTLS", "tls": "TLS"}


async def probe_mail(mail: MailConfig) -> list[Check]:
    where = f"{mail.host}:{mail.port}"
    try:
        await probe(mail)
    except MailError as exc:
        return [
            failed(
                f"mail: {exc}: check [mail] host, port, tls, username and password (nothing "
                "was sent)"
            )
        ]
    login = f", AUTH as {mail.username}" if mail.username else ""
    return [passed(f"mail: {where} answers ({HOW.get(mail.tls, mail.tls)}{login}), nothing sent")]
