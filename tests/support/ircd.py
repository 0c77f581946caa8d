"""Real IRC servers (ngircd 26, InspIRCd 3) on loopback for end-to-end tests.

Why real servers: a fake IRC server tends to accept whatever the bridge writes (lines over
512 bytes, floods, CR injection), which hides exactly the bugs that break the bridge on a
real network.  Both daemons start in about a second from a config written to a temp dir.

Usage::

    async with ngircd_server(tmp_path) as srv:          # or inspircd_server(tmp_path)
        client = await connect(srv.host, srv.port, "alice")

Measured here: both daemons accept TCP ~0.05 s after spawn.  InspIRCd finishes a client's
registration on its once-per-second background tick, so each connect takes ~1 s there;
ngircd applies a ~1 s penalty after JOIN/QUIT.  Budget for that in test timeouts.

Flood behaviour of the defaults (see /work/shared/PITFALLS.md): ngircd throttles a flooding
client by not reading from it (~2.5-3 lines/s, nothing is lost, latency grows); InspIRCd
disconnects a client whose unread input exceeds ``recvq`` bytes with
``ERROR :Closing link: (...) [RecvQ exceeded]`` and otherwise fake-lags it to ~1 line/s.
"""

# bounded `timeout=` parameters are this helper's API

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Literal

from tests.support.ports import free_port

NGIRCD_BIN = shutil.which("ngircd") or "/usr/sbin/ngircd"
INSPIRCD_BIN = shutil.which("inspircd") or "/usr/sbin/inspircd"
INSPIRCD_MODULE_DIR = Path("/usr/lib/inspircd/modules")

SERVER_NAME = "irc.test.local"
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

Kind = Literal["ngircd", "inspircd", "hybrid"]


class IrcServerError(RuntimeError):
    """The server failed to start or become ready (message includes its log)."""


