"""/askme yes|no and /ask <interest> <question>: a question reaches, privately, the members
who list that interest and agreed to be asked, and nobody else.

/askme is /listed's twin (off by default; alone it shows the choice). /ask chooses the
recipients (storage.asks: exact tag, /askme yes, not the asker, not past their daily cap,
most recently active first, each once on the network they were last active on), says who
asks and how to reach them, and tells the asker how many were asked, never who. The sending
is the courier's (handlers.courier): the bridge queues it like any private answer.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bridge.display_names import clean_name, is_control
from bridge.errors import UsageError
from bridge.i18n import N_, Translations, translations
from bridge.identity import limit_key
from bridge.model import Network
from handlers.context import CommandContext
from handlers.courier import Reach
from handlers.listing import NO, YES
from handlers.replies import prefix_for
from handlers.spec import CommandSpec
from storage.askme import set_askme, takes_questions
from storage.asks import Asker
from storage.roster_store import identity_from_author
from storage.tags import TagError, normalise_tag

QUESTION_MAX = 500
"""Characters of the question quoted to the recipients; the rest is cut with an ellipsis."""


async def askme(ctx: CommandContext, args: str) -> None:
    _ = ctx.tr.gettext
    choice = args.strip().lower()
    if choice and choice not in YES | NO:
        raise UsageError()
    p = prefix_for(ctx)
    values = {"join": p + "join", "ask": p + "ask", "yes": p + "askme yes", "no": p + "askme no"}
    identity = identity_from_author(ctx.invoker)
    if not choice:
        member = await ctx.roster.get_member_by_identity(identity.network, identity.key)
        if member is None:
            # Translators: %(join)s is /join or !join.
            text = _("You are not a member, so nobody can ask you. %(join)s first.")
        elif await takes_questions(ctx.roster.db.conn, member.id):
            # Translators: %(ask)s is /ask, %(no)s is /askme no (or with ! on IRC).
            text = _("You take questions on your interests (%(ask)s). %(no)s stops them.")
        else:
            # Translators: %(yes)s is /askme yes, %(ask)s is /ask (or with ! on IRC).
            text = _(
                "You take no questions. %(yes)s lets members who %(ask)s about one of "
                "your interests reach you privately."
            )
        await ctx.reply(text % values)
        return
    if choice in YES:
        member, _created = await ctx.roster.join(identity)  # being asked needs a member
        await set_askme(ctx.roster.db, identity, True)
        # Translators: said when a member lists no interests; %(command)s is /interests.
        none = _("none yet: %(command)s sets them") % {"command": p + "interests"}
        topics = ", ".join(member.interests) or none
        # Translators: %(ask)s is /ask, %(no)s is /askme no; %(topics)s a list of interests.
        text = _(
            "Done: members who %(ask)s about one of your interests (%(topics)s) reach you "
            "privately; they are told how many were asked, never who. %(no)s stops it."
        )
        await ctx.reply(text % {**values, "topics": topics})
        return
    if await set_askme(ctx.roster.db, identity, False) is None:
        await ctx.reply(_("You are not a member, so nobody can ask you."))
        return
    await ctx.reply(_("Done: you take no more questions."))


async def ask(ctx: CommandContext, args: str) -> None:
    _ = ctx.tr.gettext
    courier = ctx.courier
    if courier is None:
        await ctx.reply(_("Questions are not available here."))
        return
    raw_tag, question = [*args.split(None, 1), "", ""][:2]
    question = one_line(question)
    if not raw_tag or not question:
        raise UsageError()
    p = prefix_for(ctx)
    try:
        tag = normalise_tag(raw_tag)
    except TagError as exc:
        # Translators: %(reason)s says why the interest is no tag; %(usage)s is the usage.
        text = _("%(reason)s Usage: %(usage)s")
        usage = p + _("ask <interest> <question>")
        raise UsageError(text % {"reason": exc.said(ctx.tr), "usage": usage}) from None
    rules, store = courier.rules, courier.store
    identity = identity_from_author(ctx.invoker)
    member = await ctx.roster.get_member_by_identity(identity.network, identity.key)
    asker = Asker(
        f"member:{member.id}" if member else ":".join(limit_key(ctx.invoker)),
        member.id if member else None,
    )
    next_at = await store.next_ask_at(asker, rules.per_day)
    if next_at is not None:
        when = datetime.fromtimestamp(next_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        # Translators: %(n)d questions a day at most; %(when)s is a date and time in UTC.
        text = ctx.tr.ngettext(
            "You asked %(n)d question in the last 24 hours, the most there is; your next is "
            "possible from %(when)s. Nobody was asked.",
            "You asked %(n)d questions in the last 24 hours, the most there is; your next is "
            "possible from %(when)s. Nobody was asked.",
            rules.per_day,
        )
        await ctx.reply(text % {"n": rules.per_day, "when": when})
        return
    found, stamp = await store.claim(tag, asker, rules.max_recipients, rules.received_per_day)
    if not found:
        # Translators: %(tag)s is an interest; %(command)s is e.g. /whois python.
        text = _(
            "Nobody who takes questions on %(tag)s can be asked now. "
            "%(command)s shows who lists it."
        )
        await ctx.reply(text % {"tag": tag, "command": f"{p}whois {tag}"})
        return
    await store.record_ask(asker)
    bodies = []
    for r in found:  # each in the recipient's language, where to reach the asker too
        tr = await _language_of(ctx, r.member_id)
        who = courier.whereabouts(ctx.invoker, ctx.chat, tr)
        bodies.append(_body(ctx, r.identity.network, tag, who, question, tr))
    reaches = await asyncio.gather(
        *(courier.send(r.identity, body, asker) for r, body in zip(found, bodies, strict=True))
    )
    now = sum(1 for r in reaches if r is Reach.NOW)
    later = sum(1 for r in reaches if r is Reach.LATER)
    unreached = [
        r.member_id for r, how in zip(found, reaches, strict=True) if how is Reach.UNREACHABLE
    ]
    await store.settle(unreached, stamp, now=now, later=later)
    await ctx.reply(_summary(ctx.tr, tag, now, later, len(found) - now - later))


async def _language_of(ctx: CommandContext, member_id: int) -> Translations:
    """A recipient's language: their /language choice, else the default."""
    chosen = await ctx.languages.member_language(member_id) if ctx.languages else None
    return translations(chosen or ctx.default_language)


