"""Runs the bridge as a subprocess, the way a user does: ``python -m bridge run --config FILE``.

Its stderr (the log) is read line by line into memory and copied to a file, so a test can
wait for a log line without polling and a failing test can show the log. Every wait is
bounded. The process is started in its own session; whatever the test does, the context
manager kills it at the end.
"""

# bounded `timeout=` parameters are this helper's API

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable
READY_LINE = "ready: bridging"


class BridgeProcessError(AssertionError):
    """The bridge did not do what the test waited for; the message ends with its log."""


class BridgeProcess:
    """One bridge process at a time for a config file; start() may be called again after a
    stop or a kill, on the same database (the log file keeps every run)."""

    def __init__(self, config: Path, log_path: Path | None = None) -> None:
        self.config = config
        self.log_path = log_path or config.with_name("bridge.log")
        self.lines: list[str] = []
        """Log lines of the current run only."""
        self.runs = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc else None

    async def start(self, ready_timeout: float = 20.0, *, wait_ready: bool = True) -> None:
        """Spawn the bridge; by default wait until it logs that it is bridging every pair."""
        if self._proc is not None and self._proc.returncode is None:
            raise BridgeProcessError("the bridge is already running")
        self.runs += 1
        self.lines = []
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"===== run {self.runs} =====\n")
        self._proc = await asyncio.create_subprocess_exec(
            PYTHON,
            "-m",
            "bridge",
            "run",
            "--config",
            str(self.config),
            cwd=REPO,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self._proc.stderr is not None
        self._reader = asyncio.create_task(self._read(self._proc.stderr), name="bridge log")
        if wait_ready:
            await self.wait_log(READY_LINE, ready_timeout)

    async def _read(self, stream: asyncio.StreamReader) -> None:
        with self.log_path.open("a", encoding="utf-8") as log:
            async for raw in stream:
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                log.write(line + "\n")
                log.flush()
                async with self._changed:
                    self.lines.append(line)
                    self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    def _exited(self) -> bool:
        return self._reader is None or self._reader.done()

    async def wait_log(self, text: str, timeout: float = 10.0, *, count: int = 1) -> str:
        """Wait until this run logged ``count`` lines containing ``text``; return the last."""

        def found() -> list[str]:
            return [ln for ln in self.lines if text in ln]

        try:
            async with asyncio.timeout(timeout), self._changed:
                while len(found()) < count:
                    if self._exited():
                        raise BridgeProcessError(
                            f"bridge exited ({self.returncode}) before logging {text!r}\n"
                            + self.tail()
                        )
                    await self._changed.wait()
        except TimeoutError:
            raise BridgeProcessError(
                f"bridge did not log {text!r} {count}x within {timeout}s\n{self.tail()}"
            ) from None
        return found()[count - 1]

    def logged(self, text: str) -> list[str]:
        """This run's log lines containing ``text``."""
        return [ln for ln in self.lines if text in ln]

    def tail(self, n: int = 40) -> str:
        return "--- bridge log (last lines) ---\n" + "\n".join(self.lines[-n:])

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc is None or self._proc.returncode is not None:
            raise BridgeProcessError(f"cannot send {sig.name}: the bridge is not running")
        os.kill(self._proc.pid, sig)

    async def _wait_exit(self, timeout: float) -> int:
        assert self._proc is not None
        try:
            code = await asyncio.wait_for(self._proc.wait(), timeout)
        except TimeoutError:
            raise BridgeProcessError(
                f"bridge still running after {timeout}s\n{self.tail()}"
            ) from None
        if self._reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._reader), 5.0)
        return code

    async def wait_exit(self, timeout: float = 20.0) -> int:
        """Wait for the bridge to end on its own; the exit code."""
        if self._proc is None:
            raise BridgeProcessError("the bridge was never started")
        return await self._wait_exit(timeout)

    async def terminate(self, timeout: float = 20.0, sig: signal.Signals = signal.SIGTERM) -> int:
        """SIGTERM (graceful stop; or SIGINT, what Ctrl-C sends) and wait; the exit code."""
        self._signal(sig)
        return await self._wait_exit(timeout)

    async def kill(self) -> int:
        """SIGKILL: the crash the delivery guarantee is about."""
        self._signal(signal.SIGKILL)
        return await self._wait_exit(10.0)

    def pause(self) -> None:
        """SIGSTOP: freeze the bridge (the test orders events around it), resume() thaws it."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    async def close(self) -> None:
        """Kill whatever still runs (test teardown)."""
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._proc.pid, signal.SIGCONT)
                os.kill(self._proc.pid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._proc.wait(), 10.0)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader


@contextlib.asynccontextmanager
async def bridge_process(config: Path) -> AsyncIterator[BridgeProcess]:
    """A BridgeProcess (not started yet) that is killed at the end of the block."""
    proc = BridgeProcess(config)
    try:
        yield proc
    finally:
        await proc.close()


async def run_cli(*args: str, timeout: float = 20.0) -> tuple[int, str, str]:
    """Run ``python -m bridge ARGS`` to completion; returns (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "bridge",
        *args,
        cwd=REPO,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
