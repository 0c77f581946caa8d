"""The configuration as frozen dataclasses: what every part is given, never a global.

Each key is written once, here: its type, its default and (``bounded()``) its bounds.
bridge/config_reader.py ``read_table()`` reads a TOML table by these fields, so a key added
here is read, typed and checked with no other change; bridge/config.py adds only the checks
across fields, and bridge/config_checks.py the values that would break at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from bridge.rules import Rule, parse_ignore, parse_moderator

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_FILE_URL = "https://api.telegram.org/file/bot"
DEFAULT_REALNAME = "tgirc-bridge: Telegram <-> IRC relay bot"
DEFAULT_DB_PATH = "data/tgirc-bridge.sqlite3"
BOT_TOKEN: Final = r"\d+:[A-Za-z0-9_-]+"
"""telegram.token's shape as a regex (the bot's id, a colon, the secret): check-config
refuses any other, and the log filter hides it in a Bot API URL."""
BOT_TOKEN_IN_TEXT: Final = r"\d{5,}:[A-Za-z0-9_-]{30,}"
"""BOT_TOKEN at a real token's length (BotFather's: 8 to 10 digits, 35 characters), for free
text, where the bare shape would also hide a time such as 12:30."""
AntiHighlight = Literal["auto", "always", "never"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
SaslMechanism = Literal["PLAIN", "EXTERNAL"]
N = TypeVar("N", int, float)

BOUND: Final = "bound"
"""The metadata key of a numeric field's Bound."""
ZERO_OK: Final = "zero_ok"
"""The metadata key saying 0 is allowed (it means "at once") for a duration."""
PARSE: Final = "parse"
"""The metadata key of a list's parser: each string becomes a value, or raises RuleError."""
DAY: Final = 86_400
YEAR_HOURS: Final = 8_760
UNPACED: Final = 100_000
"""Lines or messages a second (or in a burst) that mean "no pacing at all": for a test server
or a benchmark; any real network disconnects a bot long before."""


@dataclass(frozen=True, slots=True)
class Bound:
    """The largest value a numeric key may take, and why: check-config refuses more (a value
    that would only fail at run time, such as a link's expiry beyond its 32 bits)."""

    most: int | float
    why: str
    least: float | None = None
    """Only where a tiny positive value breaks the arithmetic (a rate that reaches 0)."""
    least_why: str = ""


def bounded(
    default: N,
    most: N,
    why: str,
    *,
    least: float | None = None,
    least_why: str = "",
    zero_ok: bool = False,
) -> N:
    """A numeric key's default with its bounds beside it (enforced for the key of the same
    name by bridge/config_reader.py; without least, the lower bound is the reader's: count
    >= 1, number > 0, or >= 0 where 0 means "at once" (zero_ok))."""
    bound = Bound(most, why, least, least_why)
    return field(default=default, metadata={BOUND: bound, ZERO_OK: zero_ok})


def rules(parse: Callable[[str], Rule]) -> Any:
    """A list of rules, each string parsed at load (bridge/rules.py) and refused with the
    parser's RuleError."""
    return field(default=(), metadata={PARSE: parse})


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str
    api_url: str = DEFAULT_API_URL
    file_url: str = DEFAULT_FILE_URL
    poll_timeout: int = bounded(30, 50, "the Bot API holds a long poll 50 s at most")
    """Long-polling timeout in seconds handed to getUpdates."""
    messages_per_minute: float = bounded(
        20.0, 60.0 * UNPACED, "no pacing at all", least=0.1, least_why="one in ten minutes"
    )
    """Per-group send rate; Telegram allows a bot about 20 messages a minute in a group."""
    burst: int = bounded(3, UNPACED, "no pacing at all")
    request_timeout: float = bounded(15.0, 600.0, "ten minutes")


