"""Paste links: a Telegram post too long for IRC goes as its first lines and a link to all of it.

With [web] on, a message whose rendered IRC lines (name prefix and wraps counted, as
bridge/render/irc_split.py cuts them) number more than ``relay.paste_over_lines`` is relayed
as its first ``paste_over_lines - 1`` lines and ``[… N more lines: {public_url}/p/{token}]``.
The text is stored (storage/pastes.py) so the link outlives a restart; the token is the
urlsafe base64 of (paste id, expiry) and a truncated HMAC-SHA256 under the media links'
secret (bridge/media_links.py), so one rotation invalidates both and nobody can walk the ids.

Short messages pay one ``len()`` comparison: nothing here runs unless the count is over.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from typing import Final

from bridge.media_links import MAC_BYTES, LinkExpired, LinkInvalid, MediaLinks
from bridge.render.irc_split import format_relay_lines
from storage.pastes import PasteStore

_HEADER: Final = struct.Struct(">QI")  # paste id, expiry (unix s)
_DOMAIN: Final = b"paste\0"
"""Signed before the body, so no media token can ever pass for a paste token."""


@dataclass(frozen=True, slots=True)
class Cut:
    """What is left of a long message on IRC."""

    shown: list[str]
    """The first IRC lines, name prefix included."""
    more: int
    """IRC lines left out (they are in the paste)."""


def cut_for_paste(lines: list[str], over: int) -> Cut | None:
    """The first ``over - 1`` lines (at least one: it carries the reply and a file's link,
    which the paste does not) when there are more than ``over``; None (relay all) when they
    fit or over is 0 (paste links off)."""
    if over <= 0 or len(lines) <= over:
        return None
    keep = max(1, over - 1)
    return Cut(lines[:keep], len(lines) - keep)


def more_line(more: int, url: str) -> str:
    """``[… 37 more lines: url]``, the last line of a pasted message."""
    return f"[… {more} more line{'' if more == 1 else 's'}: {url}]"


def storable(text: str) -> str:
    """The text as UTF-8 can hold it: a lone surrogate (JSON lets one through) becomes
    U+FFFD instead of failing the database write and the HTTP answer; all else is kept."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PasteLinks:
    """Signs and checks paste tokens with the media links' secret and clock (loaded at
    start, refreshed by the web face, injected in tests)."""

    def __init__(self, media: MediaLinks) -> None:
        self.media = media

    def now(self) -> float:
        return self.media.clock()

    def expiry(self) -> int:
        return int(self.media.clock() + self.media.ttl)

    def url(self, paste_id: int, expires: int) -> str:
        return f"{self.media.public_url}/p/{self.token(paste_id, expires)}"

    def token(self, paste_id: int, expires: int) -> str:
        body = _HEADER.pack(paste_id, expires)
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def verify(self, token: str) -> int:
        """The paste id a token names; LinkInvalid when malformed or tampered, LinkExpired
        when genuine but past its expiry."""
        body_text, dot, mac_text = token.partition(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except (binascii.Error, ValueError):
            raise LinkInvalid("not base64") from None
        canonical = _b64(body) == body_text and _b64(mac) == mac_text  # one spelling only
        if not dot or not canonical or len(body) != _HEADER.size or len(mac) != MAC_BYTES:
            raise LinkInvalid("malformed")
        if self.media.secret is None or not hmac.compare_digest(mac, self._mac(body)):
            raise LinkInvalid("bad signature")
        paste_id, expires = _HEADER.unpack(body)
        if self.media.clock() >= expires:
            raise LinkExpired(f"expired at {expires}")
        return int(paste_id)

    def _mac(self, body: bytes) -> bytes:
        if self.media.secret is None:
            raise LinkInvalid("no signing secret loaded")
        return hmac.new(self.media.secret, _DOMAIN + body, hashlib.sha256).digest()[:MAC_BYTES]


class Paster:
    """The relay's side of paste links: decides, stores the text, renders the last line."""

    def __init__(self, links: PasteLinks, store: PasteStore, over: int) -> None:
        self.links = links
        self.store = store
        self.over = over
        """relay.paste_over_lines (> 0; 0 builds no Paster)."""

    def too_long(self, lines: list[str]) -> bool:
        """The quick check every relayed message pays."""
        return len(lines) > self.over

    async def shorten(
        self, source_key: str, text: str, prefix: str, lines: list[str], budget: int
    ) -> list[str]:
        """The lines to send for a long message: its first lines and the link to its whole
        text, stored under source_key (once: a replay gets the same link)."""
        cut = cut_for_paste(lines, self.over)
        if cut is None or self.links.media.secret is None:
            return lines
        body = storable(text)
        paste = await self.store.put(source_key, body, self.links.now(), self.links.expiry())
        url = self.links.url(paste.id, paste.expires)
        # one line unless prefix + URL exceed the budget (a public_url of hundreds of bytes)
        return cut.shown + format_relay_lines(prefix, [more_line(cut.more, url)], budget)


def paster_for(over: int, media: MediaLinks | None, store: PasteStore) -> Paster | None:
    """The relay's Paster: only with [web] (media is its signer) and paste_over_lines > 0."""
    if media is None or over <= 0:
        return None
    return Paster(PasteLinks(media), store, over)
