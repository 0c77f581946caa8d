"""Load the TOML config into frozen dataclasses, naming every bad key in one error."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from bridge.config_checks import (
    check_channel_key,
    check_irc,
    check_pair,
    check_relay,
    check_token,
    check_topic,
    check_unique_pairs,
    check_web,
)
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
from bridge.config_reader import Section, check_url
from bridge.errors import ConfigError


def _build(data: dict[str, Any], problems: list[str]) -> Config | None:
    known = {"telegram", "irc", "bridge", "relay", "storage", "roster", "delivery", "logging"}
    known |= {"web"}
    for key in sorted(set(data) - known):
        problems.append(f"{key}: unknown key")

    tg = Section("telegram", data.get("telegram", {}), problems, TelegramConfig)
    if "telegram" not in data:
        problems.append("telegram: missing required table")
    telegram = TelegramConfig(
        token=tg.string("token", "", required="telegram" in data),
        api_url=tg.string("api_url", DEFAULT_API_URL),
        file_url=tg.string("file_url", DEFAULT_FILE_URL),
        poll_timeout=tg.count("poll_timeout", 30),
        messages_per_minute=tg.number("messages_per_minute", 20.0),
        burst=tg.count("burst", 3),
        request_timeout=tg.number("request_timeout", 15.0),
    )
    check_token(telegram.token, problems)
    check_url(tg, "api_url", telegram.api_url)
    check_url(tg, "file_url", telegram.file_url)
    tg.finish()

    ir = Section("irc", data.get("irc", {}), problems, IrcConfig)
    if "irc" not in data:
        problems.append("irc: missing required table")
    tls = ir.boolean("tls", True)
    irc = IrcConfig(
        host=ir.string("host", "", required="irc" in data),
        nick=ir.string("nick", "", required="irc" in data),
        port=ir.integer("port", 6697 if tls else 6667),
        tls=tls,
        tls_verify=ir.boolean("tls_verify", True),
        tls_ca_file=ir.string("tls_ca_file"),
        username=ir.string("username", "tgircbridge"),
        realname=ir.string("realname", DEFAULT_REALNAME),
        password=ir.string("password"),
        sasl_username=ir.string("sasl_username"),
        sasl_password=ir.string("sasl_password"),
        nickserv_password=ir.string("nickserv_password"),
        command_prefix=ir.string("command_prefix", "!"),
        send_burst=ir.count("send_burst", 4),
        send_rate=ir.number("send_rate", 1.0),
        ping_interval=ir.number("ping_interval", 60.0),
        ping_timeout=ir.number("ping_timeout", 120.0),
        reconnect_min=ir.number("reconnect_min", 1.0),
        reconnect_max=ir.number("reconnect_max", 60.0),
        bot_mode=ir.boolean("bot_mode", True),
    )
    if not 0 < irc.port < 65536:
        problems.append("irc.port: expected a port number from 1 to 65535")
    check_irc(irc, problems)
    if (irc.sasl_username is None) != (irc.sasl_password is None):
        problems.append("irc.sasl_password: sasl_username and sasl_password go together")
    ir.finish()

    bridges: list[BridgePair] = []
    raw_bridges = data.get("bridge", [])
    if not isinstance(raw_bridges, list) or not raw_bridges:
        problems.append("bridge: expected at least one [[bridge]] table")
        raw_bridges = []
    for i, raw in enumerate(raw_bridges):
        sec = Section(f"bridge[{i}]", raw, problems)
        chat = sec.integer("telegram_chat", 0, required=True)
        channel = sec.string("irc_channel", "", required=True)
        if channel and (channel[0] not in "#&+!" or any(c in channel for c in " ,\x07\r\n\0")):
            problems.append(f"bridge[{i}].irc_channel: not a valid IRC channel name")
        check_pair(i, chat, channel, problems)
        topic = sec.integer("telegram_topic")
        check_topic(i, topic, problems)
        key = sec.string("irc_key")
        check_channel_key(i, key, problems)
        directory = sec.boolean("directory", True)
        sec.finish()
        bridges.append(
            BridgePair(
                telegram_chat=chat,
                irc_channel=channel,
                telegram_topic=topic,
                irc_key=key,
                directory=directory,
            )
        )
    check_unique_pairs(bridges, problems)

    rl = Section("relay", data.get("relay", {}), problems, RelayConfig)
    relay = RelayConfig(
        name_format=rl.string("name_format", "<{name}>"),
        anti_highlight=rl.choice("anti_highlight", "auto", ("auto", "always", "never")),
        ignore=rl.strings("ignore"),
        no_relay_prefix=rl.string("no_relay_prefix", "//"),
        edit_debounce=rl.number("edit_debounce", 3.0, zero_ok=True),
        irc_joins=rl.boolean("irc_joins", False),
        irc_parts=rl.boolean("irc_parts", False),
        irc_quits=rl.boolean("irc_quits", False),
        irc_kicks=rl.boolean("irc_kicks", True),
        irc_nick_changes=rl.boolean("irc_nick_changes", False),
        telegram_joins=rl.boolean("telegram_joins", True),
    )
    check_relay(relay, problems)
    for rule in relay.ignore:
        if not rule.startswith(("telegram:", "irc:")):
            problems.append(f"relay.ignore: {rule!r} must start with telegram: or irc:")
    rl.finish()

    st = Section("storage", data.get("storage", {}), problems)
    storage = StorageConfig(path=st.string("path", DEFAULT_DB_PATH))
    st.finish()

    ro = Section("roster", data.get("roster", {}), problems, RosterConfig)
    roster = RosterConfig(
        moderators=ro.strings("moderators"),
        telegram_admins_are_moderators=ro.boolean("telegram_admins_are_moderators", False),
        commands_per_minute=ro.count("commands_per_minute", 6),
        commands_in_flight=ro.count("commands_in_flight", 8),
        unverified_per_host_per_hour=ro.count("unverified_per_host_per_hour", 5),
    )
    for rule in roster.moderators:
        if not rule.startswith(("telegram:", "irc:account:", "irc:mask:")):
            problems.append(
                f"roster.moderators: {rule!r} must be telegram:<id>, irc:account:<name> "
                "or irc:mask:<glob>"
            )
    ro.finish()

    de = Section("delivery", data.get("delivery", {}), problems, DeliveryConfig)
    delivery = DeliveryConfig(
        horizon_hours=de.number("horizon_hours", 24.0),
        shutdown_grace=de.number("shutdown_grace", 5.0, zero_ok=True),
    )
    de.finish()

    lg = Section("logging", data.get("logging", {}), problems)
    level = lg.choice("level", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
    lg.finish()

    web = _web(data, problems)

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
        logging=LoggingConfig(level=level),
        web=web,
    )


def _web(data: dict[str, Any], problems: list[str]) -> WebConfig | None:
    """[web] is optional: without it the bridge runs no web server, as before."""
    if "web" not in data:
        return None
    we = Section("web", data["web"], problems, WebConfig)
    web = WebConfig(
        public_url=(we.string("public_url", "", required=True) or "").rstrip("/"),
        listen=we.string("listen", "127.0.0.1:8787"),
        media_ttl_hours=we.number("media_ttl_hours", 72.0),
        media_cache_mb=we.count("media_cache_mb", 500),
        media_max_mb=we.count("media_max_mb", 20),
        media_fetches=we.count("media_fetches", 4),
    )
    check_web(web, "public_url" in we.data, problems)
    we.finish()
    return web


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
