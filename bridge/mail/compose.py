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
from bridge.i18n import ENGLISH, SOURCE_LANGUAGE, Translations, translations
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
    language: str = SOURCE_LANGUAGE
    """[digest] language, else [i18n] default_language: the mail's words (never the
    members' own)."""


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _minute(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def subject(content: DigestContent, head: Letterhead) -> str:
    """What is new, in numbers: "#example-collab: 3 new members, 2 updated"."""
    tr = translations(head.language)
    new = len(content.new) + content.unlisted
    parts = []
    if new:
        # Translators: in a digest's subject line; %(n)d people joined.
        parts.append(tr.ngettext("%(n)d new member", "%(n)d new members", new) % {"n": new})
    if content.updated:
        n = len(content.updated)
        # Translators: in a digest's subject line; %(n)d members changed their interests.
        parts.append(tr.ngettext("%(n)d updated", "%(n)d updated", n) % {"n": n})
    # Translators: a digest's subject line when nobody joined or changed anything.
    nothing = tr.gettext("nothing new")
    return f"{head.title}: {', '.join(parts) or nothing}"


def message_id(content: DigestContent, head: Letterhead) -> str:
    """The same for a period (its start) and list, so a digest sent again after a crash is
    recognised as the same mail by the list and by readers' clients."""
    domain = parseaddr(head.sender)[1].rpartition("@")[2] or "tgirc-bridge.invalid"
    key = hashlib.sha256("\n".join([head.title, *head.to]).encode()).hexdigest()[:12]
    return f"<digest.{int(content.since)}.{key}@{domain}>"


def _shown_channels(seen: Iterable[str], allowed: Sequence[str]) -> list[str]:
    folded = {irc_casefold(c) for c in seen}
    return [c for c in allowed if irc_casefold(c) in folded]


def card(member: Member, channels: Sequence[str], tr: Translations = ENGLISH) -> list[str]:
    """One member: names per network and how to reach them, interests, member since."""
    _ = tr.gettext
    lines = [f"* {clean_name(member.display_name)}"]
    seen: set[Network] = set()
    for identity in member.identities:
        if identity.network in seen:
            continue
        seen.add(identity.network)
        name = clean_name(identity.display_name)
        if identity.network is Network.TELEGRAM:
            # Translators: in a digest, in place of a member's Telegram @username.
            reach = f"@{clean_name(identity.handle)}" if identity.handle else _("no @username")
            lines.append(f"  Telegram: {name} ({reach})")
        else:
            nick = clean_name(identity.handle or identity.display_name)
            # Translators: in a digest, after a member's IRC nick; %(channels)s is a list.
            where = " " + _("on %(channels)s") % {"channels": ", ".join(channels)}
            lines.append(f"  IRC: {nick}{where if channels else ''}")
    # Translators: in a digest, in place of a member's list of interests.
    interests = ", ".join(member.interests) if member.interests else _("(none given)")
    # Translators: in a digest; %(interests)s is a list of interest tags.
    lines.append("  " + _("Interests: %(interests)s") % {"interests": interests})
    # Translators: in a digest; %(date)s is a date like 2026-12-08.
    lines.append("  " + _("Member since: %(date)s") % {"date": _day(member.joined_at)})
    return lines


def body(content: DigestContent, head: Letterhead) -> str:
    """The plain-text digest: the news first, then the counts, then where to find more."""
    tr = translations(head.language)
    _, n_ = tr.gettext, tr.ngettext
    span = {"start": _minute(content.since), "end": _minute(content.until)}
    out = [
        # Translators: a digest's first line; %(title)s is the community (its IRC channel).
        _("%(title)s: who joined and what they work on") % {"title": head.title},
        # Translators: a digest's period; %(start)s and %(end)s are dates and times in UTC.
        _("From %(start)s to %(end)s.") % span,
        "",
    ]
    for members, heading in (
        # Translators: a digest's heading; %(n)d members follow.
        (content.new, _("New in the members directory (%(n)d)")),
        # Translators: a digest's heading; %(n)d members follow.
        (content.updated, _("Changed their interests (%(n)d)")),
    ):
        if not members:
            continue
        out += [heading % {"n": len(members)}, RULE, ""]
        for member in members:
            shown = _shown_channels(content.channels.get(member.id, ()), head.channels)
            out += [*card(member, shown, tr), ""]
    if content.unlisted:
        # Translators: in a digest; %(n)d people joined the roster but not the directory.
        text = n_(
            "%(n)d person also joined without choosing to be listed; the directory and this\n"
            "mail name only those who said /listed yes.",
            "%(n)d people also joined without choosing to be listed; the directory and this\n"
            "mail name only those who said /listed yes.",
            content.unlisted,
        )
        out += [*(text % {"n": content.unlisted}).split("\n"), ""]
    if content.top_interests:
        out += [_("Most common interests"), RULE]
        width = max(len(tag) for tag, _count in content.top_interests)
        out += [f"  {tag.ljust(width)}  {count}" for tag, count in content.top_interests]
        out.append("")
    if head.directory_url:
        # Translators: in a digest; %(link)s is the web address of the members directory.
        out += [_("Everyone listed: %(link)s") % {"link": head.directory_url}, ""]
    out += [
        "-- ",
        _("Sent by the bridge between the community's Telegram group and IRC channel."),
        _("Join with /join, list your interests with /interests, be listed with /listed yes."),
    ]
    return "\n".join(out) + "\n"


def compose(content: DigestContent, head: Letterhead, now: float) -> EmailMessage:
    """The whole mail, with the headers a list and its readers expect of an automatic one."""
    msg = EmailMessage()
    msg["From"] = head.sender
    msg["To"] = ", ".join(head.to)
    msg["Date"] = format_datetime(datetime.fromtimestamp(now, UTC))
    msg["Message-ID"] = message_id(content, head)
    msg["Subject"] = subject(content, head)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body(content, head), charset="utf-8", cte="quoted-printable")
    return msg
