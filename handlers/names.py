"""/names: who is on the other side of the bridge right now, since neither side can see it."""

from __future__ import annotations

import logging

from bridge.display_names import clean_name
from bridge.model import Network
from handlers.context import CommandContext
from handlers.replies import prefix_for
from handlers.spec import CommandSpec

log = logging.getLogger(__name__)

GROUP_NICKS = 40
RECENT_SPEAKERS = 10


async def names(ctx: CommandContext, args: str) -> None:
    pair = ctx.paired_chat
    if pair is None:
        await ctx.reply(
            f"{prefix_for(ctx)}names only works in a bridged group or channel: "
            "it tells who is on the other side."
        )
        return
    if ctx.network is Network.TELEGRAM:
        nicks = ctx.presence.irc_nicks(pair.chat_id)
        if not nicks:
            await ctx.reply(f"No one is in {pair.chat_id} right now (or IRC is not connected).")
            return
        shown = nicks[:GROUP_NICKS]
        more = len(nicks) - len(shown)
        tail = f", and {more} more" if more > 0 else ""
        await ctx.reply(f"{len(nicks)} on IRC in {pair.chat_id}: {', '.join(shown)}{tail}")
        return
    count = await ctx.presence.telegram_member_count(pair.chat_id)
    speakers = ctx.presence.telegram_recent_speakers(ctx.chat.chat_id)[:RECENT_SPEAKERS]
    group = pair.title or "The Telegram group"
    size = (
        f"{group} has {count} members." if count is not None else f"{group}: member count unknown."
    )
    spoke = (
        f" Spoke there recently: {', '.join(map(clean_name, speakers))}."
        if speakers
        else " No one spoke there recently."
    )
    await ctx.reply(size + spoke)


SPEC = CommandSpec(
    name="names",
    usage="names",
    summary="who is on the other side of the bridge now",
    details="On Telegram: the nicks in the bridged IRC channel. On IRC: how many people the "
    "Telegram group has and who spoke there recently.",
    handler=names,
)
