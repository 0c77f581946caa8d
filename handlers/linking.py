"""/link: one member across both networks, by a one-time code made on one network and sent
privately from the other."""

from __future__ import annotations

from bridge.errors import PermissionDenied
from bridge.i18n import N_
from bridge.model import Network
from handlers.cards import describe
from handlers.context import CommandContext
from handlers.replies import community_only, need_private_chat, other_prefix, prefix_for
from handlers.spec import CommandSpec
from storage.link_codes import LINK_CODE_TTL, LinkError
from storage.roster_model import Identity
from storage.roster_store import identity_from_author


async def link(ctx: CommandContext, args: str) -> None:
    identity = identity_from_author(ctx.invoker)
    code = args.strip()
    if code:  # the code is the credential: a member of the community made it
        await _redeem(ctx, identity, code)
        return
    if not await ctx.in_community():
        raise PermissionDenied(community_only(ctx, "link"))
    made = await ctx.roster.create_link_code(identity, join=True)
    minutes = int(LINK_CODE_TTL // 60)
    tr = ctx.tr_private
    if ctx.network is Network.TELEGRAM:
        # Translators: %(code)s is a one-time code, %(minutes)d how long it is valid,
        # %(command)s what to send on IRC (e.g. "!link K7M2QX").
        text = tr.ngettext(
            "Your link code is %(code)s. Within %(minutes)d minute, send %(command)s to me "
            "in a private message on IRC. Keep it to yourself: whoever sends it becomes "
            "part of your membership.",
            "Your link code is %(code)s. Within %(minutes)d minutes, send %(command)s to me "
            "in a private message on IRC. Keep it to yourself: whoever sends it becomes "
            "part of your membership.",
            minutes,
        )
    else:
        # Translators: %(code)s is a one-time code, %(minutes)d how long it is valid,
        # %(command)s what to send on Telegram (e.g. "/link K7M2QX").
        text = tr.ngettext(
            "Your link code is %(code)s. Within %(minutes)d minute, send %(command)s to me "
            "in a private chat on Telegram. Keep it to yourself: whoever sends it becomes "
            "part of your membership.",
            "Your link code is %(code)s. Within %(minutes)d minutes, send %(command)s to me "
            "in a private chat on Telegram. Keep it to yourself: whoever sends it becomes "
            "part of your membership.",
            minutes,
        )
    command = f"{other_prefix(ctx)}link {made.code}"
    if not await ctx.reply_private(
        text % {"code": made.code, "minutes": minutes, "command": command}
    ):
        await ctx.reply(need_private_chat(ctx))
    elif ctx.in_group:
        await ctx.reply(ctx.tr.gettext("I sent you a link code privately."))


async def _redeem(ctx: CommandContext, identity: Identity, code: str) -> None:
    _ = ctx.tr.gettext
    if ctx.in_group:
        await ctx.roster.discard_link_code(code)
        # Translators: %(command)s is /link or !link, as typed on the other network.
        text = _(
            "Link codes only work in a private chat with me; that code is now void. "
            "Ask for a new one with %(command)s on your other network."
        )
        await ctx.reply(text % {"command": other_prefix(ctx) + "link"})
        return
    try:
        linked = await ctx.roster.redeem_link_code(code, identity)
    except LinkError as exc:
        await ctx.reply(exc.said(ctx.tr))
        return
    where = "; ".join(describe(i, ctx.tr) for i in linked.member.identities)
    # Translators: %(identities)s is like "Telegram: Ann (@ann); IRC: ann".
    text = _("Linked: %(identities)s are now one member.") % {"identities": where}
    if linked.unlisted:  # told here: the private chat where the person is right now
        # Translators: %(command)s is /listed yes or !listed yes.
        more = _(
            "You are no longer listed in the members directory: linking took you out, so "
            "that your new identity is not published without your say. "
            "%(command)s lists you again, with both identities."
        )
        text += "\n" + more % {"command": prefix_for(ctx) + "listed yes"}
    await ctx.reply(text)


SPEC = CommandSpec(
    name="link",
    # Translators: a command's usage; the command's name (first word) stays in English.
    usage=N_("link [CODE]"),
    summary=N_("join your Telegram and IRC identities into one member"),
    # Translators: {p} is the command prefix (/ or !), keep it as it is; "link CODE" is
    # what to send, the command's name stays in English; %(minutes)d minutes.
    details=N_(
        "{p}link sends you a one-time code privately (valid %(minutes)d minutes); send "
        "link CODE privately to the bot from your other network to merge the two. A "
        "member listed in the web directory is unlisted by it until {p}listed yes."
    ),
    facts=(("minutes", int(LINK_CODE_TTL // 60)),),
    handler=link,
    open_to_anyone=True,  # with a code; the handler asks for the community without one
)
