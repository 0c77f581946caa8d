"""ircd-hybrid 8.2 (the family of OFTC's server) on loopback, the suite's third server family.

Why a third family: ngircd and InspIRCd both fold nicks by rfc1459 and prefix with @+ or
more; hybrid advertises ``CASEMAPPING=ascii``, ``PREFIX=(ohv)@%+``, ``MAXTARGETS=4``, keeps
a 2560-byte recvq and kills an "Excess Flood", which is what a bot meets on OFTC.

Debian's package conflicts with ngircd, so ``scripts/fetch_hybrid.sh`` (run by
``scripts/bootstrap.sh dev``) unpacks it into ``HYBRID_DIR`` and links the compiled-in
module path ``/usr/lib/ircd-hybrid/modules`` there (the server loads its core modules from it
before it reads any config). It refuses to run as root, so as root it is started as the
``irc`` user, and every path it is given is absolute (a relative one makes it exit 1
silently). Its files then live in a folder of their own that the ``irc`` user can reach
(pytest's tmp folders are private to root), removed when the server is left.

Usage::

    async with hybrid_server(tmp_path) as srv:
        client = await connect(srv.host, srv.port, "alice")
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from tests.support.ircd import SERVER_NAME, IrcServer, IrcServerError
from tests.support.ports import free_port

HYBRID_DIR = Path(os.environ.get("TGIRC_TEST_CACHE", "/var/cache/tgirc-bridge-tests")) / (
    "ircd-hybrid"
)
HYBRID_BIN = HYBRID_DIR / "usr/sbin/ircd-hybrid"
HYBRID_MODULES = HYBRID_DIR / "usr/lib/ircd-hybrid/modules"
COMPILED_MODULE_PATH = Path("/usr/lib/ircd-hybrid/modules")
RUN_AS = "irc"


class HybridServer(IrcServer):
    """An ``IrcServer`` whose folder lies outside pytest's private tmp folder, so it is
    removed on leaving the ``async with`` (a restart keeps it)."""

    tls_port: int | None = None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await super().__aexit__(exc_type, exc, tb)
        shutil.rmtree(self.workdir, ignore_errors=True)


def hybrid_installed() -> str | None:
    """None when hybrid can run here, else what is missing."""
    if not HYBRID_BIN.exists():
        return f"{HYBRID_BIN} is missing: run scripts/fetch_hybrid.sh (as root)"
    if not (COMPILED_MODULE_PATH / "m_join.la").exists():
        return f"{COMPILED_MODULE_PATH} does not lead to the modules: run scripts/fetch_hybrid.sh"
    return None


def hybrid_server(
    tmp_path: Path,
    *,
    port: int | None = None,
    max_nick_length: int = 30,
    recvq: int = 2560,
    tls_cert: tuple[Path, Path] | None = None,
) -> HybridServer:
    """An ircd-hybrid server with its stock limits (not started yet).

    ``recvq`` is the class's (2560 bytes by default, as shipped): a client whose unread
    input exceeds it is closed with "Excess Flood". ``tls_cert`` = (cert, key) adds a TLS
    port (``srv.tls_port``), where hybrid reads a client certificate's fingerprint (CertFP,
    shown in WHOIS as 276).
    """
    missing = hybrid_installed()
    if missing:
        raise IrcServerError(missing)
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="tgirc-hybrid-"))
    workdir.chmod(0o755)
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "hybrid-dir").write_text(f"{workdir}\n")
    tls_port = free_port() if tls_cert else None
    tls = ""
    tls_listen = ""
    if tls_cert:
        cert, key = workdir / "tls.pem", workdir / "tls.key"
        shutil.copyfile(tls_cert[0], cert)
        shutil.copyfile(tls_cert[1], key)
        tls = f'    tls_certificate_file = "{cert}";\n    rsa_private_key_file = "{key}";\n'
        tls_listen = f'listen {{ flags = tls; host = "127.0.0.1"; port = {tls_port}; }};\n'
    conf = f"""serverinfo {{
    name = "{SERVER_NAME}";
    sid = "0HT";
    description = "tgirc-bridge test server";
    network_name = "TestNet";
    hub = no;
    default_max_clients = 512;
    max_nick_length = {max_nick_length};
{tls}}};
admin {{ name = "admin"; email = "<admin@example.invalid>"; }};
class {{
    name = "users";
    ping_time = 120 seconds;
    number_per_ip_local = 1000;
    number_per_ip_global = 1000;
    max_number = 1000;
    sendq = 1 megabyte;
    recvq = {recvq} bytes;
}};
listen {{ host = "127.0.0.1"; port = {port}; }};
{tls_listen}auth {{ user = "*@*"; class = "users"; }};
general {{
    disable_auth = yes;
    ping_cookie = no;
    throttle_count = 1000;
    throttle_time = 0;
}};
modules {{
    path = "{HYBRID_MODULES}";
    path = "{HYBRID_MODULES}/autoload";
}};
"""
    conf_path = workdir / "ircd.conf"
    conf_path.write_text(conf)
    log_path = workdir / "ircd.log"
    files = {
        "-logfile": log_path,
        "-pidfile": workdir / "ircd.pid",
        "-klinefile": workdir / "kline.db",
        "-dlinefile": workdir / "dline.db",
        "-xlinefile": workdir / "xline.db",
        "-resvfile": workdir / "resv.db",
    }
    argv = [str(HYBRID_BIN), "-foreground", "-configfile", str(conf_path)]
    for flag, path in files.items():
        argv += [flag, str(path)]
    if os.geteuid() == 0:
        user = pwd.getpwnam(RUN_AS)
        for path in (workdir, *workdir.iterdir()):
            os.chown(path, user.pw_uid, user.pw_gid)
        argv = ["setpriv", f"--reuid={RUN_AS}", f"--regid={RUN_AS}", "--clear-groups", *argv]
    server = HybridServer("hybrid", workdir, port, argv, log_path)
    server.tls_port = tls_port
    return server
