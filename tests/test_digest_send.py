"""The digest's SMTP side (issue 22, items 4 and 6) against a real aiosmtpd server: STARTTLS
with a test certificate, AUTH refused then accepted, a 4xx retried with doubling backoff
until it goes, a 5xx reported with the server's reply and left for the next period, the
state `status` shows, and no password in the log."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bridge.config import Config, parse_config
from bridge.config_model import MailConfig
from bridge.logs import setup_logging
from bridge.mail.schedule import DigestSchedule, describe
from bridge.mail.send import PermanentMailError, TransientMailError, probe, send
from bridge.web.health import QueueRow
from bridge.web.metrics import BridgeCollector, MetricsParts
from storage.db import Database
from storage.digest import DigestStore
from tests.support.configs import MINIMAL
from tests.support.digest import ALICE, BOB, LIST, add_member, digest_tables
from tests.support.harness import LogWatch, watching_logs
from tests.support.ports import free_port
from tests.support.smtp import PASSWORD, USER, SmtpServer, start_smtp

HOUR = 3600.0


class Clock:
    """Starts at the real time (the roster's stores stamp members with it), moved by hand."""

    def __init__(self) -> None:
        self.start = self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bridge.sqlite3")
    yield database
    await database.close()


def config_for(smtp: SmtpServer, **mail: object) -> Config:
    return parse_config(MINIMAL + digest_tables(smtp, every_hours=24, **mail))


async def test_starttls_and_auth_wrong_then_right_password(smtp_tls: SmtpServer) -> None:
    wrong = config_for(smtp_tls, username=USER, password="not the password").mail
    assert wrong is not None and wrong.tls == "starttls" and wrong.port == smtp_tls.port
    with pytest.raises(PermanentMailError, match=r"answered 535 .*[Aa]uthentication"):
        await probe(wrong)
    right = replace(wrong, password=PASSWORD)
    await probe(right)  # connects, STARTTLS, AUTH; sends nothing
    logins = smtp_tls.handler.logins  # aiosmtplib tries PLAIN, then LOGIN, on a refusal
    assert set(logins[:-1]) == {(USER, "not the password")} and logins[-1] == (USER, PASSWORD)
    assert smtp_tls.received == []


async def test_implicit_tls_sends(tmp_path: Path) -> None:
    server, controller = start_smtp(tmp_path, implicit_tls=True)
    try:
        mail = config_for(server, tls="tls").mail
        assert mail is not None and mail.tls == "tls"
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = mail.sender, LIST, "t"
        message.set_content("over TLS from the first byte\n")
        await send(mail, message)
        [received] = server.received
        assert received.rcpt_tos == (LIST,) and received.text == "over TLS from the first byte\n"
    finally:
        controller.stop()


async def test_starttls_refuses_an_unknown_certificate(smtp_tls: SmtpServer) -> None:
    mail = config_for(smtp_tls, username=USER, password=PASSWORD).mail
    assert mail is not None
    with pytest.raises(PermanentMailError, match="TLS failed"):
        await probe(replace(mail, tls_ca_file=None))  # the system's CAs do not know it
    assert smtp_tls.handler.logins == []  # the password never left


async def test_a_closed_port_is_transient() -> None:
    mail = MailConfig(host="127.0.0.1", sender="b@example.org", port=free_port(), tls="none")
    with pytest.raises(TransientMailError, match=r"127\.0\.0\.1:\d+: "):
        await probe(mail)


async def test_a_4xx_is_retried_with_doubling_backoff_then_sent(
    smtp_tls: SmtpServer, db: Database
) -> None:
    config = config_for(smtp_tls, username=USER, password=PASSWORD)
    clock = Clock()
    schedule = DigestSchedule(config, DigestStore(db), clock=clock)
    assert await schedule.round() == 60.0  # started: the first digest is due in a period
    await add_member(db, [ALICE], ["python"], listed=True)
    smtp_tls.handler.data_replies = ["451 4.3.0 Try again later", "452 4.3.1 Full"]

    clock.now = clock.start + 24 * HOUR
    await schedule.round()
    state = await DigestStore(db).state()
    assert state is not None and state.failures == 1 and state.next_try_at == clock.now + 60
    assert "451 4.3.0 Try again later" in state.last_error
    assert schedule.counts.retrying and schedule.counts.failures == 1
    assert await digest_metrics(schedule) == {
        "tgirc_digest_sent": 0,
        "tgirc_digest_failures": 1,
        "tgirc_digest_retrying": 1,
    }
    assert describe(state, config.digest, clock.now)[1].startswith(  # type: ignore[arg-type]
        "digest: failing for 0s (1 attempt(s)): 127.0.0.1:"
    )
    clock.now += 59
    assert await schedule.round() == pytest.approx(1.0)  # not yet
    clock.now += 1
    await schedule.round()
    state = await DigestStore(db).state()
    assert state is not None and state.failures == 2 and state.next_try_at == clock.now + 120
    assert smtp_tls.received == []

    clock.now += 120
    await schedule.round()
    [mail] = smtp_tls.received
    assert mail.message["Subject"] == "#c: 1 new member"
    state = await DigestStore(db).state()
    assert state is not None and state.failures == 0 and state.next_try_at is None
    assert state.last_at == clock.now and state.sent == 1
    assert not schedule.counts.retrying and schedule.counts.sent == 1
    assert await digest_metrics(schedule) == {
        "tgirc_digest_sent": 1,
        "tgirc_digest_failures": 2,
        "tgirc_digest_retrying": 0,
    }


async def test_a_5xx_is_logged_with_the_reply_and_waits_for_the_next_period(
    smtp: SmtpServer, db: Database
) -> None:
    config = config_for(smtp)
    clock = Clock()
    schedule = DigestSchedule(config, DigestStore(db), clock=clock)
    await schedule.round()
    await add_member(db, [ALICE], ["python"], listed=True)
    smtp.handler.rcpt_replies = ["550 5.1.1 Mailbox unavailable", "550 5.1.1 Mailbox unavailable"]
    clock.now = clock.start + 24 * HOUR
    with watching_logs() as logs:
        await schedule.round()
    [line] = logs.found("digest: not sent, not retried before the next period")
    assert "550 Mailbox unavailable" in line or "550 5.1.1 Mailbox unavailable" in line
    assert _levels(logs, "digest: not sent") == ["ERROR"]
    state = await DigestStore(db).state()
    assert state is not None and state.next_try_at == clock.now + 24 * HOUR
    clock.now += 3 * HOUR
    await schedule.round()
    assert smtp.received == []
    await add_member(db, [BOB], ["rust"], listed=True)  # news of the next period
    clock.now = clock.start + 48 * HOUR
    await schedule.round()
    [mail] = smtp.received  # one digest covering both periods
    assert mail.rcpt_tos[0] == LIST and mail.message["Subject"] == "#c: 2 new members"
    assert "* Alice" in mail.text and "* bobby" in mail.text


async def test_an_empty_period_sends_nothing_and_says_so(smtp: SmtpServer, db: Database) -> None:
    config = config_for(smtp)
    clock = Clock()
    store = DigestStore(db)
    await add_member(db, [ALICE], ["python"], listed=True)  # listed before: not news
    schedule = DigestSchedule(config, store, clock=clock)
    await schedule.round()
    clock.now = clock.start + 24 * HOUR
    with watching_logs() as logs:
        await schedule.round()
    since = datetime.fromtimestamp(clock.start, UTC).strftime("%Y-%m-%d %H:%M")
    assert logs.found(f"digest: nothing new since {since}")
    assert logs.found("skipped (no mail sent)")
    assert smtp.received == []
    state = await store.state()
    assert state is not None and state.last_at == clock.now and state.sent == 0


async def test_a_bridge_off_for_several_periods_sends_one_digest_for_all(
    smtp: SmtpServer, db: Database
) -> None:
    config = config_for(smtp)
    clock = Clock()
    schedule = DigestSchedule(config, DigestStore(db), clock=clock)
    await schedule.round()
    await add_member(db, [ALICE], ["python"], listed=True)
    await add_member(db, [BOB], ["rust"], listed=True)
    clock.now = clock.start + 5.5 * 24 * HOUR  # off for five periods and a half
    await schedule.round()
    [mail] = smtp.received
    assert mail.message["Subject"] == "#c: 2 new members"
    assert await schedule.round() == 60.0  # the next one is a whole period away
    assert len(smtp.received) == 1


async def test_changed_interests_are_news_unchanged_ones_are_not(
    smtp: SmtpServer, db: Database
) -> None:
    config = config_for(smtp)
    clock = Clock()
    await add_member(db, [ALICE], ["python"], listed=True)
    await add_member(db, [BOB], ["rust"], listed=True)
    schedule = DigestSchedule(config, DigestStore(db), clock=clock)
    await schedule.round()
    await add_member(db, [ALICE], ["python", "gardening"], listed=True)  # changed
    await add_member(db, [BOB], ["rust"], listed=True)  # the same list again
    clock.now = clock.start + 24 * HOUR
    await schedule.round()
    [mail] = smtp.received
    assert mail.message["Subject"] == "#c: 1 updated"
    assert "Changed their interests (1)\n" in mail.text
    assert "  Interests: python, gardening\n" in mail.text
    assert "bobby" not in mail.text


async def test_the_mail_password_never_reaches_the_log(
    smtp_tls: SmtpServer, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(smtp_tls, username=USER, password=PASSWORD)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        setup_logging("DEBUG", config.secrets())
        assert config.mail is not None
        await probe(config.mail)
        with pytest.raises(PermanentMailError):
            await probe(replace(config.mail, password=PASSWORD + "x"))
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
    log = capsys.readouterr().err
    blob = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    assert PASSWORD not in log and blob not in log
    assert smtp_tls.handler.logins[0] == (USER, PASSWORD)


def _levels(logs: LogWatch, text: str) -> list[str]:
    return [r.levelname for r in logs.records if text in r.getMessage()]


async def digest_metrics(schedule: DigestSchedule) -> dict[str, float]:
    """The digest's families as /metrics shows them (bridge/web/metrics.py's collector)."""

    class NoQueues:
        async def stats(self) -> list[QueueRow]:
            return []

    async def members() -> int:
        return 0

    none: dict[Any, int] = {}
    outbox = SimpleNamespace(delivered=none, retries=none, rate_limited=none, horizon_dropped=none)
    collector = BridgeCollector(
        MetricsParts(
            outbox=outbox,
            queues=NoQueues(),
            connections={},
            reconnects=dict,
            commands=dict,
            roster_size=members,
            digest=schedule.counts,
        )
    )
    await collector.refresh()
    return {
        family.name: family.samples[0].value
        for family in collector.collect()
        if family.name.startswith("tgirc_digest")
    }


async def test_a_crash_between_acceptance_and_record_sends_that_digest_once_more(
    smtp: SmtpServer, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What README promises for a crash after the server accepted the mail and before the
    record: the next start sends that digest again, the same Message-ID, and only once."""
    config = config_for(smtp)
    clock = Clock()
    store = DigestStore(db)
    await DigestSchedule(config, store, clock=clock).round()
    await add_member(db, [ALICE], ["python"], listed=True)
    clock.now = clock.start + 24 * HOUR

    async def killed(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the process dies here")

    monkeypatch.setattr(store, "record_sent", killed)
    with pytest.raises(RuntimeError):
        await DigestSchedule(config, store, clock=clock).round()
    monkeypatch.undo()
    clock.now += 60  # the next start, a minute later
    restarted = DigestSchedule(config, DigestStore(db), clock=clock)
    assert await restarted.round() == 0.0
    first, again = smtp.received
    assert again.message["Message-ID"] == first.message["Message-ID"]
    assert again.message["Subject"] == first.message["Subject"] == "#c: 1 new member"
    assert await restarted.round() > 0
    assert len(smtp.received) == 2
