"""How the roster shows a member: the card /whois, /remove and the CLI print, and the
lines of an interest search, in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime

from bridge.i18n import ENGLISH, Translations
from bridge.identity import IrcKeyKind, parse_irc_key
from bridge.model import Network
from storage.roster_model import Identity, InterestSearch, Member


def since(member: Member) -> str:
    return datetime.fromtimestamp(member.joined_at, UTC).strftime("%Y-%m-%d")


def unconfirmed(member: Member, tr: Translations) -> str:
    """The mark of a stale member (storage.freshness): kept, found, but not vouched for."""
    if not member.stale:
        return ""
    when = member.confirmed_at if member.confirmed_at is not None else member.joined_at
    # Translators: after a member's name; %(date)s is a date like 2026-12-08.
    text = tr.gettext("(not confirmed since %(date)s)")
    return " " + text % {"date": datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d")}


def describe(identity: Identity, tr: Translations) -> str:
    """One identity in a card; never an IRC host (people did not agree to publish it)."""
    if identity.network is Network.TELEGRAM:
        handle = f" (@{identity.handle})" if identity.handle else ""
        return f"Telegram: {identity.display_name}{handle}"
    nick = identity.handle or identity.display_name
    extra = []
    key = parse_irc_key(identity.key)
    if key.kind is IrcKeyKind.ACCOUNT and key.value.casefold() != nick.casefold():
        # Translators: an IRC services account, in a member's card: "IRC: bob (account robert)".
        extra.append(tr.gettext("account %(account)s") % {"account": key.value})
    if not identity.verified:
        # Translators: an IRC identity not logged in to services, in a member's card.
        extra.append(tr.gettext("unverified"))
    return f"IRC: {nick}" + (f" ({', '.join(extra)})" if extra else "")


def card(member: Member, tr: Translations = ENGLISH) -> list[str]:
    """A member's card in two lines: who, where, since when; then interests."""
    _ = tr.gettext
    where = "; ".join(describe(i, tr) for i in member.identities)
    interests = ", ".join(member.interests) if member.interests else _("none listed")
    # Translators: a member's card; %(name)s, then where they are (%(where)s: "Telegram:
    # Ann (@ann); IRC: ann"), then since when (%(date)s, like 2026-12-08).
    who = _("%(name)s — %(where)s — member since %(date)s")
    values = {"name": member.display_name, "where": where, "date": since(member)}
    return [
        who % values + unconfirmed(member, tr),
        # Translators: the second line of a member's card; %(interests)s is a list of tags.
        _("Interests: %(interests)s") % {"interests": interests},
    ]


def hit_lines(search: InterestSearch, tr: Translations) -> list[str]:
    lines = []
    for hit in search.hits:
        tags = "" if hit.tags == (search.prefix,) else f" ({', '.join(hit.tags)})"
        lines.append(f"{hit.member.display_name}{tags}{unconfirmed(hit.member, tr)}")
    return lines
