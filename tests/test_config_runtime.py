"""Config that type-checks but would break the running bridge is refused at load (issue 9,
case 9): every such value is named by its key, and the untouched example says what to fill in.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.config import parse_config
from bridge.errors import ConfigError
from tests.support.configs import EXAMPLE, MINIMAL, ZERO_ALLOWED, filled_example
from tests.support.ircd import self_signed_cert


def with_keys(section: str, lines: str, base: str = MINIMAL) -> str:
    """MINIMAL with ``lines`` added to ``[section]`` (the table is appended if missing)."""
    header = f"[{section}]\n"
    if header in base:
        return base.replace(header, header + lines + "\n", 1)
    return base + header + lines + "\n"


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return info.value.problems


def only_problem(section: str, lines: str) -> str:
    found = problems_of(with_keys(section, lines))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("section", "lines", "expected"),
    [
        ("irc", 'command_prefix = ""', "irc.command_prefix: must not be empty"),
        ("irc", 'command_prefix = "  "', "irc.command_prefix: must not be empty"),
        ("relay", 'no_relay_prefix = ""', "relay.no_relay_prefix: must not be empty"),
    ],
)
def test_empty_prefixes_are_refused(section: str, lines: str, expected: str) -> None:
    assert only_problem(section, lines) == expected


@pytest.mark.parametrize(
    "fmt",
    ["{nick}", "{name", "{0}", "{name.upper}", "<{name}> {}", "{name:.0}", "[{name:>x}]", "plain"],
)
def test_name_format_must_format_a_sample_name(fmt: str) -> None:
    problem = only_problem("relay", f"name_format = {fmt!r}".replace("'", '"'))
    assert problem.startswith("relay.name_format: "), problem


@pytest.mark.parametrize("fmt", ["<{name}>", "{name}:", "[{name!s}]", "{{{name}}}", "<{name:.30}>"])
def test_name_formats_that_work_are_accepted(fmt: str) -> None:
    config = parse_config(with_keys("relay", f'name_format = "{fmt}"'))
    assert config.relay.name_format.format(name="Ann").count("Ann") == 1


# Every duration, rate, size and count of the config, and whether 0 makes sense for it.
POSITIVE = [
    ("telegram", "poll_timeout"),  # 0 = short polling: getUpdates in a tight loop
    ("telegram", "messages_per_minute"),
    ("telegram", "burst"),  # a bucket of 0 never sends
    ("telegram", "request_timeout"),
    ("irc", "send_burst"),
    ("irc", "send_rate"),
    ("irc", "ping_interval"),
    ("irc", "ping_timeout"),
    ("irc", "reconnect_min"),  # 0 = reconnect storm: the backoff never grows from 0
    ("irc", "reconnect_max"),
    ("roster", "commands_per_minute"),  # 0 was silently taken as 1
    ("delivery", "horizon_hours"),  # 0 = every queued message is already too old
]


@pytest.mark.parametrize(("section", "key"), POSITIVE)
@pytest.mark.parametrize("value", ["0", "-1"])
def test_non_positive_durations_rates_and_sizes_are_refused(
    section: str, key: str, value: str
) -> None:
    problem = only_problem(section, f"{key} = {value}")
    assert re.fullmatch(rf"{section}\.{key}: must be (greater than 0|at least 1)", problem)


@pytest.mark.parametrize(("section", "key"), ZERO_ALLOWED)
def test_zero_is_allowed_where_it_means_at_once_but_negative_is_not(section: str, key: str) -> None:
    config = parse_config(with_keys(section, f"{key} = 0"))
    assert getattr(getattr(config, section), key) == 0
    assert only_problem(section, f"{key} = -1") == f"{section}.{key}: must not be negative"


def test_the_watchdog_and_the_backoff_must_make_sense() -> None:
    assert only_problem("irc", "ping_interval = 60\nping_timeout = 60") == (
        "irc.ping_timeout: must be greater than irc.ping_interval (60), or a quiet "
        "connection is dropped before it is pinged"
    )
    assert only_problem("irc", "reconnect_min = 30\nreconnect_max = 10") == (
        "irc.reconnect_max: must not be less than irc.reconnect_min (30)"
    )


@pytest.mark.parametrize(
    "nick", ["1bridge", "-bridge", "tg bridge", "bridge!", "bri@dge", "brïdge", "b" * 31, "#bot"]
)
def test_invalid_irc_nicks_are_refused(nick: str) -> None:
    [problem] = problems_of(MINIMAL.replace('nick = "bridge"', f'nick = "{nick}"'))
    assert problem.startswith("irc.nick: not a valid IRC nick"), problem


@pytest.mark.parametrize("nick", ["bridge", "[bot]", "tg_bridge-2", "`x^", "a|b{c}\\\\", "b" * 30])
def test_valid_irc_nicks_are_accepted(nick: str) -> None:
    text = MINIMAL.replace('nick = "bridge"', f'nick = "{nick}"')
    assert parse_config(text).irc.nick == nick.replace("\\\\", "\\")


def test_tls_ca_file_must_exist_and_hold_certificates(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    assert only_problem("irc", f'tls_ca_file = "{missing}"') == (
        f"irc.tls_ca_file: {missing} does not exist"
    )
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    problem = only_problem("irc", f'tls_ca_file = "{junk}"')
    assert problem.startswith(f"irc.tls_ca_file: {junk} holds no CA certificate"), problem
    cert, _ = self_signed_cert(tmp_path / "ca")
    config = parse_config(with_keys("irc", f'tls_ca_file = "{cert}"'))
    assert config.irc.tls_ca_file == str(cert)


def test_client_certificate_files_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert, key = self_signed_cert(tmp_path / "bot")
    _, other_key = self_signed_cert(tmp_path / "other")
    both = tmp_path / "bot.pem"
    both.write_text(cert.read_text() + key.read_text())
    locked = tmp_path / "locked.key"
    subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-aes256", "-passout", "pass:x", "-out", str(locked)],
        check=True,
        capture_output=True,
    )
    config = parse_config(with_keys("irc", f'tls_client_cert = "{both}"'))
    assert (config.irc.tls_client_cert, config.irc.sasl_mechanism) == (str(both), "PLAIN")
    external = f'tls_client_cert = "{cert}"\ntls_client_key = "{key}"\nsasl_mechanism = "EXTERNAL"'
    assert parse_config(with_keys("irc", external)).irc.sasl_mechanism == "EXTERNAL"
    missing = tmp_path / "nope.pem"
    cases = {
        f'tls_client_cert = "{missing}"': f"irc.tls_client_cert: {missing} does not exist",
        f'tls_client_cert = "{cert}"': (
            f"irc.tls_client_cert: {cert} does not hold a certificate and its key (PEM); "
            "a key in a file of its own goes in irc.tls_client_key"
        ),
        f'tls_client_cert = "{cert}"\ntls_client_key = "{other_key}"': (
            f"irc.tls_client_key: the key does not match the certificate in {cert}"
        ),
        f'tls_client_cert = "{cert}"\ntls_client_key = "{locked}"': (
            "irc.tls_client_key: the key is encrypted: give it without a passphrase"
        ),
        f'tls_client_key = "{key}"': "irc.tls_client_key: goes with irc.tls_client_cert",
        f'tls = false\ntls_client_cert = "{both}"': (
            "irc.tls_client_cert: a client certificate needs irc.tls = true"
        ),
        'sasl_mechanism = "EXTERNAL"': (
            'irc.sasl_mechanism: "EXTERNAL" logs in with a client certificate; '
            "set irc.tls_client_cert"
        ),
        f'tls_client_cert = "{both}"\nsasl_mechanism = "EXTERNAL"\nsasl_username = "b"\n'
        'sasl_password = "p"': (
            'irc.sasl_password: not used with sasl_mechanism = "EXTERNAL" '
            "(the client certificate is the credential)"
        ),
    }
    for lines, expected in cases.items():
        assert only_problem("irc", lines) == expected
    assert only_problem("irc", 'sasl_mechanism = "SCRAM"').startswith("irc.sasl_mechanism: ")
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(
        with_keys("irc", f'tls_client_cert = "{cert}"\ntls_client_key = "{other_key}"')
    )
    assert main(["check-config", "--config", str(wrong)]) == 2
    err = capsys.readouterr().err
    assert "config error: irc.tls_client_key: the key does not match" in err
    secret = "".join(other_key.read_text().splitlines()[1:-1])
    assert "PRIVATE KEY" not in err and secret[:40] not in err.replace("\n", "")


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('username = "tg bridge"', "irc.username: must be one word (no spaces, @ or controls)"),
        ('realname = "two\\nlines"', "irc.realname: must not contain line breaks or NUL"),
        ('password = "pa\\rss"', "irc.password: must not contain line breaks or NUL"),
    ],
)
def test_irc_values_that_break_the_protocol_are_refused(lines: str, expected: str) -> None:
    assert only_problem("irc", lines) == expected


def test_token_must_look_like_a_bot_token() -> None:
    problem = problems_of(MINIMAL.replace('token = "1:abc"', 'token = "my token"'))
    assert problem == ["telegram.token: expected a bot token like 123456:ABC-def (from @BotFather)"]


# ----------------------------------------------------------------- the example file

PLACEHOLDERS = ["telegram.token", "bridge[0].telegram_chat", "bridge[0].irc_channel"]


def test_untouched_example_is_refused_naming_each_value_to_fill_in() -> None:
    found = problems_of(EXAMPLE.read_text(encoding="utf-8"))
    assert [p.split(":", 1)[0] for p in found] == PLACEHOLDERS
    assert all("config.example.toml" in p for p in found), found


def test_filled_in_example_is_valid() -> None:
    config = parse_config(filled_example())
    assert config.bridges[0].irc_channel == "#our-project"
    assert config.telegram.token.startswith("987654321:")


def test_check_config_on_the_untouched_example_says_what_to_fill_in(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check-config", "--config", str(EXAMPLE)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(":", 2)[1].strip() for line in lines] == PLACEHOLDERS
    assert "token from @BotFather" in lines[0]
    assert "chat id" in lines[1] and "IRC channel" in lines[2]


def test_check_config_accepts_the_filled_in_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(filled_example(), encoding="utf-8")
    assert main(["check-config", "--config", str(config)]) == 0
    assert "OK (1 bridged pair(s))" in capsys.readouterr().out
