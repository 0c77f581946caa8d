"""One digest each [digest] every_hours, from a task of its own that nothing waits for.

The period is kept in the database (storage/digest.py), so a restart neither skips nor
repeats one, and a bridge that was off for several periods sends one digest covering them
all. The record is written once the server accepted the mail: a crash between the two sends
that one digest again at the next start, with the same Message-ID. A transient failure is
retried after 1, 2, 4 ... minutes, an hour at most; a 5xx waits for the next period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from bridge.config_model import Config, DigestConfig, MailConfig
from bridge.mail.compose import Letterhead, compose
from bridge.mail.send import PermanentMailError, TransientMailError, send
from storage.db import StorageError
from storage.digest import DigestContent, DigestState, DigestStore

log = logging.getLogger(__name__)

Clock = Callable[[], float]
RETRY_FIRST = 60.0
RETRY_MOST = 3600.0
STOP_GRACE = 5.0
"""At a stop, how long a digest already being sent may take to be accepted and recorded."""
WAKE_AT_LEAST = 60.0
"""How often the task looks at the stored state while waiting, so a digest sent by hand
(`tgirc-bridge digest --send`) moves the schedule of the running bridge too."""


def letterhead(config: Config) -> Letterhead:
    assert config.mail is not None and config.digest is not None
    web = config.web
    return Letterhead(
        sender=config.mail.sender,
        to=config.digest.to,
        title=config.bridges[0].irc_channel,
        channels=tuple(b.irc_channel for b in config.bridges if b.directory),
        directory_url=f"{web.public_url}/members" if web is not None else None,
        language=config.digest.language or config.i18n.default_language,
    )


async def prepare(
    store: DigestStore, config: Config, now: float
) -> tuple[DigestContent, EmailMessage]:
    """The digest due now: since the last one, or over the last period when none was ever
    sent (what `tgirc-bridge digest` shows before the schedule ever ran)."""
    assert config.digest is not None
    state = await store.state()
    since = state.last_at if state is not None else now - config.digest.every_hours * 3600
    content = await store.collect(since, now)
    return content, compose(content, letterhead(config), now)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def describe(state: DigestState | None, digest: DigestConfig, now: float) -> list[str]:
    """The lines `tgirc-bridge status` shows about the digest."""
    if state is None:
        return ["digest: not started yet (the first is due one period after the bridge starts)"]
    due = _due(state, digest)
    lines = [
        f"digest: {state.sent} sent since {_when(state.started_at)}; the last covered up to "
        f"{_when(state.last_at)}; "
        f"next {'retry' if state.failures else 'due'} in {max(0.0, due - now):.0f}s"
    ]
    if state.failures:
        since = state.failing_since or now
        lines.append(
            f"digest: failing for {max(0.0, now - since):.0f}s ({state.failures} attempt(s)): "
            f"{state.last_error}"
        )
    return lines


def _due(state: DigestState, digest: DigestConfig) -> float:
    if state.next_try_at is not None:
        return state.next_try_at
    return state.last_at + digest.every_hours * 3600


@dataclass
class DigestCounts:
    """What /metrics shows: digests sent and failed attempts by this process, and whether
    the last attempt failed (a retry is pending)."""

    sent: int = 0
    failures: int = 0
    retrying: bool = False


class DigestSchedule:
    """The running bridge's digest task (bridge/app.py): run() never raises; each round's
    error is logged and the next round comes."""

    def __init__(
        self,
        config: Config,
        store: DigestStore,
        *,
        clock: Clock = time.time,
        retry_first: float = RETRY_FIRST,
        retry_most: float = RETRY_MOST,
    ) -> None:
        assert config.mail is not None and config.digest is not None
        self.config = config
        self.mail: MailConfig = config.mail
        self.digest: DigestConfig = config.digest
        self.store = store
        self.clock = clock
        self.retry_first = retry_first
        self.retry_most = retry_most
        self.counts = DigestCounts()
        self._announced = False

    async def run(self) -> None:
        while True:
            try:
                wait = await self.round()
            except StorageError as exc:  # busy database: the next round tries again
                log.warning("digest: %s", exc)
                wait = self.retry_first
            except Exception:
                log.exception("digest: round failed")
                wait = self.retry_first
            if wait > 0:
                await asyncio.sleep(wait)

    async def round(self) -> float:
        """Send the digest if it is due; how long to wait before the next look."""
        now = self.clock()
        state = await self.store.state() or await self.store.start(now)
        due = _due(state, self.digest)
        if not self._announced:
            self._announced = True
            log.info(
                "digest: every %g h to %s; next at %s",
                self.digest.every_hours,
                ", ".join(self.digest.to),
                _when(due),
            )
        if now < due:
            return min(due - now, WAKE_AT_LEAST)
        content, message = await prepare(self.store, self.config, now)
        if content.empty:
            await self.store.record_sent(content, sent=False)
            log.info("digest: nothing new since %s, skipped (no mail sent)", _when(content.since))
            return 0.0
        # A stop while the server has the mail must not lose the record: the send and its
        # record finish in a task of their own, given STOP_GRACE when this one is cancelled.
        sending = asyncio.ensure_future(self._send_and_record(content, message, state, now))
        try:
            return await asyncio.shield(sending)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(sending, STOP_GRACE)
            raise

    async def _send_and_record(
        self, content: DigestContent, message: EmailMessage, state: DigestState, now: float
    ) -> float:
        try:
            await send(self.mail, message)
        except TransientMailError as exc:
            delay = min(self.retry_most, self.retry_first * 2**state.failures)
            await self._failed(str(exc), now, delay)
            log.warning("digest: not sent, trying again in %g s: %s", delay, exc)
            return 0.0
        except PermanentMailError as exc:
            period = self.digest.every_hours * 3600
            await self._failed(str(exc), now, period)
            log.error("digest: not sent, not retried before the next period: %s", exc)
            return 0.0
        await self.store.record_sent(content, sent=True)
        self.counts.sent += 1
        self.counts.retrying = False
        log.info("digest: sent %s to %s", message["Subject"], ", ".join(self.digest.to))
        return 0.0

    async def _failed(self, error: str, now: float, delay: float) -> None:
        self.counts.failures += 1
        self.counts.retrying = True
        await self.store.record_failure(error, now, now + delay)
