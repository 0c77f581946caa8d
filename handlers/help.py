"""/help from the registry's specs, plus the reply helpers every command family shares."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bridge.model import Network
from handlers.context import CommandContext

if TYPE_CHECKING:
    from handlers.registry import CommandSpec

log = logging.getLogger(__name__)

MAX_GROUP_LINES = 5


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
    cleaned = "".join("?" if unicodedata.category(c)[0] == "C" else c for c in text)
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


def help_spec(specs: Sequence[CommandSpec]) -> CommandSpec:
    """The /help command over specs (the registry's own list, /help itself included)."""
    from handlers.registry import CommandSpec

    async def show_help(ctx: CommandContext, args: str) -> None:
        p = prefix_for(ctx)
        wanted = args.strip().lstrip("/!" + ctx.irc_prefix).lower()
        if not wanted:
            lines = [
                f"{p}{s.usage} — {s.summary}" + (" (moderators)" if s.moderator_only else "")
                for s in specs
                if not s.hidden
            ]
            lines.append(f"Details: {p}help <command>")
            await answer(ctx, lines, "I sent you the list of commands privately.")
            return
        spec = next((s for s in specs if s.name == wanted), None)
        if spec is None:
            await ctx.reply(f"There is no command {quote(wanted)}. {p}help lists them all.")
            return
        lines = [usage_line(ctx, spec), spec.details.replace("{p}", p)]
        if spec.moderator_only:
            lines.append("Moderators only.")
        await answer(ctx, lines, f"I sent you the help for {p}{spec.name} privately.")

    return CommandSpec(
        name="help",
        usage="help [command]",
        summary="list the commands, or explain one",
        details="Without a command: one line per command. With one: its usage and details.",
        handler=show_help,
    )


def start_spec() -> CommandSpec:
    """Telegram's /start: what a person sends first in a private chat with the bot.

    need_private_chat() tells people to press Start; the bot must not then answer that
    /start is an unknown command.
    """
    from handlers.registry import CommandSpec

    async def start(ctx: CommandContext, args: str) -> None:
        p = prefix_for(ctx)
        await ctx.reply(
            f"Hello {ctx.invoker.display_name}! I relay the bridged group and keep its members "
            f"roster. {p}help lists the commands; {p}join puts you on the roster."
        )

    return CommandSpec(
        name="start",
        usage="start",
        summary="say hello (Telegram sends it when you open a chat with the bot)",
        details="Answers with a greeting and points to {p}help.",
        handler=start,
        hidden=True,
    )
