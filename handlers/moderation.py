"""/export: the whole roster for moderators, only ever privately, and always recorded."""

from __future__ import annotations

import logging
import time

from bridge.errors import PermissionDenied
from handlers.context import IRC_FILE_MAX_LINES, CommandContext
from handlers.replies import need_private_chat
from handlers.spec import CommandSpec
from storage.export import collect_rows, iso_utc, render_csv, render_json
from storage.roster_store import identity_from_author

log = logging.getLogger(__name__)


async def export(ctx: CommandContext, args: str) -> None:
    if not ctx.is_moderator:  # the registry checks too; this handler must never leak alone
        raise PermissionDenied("Sorry, the roster export is for moderators only.")
    rows = await collect_rows(ctx.roster)
    caption = f"Members roster: {len(rows)} members, {iso_utc(time.time())}"
    if not await ctx.send_file("roster.csv", render_csv(rows), caption):
        await ctx.reply(need_private_chat(ctx))
        return
    identity = identity_from_author(ctx.invoker)
    actor = f"{identity.network.value}:{identity.key}"
    await ctx.roster.record_export(actor, len(rows))
    log.info("roster exported by %s (%d rows)", actor, len(rows))
    if not await ctx.send_file("roster.json", render_json(rows), caption):
        await ctx.reply("I sent the CSV, but the JSON file could not be delivered.")
        return
    if ctx.in_group:
        await ctx.reply("I sent you the roster privately (CSV and JSON).")


SPEC = CommandSpec(
    name="export",
    usage="export",
    summary="the roster as CSV and JSON, sent privately",
    details="Sends roster.csv (opens in a spreadsheet) and roster.json to you privately, "
    "never in the group or channel. Every export is recorded. On IRC a file longer than "
    f"{IRC_FILE_MAX_LINES} lines is replaced by a note: use /export on Telegram or "
    "tgirc-bridge export on the server.",
    handler=export,
    moderator_only=True,
)
