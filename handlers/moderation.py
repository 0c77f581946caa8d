"""Moderators' commands: /export (the whole roster, only ever privately), /remove (a member,
and what of theirs still waits to be relayed) and /untag (a tag from everyone). Each is
recorded with who did it."""

from __future__ import annotations

import logging
import time

from bridge.errors import PermissionDenied, UsageError
from handlers.context import IRC_FILE_MAX_LINES, CommandContext
from handlers.replies import answer, need_private_chat, prefix_for, quote
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
        raise PermissionDenied(f"Sorry, {what} is for moderators only.")


async def export(ctx: CommandContext, args: str) -> None:
    _moderators_only(ctx, "the roster export")
    rows = await collect_rows(ctx.roster)
    caption = f"Members roster: {len(rows)} members, {iso_utc(time.time())}"
    if not await ctx.send_file("roster.csv", render_csv(rows), caption):
        await ctx.reply(need_private_chat(ctx))
        return
    actor = _actor(ctx)
    await ctx.roster.record_export(actor, len(rows))
    log.info("roster exported by %s (%d rows)", actor, len(rows))
    if not await ctx.send_file("roster.json", render_json(rows), caption):
        await ctx.reply("I sent the CSV, but the JSON file could not be delivered.")
        return
    if ctx.in_group:
        await ctx.reply("I sent you the roster privately (CSV and JSON).")


async def remove(ctx: CommandContext, args: str) -> None:
    _moderators_only(ctx, "removing a member")
    query = " ".join(args.split())
    if not query:
        raise UsageError()
    found = await ctx.roster.find_for_removal(query)
    p = prefix_for(ctx)
    if not found:
        await ctx.reply(
            f"No member is {quote(query)}: name one by name, @username, nick or #number "
            "(the export's member_id)."
        )
        return
    if len(found) > 1:
        lines = [f"{len(found)} members match {quote(query)}; remove one by its number:"]
        lines += [f"#{m.id} {card(m)[0]}" for m in found]
        lines.append(f"e.g. {p}remove #{found[0].id}")
        await answer(ctx, lines, "I sent you the matching members privately.")
        return
    member = await ctx.roster.remove_member(found[0].id, _actor(ctx))
    if member is None:
        await ctx.reply("That member was removed already.")
        return
    log.info("member %d removed by %s", member.id, _actor(ctx))
    n, k = len(member.identities), len(member.interests)
    await ctx.reply(
        f"Removed {member.display_name} (#{member.id}): {n} "
        f"{'identity' if n == 1 else 'identities'} and {k} {'interest' if k == 1 else 'interests'}."
    )


async def untag(ctx: CommandContext, args: str) -> None:
    _moderators_only(ctx, "removing a tag")
    if not args.strip():
        raise UsageError()
    try:
        tag = normalise_tag(args)
    except TagError as exc:
        await ctx.reply(f"{quote(args)} is not a tag: {exc}.")
        return
    count = await ctx.roster.remove_tag(tag, _actor(ctx))
    if count == 0:
        await ctx.reply(f"No one lists {quote(tag)}.")
        return
    log.info("tag %r removed from %d members by %s", tag, count, _actor(ctx))
    await ctx.reply(f"Removed {quote(tag)} from {count} {'member' if count == 1 else 'members'}.")


SPECS = (
    CommandSpec(
        name="export",
        usage="export",
        summary="the roster as CSV and JSON, sent privately",
        details="Sends roster.csv (opens in a spreadsheet) and roster.json to you privately, "
        "never in the group or channel. Every export is recorded. On IRC a file longer than "
        f"{IRC_FILE_MAX_LINES} lines is replaced by a note: use /export on Telegram or "
        "tgirc-bridge export on the server.",
        handler=export,
        moderator_only=True,
    ),
    CommandSpec(
        name="remove",
        usage="remove <#number, name, @username or nick>",
        summary="delete a member from the roster, for good",
        details="Deletes the member with every linked identity and interest, as {p}leave "
        "would, and drops their messages still waiting to be relayed. When several match, "
        "lists them with their numbers: {p}remove #12. "
        "Recorded (who, when), like exports; also: tgirc-bridge roster remove.",
        handler=remove,
        moderator_only=True,
    ),
    CommandSpec(
        name="untag",
        usage="untag <tag>",
        summary="take an interest tag away from every member",
        details="Removes the tag from everyone who lists it (spam, a slur, a typo), and says "
        "how many listed it. Recorded, like exports; also: tgirc-bridge roster untag.",
        handler=untag,
        moderator_only=True,
    ),
)
