"""Load the TOML config into frozen dataclasses, naming every bad key in one error."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from bridge.errors import ConfigError

T = TypeVar("T")

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_FILE_URL = "https://api.telegram.org/file/bot"
DEFAULT_REALNAME = "tgirc-bridge: Telegram <-> IRC relay bot"
DEFAULT_DB_PATH = "data/tgirc-bridge.sqlite3"
AntiHighlight = Literal["auto", "always", "never"]


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str
    api_url: str = DEFAULT_API_URL
    file_url: str = DEFAULT_FILE_URL
    poll_timeout: int = 30
    """Long-polling timeout in seconds handed to getUpdates."""
    messages_per_minute: float = 20.0
    """Per-group send rate; Telegram allows a bot about 20 messages a minute in a group."""
    burst: int = 3
    request_timeout: float = 15.0


@dataclass(frozen=True, slots=True)
class IrcConfig:
    host: str
    nick: str
    port: int = 6697
    tls: bool = True
    tls_verify: bool = True
    tls_ca_file: str | None = None
    """Extra CA certificates (PEM) to trust, for servers with a private CA."""
    username: str = "tgircbridge"
    realname: str = DEFAULT_REALNAME
    password: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    nickserv_password: str | None = None
    command_prefix: str = "!"
    send_burst: int = 4
    """Lines sent back to back before pacing starts (token bucket size)."""
    send_rate: float = 1.0
    """Lines per second after the burst; 1/s is safe on Libera.Chat."""
    ping_interval: float = 60.0
    ping_timeout: float = 120.0
    """No line from the server for this long counts as a disconnect."""
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    bot_mode: bool = True


@dataclass(frozen=True, slots=True)
class BridgePair:
    telegram_chat: int
    irc_channel: str


@dataclass(frozen=True, slots=True)
class RelayConfig:
    name_format: str = "<{name}>"
    """How a Telegram sender is shown on IRC; {name} is the display name."""
    anti_highlight: AntiHighlight = "auto"
    ignore: tuple[str, ...] = ()
    no_relay_prefix: str = "//"
    edit_debounce: float = 3.0
    irc_joins: bool = False
    irc_parts: bool = False
    irc_quits: bool = False
    irc_kicks: bool = True
    irc_nick_changes: bool = False
    telegram_joins: bool = True


@dataclass(frozen=True, slots=True)
class StorageConfig:
    path: str = DEFAULT_DB_PATH


@dataclass(frozen=True, slots=True)
class RosterConfig:
    moderators: tuple[str, ...] = ()
    telegram_admins_are_moderators: bool = False
    commands_per_minute: int = 6


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    horizon_hours: float = 24.0
    shutdown_grace: float = 5.0


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: str = "INFO"


@dataclass(frozen=True, slots=True)
class Config:
    telegram: TelegramConfig
    irc: IrcConfig
    bridges: tuple[BridgePair, ...]
    relay: RelayConfig = field(default_factory=RelayConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    roster: RosterConfig = field(default_factory=RosterConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    source: Path | None = None

    def secrets(self) -> list[str]:
        """Every configured secret, for the log redaction filter."""
        values = [
            self.telegram.token,
            self.irc.password,
            self.irc.sasl_password,
            self.irc.nickserv_password,
        ]
        return [v for v in values if v]


class _Section:
    """Reads one TOML table, remembering which keys were used and every problem found."""

    def __init__(self, name: str, data: Any, problems: list[str]) -> None:
        self.name = name
        self.problems = problems
        if not isinstance(data, dict):
            problems.append(f"{name}: expected a table")
            data = {}
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def _get(
        self,
        key: str,
        kind: type[T] | tuple[type, ...],
        what: str,
        default: T | None,
        required: bool,
    ) -> Any:
        self.used.add(key)
        full = f"{self.name}.{key}"
        if key not in self.data:
            if required:
                self.problems.append(f"{full}: missing required key")
            return default
        value = self.data[key]
        bad_bool = isinstance(value, bool) and kind in (int, float, (int, float))
        if not isinstance(value, kind) or bad_bool:
            self.problems.append(f"{full}: expected {what}, got {type(value).__name__}")
            return default
        return value

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> Any:
        value = self._get(key, str, "a string", default, required)
        if required and key in self.data and isinstance(value, str) and not value.strip():
            self.problems.append(f"{self.name}.{key}: must not be empty")
        return value

    def integer(self, key: str, default: int | None = None, *, required: bool = False) -> Any:
        return self._get(key, int, "an integer", default, required)

    def number(self, key: str, default: float, *, positive: bool = True) -> float:
        value = self._get(key, (int, float), "a number", default, False)
        if positive and value <= 0:
            self.problems.append(f"{self.name}.{key}: must be greater than 0")
            return default
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        return cast(bool, self._get(key, bool, "true or false", default, False))

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._get(key, list, "a list of strings", [], False)
        if not all(isinstance(v, str) for v in value):
            self.problems.append(f"{self.name}.{key}: expected a list of strings")
            return ()
        return tuple(value)

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> Any:
        value = self.string(key, default)
        if value not in choices:
            self.problems.append(f"{self.name}.{key}: expected one of {', '.join(choices)}")
            return default
        return value

    def finish(self) -> None:
        for key in sorted(set(self.data) - self.used):
            self.problems.append(f"{self.name}.{key}: unknown key")


def _check_url(section: _Section, key: str, value: str) -> None:
    if not value.startswith(("http://", "https://")):
        section.problems.append(f"{section.name}.{key}: expected an http:// or https:// URL")


def _build(data: dict[str, Any], problems: list[str]) -> Config | None:
    known = {"telegram", "irc", "bridge", "relay", "storage", "roster", "delivery", "logging"}
    for key in sorted(set(data) - known):
        problems.append(f"{key}: unknown key")

    tg = _Section("telegram", data.get("telegram", {}), problems)
    if "telegram" not in data:
        problems.append("telegram: missing required table")
    telegram = TelegramConfig(
        token=tg.string("token", "", required="telegram" in data),
        api_url=tg.string("api_url", DEFAULT_API_URL),
        file_url=tg.string("file_url", DEFAULT_FILE_URL),
        poll_timeout=tg.integer("poll_timeout", 30),
        messages_per_minute=tg.number("messages_per_minute", 20.0),
        burst=tg.integer("burst", 3),
        request_timeout=tg.number("request_timeout", 15.0),
    )
    _check_url(tg, "api_url", telegram.api_url)
    _check_url(tg, "file_url", telegram.file_url)
    tg.finish()

    ir = _Section("irc", data.get("irc", {}), problems)
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
        send_burst=ir.integer("send_burst", 4),
        send_rate=ir.number("send_rate", 1.0),
        ping_interval=ir.number("ping_interval", 60.0),
        ping_timeout=ir.number("ping_timeout", 120.0),
        reconnect_min=ir.number("reconnect_min", 1.0),
        reconnect_max=ir.number("reconnect_max", 60.0),
        bot_mode=ir.boolean("bot_mode", True),
    )
    if not 0 < irc.port < 65536:
        problems.append("irc.port: expected a port number from 1 to 65535")
    if irc.send_burst < 1:
        problems.append("irc.send_burst: must be at least 1")
    if (irc.sasl_username is None) != (irc.sasl_password is None):
        problems.append("irc.sasl_password: sasl_username and sasl_password go together")
    ir.finish()

    bridges: list[BridgePair] = []
    raw_bridges = data.get("bridge", [])
    if not isinstance(raw_bridges, list) or not raw_bridges:
        problems.append("bridge: expected at least one [[bridge]] table")
        raw_bridges = []
    for i, raw in enumerate(raw_bridges):
        sec = _Section(f"bridge[{i}]", raw, problems)
        chat = sec.integer("telegram_chat", 0, required=True)
        channel = sec.string("irc_channel", "", required=True)
        if channel and (channel[0] not in "#&+!" or any(c in channel for c in " ,\x07\r\n\0")):
            problems.append(f"bridge[{i}].irc_channel: not a valid IRC channel name")
        sec.finish()
        bridges.append(BridgePair(telegram_chat=chat, irc_channel=channel))
    chats = [b.telegram_chat for b in bridges]
    channels = [b.irc_channel.lower() for b in bridges]
    if len(set(chats)) != len(chats) or len(set(channels)) != len(channels):
        problems.append("bridge: each telegram_chat and irc_channel may appear in one pair only")

    rl = _Section("relay", data.get("relay", {}), problems)
    relay = RelayConfig(
        name_format=rl.string("name_format", "<{name}>"),
        anti_highlight=rl.choice("anti_highlight", "auto", ("auto", "always", "never")),
        ignore=rl.strings("ignore"),
        no_relay_prefix=rl.string("no_relay_prefix", "//"),
        edit_debounce=rl.number("edit_debounce", 3.0, positive=False),
        irc_joins=rl.boolean("irc_joins", False),
        irc_parts=rl.boolean("irc_parts", False),
        irc_quits=rl.boolean("irc_quits", False),
        irc_kicks=rl.boolean("irc_kicks", True),
        irc_nick_changes=rl.boolean("irc_nick_changes", False),
        telegram_joins=rl.boolean("telegram_joins", True),
    )
    if "{name}" not in relay.name_format:
        problems.append("relay.name_format: must contain {name}")
    for rule in relay.ignore:
        if not rule.startswith(("telegram:", "irc:")):
            problems.append(f"relay.ignore: {rule!r} must start with telegram: or irc:")
    rl.finish()

    st = _Section("storage", data.get("storage", {}), problems)
    storage = StorageConfig(path=st.string("path", DEFAULT_DB_PATH))
    st.finish()

    ro = _Section("roster", data.get("roster", {}), problems)
    roster = RosterConfig(
        moderators=ro.strings("moderators"),
        telegram_admins_are_moderators=ro.boolean("telegram_admins_are_moderators", False),
        commands_per_minute=ro.integer("commands_per_minute", 6),
    )
    for rule in roster.moderators:
        if not rule.startswith(("telegram:", "irc:account:", "irc:mask:")):
            problems.append(
                f"roster.moderators: {rule!r} must be telegram:<id>, irc:account:<name> "
                "or irc:mask:<glob>"
            )
    ro.finish()

    de = _Section("delivery", data.get("delivery", {}), problems)
    delivery = DeliveryConfig(
        horizon_hours=de.number("horizon_hours", 24.0),
        shutdown_grace=de.number("shutdown_grace", 5.0, positive=False),
    )
    de.finish()

    lg = _Section("logging", data.get("logging", {}), problems)
    level = lg.choice("level", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
    lg.finish()

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
    )


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
