"""`tgirc-bridge digest` (issue 22, item 5) against a real SMTP server on loopback: the
preview sends nothing, --send delivers one mail with the right envelope, headers and cards,
names no unlisted member, and a refused send exits 1 naming the server's reply."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bridge.cli import main
from storage.db import Database
from tests.support.cli import CONFIG
from tests.support.digest import (
    ALICE,
    ALICE_IRC,
    BOB,
    CAROL,
    LIST,
    SECOND,
    SECRET,
    SECRET_TAGS,
    add_member,
    digest_tables,
)
from tests.support.smtp import SmtpServer

WEB = '[web]\npublic_url = "https://bridge.test/collab"\n'


def config_with_members(tmp_path: Path, smtp: SmtpServer) -> Path:
    """Alice (Telegram and IRC, listed), Bob (IRC, listed), Carol (listed, then unlisted)
    and Zed (never listed) in the roster; [mail] for smtp, [digest] to two addresses."""
    path = tmp_path / "config.toml"
    path.write_text(CONFIG + WEB + digest_tables(smtp), encoding="utf-8")

    async def populate() -> None:
        db = await Database.open(tmp_path / "roster.sqlite3")
        try:
            await add_member(
                db, [ALICE, ALICE_IRC], ["python", "mesh-networking"], listed=True, channels=["#c"]
            )
            await add_member(db, [BOB], ["python", "rust"], listed=True, channels=["#c"])
            await add_member(db, [CAROL], ["translation"], listed=False)
            await add_member(db, [SECRET], SECRET_TAGS, listed=False)
        finally:
            await db.close()

    asyncio.run(populate())
    return path


def test_preview_prints_the_whole_mail_and_sends_nothing(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with_members(tmp_path, smtp)
    assert main(["digest", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("From: Collab Bridge <bridge@example.org>\n")
    assert f"\nTo: {LIST}, {SECOND}\n" in out
    assert "\nSubject: #c: 4 new members\n" in out  # 2 listed, 2 only counted
    assert "\nAuto-Submitted: auto-generated\n" in out
    assert re.search(r"\nMessage-ID: <digest\.\d+\.[0-9a-f]{12}@example\.org>\n", out)
    assert smtp.received == []  # the command has returned: nothing can still arrive
    # the preview recorded nothing: --send sends the same digest
    assert main(["digest", "--config", str(config), "--send"]) == 0
    assert len(smtp.received) == 1


def test_send_delivers_one_mail_naming_only_listed_members(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with_members(tmp_path, smtp)
    assert main(["digest", "--config", str(config), "--send"]) == 0
    assert capsys.readouterr().out == f"digest sent to {LIST}, {SECOND}: #c: 4 new members\n"
    [mail] = smtp.received
    assert mail.mail_from == "bridge@example.org"
    assert mail.rcpt_tos == (LIST, SECOND)
    message = mail.message
    assert message["From"] == "Collab Bridge <bridge@example.org>"
    assert message["To"] == f"{LIST}, {SECOND}"
    assert message["Subject"] == "#c: 4 new members"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"] and message["Message-ID"]
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    text = mail.text
    assert "* Alice Liddell\n  Telegram: Alice Liddell (@alice_tg)\n  IRC: alicew on #c\n" in text
    assert "  Interests: python, mesh-networking\n" in text
    assert "* bobby\n  IRC: bobby on #c\n  Interests: python, rust\n  Member since: " in text
    assert "New in the members directory (2)" in text
    assert "2 people also joined without choosing to be listed" in text
    assert "  python           2\n" in text  # the top interests, listed members only
    assert "Everyone listed: https://bridge.test/collab/members\n" in text
    for hidden in ("Carol", "Sölvberg", "carol_s", "translation", "Zed", "zed_hidden"):
        assert hidden not in text and hidden.encode() not in mail.data
    for tag in SECRET_TAGS:
        assert tag not in text and tag.encode() not in mail.data

    # recorded: the next digest starts from now, and there is nothing new yet
    assert main(["digest", "--config", str(config), "--send"]) == 0
    assert "nothing new since the last digest: no mail" in capsys.readouterr().err
    assert len(smtp.received) == 1


def test_a_refused_send_exits_1_naming_the_reply_and_records_nothing(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with_members(tmp_path, smtp)
    smtp.handler.rcpt_replies = ["550 5.1.1 No such list", "550 5.1.1 No such list"]
    assert main(["digest", "--config", str(config), "--send"]) == 1
    err = capsys.readouterr().err
    assert "error: digest not sent: 127.0.0.1:" in err
    assert "550 No such list" in err or "550 5.1.1 No such list" in err
    assert smtp.received == []
    assert main(["digest", "--config", str(config), "--send"]) == 0  # not recorded: sent now
    assert len(smtp.received) == 1


def test_status_shows_the_digest(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with_members(tmp_path, smtp)
    assert main(["status", "--config", str(config)]) == 0
    assert "digest: not started yet" in capsys.readouterr().out
    assert main(["digest", "--config", str(config), "--send"]) == 0
    capsys.readouterr()
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    due = r"digest: 1 sent since .* UTC; the last covered up to .* UTC; next due in 60480\ds"
    assert re.search(due, out)