def _summary(tr: Translations, tag: str, now: int, later: int, unreachable: int) -> str:
    """The asker's one answer: counts, never names."""
    n_ = tr.ngettext
    reached = []
    if now:
        # Translators: part of "Your question on %(tag)s went to 3 members now".
        reached.append(
            n_("went to %(n)d member now", "went to %(n)d members now", now) % {"n": now}
        )
    if later:
        if now:
            # Translators: part of "… and will reach 2 more members when next seen on IRC".
            text = n_(
                "will reach %(n)d more member when next seen on IRC",
                "will reach %(n)d more members when next seen on IRC",
                later,
            )
        else:
            # Translators: part of "Your question on %(tag)s will reach 2 members when …".
            text = n_(
                "will reach %(n)d member when next seen on IRC",
                "will reach %(n)d members when next seen on IRC",
                later,
            )
        reached.append(text % {"n": later})
    # Translators: joins the two parts of the answer to /ask.
    how = tr.gettext(" and ").join(reached) or tr.gettext("reached nobody")
    # Translators: %(tag)s is an interest; %(how)s says whom the question reached.
    text = tr.gettext("Your question on %(tag)s %(how)s") % {"tag": tag, "how": how}
    if unreachable:
        # Translators: after the answer to /ask: how many could not get the question.
        more = n_(
            "; %(n)d member could not be reached (no private chat with me yet)",
            "; %(n)d members could not be reached (no private chat with me yet)",
            unreachable,
        )
        text += more % {"n": unreachable}
    return text + "."


def _body(
    ctx: CommandContext, network: Network, tag: str, who: str, question: str, tr: Translations
) -> str:
    """The private message: who asks and how to reach them, the question, how to stop."""
    stop = "/" if network is Network.TELEGRAM else ctx.irc_prefix
    name = one_line(clean_name(ctx.invoker.display_name)) or tr.gettext("someone")  # no bidi
    # Translators: a question sent privately to a member; %(tag)s is an interest,
    # %(name)s who asks, %(who)s where to reach them, %(question)s their words, then
    # %(yes)s and %(no)s are /askme yes and /askme no (or with ! on IRC).
    text = tr.gettext(
        "Question on %(tag)s from %(name)s (%(who)s): \u201c%(question)s\u201d\n"
        "Answer them there if you can. You get this because you said %(yes)s; "
        "%(no)s stops these."
    )
    values = {"tag": tag, "name": name, "who": who, "question": _cut(question)}
    return text % {**values, "yes": stop + "askme yes", "no": stop + "askme no"}


def _cut(question: str) -> str:
    return question if len(question) <= QUESTION_MAX else question[: QUESTION_MAX - 1] + "…"


def one_line(text: str) -> str:
    """User text on one line: line breaks and tabs become spaces, controls go."""
    spaced = "".join(" " if c in "\r\n\t\v\f\x85\u2028\u2029" else c for c in text)
    return " ".join("".join(c for c in spaced if not is_control(c)).split())


ASKME_SPEC = CommandSpec(
    name="askme",
    usage="askme [yes|no]",
    summary=N_("show or choose whether members may ask you about your interests"),
    # Translators: {p} is the command prefix (/ or !), keep it as it is; "askme yes",
    # "askme no" and "ask" are typed as they are.
    details=N_(
        "Off by default. {p}askme yes lets anyone of the community who types {p}ask "
        "<interest> <question> about one of your interests reach you privately (at most a few "
        "questions a day; on Telegram only once you pressed Start in a private chat with me; "
        "on IRC when you are on a bridged channel, or when you next join one). {p}askme no "
        "stops it; {p}askme alone shows your choice; {p}leave ends it with everything else."
    ),
    handler=askme,
)
ASK_SPEC = CommandSpec(
    name="ask",
    # Translators: a command's usage; the command's name (first word) stays in English.
    usage=N_("ask <interest> <question>"),
    summary=N_("ask the members who know an interest, privately"),
    # Translators: {p} is the command prefix (/ or !), keep it as it is.
    details=N_(
        "Sends your question privately to the members who list that interest and said "
        "{p}askme yes (a few, the most recently active first), with your name and how to "
        "reach you. You are told how many were asked, never who. A few questions a day per "
        "person."
    ),
    handler=ask,
)
