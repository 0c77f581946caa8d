"""/names: who is on the other side of the bridge right now, since neither side can see it."""

from __future__ import annotations

import logging

from bridge.display_names import clean_name
from bridge.i18n import N_
from bridge.model import Network
from handlers.context import CommandContext
from handlers.replies import prefix_for
from handlers.spec import CommandSpec

log = logging.getLogger(__name__)

GROUP_NICKS = 40
RECENT_SPEAKERS = 10


async def names(ctx: CommandContext, args: str) -> None:
    _, n_ = ctx.tr.gettext, ctx.tr.ngettext
    pair = ctx.paired_chat
    if pair is None:
        # Translators: %(command)s is /names or !names.
        text = _(
            "%(command)s only works in a bridged group or channel: "
            "it tells who is on the other side."
        )
        await ctx.reply(text % {"command": prefix_for(ctx) + "names"})
        return
    if ctx.network is Network.TELEGRAM:
        nicks = ctx.presence.irc_nicks(pair.chat_id)
        if not nicks:
            # Translators: %(channel)s is an IRC channel, e.g. #wikipedia.
            text = _("No one is in %(channel)s right now (or IRC is not connected).")
            await ctx.reply(text % {"channel": pair.chat_id})
            return
        shown = nicks[:GROUP_NICKS]
        more = len(nicks) - len(shown)
        # Translators: the end of a list of nicks that was cut short.
        tail = n_(", and %(n)d more", ", and %(n)d more", more) % {"n": more} if more > 0 else ""
        # Translators: %(n)d people in IRC channel %(channel)s, then their nicks (%(nicks)s).
        text = n_(
            "%(n)d on IRC in %(channel)s: %(nicks)s",
            "%(n)d on IRC in %(channel)s: %(nicks)s",
            len(nicks),
        )
        await ctx.reply(
            text % {"n": len(nicks), "channel": pair.chat_id, "nicks": ", ".join(shown)} + tail
        )
        return
    count = await ctx.presence.telegram_member_count(pair.chat_id)
    speakers = ctx.presence.telegram_recent_speakers(ctx.chat.chat_id)[:RECENT_SPEAKERS]
    group = pair.title or _("The Telegram group")
    if count is not None:
        # Translators: %(group)s is the Telegram group's title.
        size = n_("%(group)s has %(n)d member.", "%(group)s has %(n)d members.", count)
    else:
        # Translators: %(group)s is the Telegram group's title.
        size = _("%(group)s: member count unknown.")
    # Translators: %(names)s is a list of people's names.
    spoke = _("Spoke there recently: %(names)s.")
    if not speakers:
        spoke = _("No one spoke there recently.")
    names = ", ".join(map(clean_name, speakers))
    await ctx.reply(size % {"group": group, "n": count} + " " + spoke % {"names": names})


SPEC = CommandSpec(
    name="names",
    usage="names",
    summary=N_("who is on the other side of the bridge now"),
    details=N_(
        "On Telegram: the nicks in the bridged IRC channel. On IRC: how many people the "
        "Telegram group has and who spoke there recently."
    ),
    handler=names,
)
