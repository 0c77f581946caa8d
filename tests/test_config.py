"""Config validation: every bad key is named, and the CLI exits 2 for a bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.cli import main
from bridge.config import parse_config
from bridge.errors import ConfigError
from tests.support.configs import MINIMAL, filled_example


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return info.value.problems


def test_minimal_config_gets_defaults() -> None:
    config = parse_config(MINIMAL)
    assert config.irc.port == 6697 and config.irc.tls and config.irc.tls_verify
    assert config.telegram.api_url == "https://api.telegram.org/bot"
    assert config.relay.anti_highlight == "auto"
    assert config.storage.path == "data/tgirc-bridge.sqlite3"


def test_example_config_is_valid() -> None:
    config = parse_config(filled_example())
    assert config.bridges[0].irc_channel == "#our-project"


def test_wrong_type_is_named() -> None:
    assert problems(MINIMAL.replace('nick = "bridge"', 'nick = "bridge"\nport = "x"')) == [
        "irc.port: expected an integer, got str"
    ]


def test_missing_required_key_and_table() -> None:
    text = MINIMAL.replace('token = "1:abc"', "")
    assert problems(text) == ["telegram.token: missing required key"]
    no_irc = (
        "\n".join(MINIMAL.split("[irc]")[0].splitlines())
        + '\n[[bridge]]\ntelegram_chat=1\nirc_channel="#a"\n'
    )
    assert "irc: missing required table" in problems(no_irc)


def test_unknown_keys_are_typos() -> None:
    text = MINIMAL + '\n[relay]\nanti_higlight = "always"\n[extra]\n'
    assert sorted(problems(text)) == ["extra: unknown key", "relay.anti_higlight: unknown key"]


def test_every_problem_is_reported_at_once() -> None:
    text = MINIMAL.replace('irc_channel = "#c"', 'irc_channel = "nochan"') + (
        '\n[roster]\nmoderators = ["bob"]\n[relay]\nanti_highlight = "sometimes"\n'
    )
    found = problems(text)
    assert "bridge[0].irc_channel: not a valid IRC channel name" in found
    assert any(p.startswith("roster.moderators:") for p in found)
    assert "relay.anti_highlight: expected one of auto, always, never" in found


def test_boolean_is_not_an_integer() -> None:
    assert problems(MINIMAL.replace('nick = "bridge"', 'nick = "bridge"\nport = true')) == [
        "irc.port: expected an integer, got bool"
    ]


def test_duplicate_pairs_rejected() -> None:
    text = MINIMAL + '[[bridge]]\ntelegram_chat = -100\nirc_channel = "#d"\n'
    assert problems(text) == [
        "bridge[1].telegram_chat: -100 is bridged whole by bridge[0] already;"
        " a group in several pairs needs a telegram_topic in each"
    ]


def test_cli_check_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text(MINIMAL)
    assert main(["check-config", "--config", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL.replace("[irc]", "[irc]\nport = 'x'\ntls = 3"))
    assert main(["check-config", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "config error: irc.port: expected an integer, got str" in err
    assert "config error: irc.tls: expected true or false, got int" in err


def test_cli_ask_keys_out_of_bounds_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.toml"
    good.write_text(MINIMAL + "[roster]\nask_max_recipients = 3\nask_ttl_days = 0.5\n")
    assert main(["check-config", "--config", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(
        MINIMAL + "[roster]\nask_max_recipients = 0\nasks_per_day = 101\n"
        "asks_received_per_day = 'x'\nask_ttl_days = 91\n"
    )
    assert main(["check-config", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    for key in ("ask_max_recipients", "asks_per_day", "asks_received_per_day", "ask_ttl_days"):
        assert f"config error: roster.{key}: " in err


def test_cli_languages_must_be_shipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pair = 'irc_channel = "#c"\n'
    assert pair in MINIMAL
    good = tmp_path / "good.toml"
    good.write_text(
        MINIMAL.replace(pair, pair + 'language = "fr"\n') + '[i18n]\ndefault_language = "de"\n'
    )
    assert main(["check-config", "--config", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(
        MINIMAL.replace(pair, pair + 'language = "fr-FR"\n') + "[i18n]\ndefault_language = 'xx'\n"
    )
    assert main(["check-config", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    shipped = "(expected one of de, en, es, fr)"
    assert f"config error: i18n.default_language: not a shipped language {shipped}" in err
    assert f"config error: bridge[0].language: not a shipped language {shipped}" in err


def test_cli_invalid_toml_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[telegram]\ntoken = \n")
    assert main(["check-config", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not valid TOML" in err and "line 2" in err


def test_cli_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "cannot read config file" in capsys.readouterr().err


# ------------------------------------------------------------------------------ [web]


def test_web_absent_means_no_server() -> None:
    assert parse_config(MINIMAL).web is None


def test_web_defaults_and_trailing_slash() -> None:
    web = parse_config(MINIMAL + '[web]\npublic_url = "https://media.example.net/tg/"\n').web
    assert web is not None
    assert web.public_url == "https://media.example.net/tg"
    assert (web.listen, web.media_ttl_hours, web.media_cache_mb, web.media_max_mb) == (
        "127.0.0.1:8787",
        72.0,
        500,
        20,
    )


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("", ["web.public_url: missing required key"]),
        ('public_url = ""', ["web.public_url: must not be empty"]),
        (
            'public_url = "ftp://x.org"',
            [
                "web.public_url: expected an http:// or https:// URL with a host name, "
                "got 'ftp://x.org'"
            ],
        ),
        (
            'public_url = "bridge.example.net"',
            [
                "web.public_url: expected an http:// or https:// URL with a host name, "
                "got 'bridge.example.net'"
            ],
        ),
        (
            'public_url = "https://b.net/?a=1"',
            ["web.public_url: must not contain a query (?) or fragment (#)"],
        ),
        (
            'public_url = "https://bridge.example.org"',
            [
                "web.public_url: still the placeholder from config.example.toml; put the address "
                "IRC users reach the bridge at here"
            ],
        ),
        (
            'public_url = "https://b.net"\nlisten = "8787"',
            ["web.listen: expected host:port such as 127.0.0.1:8787 or [::1]:8787, got '8787'"],
        ),
        (
            'public_url = "https://b.net"\nlisten = "127.0.0.1:70000"',
            [
                "web.listen: expected host:port such as 127.0.0.1:8787 or [::1]:8787, "
                "got '127.0.0.1:70000'"
            ],
        ),
        (
            'public_url = "https://b.net"\nmedia_cache_mb = 0\nmedia_ttl_hours = -1\nport = 1',
            [
                "web.media_ttl_hours: must be greater than 0",
                "web.media_cache_mb: must be at least 1",
                "web.port: unknown key",
            ],
        ),
    ],
)
def test_web_problems_are_named(table: str, expected: list[str]) -> None:
    assert problems(MINIMAL + "[web]\n" + table + "\n") == expected


def test_web_listen_takes_ipv6() -> None:
    text = MINIMAL + '[web]\npublic_url = "https://b.net"\nlisten = "[::1]:9000"\n'
    web = parse_config(text).web
    assert web is not None and web.listen == "[::1]:9000"


def test_cli_bad_public_url_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text(MINIMAL + '[web]\npublic_url = "nope"\n', encoding="utf-8")
    assert main(["check-config", "--config", str(path)]) == 2
    assert "config error: web.public_url:" in capsys.readouterr().err


def test_join_links_and_title_are_read() -> None:
    text = MINIMAL.replace(
        'irc_channel = "#c"\n',
        'irc_channel = "#c"\ntelegram_invite_link = "https://t.me/+AbCdEf12_-xy"\n'
        'irc_web_chat_url = "https://web.libera.chat/#c"\n',
    )
    config = parse_config(text + '[web]\npublic_url = "https://b.net"\ntitle = "Wiki <tech>"\n')
    pair = config.bridges[0]
    assert pair.telegram_invite_link == "https://t.me/+AbCdEf12_-xy"
    assert pair.irc_web_chat_url == "https://web.libera.chat/#c"
    assert config.web is not None and config.web.title == "Wiki <tech>"
    assert parse_config(MINIMAL).bridges[0].telegram_invite_link is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            'telegram_invite_link = "https://example.org/+abc"',
            "bridge[0].telegram_invite_link: expected https://t.me/+… (an invite link) or "
            "https://t.me/<public group name>, got 'https://example.org/+abc'",
        ),
        (
            'telegram_invite_link = "t.me/wikitech"',
            "bridge[0].telegram_invite_link: expected https://t.me/+… (an invite link) or "
            "https://t.me/<public group name>, got 't.me/wikitech'",
        ),
        (
            'irc_web_chat_url = "javascript:alert(1)"',
            "bridge[0].irc_web_chat_url: expected an http:// or https:// URL with a host name, "
            "got 'javascript:alert(1)'",
        ),
    ],
)
def test_join_links_are_checked(
    line: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = MINIMAL.replace('irc_channel = "#c"\n', f'irc_channel = "#c"\n{line}\n')
    assert problems(text) == [expected]
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["check-config", "--config", str(path)]) == 2
    assert f"config error: {expected}" in capsys.readouterr().err


def test_web_title_refuses_line_breaks() -> None:
    assert problems(MINIMAL + '[web]\npublic_url = "https://b.net"\ntitle = "a\\nb"\n') == [
        "web.title: must not contain control characters or line breaks"
    ]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("confirm_after_days = 0", "roster.confirm_after_days: must be at least 1"),
        (
            "confirm_grace_days = 400",
            "roster.confirm_grace_days: must be at most 365 (a year); allowed: 1 to 365",
        ),
        ("nudges_per_hour = 0", "roster.nudges_per_hour: must be at least 1"),
    ],
)
def test_freshness_keys_are_bounded(table: str, expected: str) -> None:
    assert problems(MINIMAL + f"[roster]\n{table}\n") == [expected]
    roster = parse_config(MINIMAL).roster
    assert (roster.confirm_after_days, roster.confirm_grace_days, roster.nudges_per_hour) == (
        180,
        30,
        20,
    )
