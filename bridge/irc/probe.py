"""What `tgirc-bridge doctor` checks on IRC, on a connection and under a nick of its own.

A small line reader rather than the bridge's IrcConnector: the doctor must not disturb a
running bridge (its nick, its channels' state), and each step here wants its own answer
(the numeric that refused a JOIN, the 904 that refused SASL) rather than a reconnect loop.
Every wait is bounded by ``step`` seconds; passwords and keys are written, never printed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import random
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bridge.checks import Check, failed, passed
from bridge.config_checks import load_client_certificate
from bridge.config_model import IrcConfig
from bridge.display_names import clean_name

STEP = 10.0
"""Seconds each step (connect, register, log in, each JOIN) may take."""
QUIT_WAIT = 2.0
CERTFP_WAIT = 3.0
"""Seconds services get to log a client certificate in (CertFP) after registration."""
JOIN_REFUSALS = {
    "471": "it is full (+l)",
    "473": "it is invite-only (+i): invite the bot, or give it an invite exception (+I)",
    "474": "the bot is banned (+b): lift the ban, or add a ban exception (+e)",
    "475": "the key is wrong or missing (+k): set irc_key in its [[bridge]] table",
    "477": "it takes only nicks logged in to services (+r): set the bot's services login",
    "403": "there is no such channel",
    "405": "the bot is in too many channels",
    "489": "it takes only TLS connections (+z)",
    "520": "it takes only IRC operators (+O)",
}
REGISTRATION_ERRORS = frozenset({"431", "432", "433", "436", "437", "464", "465", "ERROR"})
SASL_FAILED = frozenset({"902", "904", "905", "906", "908"})
NICKSERV_OK = ("now identified", "now logged in", "you are now", "password accepted")


@dataclass(frozen=True, slots=True)
class Line:
    source: str
    command: str
    params: tuple[str, ...]

    @property
    def nick(self) -> str:
        return self.source.split("!", 1)[0]

    @property
    def text(self) -> str:
        return clean_name(self.params[-1]) if self.params else ""


def parse(raw: bytes) -> Line:
    """One IRC line (tags dropped: nothing here needs them)."""
    text = raw.decode("utf-8", "replace").rstrip("\r\n")
    if text.startswith("@"):
        text = text.partition(" ")[2]
    source = ""
    if text.startswith(":"):
        source, _, text = text[1:].partition(" ")
    head, _, trailing = text.partition(" :")
    words = head.split()
    params = [*words[1:], trailing] if " :" in text else words[1:]
    return Line(source, words[0].upper() if words else "", tuple(params))


def fold(name: str) -> str:
    """rfc1459 case folding, the most common casemapping, for comparing names."""
    return name.lower().translate(str.maketrans("[]\\~", "{}|^"))


def tls_context(config: IrcConfig) -> ssl.SSLContext | None:
    """The same verification as the bridge's own connection."""
    if not config.tls:
        return None
    context = ssl.create_default_context(cafile=config.tls_ca_file)
    if not config.tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if config.tls_client_cert:  # CertFP, SASL EXTERNAL
        load_client_certificate(context, config.tls_client_cert, config.tls_client_key)
    return context


