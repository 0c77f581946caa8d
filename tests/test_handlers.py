"""Every roster command through the registry, with a real store and recording replies."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace

import pytest

from bridge.errors import UsageError
from bridge.model import Author, ChatId, Message, MessageKind, Network, NickChange, UserId
from bridge.roles import is_moderator
from bridge.rules import parse_moderator
from handlers.context import IRC_FILE_MAX_LINES, CommandContext
from handlers.registry import CommandRegistry, build_registry
from handlers.spec import CommandSpec
from storage.roster_model import Identity, Member
from storage.roster_store import RosterStore
from tests.support.handlers import (
    IRC_CHANNEL,
    FakePresence,
    Recorder,
    handled,
    irc_author,
    make_ctx,
    make_rig,
    make_router,
    said,
    tg_author,
)

ALICE = tg_author(1001, "Alice Liddell", "alice")
BOB = irc_author("bob", account="bob")
MODERATORS = (parse_moderator("telegram:1001"), parse_moderator("irc:account:modaccount"))
FailingInserts = Callable[[str], AbstractAsyncContextManager[None]]
TABLES = ("members", "identities", "interests", "link_codes", "exports")
HOSTILE = [
    '"',
    "'",
    "%",
    "_",
    "'; DROP TABLE members; --",
    "<b>bold</b> *x* [a](http://e.x)",
    "bad\x00\x1b[31mred\r\nPRIVMSG #x :hi",
    "x" * 10_000,
]


async def run(
    registry: CommandRegistry,
    store: RosterStore,
    author: Author,
    line: str,
    **kwargs: object,
) -> Recorder:
    """Dispatch "name args" as the router would, returning what was said."""
    ctx, rec = make_ctx(store, author, **kwargs)  # type: ignore[arg-type]
    name, _, args = line.partition(" ")
    await registry.dispatch(ctx, name, args)
    return rec


async def snapshot(store: RosterStore) -> dict[str, list[tuple[object, ...]]]:
    dump = {}
    for table in TABLES:
        async with store.db.conn.execute(f"SELECT * FROM {table}") as cur:  # noqa: S608
            dump[table] = [tuple(r) for r in await cur.fetchall()]
    return dump


# ----------------------------------------------------------------------- help


async def test_help_lists_every_command_once(registry: CommandRegistry, store: RosterStore) -> None:
    names = [s.name for s in registry.specs]
    assert names == [
        "help", "join", "interests", "whois", "members", "names", "leave", "link", "listed",
        "askme", "ask", "language", "export", "remove", "untag",
    ]  # fmt: skip
    rec = await run(registry, store, ALICE, "help", private=True)
    lines = rec.last.splitlines()
    assert len(lines) == len(names) + 1
    assert lines[3].startswith("/whois <name or interest> — ")
    assert "(moderators)" in lines[12]


async def test_help_in_group_goes_private(registry: CommandRegistry, store: RosterStore) -> None:
    rec = await run(registry, store, BOB, "help")
    assert rec.replies == ["I sent you the list of commands privately."]
    assert rec.private[0].splitlines()[1].startswith("!join")


async def test_help_for_one_command(registry: CommandRegistry, store: RosterStore) -> None:
    rec = await run(registry, store, BOB, "help interests")
    assert rec.last.startswith("Usage: !interests [tag, tag, … | +tag -tag]\n")
    assert "!interests +lua -gadgets" in rec.last
    rec = await run(registry, store, BOB, "help nosuch")
    assert rec.last == 'There is no command "nosuch". !help lists them all.'


# ----------------------------------------------------------------------- join


async def test_join_and_join_again(registry: CommandRegistry, store: RosterStore) -> None:
    rec = await run(registry, store, ALICE, "join")
    assert rec.last.startswith("Welcome, Alice Liddell: you are on the roster.")
    rec = await run(registry, store, ALICE, "join")
    assert rec.last.startswith("Alice Liddell, you are already a member (since ")
    assert (await store.stats()).member_count == 1


async def test_unverified_irc_join_says_so(registry: CommandRegistry, store: RosterStore) -> None:
    rec = await run(registry, store, irc_author("carol", account=None), "join")
    assert "marked unverified" in rec.last
    member = (await store.find_members("carol"))[0].member
    assert member.identities[0].key == "mask:carol!~bob@example.org"


# ------------------------------------------------------------------ interests


async def test_interests_set_edit_show(registry: CommandRegistry, store: RosterStore) -> None:
    rec = await run(registry, store, ALICE, "interests Python, Translation, gadgets")
    assert rec.last == "You are now a member. Your interests: python, translation, gadgets."
    rec = await run(registry, store, ALICE, "interests +lua -gadgets")
    assert rec.last == "Your interests: python, translation, lua."
    rec = await run(registry, store, ALICE, "interests")
    assert rec.last == "Your interests: python, translation, lua"


async def test_interests_names_rejected_tags(registry: CommandRegistry, store: RosterStore) -> None:
    rec = await run(registry, store, BOB, "interests rust, 50%, " + "y" * 40 + ", ok")
    assert rec.last.startswith("You are now a member. Your interests: rust, ok. Not accepted: ")
    assert "\"50%\": '%' is not allowed (only letters, digits and - + # . _)" in rec.last
    assert ": longer than 32 characters." in rec.last


async def test_interests_all_rejected_changes_nothing(
    registry: CommandRegistry, store: RosterStore
) -> None:
    await run(registry, store, ALICE, "interests python")
    before = await snapshot(store)
    rec = await run(registry, store, ALICE, "interests '; DROP TABLE members; --")
    assert rec.last.startswith('Nothing changed. Not accepted: "\'; DROP TABLE members; …": ')
    assert await snapshot(store) == before
    rec = await run(registry, store, ALICE, "interests , ,")
    assert rec.last.startswith("Usage: /interests")


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_interests_hostile(
    registry: CommandRegistry, store: RosterStore, hostile: str
) -> None:
    await run(registry, store, ALICE, "interests python")
    before = await snapshot(store)
    rec = await run(registry, store, ALICE, f"interests {hostile}")
    assert rec.last.startswith("Nothing changed. Not accepted: ")
    assert len(rec.last) < 300 and "\x00" not in rec.last and "\r" not in rec.last
    assert await snapshot(store) == before


# ---------------------------------------------------------------------- whois


async def test_whois_usage_and_card(registry: CommandRegistry, store: RosterStore) -> None:
    rec = await run(registry, store, ALICE, "whois")
    assert rec.last == "Usage: /whois <name or interest>"
    await run(registry, store, ALICE, "interests python, lua")
    rec = await run(registry, store, BOB, "whois @ALICE")
    assert rec.last.splitlines()[0].startswith(
        "Alice Liddell — Telegram: Alice Liddell (@alice) — member since "
    )
    assert rec.last.splitlines()[1] == "Interests: python, lua"


async def test_whois_interest_in_group_and_private(
    registry: CommandRegistry, store: RosterStore
) -> None:
    for i in range(13):
        tags = "python" if i % 2 else "python-async, pygame"
        await run(registry, store, tg_author(2000 + i, f"user{i:02}", None), f"interests {tags}")
    rec = await run(registry, store, BOB, "whois py")
    assert len(rec.replies) == 1 and not rec.private
    text = rec.last
    # no exact "py": two matching tags rank before one, then earlier members
    assert text.startswith('13 listing "py": user00 (python-async, pygame), user02 (python-async')
    assert text.endswith(", and 3 more (ask me privately: !whois py)")
    rec = await run(registry, store, BOB, "whois python", private=True)
    lines = rec.last.splitlines()
    assert lines[0] == '13 listing "python":' and len(lines) == 14
    assert lines[1] == "user01" and lines[-1] == "user12 (python-async)"


async def test_whois_no_match_suggests(registry: CommandRegistry, store: RosterStore) -> None:
    await run(registry, store, ALICE, "interests translation, python")
    rec = await run(registry, store, BOB, "whois Pyhton")
    assert rec.last == 'No one lists "pyhton". Closest interests: python'
    rec = await run(registry, store, BOB, "whois quantum")
    assert rec.last == 'No one lists "quantum".'


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_whois_hostile(registry: CommandRegistry, store: RosterStore, hostile: str) -> None:
    await run(registry, store, ALICE, "interests python")
    before = await snapshot(store)
    rec = await run(registry, store, BOB, f"whois {hostile}")
    assert len(rec.replies) == 1 and len(rec.last) < 300, rec.replies
    assert "\x00" not in rec.last and "\r" not in rec.last
    assert "Alice" not in rec.last  # % and _ are not wildcards
    assert await snapshot(store) == before


async def test_many_cards_go_private(registry: CommandRegistry, store: RosterStore) -> None:
    for i in range(3):
        await run(registry, store, tg_author(3000 + i, "Sam", None), "join")
    rec = await run(registry, store, BOB, "whois sam")
    assert rec.replies == ["I sent you the member cards privately."]
    assert len(rec.private[0].splitlines()) == 6
    rec = await run(registry, store, ALICE, "whois sam", recorder=Recorder(private_ok=False))
    assert rec.replies == [
        "I cannot write to you privately yet: open a private chat with @CollabBot, "
        "press Start, then try again."
    ]


# ------------------------------------------------------------- members, names


async def test_members(registry: CommandRegistry, store: RosterStore) -> None:
    rec = await run(registry, store, BOB, "members")
    assert rec.last == "No members yet. Be the first: !join"
    await run(registry, store, ALICE, "interests python, lua")
    await run(registry, store, BOB, "interests python")
    rec = await run(registry, store, BOB, "members")
    assert rec.last == (
        "2 members (1 on Telegram, 1 on IRC). Most common interests: python (2), lua (1)"
    )


async def test_names_both_sides(registry: CommandRegistry, store: RosterStore) -> None:
    presence = FakePresence(nicks=["bob", "carol"], member_count=42, speakers=["Alice", "Dan"])
    rec = await run(registry, store, ALICE, "names", presence=presence)
    assert rec.last == "2 on IRC in #collab: bob, carol"
    assert presence.asked == ["#collab"]
    rec = await run(registry, store, BOB, "names", presence=presence)
    assert rec.last == "Collab has 42 members. Spoke there recently: Alice, Dan."
    rec = await run(registry, store, BOB, "names", presence=FakePresence())
    assert rec.last == "Collab: member count unknown. No one spoke there recently."
    rec = await run(registry, store, ALICE, "names", private=True)
    assert rec.last.startswith("/names only works in a bridged group or channel")


# ---------------------------------------------------------------------- leave


async def test_leave_removes_every_trace(registry: CommandRegistry, store: RosterStore) -> None:
    await run(registry, store, BOB, "interests rust")
    await run(registry, store, ALICE, "interests python, lua")
    await run(registry, store, ALICE, "link")
    rec = await run(registry, store, ALICE, "leave")
    assert rec.last == "Done: I deleted your membership, your identities and your interests."
    dump = repr(await snapshot(store))
    for trace in ("1001", "Alice", "alice", "python", "lua"):
        assert trace not in dump
    assert "rust" in dump  # others keep theirs
    rec = await run(registry, store, ALICE, "leave")
    assert rec.last == "You are not a member, so there is nothing to forget."


# ----------------------------------------------------------------------- link


async def test_link_merges_across_networks(registry: CommandRegistry, store: RosterStore) -> None:
    await run(registry, store, ALICE, "interests python")
    await run(registry, store, BOB, "interests rust")
    rec = await run(registry, store, ALICE, "link")
    assert rec.replies == ["I sent you a link code privately."]
    code = rec.private[0].split("Your link code is ")[1][:6]
    assert f"send !link {code} to me in a private message on IRC" in rec.private[0]
    rec = await run(registry, store, BOB, f"link {code}", private=True)
    assert rec.last == "Linked: Telegram: Alice Liddell (@alice); IRC: bob are now one member."
    assert (await store.stats()).member_count == 1
    rec = await run(registry, store, BOB, "whois alice")
    assert "Interests: python, rust" in rec.last
    rec = await run(registry, store, ALICE, "leave")
    assert "on both networks" in rec.last
    assert (await snapshot(store))["identities"] == []


async def test_link_code_in_public_is_voided(registry: CommandRegistry, store: RosterStore) -> None:
    rec = await run(registry, store, ALICE, "link", private=True)
    code = rec.private[0].split("Your link code is ")[1][:6]
    rec = await run(registry, store, BOB, f"link {code}")
    assert rec.last.startswith("Link codes only work in a private chat with me")
    rec = await run(registry, store, BOB, f"link {code}", private=True)
    assert rec.last == "That code is unknown or has expired: ask for a new one."


async def test_link_needs_private_chat(registry: CommandRegistry, store: RosterStore) -> None:
    rec = await run(registry, store, ALICE, "link", recorder=Recorder(private_ok=False))
    assert rec.last.startswith("I cannot write to you privately yet")
    rec = await run(registry, store, BOB, "link NOTACODE!", private=True)
    assert rec.last == "That is not a link code: codes are 6 characters."


# --------------------------------------------------------------------- export


async def test_export_refused_for_non_moderators(
    registry: CommandRegistry, store: RosterStore
) -> None:
    await run(registry, store, ALICE, "join")
    impostor = irc_author("modaccount", account=None)  # a moderator's name, not logged in
    for author in (BOB, impostor):
        moderator = is_moderator(author, MODERATORS)
        assert not moderator
        rec = await run(registry, store, author, "export", moderator=moderator)
        assert rec.replies == ["Sorry, !export is for moderators only."]
        assert not rec.files and not rec.private
    assert (await snapshot(store))["exports"] == []


async def test_export_privately_and_recorded(registry: CommandRegistry, store: RosterStore) -> None:
    await run(registry, store, ALICE, "interests python, c++")
    await run(registry, store, irc_author("=cmd|calc", account=None), "interests -x")
    await run(registry, store, irc_author("=cmd|calc", account=None), "join")
    moderator = irc_author("mod", account="ModAccount")
    assert is_moderator(moderator, MODERATORS)
    rec = await run(registry, store, moderator, "export", moderator=True)
    assert rec.replies == ["I sent you the roster privately (CSV and JSON)."]
    assert [f[0] for f in rec.files] == ["roster.csv", "roster.json"]
    rows = list(csv.DictReader(io.StringIO(rec.files[0][1].decode("utf-8-sig"))))
    assert rows[0]["telegram_id"] == "1001" and rows[0]["interests"] == "python;c++"
    assert rows[1]["irc_nick"] == "'=cmd|calc" and rows[1]["verified"] == "no"
    assert json.loads(rec.files[1][1])[1]["irc_nick"] == "=cmd|calc"
    exports = (await snapshot(store))["exports"]
    assert [(e[1], e[3]) for e in exports] == [("irc:account:ModAccount", 2)]


async def test_export_without_private_chat(registry: CommandRegistry, store: RosterStore) -> None:
    rec = await run(
        registry, store, ALICE, "export", moderator=True, recorder=Recorder(files_ok=False)
    )
    assert rec.last.startswith("I cannot write to you privately yet: open a private chat")
    assert (await snapshot(store))["exports"] == []


# ------------------------------------------------------------ the boundary


async def test_rate_limit_per_invoker(store: RosterStore) -> None:
    now = [0.0]
    reg = CommandRegistry(build_registry(3).specs, 3, clock=lambda: now[0])
    rec = Recorder()
    ctx, _ = make_ctx(store, BOB, recorder=rec)
    for _ in range(5):
        await reg.dispatch(ctx, "members", "")
    assert rec.replies[3] == "Slow down, please: at most 3 commands a minute."
    assert len(rec.replies) == 4  # the fifth is silence
    other = await run(reg, store, ALICE, "members")
    assert len(other.replies) == 1
    now[0] = 61.0
    await reg.dispatch(ctx, "members", "")
    assert len(rec.replies) == 5 and rec.last.startswith("No members yet")


async def boom(ctx: CommandContext, args: str) -> None:
    raise RuntimeError("database on fire")


async def usage(ctx: CommandContext, args: str) -> None:
    raise UsageError()


async def test_errors_become_replies(store: RosterStore, caplog: pytest.LogCaptureFixture) -> None:
    reg = CommandRegistry(
        [
            CommandSpec("boom", "boom", "s", "d", boom),
            CommandSpec("use", "use <x>", "s", "d", usage),
        ],
        10,
    )
    with caplog.at_level(logging.ERROR):
        rec = await run(reg, store, ALICE, "boom")
    assert rec.last.startswith("Sorry, that failed. (ref ")
    assert "database on fire" in caplog.text
    assert (await run(reg, store, BOB, "use")).last == "Usage: !use <x>"
    assert (await run(reg, store, BOB, "nope")).last.startswith('There is no command "nope".')


async def test_dispatch_survives_a_failing_reply(
    store: RosterStore, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(text: str) -> None:
        raise ConnectionError("gone")

    ctx, _ = make_ctx(store, ALICE)
    ctx = replace(ctx, reply=broken)
    with caplog.at_level(logging.ERROR):
        await build_registry(10).dispatch(ctx, "members", "")
    assert "gone" in caplog.text or "failed" in caplog.text


def test_registry_rejects_duplicates() -> None:
    spec = CommandSpec("a", "a", "s", "d", usage)
    with pytest.raises(ValueError, match="duplicate"):
        CommandRegistry([spec, spec], 5)
    assert not build_registry(5).knows("DROP") and build_registry(5).knows("WHOIS")


# --------------------------------------------------- a configured IRC prefix


async def test_every_irc_answer_uses_the_configured_prefix(
    registry: CommandRegistry, store: RosterStore
) -> None:
    async def on_irc(line: str, **kwargs: object) -> Recorder:
        return await run(registry, store, BOB, line, irc_prefix=".", **kwargs)

    rec = await on_irc("help", private=True)
    lines = rec.last.splitlines()
    assert lines[1].startswith(".join — ") and lines[-1] == "Details: .help <command>"
    rec = await on_irc("help .interests")
    assert rec.last.startswith("Usage: .interests [tag, tag, … | +tag -tag]\n")
    assert ".interests python, translation, gadgets sets the list" in rec.last
    assert (await on_irc("nosuch")).last == 'There is no command "nosuch". .help lists them all.'
    assert (await on_irc("whois")).last == "Usage: .whois <name or interest>"
    assert (await on_irc("export")).last == "Sorry, .export is for moderators only."
    assert (await on_irc("members")).last == "No members yet. Be the first: .join"
    assert (await on_irc("names", private=True)).last.startswith(".names only works")
    assert (await on_irc("join")).last.startswith(
        "Welcome, bob: you are on the roster. Say what you work on: .interests python"
    )
    # Telegram answers that tell people what to type on IRC use it too.
    rec = await run(registry, store, ALICE, "link", irc_prefix=".")
    code = rec.private[0].split("Your link code is ")[1][:6]
    assert f"send .link {code} to me in a private message on IRC" in rec.private[0]
    rec = await run(registry, store, ALICE, "link ABCDEF", irc_prefix=".")
    assert rec.last.endswith("Ask for a new one with .link on your other network.")
    rec = await run(registry, store, ALICE, "help", private=True, irc_prefix=".")
    assert rec.last.splitlines()[1].startswith("/join — ")


# ------------------------------------------------------------ atomic commands


async def test_interests_before_join_is_one_transaction(
    registry: CommandRegistry, store: RosterStore, failing_inserts: FailingInserts
) -> None:
    async with failing_inserts("interests"):  # the disk fills between join and interests
        rec = await run(registry, store, ALICE, "interests python, lua")
    assert rec.last.startswith("Sorry, that failed. (ref ")
    assert await snapshot(store) == {t: [] for t in TABLES}  # not joined without interests


async def test_link_before_join_is_one_transaction(
    registry: CommandRegistry, store: RosterStore, failing_inserts: FailingInserts
) -> None:
    async with failing_inserts("link_codes"):  # storing the code fails
        rec = await run(registry, store, ALICE, "link")
    assert rec.last.startswith("Sorry, that failed. (ref ") and not rec.private
    assert await snapshot(store) == {t: [] for t in TABLES}  # not joined without a code


# --------------------------------------------------------- names kept current


async def test_router_refreshes_names_only_when_they_change(
    registry: CommandRegistry, store: RosterStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    router, _ = make_router(store, registry)
    asked: list[str] = []
    refresh = store.refresh_identity

    async def counting(identity: Identity) -> Member | None:
        asked.append(identity.display_name)
        return await refresh(identity)

    monkeypatch.setattr(store, "refresh_identity", counting)
    await handled(router, said(ALICE, "/join"))
    for n in range(3):
        await handled(router, said(ALICE, "hello", n=n))
    assert asked == ["Alice Liddell"]  # the first sighting only, not one per message
    renamed = tg_author(1001, "Alicia", "alicia")
    await handled(router, said(renamed, "new name", n=4))
    await handled(router, said(renamed, "same name", n=5))
    assert asked == ["Alice Liddell", "Alicia"]
    member = await store.get_member_by_identity(Network.TELEGRAM, "1001")
    assert member is not None and member.identities[0] == Identity(
        Network.TELEGRAM, "1001", "Alicia", "alicia", True
    )


async def test_router_follows_an_irc_nick_change_by_account(
    registry: CommandRegistry, store: RosterStore
) -> None:
    rig = make_rig(store, registry)
    router = rig.router
    await handled(router, said(BOB, "!join"))
    # NICK without an account tag: the account comes from what the connector knows.
    rig.irc.accounts["robert"] = "bob"
    untagged = replace(BOB, account=None, user_id=UserId("mask:bob!~bob@example.org"))
    renamed = NickChange("robert")
    nick = Message("nick:1", untagged, IRC_CHANNEL, kind=MessageKind.NICK, detail=renamed)
    await handled(router, nick)
    member = await store.get_member_by_identity(Network.IRC, "account:bob")
    assert member is not None and member.identities[0].handle == "robert"
    assert member.display_name == "robert"
    # A member known only by nick!user@host cannot be followed: nothing else changes.
    carol = irc_author("carol", account=None)
    await handled(router, said(carol, "!join"))
    before = await snapshot(store)
    await handled(router, replace(nick, author=carol, detail=NickChange("caroline")))
    assert await snapshot(store) == before


# ------------------------------------------------------------- export on IRC


async def test_irc_export_over_the_line_limit_says_what_to_do_instead(
    registry: CommandRegistry, store: RosterStore
) -> None:
    router, outbox = make_router(store, registry, roster='moderators = ["irc:account:bob"]')
    private = replace(IRC_CHANNEL, chat_id=ChatId("bob"), is_private=True)
    tags = [f"interest-number-{k}" for k in range(10)]
    for i in range(IRC_FILE_MAX_LINES):  # the CSV header makes it one line too many
        person = Identity(Network.TELEGRAM, str(5000 + i), f"user{i}")
        member, _ = await store.join(person)
        await store.join_with_interests(person, tags, edit=False)
    await handled(router, said(BOB, "export", chat=private))
    advice = (
        "too long for IRC (more than 200 lines). Send /export to me in a private chat on "
        "Telegram, or ask someone with shell access to run: tgirc-bridge export --config "
        "FILE --format "
    )
    assert outbox.irc_lines("bob") == [
        f"--- roster.csv: {advice}csv",
        f"--- roster.json: {advice}json",  # one JSON line, but over 200 IRC lines long
    ]
    # One member fewer: the CSV fits (a header and 199 rows); each file is judged alone.
    await store.forget(member.id)
    outbox.items.clear()
    await handled(router, said(BOB, "export", chat=private, n=1))
    lines = outbox.irc_lines("bob")
    assert lines[0].startswith("--- roster.csv: Members roster: 199 members, ")
    assert lines[1].startswith("member_id,display_name,") and lines[200].startswith("199,user198,")
    assert lines[201:] == [f"--- roster.json: {advice}json"]
