"""Shared pieces: statistics, machine facts, bench configs and the bridge as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from tests.support.harness import toml_table, toml_value

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
BOT_NICK = "tgbridge"
UNPACED_IRC = {"send_burst": 100_000, "send_rate": 100_000.0}
UNPACED_TELEGRAM = {"messages_per_minute": 6_000_000.0, "burst": 100_000}


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Figure:
    """One figure measured over several runs: the median with min and max."""

    runs: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.runs.append(value)

    def summary(self) -> dict[str, Any]:
        if not self.runs:
            return {"median": None, "min": None, "max": None, "runs": []}
        return {
            "median": statistics.median(self.runs),
            "min": min(self.runs),
            "max": max(self.runs),
            "runs": self.runs,
        }


def fmt(summary: Mapping[str, Any], unit: str = "ms", digits: int = 2) -> str:
    """'median (min–max) unit' for the markdown table."""
    if summary.get("median") is None:
        return "n/a"
    m, lo, hi = summary["median"], summary["min"], summary["max"]
    return f"{m:.{digits}f} {unit} ({lo:.{digits}f}–{hi:.{digits}f})"


def machine() -> dict[str, Any]:
    """CPU model, cores, RAM, OS, Python and the versions of the packages that matter."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram_mb = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_mb = int(line.split()[1]) // 1024
    packages = {}
    for name in ("python-telegram-bot", "irc", "aiosqlite", "httpx", "aiohttp"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "not installed"
    import sqlite3

    packages["sqlite"] = sqlite3.sqlite_version
    servers = {}
    for name, argv in (
        ("ngircd", ["ngircd", "--version"]),
        ("inspircd", ["inspircd", "--version"]),
    ):
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=5).stdout
            servers[name] = out.strip().splitlines()[0] if out.strip() else "?"
        except (OSError, subprocess.SubprocessError):
            servers[name] = "not installed"
    load = os.getloadavg()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_mb": ram_mb,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "packages": packages,
        "servers": servers,
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def write_config(
    path: Path,
    *,
    api_url: str,
    file_url: str,
    token: str,
    irc_host: str,
    irc_port: int,
    pairs: Iterable[tuple[int, str]],
    db_path: Path,
    telegram: Mapping[str, Any] | None = None,
    irc: Mapping[str, Any] | None = None,
) -> Path:
    """A bench config: loopback servers, INFO logging, pacing as given (unpaced by default)."""
    sections: dict[str, dict[str, Any]] = {
        "telegram": {
            "token": token,
            "api_url": api_url,
            "file_url": file_url,
            "poll_timeout": 20,
            "request_timeout": 5,
            **UNPACED_TELEGRAM,
            **(telegram or {}),
        },
        "irc": {
            "host": irc_host,
            "port": irc_port,
            "tls": False,
            "nick": BOT_NICK,
            "reconnect_min": 0.5,
            "reconnect_max": 2.0,
            **UNPACED_IRC,
            **(irc or {}),
        },
        "relay": {"anti_highlight": "never"},
        "storage": {"path": str(db_path)},
        "delivery": {"shutdown_grace": 3},
        "logging": {"level": "INFO"},
    }
    text = []
    for name, values in sections.items():
        text.append(toml_table(name, values))
    for chat, channel in pairs:
        text.append(f"[[bridge]]\ntelegram_chat = {chat}\nirc_channel = {toml_value(channel)}\n")
    path.write_text("\n".join(text), encoding="utf-8")
    return path


def rss_kb(pid: int) -> int:
    """Resident set size of a process in KiB, from /proc/PID/status (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


MILESTONES = ("IRC: registered as", "Telegram: logged in as")
"""Log lines marking the bridge's own start-up, before the server lets it join."""


class BridgeProcess:
    """``python -m bridge run --config ...`` as a child; its log is kept in a file."""

    def __init__(self, config: Path, log_path: Path, module: str = "bridge") -> None:
        self.config = config
        self.module = module
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None
        self.started_at = 0.0
        self.ready_at: float | None = None
        self.seen_at: dict[str, float] = {}
        """First time.monotonic() each of MILESTONES appeared in the log."""
        self.ready = asyncio.Event()
        self.lines: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self, timeout: float = 20.0) -> float:
        """Spawn and wait (bounded) for 'ready: bridging'; returns seconds from spawn to ready."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.started_at = time.monotonic()
        self.proc = await asyncio.create_subprocess_exec(
            str(PYTHON),
            "-m",
            self.module,
            "run",
            "--config",
            str(self.config),
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())
        try:
            async with asyncio.timeout(timeout):
                await self.ready.wait()
        except TimeoutError:
            await self.stop()
            raise RuntimeError(
                f"bridge not ready within {timeout}s; log:\n" + "\n".join(self.lines[-30:])
            ) from None
        assert self.ready_at is not None
        return self.ready_at - self.started_at

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        with self.log_path.open("a", encoding="utf-8") as log:
            while True:
                raw = await self.proc.stderr.readline()
                if not raw:
                    return
                line = raw.decode("utf-8", errors="replace").rstrip()
                for milestone in MILESTONES:
                    if milestone in line:
                        self.seen_at.setdefault(milestone, time.monotonic())
                if "ready: bridging" in line and self.ready_at is None:
                    self.ready_at = time.monotonic()
                    self.ready.set()
                self.lines.append(line)
                log.write(line + "\n")

    def count(self, needle: str) -> int:
        """How many log lines contain needle (e.g. reconnects)."""
        return sum(needle in line for line in self.lines)

    def rss_mb(self) -> float:
        return rss_kb(self.pid) / 1024.0

    async def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, bounded wait, then SIGKILL; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await asyncio.wait_for(self.proc.wait(), timeout)
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5.0)
        return self.proc.returncode
