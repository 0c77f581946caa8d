"""Where IRC members were seen (issue 21): stored for members only, bounded, gone with the
member; the router's memory of it bounded too; `[[bridge]] directory` checked at load."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.config import parse_config
from bridge.config_model import BridgePair
from bridge.errors import ConfigError
from bridge.identity import irc_key
from bridge.model import Author, ChatId, ChatRef, Message, MessageKind, Network, UserId
from bridge.seen_channels import RECHECK, SeenChannels
from storage import seen_channels
from storage.db import Database
from storage.directory import DirectoryStore
from storage.roster_model import Identity
from storage.roster_store import RosterStore
from storage.seen_channels import Seen, SeenChannelStore, member_channels
from tests.support.configs import MINIMAL


@dataclass
class Stores:
    db: Database
    roster: RosterStore
    seen: SeenChannelStore


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[Stores]:
    db = await Database.open(tmp_path / "seen.sqlite3")
    clock = iter(range(1_000, 10_000))
    try:
        yield Stores(db, RosterStore(db), SeenChannelStore(db, lambda: float(next(clock))))
    finally:
        await db.close()


def irc(nick: str) -> Identity:
    return Identity(Network.IRC, f"account:{nick}", nick, nick, True)


async def channels(s: Stores, ident: Identity) -> frozenset[str]:
    member = await s.roster.get_member_by_identity(ident.network, ident.key)
    assert member is not None
    return (await member_channels(s.db.conn, [member.id])).get(member.id, frozenset())


async def rows(s: Stores) -> int:
    async with s.db.conn.execute("SELECT COUNT(*) FROM identity_channels") as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


# ---------------------------------------------------------------------------- the store


async def test_only_members_are_recorded_once_per_channel(stores: Stores) -> None:
    s = stores
    bob = irc("bob")
    assert await s.seen.record(bob.key, "#a") is Seen.STRANGER
    assert await rows(s) == 0  # nothing about someone who never joined
    await s.roster.join(bob)
    version = await DirectoryStore(s.db).version()
    assert await s.seen.record(bob.key, "#a") is Seen.RECORDED
    assert await DirectoryStore(s.db).version() > version  # a cached card is dropped
    assert await s.seen.record(bob.key, "#a") is Seen.KNOWN
    assert await s.seen.record(bob.key, "#b") is Seen.RECORDED
    assert await channels(s, bob) == {"#a", "#b"}


async def test_rows_go_with_the_member_on_leave_and_remove(stores: Stores) -> None:
    s = stores
    bob, carol = irc("bob"), irc("carol")
    for ident in (bob, carol):
        await s.roster.join(ident)
        await s.seen.record(ident.key, "#a")
        await s.seen.record(ident.key, "#b")
    assert await rows(s) == 4
    member = await s.roster.get_member_by_identity(Network.IRC, bob.key)
    assert member is not None and await s.roster.forget(member.id)  # /leave
    assert await rows(s) == 2
    member = await s.roster.get_member_by_identity(Network.IRC, carol.key)
    assert member is not None
    assert await s.roster.remove_member(member.id, "telegram:1") is not None  # /remove
    assert await rows(s) == 0


async def test_channels_follow_an_identity_that_link_moves(stores: Stores) -> None:
    s = stores
    alice_tg = Identity(Network.TELEGRAM, "1", "Alice", None, True)
    alice_irc = irc("alice")
    await s.roster.join(alice_tg)
    await s.roster.join(alice_irc)
    await s.seen.record(alice_irc.key, "#a")
    code = await s.roster.create_link_code(alice_tg)
    linked = await s.roster.redeem_link_code(code.code, alice_irc)
    got = await member_channels(s.db.conn, [linked.member.id])
    assert got == {linked.member.id: frozenset({"#a"})}


async def test_rows_per_identity_are_bounded(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = stores
    monkeypatch.setattr(seen_channels, "MAX_CHANNELS_PER_IDENTITY", 3)
    bob = irc("bob")
    await s.roster.join(bob)
    for n in range(5):
        assert await s.seen.record(bob.key, f"#c{n}") is Seen.RECORDED
    assert await channels(s, bob) == {"#c2", "#c3", "#c4"}  # the first seen went first


# --------------------------------------------------------------------- the router's side


@dataclass
class FakeStore:
    members: set[str] = field(default_factory=set)
    asked: list[tuple[str, str]] = field(default_factory=list)

    async def record(self, key: str, channel: str) -> Seen:
        self.asked.append((key, channel))
        return Seen.RECORDED if key in self.members else Seen.STRANGER


def line(
    nick: str,
    channel: str,
    kind: MessageKind = MessageKind.TEXT,
    *,
    private: bool = False,
    network: Network = Network.IRC,
) -> Message:
    mask = f"{nick}!~{nick}@host"
    author = Author(network, UserId(irc_key(None, mask)), nick, nick, mask=mask)
    return Message("1", author, ChatRef(network, ChatId(channel), is_private=private), kind=kind)


def key(nick: str) -> str:
    return irc_key(None, f"{nick}!~{nick}@host")


BRIDGES = (
    BridgePair(-1, "#open"),
    BridgePair(-2, "#hidden", directory=False),
)


async def test_only_bridged_listable_channels_where_someone_spoke_or_joined() -> None:
    store = FakeStore({key("bob")})
    seen = SeenChannels(store, BRIDGES)
    await seen.note(line("bob", "#hidden"))
    await seen.note(line("bob", "#elsewhere"))
    await seen.note(line("bob", "bob", private=True))
    await seen.note(line("bob", "#open", MessageKind.PART))
    await seen.note(line("bob", "#open", network=Network.TELEGRAM))
    assert store.asked == []
    await seen.note(line("bob", "#open", MessageKind.JOIN))
    await seen.note(line("bob", "#open"))
    await seen.note(line("bob", "#open", MessageKind.ACTION))
    assert store.asked == [(key("bob"), "#open")]  # once: the store is not asked again


async def test_a_stranger_is_asked_again_after_a_command_or_a_while() -> None:
    now = [0.0]
    store = FakeStore()
    seen = SeenChannels(store, BRIDGES, clock=lambda: now[0])
    await seen.note(line("bob", "#open"))
    await seen.note(line("bob", "#open"))
    assert len(store.asked) == 1
    store.members.add(key("bob"))  # bob says !join
    seen.forget(line("bob", "#open"))
    await seen.note(line("bob", "#open"))
    assert len(store.asked) == 2
    store.members.clear()  # removed by another process: asked again after RECHECK
    now[0] += RECHECK
    await seen.note(line("bob", "#open"))
    assert len(store.asked) == 3


async def test_the_memory_is_bounded() -> None:
    store = FakeStore()
    seen = SeenChannels(store, BRIDGES, limit=3)
    for n in range(10):
        await seen.note(line(f"n{n}", "#open"))
    assert len(seen) == 3
    await seen.note(line("n9", "#open"))  # remembered: not asked
    await seen.note(line("n0", "#open"))  # forgotten: asked again
    assert store.asked[10:] == [(key("n0"), "#open")]


# ------------------------------------------------------------------------------ config


def test_directory_key_defaults_to_true_and_must_be_a_boolean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert parse_config(MINIMAL).bridges[0].directory is True
    hidden = MINIMAL + "directory = false\n"
    assert parse_config(hidden).bridges[0].directory is False
    with pytest.raises(ConfigError) as info:
        parse_config(MINIMAL + 'directory = "no"\n')
    assert info.value.problems == ["bridge[0].directory: expected true or false, got str"]
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL + "directory = 0\n")
    assert main(["check-config", "--config", str(bad)]) == 2
    assert "config error: bridge[0].directory: expected true or false, got int" in (
        capsys.readouterr().err
    )
