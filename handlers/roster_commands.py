"""/join /interests /whois /members /leave /link: the roster, the same from both networks."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bridge.display_names import clean_name
from bridge.errors import PermissionDenied, UsageError
from bridge.identity import IrcKeyKind, limit_key, parse_irc_key
from bridge.model import Network
from handlers.context import CommandContext
from handlers.listing import directory_link, with_link
from handlers.replies import (
    answer,
    community_only,
    need_private_chat,
    other_prefix,
    prefix_for,
    quote,
)
from handlers.spec import CommandSpec
from storage.link_codes import LINK_CODE_TTL, LinkError
from storage.roster_model import (
    MAX_INTERESTS,
    Identity,
    InterestSearch,
    Member,
)
from storage.roster_store import identity_from_author
from storage.tags import MAX_TAG_LENGTH, TagError, normalise_tag

log = logging.getLogger(__name__)

MAX_QUERY = 64
GROUP_HITS = 10
PRIVATE_HITS = 100
SHOWN_REJECTIONS = 5


@dataclass
class InterestRequest:
    """Parsed /interests arguments: set the list, or add/remove (edit)."""

    edit: bool
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def parse_interests(args: str) -> InterestRequest:
    """ "a, b" sets; "+a -b" (or "+a, -b") edits; each rejected item keeps its reason."""
    text = args.strip()
    edit = text[:1] in ("+", "-")
    separated = "," in text or "\n" in text or not edit
    items = re.split(r"[,\n]", text) if separated else text.split()
    request = InterestRequest(edit)
    for item in items:
        raw = item.strip()
        if not raw:
            continue
        sign = "+"
        if edit and raw[0] in "+-":
            sign, raw = raw[0], raw[1:]
        try:
            tag = normalise_tag(raw)
        except TagError as exc:
            request.rejected.append((raw or sign, str(exc)))
            continue
        (request.add if sign == "+" else request.remove).append(tag)
    return request


def _since(member: Member) -> str:
    return datetime.fromtimestamp(member.joined_at, UTC).strftime("%Y-%m-%d")


def _unconfirmed(member: Member) -> str:
    """The mark of a stale member (storage.freshness): kept, found, but not vouched for."""
    if not member.stale:
        return ""
    when = member.confirmed_at if member.confirmed_at is not None else member.joined_at
    return f" (not confirmed since {datetime.fromtimestamp(when, UTC).strftime('%Y-%m-%d')})"


def _describe(identity: Identity) -> str:
    """One identity in a card; never an IRC host (people did not agree to publish it)."""
    if identity.network is Network.TELEGRAM:
        handle = f" (@{identity.handle})" if identity.handle else ""
        return f"Telegram: {identity.display_name}{handle}"
    nick = identity.handle or identity.display_name
    extra = []
    key = parse_irc_key(identity.key)
    if key.kind is IrcKeyKind.ACCOUNT and key.value.casefold() != nick.casefold():
        extra.append(f"account {key.value}")
    if not identity.verified:
        extra.append("unverified")
    return f"IRC: {nick}" + (f" ({', '.join(extra)})" if extra else "")


def card(member: Member) -> list[str]:
    """A member's card in two lines: who, where, since when; then interests."""
    where = "; ".join(_describe(i) for i in member.identities)
    interests = ", ".join(member.interests) if member.interests else "none listed"
    return [
        f"{member.display_name} — {where} — member since {_since(member)}{_unconfirmed(member)}",
        f"Interests: {interests}",
    ]


def _rejections(rejected: list[tuple[str, str]]) -> str:
    shown = [f"{quote(raw, 24)}: {reason}" for raw, reason in rejected[:SHOWN_REJECTIONS]]
    more = len(rejected) - SHOWN_REJECTIONS
    return "Not accepted: " + "; ".join(shown) + (f"; and {more} more." if more > 0 else ".")


async def join(ctx: CommandContext, args: str) -> None:
    member, created = await ctx.roster.join(identity_from_author(ctx.invoker))
    p = prefix_for(ctx)
    if not created:
        await ctx.reply(
            f"{member.display_name}, you are already a member (since {_since(member)})."
        )
        return
    text = (
        f"Welcome, {member.display_name}: you are on the roster. "
        f"Say what you work on: {p}interests python, translation"
    )
    if not ctx.invoker.verified:
        text += (
            " (You are not logged in to IRC services, so you are listed by nick!user@host, "
            "marked unverified.)"
        )
    await ctx.reply(text)