class IrcServer:
    """One IRC daemon process bound to ``host:port`` with its config in ``workdir``.

    ``start()`` waits until the port accepts TCP connections (bounded by
    ``READY_TIMEOUT``); ``restart()`` keeps the same port so clients can test reconnects.
    ``startup_seconds`` holds the measured duration of the last ``start()``.
    """

    def __init__(
        self,
        kind: Kind,
        workdir: Path,
        port: int,
        argv: list[str],
        log_path: Path,
        host: str = "127.0.0.1",
    ) -> None:
        self.kind: Kind = kind
        self.workdir = workdir
        self.host = host
        self.port = port
        self.argv = argv
        self.log_path = log_path
        self.output_path = workdir / f"{kind}.out"
        self.startup_seconds: float | None = None
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def logs(self) -> str:
        """Daemon stdout/stderr plus its log file (for failure messages)."""
        parts = []
        for path in dict.fromkeys((self.output_path, self.log_path)):
            with contextlib.suppress(OSError):
                parts.append(f"--- {path.name} ---\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)

    async def start(self) -> None:
        """Spawn the daemon in the foreground and wait until the port accepts."""
        if self.running:
            raise IrcServerError(f"{self.kind} already running on port {self.port}")
        began = time.monotonic()
        with self.output_path.open("ab") as out:
            self._proc = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=self.workdir,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            await self._wait_ready(READY_TIMEOUT)
        except BaseException:
            await self.stop()
            raise
        self.startup_seconds = time.monotonic() - began

    async def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error: OSError | None = None
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.returncode is not None:
                raise IrcServerError(
                    f"{self.kind} exited with {self._proc.returncode} before listening on "
                    f"{self.host}:{self.port}\n{self.logs()}"
                )
            try:
                _, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), timeout=1.0
                )
            except (OSError, TimeoutError) as exc:
                last_error = exc if isinstance(exc, OSError) else None
                # Bounded retry: the daemon is still parsing its config / binding.
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        raise IrcServerError(
            f"{self.kind} not accepting on {self.host}:{self.port} after {timeout}s "
            f"(last error {last_error!r})\n{self.logs()}"
        )

    async def stop(self) -> None:
        """SIGTERM, wait up to ``STOP_TIMEOUT`` s, then SIGKILL."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout=STOP_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await asyncio.wait_for(proc.wait(), timeout=STOP_TIMEOUT)

    async def restart(self) -> None:
        """Stop, then start again on the same port (clients see a disconnect)."""
        await self.stop()
        await self.start()

    async def __aenter__(self) -> IrcServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def __repr__(self) -> str:
        return f"<IrcServer {self.kind} {self.host}:{self.port} pid={self.pid}>"


def _workdir(tmp_path: Path, kind: str) -> Path:
    base = Path(tmp_path) / kind
    n = 0
    while (path := base.with_name(f"{kind}{n or ''}")).exists():
        n += 1
    path.mkdir(parents=True)
    return path


def ngircd_server(
    tmp_path: Path,
    *,
    channels: tuple[str, ...] | list[str] = ("#bridge",),
    port: int | None = None,
    max_nick_length: int = 30,
    ping_timeout: int = 120,
    password: str | None = None,
    tls_cert: tuple[Path, Path] | None = None,
) -> IrcServer:
    """An ngircd 26 server (not started yet; use ``async with`` or ``await start()``).

    ``password`` sets a server password (PASS); ``tls_cert`` = (cert, key) makes ``port``
    a TLS-only port (the plain port is then another free one).

    ``channels`` are pre-defined persistent channels (mode +P), so they exist before any
    client joins and survive when everybody leaves.  Nick length is raised to 30 (default
    9) and the per-IP connection limit is off.  ngircd has no flood *disconnect*: it stops
    reading from a client that sends too fast (about 3 lines/s after a short burst), so a
    flood shows up as latency, not as an error.  It NAKs ``message-tags``/``server-time``.
    """
    workdir = _workdir(tmp_path, "ngircd")
    port = port or free_port()
    motd = workdir / "motd.txt"
    motd.write_text("ngircd test server\n")
    log_path = workdir / "ngircd.out"
    ssl_section = (
        f"[SSL]\n  CertFile = {tls_cert[0]}\n  KeyFile = {tls_cert[1]}\n  Ports = {port}\n"
        if tls_cert
        else ""
    )
    chan_sections = "".join(f"\n[Channel]\n  Name = {c}\n  Modes = +nP\n" for c in channels)
    conf = f"""[Global]
  Name = {SERVER_NAME}
  Info = tgirc-bridge test server
  Listen = 127.0.0.1
  Ports = {free_port() if tls_cert else port}
  PidFile = {workdir / "ngircd.pid"}
  MotdFile = {motd}
{f"  Password = {password}" if password else ""}

[Limits]
  MaxConnections = 0
  MaxConnectionsIP = 0
  MaxJoins = 0
  MaxNickLength = {max_nick_length}
  PingTimeout = {ping_timeout}
  PongTimeout = 20
  ConnectRetry = 60

