"""How every command family answers: the prefix to show, quoting user text, long answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bridge.display_names import is_invisible
from bridge.i18n import Translations
from bridge.model import Network
from handlers.context import CommandContext
from handlers.spec import CommandSpec

MAX_GROUP_LINES = 5
"""Longer answers to a command typed in a group go privately, with a pointer in the group."""


def prefix_for(ctx: CommandContext) -> str:
    """How to type a command where ctx came from: /cmd on Telegram, !cmd on IRC.

    On IRC the prefix is configurable (irc.command_prefix, carried in ctx.irc_prefix) and
    the bot also accepts a bare "cmd" in a private message; answers show the prefix, since
    that form works everywhere.
    """
    return "/" if ctx.network is Network.TELEGRAM else ctx.irc_prefix


def other_prefix(ctx: CommandContext) -> str:
    """How to type a command on the other network (for /link instructions)."""
    return ctx.irc_prefix if ctx.network is Network.TELEGRAM else "/"


def quote(text: str, limit: int = 40) -> str:
    """User text echoed back: controls shown as ?, bounded so 10 000 characters stay short."""
    cleaned = "".join("?" if is_invisible(c) else c for c in text)
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return f'"{cleaned}"'


def need_private_chat(ctx: CommandContext) -> str:
    """What to say when the network would not let the bot write to the invoker privately."""
    _ = ctx.tr.gettext
    if ctx.network is Network.TELEGRAM and ctx.bot_name:
        # Translators: %(bot)s is the bot's Telegram username; "Start" is Telegram's button.
        text = _(
            "I cannot write to you privately yet: open a private chat with @%(bot)s, "
            "press Start, then try again."
        )
        return text % {"bot": ctx.bot_name}
    return _("I cannot write to you privately yet: start a private chat with me, then try again.")


def community_only(ctx: CommandContext, name: str) -> str:
    """The one sentence a stranger gets: the roster is for the community of the bridge."""
    # Translators: %(command)s is a command as typed, e.g. /whois or !whois.
    text = ctx.tr.gettext(
        "Sorry, I answer %(command)s only in the bridged group or channel, "
        "or privately to the people in it."
    )
    return text % {"command": prefix_for(ctx) + name}


def not_a_person(ctx: CommandContext) -> str:
    """Said to a post sent as a channel or as the anonymous group admin (no person known)."""
    # Translators: %(name)s is the channel or group the person posts as.
    text = ctx.tr.gettext(
        "You are posting as %(name)s, which any of its admins can do, "
        "so I cannot tell who you are: send commands from your own account."
    )
    return text % {"name": ctx.invoker.display_name}


async def answer(ctx: CommandContext, lines: Sequence[str], pointer: str) -> None:
    """Short answers go where the command was typed; long ones privately, with a pointer."""
    await answer_in(ctx, lambda tr: lines, pointer)


async def answer_in(
    ctx: CommandContext, lines_in: Callable[[Translations], Sequence[str]], pointer: str
) -> None:
    """answer(), for lines written in a language: the group's where typed, the invoker's
    when they go privately."""
    lines = lines_in(ctx.tr)
    if not ctx.in_group or len(lines) <= MAX_GROUP_LINES:
        await ctx.reply("\n".join(lines))
    elif await ctx.reply_private("\n".join(lines_in(ctx.tr_private))):
        await ctx.reply(pointer)
    else:
        await ctx.reply(need_private_chat(ctx))


def usage_line(ctx: CommandContext, spec: CommandSpec, tr: Translations | None = None) -> str:
    """ "Usage: /whois <name or interest>", in tr's language (else the answer's)."""
    _ = (tr or ctx.tr).gettext
    # Translators: %(usage)s is a command with its arguments, e.g. "/whois <name>".
    return _("Usage: %(usage)s") % {"usage": prefix_for(ctx) + _(spec.usage)}
