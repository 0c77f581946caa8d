"""The configuration as frozen dataclasses: what every part is given, never a global.

bridge/config.py builds these from the TOML file and refuses bad values; the checks in
bridge/config_checks.py read these types, so both sit above this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

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
    telegram_topic: int | None = None
    """One forum topic (its message_thread_id; 1 = General) instead of the whole group."""


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
    commands_in_flight: int = 8
    """Commands that run at once per network (each may wait on a lookup); more wait their
    turn beside the relay, which never waits for them."""
    unverified_per_host_per_hour: int = 5
    """New IRC members not logged in to services, per host an hour: clones change nicks, not
    hosts (several people behind one NAT or web gateway fit under 5)."""


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    horizon_hours: float = 24.0
    shutdown_grace: float = 5.0


@dataclass(frozen=True, slots=True)
class WebConfig:
    """The embedded web server ([web]); absent table means no server at all."""

    public_url: str
    """What media links start with (behind the operator's TLS proxy); no trailing slash."""
    listen: str = "127.0.0.1:8787"
    media_ttl_hours: float = 72.0
    media_cache_mb: int = 500
    media_max_mb: int = 20
    """Telegram's Bot API downloads at most 20 MB; larger files get no link."""
    media_fetches: int = 4
    """Downloads from Telegram for media links at once; more requests wait for a slot
    (503 with Retry-After after a while). Downloads have their own HTTP client anyway."""


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
    web: WebConfig | None = None
    source: Path | None = None

    def secrets(self) -> list[str]:
        """Every configured secret, for the log redaction filter (which also hides their
        encoded forms); the token's part after the colon is a secret on its own."""
        values = [
            self.telegram.token,
            self.telegram.token.partition(":")[2],
            self.irc.password,
            self.irc.sasl_password,
            self.irc.nickserv_password,
        ]
        return [v for v in values if v]
