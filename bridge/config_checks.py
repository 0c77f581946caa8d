"""Values that have the right type but would break the running bridge, refused at load.

Each check appends problems naming the key, so `check-config` finds what would otherwise
surface hours later as a reconnect storm, a refused TLS handshake or a crash on the first
relayed message. The placeholders of config.example.toml count as mistakes too: a bridge
started on them polls a token that is not the operator's and bridges a group that does not
exist.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bridge.casemap import irc_casefold
from bridge.config_model import BOT_TOKEN
from bridge.display_names import is_control

if TYPE_CHECKING:
    from bridge.config_model import BridgePair, IrcConfig, RelayConfig, WebConfig

SAMPLE_NAME = "Ann Example"

_BOT_TOKEN = re.compile(BOT_TOKEN)
# RFC 2812 nickname: a letter or special first, then letters, digits, specials or '-';
# 30 characters is more than any network allows (Libera 16, InspIRCd default 30).
_IRC_NICK = re.compile(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]{0,29}")
_LINE_BREAKS = ("\r", "\n", "\0")
_INVITE_LINK = re.compile(
    r"https://t\.me/(?:\+[A-Za-z0-9_-]{8,64}|joinchat/[A-Za-z0-9_-]{8,64}|[A-Za-z]\w{3,31})"
)
"""A group's invite link (t.me/+HASH, or the older t.me/joinchat/HASH) or public name."""
_EXAMPLE = "still the placeholder from config.example.toml"

PLACEHOLDER_TOKEN = "123456:ABC-replace-me"
PLACEHOLDER_CHAT = -1001234567890
PLACEHOLDER_CHANNEL = "#example-collab"
PLACEHOLDER_PUBLIC_HOST = "bridge.example.org"


def check_token(token: str, problems: list[str]) -> None:
    """The token goes into every request URL: anything else is refused by Telegram or
    breaks the URL."""
    if token == PLACEHOLDER_TOKEN or "replace-me" in token:
        problems.append(f"telegram.token: {_EXAMPLE}; put your bot's token from @BotFather here")
    elif token and not _BOT_TOKEN.fullmatch(token):
        problems.append(
            "telegram.token: expected a bot token like 123456:ABC-def (from @BotFather)"
        )


def check_pair(index: int, chat: int, channel: str, problems: list[str]) -> None:
    if chat == PLACEHOLDER_CHAT:
        problems.append(
            f"bridge[{index}].telegram_chat: {_EXAMPLE}; put your group's chat id here "
            "(see the README)"
        )
    if channel.lower() == PLACEHOLDER_CHANNEL:
        problems.append(f"bridge[{index}].irc_channel: {_EXAMPLE}; put your IRC channel here")


def check_topic(index: int, topic: int | None, problems: list[str]) -> None:
    if topic is not None and topic < 1:
        problems.append(
            f"bridge[{index}].telegram_topic: expected a topic's message_thread_id "
            "(1 or more; 1 is General)"
        )


def check_channel_key(index: int, key: str | None, problems: list[str]) -> None:
    """A key is one JOIN parameter in a comma-separated list: a space, a comma or a leading
    ':' would change the line, a control character would end it. The problem never quotes
    the key, which is a secret."""
    if key is None:
        return
    if not key or any(c.isspace() or c == "," or is_control(c) for c in key):
        problems.append(
            f"bridge[{index}].irc_key: expected the channel's key as one word "
            "(no spaces, commas or control characters)"
        )
    elif key.startswith(":"):
        problems.append(f"bridge[{index}].irc_key: must not start with ':'")


def check_join_links(index: int, pair: BridgePair, problems: list[str]) -> None:
    """The directory's "Join the conversation" links: a visitor clicks them, so a typo
    would send newcomers nowhere (or somewhere else)."""
    link = pair.telegram_invite_link
    if link is not None and not _INVITE_LINK.fullmatch(link):
        problems.append(
            f"bridge[{index}].telegram_invite_link: expected https://t.me/+… (an invite link) "
            f"or https://t.me/<public group name>, got {link!r}"
        )
    url = pair.irc_web_chat_url
    if url is not None:
        parts = urlsplit(url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or any(c.isspace() or is_control(c) for c in url)
        ):
            problems.append(
                f"bridge[{index}].irc_web_chat_url: expected an http:// or https:// URL "
                f"with a host name, got {url!r}"
            )