[Options]
  PAM = no
  Ident = no
  DNS = no
  SyslogFacility = local1
{ssl_section}
{chan_sections}"""
    conf_path = workdir / "ngircd.conf"
    conf_path.write_text(conf)
    argv = [NGIRCD_BIN, "--nodaemon", "--config", str(conf_path)]
    return IrcServer("ngircd", workdir, port, argv, log_path)


def inspircd_modules() -> set[str]:
    """Names of the InspIRCd modules installed (``m_foo.so`` -> ``foo``)."""
    return {
        p.name[2:-3]
        for p in INSPIRCD_MODULE_DIR.glob("m_*.so")
        if p.name.startswith("m_") and p.name.endswith(".so")
    }


INSPIRCD_WANTED_MODULES = (
    "cap",
    "ircv3",
    "ircv3_capnotify",
    "ircv3_ctctags",
    "ircv3_msgid",
    "ircv3_servertime",
    "ircv3_echomessage",
    "ircv3_accounttag",
    "ircv3_batch",
    "botmode",
    "services_account",
    "sasl",
)


def inspircd_server(
    tmp_path: Path,
    *,
    commandrate: int = 1000,
    threshold: int = 10,
    fakelag: bool = True,
    recvq: int = 8192,
    softsendq: int = 8192,
    hardsendq: int = 1_048_576,
    linelen: int = 512,
    max_nick_length: int = 30,
    pingfreq: int = 120,
    port: int | None = None,
    extra_modules: tuple[str, ...] = (),
    extra_config: str = "",
) -> IrcServer:
    """An InspIRCd 3.15 server with the IRCv3 modules (not started yet).

    Modules: cap, ircv3 (account-notify, away-notify, extended-join), ircv3_ctctags
    (``message-tags``), ircv3_msgid, ircv3_servertime (``server-time``),
    ircv3_echomessage, ircv3_accounttag, ircv3_batch, botmode (user mode +B and the ``BOT``
    ISUPPORT token), services_account and sasl (loaded, but SASL is not advertised without
    services).

    Flood knobs (all in the ``<connect>`` class):

    * ``commandrate``: allowed commands per second in *millicommands* (1000 = 1 cmd/s).
    * ``threshold``: burst size; a client may send this many commands at once before the
      ``commandrate`` penalty applies.
    * ``fakelag``: when over the rate, InspIRCd delays processing of the client's commands
      (the lines queue up server-side, ~1 line/s) instead of disconnecting it with
      "Excess Flood".  With ``fakelag=False`` going over the threshold disconnects.
    * ``recvq``: max bytes of unprocessed input buffered per client; exceeding it (e.g.
      100 x 400-byte PRIVMSGs written at once = 40 KB > 8 KB) gives
      ``ERROR :Closing link: (...) [RecvQ exceeded]`` and nothing of the burst is delivered.
    * ``softsendq``/``hardsendq``: output buffer limits ("SendQ exceeded" for slow readers).
    * ``linelen``: ``<limits maxline>``, the maximum line length including CRLF.

    ``extra_config`` is appended verbatim (tests/support/services.py links Atheme with it).
    """
    workdir = _workdir(tmp_path, "inspircd")
    port = port or free_port()
    available = inspircd_modules()
    modules = [m for m in (*INSPIRCD_WANTED_MODULES, *extra_modules) if m in available]
    motd = workdir / "motd.txt"
    motd.write_text("InspIRCd test server\n")
    log_path = workdir / "inspircd.log"
    module_tags = "\n".join(f'<module name="{m}">' for m in modules)
    conf = f"""<server name="{SERVER_NAME}" description="test server" network="TestNet">
<admin name="Test Admin" nick="admin" email="admin@example.invalid">
<bind address="127.0.0.1" port="{port}" type="clients">
<connect name="main"
         allow="127.0.0.1"
         timeout="20"
         pingfreq="{pingfreq}"
         threshold="{threshold}"
         commandrate="{commandrate}"
         fakelag="{"yes" if fakelag else "no"}"
         recvq="{recvq}"
         softsendq="{softsendq}"
         hardsendq="{hardsendq}"
         localmax="1000"
         globalmax="1000"
         maxchans="100"
         limit="5000"
         resolvehostnames="no"
         useident="no">
<files motd="{motd}">
<channels users="100" opers="100">
<dns server="127.0.0.1" timeout="1">
<pid file="{workdir / "inspircd.pid"}">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="{log_path}">
<options prefixquit="Quit: " syntaxhints="no" announcets="yes" hostintopic="yes"
         pingwarning="15" splitwhois="no" exemptchanops="">
<performance nouserdns="yes" clonesonconnect="no" quietbursts="yes">
<security hideserver="" userstats="Pu" customversion="" flatlinks="no" hidesplits="no"
          hideulines="no" hidebans="no" maxtargets="20" announceinvites="dynamic">
<limits maxnick="{max_nick_length}" maxchan="64" maxmodes="20" maxident="11" maxhost="64"
        maxquit="255" maxtopic="307" maxkick="255" maxreal="128" maxaway="200"
        maxline="{linelen}">
<sasl target="services.test.local">
{module_tags}
{extra_config}"""
    conf_path = workdir / "inspircd.conf"
    conf_path.write_text(conf)
    argv = [INSPIRCD_BIN, f"--config={conf_path}", "--nofork"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--runasroot")
    return IrcServer("inspircd", workdir, port, argv, log_path)


def self_signed_cert(folder: Path, name: str = "127.0.0.1") -> tuple[Path, Path]:
    """A throw-away certificate for ``name`` (an IP address SAN), made with openssl."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=IP:{name}",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
