"""/listed yes|no: a member's choice to appear in the web directory (off by default), and
the directory link that answers listing members end with when [web] is on."""

from __future__ import annotations

from urllib.parse import quote as url_quote

from bridge.errors import UsageError
from bridge.i18n import N_
from handlers.context import CommandContext
from handlers.replies import prefix_for
from handlers.spec import CommandSpec
from storage.directory import DirectoryStore
from storage.roster_store import identity_from_author

YES = frozenset({"yes", "y", "on", "true", "1"})
NO = frozenset({"no", "n", "off", "false", "0"})


def directory_link(ctx: CommandContext, query: str | None = None) -> str | None:
    """The directory page (a search for query, if given), or None without a web server."""
    if not ctx.directory_url:
        return None
    base = ctx.directory_url.rstrip("/") + "/members"
    return f"{base}?q={url_quote(query, safe='')}" if query else base


def with_link(ctx: CommandContext, text: str, query: str | None = None) -> str:
    """text, then the directory link on a line of its own, when there is a directory."""
    link = directory_link(ctx, query)
    if not link:
        return text
    # Translators: %(link)s is the web address of the members directory.
    return text + "\n" + ctx.tr.gettext("Listed members on the web: %(link)s") % {"link": link}


async def listed(ctx: CommandContext, args: str) -> None:
    choice = args.strip().lower()
    if choice and choice not in YES | NO:
        raise UsageError()
    _ = ctx.tr.gettext
    p = prefix_for(ctx)
    identity = identity_from_author(ctx.invoker)
    directory = DirectoryStore(ctx.roster.db)
    values = {
        "where": f" ({directory_link(ctx)})" if ctx.directory_url else "",
        "join": p + "join",
        "yes": p + "listed yes",
        "no": p + "listed no",
        "leave": p + "leave",
    }
    if not choice:
        member = await ctx.roster.get_member_by_identity(identity.network, identity.key)
        if member is None:
            # Translators: %(join)s is /join or !join.
            text = _("You are not a member, so you are not listed. %(join)s first.")
        elif await directory.is_listed(member.id):
            # Translators: %(where)s is empty or " (<web address>)"; %(no)s is /listed no.
            text = _("You are listed in the members directory%(where)s. %(no)s takes you out.")
        else:
            # Translators: %(yes)s is /listed yes or !listed yes.
            text = _(
                "You are not listed in the members directory. %(yes)s puts your names, "
                "interests and member-since date on its public web page."
            )
        await ctx.reply(text % values)
        return
    if choice in YES:
        await ctx.roster.join(identity)  # listing needs a member: join like /interests does
        await directory.set_listed(identity, True)
        # Translators: %(where)s is empty or " (<web address>)"; %(no)s is /listed no.
        text = _(
            "Done: you are listed in the members directory%(where)s, with your names, how to "
            "reach you, your interests and since when you are a member. %(no)s undoes it."
        )
        await ctx.reply(text % values)
        return
    member = await directory.set_listed(identity, False)
    if member is None:
        await ctx.reply(_("You are not a member, so you are not listed."))
        return
    # Translators: %(leave)s is /leave or !leave.
    text = _(
        "Done: you are not in the members directory any more (you stay on the roster; "
        "%(leave)s deletes you)."
    )
    await ctx.reply(text % values)


SPEC = CommandSpec(
    name="listed",
    usage="listed [yes|no]",
    summary=N_("show or choose whether the web directory lists you"),
    # Translators: {p} is the command prefix (/ or !), keep it as it is; "listed yes" and
    # "listed no" are typed as they are.
    details=N_(
        "Off by default. {p}listed yes publishes your display names, how to reach you "
        "(Telegram @username, IRC nick and the channels you were seen in), your interests and "
        "your member-since date on the directory web page; {p}listed no removes you from it at "
        "once; {p}listed alone shows your choice. {p}leave removes you from everything."
    ),
    handler=listed,
)