class Wire:
    """Lines in and out; answers PING itself, so a slow step is never a ping timeout."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.account: str | None = None
        """The account services logged this connection in to (900), if any."""

    def send(self, line: str) -> None:
        if any(c in line for c in "\r\n\0"):
            raise ValueError("a line to send holds CR, LF or NUL")
        self._writer.write(line.encode() + b"\r\n")

    async def until(self, wanted: Callable[[Line], bool], step: float) -> Line:
        async with asyncio.timeout(step):
            while True:
                raw = await self._reader.readline()
                if not raw:
                    raise ConnectionError("the server closed the connection")
                line = parse(raw)
                if line.command == "900" and len(line.params) >= 3:
                    self.account = line.params[2]
                if line.command == "PING":
                    self.send(f"PONG :{line.params[-1] if line.params else ''}")
                elif wanted(line):
                    return line

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(self._writer.wait_closed(), QUIT_WAIT)


def doctor_nicks(nick: str) -> list[str]:
    """The nick + "-doctor", then shorter ones with a random number (NICKLEN, nick in use)."""
    return [f"{nick}-doctor", *(f"{nick[:4]}-{random.randrange(10_000):04d}" for _ in range(3))]


async def probe_irc(
    config: IrcConfig, channels: Sequence[tuple[str, str | None]], step: float = STEP
) -> list[Check]:
    """Connect, register, log in as configured, join and part each channel, quit."""
    where = f"{config.host}:{config.port}"
    try:
        context = tls_context(config)
    except (ValueError, OSError) as exc:  # a file changed since check-config
        return [failed(f"irc: irc.tls_client_cert cannot be loaded ({exc}): check the file")]
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(config.host, config.port, ssl=context), step
        )
    except ssl.SSLCertVerificationError as exc:
        return [
            failed(
                f"irc: the TLS certificate of {where} is refused ({exc.verify_message}): set "
                "irc.tls_ca_file to its CA, or irc.tls_verify = false"
            )
        ]
    except ssl.SSLError as exc:
        return [
            failed(
                f"irc: the TLS handshake with {where} failed ({exc.reason}): is irc.port a TLS "
                "port? (irc.tls = false for a plain one)"
            )
        ]
    except TimeoutError:
        return [
            failed(
                f"irc: no answer from {where} within {step:.0f}s: check irc.host, "
                "irc.port and the firewall"
            )
        ]
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc) or type(exc).__name__
        return [
            failed(
                f"irc: cannot connect to {where} ({why}): is the server up? check "
                "irc.host and irc.port"
            )
        ]
    if not config.tls:
        how = "plain text"
    elif config.tls_verify:
        how = "TLS, certificate verified"
    else:
        how = "TLS, certificate not verified (irc.tls_verify = false)"
    checks = [passed(f"irc: connected to {where} ({how})")]
    wire = Wire(reader, writer)
    doing = "registration"
    try:
        nick = await _register(wire, config, checks, step)
        if nick is not None:
            doing = "the services login"
            await _services(wire, config, checks, step)
            for channel, key in channels:
                doing = f"JOIN {channel}"
                checks.append(await _join(wire, nick, channel, key, step))
            wire.send("QUIT :tgirc-bridge doctor")
            with contextlib.suppress(TimeoutError, ConnectionError):
                await wire.until(lambda line: line.command == "ERROR", QUIT_WAIT)
    except TimeoutError:
        checks.append(failed(f"irc: no answer from the server within {step:.0f}s ({doing})"))
    except ConnectionError as exc:
        checks.append(failed(f"irc: {exc} ({doing})"))
    finally:
        await wire.close()
    return checks


async def _register(wire: Wire, config: IrcConfig, checks: list[Check], step: float) -> str | None:
    """The nick registered under, or None (the failure is in checks)."""
    mechanism = config.sasl_mechanism
    sasl = config.sasl_username is not None or mechanism == "EXTERNAL"
    external = mechanism == "EXTERNAL"
    how = "SASL EXTERNAL login with the client certificate" if external else "SASL login"
    who = f"{how} as {config.sasl_username}" if config.sasl_username else how
    fix = (
        "add its fingerprint to the account (NickServ CERT ADD), or check irc.tls_client_cert"
        if external
        else "check irc.sasl_username and irc.sasl_password"
    )
    before = len(checks)  # what registration adds is SASL's outcome
    if sasl:
        wire.send("CAP LS 302")
    if config.password:
        wire.send(f"PASS {config.password}")
    nicks = doctor_nicks(config.nick)
    wire.send(f"NICK {nicks.pop(0)}")
    wire.send(f"USER {config.username} 0 * :tgirc-bridge doctor")
    offered: set[str] = set()
    while True:
        line = await wire.until(lambda _: True, step)
        cmd, params = line.command, line.params
        if cmd == "CAP" and len(params) >= 3 and params[1] == "LS":
            offered.update(cap.split("=", 1)[0] for cap in params[-1].split())
            if params[2] != "*":  # the last LS line
                if "sasl" in offered:
                    wire.send("CAP REQ :sasl")
                else:
                    checks.append(
                        failed(
                            "irc: the server offers no SASL: remove irc.sasl_username and "
                            "irc.sasl_password (or use irc.nickserv_password)"
                        )
                    )
                    wire.send("CAP END")
        elif cmd == "CAP" and len(params) >= 2 and params[1] in ("ACK", "NAK"):
            if params[1] == "ACK":
                wire.send(f"AUTHENTICATE {mechanism}")
            else:
                checks.append(failed("irc: the server refused the SASL capability"))
                wire.send("CAP END")
        elif cmd == "AUTHENTICATE" and params == ("+",) and mechanism == "EXTERNAL":
            account = config.sasl_username or ""
            wire.send(f"AUTHENTICATE {base64.b64encode(account.encode()).decode() or '+'}")
        elif cmd == "AUTHENTICATE" and params == ("+",):
            _send_plain(wire, config)
        elif cmd == "903":
            checks.append(passed(f"irc: {who} succeeds"))
            wire.send("CAP END")
        elif cmd in SASL_FAILED:
            checks.append(failed(f"irc: {who} refused ({cmd} {line.text}): {fix}"))
            wire.send("CAP END")
        elif cmd in ("432", "433", "436", "437") and nicks:
            wire.send(f"NICK {nicks.pop(0)}")
        elif cmd == "464":
            checks.append(failed("irc: the server refuses irc.password: check it"))
            return None
        elif cmd in REGISTRATION_ERRORS:
            checks.append(failed(f"irc: the server refused the registration ({cmd} {line.text})"))
            return None
        elif cmd == "001":
            if sasl and len(checks) == before:
                checks.append(failed("irc: the server did not answer CAP LS: it has no SASL"))
            nick = params[0] if params else "?"
            checks.append(passed(f"irc: registered as {nick} on {line.source or '?'}"))
            return nick


def _send_plain(wire: Wire, config: IrcConfig) -> None:
    user = config.sasl_username or ""
    blob = f"{user}\0{user}\0{config.sasl_password or ''}".encode()
    encoded = base64.b64encode(blob).decode()
    chunks = [encoded[i : i + 400] for i in range(0, len(encoded), 400)]
    for chunk in chunks:
        wire.send(f"AUTHENTICATE {chunk}")
    if len(chunks[-1]) == 400:
        wire.send("AUTHENTICATE +")


async def _services(wire: Wire, config: IrcConfig, checks: list[Check], step: float) -> None:
    """NickServ IDENTIFY with the configured password, or, with no login configured, ask
    NickServ whether the bridge's nick is registered (then it needs one)."""
    if config.sasl_username is not None or config.sasl_mechanism == "EXTERNAL":
        return
    if config.tls_client_cert and not config.nickserv_password:
        # CertFP: services that know the certificate log the connection in by themselves
        with contextlib.suppress(TimeoutError):
            if wire.account is None:
                await wire.until(lambda line: line.command == "900", min(step, CERTFP_WAIT))
        if wire.account is not None:
            checks.append(passed(f"irc: logged in as {wire.account} by the client certificate"))
            return

    def from_nickserv(line: Line) -> bool:
        return (line.command == "NOTICE" and fold(line.nick) == "nickserv") or (
            line.command in ("401", "900") and len(line.params) >= 2
        )

    if config.nickserv_password:
        wire.send(f"PRIVMSG NickServ :IDENTIFY {config.nick} {config.nickserv_password}")
        line = await wire.until(from_nickserv, step)
        if line.command == "401":
            checks.append(
                failed("irc: there is no NickServ on this network: remove irc.nickserv_password")
            )
        elif line.command == "900" or any(s in line.text.lower() for s in NICKSERV_OK):
            checks.append(passed(f"irc: NickServ login as {config.nick} succeeds"))
        else:
            checks.append(
                failed(
                    f"irc: NickServ refuses the login as {config.nick} "
                    f"({line.text}): check irc.nickserv_password"
                )
            )
        return
    wire.send(f"PRIVMSG NickServ :INFO {config.nick}")
    try:
        line = await wire.until(from_nickserv, step)
    except TimeoutError:
        return  # no NickServ that answers: nothing to log in to
    if line.command != "NOTICE" or "not registered" in line.text.lower():
        return
    protected = False
    with contextlib.suppress(TimeoutError):  # the rest of INFO: is the nick protected?
        while "end of info" not in line.text.lower():
            text = line.text.lower()
            protected = protected or "protection" in text or "enforce" in text
            line = await wire.until(from_nickserv, QUIT_WAIT)
    how = " and protected (services take it back)" if protected else ""
    if config.tls_client_cert:
        how += ", the client certificate logged in to no account (NickServ CERT ADD),"
    checks.append(
        failed(
            f"irc: the nick {config.nick} is registered with services{how} and no password is "
            "given: set irc.sasl_username and irc.sasl_password (or irc.nickserv_password)"
        )
    )


async def _join(wire: Wire, nick: str, channel: str, key: str | None, step: float) -> Check:
    wire.send(f"JOIN {channel} {key}" if key else f"JOIN {channel}")

    def answer(line: Line) -> bool:
        if line.command == "JOIN" and fold(line.nick) == fold(nick):
            return bool(line.params) and fold(line.params[0]) == fold(channel)
        return (
            line.command.isdigit()
            and line.command[0] in "45"
            and len(line.params) >= 2
            and fold(line.params[1]) == fold(channel)
        )

    line = await wire.until(answer, step)
    if line.command != "JOIN":
        why = JOIN_REFUSALS.get(line.command, line.text)
        return failed(f"irc: cannot join {channel}: {why} ({line.command})")
    wire.send(f"PART {channel} :tgirc-bridge doctor")
    with contextlib.suppress(TimeoutError):
        await wire.until(lambda ln: ln.command == "PART" and fold(ln.nick) == fold(nick), step)
    return passed(f"irc: {channel} can be joined")