@dataclass(frozen=True, slots=True)
class IrcConfig:
    host: str
    nick: str
    port: int = 6697
    tls: bool = True
    tls_verify: bool = True
    tls_ca_file: str | None = None
    """Extra CA certificates (PEM) to trust, for servers with a private CA."""
    tls_client_cert: str | None = None
    """A client certificate (PEM) the bot presents: certificate and key in one file, or the
    key in tls_client_key. Services that know its fingerprint log the bot in (CertFP, as on
    OFTC; SASL EXTERNAL, as on Libera.Chat)."""
    tls_client_key: str | None = None
    username: str = "tgircbridge"
    realname: str = DEFAULT_REALNAME
    password: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    sasl_mechanism: SaslMechanism = "PLAIN"
    """PLAIN: sasl_username and sasl_password; EXTERNAL: the client certificate (with
    sasl_username, if set, as the account to log in to)."""
    nickserv_password: str | None = None
    command_prefix: str = "!"
    send_burst: int = bounded(4, UNPACED, "no pacing at all")
    """Lines sent back to back before pacing starts (token bucket size)."""
    send_rate: float = bounded(
        1.0, float(UNPACED), "no pacing at all", least=0.01, least_why="a line in 100 s"
    )
    """Lines per second after the burst; 1/s is safe on Libera.Chat."""
    ping_interval: float = bounded(60.0, 3600.0, "an hour")
    ping_timeout: float = bounded(120.0, float(DAY), "a day")
    """No line from the server for this long counts as a disconnect."""
    reconnect_min: float = bounded(1.0, 3600.0, "an hour")
    reconnect_max: float = bounded(60.0, 3600.0, "an hour: an outage is retried hourly at least")
    bot_mode: bool = True


@dataclass(frozen=True, slots=True)
class BridgePair:
    telegram_chat: int
    irc_channel: str
    telegram_topic: int | None = None
    """One forum topic (its message_thread_id; 1 = General) instead of the whole group."""
    irc_key: str | None = None
    """The channel's key (+k), sent with each JOIN; a secret, never logged."""
    directory: bool = True
    """Whether the web directory may name this channel on a member's card (one the member
    was seen in); false keeps a private channel's name off the public page."""
    telegram_invite_link: str | None = None
    """The group's t.me/+… or t.me/<name> link, shown under "Join the conversation" on the
    directory's pages (not for a pair with directory = false)."""
    irc_web_chat_url: str | None = None
    """A web chat for the channel (http or https), shown beside the channel likewise."""
    language: str | None = None
    """The language of the bot's answers everyone in this pair's group and channel sees
    (a shipped one, bridge/i18n.py); unset: [i18n] default_language."""


@dataclass(frozen=True, slots=True)
class RelayConfig:
    name_format: str = "<{name}>"
    """How a Telegram sender is shown on IRC; {name} is the display name."""
    anti_highlight: AntiHighlight = "auto"
    ignore: tuple[Rule, ...] = rules(parse_ignore)
    no_relay_prefix: str = "//"
    edit_debounce: float = bounded(3.0, 3600.0, "an hour", zero_ok=True)
    irc_joins: bool = False
    irc_parts: bool = False
    irc_quits: bool = False
    irc_kicks: bool = True
    irc_nick_changes: bool = False
    telegram_joins: bool = True
    mention_window_hours: float = bounded(24.0, 720.0, "30 days", zero_ok=True)
    """An IRC line naming a Telegram member who spoke within this many hours mentions her
    on Telegram (bridge/mentions.py); 0: names are never linked."""
    paste_over_lines: int = bounded(4, 1000, "more is a flood either way", zero_ok=True)
    """With [web]: a Telegram post of more IRC lines goes as its first lines and a link to
    the whole text (bridge/paste.py); 0: never, long posts are split as they are."""
    reactions: bool = True
    """Telegram reactions shown on IRC (bridge/reactions.py); Telegram sends them only to a
    bot that is an administrator of the group."""
    reaction_debounce_s: float = bounded(10.0, 3600.0, "an hour", zero_ok=True)
    """Reactions to one message within this many seconds of the first go as one line."""


@dataclass(frozen=True, slots=True)
class StorageConfig:
    path: str = DEFAULT_DB_PATH


