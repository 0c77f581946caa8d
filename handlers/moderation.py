"""Moderators' commands: /export (the whole roster, only ever privately), /remove (a member,
and what of theirs still waits to be relayed) and /untag (a tag from everyone). Each is
recorded with who did it."""

from __future__ import annotations

import logging
import time

from bridge.errors import PermissionDenied, UsageError
from bridge.i18n import N_, Translations
from handlers.context import CommandContext
from handlers.replies import answer_in, need_private_chat, prefix_for, quote
from handlers.roster_commands import card
from handlers.spec import CommandSpec
from storage.export import collect_rows, iso_utc, render_csv, render_json
from storage.roster_store import identity_from_author
from storage.tags import TagError, normalise_tag

log = logging.getLogger(__name__)


def _actor(ctx: CommandContext) -> str:
    """Who did it, as the audit logs name people: "telegram:<id>" or "irc:account:<name>"."""
    identity = identity_from_author(ctx.invoker)
    return f"{identity.network.value}:{identity.key}"


def _moderators_only(ctx: CommandContext, what: str) -> None:
    """The registry checks too; a moderator's handler must never act alone for anyone."""
    if not ctx.is_moderator:
        # Translators: %(what)s is one of "the roster export", "removing a member", ...
        text = ctx.tr.gettext("Sorry, %(what)s is for moderators only.")
        raise PermissionDenied(text % {"what": ctx.tr.gettext(what)})


async def export(ctx: CommandContext, args: str) -> None:
    _ = ctx.tr.gettext
    _moderators_only(ctx, N_("the roster export"))
    rows = await collect_rows(ctx.roster)
    # Translators: a file's caption; %(n)d members, %(when)s a date and time in UTC.
    caption = ctx.tr_private.ngettext(
        "Members roster: %(n)d member, %(when)s",
        "Members roster: %(n)d members, %(when)s",
        len(rows),
    ) % {"n": len(rows), "when": iso_utc(time.time())}
    if not await ctx.send_file("roster.csv", render_csv(rows), caption):
        await ctx.reply(need_private_chat(ctx))
        return
    actor = _actor(ctx)
    await ctx.roster.record_export(actor, len(rows))
    log.info("roster exported by %s (%d rows)", actor, len(rows))
    if not await ctx.send_file("roster.json", render_json(rows), caption):
        await ctx.reply(_("I sent the CSV, but the JSON file could not be delivered."))
        return
    if ctx.in_group:
        await ctx.reply(_("I sent you the roster privately (CSV and JSON)."))


async def remove(ctx: CommandContext, args: str) -> None:
    _, n_ = ctx.tr.gettext, ctx.tr.ngettext
    _moderators_only(ctx, N_("removing a member"))
    query = " ".join(args.split())
    if not query:
        raise UsageError()
    found = await ctx.roster.find_for_removal(query)
    p = prefix_for(ctx)
    if not found:
        # Translators: %(query)s is what the moderator typed, quoted.
        text = _(
            "No member is %(query)s: name one by name, @username, nick or #number "
            "(the export's member_id)."
        )
        await ctx.reply(text % {"query": quote(query)})
        return
    if len(found) > 1:

        def matching(tr: Translations) -> list[str]:
            # Translators: %(n)d members match what the moderator typed (%(query)s).
            head = tr.ngettext(
                "%(n)d member matches %(query)s; remove one by its number:",
                "%(n)d members match %(query)s; remove one by its number:",
                len(found),
            )
            lines = [head % {"n": len(found), "query": quote(query)}]
            lines += [f"#{m.id} {card(m, tr)[0]}" for m in found]
            # Translators: %(example)s is a command, e.g. /remove #12.
            lines.append(tr.gettext("e.g. %(example)s") % {"example": f"{p}remove #{found[0].id}"})
            return lines

        await answer_in(ctx, matching, _("I sent you the matching members privately."))
        return
    member = await ctx.roster.remove_member(found[0].id, _actor(ctx))
    if member is None:
        await ctx.reply(_("That member was removed already."))
        return
    log.info("member %d removed by %s", member.id, _actor(ctx))
    n, k = len(member.identities), len(member.interests)
    # Translators: %(name)s (#%(id)d) is the member removed; the rest is completed by
    # "and %(k)d interests." (the next message).
    head = n_(
        "Removed %(name)s (#%(id)d): %(n)d identity",
        "Removed %(name)s (#%(id)d): %(n)d identities",
        n,
    )
    # Translators: the end of "Removed Ann (#3): 2 identities", with the number of interests.
    tail = n_("and %(k)d interest.", "and %(k)d interests.", k)
    values = {"name": member.display_name, "id": member.id, "n": n, "k": k}
    await ctx.reply(head % values + " " + tail % values)


async def untag(ctx: CommandContext, args: str) -> None:
    _ = ctx.tr.gettext
    _moderators_only(ctx, N_("removing a tag"))
    if not args.strip():
        raise UsageError()
    try:
        tag = normalise_tag(args)
    except TagError as exc:
        # Translators: %(tag)s is what was typed, quoted; %(reason)s why it is no tag.
        text = _("%(tag)s is not a tag: %(reason)s.")
        await ctx.reply(text % {"tag": quote(args), "reason": exc.said(ctx.tr)})
        return
    count = await ctx.roster.remove_tag(tag, _actor(ctx))
    if count == 0:
        # Translators: %(tag)s is an interest tag, quoted.
        await ctx.reply(_("No one lists %(tag)s.") % {"tag": quote(tag)})
        return
    log.info("tag %r removed from %d members by %s", tag, count, _actor(ctx))
    # Translators: %(tag)s is an interest tag, quoted; %(n)d how many listed it.
    text = ctx.tr.ngettext(
        "Removed %(tag)s from %(n)d member.", "Removed %(tag)s from %(n)d members.", count
    )
    await ctx.reply(text % {"tag": quote(tag), "n": count})


SPECS = (
    CommandSpec(
        name="export",
        usage="export",
        summary=N_("the roster as CSV and JSON, sent privately"),
        details=N_(
            "Sends roster.csv (opens in a spreadsheet) and roster.json to you privately, "
            "never in the group or channel. Every export is recorded. On IRC a file longer than "
            "200 lines is replaced by a note: use /export on Telegram or "
            "tgirc-bridge export on the server."
        ),
        handler=export,
        moderator_only=True,
    ),
    CommandSpec(
        name="remove",
        # Translators: a command's usage; the command's name (first word) stays in English.
        usage=N_("remove <#number, name, @username or nick>"),
        summary=N_("delete a member from the roster, for good"),
        # Translators: {p} is the command prefix (/ or !), keep it as it is.
        details=N_(
            "Deletes the member with every linked identity and interest, as {p}leave "
            "would, and drops their messages still waiting to be relayed. When several match, "
            "lists them with their numbers: {p}remove #12. "
            "Recorded (who, when), like exports; also: tgirc-bridge roster remove."
        ),
        handler=remove,
        moderator_only=True,
    ),
    CommandSpec(
        name="untag",
        # Translators: a command's usage; the command's name (first word) stays in English.
        usage=N_("untag <tag>"),
        summary=N_("take an interest tag away from every member"),
        details=N_(
            "Removes the tag from everyone who lists it (spam, a slur, a typo), and says "
            "how many listed it. Recorded, like exports; also: tgirc-bridge roster untag."
        ),
        handler=untag,
        moderator_only=True,
    ),
)
