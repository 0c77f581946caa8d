"""The digest as a mail: plain UTF-8 text that reads well in a mail client and a list archive.

Pure: DigestContent (storage/digest.py, listed members only) in, EmailMessage out. Member
text only ever lands in the body (names already cleaned by bridge.display_names); headers
carry the configured addresses, the channel name and numbers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from bridge.casemap import irc_casefold
from bridge.display_names import clean_name
from bridge.model import Network
from storage.digest import DigestContent
from storage.roster_model import Member

RULE = "-" * 72


@dataclass(frozen=True, slots=True)
class Letterhead:
    """What the config says about every digest."""

    sender: str
    to: tuple[str, ...]
    title: str
    """The community, as the subject names it: the first bridged channel."""
    channels: tuple[str, ...] = ()
    """The bridged channels a card may name (those not marked directory = false)."""
    directory_url: str | None = None
    """{public_url}/members when [web] is on."""


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _minute(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def subject(content: DigestContent, title: str) -> str:
    """What is new, in numbers: "#example-collab: 3 new members, 2 updated"."""
    new = len(content.new) + content.unlisted
    parts = []
    if new:
        parts.append(_plural(new, "new member", "new members"))
    if content.updated:
        parts.append(f"{len(content.updated)} updated")
    return f"{title}: {', '.join(parts) or 'nothing new'}"


def message_id(content: DigestContent, head: Letterhead) -> str:
    """The same for a period (its start) and list, so a digest sent again after a crash is
    recognised as the same mail by the list and by readers' clients."""
    domain = parseaddr(head.sender)[1].rpartition("@")[2] or "tgirc-bridge.invalid"
    key = hashlib.sha256("\n".join([head.title, *head.to]).encode()).hexdigest()[:12]
    return f"<digest.{int(content.since)}.{key}@{domain}>"


def _shown_channels(seen: Iterable[str], allowed: Sequence[str]) -> list[str]:
    folded = {irc_casefold(c) for c in seen}
    return [c for c in allowed if irc_casefold(c) in folded]


def card(member: Member, channels: Sequence[str]) -> list[str]:
    """One member: names per network and how to reach them, interests, member since."""
    lines = [f"* {clean_name(member.display_name)}"]
    seen: set[Network] = set()
    for identity in member.identities:
        if identity.network in seen:
            continue
        seen.add(identity.network)
        name = clean_name(identity.display_name)
        if identity.network is Network.TELEGRAM:
            reach = f"@{clean_name(identity.handle)}" if identity.handle else "no @username"
            lines.append(f"  Telegram: {name} ({reach})")
        else:
            nick = clean_name(identity.handle or identity.display_name)
            where = f" on {', '.join(channels)}" if channels else ""
            lines.append(f"  IRC: {nick}{where}")
    interests = ", ".join(member.interests) if member.interests else "(none given)"
    lines.append(f"  Interests: {interests}")
    lines.append(f"  Member since: {_day(member.joined_at)}")
    return lines


def body(content: DigestContent, head: Letterhead) -> str:
    """The plain-text digest: the news first, then the counts, then where to find more."""
    out = [
        f"{head.title}: who joined and what they work on",
        f"From {_minute(content.since)} to {_minute(content.until)}.",
        "",
    ]
    for members, heading in (
        (content.new, "New in the members directory"),
        (content.updated, "Changed their interests"),
    ):
        if not members:
            continue
        out += [f"{heading} ({len(members)})", RULE, ""]
        for member in members:
            shown = _shown_channels(content.channels.get(member.id, ()), head.channels)
            out += [*card(member, shown), ""]
    if content.unlisted:
        joined = _plural(content.unlisted, "person", "people")
        out += [
            f"{joined} also joined without choosing to be listed; the directory and this",
            "mail name only those who said /listed yes.",
            "",
        ]
    if content.top_interests:
        out += ["Most common interests", RULE]
        width = max(len(tag) for tag, _ in content.top_interests)
        out += [f"  {tag.ljust(width)}  {count}" for tag, count in content.top_interests]
        out.append("")
    if head.directory_url:
        out += [f"Everyone listed: {head.directory_url}", ""]
    out += [
        "-- ",
        "Sent by the bridge between the community's Telegram group and IRC channel.",
        "Join with /join, list your interests with /interests, be listed with /listed yes.",
    ]
    return "\n".join(out) + "\n"


def compose(content: DigestContent, head: Letterhead, now: float) -> EmailMessage:
    """The whole mail, with the headers a list and its readers expect of an automatic one."""
    msg = EmailMessage()
    msg["From"] = head.sender
    msg["To"] = ", ".join(head.to)
    msg["Date"] = format_datetime(datetime.fromtimestamp(now, UTC))
    msg["Message-ID"] = message_id(content, head)
    msg["Subject"] = subject(content, head.title)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body(content, head), charset="utf-8", cte="quoted-printable")
    return msg