def check_unique_pairs(bridges: Sequence[BridgePair], problems: list[str]) -> None:
    """Each (telegram_chat, telegram_topic) and each irc_channel in one pair only: a group may
    be in several pairs, one per topic (and one more for the whole group)."""
    chats: dict[tuple[int, int | None], int] = {}
    channels: dict[str, int] = {}
    for i, pair in enumerate(bridges):
        first = chats.setdefault((pair.telegram_chat, pair.telegram_topic), i)
        if first != i and pair.telegram_topic is None:
            problems.append(
                f"bridge[{i}].telegram_chat: {pair.telegram_chat} is bridged whole by "
                f"bridge[{first}] already; a group in several pairs needs a telegram_topic "
                "in each"
            )
        elif first != i:
            problems.append(
                f"bridge[{i}].telegram_topic: topic {pair.telegram_topic} of telegram_chat "
                f"{pair.telegram_chat} is bridged by bridge[{first}] already"
            )
        first = channels.setdefault(irc_casefold(pair.irc_channel), i)
        if first != i:
            problems.append(
                f"bridge[{i}].irc_channel: {pair.irc_channel} is bridged by bridge[{first}] "
                "already; each irc_channel may appear in one pair only"
            )


def check_irc(irc: IrcConfig, problems: list[str]) -> None:
    if irc.nick and not _IRC_NICK.fullmatch(irc.nick):
        problems.append(
            f"irc.nick: not a valid IRC nick ({irc.nick!r}): letters, digits and []\\`_^{{|}}-, "
            "not starting with a digit or '-', at most 30 characters"
        )
    if irc.username and any(c.isspace() or c == "@" or ord(c) < 32 for c in irc.username):
        problems.append("irc.username: must be one word (no spaces, @ or controls)")
    for key in ("host", "realname", "password", "sasl_username", "sasl_password"):
        _no_line_breaks(f"irc.{key}", getattr(irc, key), problems)
    _no_line_breaks("irc.nickserv_password", irc.nickserv_password, problems)
    _not_blank("irc.command_prefix", irc.command_prefix, problems)
    if irc.ping_timeout <= irc.ping_interval:
        problems.append(
            f"irc.ping_timeout: must be greater than irc.ping_interval ({irc.ping_interval:g}), "
            "or a quiet connection is dropped before it is pinged"
        )
    if irc.reconnect_max < irc.reconnect_min:
        problems.append(
            f"irc.reconnect_max: must not be less than irc.reconnect_min ({irc.reconnect_min:g})"
        )
    if irc.tls_ca_file is not None:
        _check_ca_file(irc.tls_ca_file, problems)
    _check_client_certificate(irc, problems)


def check_relay(relay: RelayConfig, problems: list[str]) -> None:
    _not_blank("relay.no_relay_prefix", relay.no_relay_prefix, problems)
    problem = name_format_problem(relay.name_format)
    if problem:
        problems.append(f"relay.name_format: {problem}")


def check_web(web: WebConfig, has_public_url: bool, problems: list[str]) -> None:
    """Links on IRC start with public_url, so a wrong one sends every click nowhere; a bad
    listen address would only fail when the server binds."""
    if has_public_url and web.public_url:
        problem = public_url_problem(web.public_url)
        if problem:
            problems.append(f"web.public_url: {problem}")
    if any(is_control(c) for c in web.title):
        problems.append("web.title: must not contain control characters or line breaks")
    if listen_address(web.listen) is None:
        problems.append(
            f"web.listen: expected host:port such as 127.0.0.1:8787 or [::1]:8787, "
            f"got {web.listen!r}"
        )


def public_url_problem(url: str) -> str | None:
    """Why url cannot start a media link, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"expected an http:// or https:// URL with a host name, got {url!r}"
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return "must not contain a query (?) or fragment (#)"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "must not contain spaces or control characters"
    if parts.hostname == PLACEHOLDER_PUBLIC_HOST:
        return f"{_EXAMPLE}; put the address IRC users reach the bridge at here"
    return None


def listen_address(listen: str) -> tuple[str, int] | None:
    """(host, port) from "host:port" or "[v6]:port", or None when it is not one."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or any(c.isspace() or c in "[]/" for c in host):
        return None
    return host, int(port)


