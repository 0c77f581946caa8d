"""Load the TOML config into frozen dataclasses, naming every bad key in one error."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from bridge.config_checks import (
    check_channel_key,
    check_irc,
    check_join_links,
    check_pair,
    check_relay,
    check_token,
    check_topic,
    check_unique_pairs,
    check_web,
)
from bridge.config_mail import read_digest, read_mail
from bridge.config_model import (
    DEFAULT_API_URL as DEFAULT_API_URL,
)
from bridge.config_model import (
    DEFAULT_DB_PATH as DEFAULT_DB_PATH,
)
from bridge.config_model import (
    DEFAULT_FILE_URL as DEFAULT_FILE_URL,
)
from bridge.config_model import (
    DEFAULT_REALNAME as DEFAULT_REALNAME,
)
from bridge.config_model import (
    AntiHighlight as AntiHighlight,
)
from bridge.config_model import (
    BridgePair as BridgePair,
)
from bridge.config_model import (
    Config as Config,
)
from bridge.config_model import (
    DeliveryConfig as DeliveryConfig,
)
from bridge.config_model import (
    I18nConfig as I18nConfig,
)
from bridge.config_model import (
    IrcConfig as IrcConfig,
)
from bridge.config_model import (
    LoggingConfig as LoggingConfig,
)
from bridge.config_model import (
    RelayConfig as RelayConfig,
)
from bridge.config_model import (
    RosterConfig as RosterConfig,
)
from bridge.config_model import (
    StorageConfig as StorageConfig,
)
from bridge.config_model import (
    TelegramConfig as TelegramConfig,
)
from bridge.config_model import (
    WebConfig as WebConfig,
)
from bridge.config_reader import Section, check_url, read_table
from bridge.errors import ConfigError
from bridge.i18n import shipped

PLAIN_PORT = 6667
"""irc.port when tls = false and no port is given (6697, the field's default, is for TLS)."""


def _build(data: dict[str, Any], problems: list[str]) -> Config | None:
    known = {"telegram", "irc", "bridge", "relay", "storage", "roster", "delivery", "logging"}
    known |= {"web", "mail", "digest", "i18n"}
    for key in sorted(set(data) - known):
        problems.append(f"{key}: unknown key")

    tg = Section("telegram", data.get("telegram", {}), problems, TelegramConfig)
    if "telegram" not in data:
        problems.append("telegram: missing required table")
    telegram = read_table(tg, TelegramConfig, required="telegram" in data)
    check_token(telegram.token, problems)
    check_url(tg, "api_url", telegram.api_url)
    check_url(tg, "file_url", telegram.file_url)
    tg.finish()

    ir = Section("irc", data.get("irc", {}), problems, IrcConfig)
    if "irc" not in data:
        problems.append("irc: missing required table")
    irc = read_table(ir, IrcConfig, required="irc" in data)
    if "port" not in ir.data and not irc.tls:
        irc = replace(irc, port=PLAIN_PORT)  # the default follows tls
    if not 0 < irc.port < 65536:
        problems.append("irc.port: expected a port number from 1 to 65535")
    check_irc(irc, problems)
    plain = irc.sasl_mechanism == "PLAIN"
    if plain and (irc.sasl_username is None) != (irc.sasl_password is None):
        problems.append("irc.sasl_password: sasl_username and sasl_password go together")
    ir.finish()

    bridges: list[BridgePair] = []
    raw_bridges = data.get("bridge", [])
    if not isinstance(raw_bridges, list) or not raw_bridges:
        problems.append("bridge: expected at least one [[bridge]] table")
        raw_bridges = []
    for i, raw in enumerate(raw_bridges):
        sec = Section(f"bridge[{i}]", raw, problems, BridgePair)
        pair = read_table(sec, BridgePair)
        channel = pair.irc_channel
        if channel and (channel[0] not in "#&+!" or any(c in channel for c in " ,\x07\r\n\0")):
            problems.append(f"bridge[{i}].irc_channel: not a valid IRC channel name")
        check_pair(i, pair.telegram_chat, channel, problems)
        check_topic(i, pair.telegram_topic, problems)
        check_channel_key(i, pair.irc_key, problems)
        check_join_links(i, pair, problems)
        check_language(f"bridge[{i}].language", pair.language, problems)
        sec.finish()
        bridges.append(pair)
    check_unique_pairs(bridges, problems)

    rl = Section("relay", data.get("relay", {}), problems, RelayConfig)
    relay = read_table(rl, RelayConfig)  # ignore rules parsed here (bridge/rules.py)
    check_relay(relay, problems)
    rl.finish()

    st = Section("storage", data.get("storage", {}), problems, StorageConfig)
    storage = read_table(st, StorageConfig)
    st.finish()

    ro = Section("roster", data.get("roster", {}), problems, RosterConfig)
    roster = read_table(ro, RosterConfig)  # moderator rules parsed here
    ro.finish()

    de = Section("delivery", data.get("delivery", {}), problems, DeliveryConfig)
    delivery = read_table(de, DeliveryConfig)
    de.finish()

    lg = Section("logging", data.get("logging", {}), problems, LoggingConfig)
    logging = read_table(lg, LoggingConfig)
    lg.finish()

    i18 = Section("i18n", data.get("i18n", {}), problems, I18nConfig)
    i18n = read_table(i18, I18nConfig)
    check_language("i18n.default_language", i18n.default_language, problems)
    i18.finish()

    web = _web(data, problems)
    mail = read_mail(data, problems)
    digest = read_digest(data, mail, problems)
    if digest is not None:
        check_language("digest.language", digest.language, problems)

    if problems:
        return None
    return Config(
        telegram=telegram,
        irc=irc,
        bridges=tuple(bridges),
        relay=relay,
        storage=storage,
        roster=roster,
        delivery=delivery,
        logging=logging,
        web=web,
        mail=mail,
        digest=digest,
        i18n=i18n,
    )


def _web(data: dict[str, Any], problems: list[str]) -> WebConfig | None:
    """[web] is optional: without it the bridge runs no web server, as before."""
    if "web" not in data:
        return None
    we = Section("web", data["web"], problems, WebConfig)
    web = read_table(we, WebConfig)
    web = replace(web, public_url=(web.public_url or "").rstrip("/"))
    check_web(web, "public_url" in we.data, problems)
    we.finish()
    return web


def check_language(key: str, language: str | None, problems: list[str]) -> None:
    """A language must be one the bot ships a catalog for, named as bridge/i18n.py does."""
    if language is not None and language not in shipped():
        problems.append(f"{key}: not a shipped language (expected one of {', '.join(shipped())})")


def parse_config(text: str, source: Path | None = None) -> Config:
    """Parse TOML text; raise ConfigError listing every problem, each naming its key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"not valid TOML: {exc}"]) from None
    problems: list[str] = []
    config = _build(data, problems)
    if config is None:
        raise ConfigError(problems)
    return Config(**{**_fields(config), "source": source})


def _fields(config: Config) -> dict[str, Any]:
    return {name: getattr(config, name) for name in Config.__dataclass_fields__}


def load_config(path: str | Path) -> Config:
    """Read and validate the config file at path."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{p}: cannot read config file ({exc.strerror})"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{p}: not UTF-8 text"]) from None
    return parse_config(text, p)


def resolve_storage_path(config: Config) -> Path:
    """A relative storage path is taken relative to the config file's folder."""
    path = Path(config.storage.path)
    if not path.is_absolute() and config.source is not None:
        path = config.source.parent / path
    return path
