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

from bridge.display_names import is_control
from bridge.errors import UsageError
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
    choice = args.strip().lower()
    if choice and choice not in YES | NO:
        raise UsageError()
    p = prefix_for(ctx)
    identity = identity_from_author(ctx.invoker)
    if not choice:
        member = await ctx.roster.get_member_by_identity(identity.network, identity.key)
        if member is None:
            await ctx.reply(f"You are not a member, so nobody can ask you. {p}join first.")
        elif await takes_questions(ctx.roster.db.conn, member.id):
            await ctx.reply(
                f"You take questions on your interests ({p}ask). {p}askme no stops them."
            )
        else:
            await ctx.reply(
                f"You take no questions. {p}askme yes lets members who {p}ask about one of "
                "your interests reach you privately."
            )
        return
    if choice in YES:
        member, _ = await ctx.roster.join(identity)  # being asked needs a member, as /listed
        await set_askme(ctx.roster.db, identity, True)
        topics = ", ".join(member.interests) or f"none yet: {p}interests sets them"
        await ctx.reply(
            f"Done: members who {p}ask about one of your interests ({topics}) reach you "
            f"privately; they are told how many were asked, never who. {p}askme no stops it."
        )
        return
    if await set_askme(ctx.roster.db, identity, False) is None:
        await ctx.reply("You are not a member, so nobody can ask you.")
        return
    await ctx.reply("Done: you take no more questions.")


async def ask(ctx: CommandContext, args: str) -> None:
    courier = ctx.courier
    if courier is None:
        await ctx.reply("Questions are not available here.")
        return
    raw_tag, question = [*args.split(None, 1), "", ""][:2]
    question = one_line(question)
    if not raw_tag or not question:
        raise UsageError()
    p = prefix_for(ctx)
    try:
        tag = normalise_tag(raw_tag)
    except TagError as exc:
        raise UsageError(f"{exc} Usage: {p}ask <interest> <question>") from None
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
        await ctx.reply(
            f"You asked {rules.per_day} questions in the last 24 hours, the most there is; "
            f"your next is possible from {when}. Nobody was asked."
        )
        return
    found = await store.recipients(tag, asker, rules.max_recipients, rules.received_per_day)
    if not found:
        await ctx.reply(
            f"Nobody who takes questions on {tag} can be asked now. "
            f"{p}whois {tag} shows who lists it."
        )
        return
    await store.record_ask(asker)
    who = courier.whereabouts(ctx.invoker, ctx.chat)
    reaches = await asyncio.gather(
        *(
            courier.send(r.identity, _body(ctx, r.identity.network, tag, who, question), asker)
            for r in found
        )
    )
    now = sum(1 for r in reaches if r is Reach.NOW)
    later = sum(1 for r in reaches if r is Reach.LATER)
    asked = [
        r.member_id for r, how in zip(found, reaches, strict=True) if how is not Reach.UNREACHABLE
    ]
    await store.record_received(asked, now=now, later=later)
    await ctx.reply(_summary(tag, now, later, len(found) - now - later))


def _summary(tag: str, now: int, later: int, unreachable: int) -> str:
    """The asker's one answer: counts, never names."""
    reached = []
    if now:
        reached.append(f"went to {_members(now)} now")
    if later:
        more = " more" if now else ""
        reached.append(f"will reach {_members(later)}{more} when next seen on IRC")
    text = f"Your question on {tag} " + (" and ".join(reached) or "reached nobody")
    if unreachable:
        text += f"; {_members(unreachable)} could not be reached (no private chat with me yet)"
    return text + "."


def _members(n: int) -> str:
    return f"{n} member" if n == 1 else f"{n} members"


def _body(ctx: CommandContext, network: Network, tag: str, who: str, question: str) -> str:
    """The private message: who asks and how to reach them, the question, how to stop."""
    stop = "/" if network is Network.TELEGRAM else ctx.irc_prefix
    name = one_line(ctx.invoker.display_name) or "someone"
    return (
        f"Question on {tag} from {name} ({who}): \u201c{_cut(question)}\u201d\n"
        f"Answer them there if you can. You get this because you said {stop}askme yes; "
        f"{stop}askme no stops these."
    )


def _cut(question: str) -> str:
    return question if len(question) <= QUESTION_MAX else question[: QUESTION_MAX - 1] + "…"


def one_line(text: str) -> str:
    """User text on one line: line breaks and tabs become spaces, controls go."""
    spaced = "".join(" " if c in "\r\n\t\v\f\x85\u2028\u2029" else c for c in text)
    return " ".join("".join(c for c in spaced if not is_control(c)).split())


ASKME_SPEC = CommandSpec(
    name="askme",
    usage="askme [yes|no]",
    summary="show or choose whether members may ask you about your interests",
    details="Off by default. {p}askme yes lets anyone of the community who types {p}ask "
    "<interest> <question> about one of your interests reach you privately (at most a few "
    "questions a day; on Telegram only once you pressed Start in a private chat with me; on "
    "IRC when you are on a bridged channel, or when you next join one). {p}askme no stops "
    "it; {p}askme alone shows your choice; {p}leave ends it with everything else.",
    handler=askme,
)
ASK_SPEC = CommandSpec(
    name="ask",
    usage="ask <interest> <question>",
    summary="ask the members who know an interest, privately",
    details="Sends your question privately to the members who list that interest and said "
    "{p}askme yes (a few, the most recently active first), with your name and how to reach "
    "you. You are told how many were asked, never who. A few questions a day per person.",
    handler=ask,
)