def name_format_problem(fmt: str) -> str | None:
    """Why ``fmt.format(name=...)`` would fail or hide the name (the relay calls exactly
    that for every message), or None."""
    try:
        shown = fmt.format(name=SAMPLE_NAME)
    except KeyError as exc:
        return f"{{{exc.args[0]}}} is not known; only {{name}} is (write {{{{ for a brace)"
    except IndexError:
        return "positional fields such as {} or {0} are not known; only {name} is"
    except (ValueError, AttributeError, TypeError) as exc:
        return f"does not format ({exc}); write {{{{ and }}}} for literal braces"
    if SAMPLE_NAME not in shown:
        return f"must show the name, e.g. <{{name}}> (gives {shown!r} for {SAMPLE_NAME!r})"
    return None


def _not_blank(key: str, value: str, problems: list[str]) -> None:
    if not value.strip():
        problems.append(f"{key}: must not be empty")


def _no_line_breaks(key: str, value: str | None, problems: list[str]) -> None:
    if value and any(c in value for c in _LINE_BREAKS):
        problems.append(f"{key}: must not contain line breaks or NUL")


def load_client_certificate(context: ssl.SSLContext, cert: str, key: str | None) -> None:
    """The client certificate into context, as check-config and the connector both load it;
    a key with a passphrase is refused, never asked for on the terminal."""
    context.load_cert_chain(cert, key, password=_no_passphrase)


def _no_passphrase() -> bytes:
    raise ValueError("the key is encrypted: give it without a passphrase")


def _check_client_certificate(irc: IrcConfig, problems: list[str]) -> None:
    """The files exist and are readable, and the key matches the certificate (loaded as the
    connector loads them); a problem names the key and the file, never what is in it."""
    cert, key = irc.tls_client_cert, irc.tls_client_key
    if irc.sasl_mechanism == "EXTERNAL":
        if cert is None:
            problems.append(
                'irc.sasl_mechanism: "EXTERNAL" logs in with a client certificate; '
                "set irc.tls_client_cert"
            )
        if irc.sasl_password is not None:
            problems.append(
                'irc.sasl_password: not used with sasl_mechanism = "EXTERNAL" '
                "(the client certificate is the credential)"
            )
    if key is not None and cert is None:
        problems.append("irc.tls_client_key: goes with irc.tls_client_cert")
    if cert is None:
        return
    if not irc.tls:
        problems.append("irc.tls_client_cert: a client certificate needs irc.tls = true")
    for name, path in (("tls_client_cert", cert), ("tls_client_key", key)):
        if path is None:
            continue
        try:
            Path(path).open("rb").close()
        except FileNotFoundError:
            problems.append(f"irc.{name}: {path} does not exist")
            return
        except OSError as exc:
            problems.append(f"irc.{name}: {path} cannot be read ({exc.strerror})")
            return
    try:
        load_client_certificate(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), cert, key)
    except ValueError as exc:
        problems.append(f"irc.{'tls_client_key' if key else 'tls_client_cert'}: {exc}")
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            where = "irc.tls_client_key" if key else "irc.tls_client_cert"
            problems.append(f"{where}: the key does not match the certificate in {cert}")
        elif key:
            problems.append(
                f"irc.tls_client_cert: {cert} and {key} are not a certificate and its key (PEM)"
            )
        else:
            problems.append(
                f"irc.tls_client_cert: {cert} does not hold a certificate and its key (PEM); "
                "a key in a file of its own goes in irc.tls_client_key"
            )


def _check_ca_file(name: str, problems: list[str]) -> None:
    """Loaded the way the connector loads it, so a file that would fail the first TLS
    handshake fails here."""
    path = Path(name)
    if not path.exists():
        problems.append(f"irc.tls_ca_file: {name} does not exist")
        return
    try:
        ssl.create_default_context(cafile=name)
    except ssl.SSLError as exc:
        problems.append(f"irc.tls_ca_file: {name} holds no CA certificate (PEM) ({exc.reason})")
    except OSError as exc:
        problems.append(f"irc.tls_ca_file: {name} cannot be read ({exc.strerror})")
