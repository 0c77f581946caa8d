"""Each config key is written once, in bridge/config_model.py: the reader takes its type,
default and bounds from the dataclass field (config_reader.read_table)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

import pytest

from bridge.config import parse_config
from bridge.config_model import (
    DeliveryConfig,
    IrcConfig,
    LoggingConfig,
    RelayConfig,
    RosterConfig,
    StorageConfig,
    TelegramConfig,
    WebConfig,
    bounded,
    rules,
)
from bridge.config_reader import Section, read_table
from bridge.rules import IrcAccount, parse_moderator

CONFIG = """
[telegram]
token = "1:abc"
[irc]
host = "127.0.0.1"
nick = "bridge"
[[bridge]]
telegram_chat = -100
irc_channel = "#c"
[web]
public_url = "https://b.example.net"
"""


def test_a_minimal_config_is_every_dataclass_default() -> None:
    config = parse_config(CONFIG)
    assert config.telegram == TelegramConfig(token="1:abc")
    assert config.irc == IrcConfig(host="127.0.0.1", nick="bridge")
    assert config.web == WebConfig(public_url="https://b.example.net")
    for table in (RelayConfig, StorageConfig, RosterConfig, DeliveryConfig, LoggingConfig):
        name = table.__name__.removesuffix("Config").lower()
        assert getattr(config, name) == table(), name


def test_without_tls_the_port_defaults_to_6667() -> None:
    assert parse_config(CONFIG.replace("[irc]", "[irc]\ntls = false")).irc.port == 6667
    assert parse_config(CONFIG.replace("[irc]", "[irc]\ntls = false\nport = 7000")).irc.port == 7000


@dataclass(frozen=True, slots=True)
class Sample:
    """A table declared only here: nothing else needs writing for it to be read."""

    name: str
    count: int = bounded(3, 10, "ten at most")
    seconds: float = bounded(1.5, 60.0, "a minute", zero_ok=True)
    port: int = 6697
    flag: bool = True
    note: str | None = None
    level: Literal["low", "high"] = "low"
    words: tuple[str, ...] = ()
    mods: tuple[Any, ...] = rules(parse_moderator)


def read(data: dict[str, Any]) -> tuple[Sample, list[str]]:
    problems: list[str] = []
    section = Section("sample", data, problems, Sample)
    sample = read_table(section, Sample)
    section.finish()
    return sample, problems


def test_a_table_is_read_by_its_fields() -> None:
    sample, problems = read({"name": "x"})
    assert problems == []
    assert sample == Sample(name="x")
    data = {
        "name": "y",
        "count": 10,
        "seconds": 0,
        "port": 1,
        "flag": False,
        "note": "n",
        "level": "high",
        "words": ["a", "b"],
        "mods": ["irc:account:Op"],
    }
    sample, problems = read(data)
    assert problems == []
    assert sample == Sample("y", 10, 0.0, 1, False, "n", "high", ("a", "b"), (IrcAccount("Op"),))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({}, "sample.name: missing required key"),
        (
            {"name": "x", "count": 11},
            "sample.count: must be at most 10 (ten at most); allowed: 1 to 10",
        ),
        ({"name": "x", "count": 0}, "sample.count: must be at least 1"),
        ({"name": "x", "seconds": -1}, "sample.seconds: must not be negative"),
        ({"name": "x", "port": "80"}, "sample.port: expected an integer, got str"),
        ({"name": "x", "flag": 1}, "sample.flag: expected true or false, got int"),
        ({"name": "x", "level": "mid"}, "sample.level: expected one of low, high"),
        ({"name": "x", "words": [1]}, "sample.words: expected a list of strings"),
        (
            {"name": "x", "mods": ["irc:"]},
            "sample.mods: 'irc:' must be telegram:<id>, irc:account:<name> or irc:mask:<glob>",
        ),
        ({"name": "x", "typo": 1}, "sample.typo: unknown key"),
    ],
)
def test_a_bad_key_of_such_a_table_is_named(data: dict[str, Any], problem: str) -> None:
    assert read(data)[1] == [problem]


def test_every_field_of_the_config_has_a_reader() -> None:
    """read_table raises TypeError for a type it cannot read: none is left."""
    tables = (TelegramConfig, IrcConfig, RelayConfig, StorageConfig, RosterConfig)
    for table in (*tables, DeliveryConfig, LoggingConfig, WebConfig):
        problems: list[str] = []
        read_table(Section("t", {}, problems, table), table, required=False)
        assert problems == [], table
        assert fields(table)
