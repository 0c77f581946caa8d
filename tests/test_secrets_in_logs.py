"""No secret reaches the log in any encoding, at DEBUG, through the real logging set-up
(issue 9, case 17): the bot token, the SASL, NickServ and server passwords, plain, URL-quoted,
base64 alone and inside the SASL PLAIN blob — including the irc library's own raw lines.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from urllib.parse import quote, quote_plus

import irc.client
import irc.client_aio
import pytest

from bridge.config import Config, parse_config
from bridge.logs import setup_logging
from tests.support.configs import MINIMAL

TOKEN = "987654321:AAH4x7r2Qw9sLkPz0Vb3NcUe5YtGd8Jm1iO"
SASL_USER = "tgbridge"
SASL_PASSWORD = "s3cr#t pa/ss+w=rd&ü"  # every character URL-quoting changes
NICKSERV_PASSWORD = "nick-serv Secret/42"
SERVER_PASSWORD = "server:pass?word=1"
MAIL_USER = "bridge"
MAIL_PASSWORD = "smtp Pa$$/w:rd+ü"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sasl_blobs(user: str, password: str) -> list[str]:
    """The SASL PLAIN response as the bridge sends it, and with an empty authzid."""
    return [
        b64(f"{user}\0{user}\0{password}".encode()),
        b64(f"\0{user}\0{password}".encode()),
    ]


def forms(secret: str) -> list[str]:
    """Every encoding a library might log a secret in."""
    raw = secret.encode()
    return [secret, quote(secret), quote(secret, safe=""), quote_plus(secret), b64(raw)]


@pytest.fixture
def config() -> Config:
    text = MINIMAL.replace('token = "1:abc"', f'token = "{TOKEN}"').replace(
        'nick = "bridge"',
        f'nick = "bridge"\nsasl_username = "{SASL_USER}"\nsasl_password = "{SASL_PASSWORD}"\n'
        f'nickserv_password = "{NICKSERV_PASSWORD}"\npassword = "{SERVER_PASSWORD}"',
    )
    mail = (
        f'[mail]\nhost = "127.0.0.1"\nfrom = "bridge@example.org"\nusername = "{MAIL_USER}"\n'
        f'password = "{MAIL_PASSWORD}"\n'
    )
    return parse_config(text + mail)


class _Transport:
    """Where the irc library's asyncio connection writes its bytes (nothing leaves the test)."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


class _Socket:
    """The same for the library's blocking connection."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def send(self, data: bytes) -> int:
        self.written.append(data)
        return len(data)


def send_through_the_irc_library(lines: list[str]) -> list[bytes]:
    """Write lines with both of the irc library's connections, so they log them their way:
    irc.client_aio ``RAW: <line>`` (what the bridge uses) and irc.client ``TO SERVER: %s``."""
    written: list[bytes] = []
    aio = irc.client_aio.AioReactor(loop=asyncio.get_running_loop()).server()
    aio.transport = _Transport()
    blocking = irc.client.Reactor().server()
    blocking.socket = _Socket()
    for line in lines:
        aio.send_raw(line)
        blocking.send_raw(line)
    written += aio.transport.written + blocking.socket.written
    return written


async def test_every_secret_in_every_form_is_redacted_at_debug(
    config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("DEBUG", config.secrets())
    blobs = sasl_blobs(SASL_USER, SASL_PASSWORD)
    wire = send_through_the_irc_library(
        [
            "PASS " + SERVER_PASSWORD,
            "CAP REQ :sasl",
            "AUTHENTICATE PLAIN",
            *(f"AUTHENTICATE {blob}" for blob in blobs),
            f"PRIVMSG NickServ :IDENTIFY {SASL_USER} {NICKSERV_PASSWORD}",
        ]
    )
    assert any(blobs[0].encode() in data for data in wire)  # the server does get it

    secrets = {
        "token": TOKEN,
        "token secret": TOKEN.split(":", 1)[1],
        "sasl": SASL_PASSWORD,
        "nickserv": NICKSERV_PASSWORD,
        "server": SERVER_PASSWORD,
        "mail": MAIL_PASSWORD,
    }
    httpx = logging.getLogger("httpx")
    bridge = logging.getLogger("bridge.test")
    for what, secret in secrets.items():
        for form in forms(secret):
            httpx.info('HTTP Request: POST https://api.telegram.org/bot%s/getMe "200 OK"', form)
            bridge.debug("%s as %s", what, form)
            bridge.warning(f"pre-formatted {what}: {form} (no args)")
    for blob in sasl_blobs(MAIL_USER, MAIL_PASSWORD):
        bridge.debug("AUTH PLAIN %s", blob)
    try:
        raise RuntimeError(f"failed with {quote(SASL_PASSWORD, safe='')} and {blobs[1]}")
    except RuntimeError:
        bridge.exception("the traceback is redacted too")

    log = capsys.readouterr().err
    assert "RAW: AUTHENTICATE PLAIN" in log and "TO SERVER: AUTHENTICATE PLAIN" in log
    assert log.count("AUTHENTICATE ***") == 4, log  # 2 blobs x 2 loggers
    assert "IDENTIFY tgbridge ***" in log and "PASS ***" in log
    assert "/bot***/getMe" in log and "the traceback is redacted too" in log
    leaked = [
        (what, form)
        for what, secret in secrets.items()
        for form in [
            *forms(secret),
            *(sasl_blobs(SASL_USER, secret) if what == "sasl" else []),
            *(sasl_blobs(MAIL_USER, secret) if what == "mail" else []),  # SMTP AUTH PLAIN
        ]
        if form in log
    ]
    assert leaked == []


@pytest.mark.parametrize("prefix", [b"", b"\0", b"xy", b"user\0user\0", b"a\0b\0"])
def test_the_password_inside_any_base64_blob_is_redacted(
    config: Config, prefix: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whatever comes before the password in the blob (authzid, authcid), at every byte
    alignment, the base64 that carries it is not logged."""
    setup_logging("DEBUG", config.secrets())
    blob = b64(prefix + SASL_PASSWORD.encode() + b"\0tail")
    logging.getLogger("bridge.test").debug("payload %s end", blob)
    log = capsys.readouterr().err
    assert "payload *** end" in log and blob not in log


def test_authenticate_payloads_are_redacted_even_in_chunks(
    config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    """A long SASL response goes out as 400-byte AUTHENTICATE chunks; no chunk is logged."""
    setup_logging("DEBUG", config.secrets())
    blob = b64(f"{SASL_USER}\0{SASL_USER}\0{SASL_PASSWORD * 30}".encode())
    chunks = [blob[i : i + 400] for i in range(0, len(blob), 400)]
    assert len(chunks) > 1
    client = logging.getLogger("irc.client")
    for chunk in chunks:
        client.debug("TO SERVER: %s", f"AUTHENTICATE {chunk}")
    client.debug("FROM SERVER: %s", "AUTHENTICATE +")
    log = capsys.readouterr().err
    assert not any(chunk in log for chunk in chunks)
    assert log.count("TO SERVER: AUTHENTICATE ***") == len(chunks)
    assert "FROM SERVER: AUTHENTICATE +" in log


def test_ordinary_lines_pass_unchanged(config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("DEBUG", config.secrets())
    line = "PRIVMSG #bridge :<Alice> hello, see aGVsbG8gd29ybGQ= and ReallyLongWordsWithoutSpaces"
    logging.getLogger("irc.client").debug("TO SERVER: %s", line)
    assert line in capsys.readouterr().err
