"""Sending through the [mail] server with aiosmtplib, and sorting its failures in two.

    MailError                 what went wrong, in words that name no secret
    ├── TransientMailError    refused or timed-out connection, a 4xx: retried with backoff
    └── PermanentMailError    a 5xx (a refused recipient, a wrong password), no STARTTLS:
                              not retried before the next period

Every call is bounded by [mail] timeout per step and by an overall deadline, so a server
that answers slowly costs the digest's own task time, never the relay's.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from email.message import EmailMessage
from email.utils import getaddresses

import aiosmtplib

from bridge.config_mail import sender_address
from bridge.config_model import MailConfig

log = logging.getLogger(__name__)

STEPS = 6
"""connect, EHLO, STARTTLS, AUTH, MAIL/RCPT, DATA: the overall deadline is this many
timeouts."""


class MailError(Exception):
    """The SMTP exchange failed; str() says how, with the server's reply when it gave one."""


class TransientMailError(MailError):
    """Worth trying again soon: the server was unreachable, slow, or answered 4xx."""


class PermanentMailError(MailError):
    """Trying again soon would get the same answer: a 5xx, or a server without STARTTLS."""


async def _client(mail: MailConfig) -> aiosmtplib.SMTP:
    # loading the CA certificates takes ~30 ms: in a thread, not on the relay's loop
    context = None
    if mail.tls != "none":
        context = await asyncio.to_thread(ssl.create_default_context, cafile=mail.tls_ca_file)
    return aiosmtplib.SMTP(
        hostname=mail.host,
        port=mail.port,
        timeout=mail.timeout,
        use_tls=mail.tls == "tls",
        start_tls=mail.tls == "starttls",
        tls_context=context,
    )


def _classify(exc: BaseException, mail: MailConfig) -> MailError:
    where = f"{mail.host}:{mail.port}"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        replies = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        kind = TransientMailError if all(400 <= c < 500 for c in codes) else PermanentMailError
        return kind(f"{where} refused every recipient: {replies}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        kind = TransientMailError if 400 <= exc.code < 500 else PermanentMailError
        return kind(f"{where} answered {exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return TransientMailError(f"{where} timed out ({exc or 'no answer'})")
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected):
        return TransientMailError(f"{where}: {exc}")
    if isinstance(exc, ssl.SSLError):
        return PermanentMailError(f"{where}: TLS failed ({exc.reason or exc})")
    if isinstance(exc, OSError):
        return TransientMailError(f"{where}: {exc.strerror or exc}")
    return PermanentMailError(f"{where}: {exc}")  # SMTPNotSupported: no STARTTLS, no AUTH


async def _session(mail: MailConfig, message: EmailMessage | None) -> None:
    smtp = await _client(mail)
    async with smtp:  # connect, EHLO, STARTTLS as configured
        if mail.username is not None and mail.password is not None:
            await smtp.login(mail.username, mail.password)
        if message is None:
            return
        recipients = [address for _, address in getaddresses(message.get_all("To", []))]
        refused, reply = await smtp.send_message(
            message, sender=sender_address(mail), recipients=recipients
        )
        for address, answer in refused.items():  # the others have it: not sent again
            log.error("mail: %s refused %s: %s %s", mail.host, address, answer.code, answer.message)
        log.info("mail: %s accepted %s (%s)", mail.host, message["Message-ID"], reply)


async def send(mail: MailConfig, message: EmailMessage) -> None:
    """Deliver message to its To addresses through the [mail] server; MailError if not."""
    await _exchange(mail, message)


async def probe(mail: MailConfig) -> None:
    """Connect, EHLO, STARTTLS and AUTH as [mail] says, and send nothing: for a check of
    the configuration (`tgirc-bridge doctor`). Raises MailError saying what failed."""
    await _exchange(mail, None)


async def _exchange(mail: MailConfig, message: EmailMessage | None) -> None:
    try:
        async with asyncio.timeout(mail.timeout * STEPS):
            await _session(mail, message)
    except Exception as exc:  # every failure of the exchange is sorted, none escapes raw
        raise _classify(exc, mail) from None
