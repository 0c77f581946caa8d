"""End to end: the bot logs in with a client certificate, on InspIRCd + Atheme over TLS.

SASL EXTERNAL (Libera.Chat's way: the account holds the certificate's fingerprint, added
with NickServ CERT ADD), the certificate alone without SASL (OFTC's CertFP: services that know
the fingerprint log the bot in as it connects), and a certificate the services do not know:
refused with one clear error line, and the bridge relays all the same, logged out.
"""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path

import pytest

from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    human,
    running_bridge,
    watching_logs,
    write_config,
)
from tests.support.irc_client import IrcClient, connect
from tests.support.ircd import self_signed_cert
from tests.support.services import ServicesStack, nickserv, register_account, services_stack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

EXTERNAL_REFUSED = (
    "IRC: SASL EXTERNAL refused (saslfail): the services know no account with the fingerprint "
    "of irc.tls_client_cert (add it with NickServ CERT ADD while logged in); continuing without"
)


def client_cert(folder: Path, name: str, address: str) -> tuple[Path, str]:
    """A certificate (any will do: the helper's names an address) and its key in one PEM
    file, and its SHA-256 fingerprint as InspIRCd's sslinfo hands it to the services."""
    cert, key = self_signed_cert(folder / name, address)
    both = folder / f"{name}.pem"
    both.write_text(cert.read_text() + key.read_text())
    both.chmod(0o600)
    fingerprint = hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert.read_text())).hexdigest()
    return both, fingerprint


async def account_with_cert(stack: ServicesStack, fingerprint: str) -> None:
    """The account BOT_NICK registered, holding fingerprint; then its holder leaves."""
    owner = await connect(stack.host, stack.port, BOT_NICK)
    try:
        await register_account(owner, "bot-account-pass")
        await nickserv(owner, f"CERT ADD {fingerprint}", "fingerprint")
    finally:
        await owner.quit()


async def account_of(client: IrcClient, nick: str) -> str | None:
    """The account WHOIS says nick is logged in to (330), or None."""
    client.send_raw(f"WHOIS {nick}")
    seen = await client.wait_for(
        lambda ln: ln.command in {"330", "318"} and ln.params[1:2] == (nick,),
        10,
        description=f"WHOIS {nick}",
    )
    return seen.params[2] if seen.command == "330" else None


def bridge_config(
    tmp_path: Path, fake_tg: FakeTelegram, stack: ServicesStack, **irc: object
) -> Path:
    ca = tmp_path / "tls" / "cert.pem"
    return write_config(
        tmp_path / "config.toml",
        fake_tg,
        stack.ircd,
        irc={"port": stack.tls_port, "tls": True, "tls_ca_file": str(ca), **irc},
    )


@pytest.mark.parametrize("sasl", [True, False], ids=["sasl-external", "certfp-alone"])
async def test_the_bot_logs_in_with_its_certificate(
    tmp_path: Path, fake_tg: FakeTelegram, sasl: bool
) -> None:
    tls = self_signed_cert(tmp_path / "tls")
    pem, fingerprint = client_cert(tmp_path, "bot", "127.0.0.2")
    async with services_stack(tmp_path / "ircd", tls_cert=tls) as stack:
        await account_with_cert(stack, fingerprint)
        options: dict[str, object] = {"tls_client_cert": str(pem)}
        if sasl:
            options["sasl_mechanism"] = "EXTERNAL"
        config = bridge_config(tmp_path, fake_tg, stack, **options)
        with watching_logs() as logs:
            async with running_bridge(config):
                bob = await human(stack.ircd, "bob", CHANNEL)
                try:
                    assert await account_of(bob, BOT_NICK) == BOT_NICK
                    fake_tg.push_text(GROUP, ALICE, "hello")
                    [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
                    assert line.text == "<Alice Smith> hello"
                finally:
                    await bob.close()
        assert not [r for r in logs.records if r.levelname == "ERROR"]


async def test_a_certificate_the_services_do_not_know_is_one_clear_error(
    tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    tls = self_signed_cert(tmp_path / "tls")
    _, known = client_cert(tmp_path, "bot", "127.0.0.2")
    stranger, _ = client_cert(tmp_path, "stranger", "127.0.0.3")
    async with services_stack(tmp_path / "ircd", tls_cert=tls) as stack:
        await account_with_cert(stack, known)
        config = bridge_config(
            tmp_path, fake_tg, stack, tls_client_cert=str(stranger), sasl_mechanism="EXTERNAL"
        )
        with watching_logs() as logs:
            async with running_bridge(config):
                bob = await human(stack.ircd, "bob", CHANNEL)
                try:
                    assert await account_of(bob, BOT_NICK) is None
                    fake_tg.push_text(GROUP, ALICE, "still relayed")
                    [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
                    assert line.text == "<Alice Smith> still relayed"
                finally:
                    await bob.close()
        errors = [r.getMessage() for r in logs.records if r.levelname == "ERROR"]
        assert errors == [EXTERNAL_REFUSED]
        assert not any("PRIVATE KEY" in line for line in logs.lines)