async def interests(ctx: CommandContext, args: str) -> None:
    p = prefix_for(ctx)
    identity = identity_from_author(ctx.invoker)
    if not args.strip():
        member, created = await ctx.roster.join(identity)
        hello = "You are now a member. " if created else ""
        if await ctx.roster.confirm(member.id):  # the nudge's answer: shown is confirmed
            hello = "Thank you: your profile is confirmed and stays listed. "
        if member.interests:
            await ctx.reply(f"{hello}Your interests: {', '.join(member.interests)}")
        else:
            await ctx.reply(f"{hello}You list no interests yet: {p}interests python, translation")
        return
    request = parse_interests(args)
    if not (request.add or request.remove or request.rejected):
        raise UsageError()
    notes = [_rejections(request.rejected)] if request.rejected else []
    if not (request.add or request.remove):
        await ctx.reply(" ".join(["Nothing changed.", *notes]))
        return
    update, created = await ctx.roster.join_with_interests(
        identity, request.add, request.remove, edit=request.edit
    )
    if update.over_limit:
        over = ", ".join(update.over_limit[:SHOWN_REJECTIONS])
        notes.append(f"Over the limit of {MAX_INTERESTS}: {over}.")
    listed = ", ".join(update.interests) if update.interests else "none"
    hello = "You are now a member. " if created else ""
    await ctx.reply(" ".join([f"{hello}Your interests: {listed}.", *notes]))


def _hit_lines(search: InterestSearch) -> list[str]:
    lines = []
    for hit in search.hits:
        tags = "" if hit.tags == (search.prefix,) else f" ({', '.join(hit.tags)})"
        lines.append(f"{hit.member.display_name}{tags}{_unconfirmed(hit.member)}")
    return lines


async def whois(ctx: CommandContext, args: str) -> None:
    query = " ".join(args.split())
    if not query:
        raise UsageError()
    if len(query) > MAX_QUERY:
        await ctx.reply(f"That is too long to search for (at most {MAX_QUERY} characters).")
        return
    if clean_name(query) != query:  # emoji, joiners and unassigned code points are fine
        await ctx.reply("Please search for plain text: control characters are not allowed.")
        return
    exact = [m.member for m in await ctx.roster.find_members(query, exact_only=True)]
    if exact:
        await _cards(ctx, exact, query)
        return
    try:
        tag: str | None = normalise_tag(query)
        why = ""
    except TagError as exc:
        tag, why = None, str(exc)
    if tag is not None:
        limit = GROUP_HITS if ctx.in_group else PRIVATE_HITS
        search = await ctx.roster.find_by_interest(tag, limit)
        if search.total:
            await _interest_answer(ctx, search)
            return
    matches = await ctx.roster.find_members(query)  # partial names, only when nothing else
    if matches:
        await _cards(ctx, [m.member for m in matches[:3]], query)
        return
    if tag is None:
        await ctx.reply(f"No member is called {quote(query)}, and it is not an interest: {why}.")
        return
    closest = await ctx.roster.suggest_interests(tag)
    hint = f" Closest interests: {', '.join(closest)}" if closest else ""
    await ctx.reply(f"No one lists {quote(tag)}.{hint}")


async def _cards(ctx: CommandContext, members: list[Member], query: str) -> None:
    lines = [line for m in members for line in card(m)]
    link = directory_link(ctx, query)
    lines += [f"Listed members on the web: {link}"] if link else []
    await answer(ctx, lines, "I sent you the member cards privately.")


async def _interest_answer(ctx: CommandContext, search: InterestSearch) -> None:
    names = _hit_lines(search)
    more = search.total - len(names)
    if ctx.in_group:
        tail = f", and {more} more (ask me privately: {prefix_for(ctx)}whois {search.prefix})"
        text = f"{search.total} listing {quote(search.prefix)}: " + ", ".join(names)
        await ctx.reply(with_link(ctx, text + (tail if more > 0 else "."), search.prefix))
        return
    lines = [f"{search.total} listing {quote(search.prefix)}:", *names]
    if more > 0:
        lines.append(
            f"and {more} more (I list at most {PRIVATE_HITS}; a longer interest narrows it down)."
        )
    await ctx.reply(with_link(ctx, "\n".join(lines), search.prefix))


