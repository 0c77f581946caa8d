"""/help, generated from the registry's own specs, and Telegram's /start."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bridge.i18n import N_, Translations
from handlers.context import CommandContext
from handlers.replies import answer_in, prefix_for, quote, usage_line
from handlers.spec import CommandSpec

log = logging.getLogger(__name__)


def help_spec(specs: Sequence[CommandSpec]) -> CommandSpec:
    """The /help command over specs (the registry's own list, /help itself included)."""

    async def show_help(ctx: CommandContext, args: str) -> None:
        p = prefix_for(ctx)
        wanted = args.strip().lstrip("/!" + ctx.irc_prefix).lower()
        if not wanted:

            def listing(tr: Translations) -> list[str]:
                _ = tr.gettext
                # Translators: after a moderators' command in the /help list.
                mods = " " + _("(moderators)")
                lines = [
                    f"{p}{_(s.usage)} — {_(s.summary)}" + (mods if s.moderator_only else "")
                    for s in specs
                    if not s.hidden
                ]
                # Translators: the last line of /help; %(help)s is e.g. "/help <command>".
                lines.append(_("Details: %(help)s") % {"help": p + _("help <command>")})
                return lines

            pointer = ctx.tr.gettext("I sent you the list of commands privately.")
            await answer_in(ctx, listing, pointer)
            return
        spec = next((s for s in specs if s.name == wanted), None)
        if spec is None:
            # Translators: %(name)s is what the person typed, quoted; %(help)s is /help or !help.
            text = ctx.tr.gettext("There is no command %(name)s. %(help)s lists them all.")
            await ctx.reply(text % {"name": quote(wanted), "help": p + "help"})
            return

        def details(tr: Translations) -> list[str]:
            text = tr.gettext(spec.details)
            text = text % dict(spec.facts) if spec.facts else text
            lines = [usage_line(ctx, spec, tr), text.replace("{p}", p)]
            if spec.moderator_only:
                lines.append(tr.gettext("Moderators only."))
            return lines

        # Translators: %(command)s is a command, e.g. /whois.
        pointer = ctx.tr.gettext("I sent you the help for %(command)s privately.")
        await answer_in(ctx, details, pointer % {"command": p + spec.name})

    return CommandSpec(
        name="help",
        # Translators: a command's usage; the command's name (first word) stays in English.
        usage=N_("help [command]"),
        summary=N_("list the commands, or explain one"),
        details=N_("Without a command: one line per command. With one: its usage and details."),
        handler=show_help,
        open_to_anyone=True,
    )


async def _start(ctx: CommandContext, args: str) -> None:
    p = prefix_for(ctx)
    # Translators: the greeting of /start; %(name)s is the person's name, %(help)s and
    # %(join)s the commands /help and /join as typed.
    text = ctx.tr.gettext(
        "Hello %(name)s! I relay the bridged group and keep its members roster. "
        "%(help)s lists the commands; %(join)s puts you on the roster."
    )
    await ctx.reply(
        text % {"name": ctx.invoker.display_name, "help": p + "help", "join": p + "join"}
    )


START_SPEC = CommandSpec(
    name="start",
    usage="start",
    summary=N_("say hello (Telegram sends it when you open a chat with the bot)"),
    # Translators: {p} is the command prefix (/ or !), keep it as it is.
    details=N_("Answers with a greeting and points to {p}help."),
    handler=_start,
    open_to_anyone=True,
    hidden=True,
)
"""Telegram's /start, what a person sends first in a private chat with the bot: answers that
tell people to press Start must not lead to "there is no command start"."""
