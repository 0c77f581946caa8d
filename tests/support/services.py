"""InspIRCd linked to Atheme services on loopback: real accounts, SASL and account tags.

Why: who a person is on IRC is decided by services (NickServ accounts, SASL), announced by
the ircd with IRCv3 account-tag, account-notify and extended-join. A fake cannot tell us
whether the bridge believes the right thing when a nick changes hands, so the tests that
decide who may run /export use the real pair (Debian packages inspircd and
atheme-services; see /work/shared/PITFALLS.md for the measured recipe).

Usage::

    async with services_stack(tmp_path) as stack:
        client = await connect(stack.host, stack.port, "alice")
        await register_account(client, "secret-pass")   # alice is now account "alice"
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.irc_client import IrcClient
from tests.support.ircd import IrcServer, IrcServerError, inspircd_server
from tests.support.ports import free_port

ATHEME_BIN = shutil.which("atheme-services") or "/usr/bin/atheme-services"
SERVICES_NAME = "services.test.local"
LINK_PASSWORD = "link-secret-for-tests"
SYNC_TIMEOUT = 15.0
ATHEME_MODULES = (
    "modules/protocol/inspircd",
    "modules/backend/opensex",
    "modules/crypto/pbkdf2v2",
    "modules/nickserv/main",
    "modules/nickserv/register",
    "modules/nickserv/identify",
    "modules/nickserv/logout",
    "modules/nickserv/info",
    "modules/nickserv/set_core",
    "modules/nickserv/enforce",  # SET ENFORCE: a registered nick services take back
    "modules/saslserv/main",
    "modules/saslserv/plain",
)
CERT_MODULES = ("modules/saslserv/external", "modules/nickserv/cert")
"""Logging in with a client certificate: SASL EXTERNAL, and NickServ CERT ADD/LIST."""


@dataclass
class ServicesStack:
    """The ircd clients connect to, and the Atheme process linked to it."""

    ircd: IrcServer
    atheme: asyncio.subprocess.Process
    atheme_output: Path
    tls_port: int | None = None
    """The TLS port (services_stack's tls_cert), where InspIRCd reads a client certificate's
    fingerprint and hands it to the services (ssl_gnutls, sslinfo)."""

    @property
    def host(self) -> str:
        return self.ircd.host

    @property
    def port(self) -> int:
        return self.ircd.port

    def logs(self) -> str:
        with contextlib.suppress(OSError):
            return self.ircd.logs() + "\n--- atheme ---\n" + self.atheme_output.read_text()[-4000:]
        return self.ircd.logs()


def _atheme_conf(workdir: Path, link_port: int, extra_modules: tuple[str, ...] = ()) -> Path:
    modules = "\n".join(f'loadmodule "{m}";' for m in (*ATHEME_MODULES, *extra_modules))
    conf = f"""{modules}
serverinfo {{
    name = "{SERVICES_NAME}";
    desc = "Atheme test services";
    numeric = "00A";
    recontime = 2;
    netname = "TestNet";
    hidehostsuffix = "users.test";
    adminname = "admin";
    adminemail = "admin@example.invalid";
    registeremail = "noreply@example.invalid";
    mta = "/bin/true";
    loglevel = {{ error; info; admin; network; }};
    maxlogins = 5;
    maxusers = 50;
    mdlimit = 30;
    emaillimit = 10;
    emailtime = 300;
    auth = none;
    casemapping = rfc1459;
}};
uplink "irc.test.local" {{
    host = "127.0.0.1";
    send_password = "{LINK_PASSWORD}";
    receive_password = "{LINK_PASSWORD}";
    port = {link_port};
}};
nickserv {{
    nick = "NickServ";
    user = "NickServ";
    host = "services.test";
    real = "Nickname Services";
    maxnicks = 5;
    expire = 30;
}};
saslserv {{
    nick = "SaslServ";
    user = "SaslServ";
    host = "services.test";
    real = "SASL Authentication Agent";
}};
general {{
    flood_msgs = 1000;
    flood_time = 1;
    ratelimit_uses = 1000;
    ratelimit_period = 1;
    kline_time = 7;
    clone_time = 0;
    commit_interval = 5;
    default_clone_allowed = 100;
    default_clone_warn = 100;
    uplink_sendq_limit = 1048576;
    language = "en";
    immune_level = immune;
}};
"""
    path = workdir / "atheme.conf"
    path.write_text(conf)
    return path


def _link_config(link_port: int) -> str:
    return f"""<bind address="127.0.0.1" port="{link_port}" type="servers">
<link name="{SERVICES_NAME}" ipaddr="127.0.0.1" port="{link_port}"
      sendpass="{LINK_PASSWORD}" recvpass="{LINK_PASSWORD}">
<uline server="{SERVICES_NAME}" silent="yes">
"""


def _tls_config(tls_port: int, cert: Path, key: Path) -> str:
    """A TLS client port that asks each client for its certificate (InspIRCd 3, GnuTLS)."""
    return f"""<sslprofile name="tests" provider="gnutls" certfile="{cert}" keyfile="{key}"
            hash="sha256" requestclientcert="yes">
<bind address="127.0.0.1" port="{tls_port}" type="clients" sslprofile="tests">
"""


@contextlib.asynccontextmanager
async def services_stack(
    tmp_path: Path, *, tls_cert: tuple[Path, Path] | None = None, **inspircd_options: object
) -> AsyncIterator[ServicesStack]:
    """Start InspIRCd with a server port, link Atheme to it, wait for the burst to finish.

    tls_cert = (cert, key) adds a TLS port (``stack.tls_port``) whose clients may log in
    with a client certificate (SASL EXTERNAL, or NickServ's CERT list on connecting)."""
    link_port = free_port()
    tls_port = free_port() if tls_cert else None
    extra_config = _link_config(link_port)
    if tls_cert and tls_port:
        extra_config += _tls_config(tls_port, *tls_cert)
    ircd = inspircd_server(
        tmp_path,
        extra_modules=("spanningtree", "svshold", *(("ssl_gnutls", "sslinfo") if tls_cert else ())),
        extra_config=extra_config,
        **inspircd_options,  # type: ignore[arg-type]
    )
    workdir = ircd.workdir / "atheme"
    (workdir / "data").mkdir(parents=True)
    conf = _atheme_conf(workdir, link_port, CERT_MODULES if tls_cert else ())
    output = workdir / "atheme.out"
    async with ircd:
        with output.open("ab") as out:
            atheme = await asyncio.create_subprocess_exec(
                ATHEME_BIN,
                "-n",
                "-c",
                str(conf),
                "-D",
                str(workdir / "data"),
                "-p",
                str(workdir / "atheme.pid"),
                "-l",
                str(workdir / "atheme.log"),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        stack = ServicesStack(ircd, atheme, output, tls_port)
        try:
            await _wait_synced(stack, workdir / "atheme.log")
            yield stack
        finally:
            with contextlib.suppress(ProcessLookupError):
                atheme.terminate()
            try:
                await asyncio.wait_for(atheme.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    atheme.kill()
                await asyncio.wait_for(atheme.wait(), 5)


async def _wait_synced(stack: ServicesStack, log: Path) -> None:
    deadline = time.monotonic() + SYNC_TIMEOUT
    while time.monotonic() < deadline:
        if stack.atheme.returncode is not None:
            raise IrcServerError(f"atheme exited with {stack.atheme.returncode}\n{stack.logs()}")
        for path in (log, stack.atheme_output):
            with contextlib.suppress(OSError):
                if "finished synching with uplink" in path.read_text(errors="replace"):
                    return
        await asyncio.sleep(0.05)  # bounded by SYNC_TIMEOUT
    raise IrcServerError(f"atheme did not sync within {SYNC_TIMEOUT}s\n{stack.logs()}")


async def nickserv(client: IrcClient, command: str, expect: str, timeout: float = 10.0) -> str:
    """Send a NickServ command and return its NOTICE answer containing ``expect``."""
    client.privmsg("NickServ", command)
    line = await client.wait_for(
        lambda ln: ln.command == "NOTICE" and ln.source_nick == "NickServ" and expect in ln.text,
        timeout,
        description=f"NickServ answer containing {expect!r}",
    )
    return line.text


async def register_account(client: IrcClient, password: str) -> None:
    """Register the client's current nick as an account (it is then logged in to it)."""
    await nickserv(client, f"REGISTER {password} {client.nickname}@example.invalid", "registered")


async def logout(client: IrcClient) -> None:
    await nickserv(client, "LOGOUT", "logged out")
