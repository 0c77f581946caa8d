"""[mail] and [digest] (issue 22, item 1): read with their defaults, and each mistake refused
by check-config with exit 2 naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.cli import main
from bridge.config import parse_config
from bridge.config_model import DigestConfig, MailConfig
from bridge.errors import ConfigError
from tests.support.configs import EXAMPLE, MINIMAL

MAIL = '[mail]\nhost = "smtp.example.org"\nfrom = "Collab Bridge <bridge@example.org>"\n'
DIGEST = '[digest]\nto = "volunteer-supporters@lists.example.org"\n'


def test_mail_and_digest_are_read_with_their_defaults() -> None:
    config = parse_config(MINIMAL + MAIL + DIGEST)
    assert config.mail == MailConfig(
        host="smtp.example.org", sender="Collab Bridge <bridge@example.org>", port=587
    )
    assert config.digest == DigestConfig(to=("volunteer-supporters@lists.example.org",))
    assert config.digest.every_hours == 168
    implicit = parse_config(MINIMAL + MAIL + 'tls = "tls"\n').mail
    assert implicit is not None and implicit.port == 465  # the port follows tls
    plain = parse_config(MINIMAL + MAIL + 'tls = "none"\nport = 2525\n').mail
    assert plain is not None and plain.port == 2525
    several = parse_config(MINIMAL + MAIL + '[digest]\nto = ["a@x.org", "B <b@y.org>"]\n')
    assert several.digest is not None and several.digest.to == ("a@x.org", "B <b@y.org>")
    assert parse_config(MINIMAL + MAIL + "[digest]\nto = 'a@x.org'\nevery_hours = 0.5\n").digest


def test_the_mail_password_is_a_secret() -> None:
    config = parse_config(MINIMAL + MAIL + 'username = "bridge"\npassword = "s3cret mail"\n')
    assert "s3cret mail" in config.secrets()


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        (DIGEST, "digest: needs a [mail] table (the SMTP server to send it through)"),
        (MAIL + 'tls = "ssl"\n', "mail.tls: expected one of starttls, tls, none"),
        (
            MAIL.replace("Collab Bridge <bridge@example.org>", "bridge at example.org"),
            "mail.from: expected one mail address such as name@example.org, "
            "got 'bridge at example.org'",
        ),
        (
            MAIL + '[digest]\nto = ["list@example.org", "not an address"]\n',
            "digest.to: expected one mail address such as name@example.org, got 'not an address'",
        ),
        (MAIL + DIGEST + "every_hours = 0\n", "digest.every_hours: must be greater than 0"),
        (MAIL + DIGEST + "every_hours = -1\n", "digest.every_hours: must be greater than 0"),
        (
            MAIL + DIGEST + "every_hours = 8761\n",
            "digest.every_hours: must be at most 8760 (a year); allowed: above 0 up to 8760",
        ),
        (MAIL + 'username = "bridge"\n', "mail.password: a username needs its password"),
        (MAIL + 'password = "x"\n', "mail.username: a password needs its username"),
        (MAIL + "[digest]\nevery_hours = 24\n", "digest.to: missing required key"),
        (MAIL + "[digest]\nto = []\n", "digest.to: expected at least one address"),
        (MAIL + 'sender = "b@example.org"\n', "mail.sender: unknown key"),
        ('[mail]\nfrom = "b@example.org"\n', "mail.host: missing required key"),
        (MAIL + "port = 0\n", "mail.port: expected a port number from 1 to 65535"),
        (
            MAIL + 'tls = "none"\nusername = "bridge"\npassword = "s3cret mail"\n',
            'mail.tls: "none" would send the password in clear text to smtp.example.org; use '
            '"starttls" or "tls" ("none" is for a relay on this machine: localhost, 127.0.0.1, '
            "::1)",
        ),
    ],
)
def test_mistakes_are_refused_naming_the_key(
    tables: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(MINIMAL + tables)
    assert info.value.problems == [expected]
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL + tables, encoding="utf-8")
    assert main(["check-config", "--config", str(path)]) == 2
    assert capsys.readouterr().err == f"config error: {expected}\n"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.2", "::1", "[::1]"])
def test_a_password_without_tls_is_fine_on_this_machine(host: str) -> None:
    mail = MAIL.replace("smtp.example.org", host)
    text = MINIMAL + mail + 'tls = "none"\nusername = "bridge"\npassword = "s3cret mail"\n'
    config = parse_config(text).mail
    assert config is not None and (config.host, config.tls) == (host, "none")


def test_the_example_files_mail_and_digest_tables_are_valid_once_uncommented() -> None:
    example = EXAMPLE.read_text(encoding="utf-8")
    block = example[example.index("# [mail]\n") :]
    lines = [line.removeprefix("# ").removeprefix("#") for line in block.splitlines()]
    tables = "\n".join(line for line in lines if not line.startswith("tls_ca_file"))
    config = parse_config(MINIMAL + tables)
    assert config.mail is not None and config.mail.port == 587 and config.mail.timeout == 60
    assert config.digest == DigestConfig(
        ("volunteer-supporters@lists.example.org",), 168.0, language="fr"
    )
