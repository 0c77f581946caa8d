"""/help, generated from the registry's own specs, and Telegram's /start."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from handlers.context import CommandContext
from handlers.replies import answer, prefix_for, quote, usage_line
from handlers.spec import CommandSpec

log = logging.getLogger(__name__)


def help_spec(specs: Sequence[CommandSpec]) -> CommandSpec:
    """The /help command over specs (the registry's own list, /help itself included)."""

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
        open_to_anyone=True,
    )


async def _start(ctx: CommandContext, args: str) -> None:
    p = prefix_for(ctx)
    await ctx.reply(
        f"Hello {ctx.invoker.display_name}! I relay the bridged group and keep its members "
        f"roster. {p}help lists the commands; {p}join puts you on the roster."
    )


START_SPEC = CommandSpec(
    name="start",
    usage="start",
    summary="say hello (Telegram sends it when you open a chat with the bot)",
    details="Answers with a greeting and points to {p}help.",
    handler=_start,
    open_to_anyone=True,
    hidden=True,
)
"""Telegram's /start, what a person sends first in a private chat with the bot: answers that
tell people to press Start must not lead to "there is no command start"."""
