"""How every command family answers: the prefix to show, quoting user text, long answers."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.display_names import is_invisible
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
    if ctx.network is Network.TELEGRAM and ctx.bot_name:
        return (
            f"I cannot write to you privately yet: open a private chat with @{ctx.bot_name}, "
            "press Start, then try again."
        )
    return "I cannot write to you privately yet: start a private chat with me, then try again."


def community_only(ctx: CommandContext, name: str) -> str:
    """The one sentence a stranger gets: the roster is for the community of the bridge."""
    return (
        f"Sorry, I answer {prefix_for(ctx)}{name} only in the bridged group or channel, "
        "or privately to the people in it."
    )


def not_a_person(ctx: CommandContext) -> str:
    """Said to a post sent as a channel or as the anonymous group admin (no person known)."""
    return (
        f"You are posting as {ctx.invoker.display_name}, which any of its admins can do, "
        "so I cannot tell who you are: send commands from your own account."
    )


async def answer(ctx: CommandContext, lines: Sequence[str], pointer: str) -> None:
    """Short answers go where the command was typed; long ones privately, with a pointer."""
    text = "\n".join(lines)
    if not ctx.in_group or len(lines) <= MAX_GROUP_LINES:
        await ctx.reply(text)
    elif await ctx.reply_private(text):
        await ctx.reply(pointer)
    else:
        await ctx.reply(need_private_chat(ctx))


def usage_line(ctx: CommandContext, spec: CommandSpec) -> str:
    return f"Usage: {prefix_for(ctx)}{spec.usage}"
