"""What the directory shows of a listed member, as plain values for the templates and JSON.

Never an IRC host or a key: display names, the Telegram @username (a t.me link only when it
is a valid username), the IRC nick with the bridged channels the member was seen in (never
one marked `directory = false`), interests, member since.
Names go through bridge.display_names (an RLO in a name must not reverse the page around
it); the templates also wrap names in <bdi> and Jinja2 escapes everything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from bridge.config_model import BridgePair
from bridge.display_names import clean_name
from bridge.model import Network
from storage.directory import TagPage
from storage.roster_model import Member

TELEGRAM_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")


def plain(text: str) -> str:
    """A user-supplied name as the relay shows it: bidi and other invisible format characters
    out, emoji and joiners kept (bridge.display_names, the one sanitiser)."""
    return clean_name(text)


@dataclass(frozen=True, slots=True)
class Links:
    """Where the directory's pages live: public_url's path, so a proxy prefix is kept; and
    the language a visitor chose with ?lang=, which every link carries on."""

    base: str
    lang: str | None = None

    def _query(self, *pairs: tuple[str, str]) -> str:
        params = {k: v for k, v in (*pairs, ("lang", self.lang or "")) if v}
        return f"?{urlencode(params)}" if params else ""

    def members(self, q: str = "", page: int = 1) -> str:
        return f"{self.base}/members" + self._query(("q", q), ("page", _page(page)))

    def tag(self, tag: str, page: int = 1) -> str:
        return f"{self.base}/interests/{quote(tag, safe='')}" + self._query(("page", _page(page)))

    def tags(self, page: int = 1) -> str:
        return f"{self.base}/interests" + self._query(("page", _page(page)))

    @property
    def stylesheet(self) -> str:
        return f"{self.base}/static/style.css"


def _page(page: int) -> str:
    return str(page) if page > 1 else ""


def member_view(
    member: Member, channels: Sequence[str], links: Links, *, askme: bool = False
) -> dict[str, Any]:
    """One member card: the same keys in the HTML and in /members.json; channels are those
    the member's IRC identity was seen in that the directory may name; askme: the member
    said /askme yes, so the card says they take questions on these interests."""
    telegram: dict[str, str | None] | None = None
    irc: dict[str, Any] | None = None
    for identity in member.identities:
        if identity.network is Network.TELEGRAM and telegram is None:
            username = identity.handle or ""
            valid = TELEGRAM_USERNAME.fullmatch(username) is not None
            telegram = {
                "name": plain(identity.display_name),
                "username": plain(username) or None,
                "url": f"https://t.me/{username}" if valid else None,
            }
        elif identity.network is Network.IRC and irc is None:
            irc = {
                "nick": plain(identity.handle or identity.display_name),
                "channels": list(channels),
            }
    return {
        "name": plain(member.display_name),
        "telegram": telegram,
        "irc": irc,
        "interests": [{"tag": t, "url": links.tag(t)} for t in member.interests],
        "takes_questions": askme and bool(member.interests),
        "member_since": datetime.fromtimestamp(member.joined_at, UTC).strftime("%Y-%m-%d"),
    }


@dataclass(frozen=True, slots=True)
class JoinLink:
    """One public pair's ways in, from the operator's config ([[bridge]] telegram_invite_link,
    irc_web_chat_url; [irc] host): never a pair with directory = false."""

    irc_channel: str
    irc_host: str
    telegram_invite_link: str | None = None
    irc_web_chat_url: str | None = None


def public_joins(bridges: Sequence[BridgePair], irc_host: str) -> list[JoinLink]:
    """The pairs "Join the conversation" names: those the directory may name (not
    directory = false, as for the cards' channels) that the operator gave a way in (an
    invite link or a web chat), so no channel is named unasked."""
    return [
        JoinLink(b.irc_channel, irc_host, b.telegram_invite_link, b.irc_web_chat_url)
        for b in bridges
        if b.directory and (b.telegram_invite_link or b.irc_web_chat_url)
    ]


def join_view(joins: Sequence[JoinLink]) -> list[dict[str, str | None]]:
    """The "Join the conversation" list: each public pair once, in config order; values stay plain
    text, escaped by the templates."""
    seen: set[tuple[str, str | None]] = set()
    out: list[dict[str, str | None]] = []
    for j in joins:
        if (j.irc_channel, j.telegram_invite_link) in seen:
            continue
        seen.add((j.irc_channel, j.telegram_invite_link))
        out.append(
            {
                "telegram": j.telegram_invite_link,
                "channel": j.irc_channel,
                "host": j.irc_host,
                "web_chat": j.irc_web_chat_url,
            }
        )
    return out


def tag_page_view(page: TagPage, links: Links) -> dict[str, Any]:
    return {
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "tags": [{"tag": t, "members": n, "url": links.tag(t)} for t, n in page.tags],
    }