@dataclass(frozen=True, slots=True)
class RosterConfig:
    moderators: tuple[Rule, ...] = rules(parse_moderator)
    telegram_admins_are_moderators: bool = False
    commands_per_minute: int = bounded(6, 10_000, "more is no limit at all")
    commands_in_flight: int = bounded(8, 100, "25 times as many may wait besides")
    """Commands that run at once per network (each may wait on a lookup); more wait their
    turn beside the relay, which never waits for them."""
    unverified_per_host_per_hour: int = bounded(5, 10_000, "more is no limit at all")
    """New IRC members not logged in to services, per host an hour: clones change nicks, not
    hosts (several people behind one NAT or web gateway fit under 5)."""
    ask_max_recipients: int = bounded(10, 100, "each is a private message the bot sends")
    """/ask reaches at most this many members (who said /askme yes), most recently active
    first."""
    asks_per_day: int = bounded(3, 100, "more is a mailing list")
    """/ask questions one person may ask in 24 hours."""
    asks_received_per_day: int = bounded(5, 100, "more is no limit at all")
    """/ask questions one member receives in 24 hours; past it they are skipped."""
    ask_ttl_days: float = bounded(7.0, 90.0, "a question older than that is stale")
    """A question for an IRC member on no bridged channel waits this long for them to join
    or speak on one; then it is dropped."""
    confirm_after_days: int = bounded(180, 3650, "ten years")
    """A member whose profile was neither confirmed nor changed this long gets one nudge."""
    confirm_grace_days: int = bounded(30, 365, "a year")
    """Without a confirmation this long after the nudge, the member leaves the directory,
    the digest and /ask until they confirm (/whois still finds them, marked)."""
    nudges_per_hour: int = bounded(20, 3600, "one a second")
    """Nudges sent at most in any hour (private messages; the rest wait their turn)."""


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    horizon_hours: float = bounded(24.0, float(YEAR_HOURS), "a year")
    shutdown_grace: float = bounded(5.0, 3600.0, "an hour", zero_ok=True)


@dataclass(frozen=True, slots=True)
class WebConfig:
    """The embedded web server ([web]); absent table means no server at all."""

    public_url: str
    """What media links start with (behind the operator's TLS proxy); no trailing slash."""
    title: str = ""
    """The community's name, heading every directory page and its <title>."""
    listen: str = "127.0.0.1:8787"
    media_ttl_hours: float = bounded(72.0, float(YEAR_HOURS), "a year")
    """The link carries its expiry in 32 bits (bridge/media_links.py): a year fits until 2105."""
    media_cache_mb: int = bounded(500, 1_048_576, "1 TiB")
    media_max_mb: int = bounded(20, 2000, "what a self-hosted Bot API server hands out")
    """Telegram's Bot API downloads at most 20 MB; larger files get no link."""
    media_fetches: int = bounded(4, 64, "each holds up to media_max_mb in memory")
    """Downloads from Telegram for media links at once; more requests wait for a slot
    (503 with Retry-After after a while). Downloads have their own HTTP client anyway."""


MailTls = Literal["starttls", "tls", "none"]
MAIL_PORTS: Final = {"starttls": 587, "tls": 465, "none": 25}
"""[mail] port when none is given: it follows tls (submission, submissions, a local relay)."""


@dataclass(frozen=True, slots=True)
class MailConfig:
    """The SMTP server the digest is sent through ([mail]); bridge/config_mail.py reads it
    (its key "from" is a Python keyword, so the field is sender)."""

    host: str
    sender: str
    """The From header and envelope sender, "Name <address>" or a bare address."""
    port: int = 587
    tls: MailTls = "starttls"
    username: str | None = None
    password: str | None = None
    """A secret: never logged (Config.secrets())."""
    tls_ca_file: str | None = None
    """Extra CA certificates (PEM) to trust, for a server with a private CA."""
    timeout: float = bounded(60.0, 600.0, "ten minutes")
    """Each SMTP step (connect, each command) may take this long before it counts as failed."""


@dataclass(frozen=True, slots=True)
class DigestConfig:
    """The mailing-list digest ([digest], needs [mail]): who joined and what they work on."""

    to: tuple[str, ...]
    every_hours: float = bounded(168.0, float(YEAR_HOURS), "a year")
    language: str | None = None
    """The digest's language (a shipped one, bridge/i18n.py); unset: [i18n]
    default_language."""


@dataclass(frozen=True, slots=True)
class I18nConfig:
    default_language: str = "en"
    """The bot's language where nothing better is known: a shipped one (bridge/i18n.py)."""


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: LogLevel = "INFO"


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
    mail: MailConfig | None = None
    digest: DigestConfig | None = None
    i18n: I18nConfig = field(default_factory=I18nConfig)
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
            self.mail.password if self.mail else None,
            *(pair.irc_key for pair in self.bridges),
        ]
        return [v for v in values if v]
