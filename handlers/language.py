"""/language: which language the bot answers a person in (bridge/i18n.py).

A choice overrides what the person's Telegram app says; it is kept (storage/languages.py)
with the member, or by Telegram id, or for 30 days by an IRC stranger's identity.
"""

from __future__ import annotations

from bridge.i18n import N_, language_name, match, shipped, translations
from handlers.context import CommandContext
from handlers.replies import prefix_for, quote
from handlers.spec import CommandSpec

AUTO = frozenset({"auto", "default", "reset"})


def _choices() -> str:
    return ", ".join(f"{code} ({language_name(code)})" for code in shipped())


async def language(ctx: CommandContext, args: str) -> None:
    _ = ctx.tr.gettext
    p = prefix_for(ctx)
    wanted = args.strip()
    values = {
        "language": language_name(ctx.language),
        "choices": _choices(),
        "example": f"{p}language {shipped()[0]}",
        "auto": p + "language auto",
    }
    if not wanted:
        # Translators: %(language)s is a language's name in itself (Deutsch, Français);
        # %(choices)s a list like "de (Deutsch), en (English)"; %(example)s a command such
        # as /language de; %(auto)s is /language auto.
        text = _(
            "I answer you in %(language)s. I speak: %(choices)s. %(example)s chooses one; "
            "%(auto)s goes back to your app's language."
        )
        await ctx.reply(text % values)
        return
    if ctx.languages is None:
        await ctx.reply(_("Sorry, I cannot keep a choice of language here."))
        return
    if wanted.lower() in AUTO:
        await ctx.languages.choose(ctx.invoker, None)
        await ctx.reply(_("Done: I answer you in your app's language again."))
        return
    chosen = match(wanted)
    if chosen is None:
        # Translators: %(wanted)s is what the person typed, quoted; %(choices)s a list like
        # "de (Deutsch), en (English)".
        text = _("I do not speak %(wanted)s. I speak: %(choices)s.")
        await ctx.reply(text % {**values, "wanted": quote(wanted, 16)})
        return
    await ctx.languages.choose(ctx.invoker, chosen)
    # Translators: said in the language just chosen; %(language)s is its name in itself.
    text = translations(chosen).gettext("Done: I answer you in %(language)s from now on.")
    await ctx.reply(text % {"language": language_name(chosen)})


SPEC = CommandSpec(
    name="language",
    # Translators: a command's usage; the command's name (first word) stays in English.
    usage=N_("language [code]"),
    summary=N_("show or choose the language I answer you in"),
    # Translators: {p} is the command prefix (/ or !), keep it as it is; "language de" and
    # "language auto" are typed as they are.
    details=N_(
        "Alone: your language and the ones I speak. {p}language de answers you in German "
        "from now on, on both networks if you are a member; {p}language auto goes back to "
        "what your Telegram app says. In a group or channel I answer in its own language."
    ),
    handler=language,
)
