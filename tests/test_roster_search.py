"""/whois by interest: the ranking and "and N more" stay right through every roster change.

The store answers from tag_counts and interests.shared (migration 0003) instead of grouping
every holder, so these tests check the answer against one computed from scratch.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.model import Author, Network
from handlers.registry import CommandRegistry
from storage import search
from storage.db import Database
from storage.link_codes import LinkError
from storage.roster_model import Identity, Member
from storage.roster_store import RosterStore
from storage.tags import shared_prefixes
from tests.support.handlers import irc_author, make_ctx, tg_author

BOB = irc_author("bob", account="bob")
CAROL = irc_author("carol", account="carol")
USERS = [tg_author(2000 + i, f"user{i:02}", None) for i in range(12)]


async def say(registry: CommandRegistry, store: RosterStore, author: Author, line: str) -> str:
    """The last reply to one command (private replies included), as the user reads it."""
    private = line.startswith("private ")
    ctx, rec = make_ctx(store, author, private=private)
    name, _, args = line.removeprefix("private ").partition(" ")
    await registry.dispatch(ctx, name, args)
    return (rec.replies or rec.private)[-1]


async def test_whois_counts_each_member_once_through_leave_edit_and_link(
    registry: CommandRegistry, store: RosterStore
) -> None:
    for i, tags in enumerate(["godot, go"] * 4 + ["go"] * 4 + ["godot"] * 3 + ["go-game, godot"]):
        await say(registry, store, USERS[i], f"interests {tags}")
    # 17 (member, tag) rows under "go", 12 members. Exact "go" first, then more matching
    # tags, then the member's own order, then who joined first.
    assert await say(registry, store, BOB, "whois go") == (
        '12 listing "go": user00 (godot, go), user01 (godot, go), user02 (godot, go), '
        "user03 (godot, go), user04, user05, user06, user07, user11 (go-game, godot), "
        "user08 (godot), and 2 more (ask me privately: !whois go)"
    )
    assert await say(registry, store, BOB, "whois godot") == (  # user11 lists it second
        '8 listing "godot": user00, user01, user02, user03, user08, user09, user10, user11.'
    )

    await say(registry, store, USERS[0], "leave")
    await say(registry, store, USERS[1], "interests -go")
    await say(registry, store, USERS[4], "interests -go")
    await say(registry, store, CAROL, "interests go, rust")
    assert (await say(registry, store, BOB, "whois go")).startswith('11 listing "go": user02 ')
    assert await say(registry, store, BOB, "members") == (
        "12 members (11 on Telegram, 1 on IRC). "
        "Most common interests: godot (7), go (6), go-game (1), rust (1)"
    )

    # carol links to user05: one member listing go once, not two.
    code = (await say(registry, store, USERS[5], "private link")).split("is ")[1][:6]
    assert (await say(registry, store, CAROL, f"private link {code}")).startswith("Linked")
    assert await say(registry, store, BOB, "private whois go") == "\n".join(
        [
            '10 listing "go":',
            "user02 (godot, go)",
            "user03 (godot, go)",
            "user05",
            "user06",
            "user07",
            "user11 (go-game, godot)",
            "user01 (godot)",
            "user08 (godot)",
            "user09 (godot)",
            "user10 (godot)",
        ]
    )
    assert await say(registry, store, BOB, "members") == (
        "11 members (11 on Telegram, 1 on IRC). "
        "Most common interests: godot (7), go (5), go-game (1), rust (1)"
    )
    assert await say(registry, store, BOB, "whois rust") == '1 listing "rust": user05.'


async def test_whois_no_match_suggests_from_counted_tags(
    registry: CommandRegistry, store: RosterStore
) -> None:
    await say(registry, store, USERS[0], "interests python, translation")
    await say(registry, store, USERS[0], "interests -python")
    assert await say(registry, store, BOB, "whois pyhton") == 'No one lists "pyhton".'
    assert await say(registry, store, BOB, "whois translatoin") == (
        'No one lists "translatoin". Closest interests: translation'
    )


def test_shared_prefixes() -> None:
    assert shared_prefixes(["godot", "go", "rust", "go-game"]) == {
        "go": "go",
        "go-game": "go",
        "godot": None,
        "rust": None,
    }
    assert shared_prefixes([]) == {}
    assert shared_prefixes(["éa", "éb", "e"]) == {"e": None, "éa": "é", "éb": None}


# ------------------------------------------------------------- against a model

TAGS = ["g", "go", "go-game", "godot", "py", "py_lib", "pygame", "python", "é", "éa", "rust"]
PREFIXES = ["g", "go", "go-", "god", "p", "py", "pyt", "python", "é", "r", "rust", "z"]
PEOPLE = [Identity(Network.TELEGRAM, str(i), f"tg{i}", None, True) for i in range(4)] + [
    Identity(Network.IRC, f"account:irc{i}", f"irc{i}", f"irc{i}", True) for i in range(3)
]
TAG_LISTS = st.lists(st.sampled_from(TAGS), max_size=6)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.integers(0, 6), TAG_LISTS),
        st.tuples(st.just("edit"), st.integers(0, 6), TAG_LISTS, TAG_LISTS),
        st.tuples(st.just("leave"), st.integers(0, 6)),
        st.tuples(st.just("link"), st.integers(0, 3), st.integers(4, 6)),
    ),
    max_size=14,
)


def expected(members: list[Member], prefix: str, limit: int) -> tuple[int, list[tuple[int, bool]]]:
    """The ranking by its definition, over every member."""
    keys = []
    for m in members:
        matching = [pos for pos, tag in enumerate(m.interests) if tag.startswith(prefix)]
        if matching:
            keys.append((prefix not in m.interests, -len(matching), matching[0], m.id))
    keys.sort()
    return len(keys), [(k[3], not k[0]) for k in keys[:limit]]


async def apply(store: RosterStore, operations: list[tuple[Any, ...]]) -> None:
    for op, who, *rest in operations:
        person = PEOPLE[who]
        if op == "leave":
            member = await store.get_member_by_identity(person.network, person.key)
            if member:
                await store.forget(member.id)
            continue
        if op == "set":
            await store.join_with_interests(person, rest[0], edit=False)
        elif op == "edit":
            await store.join_with_interests(person, rest[0], rest[1], edit=True)
        else:
            await store.join(person)
            other = PEOPLE[rest[0]]
            code = await store.create_link_code(person)
            try:
                await store.redeem_link_code(code.code, other)
            except LinkError:
                await store.discard_link_code(code.code)


async def check_against_model(operations: list[tuple[Any, ...]], walks: int) -> None:
    db = await Database.open(":memory:")
    try:
        store = RosterStore(db)
        await apply(store, operations)
        found = [await store.get_member_by_identity(p.network, p.key) for p in PEOPLE]
        members = list({m.id: m for m in found if m is not None}.values())
        search.MAX_TAG_WALKS = walks
        for prefix in PREFIXES:
            for limit in (1, 2, 10):
                result = await store.find_by_interest(prefix, limit)
                got = (result.total, [(h.member.id, h.exact) for h in result.hits])
                assert got == expected(members, prefix, limit), (prefix, limit)
        counts = Counter(t for m in members for t in m.interests)
        top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:10]
        assert (await store.stats()).top_interests == tuple(top)
    finally:
        search.MAX_TAG_WALKS = 100
        await db.close()


@settings(deadline=None, max_examples=60)
@given(OPERATIONS, st.sampled_from([100, 1]))
def test_interest_search_matches_its_definition(
    operations: list[tuple[Any, ...]], walks: int
) -> None:
    asyncio.run(check_against_model(operations, walks))
