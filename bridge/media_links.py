"""Signed, expiring links to Telegram media, so IRC users can open a photo without the bot
token ever leaving the bridge (a Bot API file URL contains it: PITFALLS 2).

A link is ``{public_url}/m/{token}/{name}``. The token is the urlsafe base64 of
(kind, expiry, size, file_id) followed by a truncated HMAC-SHA256 over those bytes and the
file name, under a secret kept in the database. Nothing is stored per link: the web server
checks the signature and the expiry, then fetches the file by its id. Changing the secret
(``tgirc-bridge rotate-web-secret``) invalidates every link at once.

Dependency-free (the relay below the connectors renders links), with an injected clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import mimetypes
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from bridge.config_model import WebConfig
from bridge.model import Attachment

KINDS: Final = (
    "photo",
    "document",
    "video",
    "animation",
    "voice",
    "audio",
    "video_note",
    "sticker",
)
"""Kinds that are files on Telegram; the index is what the token carries."""
DEFAULT_NAMES: Final = {
    "photo": "photo.jpg",
    "document": "file",
    "video": "video.mp4",
    "animation": "animation.mp4",
    "voice": "voice.ogg",
    "audio": "audio.mp3",
    "video_note": "video.mp4",
    "sticker": "sticker.webp",
}
SECRET_BYTES: Final = 32
MAC_BYTES: Final = 16
"""128 bits: forging a link means guessing this."""
MAX_NAME_CHARS: Final = 60
_HEADER: Final = struct.Struct(">BII")  # kind index, expiry (unix s), size in bytes
_PACKED: Final = 0x80
"""Flag in the kind byte: the file id is carried base64-decoded."""
_UNSAFE_NAME: Final = re.compile(r"[^A-Za-z0-9._-]+")
TOO_LARGE: Final = "(too large to fetch)"
MIB: Final = 1024 * 1024
"""The config's "MB" are MiB: Telegram's 20 MB download limit is 20 MiB."""


class LinkError(Exception):
    """A media link that is not honoured; the subclass says why."""


class LinkInvalid(LinkError):
    """Malformed or tampered (or signed with a secret since rotated): answered 404."""


class LinkExpired(LinkError):
    """Correctly signed but past its expiry: answered 410."""


@dataclass(frozen=True, slots=True)
class MediaRef:
    """What a valid link points at."""

    file_id: str
    kind: str
    size: int
    expires: int
    name: str


def safe_name(att: Attachment) -> str:
    """A file name for the URL and Content-Disposition: ASCII letters, digits, ``._-`` only
    (nothing a shell, a header or an IRC client could misread), with an extension."""
    default = DEFAULT_NAMES.get(att.kind, "file")
    raw = att.file_name or default
    stem, dot, ext = raw.rpartition(".")
    if not dot:
        stem, ext = raw, ""
    stem = _UNSAFE_NAME.sub("_", stem).strip("._-")[:40] or default.partition(".")[0]
    ext = _UNSAFE_NAME.sub("", ext)[:8].lower()
    if not ext and att.mime_type:
        guessed = mimetypes.guess_extension(att.mime_type.partition(";")[0].strip(), strict=False)
        ext = (guessed or "").lstrip(".")
    if not ext:
        ext = default.partition(".")[2] or "bin"
    return f"{stem}.{ext}"[:MAX_NAME_CHARS]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _pack_file_id(file_id: str) -> tuple[bytes, int]:
    """Telegram's file ids are urlsafe base64 already: carried as their bytes when they
    round-trip exactly, which keeps the link a quarter shorter (IRC lines are short)."""
    try:
        raw = _unb64(file_id)
    except (binascii.Error, ValueError):
        return file_id.encode("utf-8"), 0
    if _b64(raw) == file_id:
        return raw, _PACKED
    return file_id.encode("utf-8"), 0


def media_links_for(web: WebConfig | None) -> MediaLinks | None:
    """The signer the relay uses when [web] is on; its secret is loaded at start."""
    if web is None:
        return None
    return MediaLinks(
        web.public_url, ttl_hours=web.media_ttl_hours, max_bytes=web.media_max_mb * MIB
    )


class MediaLinks:
    """Signs and checks media links; the secret is set once loaded from the database."""

    def __init__(
        self,
        public_url: str,
        *,
        ttl_hours: float,
        max_bytes: int,
        secret: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.public_url = public_url.rstrip("/")
        self.ttl = ttl_hours * 3600
        self.max_bytes = max_bytes
        self.secret = secret
        self.clock = clock

    def link_for(self, att: Attachment) -> str | None:
        """The link for a file attachment, ``TOO_LARGE`` for one the Bot API will not hand
        out, or None (not a file, no file_id, no secret yet)."""
        if att.kind not in KINDS or not att.file_id or self.secret is None:
            return None
        if att.size is not None and att.size > self.max_bytes:
            return TOO_LARGE
        name = safe_name(att)
        token = self.sign(att.file_id, att.kind, att.size or 0, name)
        return f"{self.public_url}/m/{token}/{name}"

    def sign(self, file_id: str, kind: str, size: int, name: str) -> str:
        if self.secret is None:
            raise LinkError("no signing secret loaded")
        expires = int(self.clock() + self.ttl)
        packed, flag = _pack_file_id(file_id)
        body = _HEADER.pack(KINDS.index(kind) | flag, expires, min(size, 0xFFFFFFFF)) + packed
        return f"{_b64(body)}.{_b64(self._mac(body, name))}"

    def verify(self, token: str, name: str) -> MediaRef:
        """The file a link points at; LinkInvalid when anything was changed (name included),
        LinkExpired when it is genuine but too old."""
        if self.secret is None:
            raise LinkInvalid("no signing secret loaded")
        body_text, dot, mac_text = token.partition(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except (binascii.Error, ValueError):
            raise LinkInvalid("not base64") from None
        canonical = _b64(body) == body_text and _b64(mac) == mac_text  # one spelling only
        if not dot or not canonical or len(body) <= _HEADER.size or len(mac) != MAC_BYTES:
            raise LinkInvalid("malformed")
        if not hmac.compare_digest(mac, self._mac(body, name)):
            raise LinkInvalid("bad signature")
        kind_index, expires, size = _HEADER.unpack_from(body)
        rest = body[_HEADER.size :]
        try:
            kind = KINDS[kind_index & ~_PACKED]
            file_id = _b64(rest) if kind_index & _PACKED else rest.decode("utf-8")
        except (IndexError, UnicodeDecodeError):
            raise LinkInvalid("malformed") from None
        if self.clock() >= expires:
            raise LinkExpired(f"expired at {expires}")
        return MediaRef(file_id, kind, size, expires, name)

    def _mac(self, body: bytes, name: str) -> bytes:
        assert self.secret is not None
        message = body + b"\0" + name.encode("utf-8")
        return hmac.new(self.secret, message, hashlib.sha256).digest()[:MAC_BYTES]


class FetchError(Exception):
    """The Bot API did not hand out a file (answered 502, nothing cached); the text is safe
    to log (never the file URL, which holds the token)."""


class FileSource(Protocol):
    """Where the web server gets a file's bytes (bridge/telegram/files.py: the Bot API)."""

    async def fetch(self, file_id: str, max_bytes: int) -> bytes:
        """The whole file; FetchError when it cannot be had or is above max_bytes."""
