"""CAP negotiation and SASL PLAIN, fed with server lines: every path ends in CAP END."""

from __future__ import annotations

import base64
import logging

import pytest

from bridge.config import IrcConfig
from bridge.irc.caps import CapNegotiation
from bridge.irc.inbound import EventTable
from tests.support.irc_wire import NICK, Wire, library_connection


async def _negotiation(
    sasl_username: str | None = None, sasl_password: str | None = None
) -> tuple[CapNegotiation, Wire]:
    config = IrcConfig("h", NICK, sasl_username=sasl_username, sasl_password=sasl_password)
    caps = CapNegotiation(config)
    table = EventTable()
    table.add(caps.handlers())
    return caps, await library_connection(table)


async def test_only_wanted_caps_the_server_offers_are_requested() -> None:
    caps, wire = await _negotiation()
    wire.feed(":srv CAP * LS * :multi-prefix sasl=PLAIN,EXTERNAL chghost")
    assert wire.sent == []  # more LS lines follow
    wire.feed(":srv CAP * LS :echo-message draft/unknown account-tag")
    assert wire.sent == ["CAP REQ :account-tag chghost echo-message multi-prefix"]  # no sasl
    assert "sasl" in caps.offered and caps.enabled == set()
    wire.feed(f":srv CAP {NICK} ACK :account-tag chghost echo-message multi-prefix")
    assert wire.sent[1:] == ["CAP END"]
    assert caps.enabled == {"account-tag", "chghost", "echo-message", "multi-prefix"}


async def test_nothing_in_common_or_refused_still_ends_negotiation() -> None:
    _, wire = await _negotiation()
    wire.feed(":srv CAP * LS :draft/only-this")
    assert wire.sent == ["CAP END"]
    caps, wire = await _negotiation()
    wire.feed(":srv CAP * LS :chghost", f":srv CAP {NICK} NAK :chghost")
    assert wire.sent == ["CAP REQ :chghost", "CAP END"]
    assert caps.enabled == set()


async def test_sasl_plain_exchange() -> None:
    caps, wire = await _negotiation(sasl_username="acct", sasl_password="pa ss")
    wire.feed(":srv CAP * LS :sasl multi-prefix", f":srv CAP {NICK} ACK :multi-prefix sasl")
    assert wire.sent == ["CAP REQ :multi-prefix sasl", "AUTHENTICATE PLAIN"]
    wire.feed("AUTHENTICATE +")
    [blob] = wire.sent[2:]
    assert base64.b64decode(blob.removeprefix("AUTHENTICATE ")) == b"acct\0acct\0pa ss"
    wire.feed(f":srv 903 {NICK} :SASL authentication successful")
    assert wire.sent[3:] == ["CAP END"]
    caps.reset()  # the next connection negotiates again
    assert caps.offered == set() and caps.enabled == set()


async def test_sasl_failure_is_logged_and_registration_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, wire = await _negotiation(sasl_username="acct", sasl_password="wrong")
    wire.feed(":srv CAP * LS :sasl", f":srv CAP {NICK} ACK :sasl", "AUTHENTICATE +")
    with caplog.at_level(logging.ERROR):
        wire.feed(f":srv 904 {NICK} :SASL authentication failed")
    assert wire.sent[-1] == "CAP END"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["IRC: SASL authentication failed (saslfail); continuing without"]


@pytest.mark.parametrize(("account", "answer"), [(None, "+"), ("tgbot", "dGdib3Q=")])
async def test_sasl_external_sends_the_account_or_plus_never_a_password(
    account: str | None, answer: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = IrcConfig(
        "h", NICK, tls_client_cert="bot.pem", sasl_mechanism="EXTERNAL", sasl_username=account
    )
    caps = CapNegotiation(config)
    table = EventTable()
    table.add(caps.handlers())
    wire = await library_connection(table)
    wire.feed(":srv CAP * LS :sasl=PLAIN,EXTERNAL")
    wire.feed(f":srv CAP {NICK} ACK :sasl", "AUTHENTICATE +")
    assert wire.sent == ["CAP REQ :sasl", "AUTHENTICATE EXTERNAL", f"AUTHENTICATE {answer}"]
    with caplog.at_level(logging.ERROR):
        wire.feed(f":srv 904 {NICK} :SASL authentication failed")
    assert wire.sent[3:] == ["CAP END"]
    assert [r.getMessage() for r in caplog.records] == [
        "IRC: SASL EXTERNAL refused (saslfail): the services know no account with the "
        "fingerprint of irc.tls_client_cert (add it with NickServ CERT ADD while logged in); "
        "continuing without"
    ]


async def test_a_certificate_without_sasl_asks_for_no_sasl() -> None:
    caps = CapNegotiation(IrcConfig("h", NICK, tls_client_cert="bot.pem"))
    table = EventTable()
    table.add(caps.handlers())
    wire = await library_connection(table)
    wire.feed(":srv CAP * LS :sasl=PLAIN,EXTERNAL multi-prefix")
    assert wire.sent == ["CAP REQ :multi-prefix"]  # CertFP: the TLS handshake is the login
