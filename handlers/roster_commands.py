"""/join /interests /whois /members /leave: the roster, the same from both networks."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from bridge.display_names import clean_name
from bridge.errors import UsageError
from bridge.i18n import N_, Translations
from bridge.identity import limit_key
from handlers.cards import card, hit_lines, since
from handlers.context import CommandContext
from handlers.listing import directory_link, with_link
from handlers.replies import (
    answer_in,
    prefix_for,
    quote,
)
from handlers.spec import CommandSpec
from storage.roster_model import (
    MAX_INTERESTS,
    InterestSearch,
    Member,
)
from storage.roster_store import identity_from_author
from storage.tags import MAX_TAG_LENGTH, TagError, normalise_tag

log = logging.getLogger(__name__)

MAX_QUERY = 64
GROUP_HITS = 10
PRIVATE_HITS = 100
SHOWN_REJECTIONS = 5


@dataclass
class InterestRequest:
    """Parsed /interests arguments: set the list, or add/remove (edit)."""

    edit: bool
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    rejected: list[tuple[str, TagError]] = field(default_factory=list)


def parse_interests(args: str) -> InterestRequest:
    """ "a, b" sets; "+a -b" (or "+a, -b") edits; each rejected item keeps its reason."""
    text = args.strip()
    edit = text[:1] in ("+", "-")
    separated = "," in text or "\n" in text or not edit
    items = re.split(r"[,\n]", text) if separated else text.split()
    request = InterestRequest(edit)
    for item in items:
        raw = item.strip()
        if not raw:
            continue
        sign = "+"
        if edit and raw[0] in "+-":
            sign, raw = raw[0], raw[1:]
        try:
            tag = normalise_tag(raw)
        except TagError as exc:
            request.rejected.append((raw or sign, exc))
            continue
        (request.add if sign == "+" else request.remove).append(tag)
    return request


def _rejections(rejected: list[tuple[str, TagError]], tr: Translations) -> str:
    shown = [f"{quote(raw, 24)}: {reason.said(tr)}" for raw, reason in rejected[:SHOWN_REJECTIONS]]
    more = len(rejected) - SHOWN_REJECTIONS
    # Translators: %(items)s is a list of refused tags, each "tag": why.
    text = tr.gettext("Not accepted: %(items)s") % {"items": "; ".join(shown)}
    if more > 0:
        # Translators: after a list of refused tags that was cut short.
        return text + tr.ngettext("; and %(n)d more.", "; and %(n)d more.", more) % {"n": more}
    return text + "."


async def join(ctx: CommandContext, args: str) -> None:
    _ = ctx.tr.gettext
    member, created = await ctx.roster.join(identity_from_author(ctx.invoker))
    p = prefix_for(ctx)
    if not created:
        # Translators: %(name)s is the person's name, %(date)s a date like 2026-12-08.
        text = _("%(name)s, you are already a member (since %(date)s).")
        await ctx.reply(text % {"name": member.display_name, "date": since(member)})
        return
    # Translators: %(name)s is the new member's name; %(example)s is a command to type,
    # e.g. "/interests python, translation" (the tags are examples).
    text = _("Welcome, %(name)s: you are on the roster. Say what you work on: %(example)s")
    text %= {"name": member.display_name, "example": p + _("interests python, translation")}
    if not ctx.invoker.verified:
        text += " " + _(
            "(You are not logged in to IRC services, so you are listed by nick!user@host, "
            "marked unverified.)"
        )
    await ctx.reply(text)


async def interests(ctx: CommandContext, args: str) -> None:
    _ = ctx.tr.gettext
    p = prefix_for(ctx)
    identity = identity_from_author(ctx.invoker)
    if not args.strip():
        member, created = await ctx.roster.join(identity)
        hello = _("You are now a member.") + " " if created else ""
        if await ctx.roster.confirm(member.id):  # the nudge's answer: shown is confirmed
            hello = _("Thank you: your profile is confirmed and stays listed.") + " "
        if member.interests:
            # Translators: %(interests)s is a list of interest tags.
            text = _("Your interests: %(interests)s") % {"interests": ", ".join(member.interests)}
        else:
            # Translators: %(example)s is a command to type, e.g. /interests python, translation.
            text = _("You list no interests yet: %(example)s") % {
                "example": p + _("interests python, translation")
            }
        await ctx.reply(hello + text)
        return
    request = parse_interests(args)
    if not (request.add or request.remove or request.rejected):
        raise UsageError()
    notes = [_rejections(request.rejected, ctx.tr)] if request.rejected else []
    if not (request.add or request.remove):
        await ctx.reply(" ".join([_("Nothing changed."), *notes]))
        return
    update, created = await ctx.roster.join_with_interests(
        identity, request.add, request.remove, edit=request.edit
    )
    if update.over_limit:
        over = ", ".join(update.over_limit[:SHOWN_REJECTIONS])
        # Translators: %(max)d is the most interests a member may list; %(tags)s the ones left out.
        text = _("Over the limit of %(max)d: %(tags)s.")
        notes.append(text % {"max": MAX_INTERESTS, "tags": over})
    # Translators: said when a member's list of interests is now empty.
    listed = ", ".join(update.interests) if update.interests else _("none")
    hello = _("You are now a member.") + " " if created else ""
    # Translators: %(interests)s is a list of interest tags (or "none").
    text = _("Your interests: %(interests)s.") % {"interests": listed}
    await ctx.reply(" ".join([hello + text, *notes]))


async def whois(ctx: CommandContext, args: str) -> None:
    _ = ctx.tr.gettext
    query = " ".join(args.split())
    if not query:
        raise UsageError()
    if len(query) > MAX_QUERY:
        # Translators: %(max)d is a number of characters.
        text = _("That is too long to search for (at most %(max)d characters).")
        await ctx.reply(text % {"max": MAX_QUERY})
        return
    if clean_name(query) != query:  # emoji, joiners and unassigned code points are fine
        await ctx.reply(_("Please search for plain text: control characters are not allowed."))
        return
    exact = [m.member for m in await ctx.roster.find_members(query, exact_only=True)]
    if exact:
        await _cards(ctx, exact, query)
        return
    try:
        tag: str | None = normalise_tag(query)
        why = ""
    except TagError as exc:
        tag, why = None, exc.said(ctx.tr)
    if tag is not None:
        limit = GROUP_HITS if ctx.in_group else PRIVATE_HITS
        search = await ctx.roster.find_by_interest(tag, limit)
        if search.total:
            await _interest_answer(ctx, search)
            return
    matches = await ctx.roster.find_members(query)  # partial names, only when nothing else
    if matches:
        await _cards(ctx, [m.member for m in matches[:3]], query)
        return
    if tag is None:
        # Translators: %(query)s is what was searched for, quoted; %(reason)s why it is no tag.
        text = _("No member is called %(query)s, and it is not an interest: %(reason)s.")
        await ctx.reply(text % {"query": quote(query), "reason": why})
        return
    closest = await ctx.roster.suggest_interests(tag)
    # Translators: %(tag)s is an interest tag, quoted.
    text = _("No one lists %(tag)s.") % {"tag": quote(tag)}
    if closest:
        # Translators: %(tags)s is a list of interest tags close to the one searched for.
        text += " " + _("Closest interests: %(tags)s") % {"tags": ", ".join(closest)}
    await ctx.reply(text)


async def _cards(ctx: CommandContext, members: list[Member], query: str) -> None:
    link = directory_link(ctx, query)

    def lines_in(tr: Translations) -> list[str]:
        lines = [line for m in members for line in card(m, tr)]
        # Translators: %(link)s is the web address of the members directory.
        web = tr.gettext("Listed members on the web: %(link)s")
        return lines + ([web % {"link": link}] if link else [])

    await answer_in(ctx, lines_in, ctx.tr.gettext("I sent you the member cards privately."))


async def _interest_answer(ctx: CommandContext, search: InterestSearch) -> None:
    _, n_ = ctx.tr.gettext, ctx.tr.ngettext
    names = hit_lines(search, ctx.tr)
    more = search.total - len(names)
    values = {"n": search.total, "tag": quote(search.prefix), "more": more}
    # Translators: %(n)d members list the interest %(tag)s (quoted); their names follow.
    head = n_("%(n)d listing %(tag)s:", "%(n)d listing %(tag)s:", search.total) % values
    if ctx.in_group:
        text = head + " " + ", ".join(names)
        if more > 0:
            # Translators: after a list of names cut short; %(command)s is e.g. /whois python.
            tail = n_(
                ", and %(more)d more (ask me privately: %(command)s)",
                ", and %(more)d more (ask me privately: %(command)s)",
                more,
            )
            text += tail % {**values, "command": f"{prefix_for(ctx)}whois {search.prefix}"}
        else:
            text += "."
        await ctx.reply(with_link(ctx, text, search.prefix))
        return
    lines = [head, *names]
    if more > 0:
        # Translators: %(max)d is the most names listed in one answer.
        text = n_(
            "and %(more)d more (I list at most %(max)d; a longer interest narrows it down).",
            "and %(more)d more (I list at most %(max)d; a longer interest narrows it down).",
            more,
        )
        lines.append(text % {**values, "max": PRIVATE_HITS})
    await ctx.reply(with_link(ctx, "\n".join(lines), search.prefix))


async def members(ctx: CommandContext, args: str) -> None:
    _ = ctx.tr.gettext
    stats = await ctx.roster.stats(top=10)
    if stats.member_count == 0:
        # Translators: %(command)s is /join or !join.
        text = _("No members yet. Be the first: %(command)s")
        await ctx.reply(text % {"command": prefix_for(ctx) + "join"})
        return
    # Translators: %(n)d members in all; %(telegram)d and %(irc)d identities on each network.
    text = ctx.tr.ngettext(
        "%(n)d member (%(telegram)d on Telegram, %(irc)d on IRC).",
        "%(n)d members (%(telegram)d on Telegram, %(irc)d on IRC).",
        stats.member_count,
    ) % {
        "n": stats.member_count,
        "telegram": stats.telegram_identities,
        "irc": stats.irc_identities,
    }
    if stats.top_interests:
        # Translators: %(tags)s is a list like "python (12), translation (7)".
        top = _("Most common interests: %(tags)s")
        text += " " + top % {"tags": ", ".join(f"{t} ({n})" for t, n in stats.top_interests)}
    await ctx.reply(with_link(ctx, text))


async def leave(ctx: CommandContext, args: str) -> None:
    _ = ctx.tr.gettext
    identity = identity_from_author(ctx.invoker)
    if ctx.courier is not None:  # a member's questions go with the member (ON DELETE CASCADE)
        await ctx.courier.store.forget_asker(":".join(limit_key(ctx.invoker)))
    member = await ctx.roster.get_member_by_identity(identity.network, identity.key)
    if member is None or not await ctx.roster.forget(member.id):
        await ctx.reply(_("You are not a member, so there is nothing to forget."))
        return
    if len(member.identities) > 1:
        text = _(
            "Done: I deleted your membership on both networks, your identities and your interests."
        )
    else:
        text = _("Done: I deleted your membership, your identities and your interests.")
    await ctx.reply(text)


SPECS = (
    CommandSpec(
        name="join",
        usage="join",
        summary=N_("join the members roster"),
        # Translators: {p} is the command prefix (/ or !), keep it as it is.
        details=N_(
            "Adds you to the roster, keyed by your Telegram id or IRC services account "
            "(without one, by nick!user@host, marked unverified). Then: {p}interests."
        ),
        handler=join,
    ),
    CommandSpec(
        name="interests",
        # Translators: a command's usage; the command's name (first word) stays in English.
        usage=N_("interests [tag, tag, … | +tag -tag]"),
        summary=N_("show or set what you work on"),
        # Translators: {p} is the command prefix (/ or !), keep it as it is; the tags in the
        # examples may be translated; %(max)d tags of %(length)d characters at most.
        details=N_(
            "No arguments: show yours. {p}interests python, translation, gadgets sets the "
            "list; {p}interests +lua -gadgets adds and removes. At most %(max)d tags of "
            "%(length)d characters: letters, digits and - + # . _ (spaces become -). Joins you "
            "if needed."
        ),
        facts=(("max", MAX_INTERESTS), ("length", MAX_TAG_LENGTH)),
        handler=interests,
    ),
    CommandSpec(
        name="whois",
        # Translators: a command's usage; the command's name (first word) stays in English.
        usage=N_("whois <name or interest>"),
        summary=N_("a member's card, or who lists an interest"),
        # Translators: {p} is the command prefix (/ or !), keep it as it is; at most
        # %(group)d names in the group and %(private)d in a private answer.
        details=N_(
            "A member's name or handle shows their card. Otherwise the members listing "
            "that interest or one starting with it, best match first: {p}whois py. At most "
            "%(group)d in the group and %(private)d privately, with how many more."
        ),
        facts=(("group", GROUP_HITS), ("private", PRIVATE_HITS)),
        handler=whois,
    ),
    CommandSpec(
        name="members",
        usage="members",
        summary=N_("how many members, and the most common interests"),
        details=N_("Counts members on each network and lists the ten most common interests."),
        handler=members,
    ),
    CommandSpec(
        name="leave",
        usage="leave",
        summary=N_("delete yourself from the roster, for good"),
        details=N_("Deletes your membership, every linked identity and your interests at once."),
        handler=leave,
    ),
)