async def members(ctx: CommandContext, args: str) -> None:
    stats = await ctx.roster.stats(top=10)
    if stats.member_count == 0:
        await ctx.reply(f"No members yet. Be the first: {prefix_for(ctx)}join")
        return
    noun = "member" if stats.member_count == 1 else "members"
    text = (
        f"{stats.member_count} {noun} ({stats.telegram_identities} on Telegram, "
        f"{stats.irc_identities} on IRC)."
    )
    if stats.top_interests:
        text += " Most common interests: " + ", ".join(f"{t} ({n})" for t, n in stats.top_interests)
    await ctx.reply(with_link(ctx, text))


async def leave(ctx: CommandContext, args: str) -> None:
    identity = identity_from_author(ctx.invoker)
    if ctx.courier is not None:  # a member's questions go with the member (ON DELETE CASCADE)
        await ctx.courier.store.forget_asker(":".join(limit_key(ctx.invoker)))
    member = await ctx.roster.get_member_by_identity(identity.network, identity.key)
    if member is None or not await ctx.roster.forget(member.id):
        await ctx.reply("You are not a member, so there is nothing to forget.")
        return
    both = " on both networks" if len(member.identities) > 1 else ""
    await ctx.reply(f"Done: I deleted your membership{both}, your identities and your interests.")


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
    other = "IRC" if ctx.network is Network.TELEGRAM else "Telegram"
    where = "in a private message" if other == "IRC" else "in a private chat"
    text = (
        f"Your link code is {made.code}. Within {minutes} minutes, send "
        f"{other_prefix(ctx)}link {made.code} to me {where} on {other}. "
        "Keep it to yourself: whoever sends it becomes part of your membership."
    )
    if not await ctx.reply_private(text):
        await ctx.reply(need_private_chat(ctx))
    elif ctx.in_group:
        await ctx.reply("I sent you a link code privately.")


async def _redeem(ctx: CommandContext, identity: Identity, code: str) -> None:
    if ctx.in_group:
        await ctx.roster.discard_link_code(code)
        await ctx.reply(
            "Link codes only work in a private chat with me; that code is now void. "
            f"Ask for a new one with {other_prefix(ctx)}link on your other network."
        )
        return
    try:
        linked = await ctx.roster.redeem_link_code(code, identity)
    except LinkError as exc:
        await ctx.reply(str(exc))
        return
    where = "; ".join(_describe(i) for i in linked.member.identities)
    text = f"Linked: {where} are now one member."
    if linked.unlisted:  # told here: the private chat where the person is right now
        text += (
            "\nYou are no longer listed in the members directory: linking took you out, so "
            "that your new identity is not published without your say. "
            f"{prefix_for(ctx)}listed yes lists you again, with both identities."
        )
    await ctx.reply(text)


_SET_EXAMPLE = "{p}interests python, translation, gadgets"
SPECS = (
    CommandSpec(
        name="join",
        usage="join",
        summary="join the members roster",
        details="Adds you to the roster, keyed by your Telegram id or IRC services account "
        "(without one, by nick!user@host, marked unverified). Then: {p}interests.",
        handler=join,
    ),
    CommandSpec(
        name="interests",
        usage="interests [tag, tag, … | +tag -tag]",
        summary="show or set what you work on",
        details=f"No arguments: show yours. {_SET_EXAMPLE} sets the list; {{p}}interests +lua "
        f"-gadgets adds and removes. At most {MAX_INTERESTS} tags of {MAX_TAG_LENGTH} "
        "characters: letters, digits and - + # . _ (spaces become -). Joins you if needed.",
        handler=interests,
    ),
    CommandSpec(
        name="whois",
        usage="whois <name or interest>",
        summary="a member's card, or who lists an interest",
        details="A member's name or handle shows their card. Otherwise the members listing "
        "that interest or one starting with it, best match first: {p}whois py. At most "
        f"{GROUP_HITS} in the group and {PRIVATE_HITS} privately, with how many more.",
        handler=whois,
    ),
    CommandSpec(
        name="members",
        usage="members",
        summary="how many members, and the most common interests",
        details="Counts members on each network and lists the ten most common interests.",
        handler=members,
    ),
    CommandSpec(
        name="leave",
        usage="leave",
        summary="delete yourself from the roster, for good",
        details="Deletes your membership, every linked identity and your interests at once.",
        handler=leave,
    ),
    CommandSpec(
        name="link",
        usage="link [CODE]",
        summary="join your Telegram and IRC identities into one member",
        details="{p}link sends you a one-time code privately (valid 10 minutes); send "
        "link CODE privately to the bot from your other network to merge the two. A member "
        "listed in the web directory is unlisted by it until {p}listed yes.",
        handler=link,
        open_to_anyone=True,  # with a code; the handler asks for the community without one
    ),
)
