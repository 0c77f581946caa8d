"""The command lanes: a person's commands in order, a network's bounded in flight, the relay
(the caller of submit) never waiting; and the per-person limit key."""

from __future__ import annotations

import asyncio
import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bridge.identity
from bridge.command_lanes import CommandLanes
from bridge.identity import limit_key
from bridge.model import Author, ChatId, Network, UserId

Event = tuple[str, int]


def recorder(
    log: list[Event], live: dict[str, int], peak: dict[str, int], network: str, person: str, n: int
):  # type: ignore[no-untyped-def]
    """A job that notes how many of its network run with it, waits a little, then finishes."""

    async def job() -> None:
        live[network] = live.get(network, 0) + 1
        peak[network] = max(peak.get(network, 0), live[network])
        await asyncio.sleep(0.001 * (n % 3))
        live[network] -= 1
        log.append((person, n))

    return job


jobs_strategy = st.lists(
    st.tuples(st.sampled_from(["irc", "telegram"]), st.sampled_from("abcdef")),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None)
@given(jobs=jobs_strategy, in_flight=st.integers(1, 4))
def test_each_person_in_order_and_never_more_than_in_flight(
    jobs: list[tuple[str, str]], in_flight: int
) -> None:
    async def scenario() -> None:
        lanes = CommandLanes(in_flight, max_waiting=100)
        log: list[Event] = []
        live: dict[str, int] = {}
        peak: dict[str, int] = {}
        for n, (network, person) in enumerate(jobs):
            key = f"{network}/{person}"
            assert lanes.submit(network, key, recorder(log, live, peak, network, key, n))
        async with asyncio.timeout(10):
            await lanes.idle()
        assert sorted(log) == sorted((f"{net}/{p}", n) for n, (net, p) in enumerate(jobs))
        for person in {p for p, _ in log}:
            mine = [n for p, n in log if p == person]
            assert mine == sorted(mine), f"{person}'s commands out of order: {mine}"
        assert all(v <= in_flight for v in peak.values()), peak
        assert lanes.waiting("irc") == lanes.waiting("telegram") == 0

    asyncio.run(scenario())


async def test_a_slow_command_holds_only_its_own_person() -> None:
    lanes = CommandLanes(in_flight=2, max_waiting=10)
    release = asyncio.Event()
    done: list[str] = []

    async def slow() -> None:
        await release.wait()
        done.append("slow")

    bob_done = asyncio.Event()

    async def quick(name: str) -> None:
        done.append(name)
        if name == "bob":
            bob_done.set()

    lanes.submit("telegram", "alice", slow)
    lanes.submit("telegram", "alice", lambda: quick("alice's second"))
    lanes.submit("telegram", "bob", lambda: quick("bob"))
    async with asyncio.timeout(2):
        await bob_done.wait()
    assert done == ["bob"]  # alice's second waits for her first; bob does not
    release.set()
    async with asyncio.timeout(2):
        await lanes.idle()
    assert done == ["bob", "slow", "alice's second"]


async def test_beyond_in_flight_commands_wait_their_turn_in_order() -> None:
    lanes = CommandLanes(in_flight=1, max_waiting=10)
    release = asyncio.Event()
    order: list[str] = []

    async def first() -> None:
        order.append("a")
        await release.wait()

    d_done = asyncio.Event()

    async def then(name: str) -> None:
        order.append(name)
        if name == "d":
            d_done.set()

    lanes.submit("irc", "a", first)
    lanes.submit("irc", "b", lambda: then("b"))
    lanes.submit("irc", "c", lambda: then("c"))
    lanes.submit("telegram", "d", lambda: then("d"))  # another network has its own slots
    async with asyncio.timeout(2):
        await d_done.wait()
    assert order == ["a", "d"]
    assert lanes.running == {"irc": 1, "telegram": 0}
    release.set()
    async with asyncio.timeout(2):
        await lanes.idle()
    assert order == ["a", "d", "b", "c"]


async def test_a_full_network_refuses_and_a_failure_does_not_stop_the_person() -> None:
    lanes = CommandLanes(in_flight=1, max_waiting=2)
    release = asyncio.Event()
    ran: list[str] = []

    async def fails() -> None:
        await release.wait()
        raise RuntimeError("boom")

    async def after() -> None:
        ran.append("after")

    assert lanes.submit("irc", "x", fails)
    assert lanes.submit("irc", "x", after)
    assert not lanes.submit("irc", "y", after)  # two waiting already
    assert lanes.submit("telegram", "y", after)
    release.set()
    async with asyncio.timeout(2):
        await lanes.idle()
    assert ran == ["after", "after"]
    assert lanes.waiting("irc") == 0


async def test_drain_cancels_what_is_still_running() -> None:
    lanes = CommandLanes(in_flight=1, max_waiting=10)
    never = asyncio.Event()
    lanes.submit("irc", "x", never.wait)  # type: ignore[arg-type]
    lanes.submit("irc", "x", never.wait)  # type: ignore[arg-type]
    assert await lanes.drain(0.05) is False
    assert lanes.waiting("irc") == 0
    assert await lanes.drain(0.05) is True


def irc(nick: str, mask: str, account: str | None = None) -> Author:
    return Author(Network.IRC, UserId(f"mask:{mask}"), nick, nick, account=account, mask=mask)


@pytest.mark.parametrize(
    ("author", "key"),
    [
        (irc("bob", "bob!~b@host.example"), ("irc", "host:~b@host.example")),
        (irc("bob_", "bob_!~b@host.example"), ("irc", "host:~b@host.example")),
        (irc("bob", "bob!~b@host.example", account="bob"), ("irc", "account:bob")),
        (irc("eve", "eve!~b@host.example", account="bob"), ("irc", "account:bob")),
        (irc("x", ""), ("irc", "nick:x")),
        (Author(Network.TELEGRAM, UserId("42"), "Al"), ("telegram", "42")),
        (
            Author(Network.TELEGRAM, UserId("136817688"), "Ch", posted_as=ChatId("-1009")),
            ("telegram", "-1009"),
        ),
    ],
)
def test_limit_key_counts_people_not_nicks(author: Author, key: tuple[str, str]) -> None:
    assert limit_key(author) == key


def test_identity_doctests() -> None:
    assert doctest.testmod(bridge.identity).failed == 0
