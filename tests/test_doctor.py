"""`tgirc-bridge doctor` (issue 25, items 1 and 5): one line per check, each fault named, exit
1; exit 0 on a good setup. Run as the operator runs it, a subprocess, against the strict fake
Bot API and real IRC servers (ngircd; InspIRCd for channel modes; InspIRCd + Atheme for a
registered nick)."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from pathlib import Path

from bridge.checks import failed, passed
from bridge.doctor.report import exit_status, render
from tests.support.fake_telegram import FakeTelegram, TgUser
from tests.support.harness import (
    ALICE,
    BOT_NICK,
    CHANNEL,
    GROUP,
    human,
    running_bridge,
    write_config,
)
from tests.support.irc_client import connect
from tests.support.ircd import IrcServer, inspircd_server, ngircd_server, self_signed_cert
from tests.support.ports import free_port
from tests.support.proc_harness import run_cli
from tests.support.services import nickserv, register_account, services_stack
from tests.support.smtp import PASSWORD, USER, SmtpServer

TITLE = "Bridge group"  # the fake_tg fixture's group
OWNER = TgUser(1, "Owner")
NAME = f"{GROUP} ({TITLE})"
TELEGRAM_OK = [
    "✓ telegram: Bot API reachable, token valid (@BridgeBot)",
    "✓ telegram: privacy mode is off: the bot sees every group message",
    "✓ telegram: no webhook set",
    f"✓ telegram: {NAME} is a supergroup",
    f"✓ telegram: the bot is an administrator of {NAME}",
]
PRIVACY_ON = (
    "✗ telegram: privacy mode is on: the bot sees only commands; in @BotFather /setprivacy → "
    "Disable, then remove and re-add the bot"
)
READ_ONLY = {"getMe", "getWebhookInfo", "getChat", "getChatMember"}


def good_telegram(fake: FakeTelegram) -> None:
    fake.chats[GROUP].administrators = [OWNER, fake.bot_user]  # reactions need an admin
    fake.reads_all_group_messages = True


def irc_ok(server: IrcServer, *channels: str) -> list[str]:
    return [
        f"✓ irc: connected to {server.host}:{server.port} (plain text)",
        f"✓ irc: registered as {BOT_NICK}-doctor on irc.test.local",
        *(f"✓ irc: {channel} can be joined" for channel in channels),
    ]


async def doctor(config: Path, fake: FakeTelegram) -> tuple[int, list[str]]:
    """Exit code and stdout lines; nothing polled, and the token printed nowhere."""
    code, out, err = await run_cli("doctor", "--config", str(config), "--timeout", "5")
    assert fake.token not in out + err and fake.token.split(":")[1] not in out + err
    assert set(fake.calls) <= READ_ONLY, fake.calls  # never getUpdates
    assert err == "", err
    return code, out.splitlines()


def test_no_line_shows_a_secret_or_a_control_character() -> None:
    checks = [failed("irc: NickServ said: wrong pass hunter2-x\x1b[2J"), passed("web: ok")]
    assert render(checks, ["hunter2-x", ""]) == [
        "✗ irc: NickServ said: wrong pass <secret> [2J",
        "✓ web: ok",
    ]
    assert exit_status(checks) == 1 and exit_status(checks[1:]) == 0


async def test_all_well_exits_0(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer, smtp_tls: SmtpServer
) -> None:
    good_telegram(fake_tg)
    config = write_config(tmp_path / "c.toml", fake_tg, ngircd)
    port = free_port()
    with config.open("a") as out:
        out.write(f'\n[web]\npublic_url = "https://tg.example.net"\nlisten = "127.0.0.1:{port}"\n')
        out.write("\n" + smtp_tls.mail_table(username=USER, password=PASSWORD))
    code, lines = await doctor(config, fake_tg)
    assert lines == [
        *TELEGRAM_OK,
        *irc_ok(ngircd, CHANNEL),
        "✓ web: public_url https://tg.example.net is well formed",
        f"✓ web: 127.0.0.1:{port} is free",
        f"✓ mail: {smtp_tls.host}:{smtp_tls.port} answers (STARTTLS, AUTH as {USER}), nothing sent",
    ]
    assert code == 0
    assert set(fake_tg.calls) == READ_ONLY
    assert smtp_tls.received == []


async def test_all_well_on_ircd_hybrid(
    tmp_path: Path, fake_tg: FakeTelegram, hybrid: IrcServer
) -> None:
    good_telegram(fake_tg)
    code, lines = await doctor(write_config(tmp_path / "c.toml", fake_tg, hybrid), fake_tg)
    assert lines == [*TELEGRAM_OK, *irc_ok(hybrid, CHANNEL)]
    assert code == 0


async def test_privacy_mode_on(tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer) -> None:
    good_telegram(fake_tg)
    fake_tg.reads_all_group_messages = False
    code, lines = await doctor(write_config(tmp_path / "c.toml", fake_tg, ngircd), fake_tg)
    assert lines == [TELEGRAM_OK[0], PRIVACY_ON, *TELEGRAM_OK[2:], *irc_ok(ngircd, CHANNEL)]
    assert code == 1


async def test_bot_not_in_the_chat(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    fake_tg.reads_all_group_messages = True
    del fake_tg.chats[GROUP]  # unknown to the bot
    code, lines = await doctor(write_config(tmp_path / "c.toml", fake_tg, ngircd), fake_tg)
    assert lines == [
        *TELEGRAM_OK[:3],
        f"✗ telegram: the bot is not in {GROUP} or it does not exist (Chat not found): add the "
        "bot to the group, or correct [[bridge]] telegram_chat",
        *irc_ok(ngircd, CHANNEL),
    ]
    assert code == 1


async def test_webhook_set(tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer) -> None:
    good_telegram(fake_tg)
    fake_tg.webhook_url = "https://hooks.example.org/secret-path"
    code, lines = await doctor(write_config(tmp_path / "c.toml", fake_tg, ngircd), fake_tg)
    assert lines == [
        *TELEGRAM_OK[:2],
        "✗ telegram: a webhook is set (to hooks.example.org), so the bridge cannot poll: "
        "remove it with the Bot API's deleteWebhook",
        *TELEGRAM_OK[3:],
        *irc_ok(ngircd, CHANNEL),
    ]
    assert code == 1


async def test_topic_pair_on_a_group_that_is_not_a_forum(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    good_telegram(fake_tg)
    config = write_config(tmp_path / "c.toml", fake_tg, ngircd, pairs=())
    with config.open("a") as out:
        out.write(f'\n[[bridge]]\ntelegram_chat = {GROUP}\nirc_channel = "#topic"\n')
        out.write("telegram_topic = 5\n")
    code, lines = await doctor(config, fake_tg)
    assert lines == [
        *TELEGRAM_OK[:4],
        f"✗ telegram: {NAME} is not a forum, but #topic is paired with its topic 5: turn "
        "Topics on in the group's settings, or remove telegram_topic",
        TELEGRAM_OK[4],
        *irc_ok(ngircd, "#topic"),
    ]
    assert code == 1


async def test_a_bot_api_that_does_not_answer_hides_nothing_of_irc(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    good_telegram(fake_tg)
    fake_tg.slow("getme", 30.0)
    config = write_config(tmp_path / "c.toml", fake_tg, ngircd, telegram={"request_timeout": 30})
    started = time.monotonic()
    code, out, _ = await run_cli("doctor", "--config", str(config), "--timeout", "4")
    assert out.splitlines() == [
        "✗ telegram: no answer within 12s",  # three steps of 4 s: getMe, then the rest at once
        *irc_ok(ngircd, CHANNEL),
    ]
    assert code == 1
    assert time.monotonic() - started < 25  # not the 30 s the Bot API would take


async def test_irc_server_down(tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer) -> None:
    good_telegram(fake_tg)
    port = free_port()  # nothing listens there
    config = write_config(tmp_path / "c.toml", fake_tg, ngircd, irc={"port": port})
    code, lines = await doctor(config, fake_tg)
    assert lines == [
        *TELEGRAM_OK,
        f"✗ irc: cannot connect to 127.0.0.1:{port} (Connection refused): is the server up? "
        "check irc.host and irc.port",
    ]
    assert code == 1


async def test_tls_certificate_verified_with_the_configured_ca(
    tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    good_telegram(fake_tg)
    cert, key = self_signed_cert(tmp_path / "cert")
    async with ngircd_server(tmp_path / "ircd", tls_cert=(cert, key)) as ircd:
        tls = {"tls": True, "tls_ca_file": str(cert)}
        code, lines = await doctor(
            write_config(tmp_path / "c.toml", fake_tg, ircd, irc=tls), fake_tg
        )
    assert lines == [
        *TELEGRAM_OK,
        f"✓ irc: connected to {ircd.host}:{ircd.port} (TLS, certificate verified)",
        *irc_ok(ircd, CHANNEL)[1:],
    ]
    assert code == 0


async def test_tls_certificate_not_trusted(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    good_telegram(fake_tg)
    cert, key = self_signed_cert(tmp_path / "cert")
    async with ngircd_server(tmp_path / "ircd", tls_cert=(cert, key)) as ircd:
        tls = {"tls": True}  # verified against the system's CAs only
        code, lines = await doctor(
            write_config(tmp_path / "c.toml", fake_tg, ircd, irc=tls), fake_tg
        )
    assert lines == [
        *TELEGRAM_OK,
        f"✗ irc: the TLS certificate of {ircd.host}:{ircd.port} is refused (self-signed "
        "certificate): set irc.tls_ca_file to its CA, or irc.tls_verify = false",
    ]
    assert code == 1


async def test_registered_nick_without_a_password(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    good_telegram(fake_tg)
    async with services_stack(tmp_path / "irc") as stack:
        owner = await connect(stack.host, stack.port, BOT_NICK)
        await register_account(owner, "owner-pass-1")
        await nickserv(owner, "SET ENFORCE ON", "ENFORCE")
        await owner.quit()
        config = write_config(tmp_path / "c.toml", fake_tg, stack.ircd)
        code, lines = await doctor(config, fake_tg)
        ok = irc_ok(stack.ircd, CHANNEL)
    assert lines == [
        *TELEGRAM_OK,
        *ok[:2],
        f"✗ irc: the nick {BOT_NICK} is registered with services and protected (services take "
        "it back) and no password is given: set irc.sasl_username and irc.sasl_password (or "
        "irc.nickserv_password)",
        *ok[2:],
    ]
    assert code == 1


async def test_wrong_sasl_password(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    good_telegram(fake_tg)
    async with services_stack(tmp_path / "irc") as stack:
        owner = await connect(stack.host, stack.port, BOT_NICK)
        await register_account(owner, "owner-pass-1")
        await owner.quit()
        sasl = {"sasl_username": BOT_NICK, "sasl_password": "not-the-pass"}
        config = write_config(tmp_path / "c.toml", fake_tg, stack.ircd, irc=sasl)
        code, lines = await doctor(config, fake_tg)
        ok = irc_ok(stack.ircd, CHANNEL)
    assert lines == [
        *TELEGRAM_OK,
        ok[0],
        f"✗ irc: SASL login as {BOT_NICK} refused (904 SASL authentication failed): check "
        "irc.sasl_username and irc.sasl_password",
        *ok[1:],
    ]
    assert code == 1


def client_cert(folder: Path, name: str, address: str) -> tuple[Path, str]:
    """A certificate and its key in one PEM file, and its SHA-256 fingerprint as InspIRCd's
    sslinfo hands it to the services (as tests/test_e2e_client_cert.py makes them)."""
    cert, key = self_signed_cert(folder / name, address)
    both = folder / f"{name}.pem"
    both.write_text(cert.read_text() + key.read_text())
    both.chmod(0o600)
    fingerprint = hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert.read_text())).hexdigest()
    return both, fingerprint


async def doctor_with_cert(
    tmp_path: Path, fake_tg: FakeTelegram, presented: str, **irc: object
) -> tuple[int, list[str], list[str]]:
    """doctor on InspIRCd + Atheme over TLS, the account BOT_NICK holding the "bot"
    certificate's fingerprint, the doctor presenting the one named; (code, lines, the IRC
    lines expected when all is well)."""
    good_telegram(fake_tg)
    tls = self_signed_cert(tmp_path / "tls")
    pem, fingerprint = client_cert(tmp_path, "bot", "127.0.0.2")
    if presented != "bot":
        pem, _ = client_cert(tmp_path, presented, "127.0.0.3")
    async with services_stack(tmp_path / "ircd", tls_cert=tls) as stack:
        owner = await connect(stack.host, stack.port, BOT_NICK)
        await register_account(owner, "bot-account-pass")
        await nickserv(owner, f"CERT ADD {fingerprint}", "fingerprint")
        await owner.quit()
        options = {"port": stack.tls_port, "tls": True, "tls_ca_file": str(tls[0])}
        config = write_config(
            tmp_path / "c.toml",
            fake_tg,
            stack.ircd,
            irc={**options, "tls_client_cert": str(pem), **irc},
        )
        code, lines = await doctor(config, fake_tg)
    ok = [
        f"✓ irc: connected to 127.0.0.1:{stack.tls_port} (TLS, certificate verified)",
        f"✓ irc: registered as {BOT_NICK}-doctor on irc.test.local",
        f"✓ irc: {CHANNEL} can be joined",
    ]
    return code, lines, ok


async def test_sasl_external_with_the_client_certificate(
    tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    code, lines, ok = await doctor_with_cert(tmp_path, fake_tg, "bot", sasl_mechanism="EXTERNAL")
    assert lines == [
        *TELEGRAM_OK,
        ok[0],
        "✓ irc: SASL EXTERNAL login with the client certificate succeeds",
        *ok[1:],
    ]
    assert code == 0


async def test_certfp_alone_logs_in(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    code, lines, ok = await doctor_with_cert(tmp_path, fake_tg, "bot")
    assert lines == [
        *TELEGRAM_OK,
        *ok[:2],
        f"✓ irc: logged in as {BOT_NICK} by the client certificate",
        ok[2],
    ]
    assert code == 0


async def test_a_certificate_the_services_do_not_know(
    tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    code, lines, ok = await doctor_with_cert(
        tmp_path, fake_tg, "stranger", sasl_mechanism="EXTERNAL"
    )
    assert lines == [
        *TELEGRAM_OK,
        ok[0],
        "✗ irc: SASL EXTERNAL login with the client certificate refused (904 SASL "
        "authentication failed): add its fingerprint to the account (NickServ CERT ADD), or "
        "check irc.tls_client_cert",
        *ok[1:],
    ]
    assert code == 1


async def test_invite_only_channel(tmp_path: Path, fake_tg: FakeTelegram) -> None:
    good_telegram(fake_tg)
    async with inspircd_server(tmp_path / "ircd") as ircd:
        op = await human(ircd, "op", CHANNEL)  # first in: channel operator
        op.send_raw(f"MODE {CHANNEL} +i")
        await op.wait_command("MODE")
        code, lines = await doctor(write_config(tmp_path / "c.toml", fake_tg, ircd), fake_tg)
        await op.quit()
    assert lines == [
        *TELEGRAM_OK,
        *irc_ok(ircd)[:2],
        f"✗ irc: cannot join {CHANNEL}: it is invite-only (+i): invite the bot, or give it an "
        "invite exception (+I) (473)",
    ]
    assert code == 1


async def test_smtp_server_refusing_auth(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer, smtp_tls: SmtpServer
) -> None:
    good_telegram(fake_tg)
    config = write_config(tmp_path / "c.toml", fake_tg, ngircd)
    with config.open("a") as out:
        out.write("\n" + smtp_tls.mail_table(username=USER, password="not the password"))
    code, lines = await doctor(config, fake_tg)
    assert lines == [
        *TELEGRAM_OK,
        *irc_ok(ngircd, CHANNEL),
        f"✗ mail: {smtp_tls.host}:{smtp_tls.port} answered 535 5.7.8 Authentication credentials "
        "invalid: check [mail] host, port, tls, username and password (nothing was sent)",
    ]
    assert code == 1
    assert smtp_tls.received == []


async def test_a_running_bridge_keeps_relaying_while_doctor_runs(
    tmp_path: Path, fake_tg: FakeTelegram, ngircd: IrcServer
) -> None:
    good_telegram(fake_tg)
    config = write_config(tmp_path / "c.toml", fake_tg, ngircd, telegram={"request_timeout": 15})
    port = free_port()
    with config.open("a") as out:
        out.write(f'\n[web]\npublic_url = "https://tg.example.net"\nlisten = "127.0.0.1:{port}"\n')
    async with running_bridge(config):
        bob = await human(ngircd, "bob", CHANNEL)
        fake_tg.slow("getchatmember", 5.0)  # the doctor's last Telegram check: it stays running
        run = asyncio.create_task(run_cli("doctor", "--config", str(config)))
        await bob.wait_for(
            lambda ln: ln.command == "JOIN" and ln.source_nick == f"{BOT_NICK}-doctor",
            description="the doctor's JOIN",
        )
        bob.privmsg(CHANNEL, "hello while the doctor looks")
        [sent] = await fake_tg.wait_sent(lambda m: m.chat_id == GROUP)
        fake_tg.push_text(GROUP, ALICE, "and back")
        [line] = await bob.expect_privmsgs(CHANNEL, 1, source_nick=BOT_NICK)
        assert not run.done()  # both relayed during the doctor's run
        code, out, _ = await run
        await bob.quit()
    assert sent.visible_text == "bob: hello while the doctor looks"
    assert line.text == "<Alice Smith> and back"
    assert out.splitlines() == [
        *TELEGRAM_OK,
        *irc_ok(ngircd, CHANNEL),
        "✓ web: public_url https://tg.example.net is well formed",
        f"✓ web: 127.0.0.1:{port} is held by this bridge, which is running (/healthz)",
    ]
    assert code == 0
