"""/listed through the registry on both networks, and the directory link in answers."""

from __future__ import annotations

from dataclasses import replace

from bridge.model import Author
from handlers.registry import CommandRegistry
from storage.directory import DirectoryStore
from storage.roster_store import RosterStore
from tests.support.handlers import Recorder, irc_author, make_ctx, tg_author

ALICE = tg_author(1001, "Alice Liddell", "alice")
BOB = irc_author("bob", account="bob")
URL = "https://bridge.example.org"


async def run(
    registry: CommandRegistry,
    store: RosterStore,
    author: Author,
    line: str,
    *,
    url: str | None = None,
    private: bool = False,
) -> Recorder:
    ctx, rec = make_ctx(store, author, private=private)
    ctx = replace(ctx, directory_url=url)
    name, _, args = line.partition(" ")
    await registry.dispatch(ctx, name, args)
    return rec


async def listed_names(store: RosterStore) -> list[str]:
    page = await DirectoryStore(store.db).members_page()
    return [m.display_name for m in page.members]


async def test_listed_is_off_by_default_and_shown(
    registry: CommandRegistry, store: RosterStore
) -> None:
    rec = await run(registry, store, ALICE, "listed")
    assert rec.last == "You are not a member, so you are not listed. /join first."
    await run(registry, store, ALICE, "join")
    rec = await run(registry, store, ALICE, "listed")
    assert rec.last.startswith("You are not listed in the members directory. /listed yes puts")
    assert await listed_names(store) == []


async def test_listed_yes_then_no_on_telegram(
    registry: CommandRegistry, store: RosterStore
) -> None:
    rec = await run(registry, store, ALICE, "listed yes", url=URL)
    assert rec.last.startswith(
        f"Done: you are listed in the members directory ({URL}/members), with your names"
    )
    assert await listed_names(store) == ["Alice Liddell"]
    rec = await run(registry, store, ALICE, "listed", url=URL)
    assert rec.last == (
        f"You are listed in the members directory ({URL}/members). /listed no takes you out."
    )
    rec = await run(registry, store, ALICE, "listed no")
    assert rec.last == (
        "Done: you are not in the members directory any more (you stay on the roster; "
        "/leave deletes you)."
    )
    assert await listed_names(store) == []
    member = await store.get_member_by_identity(ALICE.network, ALICE.user_id)
    assert member is not None  # still on the roster


async def test_listed_on_irc_uses_the_irc_prefix(
    registry: CommandRegistry, store: RosterStore
) -> None:
    rec = await run(registry, store, BOB, "listed YES", private=True)
    assert rec.last.endswith("!listed no undoes it.")
    assert await listed_names(store) == ["bob"]
    rec = await run(registry, store, BOB, "listed maybe")
    assert rec.last == "Usage: !listed [yes|no]"
    rec = await run(registry, store, BOB, "leave")
    assert await listed_names(store) == []


async def test_listed_no_for_a_stranger_stores_nothing(
    registry: CommandRegistry, store: RosterStore
) -> None:
    rec = await run(registry, store, BOB, "listed no")
    assert rec.last == "You are not a member, so you are not listed."
    assert (await store.stats()).member_count == 0


async def test_help_lists_listed(registry: CommandRegistry, store: RosterStore) -> None:
    rec = await run(registry, store, ALICE, "help", private=True)
    assert "/listed [yes|no] — show or choose whether the web directory lists you" in rec.last
    rec = await run(registry, store, ALICE, "help listed", private=True)
    assert rec.last.startswith("Usage: /listed [yes|no]\nOff by default.")


async def test_answers_listing_members_end_with_the_link(
    registry: CommandRegistry, store: RosterStore
) -> None:
    await run(registry, store, ALICE, "interests python, c++")
    await run(registry, store, BOB, "interests python")
    rec = await run(registry, store, BOB, "whois python", url=URL)
    assert rec.last == (
        '2 listing "python": Alice Liddell, bob.\n'
        f"Listed members on the web: {URL}/members?q=python"
    )
    rec = await run(registry, store, BOB, "whois c++", url=URL, private=True)
    assert rec.last.endswith(f"Listed members on the web: {URL}/members?q=c%2B%2B")
    rec = await run(registry, store, BOB, "whois alice", url=URL)
    assert rec.last.splitlines()[-1] == f"Listed members on the web: {URL}/members?q=alice"
    rec = await run(registry, store, BOB, "members", url=URL)
    assert rec.last.endswith(f"\nListed members on the web: {URL}/members")
    rec = await run(registry, store, BOB, "whois python")  # no [web]: no link
    assert rec.last == '2 listing "python": Alice Liddell, bob.'
